/**
 * @file test_export.c
 * @brief Access and portability packages on the sample platform, through
 *        `dsrctl export` (the library code dsrd's export job runs): the
 *        package unzips (Debian's unzip), data.json validates against
 *        docs/export.schema.json (python3-jsonschema), every collection's
 *        rows equal direct SQL (count, and every field of every row) and its
 *        CSV has one line per row, the
 *        media files are byte-identical, and the manifest's checksums match.
 *        Then 200,000 rows for one subject: the peak RSS of the exporting
 *        process stays under 64 MiB.
 */
#include "suites.h"
#include "dsr/config.h"
#include "dsr/crypto.h"
#include "dsr/db.h"
#include "dsr/discovery.h"
#include "dsr/export.h"
#include "dsr/pgembed.h"
#include "dsr/queue.h"
#include "dsr/requests.h"
#include "dsr/rights.h"
#include "dsr/timefmt.h"
#include "../../src/worker/worker.h"
#include "../../src/worker/export_jobs.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define DSR_HAS_ASAN 1
#endif
#endif
#ifndef DSR_HAS_ASAN
#define DSR_HAS_ASAN 0
#endif

#define SUBJ_EMAIL "erin.export@example.org"
#define SUBJ_PHONE "+14155550123"

static char *xplat;
static char xtmp[256], xmedia[300];

static char *sh(const char *cmd, int *rc)
{
  FILE *f = popen(cmd, "r");
  H_REQUIRE1(f != NULL);
  struct dsr_buf b = {0};
  char chunk[4096];
  size_t n;
  H_REQUIRE1(dsr_buf_puts(&b, ""));
  while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
    H_REQUIRE1(dsr_buf_append(&b, chunk, n));
  int st = pclose(f);
  *rc = WIFEXITED(st) ? WEXITSTATUS(st) : 128;
  return dsr_buf_steal(&b);
}

/* dsrctl @p args on the platform as @p dsn connects to it; its output, *rc its status. */
static char *dsrctl_on(const char *dsn, const char *args, int *rc)
{
  char *prog = h_program("dsrctl");
  char *cmd = NULL;
  H_REQUIRE1(asprintf(&cmd, "cd '%s' && DSR_PLATFORM_DSN='%s' DSR_MEDIA_ROOT='%s' '%s' %s 2>&1",
                      getenv("DSR_TOP_SRCDIR"), dsn, xmedia, prog, args) > 0);
  free(prog);
  char *out = sh(cmd, rc);
  free(cmd);
  return out;
}

static char *dsrctl(const char *args, int *rc)
{
  return dsrctl_on(xplat, args, rc);
}

static void export_setup(void)
{
  char err[512];
  H_REQUIRE(dsr_pgembed_ensure_db(it_pg.embed, "export_plat", err, sizeof err), "%s", err);
  xplat = dsr_pgembed_conninfo(it_pg.embed, "export_plat");
  H_REQUIRE1(xplat != NULL);
  h_tmpdir(xtmp, sizeof xtmp, "export");
  snprintf(xmedia, sizeof xmedia, "%s/media", xtmp);
  char *args = NULL;
  H_REQUIRE1(asprintf(&args,
                      "sample generate --platform-url '%s' --reset --subjects 300 --seed 11 "
                      "--now 2026-01-01 --media '%s' --backup-sets 0 --subject-email " SUBJ_EMAIL
                      " --subject-phone " SUBJ_PHONE " --subject-workspaces 2",
                      xplat, xmedia) > 0);
  int rc;
  char *out = dsrctl(args, &rc);
  H_REQUIRE(rc == 0, "sample generate: %s", out);
  free(out);
  free(args);
}

static void export_teardown(void)
{
  free(xplat);
  xplat = NULL;
}

static json_t *load_json(const char *path)
{
  json_error_t je;
  json_t *j = json_load_file(path, 0, &je);
  ck_assert_msg(j != NULL, "%s: %s", path, je.text);
  return j;
}

/* Lines in a file (CRLF-terminated CSV records without embedded newlines counted by python). */
static long csv_records(const char *path)
{
  char *cmd = NULL;
  ck_assert(asprintf(&cmd,
                     "python3 -c 'import csv,sys; print(sum(1 for _ in csv.reader(open(sys.argv[1], "
                     "newline=\"\"))) - 1)' '%s'",
                     path) > 0);
  int rc;
  char *out = sh(cmd, &rc);
  free(cmd);
  ck_assert_int_eq(rc, 0);
  long n = atol(out);
  free(out);
  return n;
}

/* The subject's rows per collection of policies/callos.json, by hand: identities (emails
 * compared without case) and the references the policy follows. */
#define X_USERS "(SELECT id FROM users WHERE lower(email) = lower('" SUBJ_EMAIL "') OR phone = '" \
                SUBJ_PHONE "')"
#define X_CONTACTS "(SELECT id FROM contacts WHERE phone = '" SUBJ_PHONE "' OR lower(email) = " \
                   "lower('" SUBJ_EMAIL "'))"
#define X_CALLS "(SELECT id FROM calls WHERE caller_number = '" SUBJ_PHONE "' OR called_number = '" \
                SUBJ_PHONE "' OR contact_id IN " X_CONTACTS ")"
#define X_RECORDINGS "(SELECT id FROM recordings WHERE call_id IN " X_CALLS ")"
#define X_INVOICES "(SELECT id FROM invoices WHERE lower(billing_email) = lower('" SUBJ_EMAIL \
                   "') OR user_id IN " X_USERS ")"
static const struct {
  const char *coll, *where;
} subject_rows[] = {
    {"users", "id IN " X_USERS},
    {"workspace_members", "user_id IN " X_USERS},
    {"contacts", "id IN " X_CONTACTS},
    {"calls", "id IN " X_CALLS},
    {"recordings", "id IN " X_RECORDINGS},
    {"transcripts", "recording_id IN " X_RECORDINGS},
    {"ai_summaries", "call_id IN " X_CALLS " OR recording_id IN " X_RECORDINGS},
    {"voicemails", "caller_number = '" SUBJ_PHONE "' OR call_id IN " X_CALLS},
    {"messages", "from_address = '" SUBJ_PHONE "' OR to_address = '" SUBJ_PHONE "' OR"
                 " lower(from_address) = lower('" SUBJ_EMAIL "') OR lower(to_address) = lower('"
                 SUBJ_EMAIL "') OR contact_id IN " X_CONTACTS},
    {"consents", "phone = '" SUBJ_PHONE "' OR lower(email) = lower('" SUBJ_EMAIL "')"},
    {"suppressions", "phone = '" SUBJ_PHONE "'"},
    {"dncr_checks", "phone = '" SUBJ_PHONE "'"},
    {"crm_links", "contact_id IN " X_CONTACTS " OR call_id IN " X_CALLS},
    {"invoices", "id IN " X_INVOICES},
    {"payments", "invoice_id IN " X_INVOICES},
    {"support_tickets", "lower(requester_email) = lower('" SUBJ_EMAIL "') OR user_id IN " X_USERS},
    {"website_inquiries", "lower(email) = lower('" SUBJ_EMAIL "') OR phone = '" SUBJ_PHONE "'"},
    {"security_events", "user_id IN " X_USERS},
    {"abuse_reports", "lower(reporter_email) = lower('" SUBJ_EMAIL "') OR reporter_phone = '"
                      SUBJ_PHONE "' OR reported_number = '" SUBJ_PHONE "'"},
    {"web_sessions", "user_id IN " X_USERS},
    {"devices", "sim_number = '" SUBJ_PHONE "' OR user_id IN " X_USERS},
};

/* A JSON value of data.json as libpq's text form of the column (in @p num for integers); NULL
 * for null. */
static const char *as_text(const json_t *v, char *num, size_t numlen)
{
  if (json_is_integer(v)) {
    snprintf(num, numlen, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
    return num;
  }
  return json_is_string(v) ? json_string_value(v)
         : json_is_true(v) ? "t"
         : json_is_false(v) ? "f"
                            : NULL;
}

/* Exported collection @p c (from data.json) equals its rows read directly: the same rows
 * (by key; a package lists a customer's rows together), every field the same value
 * (integers and booleans typed, the rest as text). */
static void assert_rows_match(const json_t *c)
{
  const char *name = json_string_value(json_object_get(c, "name"));
  const char *where = NULL;
  for (size_t k = 0; k < DSR_ARRAY_LEN(subject_rows); k++)
    if (!strcmp(subject_rows[k].coll, name))
      where = subject_rows[k].where;
  ck_assert_msg(where != NULL, "exported collection %s has no direct SQL to compare with", name);
  const json_t *fields = json_object_get(c, "fields"), *rows = json_object_get(c, "rows");
  struct dsr_buf q = {0};
  ck_assert(dsr_buf_puts(&q, "SELECT "));
  size_t i;
  const json_t *f;
  json_array_foreach(fields, i, f)
    ck_assert(dsr_buf_printf(&q, "%s%s", i ? ", " : "",
                             json_string_value(json_object_get(f, "name"))));
  ck_assert(dsr_buf_printf(&q, " FROM %s WHERE %s", name, where));
  PGresult *r = h_sql(xplat, q.data);
  dsr_buf_free(&q);
  ck_assert_msg((size_t)PQntuples(r) == json_array_size(rows), "%s: %zu rows exported, %d in the"
                " platform", name, json_array_size(rows), PQntuples(r));
  ck_assert_int_eq((size_t)PQnfields(r), json_array_size(fields));
  /* the package's rows by key */
  json_t *by_id = json_object();
  const json_t *o;
  char num[32];
  json_array_foreach(rows, i, o) {
    const char *id = as_text(json_object_get(o, "id"), num, sizeof num);
    ck_assert_msg(id != NULL, "%s: a row without id", name);
    ck_assert_msg(json_object_get(by_id, id) == NULL, "%s: row %s exported twice", name, id);
    json_object_set(by_id, id, (json_t *)o);
  }
  int idcol = PQfnumber(r, "id");
  ck_assert_int_ge(idcol, 0);
  /* a controller's collection comes in key order (a processor's: by tenant, then key) */
  const json_t *prev = NULL;
  if (!strcmp(json_string_value(json_object_get(c, "owner")), "controller"))
    json_array_foreach(rows, i, o) {
      const json_t *id = json_object_get(o, "id");
      if (prev && json_is_integer(id))
        ck_assert_msg(json_integer_value(prev) < json_integer_value(id), "%s: rows not in key order",
                      name);
      else if (prev)
        ck_assert_msg(strcmp(json_string_value(prev), json_string_value(id)) < 0,
                      "%s: rows not in key order", name);
      prev = id;
    }
  for (int row = 0; row < PQntuples(r); row++) {
    o = json_object_get(by_id, PQgetvalue(r, row, idcol));
    ck_assert_msg(o != NULL, "%s: row %s of the subject is not in the package", name,
                  PQgetvalue(r, row, idcol));
    ck_assert_int_eq(json_object_size(o), json_array_size(fields));
    json_array_foreach(fields, i, f) {
      const char *fname = json_string_value(json_object_get(f, "name"));
      const json_t *v = json_object_get(o, fname);
      ck_assert_msg(v != NULL, "%s row %d: no field %s", name, row, fname);
      const char *got = as_text(v, num, sizeof num);
      ck_assert_msg(json_is_null(v) || got != NULL, "%s.%s: unexpected JSON type", name, fname);
      if (PQgetisnull(r, row, (int)i))
        ck_assert_msg(json_is_null(v), "%s row %d: %s exported for NULL", name, row, fname);
      else
        ck_assert_msg(got && !strcmp(got, PQgetvalue(r, row, (int)i)), "%s row %d: %s is '%s'"
                      " in the package, '%s' in the platform", name, row, fname, got ? got : "null",
                      PQgetvalue(r, row, (int)i));
    }
  }
  json_decref(by_id);
  PQclear(r);
}

START_TEST(access_package_matches_the_platform)
{
  char zip[400], dir[400], cmd[2048];
  snprintf(zip, sizeof zip, "%s/access.zip", xtmp);
  snprintf(dir, sizeof dir, "%s/access", xtmp);
  char *args = NULL;
  ck_assert(asprintf(&args, "export --policy policies/callos.json --email " SUBJ_EMAIL
                            " --phone " SUBJ_PHONE " --out '%s'", zip) > 0);
  int rc;
  char *out = dsrctl(args, &rc);
  free(args);
  ck_assert_msg(rc == 0, "dsrctl export: %s", out);
  free(out);
  snprintf(cmd, sizeof cmd, "unzip -q -o '%s' -d '%s' 2>&1", zip, dir);
  out = sh(cmd, &rc);
  ck_assert_msg(rc == 0, "unzip: %s", out);
  free(out);
  /* data.json follows the published schema */
  snprintf(cmd, sizeof cmd,
           "python3 -c 'import json,sys,jsonschema; jsonschema.validate(json.load(open(sys.argv[2])), "
           "json.load(open(sys.argv[1])))' '%s/docs/export.schema.json' '%s/data.json' 2>&1",
           getenv("DSR_TOP_SRCDIR"), dir);
  out = sh(cmd, &rc);
  ck_assert_msg(rc == 0, "schema: %s", out);
  free(out);
  char path[600];
  snprintf(path, sizeof path, "%s/data.json", dir);
  json_t *data = load_json(path);
  snprintf(path, sizeof path, "%s/manifest.json", dir);
  json_t *man = load_json(path);
  /* every collection equals direct SQL over the subject's rows: count, and every field of
   * every row in key order */
  json_t *colls = json_object_get(data, "collections");
  ck_assert_int_ge(json_array_size(colls), 6);
  long long total = 0;
  size_t i;
  json_t *c;
  json_array_foreach(colls, i, c) {
    const char *name = json_string_value(json_object_get(c, "name"));
    long long n = (long long)json_array_size(json_object_get(c, "rows"));
    ck_assert_int_eq(n, json_integer_value(json_object_get(c, "count")));
    ck_assert_int_gt(n, 0);
    total += n;
    snprintf(path, sizeof path, "%s/csv/%s.csv", dir, name);
    ck_assert_int_eq(csv_records(path), n);
    assert_rows_match(c);
  }
  ck_assert_int_eq(total, json_integer_value(json_object_get(man, "rows")));
  /* media byte-identical, and every manifest checksum right */
  json_t *files = json_object_get(man, "files"), *f;
  long media = 0;
  json_array_foreach(files, i, f) {
    const char *name = json_string_value(json_object_get(f, "name"));
    snprintf(cmd, sizeof cmd, "sha256sum '%s/%s' | cut -c1-64", dir, name);
    out = sh(cmd, &rc);
    ck_assert_int_eq(rc, 0);
    ck_assert_msg(!strncmp(out, json_string_value(json_object_get(f, "sha256")), 64), "%s", name);
    free(out);
    if (!strncmp(name, "media/", 6)) {
      /* media/<collection>/<file>, the collection named once (not media/recordings/recordings/) */
      const char *slash = strchr(name + 6, '/');
      const char *rel = slash + 1;
      size_t cl = (size_t)(slash - (name + 6));
      ck_assert_msg(strncmp(rel, name + 6, cl) != 0 || rel[cl] != '/', "doubled: %s", name);
      snprintf(cmd, sizeof cmd, "cmp '%s/%s' '%s/%s' 2>/dev/null || cmp '%s/%s' '%s/%.*s/%s'", dir,
               name, xmedia, rel, dir, name, xmedia, (int)cl, name + 6, rel);
      out = sh(cmd, &rc);
      ck_assert_msg(rc == 0, "media differ: %s", name);
      free(out);
      media++;
    }
  }
  ck_assert_int_gt(media, 0);
  ck_assert_int_eq(media, json_integer_value(json_object_get(man, "media_files")));
  ck_assert_int_eq(json_integer_value(json_object_get(man, "missing_files")), 0);
  snprintf(path, sizeof path, "%s/summary.html", dir);
  size_t len;
  char *html = h_slurp(path, &len);
  ck_assert_ptr_nonnull(strstr(html, "How long we keep it"));
  ck_assert_ptr_nonnull(strstr(html, "Your rights"));
  ck_assert_ptr_null(strstr(html, "\xc2\xa7")); /* no internal policy references ("§9") */
  ck_assert_ptr_null(strstr(html, "T0")); /* no raw timestamps */
  free(html);
  /* the package describes itself, and a plain-text summary sits beside the HTML one */
  snprintf(path, sizeof path, "%s/export.schema.json", dir);
  char *schema = h_slurp(path, &len);
  ck_assert_ptr_nonnull(schema);
  ck_assert_ptr_nonnull(strstr(schema, "dsrd-export/1"));
  free(schema);
  snprintf(path, sizeof path, "%s/summary.txt", dir);
  char *txt = h_slurp(path, &len);
  ck_assert_ptr_nonnull(txt);
  ck_assert_ptr_nonnull(strstr(txt, "How long we keep it: "));
  free(txt);
  json_decref(data);
  json_decref(man);
}
END_TEST

/* dsrctl export with DSR_PLATFORM_DSN plus @p extra (a later "user=..." wins), into @p zip;
 * its output, and data.json's collections (owned) once unzipped into @p dir. */
static json_t *export_collections(const char *extra, const char *zip, const char *dir, char **out)
{
  char *dsn = NULL, *args = NULL, *unzip = NULL;
  H_REQUIRE1(asprintf(&dsn, "%s %s", xplat, extra) > 0 &&
             asprintf(&args, "export --policy policies/callos.json --email " SUBJ_EMAIL
                             " --phone " SUBJ_PHONE " --out '%s'", zip) > 0 &&
             asprintf(&unzip, "unzip -q -o '%s' -d '%s' 2>&1", zip, dir) > 0);
  int rc;
  *out = dsrctl_on(dsn, args, &rc);
  ck_assert_msg(rc == 0, "dsrctl export: %s", *out);
  char *u = sh(unzip, &rc);
  ck_assert_msg(rc == 0, "unzip: %s", u);
  free(u);
  free(unzip);
  free(args);
  free(dsn);
  char path[600];
  snprintf(path, sizeof path, "%s/data.json", dir);
  json_t *data = load_json(path);
  json_t *colls = json_incref(json_object_get(data, "collections"));
  json_decref(data);
  return colls;
}

/* A store that refuses temporary tables (no TEMPORARY privilege) still gets its package, from
 * the plan that computes the subject's rows twice: the same rows, and a warning that says so. */
START_TEST(store_without_temporary_tables_gets_the_same_package)
{
  char zip[400], dir[400];
  PQclear(h_sql(xplat, "DROP ROLE IF EXISTS x_no_temp; CREATE ROLE x_no_temp LOGIN; "
                       "GRANT USAGE ON SCHEMA public TO x_no_temp; "
                       "GRANT SELECT ON ALL TABLES IN SCHEMA public TO x_no_temp; "
                       "REVOKE TEMPORARY ON DATABASE export_plat FROM PUBLIC"));
  char *out_keyed = NULL, *out_plain = NULL;
  snprintf(zip, sizeof zip, "%s/keyed.zip", xtmp);
  snprintf(dir, sizeof dir, "%s/keyed", xtmp);
  json_t *keyed = export_collections("", zip, dir, &out_keyed);
  snprintf(zip, sizeof zip, "%s/no-temp.zip", xtmp);
  snprintf(dir, sizeof dir, "%s/no-temp", xtmp);
  json_t *plain = export_collections("user=x_no_temp", zip, dir, &out_plain);
  PQclear(h_sql(xplat, "GRANT TEMPORARY ON DATABASE export_plat TO PUBLIC; "
                       "REVOKE SELECT ON ALL TABLES IN SCHEMA public FROM x_no_temp; "
                       "REVOKE USAGE ON SCHEMA public FROM x_no_temp; DROP ROLE x_no_temp"));
  ck_assert_ptr_null(strstr(out_keyed, "keyed_plan_failed"));
  ck_assert_msg(strstr(out_plain, "event=export.keyed_plan_failed") != NULL, "%s", out_plain);
  ck_assert_int_ge(json_array_size(keyed), 6);
  ck_assert_msg(json_equal(keyed, plain), "the packages' rows differ");
  json_decref(keyed);
  json_decref(plain);
  free(out_keyed);
  free(out_plain);
}
END_TEST

START_TEST(portability_holds_only_portable_fields)
{
  char zip[400], dir[400], cmd[2048], path[600];
  snprintf(zip, sizeof zip, "%s/port.zip", xtmp);
  snprintf(dir, sizeof dir, "%s/port", xtmp);
  char *args = NULL;
  ck_assert(asprintf(&args, "export --policy policies/callos.json --portability --email " SUBJ_EMAIL
                            " --phone " SUBJ_PHONE " --out '%s'", zip) > 0);
  int rc;
  char *out = dsrctl(args, &rc);
  free(args);
  ck_assert_msg(rc == 0, "dsrctl export: %s", out);
  free(out);
  snprintf(cmd, sizeof cmd, "unzip -q -o '%s' -d '%s' 2>&1", zip, dir);
  out = sh(cmd, &rc);
  ck_assert_msg(rc == 0, "unzip: %s", out);
  free(out);
  snprintf(path, sizeof path, "%s/data.json", dir);
  json_t *data = load_json(path);
  size_t i;
  json_t *c;
  json_array_foreach(json_object_get(data, "collections"), i, c) {
    const char *name = json_string_value(json_object_get(c, "name"));
    ck_assert_msg(!strcmp(name, "users") || !strcmp(name, "contacts") || !strcmp(name, "calls"),
                  "%s is not portable", name);
    json_t *row = json_array_get(json_object_get(c, "rows"), 0);
    ck_assert_ptr_null(json_object_get(row, "id"));
  }
  snprintf(path, sizeof path, "%s/media", dir);
  ck_assert_int_ne(access(path, F_OK), 0);
  snprintf(path, sizeof path, "%s/summary.html", dir);
  ck_assert_int_ne(access(path, F_OK), 0); /* machine-readable formats only */
  snprintf(path, sizeof path, "%s/manifest.json", dir);
  ck_assert_int_eq(access(path, F_OK), 0);
  json_decref(data);
}
END_TEST

/* The first row's value of @p field in collection @p coll of data.json (borrowed), or NULL. */
static const char *first_value(const json_t *data, const char *coll, const char *field)
{
  size_t i;
  json_t *c;
  json_array_foreach(json_object_get(data, "collections"), i, c) {
    if (!strcmp(json_string_value(json_object_get(c, "name")), coll))
      return json_string_value(json_object_get(json_array_get(json_object_get(c, "rows"), 0),
                                               field));
  }
  return NULL;
}

/*
 * summary.html / summary.txt list the records themselves, for people: the
 * policy's field labels (else the column's name in words), dates in the
 * subject's language with their offset, arrays as lists, the media files with
 * their dates, and at most --summary-rows records per collection, the others
 * counted with where to find them.
 */
START_TEST(summary_lists_the_records_readably)
{
  char zip[400], dir[400], pol[400], cmd[2048], path[600];
  snprintf(zip, sizeof zip, "%s/readable.zip", xtmp);
  snprintf(dir, sizeof dir, "%s/readable", xtmp);
  snprintf(pol, sizeof pol, "%s/labelled.json", xtmp);
  /* callos.json with the labels of the contacts' fields */
  snprintf(cmd, sizeof cmd,
           "python3 -c 'import json,sys; p=json.load(open(sys.argv[1])); "
           "p[\"collections\"][\"contacts\"][\"export\"]={\"label\":\"Your contact entries\","
           "\"fields\":{\"full_name\":\"Name\",\"phone\":\"Phone number\",\"tags\":\"Tags\","
           "\"created_at\":\"Added on\"}}; json.dump(p, open(sys.argv[2], \"w\"))' "
           "'%s/policies/callos.json' '%s' 2>&1", getenv("DSR_TOP_SRCDIR"), pol);
  int rc;
  char *out = sh(cmd, &rc);
  ck_assert_msg(rc == 0, "policy: %s", out);
  free(out);
  char *args = NULL;
  ck_assert(asprintf(&args, "export --policy '%s' --email " SUBJ_EMAIL " --phone " SUBJ_PHONE
                            " --language de --summary-rows 2 --out '%s'", pol, zip) > 0);
  out = dsrctl(args, &rc);
  free(args);
  ck_assert_msg(rc == 0, "dsrctl export: %s", out);
  free(out);
  snprintf(cmd, sizeof cmd, "unzip -q -o '%s' -d '%s' 2>&1", zip, dir);
  out = sh(cmd, &rc);
  ck_assert_msg(rc == 0, "unzip: %s", out);
  free(out);
  snprintf(path, sizeof path, "%s/data.json", dir);
  json_t *data = load_json(path);
  size_t len;
  snprintf(path, sizeof path, "%s/summary.txt", dir);
  char *txt = h_slurp(path, &len);
  snprintf(path, sizeof path, "%s/summary.html", dir);
  char *html = h_slurp(path, &len);
  ck_assert(txt && html);
  char want[600], when[160];
  /* a labelled field: the first contact's name under the policy's label */
  const char *name = first_value(data, "contacts", "full_name");
  ck_assert_ptr_nonnull(name);
  snprintf(want, sizeof want, "    Eintrag 1\n      Name: %s\n", name);
  ck_assert_msg(strstr(txt, want) != NULL, "no \"%s\" in %s", want, txt);
  /* a date in German with its offset (UTC), not as the database writes it */
  const char *added = first_value(data, "contacts", "created_at");
  ck_assert_ptr_nonnull(added);
  dsr_time_human_str(added, "de", true, when, sizeof when);
  ck_assert_ptr_nonnull(strstr(when, "Uhr (UTC)"));
  snprintf(want, sizeof want, "      Added on: %s\n", when);
  ck_assert_msg(strstr(txt, want) != NULL, "no \"%s\"", want);
  snprintf(want, sizeof want, "<dt>Added on</dt><dd>%s</dd>", when);
  ck_assert_msg(strstr(html, want) != NULL, "no \"%s\"", want);
  /* an array as a list (not "{a,b}"), under the column's name in words */
  const char *kw = first_value(data, "ai_summaries", "keywords");
  ck_assert_msg(kw && kw[0] == '{' && kw[1] != '}', "keywords: %s", kw ? kw : "(none)");
  char first_kw[100];
  snprintf(first_kw, sizeof first_kw, "%.*s", (int)strcspn(kw + 1, ",}"), kw + 1);
  snprintf(want, sizeof want, "      Keywords:\n        - %s\n", first_kw);
  ck_assert_msg(strstr(txt, want) != NULL, "no \"%s\"", want);
  snprintf(want, sizeof want, "<dt>Keywords</dt><dd><ul><li>%s</li>", first_kw);
  ck_assert_msg(strstr(html, want) != NULL, "no \"%s\"", want);
  ck_assert_ptr_null(strstr(html, "<dd>{"));
  /* a media file with its date: the recording's */
  const char *rec_at = first_value(data, "recordings", "created_at");
  ck_assert_ptr_nonnull(rec_at);
  dsr_time_human_str(rec_at, "de", true, when, sizeof when);
  snprintf(want, sizeof want, "</code>, %s</li>", when);
  const char *m = strstr(html, "<li><code>media/recordings/");
  ck_assert_msg(m && strstr(m, want) != NULL && strstr(m, want) < strchr(m, '\n'),
                "no file dated \"%s\"", when);
  snprintf(want, sizeof want, "    - media/recordings/");
  ck_assert_ptr_nonnull(strstr(txt, want));
  /* at most two records of a collection; the others counted, with where they are */
  ck_assert_ptr_null(strstr(txt, "    Eintrag 3\n"));
  ck_assert_ptr_nonnull(strstr(html, "weitere Einträge: alle Einträge stehen in <code>data.json"
                                     "</code> und <code>csv/calls.csv</code>"));
  ck_assert_ptr_null(strstr(html, "T0")); /* no raw timestamps */
  ck_assert_ptr_null(strstr(html, "+00"));
  free(txt);
  free(html);
  json_decref(data);
}
END_TEST

START_TEST(two_hundred_thousand_rows_in_bounded_memory)
{
  char zip[400];
  snprintf(zip, sizeof zip, "%s/big.zip", xtmp);
  /* 200,000 calls of the subject in one workspace: copies of one of theirs */
  PQclear(h_sql(xplat,
                "INSERT INTO calls (uuid, workspace_id, contact_id, direction, caller_number,"
                " called_number, status, sip_code, started_at, ended_at, duration_seconds)"
                " SELECT gen_random_uuid(), c.workspace_id, c.contact_id, c.direction, c.caller_number,"
                " c.called_number, c.status, c.sip_code, c.started_at + g * interval '1 minute',"
                " c.ended_at + g * interval '1 minute', c.duration_seconds"
                " FROM (SELECT * FROM calls WHERE caller_number = '" SUBJ_PHONE "'"
                " OR called_number = '" SUBJ_PHONE "' ORDER BY id LIMIT 1) c,"
                " generate_series(1, 200000) g"));
  int rc;
  char *args = NULL;
  ck_assert(asprintf(&args, "export --policy policies/callos.json --phone " SUBJ_PHONE
                            " --out '%s'", zip) > 0);
  char *out = dsrctl(args, &rc);
  free(args);
  ck_assert_msg(rc == 0, "dsrctl export: %s", out);
  const char *rows = strstr(out, "rows="), *rss = strstr(out, "peak_rss_kib=");
  ck_assert_ptr_nonnull(rows);
  ck_assert_ptr_nonnull(rss);
  long long n = atoll(rows + 5);
  long kib = atol(rss + 13);
  fprintf(stderr, "export: %lld rows, peak RSS %ld KiB\n", n, kib);
  ck_assert_int_ge(n, 200000);
  ck_assert_int_gt(kib, 0);
#if defined(__SANITIZE_ADDRESS__) || DSR_HAS_ASAN
  /* ASan's shadow memory and quarantine dwarf the program's own: the bound is
   * checked by the regular build (the default stage of scripts/check). */
  fprintf(stderr, "export: RSS bound not applied under AddressSanitizer\n");
#else
  ck_assert_int_lt(kib, 64 * 1024);
#endif
  free(out);
}
END_TEST


/* ---- the export job and the download link, through dsrd --------------------------- */

static struct h_dsrd xd;
static char *xdb;

static char *ctl(const char *args)
{
  char *out = NULL;
  char *full = NULL;
  ck_assert(asprintf(&full, "--database-url='%s' --secret-key-file='%s/secret.key' %s", xdb,
                     xd.state_dir, args) > 0);
  int rc;
  out = dsrctl(full, &rc);
  ck_assert_msg(rc == 0, "dsrctl %s: %s", args, out);
  free(full);
  return out;
}

static void field(const char *out, const char *key, char *dst, size_t n)
{
  char want[64];
  snprintf(want, sizeof want, "%s: ", key);
  const char *p = strstr(out, want);
  ck_assert_msg(p != NULL, "no %s in %s", key, out);
  p += strlen(want);
  size_t len = strcspn(p, "\n");
  ck_assert_uint_lt(len, n);
  memcpy(dst, p, len);
  dst[len] = '\0';
}

static long xcall(const struct h_dsrd *d, const char *method, const char *path,
                  const char *auth, const char *extra, const char *body, struct h_resp *r)
{
  char a[300];
  snprintf(a, sizeof a, "Authorization: Bearer %s", auth ? auth : "");
  const char *hdrs[] = {"Content-Type: application/json", auth ? a : extra, auth ? extra : NULL,
                        NULL};
  h_http(d, method, path, hdrs, body, r);
  return r->status;
}

static long xsql(const char *fmt, const char *arg) DSR_PRINTF(1, 0);
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
static long xsql(const char *fmt, const char *arg)
{
  char *q = NULL;
  ck_assert(asprintf(&q, fmt, arg) > 0);
  long v = h_sql_long(xdb, q);
  free(q);
  return v;
}
#pragma GCC diagnostic pop

static const struct dsr_job_kind xregistry[] = {
    {DSR_JOB_EXPORT, dsr_job_export, 600, NULL},
    {DSR_JOB_EXPORT_EXPIRE, dsr_job_export_expire, 60, NULL},
    {NULL, NULL, 0, NULL},
};

/*
 * The download link from the export message of @p request_id, the newest when
 * @p older is 0, else that many before it. The mail names the organisation
 * and points at the download page, never at the package itself.
 */
static void link_of_nth(const char *request_id, int older, char *export_id, char *token)
{
  char *q = NULL;
  ck_assert(asprintf(&q, "SELECT encode(body_sealed, 'hex') FROM dsr_outbox WHERE request_id ="
                         " '%s' AND template = 'export' ORDER BY id DESC LIMIT 1 OFFSET %d",
                     request_id, older) > 0);
  PGresult *r = h_sql(xdb, q);
  free(q);
  ck_assert_int_eq(PQntuples(r), 1);
  const char *hex = PQgetvalue(r, 0, 0);
  size_t n = strlen(hex) / 2, bl = 0;
  unsigned char *bin = malloc(n + 1);
  ck_assert_int_eq(sodium_hex2bin(bin, n, hex, strlen(hex), NULL, &bl, NULL), 0);
  unsigned char *plain = NULL;
  size_t pl = 0;
  ck_assert(dsr_unseal(bin, bl, &plain, &pl));
  free(bin);
  PQclear(r);
  ck_assert_ptr_null(strstr((char *)plain, "/v1/exports/"));
  ck_assert_ptr_nonnull(strstr((char *)plain, "\"subject\":\"CallOS: your data is ready"));
  ck_assert_ptr_nonnull(strstr((char *)plain, "you asked CallOS for"));
  ck_assert_ptr_nonnull(strstr((char *)plain, "/status?k="));
  const char *p = strstr((char *)plain, "/downloads/");
  ck_assert_ptr_nonnull(p);
  p += strlen("/downloads/");
  ck_assert(sscanf(p, "%36[0-9a-f-]?token=%60[A-Za-z0-9_-]", export_id, token) == 2);
  free(plain);
}

static void link_of(const char *request_id, char *export_id, char *token)
{
  link_of_nth(request_id, 0, export_id, token);
}

/* A form POST to @p path as a browser sends it (CSRF cookie and field); status, body in *r. */
static long xform(const char *path, const char *fields, struct h_resp *r)
{
  static const char csrf[] = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
  char body[600];
  snprintf(body, sizeof body, "csrf=%s&%s", csrf, fields);
  const char *hdrs[] = {"Content-Type: application/x-www-form-urlencoded",
                        "Cookie: dsr_csrf=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", NULL};
  h_http(&xd, "POST", path, hdrs, body, r);
  return r->status;
}

/*
 * The download page of the older package of @p rid: opening it (as a link
 * scanner does) counts nothing; its button (a POST with the token) downloads;
 * the status page by the mailed status link offers the package with its
 * downloads left, and its own button downloads too.
 */
static void download_page_and_status(const char *rid)
{
  char xid[40], xtok[64], path[300], fields[200];
  struct h_resp r;
  link_of_nth(rid, 1, xid, xtok);
  snprintf(path, sizeof path, "/downloads/%s?token=%s", xid, xtok);
  for (int i = 0; i < 3; i++) {
    ck_assert_int_eq(xcall(&xd, "GET", path, NULL, NULL, NULL, &r), 200);
    ck_assert_ptr_nonnull(strstr(r.body, "Download my data"));
    ck_assert_ptr_nonnull(strstr(r.body, "Downloads left</dt><dd>2 of 2"));
    ck_assert_ptr_nonnull(strstr(r.headers, "text/html"));
    h_resp_free(&r);
  }
  ck_assert_int_eq(xsql("SELECT downloads FROM dsr_exports WHERE id = '%s'", xid), 0);
  snprintf(path, sizeof path, "/downloads/%s?token=%s", xid, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
  ck_assert_int_eq(xcall(&xd, "GET", path, NULL, NULL, NULL, &r), 404);
  ck_assert_ptr_nonnull(strstr(r.headers, "text/html"));
  h_resp_free(&r);
  snprintf(path, sizeof path, "/downloads/%s", xid);
  snprintf(fields, sizeof fields, "token=%s", xtok);
  ck_assert_int_eq(xform(path, fields, &r), 200);
  ck_assert_ptr_nonnull(strstr(r.headers, "application/zip"));
  ck_assert_int_eq((long)r.len, xsql("SELECT plain_bytes FROM dsr_exports WHERE id = '%s'", xid));
  h_resp_free(&r);
  ck_assert_int_eq(xsql("SELECT downloads FROM dsr_exports WHERE id = '%s'", xid), 1);
  /* the status page, opened from the mail's status link on any device */
  char *cap = dsr_status_link_cap(rid);
  snprintf(path, sizeof path, "/requests/%s/status?k=%s", rid, cap);
  ck_assert_int_eq(xcall(&xd, "GET", path, NULL, NULL, NULL, &r), 200);
  ck_assert_ptr_nonnull(strstr(r.body, "Downloads left: 1 of 2"));
  ck_assert_ptr_nonnull(strstr(r.body, "Downloads left: 2 of 2")); /* the other package */
  h_resp_free(&r);
  /* its button: the package of this request only, with the capability */
  snprintf(path, sizeof path, "/requests/%s/download", rid);
  snprintf(fields, sizeof fields, "export_id=%s&k=%s", xid, cap);
  ck_assert_int_eq(xform(path, fields, &r), 200);
  ck_assert_ptr_nonnull(strstr(r.headers, "application/zip"));
  h_resp_free(&r);
  snprintf(fields, sizeof fields, "export_id=%s&k=%s", xid, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
  ck_assert_int_eq(xform(path, fields, &r), 404);
  h_resp_free(&r);
  free(cap);
  /* used up: the page says so (410), in words */
  snprintf(path, sizeof path, "/downloads/%s?token=%s", xid, xtok);
  ck_assert_int_eq(xcall(&xd, "GET", path, NULL, NULL, NULL, &r), 410);
  ck_assert_ptr_nonnull(strstr(r.body, "as often as it can be"));
  h_resp_free(&r);
}

START_TEST(job_link_range_expiry_and_customer_scope)
{
  char err[512], path[700];
  snprintf(path, sizeof path, "%s/policies/callos.json", getenv("DSR_TOP_SRCDIR"));
  struct dsr_policy *policy = dsr_policy_load(path, err, sizeof err);
  ck_assert_msg(policy != NULL, "%s", err);
  ck_assert(setenv("DSR_PLATFORM_DSN", xplat, 1) == 0);
  ck_assert(setenv("DSR_MEDIA_ROOT", xmedia, 1) == 0);
  ck_assert(dsr_pgembed_ensure_db(it_pg.embed, "dsr_exports", err, sizeof err));
  xdb = dsr_pgembed_conninfo(it_pg.embed, "dsr_exports");
  char url[600], pol[800];
  snprintf(url, sizeof url, "--database-url=%s", xdb);
  snprintf(pol, sizeof pol, "--policy-file=%s", path);
  const char *args[] = {url, pol, "--workers=0", "--export-max-downloads=2", NULL};
  h_dsrd_start(&xd, NULL, args);
  char key[400];
  snprintf(key, sizeof key, "%s/secret.key", xd.state_dir);
  ck_assert_msg(dsr_crypto_init(key, err, sizeof err), "%s", err);
  PGconn *conn = dsr_db_connect(xdb, err, sizeof err);
  ck_assert_msg(conn != NULL, "%s", err);
  struct dsr_db *db = dsr_db_wrap(conn);
  struct dsr_config cfg;
  ck_assert(dsr_config_defaults(&cfg));
  ck_assert(dsr_config_set(&cfg, "state_dir", xd.state_dir, err, sizeof err));
  ck_assert(dsr_config_set(&cfg, "base_url", xd.base, err, sizeof err));
  ck_assert(dsr_config_set(&cfg, "export_max_downloads", "2", err, sizeof err));
  struct dsr_worker_env env = {.cfg = &cfg, .policy = policy};

  /* one of the subject's workspaces is a customer */
  PGresult *ws = h_sql(xplat, "SELECT min(workspace_id)::text FROM contacts WHERE phone = '"
                              SUBJ_PHONE "'");
  char tenant[32];
  snprintf(tenant, sizeof tenant, "%s", PQgetvalue(ws, 0, 0));
  PQclear(ws);
  char cargs[200], cid[40], ckey[128], tok[128];
  snprintf(cargs, sizeof cargs, "customer add --name exp-%d --tenant %s --webhook-url "
                                "https://customer.invalid/hook", (int)getpid(), tenant);
  char *out = ctl(cargs);
  field(out, "customer_id", cid, sizeof cid);
  field(out, "api_key", ckey, sizeof ckey);
  free(out);
  snprintf(cargs, sizeof cargs, "staff token create --role admin --name exp-%d", (int)getpid());
  out = ctl(cargs);
  field(out, "token", tok, sizeof tok);
  free(out);
  /* each credential's issue is on the record: who, for whom, never the secret */
  ck_assert_int_eq(xsql("SELECT count(*) FROM dsr_events WHERE kind = 'customer.added' AND actor "
                        "= 'operator:dsrctl' AND data->>'customer_id' = '%s'", cid), 1);
  ck_assert_int_eq(xsql("SELECT count(*) FROM dsr_events WHERE kind = 'staff.token_created' AND "
                        "actor = 'operator:dsrctl' AND data->>'role' = 'admin' AND "
                        "strpos(data::text, '%s') = 0", tok), 1);

  struct h_resp r;
  ck_assert_int_eq(xcall(&xd, "POST", "/v1/requests", NULL, NULL,
                         "{\"type\":\"access\",\"jurisdiction\":\"india\",\"subject\":{\"email\":\""
                         SUBJ_EMAIL "\",\"phone\":\"" SUBJ_PHONE "\"}}", &r), 202);
  json_t *j = h_resp_json(&r);
  char rid[40];
  snprintf(rid, sizeof rid, "%s", json_string_value(json_object_get(j, "id")));
  json_decref(j);
  h_resp_free(&r);
  char p2[200];
  snprintf(p2, sizeof p2, "/v1/admin/requests/%s/actions", rid);
  ck_assert_int_eq(xcall(&xd, "POST", p2, tok, NULL, "{\"action\":\"verify\",\"note\":\"seen\"}",
                         &r), 200);
  h_resp_free(&r);
  /* discovery in this process (the planner over the sample platform) */
  struct dsr_finder f;
  dsr_planner_finder(&f, policy);
  int nparts = 0;
  ck_assert_int_eq(dsr_discovery_run(db, policy, &f, xd.base, rid, &nparts), DSR_OK);
  ck_assert_int_eq(nparts, 2); /* the controller part and the customer's */
  /* nothing is exported before an approval or a decision */
  dsr_set_fake_now(time(NULL) + 1);
  ck_assert_int_eq(dsr_queue_run_batch(db, xregistry, "exp-test", dsr_now(), 8, &env), 0);
  ck_assert_int_eq(xsql("SELECT count(*) FROM dsr_exports WHERE request_id = '%s'", rid), 0);
  ck_assert_int_eq(xcall(&xd, "POST", p2, tok, NULL, "{\"action\":\"approve\"}", &r), 200);
  h_resp_free(&r);
  ck_assert_int_eq(dsr_queue_run_batch(db, xregistry, "exp-test", dsr_now(), 8, &env), 1);
  ck_assert_int_eq(xsql("SELECT count(*) FROM dsr_exports WHERE request_id = '%s'", rid), 1);
  ck_assert_int_eq(xsql("SELECT count(*) FROM dsr_parts WHERE request_id = '%s' AND state = "
                        "'done' AND owner_kind = 'controller'", rid), 1);
  /* the controller's package holds none of the customer's rows */
  long ctl_rows = xsql("SELECT row_count FROM dsr_exports WHERE request_id = '%s'", rid);
  ck_assert_int_gt(ctl_rows, 0);

  /* the customer decides: its package holds its tenant's rows only */
  char cpath[200], cpart[40];
  PGresult *pr = h_sql(xdb, "SELECT id FROM dsr_parts WHERE owner_kind = 'customer' ORDER BY "
                            "created_at DESC LIMIT 1");
  snprintf(cpart, sizeof cpart, "%s", PQgetvalue(pr, 0, 0));
  PQclear(pr);
  snprintf(cpath, sizeof cpath, "/v1/customer/requests/%s/decision", cpart);
  ck_assert_int_eq(xcall(&xd, "POST", cpath, ckey, NULL, "{\"decision\":\"fulfill\"}", &r), 200);
  h_resp_free(&r);
  ck_assert_int_eq(dsr_queue_run_batch(db, xregistry, "exp-test", dsr_now(), 8, &env), 1);
  char *q = NULL;
  ck_assert(asprintf(&q, "SELECT row_count FROM dsr_exports WHERE part_id = '%s'", cpart) > 0);
  long cust_rows = h_sql_long(xdb, q);
  free(q);
  char *sq = NULL;
  ck_assert(asprintf(&sq, "SELECT (SELECT count(*) FROM contacts WHERE workspace_id = %s AND"
                          " (phone = '" SUBJ_PHONE "' OR lower(email) = lower('" SUBJ_EMAIL "')))"
                          " + (SELECT count(*) FROM calls WHERE workspace_id = %s AND"
                          " (caller_number = '" SUBJ_PHONE "' OR called_number = '" SUBJ_PHONE "'))",
                     tenant, tenant) > 0);
  long direct = h_sql_long(xplat, sq);
  free(sq);
  ck_assert_int_ge(cust_rows, direct); /* contacts, calls and what hangs off them */
  ck_assert_int_gt(direct, 0);
  ck_assert_int_eq(xsql("SELECT count(*) FROM dsr_requests WHERE id = '%s' AND status = "
                        "'completed'", rid), 1);

  download_page_and_status(rid);
  /* the newest package's link */
  char xid[40], xtok[64], dl[200], bad[200];
  link_of(rid, xid, xtok);
  snprintf(bad, sizeof bad, "/v1/exports/%s?token=%s", xid, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
  ck_assert_int_eq(xcall(&xd, "GET", bad, NULL, NULL, NULL, &r), 404);
  h_resp_free(&r);
  snprintf(dl, sizeof dl, "/v1/exports/%s", xid);
  ck_assert_int_eq(xcall(&xd, "GET", dl, NULL, NULL, NULL, &r), 404); /* no token */
  h_resp_free(&r);
  long size = xsql("SELECT plain_bytes FROM dsr_exports WHERE id = '%s'", xid);
  char rng[64];
  snprintf(rng, sizeof rng, "Range: bytes=%ld-", size);
  ck_assert_int_eq(xcall(&xd, "GET", dl, xtok, rng, NULL, &r), 416);
  ck_assert_ptr_nonnull(strstr(r.headers, "Content-Range: bytes */"));
  h_resp_free(&r);
  ck_assert_int_eq(xsql("SELECT downloads FROM dsr_exports WHERE id = '%s'", xid), 0);
  /* 206: the last 100 bytes */
  ck_assert_int_eq(xcall(&xd, "GET", dl, xtok, "Range: bytes=-100", NULL, &r), 206);
  ck_assert_uint_eq(r.len, 100);
  char *tail = malloc(100);
  memcpy(tail, r.body, 100);
  h_resp_free(&r);
  /* 200: the whole ZIP, by the query token */
  snprintf(dl, sizeof dl, "/v1/exports/%s?token=%s", xid, xtok);
  ck_assert_int_eq(xcall(&xd, "GET", dl, NULL, NULL, NULL, &r), 200);
  ck_assert_int_eq((long)r.len, size);
  ck_assert(memcmp(r.body + r.len - 100, tail, 100) == 0);
  free(tail);
  ck_assert(strstr(r.headers, "application/zip") != NULL);
  char zpath[400];
  snprintf(zpath, sizeof zpath, "%s/dl.zip", xtmp);
  FILE *zf = fopen(zpath, "wb");
  ck_assert(zf && fwrite(r.body, 1, r.len, zf) == r.len);
  fclose(zf);
  h_resp_free(&r);
  char cmd[600];
  snprintf(cmd, sizeof cmd, "unzip -tq '%s' 2>&1", zpath);
  int rc;
  out = sh(cmd, &rc);
  ck_assert_msg(rc == 0, "unzip -t: %s", out);
  free(out);
  ck_assert_int_eq(xsql("SELECT count(*) FROM dsr_events WHERE request_id = '%s' AND kind = "
                        "'export.downloaded'", rid), 4); /* 2 of each package */
  /* used up */
  ck_assert_int_eq(xcall(&xd, "GET", dl, NULL, NULL, NULL, &r), 410);
  ck_assert_ptr_nonnull(strstr(r.body, "export_used_up"));
  h_resp_free(&r);
  /* the link, seen by a dsrd whose clock is 8 days ahead: expired (before used up) */
  PGresult *er;
  struct h_dsrd late;
  const char *largs[] = {url, pol, "--workers=0", "--test-clock-offset=691200", NULL};
  h_dsrd_start(&late, xd.state_dir, largs);
  snprintf(dl, sizeof dl, "/v1/exports/%s?token=%s", xid, xtok);
  ck_assert_int_eq(xcall(&late, "GET", dl, NULL, NULL, NULL, &r), 410);
  ck_assert_ptr_nonnull(strstr(r.body, "export_expired"));
  h_resp_free(&r);
  ck_assert_int_eq(h_dsrd_stop(&late, SIGTERM), 0);
  /* the expiry jobs destroy both packages once their time has come, not before */
  char file[600];
  ck_assert(asprintf(&q, "SELECT file_name FROM dsr_exports WHERE id = '%s'", xid) > 0);
  er = h_sql(xdb, q);
  free(q);
  snprintf(file, sizeof file, "%s/exports/%s", xd.state_dir, PQgetvalue(er, 0, 0));
  PQclear(er);
  ck_assert_int_eq(access(file, F_OK), 0);
  ck_assert_int_eq(dsr_queue_run_batch(db, xregistry, "exp-test", dsr_now(), 8, &env), 0);
  dsr_set_fake_now(time(NULL) + 8 * 86400);
  ck_assert_int_eq(dsr_queue_run_batch(db, xregistry, "exp-test", dsr_now(), 8, &env), 2);
  ck_assert_int_ne(access(file, F_OK), 0);
  ck_assert_int_eq(xsql("SELECT count(*) FROM dsr_exports WHERE request_id = '%s' AND state = "
                        "'destroyed' AND key_sealed IS NULL", rid), 2);
  ck_assert_int_eq(xsql("SELECT count(*) FROM dsr_events WHERE request_id = '%s' AND kind = "
                        "'export.destroyed'", rid), 2);
  dsr_set_fake_now(0);
  ck_assert_int_eq(xcall(&xd, "GET", dl, NULL, NULL, NULL, &r), 410);
  h_resp_free(&r);
  dsr_db_unwrap(db);
  PQfinish(conn);
  dsr_config_free(&cfg);
  dsr_policy_free(policy);
  ck_assert_int_eq(h_dsrd_stop(&xd, SIGTERM), 0);
  free(xdb);
  xdb = NULL;
}
END_TEST


/* ---- restriction: registry, service-key check, lifting ----------------------------- */

static const struct dsr_job_kind rregistry[] = {
    {DSR_JOB_RIGHTS, dsr_job_rights, 120, NULL},
    {NULL, NULL, 0, NULL},
};

/* GET the check for @p q; returns the status, the body in *body (caller frees), ETag in etag. */
static long check(const char *key, const char *q, const char *inm, char **body, char *etag,
                  size_t en, char *cc, size_t cn)
{
  char path[400], a[200], h[200];
  snprintf(path, sizeof path, "/v1/restrictions/check?%s", q);
  snprintf(a, sizeof a, "Authorization: Bearer %s", key ? key : "");
  snprintf(h, sizeof h, "If-None-Match: %s", inm ? inm : "");
  const char *hdrs[] = {key ? a : "X-No: 1", inm ? h : NULL, NULL};
  struct h_resp r;
  h_http(&xd, "GET", path, hdrs, NULL, &r);
  if (etag) {
    const char *e = strcasestr(r.headers, "ETag: ");
    etag[0] = '\0';
    if (e)
      snprintf(etag, en, "%.*s", (int)strcspn(e + 6, "\r\n"), e + 6);
  }
  if (cc) {
    const char *e = strcasestr(r.headers, "Cache-Control: ");
    cc[0] = '\0';
    if (e)
      snprintf(cc, cn, "%.*s", (int)strcspn(e + 15, "\r\n"), e + 15);
  }
  if (body)
    *body = strdup(r.body ? r.body : "");
  long st = r.status;
  h_resp_free(&r);
  return st;
}

START_TEST(restriction_registry_check_and_lift)
{
  char err[512], path[700];
  snprintf(path, sizeof path, "%s/policies/callorbit.json", getenv("DSR_TOP_SRCDIR"));
  struct dsr_policy *policy = dsr_policy_load(path, err, sizeof err);
  ck_assert_msg(policy != NULL, "%s", err);
  ck_assert(setenv("DSR_PLATFORM_DSN", xplat, 1) == 0);
  ck_assert(dsr_pgembed_ensure_db(it_pg.embed, "dsr_rights", err, sizeof err));
  xdb = dsr_pgembed_conninfo(it_pg.embed, "dsr_rights");
  char url[600], pol[800];
  snprintf(url, sizeof url, "--database-url=%s", xdb);
  snprintf(pol, sizeof pol, "--policy-file=%s", path);
  const char *args[] = {url, pol, "--workers=0", NULL};
  h_dsrd_start(&xd, NULL, args);
  char key[400];
  snprintf(key, sizeof key, "%s/secret.key", xd.state_dir);
  ck_assert_msg(dsr_crypto_init(key, err, sizeof err), "%s", err);
  PGconn *conn = dsr_db_connect(xdb, err, sizeof err);
  ck_assert_msg(conn != NULL, "%s", err);
  struct dsr_db *db = dsr_db_wrap(conn);

  char cargs[200], skey[128], admin[128], triager[128];
  snprintf(cargs, sizeof cargs, "service-key create --name platform-%d", (int)getpid());
  char *out = ctl(cargs);
  field(out, "service_key", skey, sizeof skey);
  free(out);
  snprintf(cargs, sizeof cargs, "staff token create --role approver --name ap-%d", (int)getpid());
  out = ctl(cargs);
  field(out, "token", admin, sizeof admin);
  free(out);
  snprintf(cargs, sizeof cargs, "staff token create --role triager --name tr-%d", (int)getpid());
  out = ctl(cargs);
  field(out, "token", triager, sizeof triager);
  free(out);

  char *body = NULL, etag0[80], etag1[80], cc[80];
  /* a service key is required; staff tokens are not one */
  ck_assert_int_eq(check(NULL, "identity=%2B14155550123", NULL, NULL, NULL, 0, NULL, 0), 401);
  ck_assert_int_eq(check(admin, "identity=%2B14155550123", NULL, NULL, NULL, 0, NULL, 0), 401);
  ck_assert_int_eq(check(skey, "kind=fax&identity=x", NULL, NULL, NULL, 0, NULL, 0), 400);
  ck_assert_int_eq(check(skey, "kind=email", NULL, NULL, NULL, 0, NULL, 0), 400);
  ck_assert_int_eq(check(skey, "identity=%2B14155550123", NULL, &body, etag0, sizeof etag0, cc,
                         sizeof cc), 200);
  ck_assert_str_eq(body, "{\"restricted\":false}");
  free(body);
  ck_assert_str_eq(cc, "private, max-age=60");
  ck_assert_int_gt(strlen(etag0), 2);
  ck_assert_int_eq(check(skey, "identity=%2B14155550123", etag0, NULL, NULL, 0, NULL, 0), 304);

  /* a restriction request: auto-approved under this policy, so discovery sets it going */
  struct h_resp r;
  ck_assert_int_eq(xcall(&xd, "POST", "/v1/requests", NULL, NULL,
                         "{\"type\":\"restriction\",\"jurisdiction\":\"gdpr\",\"subject\":{"
                         "\"email\":\"" SUBJ_EMAIL "\",\"phone\":\"" SUBJ_PHONE "\"}}", &r), 202);
  json_t *j = h_resp_json(&r);
  char rid[40];
  snprintf(rid, sizeof rid, "%s", json_string_value(json_object_get(j, "id")));
  json_decref(j);
  h_resp_free(&r);
  char p2[200];
  snprintf(p2, sizeof p2, "/v1/admin/requests/%s/actions", rid);
  ck_assert_int_eq(xcall(&xd, "POST", p2, triager, NULL,
                         "{\"action\":\"verify\",\"note\":\"seen\"}", &r), 200);
  h_resp_free(&r);
  struct dsr_finder f;
  dsr_planner_finder(&f, policy);
  int nparts = 0;
  ck_assert_int_eq(dsr_discovery_run(db, policy, &f, xd.base, rid, &nparts), DSR_OK);
  ck_assert_int_eq(nparts, 1);
  dsr_set_fake_now(time(NULL) + 1);
  ck_assert_int_eq(dsr_queue_run_batch(db, rregistry, "rights-test", dsr_now(), 8, NULL), 1);
  dsr_set_fake_now(0);
  ck_assert_int_eq(xsql("SELECT count(*) FROM dsr_restrictions WHERE request_id = '%s' AND "
                        "lifted_at IS NULL AND scope IS NULL", rid), 2);
  ck_assert_int_eq(xsql("SELECT count(*) FROM dsr_requests WHERE id = '%s' AND status = "
                        "'completed'", rid), 1);
  ck_assert_int_eq(xsql("SELECT count(*) FROM dsr_events WHERE request_id = '%s' AND kind = "
                        "'restriction.applied'", rid), 1);
  /* the registry holds hashes, never the identities */
  ck_assert_int_eq(h_sql_long(xdb, "SELECT count(*) FROM dsr_restrictions WHERE "
                                   "position(convert_to('" SUBJ_PHONE "', 'UTF8') in identity_hash) > 0"),
                   0);

  /* restricted: by phone written another way, by email in capitals; others not */
  ck_assert_int_eq(check(skey, "identity=%2B1%20415-555-0123", NULL, &body, etag1, sizeof etag1,
                         NULL, 0), 200);
  ck_assert_ptr_nonnull(strstr(body, "\"restricted\":true"));
  ck_assert_ptr_nonnull(strstr(body, "\"since\":\""));
  free(body);
  ck_assert_str_ne(etag0, etag1);
  ck_assert_int_eq(check(skey, "identity=%2B14155550123", etag0, NULL, NULL, 0, NULL, 0), 200);
  ck_assert_int_eq(check(skey, "identity=%2B14155550123", etag1, NULL, NULL, 0, NULL, 0), 304);
  ck_assert_int_eq(check(skey, "identity=ERIN.EXPORT%40EXAMPLE.ORG&tenant=7", NULL, &body, NULL,
                         0, NULL, 0), 200);
  ck_assert_ptr_nonnull(strstr(body, "\"restricted\":true"));
  free(body);
  ck_assert_int_eq(check(skey, "identity=someone.else%40example.org", NULL, &body, NULL, 0, NULL,
                         0), 200);
  ck_assert_str_eq(body, "{\"restricted\":false}");
  free(body);

  /* lifting: approvers and admins only; recorded; twice is a conflict */
  char lp[200];
  snprintf(lp, sizeof lp, "/v1/admin/requests/%s/restriction/lift", rid);
  ck_assert_int_eq(xcall(&xd, "POST", lp, triager, NULL, "{\"reason\":\"court order ended\"}", &r),
                   403);
  h_resp_free(&r);
  ck_assert_int_eq(xcall(&xd, "POST", lp, admin, NULL, "{}", &r), 400);
  h_resp_free(&r);
  ck_assert_int_eq(xcall(&xd, "POST", lp, admin, NULL, "{\"reason\":\"court order ended\"}", &r),
                   200);
  ck_assert_ptr_nonnull(strstr(r.body, "\"lifted\":2"));
  h_resp_free(&r);
  ck_assert_int_eq(xcall(&xd, "POST", lp, admin, NULL, "{\"reason\":\"again\"}", &r), 409);
  h_resp_free(&r);
  ck_assert_int_eq(xsql("SELECT count(*) FROM dsr_events WHERE request_id = '%s' AND kind = "
                        "'restriction.lifted' AND actor LIKE 'staff:%%'", rid), 1);
  ck_assert_int_eq(xsql("SELECT count(*) FROM dsr_restrictions WHERE request_id = '%s' AND "
                        "lifted_at IS NOT NULL AND lift_reason_sealed IS NOT NULL", rid), 2);
  ck_assert_int_eq(check(skey, "identity=%2B14155550123", NULL, &body, NULL, 0, NULL, 0), 200);
  ck_assert_str_eq(body, "{\"restricted\":false}");
  free(body);

  dsr_db_unwrap(db);
  PQfinish(conn);
  dsr_policy_free(policy);
  ck_assert_int_eq(h_dsrd_stop(&xd, SIGTERM), 0);
  free(xdb);
  xdb = NULL;
}
END_TEST


/* ---- objection, withdraw_consent, opt_out: the policy's choices --------------------- */

/* Files request @p type for the subject, verifies it by staff, discovers it and runs the rights job. */
static void run_choice_request(struct dsr_db *db, const struct dsr_policy *policy,
                               const char *type, const char *staff, char *rid, size_t n)
{
  char body[400];
  snprintf(body, sizeof body, "{\"type\":\"%s\",\"jurisdiction\":\"gdpr\",\"subject\":{"
                              "\"email\":\"" SUBJ_EMAIL "\",\"phone\":\"" SUBJ_PHONE "\"}}", type);
  struct h_resp r;
  ck_assert_int_eq(xcall(&xd, "POST", "/v1/requests", NULL, NULL, body, &r), 202);
  json_t *j = h_resp_json(&r);
  snprintf(rid, n, "%s", json_string_value(json_object_get(j, "id")));
  json_decref(j);
  h_resp_free(&r);
  char p2[200];
  snprintf(p2, sizeof p2, "/v1/admin/requests/%s/actions", rid);
  ck_assert_int_eq(xcall(&xd, "POST", p2, staff, NULL, "{\"action\":\"verify\",\"note\":\"ok\"}",
                         &r), 200);
  h_resp_free(&r);
  struct dsr_finder f;
  dsr_planner_finder(&f, policy);
  int nparts = 0;
  ck_assert_int_eq(dsr_discovery_run(db, policy, &f, xd.base, rid, &nparts), DSR_OK);
  ck_assert_int_ge(nparts, 1);
  struct dsr_config cfg;
  ck_assert(dsr_config_defaults(&cfg));
  struct dsr_worker_env env = {.cfg = &cfg, .policy = policy};
  dsr_set_fake_now(time(NULL) + 1);
  ck_assert_int_eq(dsr_queue_run_batch(db, rregistry, "choice-test", dsr_now(), 8, &env), nparts);
  dsr_set_fake_now(0);
  dsr_config_free(&cfg);
  ck_assert_int_eq(xsql("SELECT count(*) FROM dsr_requests WHERE id = '%s' AND status = "
                        "'completed'", rid), 1);
  ck_assert_int_eq(xsql("SELECT count(*) FROM dsr_events WHERE request_id = '%s' AND kind = "
                        "'choice.applied'", rid), nparts);
}

#define SUBJ_CONSENTS " FROM consents WHERE phone = '" SUBJ_PHONE "' AND source = 'export-test'"

START_TEST(objection_opt_out_and_withdrawal_change_the_platform)
{
  char err[512], path[700];
  snprintf(path, sizeof path, "%s/policies/callorbit.json", getenv("DSR_TOP_SRCDIR"));
  struct dsr_policy *policy = dsr_policy_load(path, err, sizeof err);
  ck_assert_msg(policy != NULL, "%s", err);
  ck_assert(setenv("DSR_PLATFORM_DSN", xplat, 1) == 0);
  ck_assert(dsr_pgembed_ensure_db(it_pg.embed, "dsr_choices", err, sizeof err));
  xdb = dsr_pgembed_conninfo(it_pg.embed, "dsr_choices");
  char url[600], pol[800];
  snprintf(url, sizeof url, "--database-url=%s", xdb);
  snprintf(pol, sizeof pol, "--policy-file=%s", path);
  const char *args[] = {url, pol, "--workers=0", NULL};
  h_dsrd_start(&xd, NULL, args);
  char key[400];
  snprintf(key, sizeof key, "%s/secret.key", xd.state_dir);
  ck_assert_msg(dsr_crypto_init(key, err, sizeof err), "%s", err);
  PGconn *conn = dsr_db_connect(xdb, err, sizeof err);
  ck_assert_msg(conn != NULL, "%s", err);
  struct dsr_db *db = dsr_db_wrap(conn);
  char cargs[200], staff[128];
  snprintf(cargs, sizeof cargs, "staff token create --role triager --name ch-%d", (int)getpid());
  char *out = ctl(cargs);
  field(out, "token", staff, sizeof staff);
  free(out);

  /* the subject's consents in one of their workspaces, and someone else's */
  PQclear(h_sql(xplat,
                "INSERT INTO consents (workspace_id, phone, purpose, granted_at, source)"
                " SELECT w, '" SUBJ_PHONE "', p, now(), 'export-test'"
                " FROM (SELECT min(workspace_id) w FROM contacts WHERE phone = '" SUBJ_PHONE "') x,"
                " unnest(ARRAY['marketing', 'ai_analysis', 'call_recording', 'sms']) p"));
  PQclear(h_sql(xplat, "INSERT INTO consents (workspace_id, phone, purpose, granted_at, source)"
                       " VALUES (1, '+14155559999', 'marketing', now(), 'export-test')"));
  long other_suppressed = h_sql_long(xplat, "SELECT count(*) FROM suppressions WHERE phone <> '"
                                            SUBJ_PHONE "'");

  /* objection: marketing and AI analysis end, the number is suppressed platform-wide */
  char rid[40];
  run_choice_request(db, policy, "objection", staff, rid, sizeof rid);
  ck_assert_int_eq(h_sql_long(xplat, "SELECT count(*)" SUBJ_CONSENTS " AND withdrawn_at IS NOT"
                                     " NULL AND purpose IN ('marketing', 'ai_analysis')"), 2);
  ck_assert_int_eq(h_sql_long(xplat, "SELECT count(*)" SUBJ_CONSENTS " AND withdrawn_at IS NULL"),
                   2); /* call recording and SMS consents stand */
  ck_assert_int_eq(h_sql_long(xplat, "SELECT count(*) FROM consents WHERE phone = '+14155559999'"
                                     " AND withdrawn_at IS NOT NULL"), 0);
  ck_assert_int_eq(h_sql_long(xplat, "SELECT count(*) FROM suppressions WHERE phone = '" SUBJ_PHONE
                                     "' AND workspace_id IS NULL AND reason = 'dnc_request'"), 1);
  /* applying the same choices again changes nothing */
  struct dsr_subject subj = {SUBJ_EMAIL, SUBJ_PHONE, NULL};
  PGconn *pc = PQconnectdb(xplat);
  ck_assert_int_eq(PQstatus(pc), CONNECTION_OK);
  json_t *changes = NULL;
  ck_assert_msg(dsr_choices_apply(policy, pc, "objection", &subj, NULL, "{}", &changes, err,
                                  sizeof err), "%s", err);
  size_t i;
  json_t *c;
  json_array_foreach(changes, i, c)
    ck_assert_int_eq(json_integer_value(json_object_get(c, "rows")), 0);
  ck_assert_uint_eq(json_array_size(changes), 2);
  json_decref(changes);

  /* opt-out: SMS consent ends too, and the number is on the opt-out list */
  run_choice_request(db, policy, "opt_out", staff, rid, sizeof rid);
  ck_assert_int_eq(h_sql_long(xplat, "SELECT count(*)" SUBJ_CONSENTS " AND withdrawn_at IS NULL"),
                   1); /* only call recording */
  ck_assert_int_eq(h_sql_long(xplat, "SELECT count(*) FROM suppressions WHERE phone = '" SUBJ_PHONE
                                     "' AND workspace_id IS NULL AND reason = 'opt_out'"), 1);

  /* withdrawal of consent: every consent of the subject */
  run_choice_request(db, policy, "withdraw_consent", staff, rid, sizeof rid);
  ck_assert_int_eq(h_sql_long(xplat, "SELECT count(*)" SUBJ_CONSENTS " AND withdrawn_at IS NULL"),
                   0);
  ck_assert_int_eq(h_sql_long(xplat, "SELECT count(*) FROM consents WHERE phone = '+14155559999'"
                                     " AND withdrawn_at IS NOT NULL"), 0);
  ck_assert_int_eq(h_sql_long(xplat, "SELECT count(*) FROM suppressions WHERE phone <> '"
                                     SUBJ_PHONE "'"), other_suppressed);
  PQfinish(pc);
  dsr_db_unwrap(db);
  PQfinish(conn);
  dsr_policy_free(policy);
  ck_assert_int_eq(h_dsrd_stop(&xd, SIGTERM), 0);
  free(xdb);
  xdb = NULL;
}
END_TEST


/* ---- rectification: corrections at intake, field-level decisions, applied and hashed ---- */

START_TEST(rectification_corrections_decided_and_applied)
{
  char err[512], path[700];
  snprintf(path, sizeof path, "%s/policies/callorbit.json", getenv("DSR_TOP_SRCDIR"));
  struct dsr_policy *policy = dsr_policy_load(path, err, sizeof err);
  ck_assert_msg(policy != NULL, "%s", err);
  ck_assert(setenv("DSR_PLATFORM_DSN", xplat, 1) == 0);
  ck_assert(dsr_pgembed_ensure_db(it_pg.embed, "dsr_rectify", err, sizeof err));
  xdb = dsr_pgembed_conninfo(it_pg.embed, "dsr_rectify");
  char url[600], pol[800];
  snprintf(url, sizeof url, "--database-url=%s", xdb);
  snprintf(pol, sizeof pol, "--policy-file=%s", path);
  const char *args[] = {url, pol, "--workers=0", NULL};
  h_dsrd_start(&xd, NULL, args);
  char key[400];
  snprintf(key, sizeof key, "%s/secret.key", xd.state_dir);
  ck_assert_msg(dsr_crypto_init(key, err, sizeof err), "%s", err);
  PGconn *conn = dsr_db_connect(xdb, err, sizeof err);
  ck_assert_msg(conn != NULL, "%s", err);
  struct dsr_db *db = dsr_db_wrap(conn);
  char cargs[200], approver[128], triager[128];
  snprintf(cargs, sizeof cargs, "staff token create --role approver --name rap-%d", (int)getpid());
  char *out = ctl(cargs);
  field(out, "token", approver, sizeof approver);
  free(out);
  snprintf(cargs, sizeof cargs, "staff token create --role triager --name rtr-%d", (int)getpid());
  out = ctl(cargs);
  field(out, "token", triager, sizeof triager);
  free(out);

  struct h_resp r;
  /* only rectifiable fields, only on rectification requests */
  ck_assert_int_eq(xcall(&xd, "POST", "/v1/requests", NULL, NULL,
                         "{\"type\":\"rectification\",\"jurisdiction\":\"gdpr\",\"subject\":{"
                         "\"email\":\"" SUBJ_EMAIL "\"},\"corrections\":[{\"field\":\"users.status\","
                         "\"value\":\"x\"}]}", &r), 400);
  ck_assert_ptr_nonnull(strstr(r.body, "/corrections"));
  h_resp_free(&r);
  ck_assert_int_eq(xcall(&xd, "POST", "/v1/requests", NULL, NULL,
                         "{\"type\":\"access\",\"jurisdiction\":\"gdpr\",\"subject\":{"
                         "\"email\":\"" SUBJ_EMAIL "\"},\"corrections\":[{\"field\":\"users.full_name\","
                         "\"value\":\"x\"}]}", &r), 400);
  h_resp_free(&r);
  ck_assert_int_eq(xcall(&xd, "POST", "/v1/requests", NULL, NULL,
                         "{\"type\":\"rectification\",\"jurisdiction\":\"gdpr\",\"subject\":{"
                         "\"email\":\"" SUBJ_EMAIL "\"},\"corrections\":[{\"field\":\"users.full_name\"}]}",
                         &r), 400);
  h_resp_free(&r);
  /* no control characters in a value (issue 17): a bell, a line break */
  ck_assert_int_eq(xcall(&xd, "POST", "/v1/requests", NULL, NULL,
                         "{\"type\":\"rectification\",\"jurisdiction\":\"gdpr\",\"subject\":{"
                         "\"email\":\"" SUBJ_EMAIL "\"},\"corrections\":[{\"field\":\"users.full_name\","
                         "\"value\":\"Erin\\u0007\"}]}", &r), 400);
  ck_assert_ptr_nonnull(strstr(r.body, "/corrections"));
  h_resp_free(&r);
  ck_assert_int_eq(xcall(&xd, "POST", "/v1/requests", NULL, NULL,
                         "{\"type\":\"rectification\",\"jurisdiction\":\"gdpr\",\"subject\":{"
                         "\"email\":\"" SUBJ_EMAIL "\"},\"corrections\":[{\"field\":\"users.full_name\","
                         "\"value\":\"Erin\\nO'Hara\"}]}", &r), 400);
  h_resp_free(&r);
  long before_rows = h_sql_long(xplat, "SELECT count(*) FROM users WHERE lower(email) = lower('"
                                       SUBJ_EMAIL "') OR phone = '" SUBJ_PHONE "'");
  ck_assert_int_gt(before_rows, 0);
  PGresult *old = h_sql(xplat, "SELECT locale FROM users WHERE lower(email) = lower('" SUBJ_EMAIL
                               "') ORDER BY id LIMIT 1");
  char locale[64];
  snprintf(locale, sizeof locale, "%s", PQgetvalue(old, 0, 0));
  PQclear(old);

  ck_assert_int_eq(xcall(&xd, "POST", "/v1/requests", NULL, NULL,
                         "{\"type\":\"rectification\",\"jurisdiction\":\"gdpr\",\"subject\":{"
                         "\"email\":\"" SUBJ_EMAIL "\",\"phone\":\"" SUBJ_PHONE "\"},"
                         "\"corrections\":[{\"field\":\"users.full_name\",\"value\":\"Erin O'Corrected\"},"
                         "{\"field\":\"users.locale\",\"value\":\"xx-XX\"}]}", &r), 202);
  json_t *j = h_resp_json(&r);
  char rid[40];
  snprintf(rid, sizeof rid, "%s", json_string_value(json_object_get(j, "id")));
  json_decref(j);
  h_resp_free(&r);
  ck_assert_int_eq(xsql("SELECT count(*) FROM dsr_corrections WHERE request_id = '%s' AND "
                        "state = 'pending' AND value_sealed IS NOT NULL", rid), 2);
  char p2[200];
  snprintf(p2, sizeof p2, "/v1/admin/requests/%s/actions", rid);
  ck_assert_int_eq(xcall(&xd, "POST", p2, triager, NULL, "{\"action\":\"verify\",\"note\":\"ok\"}",
                         &r), 200);
  h_resp_free(&r);
  struct dsr_finder f;
  dsr_planner_finder(&f, policy);
  int nparts = 0;
  ck_assert_int_eq(dsr_discovery_run(db, policy, &f, xd.base, rid, &nparts), DSR_OK);
  ck_assert_int_eq(nparts, 1);
  struct dsr_config cfg;
  ck_assert(dsr_config_defaults(&cfg));
  struct dsr_worker_env env = {.cfg = &cfg, .policy = policy};
  /* the part is approved by policy, but waits for staff's field-level decisions */
  dsr_set_fake_now(time(NULL) + 1);
  ck_assert_int_eq(dsr_queue_run_batch(db, rregistry, "rect-test", dsr_now(), 8, &env), 1);
  ck_assert_int_eq(xsql("SELECT count(*) FROM dsr_parts WHERE request_id = '%s' AND state = "
                        "'approved'", rid), 1);
  ck_assert_int_eq(h_sql_long(xplat, "SELECT count(*) FROM users WHERE full_name = 'Erin O''Corrected'"), 0);
  char c0[200], c1[200], c9[200];
  snprintf(c0, sizeof c0, "/v1/admin/requests/%s/corrections/0", rid);
  snprintf(c1, sizeof c1, "/v1/admin/requests/%s/corrections/1", rid);
  snprintf(c9, sizeof c9, "/v1/admin/requests/%s/corrections/9", rid);
  ck_assert_int_eq(xcall(&xd, "POST", c0, triager, NULL, "{\"decision\":\"approve\"}", &r), 403);
  h_resp_free(&r);
  ck_assert_int_eq(xcall(&xd, "POST", c0, approver, NULL, "{\"decision\":\"maybe\"}", &r), 400);
  h_resp_free(&r);
  ck_assert_int_eq(xcall(&xd, "POST", c9, approver, NULL, "{\"decision\":\"approve\"}", &r), 404);
  h_resp_free(&r);
  ck_assert_int_eq(xcall(&xd, "POST", c0, approver, NULL, "{\"decision\":\"approve\"}", &r), 200);
  h_resp_free(&r);
  ck_assert_int_eq(xcall(&xd, "POST", c0, approver, NULL, "{\"decision\":\"reject\"}", &r), 409);
  h_resp_free(&r);
  /* one still undecided: the job waits */
  ck_assert_int_eq(dsr_queue_run_batch(db, rregistry, "rect-test", dsr_now(), 8, &env), 1);
  ck_assert_int_eq(h_sql_long(xplat, "SELECT count(*) FROM users WHERE full_name = 'Erin O''Corrected'"), 0);
  ck_assert_int_eq(xcall(&xd, "POST", c1, approver, NULL, "{\"decision\":\"reject\"}", &r), 200);
  h_resp_free(&r);
  ck_assert_int_eq(dsr_queue_run_batch(db, rregistry, "rect-test", dsr_now(), 8, &env), 1);
  dsr_set_fake_now(0);
  dsr_config_free(&cfg);
  /* applied to the subject's rows only; the rejected field untouched */
  ck_assert_int_eq(h_sql_long(xplat, "SELECT count(*) FROM users WHERE full_name = 'Erin O''Corrected'"),
                   before_rows);
  old = h_sql(xplat, "SELECT locale FROM users WHERE lower(email) = lower('" SUBJ_EMAIL
                     "') ORDER BY id LIMIT 1");
  ck_assert_str_eq(PQgetvalue(old, 0, 0), locale);
  PQclear(old);
  ck_assert_int_eq(xsql("SELECT count(*) FROM dsr_correction_applications a JOIN dsr_corrections c"
                        " ON c.id = a.correction_id WHERE c.request_id = '%s' AND a.rows > 0 AND"
                        " a.before_hash <> a.after_hash AND length(a.after_hash) = 32", rid), 1);
  ck_assert_int_eq(xsql("SELECT count(*) FROM dsr_requests WHERE id = '%s' AND status = "
                        "'completed'", rid), 1);
  ck_assert_int_eq(xsql("SELECT count(*) FROM dsr_events WHERE request_id = '%s' AND kind = "
                        "'rectification.applied'", rid), 1);
  ck_assert_int_eq(xsql("SELECT count(*) FROM dsr_events WHERE request_id = '%s' AND "
                        "data::text LIKE '%%Corrected%%'", rid), 0); /* never the values */
  dsr_db_unwrap(db);
  PQfinish(conn);
  dsr_policy_free(policy);
  ck_assert_int_eq(h_dsrd_stop(&xd, SIGTERM), 0);
  free(xdb);
  xdb = NULL;
}
END_TEST

Suite *suite_export(void)
{
  Suite *s = suite_create("export");
  TCase *t = tcase_create("sample");
  tcase_add_unchecked_fixture(t, export_setup, export_teardown);
  tcase_set_timeout(t, 900);
  tcase_add_test(t, access_package_matches_the_platform);
  tcase_add_test(t, store_without_temporary_tables_gets_the_same_package);
  tcase_add_test(t, portability_holds_only_portable_fields);
  tcase_add_test(t, summary_lists_the_records_readably);
  tcase_add_test(t, job_link_range_expiry_and_customer_scope);
  tcase_add_test(t, restriction_registry_check_and_lift);
  tcase_add_test(t, objection_opt_out_and_withdrawal_change_the_platform);
  tcase_add_test(t, rectification_corrections_decided_and_applied);
  tcase_add_test(t, two_hundred_thousand_rows_in_bounded_memory);
  suite_add_tcase(s, t);
  return s;
}

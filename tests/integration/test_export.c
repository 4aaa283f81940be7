/**
 * @file test_export.c
 * @brief Access and portability packages on the sample platform, through
 *        `dsrctl export` (the library code dsrd's export job runs): the
 *        package unzips (Debian's unzip), data.json validates against
 *        docs/export.schema.json (python3-jsonschema), every collection's
 *        rows equal direct SQL counts and its CSV has one line per row, the
 *        media files are byte-identical, and the manifest's checksums match.
 *        Then 200,000 rows for one subject: the peak RSS of the exporting
 *        process stays under 64 MiB.
 */
#include "suites.h"
#include "dsr/pgembed.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

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

static char *dsrctl(const char *args, int *rc)
{
  char *prog = h_program("dsrctl");
  char *cmd = NULL;
  H_REQUIRE1(asprintf(&cmd, "cd '%s' && DSR_PLATFORM_DSN='%s' DSR_MEDIA_ROOT='%s' '%s' %s 2>&1",
                      getenv("DSR_TOP_SRCDIR"), xplat, xmedia, prog, args) > 0);
  free(prog);
  char *out = sh(cmd, rc);
  free(cmd);
  return out;
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
  /* every collection equals direct SQL over the subject's rows */
  struct {
    const char *coll, *sql;
  } checks[] = {
      {"users", "SELECT count(*) FROM users WHERE lower(email) = lower('" SUBJ_EMAIL "')"
                " OR phone = '" SUBJ_PHONE "'"},
      {"contacts", "SELECT count(*) FROM contacts WHERE phone = '" SUBJ_PHONE "'"
                   " OR lower(email) = lower('" SUBJ_EMAIL "')"},
      {"calls", "SELECT count(*) FROM calls WHERE caller_number = '" SUBJ_PHONE "'"
                " OR called_number = '" SUBJ_PHONE "' OR contact_id IN (SELECT id FROM contacts"
                " WHERE phone = '" SUBJ_PHONE "' OR lower(email) = lower('" SUBJ_EMAIL "'))"},
      {"recordings", "SELECT count(*) FROM recordings WHERE call_id IN (SELECT id FROM calls"
                     " WHERE caller_number = '" SUBJ_PHONE "' OR called_number = '" SUBJ_PHONE
                     "' OR contact_id IN (SELECT id FROM contacts WHERE phone = '" SUBJ_PHONE
                     "' OR lower(email) = lower('" SUBJ_EMAIL "')))"},
  };
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
    for (size_t k = 0; k < DSR_ARRAY_LEN(checks); k++)
      if (!strcmp(checks[k].coll, name))
        ck_assert_msg(h_sql_long(xplat, checks[k].sql) == n, "%s: %lld rows exported", name, n);
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
      const char *rel = strchr(name + 6, '/') + 1;
      snprintf(cmd, sizeof cmd, "cmp '%s/%s' '%s/%s'", dir, name, xmedia, rel);
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
  free(html);
  json_decref(data);
  json_decref(man);
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
  ck_assert_int_lt(kib, 64 * 1024);
  free(out);
}
END_TEST

Suite *suite_export(void)
{
  Suite *s = suite_create("export");
  TCase *t = tcase_create("sample");
  tcase_add_unchecked_fixture(t, export_setup, export_teardown);
  tcase_set_timeout(t, 900);
  tcase_add_test(t, access_package_matches_the_platform);
  tcase_add_test(t, portability_holds_only_portable_fields);
  tcase_add_test(t, two_hundred_thousand_rows_in_bounded_memory);
  suite_add_tcase(s, t);
  return s;
}

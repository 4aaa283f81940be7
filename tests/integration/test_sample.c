/**
 * @file test_sample.c
 * @brief dsrctl sample generate against the throwaway PostgreSQL: determinism
 *        (per-table checksums), realistic overlaps, WAV files, backup sets
 *        that are real copies, a designated subject with exactly its calls,
 *        the manifest, --reset, and clear refusals of bad input.
 *
 * Three platforms are generated once, before the tests, in their own
 * databases: A and B from the same seed (with media, backup sets and a
 * designated subject), C from another seed without media.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "dsr/sample.h"
#include "suites.h"

#define SUBJECT_EMAIL "sam.subject@example.com"
#define SUBJECT_PHONE "+15550100777"

struct plat {
  char db[32];
  char *conninfo;
  char dir[320]; /* media, backups, outputs */
  json_t *manifest;
};

static struct plat pa, pb, pc;
static char workdir[256];

/** conninfo of it_pg with another dbname. Caller frees. */
static char *conninfo_for(const char *db)
{
  const char *ci = it_pg.conninfo;
  const char *p = strstr(ci, "dbname=");
  H_REQUIRE1(p != NULL);
  char *out = NULL;
  H_REQUIRE1(asprintf(&out, "%.*sdbname=%s", (int)(p - ci), ci, db) > 0);
  return out;
}

/** Runs dsrctl with @p args (a shell fragment); returns its exit status; output in @p out_path. */
static int dsrctl(const char *args, const char *out_path)
{
  char *ctl = h_program("dsrctl");
  char *cmd = NULL;
  H_REQUIRE1(asprintf(&cmd, "%s %s > %s 2>&1", ctl, args, out_path) > 0);
  int st = system(cmd);
  free(cmd);
  free(ctl);
  return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

static void generate(struct plat *p, const char *db, const char *extra)
{
  snprintf(p->db, sizeof p->db, "%s", db);
  char sql[128];
  snprintf(sql, sizeof sql, "CREATE DATABASE %s", db);
  PQclear(h_sql(it_pg.conninfo, sql));
  p->conninfo = conninfo_for(db);
  snprintf(p->dir, sizeof p->dir, "%s/%s", workdir, db);
  H_REQUIRE1(mkdir(p->dir, 0755) == 0);
  char args[2048], out[400], man[400];
  snprintf(out, sizeof out, "%s/out.txt", p->dir);
  snprintf(man, sizeof man, "%s/manifest.json", p->dir);
  snprintf(args, sizeof args,
           "sample generate --platform-url '%s' --subjects 400 --now 2026-01-01 --manifest %s %s",
           p->conninfo, man, extra);
  int rc = dsrctl(args, out);
  if (rc != 0) {
    char *log = h_slurp(out, NULL);
    H_REQUIRE(rc == 0, "dsrctl sample generate exited %d: %s", rc, log);
  }
  json_error_t jerr;
  p->manifest = json_load_file(man, 0, &jerr);
  H_REQUIRE(p->manifest != NULL, "manifest: %s", jerr.text);
}

static void setup_platforms(void)
{
  h_tmpdir(workdir, sizeof workdir, "sample");
  char extra[1024];
  snprintf(extra, sizeof extra,
           "--seed 11 --media %s/plat_a/media --backup-sets 3 --backup-dir %s/plat_a/backups "
           "--subject-email " SUBJECT_EMAIL " --subject-phone " SUBJECT_PHONE
           " --subject-name 'Sam Subject' --subject-workspaces 3 --subject-calls 1000",
           workdir, workdir);
  generate(&pa, "plat_a", extra);
  snprintf(extra, sizeof extra,
           "--seed 11 --media %s/plat_b/media --backup-sets 3 --backup-dir %s/plat_b/backups "
           "--subject-email " SUBJECT_EMAIL " --subject-phone " SUBJECT_PHONE
           " --subject-name 'Sam Subject' --subject-workspaces 3 --subject-calls 1000",
           workdir, workdir);
  generate(&pb, "plat_b", extra);
  generate(&pc, "plat_c", "--seed 12 --no-media --json");
}

static void teardown_platforms(void)
{
  json_decref(pa.manifest);
  json_decref(pb.manifest);
  json_decref(pc.manifest);
  free(pa.conninfo);
  free(pb.conninfo);
  free(pc.conninfo);
}

/** md5 of a table's rows in a fixed order. Caller frees. */
static char *checksum(const struct plat *p, const char *table)
{
  char sql[256];
  snprintf(sql, sizeof sql,
           "SELECT md5(coalesce(string_agg(t::text, E'\\n' ORDER BY t::text), '')) FROM %s t",
           table);
  PGresult *r = h_sql(p->conninfo, sql);
  char *s = strdup(PQgetvalue(r, 0, 0));
  PQclear(r);
  return s;
}

START_TEST(same_seed_same_checksums_other_seed_differs)
{
  size_t n;
  const struct dsr_sample_table *t = dsr_sample_tables(&n);
  ck_assert_uint_eq(n, 24);
  size_t differ = 0;
  for (size_t i = 0; i < n; i++) {
    char *a = checksum(&pa, t[i].name), *b = checksum(&pb, t[i].name);
    ck_assert_msg(!strcmp(a, b), "%s differs between two runs with the same seed", t[i].name);
    /* C has no designated subject and another seed: every table but plans differs */
    char *c = checksum(&pc, t[i].name);
    differ += strcmp(a, c) != 0;
    if (!strcmp(t[i].name, "plans"))
      ck_assert_str_eq(a, c);
    free(a);
    free(b);
    free(c);
  }
  ck_assert_uint_eq(differ, n - 1);
}
END_TEST

START_TEST(manifest_counts_match_the_database)
{
  json_t *tables = json_object_get(pa.manifest, "tables");
  size_t n;
  const struct dsr_sample_table *t = dsr_sample_tables(&n);
  ck_assert_uint_eq(json_object_size(tables), n);
  for (size_t i = 0; i < n; i++) {
    char sql[128];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM %s", t[i].name);
    long rows = h_sql_long(pa.conninfo, sql);
    ck_assert_msg(rows == json_integer_value(json_object_get(tables, t[i].name)), "%s: %ld",
                  t[i].name, rows);
    ck_assert_msg(rows > 0, "%s is empty", t[i].name);
  }
  /* C was asked for --json on stdout: the output is the same manifest */
  char path[400];
  snprintf(path, sizeof path, "%s/out.txt", pc.dir);
  char *out = h_slurp(path, NULL);
  char *brace = strchr(out, '{');
  ck_assert_ptr_nonnull(brace);
  json_t *j = json_loads(brace, JSON_DISABLE_EOF_CHECK, NULL);
  ck_assert_ptr_nonnull(j);
  ck_assert(json_equal(j, pc.manifest));
  ck_assert_int_eq(json_integer_value(json_object_get(j, "media_files")), 0);
  json_decref(j);
  free(out);
  /* ids keep working after the load: the sequences were moved past the data */
  PGresult *r = h_sql(pc.conninfo,
                      "INSERT INTO support_tickets (requester_email, subject, body, status, created_at) "
                      "VALUES ('t@example.com', 's', 'b', 'open', now())");
  PQclear(r);
}
END_TEST

START_TEST(overlaps_as_in_life)
{
  /* the same phone is a caller in three or more workspaces */
  ck_assert_int_gt(h_sql_long(pa.conninfo,
                              "SELECT count(*) FROM (SELECT caller_number FROM calls WHERE "
                              "direction = 'inbound' GROUP BY caller_number "
                              "HAVING count(DISTINCT workspace_id) >= 3) x"),
                   0);
  /* agents who are account holders (owners of another workspace) */
  ck_assert_int_gt(h_sql_long(pa.conninfo,
                              "SELECT count(*) FROM workspace_members m JOIN workspaces w "
                              "ON w.owner_user_id = m.user_id AND w.id <> m.workspace_id "
                              "WHERE m.role <> 'owner'"),
                   0);
  /* users who also call other workspaces as callers */
  ck_assert_int_gt(h_sql_long(pa.conninfo, "SELECT count(*) FROM users u WHERE EXISTS "
                                           "(SELECT 1 FROM calls c WHERE c.caller_number = u.phone)"),
                   0);
  /* transcripts that mention someone else's phone number, who is a caller or contact */
  ck_assert_int_gt(
      h_sql_long(pa.conninfo,
                 "SELECT count(*) FROM transcripts t JOIN recordings r ON r.id = t.recording_id "
                 "JOIN calls c ON c.id = r.call_id, "
                 "LATERAL regexp_matches(t.text, '\\+[0-9][0-9 ]{6,18}[0-9]', 'g') m(x) "
                 "WHERE replace(m.x[1], ' ', '') NOT IN (c.caller_number, c.called_number) "
                 "AND (EXISTS (SELECT 1 FROM contacts k WHERE k.phone = replace(m.x[1], ' ', '')) "
                 "OR EXISTS (SELECT 1 FROM calls o WHERE o.caller_number = replace(m.x[1], ' ', '')))"),
      10);
  /* minors among contacts; accounts closed long ago; recordings past retention and not */
  ck_assert_int_gt(h_sql_long(pa.conninfo, "SELECT count(*) FROM contacts WHERE is_minor AND "
                                           "birth_date > '2026-01-01'::date - 18 * 365"),
                   0);
  ck_assert_int_gt(h_sql_long(pa.conninfo, "SELECT count(*) FROM users WHERE closed_at < "
                                           "'2026-01-01'::timestamptz - interval '1 year'"),
                   0);
#define PAST(op)                                                                              \
  "SELECT count(*) FROM recordings r JOIN workspaces w ON w.id = r.workspace_id "              \
  "LEFT JOIN workspace_settings s ON s.workspace_id = w.id WHERE r.created_at " op             \
  " '2026-01-01'::timestamptz - make_interval(days => "                                      \
  "coalesce(s.recording_retention_days, w.recording_retention_days))"
  ck_assert_int_gt(h_sql_long(pa.conninfo, PAST("<")), 0);
  ck_assert_int_gt(h_sql_long(pa.conninfo, PAST(">=")), 0);
#undef PAST
  ck_assert_int_gt(h_sql_long(pa.conninfo, "SELECT count(*) FROM workspace_settings WHERE "
                                           "recording_retention_days IS NOT NULL"),
                   0);
  ck_assert_int_eq(h_sql_long(pa.conninfo, "SELECT count(DISTINCT recording_retention_days) "
                                           "FROM plans"),
                   4);
}
END_TEST

static uint32_t rd32(const unsigned char *p)
{
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void check_wav(const char *path, long size_bytes)
{
  size_t len;
  unsigned char *w = (unsigned char *)h_slurp(path, &len);
  ck_assert_msg((long)len == size_bytes, "%s: %zu bytes, row says %ld", path, len, size_bytes);
  ck_assert(len > 44 && len < 16384);
  ck_assert(memcmp(w, "RIFF", 4) == 0 && memcmp(w + 8, "WAVEfmt ", 8) == 0);
  ck_assert_uint_eq(rd32(w + 4), len - 8);
  ck_assert_uint_eq(w[20] | w[21] << 8, 1);
  ck_assert_uint_eq(w[22] | w[23] << 8, 1);
  ck_assert_uint_eq(rd32(w + 24), 8000);
  ck_assert_uint_eq(w[34] | w[35] << 8, 16);
  ck_assert(memcmp(w + 36, "data", 4) == 0);
  ck_assert_uint_eq(rd32(w + 40), len - 44);
  free(w);
}

START_TEST(media_files_are_valid_wav_and_deterministic)
{
  PGresult *r = h_sql(pa.conninfo, "SELECT file_path, size_bytes FROM recordings UNION ALL "
                                   "SELECT file_path, size_bytes FROM voicemails");
  long files = json_integer_value(json_object_get(pa.manifest, "media_files"));
  ck_assert_int_eq(PQntuples(r), files);
  ck_assert_int_gt(files, 100);
  for (int i = 0; i < PQntuples(r); i++) {
    char a[600], b[600];
    snprintf(a, sizeof a, "%s/media/%s", pa.dir, PQgetvalue(r, i, 0));
    snprintf(b, sizeof b, "%s/media/%s", pb.dir, PQgetvalue(r, i, 0));
    check_wav(a, atol(PQgetvalue(r, i, 1)));
    size_t la, lb;
    char *da = h_slurp(a, &la), *db = h_slurp(b, &lb);
    ck_assert_msg(la == lb && memcmp(da, db, la) == 0, "%s differs between runs", a);
    free(da);
    free(db);
  }
  PQclear(r);
}
END_TEST

START_TEST(backup_sets_are_real_copies)
{
  json_t *sets = json_object_get(pa.manifest, "backup_sets");
  ck_assert_uint_eq(json_array_size(sets), 3);
  long files = json_integer_value(json_object_get(pa.manifest, "media_files"));
  long prev = files;
  for (size_t i = 0; i < 3; i++) {
    json_t *s = json_array_get(sets, i);
    long n = json_integer_value(json_object_get(s, "files"));
    ck_assert_int_le(n, prev); /* older sets hold fewer files */
    prev = n;
    const char *dir = json_string_value(json_object_get(s, "path"));
    char idx[600];
    snprintf(idx, sizeof idx, "%s/index.tsv", dir);
    FILE *f = fopen(idx, "r");
    ck_assert_ptr_nonnull(f);
    char line[1024];
    long listed = 0;
    while (fgets(line, sizeof line, f)) {
      if (line[0] == '#' || !strncmp(line, "path\t", 5))
        continue;
      char *tab = strchr(line, '\t');
      ck_assert_ptr_nonnull(tab);
      *tab = '\0';
      long size = atol(tab + 1);
      char copy[2400], orig[2400];
      snprintf(copy, sizeof copy, "%s/%s", dir, line);
      snprintf(orig, sizeof orig, "%s/media/%s", pa.dir, line);
      struct stat sc, so;
      ck_assert_int_eq(stat(copy, &sc), 0);
      ck_assert_int_eq(stat(orig, &so), 0);
      ck_assert_msg(sc.st_ino != so.st_ino || sc.st_dev != so.st_dev, "%s is a hard link", copy);
      ck_assert_int_eq(sc.st_nlink, 1);
      ck_assert_int_eq(sc.st_size, size);
      size_t lc, lo;
      char *dc = h_slurp(copy, &lc), *dor = h_slurp(orig, &lo);
      ck_assert(lc == lo && memcmp(dc, dor, lc) == 0);
      free(dc);
      free(dor);
      listed++;
    }
    fclose(f);
    ck_assert_int_eq(listed, n);
    if (i == 0)
      ck_assert_int_eq(n, files); /* set-1 is a full copy */
  }
  ck_assert_int_lt(prev, files);
}
END_TEST

START_TEST(designated_subject_has_exactly_its_calls)
{
  const char *q = "SELECT count(*) FROM calls WHERE caller_number = '" SUBJECT_PHONE
                  "' OR called_number = '" SUBJECT_PHONE "'";
  ck_assert_int_eq(h_sql_long(pa.conninfo, q), 1000);
  ck_assert_int_eq(h_sql_long(pa.conninfo, "SELECT count(DISTINCT workspace_id) FROM calls WHERE "
                                           "caller_number = '" SUBJECT_PHONE "' OR called_number = '"
                                           SUBJECT_PHONE "'"),
                   3);
  ck_assert_int_eq(h_sql_long(pa.conninfo, "SELECT count(*) FROM contacts WHERE phone = '"
                                           SUBJECT_PHONE "'"),
                   3);
  /* an account holder: a user who owns a workspace other than the three */
  ck_assert_int_eq(h_sql_long(pa.conninfo,
                              "SELECT count(*) FROM users u JOIN workspaces w ON w.owner_user_id = u.id "
                              "WHERE u.email = '" SUBJECT_EMAIL "' AND w.id NOT IN (SELECT workspace_id "
                              "FROM calls WHERE caller_number = '" SUBJECT_PHONE "' OR called_number = '"
                              SUBJECT_PHONE "')"),
                   1);
  ck_assert_int_gt(h_sql_long(pa.conninfo, "SELECT count(*) FROM invoices WHERE billing_email = '"
                                           SUBJECT_EMAIL "'"),
                   0);
  json_t *subjects = json_object_get(pa.manifest, "subjects_of_note");
  json_t *d = json_array_get(subjects, 0);
  ck_assert_str_eq(json_string_value(json_object_get(d, "label")), "designated-1");
  ck_assert_str_eq(json_string_value(json_object_get(d, "phone")), SUBJECT_PHONE);
  ck_assert_str_eq(json_string_value(json_object_get(d, "name")), "Sam Subject");
  ck_assert_int_eq(json_integer_value(json_object_get(d, "calls")), 1000);
  /* the population's account holder who calls three workspaces is real too */
  json_t *h = NULL;
  for (size_t i = 0; i < json_array_size(subjects); i++)
    if (!strcmp(json_string_value(json_object_get(json_array_get(subjects, i), "label")),
                "account_holder_caller_in_3_workspaces"))
      h = json_array_get(subjects, i);
  ck_assert_ptr_nonnull(h);
  char sql[400];
  snprintf(sql, sizeof sql,
           "SELECT count(DISTINCT workspace_id) FROM calls WHERE caller_number = '%s' OR "
           "called_number = '%s'",
           json_string_value(json_object_get(h, "phone")),
           json_string_value(json_object_get(h, "phone")));
  ck_assert_int_eq(h_sql_long(pa.conninfo, sql), 3);
  snprintf(sql, sizeof sql, "SELECT count(*) FROM users WHERE email = '%s'",
           json_string_value(json_object_get(h, "email")));
  ck_assert_int_eq(h_sql_long(pa.conninfo, sql), 1);
}
END_TEST

static void expect_refusal(const char *args, int code, const char *needle)
{
  char out[400];
  snprintf(out, sizeof out, "%s/refusal.txt", workdir);
  int rc = dsrctl(args, out);
  char *log = h_slurp(out, NULL);
  ck_assert_msg(rc == code, "%s: exit %d, expected %d: %s", args, rc, code, log);
  ck_assert_msg(strstr(log, needle) != NULL, "%s: output lacks \"%s\": %s", args, needle, log);
  free(log);
}

START_TEST(bad_input_is_refused_clearly)
{
  expect_refusal("sample generate --subjects 10 --seed 1 --frobnicate", 2, "unknown option --frobnicate");
  expect_refusal("sample generate --subjects -5 --seed 1", 2, "--subjects must be");
  expect_refusal("sample generate --subjects 10 --seed banana", 2, "--seed must be");
  expect_refusal("sample generate --subjects 10x --seed 1", 2, "--subjects must be");
  expect_refusal("sample generate --seed 1", 2, "--subjects and --seed are required");
  expect_refusal("sample generate --subjects 10 --seed 1 --now yesterday", 2, "--now must be");
  expect_refusal("sample generate --subjects 10 --seed 1 --subject-phone +15550100001", 2,
                 "must follow --subject-email");
  expect_refusal("sample generate --subjects 100 --seed 1 --subject-email a@example.com "
                 "--subject-phone 12345", 2, "E.164");
  expect_refusal("sample frobnicate", 2, "expected \"generate\"");
  expect_refusal("sample generate --help", 0, "usage: dsrctl sample generate");
  /* a database that already holds a platform, and dsrd's own database */
  char args[1024];
  snprintf(args, sizeof args, "sample generate --platform-url '%s' --subjects 10 --seed 1 --no-media",
           pc.conninfo);
  expect_refusal(args, 1, "use --reset");
  snprintf(args, sizeof args, "sample generate --platform-url '%s' --subjects 10 --seed 1 --no-media",
           it_pg.conninfo);
  expect_refusal(args, 1, "belongs to dsrd");
  /* media left by an earlier run are not mixed with new ones */
  char *ci = conninfo_for("plat_d");
  PQclear(h_sql(it_pg.conninfo, "CREATE DATABASE plat_d"));
  snprintf(args, sizeof args,
           "sample generate --platform-url '%s' --subjects 10 --seed 1 --media %s/plat_a/media", ci,
           workdir);
  expect_refusal(args, 1, "already holds media files");
  free(ci);
}
END_TEST

START_TEST(reset_regenerates_the_same_platform)
{
  char *before = checksum(&pc, "transcripts");
  char args[1024], out[400];
  snprintf(out, sizeof out, "%s/reset.txt", workdir);
  snprintf(args, sizeof args,
           "sample generate --platform-url '%s' --subjects 400 --now 2026-01-01 --seed 12 "
           "--no-media --reset",
           pc.conninfo);
  int rc = dsrctl(args, out);
  char *log = h_slurp(out, NULL);
  ck_assert_msg(rc == 0, "%s", log);
  ck_assert(strstr(log, "generated the sample platform") != NULL);
  /* not a terminal: plain progress lines, one per table, no bar */
  ck_assert(strstr(log, "] calls ") != NULL && strstr(log, " rows ") != NULL);
  ck_assert(strchr(log, '\r') == NULL);
  free(log);
  char *after = checksum(&pc, "transcripts");
  ck_assert_str_eq(before, after);
  ck_assert_int_eq(h_sql_long(pc.conninfo, "SELECT count(*) FROM plans"), 4);
  free(before);
  free(after);
}
END_TEST

Suite *suite_sample(void)
{
  Suite *s = suite_create("sample");
  TCase *tc = tcase_create("platform");
  tcase_set_timeout(tc, 300);
  tcase_add_unchecked_fixture(tc, setup_platforms, teardown_platforms);
  tcase_add_test(tc, same_seed_same_checksums_other_seed_differs);
  tcase_add_test(tc, manifest_counts_match_the_database);
  tcase_add_test(tc, overlaps_as_in_life);
  tcase_add_test(tc, media_files_are_valid_wav_and_deterministic);
  tcase_add_test(tc, backup_sets_are_real_copies);
  tcase_add_test(tc, designated_subject_has_exactly_its_calls);
  tcase_add_test(tc, bad_input_is_refused_clearly);
  /* last: it replaces platform C */
  tcase_add_test(tc, reset_regenerates_the_same_platform);
  suite_add_tcase(s, tc);
  return s;
}

/**
 * @file test_sweep.c
 * @brief Retention sweeps on a generated sample platform: `dsrctl sweep`
 *        after 30% of the recordings were moved past their retention removes
 *        exactly those, with their transcripts, AI summaries and files, and
 *        nothing else
 *        (every other row's checksum, every other file); --dry-run counts the
 *        same and changes nothing; a second run changes nothing. Then the
 *        scheduled job (by the test's clock), one sweep at a time (advisory
 *        lock), and dsrd's own retention (closed requests go, the audit
 *        trail stays).
 */
#include "erasure_fixture.h"
#include "dsr/admin.h"
#include "dsr/queue.h"
#include "dsr/sweep.h"
#include "erasure_jobs.h"

#include <fcntl.h>
#include <string.h>
#include <unistd.h>

static char keyfile[300];
static const unsigned char sweep_key[32] = {42, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15,
                                            16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28,
                                            29, 30, 31};

static void write_key(void)
{
  char dir[256];
  h_tmpdir(dir, sizeof dir, "sweep-key");
  snprintf(keyfile, sizeof keyfile, "%s/secret.key", dir);
  int fd = open(keyfile, O_WRONLY | O_CREAT | O_TRUNC, 0600);
  ck_assert(fd >= 0 && write(fd, sweep_key, 32) == 32);
  close(fd);
}

/* Runs dsrctl sweep with @p extra arguments; returns its JSON output (caller decrefs). */
static json_t *sweep(const struct ef_dsrd *d, const char *policy, const char *extra)
{
  char url[600], key[400], out[320];
  snprintf(url, sizeof url, "--database-url=%s", d->conninfo);
  snprintf(key, sizeof key, "--secret-key-file=%s", keyfile);
  snprintf(out, sizeof out, "%s.out", keyfile);
  const char *argv[] = {"dsrctl", url, key, "sweep", "--policy", policy, "--now", "2026-01-01",
                        "--json", extra, NULL};
  ck_assert_int_eq(it_run(argv, out), 0);
  json_error_t e;
  json_t *j = json_load_file(out, 0, &e);
  ck_assert_msg(j != NULL, "sweep output: %s", e.text);
  return j;
}

/* rows / files of @p coll in a receipt (0 when absent). */
static long long figure(const json_t *rc, const char *coll, const char *what)
{
  size_t i;
  const json_t *e;
  long long n = 0;
  json_array_foreach(json_object_get(rc, "collections"), i, e)
    if (!strcmp(json_string_value(json_object_get(e, "collection")), coll) &&
        !strcmp(json_string_value(json_object_get(e, "action")), "delete"))
      n += json_integer_value(json_object_get(e, what));
  return n;
}

/* A text[] literal of the first column of @p sql. Caller frees. */
static char *ids_literal(const char *conninfo, const char *sql, long *n)
{
  PGresult *r = h_sql(conninfo, sql);
  struct dsr_buf b = {0};
  ck_assert(dsr_buf_puts(&b, "{"));
  for (int i = 0; i < PQntuples(r); i++)
    ck_assert(dsr_buf_printf(&b, "%s\"%s\"", i ? "," : "", PQgetvalue(r, i, 0)));
  ck_assert(dsr_buf_puts(&b, "}"));
  *n = PQntuples(r);
  PQclear(r);
  return dsr_buf_steal(&b);
}

START_TEST(sweep_removes_exactly_what_is_past_retention)
{
  char policy[512];
  snprintf(policy, sizeof policy, "%s/policies/callcenter-ai.json", getenv("DSR_TOP_SRCDIR"));
  struct ef_platform pl;
  ef_generate(&pl, "sw_plat", 400, true, NULL);
  ef_use(&pl);
  write_key();
  struct ef_dsrd d;
  ef_dsrd_open(&d, "dsr_sweep", policy, sweep_key);
  const char *plat = pl.conninfo;
  /* What the generator left past retention goes first. */
  json_decref(sweep(&d, policy, NULL));
  long total = h_sql_long(plat, "SELECT count(*) FROM recordings");
  ck_assert_int_gt(total, 100);
  /* 30% of the recordings are now long past any retention the policy allows. */
  char sql[600];
  snprintf(sql, sizeof sql, "UPDATE recordings SET created_at = created_at - interval '50 years'"
                            " WHERE id IN (SELECT id FROM recordings ORDER BY md5(id::text) LIMIT %ld)",
           total * 3 / 10);
  PQclear(h_sql(plat, sql));
  long ne = 0, nt = 0, ns = 0, nf = 0;
  long summaries = h_sql_long(plat, "SELECT count(*) FROM ai_summaries");
  char *e = ids_literal(plat, "SELECT id FROM recordings WHERE created_at < '1990-01-01'", &ne);
  ck_assert_int_eq(ne, total * 3 / 10);
  snprintf(sql, sizeof sql, "SELECT t.id FROM transcripts t JOIN recordings r ON r.id = "
                            "t.recording_id WHERE r.created_at < '1990-01-01'");
  char *te = ids_literal(plat, sql, &nt);
  ck_assert_int_gt(nt, 0);
  snprintf(sql, sizeof sql, "SELECT s.id FROM ai_summaries s JOIN recordings r ON r.id = "
                            "s.recording_id WHERE r.created_at < '1990-01-01'");
  char *se = ids_literal(plat, sql, &ns);
  ck_assert_int_gt(ns, 0);
  PGresult *fr = h_sql(plat, "SELECT file_path FROM recordings WHERE created_at < '1990-01-01'");
  nf = PQntuples(fr);
  long files_before = ef_count_files(pl.media);
  /* every table but these three, and these three without the expired rows */
  char *sum0 = ef_checksums(plat);
  char *rec0 = ef_table_md5(plat, "recordings", "id", e);
  char *tr0 = ef_table_md5(plat, "transcripts", "id", te);
  char *su0 = ef_table_md5(plat, "ai_summaries", "id", se);

  json_t *dry = sweep(&d, policy, "--dry-run");
  ck_assert_int_eq(figure(dry, "recordings", "rows"), ne);
  ck_assert_int_eq(figure(dry, "recordings", "files"), nf);
  ck_assert_int_eq(figure(dry, "transcripts", "rows"), nt);
  ck_assert_int_eq(figure(dry, "ai_summaries", "rows"), ns);
  json_decref(dry);
  char *sum_dry = ef_checksums(plat);
  ck_assert_str_eq(sum0, sum_dry);

  json_t *rc = sweep(&d, policy, NULL);
  ck_assert_int_eq(figure(rc, "recordings", "rows"), ne);
  ck_assert_int_eq(figure(rc, "transcripts", "rows"), nt);
  ck_assert_int_eq(figure(rc, "ai_summaries", "rows"), ns);
  ck_assert_int_eq(json_integer_value(json_object_get(rc, "rows_deleted")), ne + nt + ns);
  ck_assert_int_eq(json_integer_value(json_object_get(rc, "files_removed")), nf);
  json_decref(rc);
  ck_assert_int_eq(h_sql_long(plat, "SELECT count(*) FROM recordings"), total - ne);
  char *rec1 = ef_table_md5(plat, "recordings", "id", e);
  char *tr1 = ef_table_md5(plat, "transcripts", "id", te);
  char *su1 = ef_table_md5(plat, "ai_summaries", "id", se);
  ck_assert_str_eq(rec0, rec1);
  ck_assert_str_eq(tr0, tr1);
  ck_assert_str_eq(su0, su1);
  /* exactly the expired recordings' summaries are gone */
  ck_assert_int_eq(h_sql_long(plat, "SELECT count(*) FROM ai_summaries"), summaries - ns);
  ck_assert_int_eq(ef_long(plat, "SELECT count(*) FROM ai_summaries WHERE id::text = "
                                 "ANY('%s'::text[])", se), 0);
  ck_assert_int_eq(h_sql_long(plat, "SELECT count(*) FROM recordings WHERE created_at < "
                                    "'1990-01-01'"), 0);
  /* every other table untouched */
  char *sum1 = ef_checksums(plat);
  char *a = sum0, *b = sum1;
  while (a && b) {
    char *ea = strchr(a, ';'), *eb = strchr(b, ';');
    if (!ea || !eb)
      break;
    if (strncmp(a, "recordings=", 11) != 0 && strncmp(a, "transcripts=", 12) != 0 &&
        strncmp(a, "ai_summaries=", 13) != 0)
      ck_assert_msg(ea - a == eb - b && !strncmp(a, b, (size_t)(ea - a)), "changed: %.*s",
                    (int)(ea - a), a);
    a = ea + 1;
    b = eb + 1;
  }
  /* the expired recordings' files are gone, every other file is there */
  for (int i = 0; i < nf; i++)
    ck_assert_msg(!ef_file_exists(pl.media, PQgetvalue(fr, i, 0)), "file left");
  ck_assert_int_eq(ef_count_files(pl.media), files_before - nf);
  PQclear(fr);
  /* a second run changes nothing */
  rc = sweep(&d, policy, NULL);
  ck_assert_int_eq(json_integer_value(json_object_get(rc, "rows_deleted")), 0);
  ck_assert_int_eq(json_integer_value(json_object_get(rc, "files_removed")), 0);
  json_decref(rc);
  char *sum2 = ef_checksums(plat);
  ck_assert_str_eq(sum1, sum2);
  ck_assert_int_eq(h_sql_long(d.conninfo, "SELECT count(*) FROM dsr_events WHERE kind = "
                                          "'sweep.receipt'"), 3);
  free(e);
  free(te);
  free(se);
  free(su0);
  free(su1);
  free(sum0);
  free(sum_dry);
  free(sum1);
  free(sum2);
  free(rec0);
  free(rec1);
  free(tr0);
  free(tr1);
  ef_dsrd_close(&d);
  ef_platform_free(&pl);
}
END_TEST

static const struct dsr_job_kind sweep_registry[] = {
    {DSR_JOB_RETENTION_SWEEP, dsr_job_retention_sweep, 3600},
    {NULL, NULL, 0},
};

/* The scheduled job, one sweep at a time, and dsrd's own data. */
START_TEST(scheduled_sweeps_one_at_a_time_and_dsrd_data)
{
  char policy[512];
  snprintf(policy, sizeof policy, "%s/policies/callos.json", getenv("DSR_TOP_SRCDIR"));
  struct ef_platform pl;
  ef_generate(&pl, "sw_sched", 100, false, NULL);
  ef_use(&pl);
  struct ef_dsrd d;
  ef_dsrd_open(&d, "dsr_sweep_sched", policy, sweep_key);
  /* a request closed long ago (denied), and one closed yesterday */
  char old_id[40], new_id[40];
  dsr_strlcpy(old_id, ef_request(&d, "old@example.org", NULL), sizeof old_id);
  dsr_strlcpy(new_id, ef_request(&d, "new@example.org", NULL), sizeof new_id);
  struct dsr_admin_action deny = {.action = "deny", .reason = "manifestly_unfounded"};
  char detail[256];
  const char *field = NULL;
  json_t *reply = NULL;
  ck_assert_int_eq(dsr_admin_act(d.db, d.policy, d.staff_id, old_id, &deny, &reply, detail,
                                 sizeof detail, &field), DSR_OK);
  json_decref(reply);
  ck_assert_int_eq(dsr_admin_act(d.db, d.policy, d.staff_id, new_id, &deny, &reply, detail,
                                 sizeof detail, &field), DSR_OK);
  json_decref(reply);
  char sql[300];
  snprintf(sql, sizeof sql, "UPDATE dsr_requests SET completed_at = now() - interval '4 years'"
                            " WHERE id = '%s'", old_id);
  PQclear(h_sql(d.conninfo, sql));
  long audit = ef_long(d.conninfo, "SELECT count(*) FROM dsr_audit_entries WHERE request_id = '%s'",
                       old_id);
  ck_assert_int_gt(audit, 0);

  /* another node holds the sweep lock: this one does nothing */
  PGconn *other = PQconnectdb(d.conninfo);
  PQclear(PQexec(other, "SELECT pg_advisory_lock(hashtext('dsrd.retention_sweep'))"));
  struct dsr_sweep_opts o = {.own_data = true};
  json_t *rc = NULL;
  char err[256];
  ck_assert_int_eq(dsr_sweep_run(d.db, d.policy, &o, &rc, err, sizeof err), DSR_SWEEP_BUSY);
  PQfinish(other);

  /* the scheduled job runs in its slot (the test's clock), then schedules the next one */
  time_t t0 = dsr_now();
  ck_assert(dsr_sweep_schedule(d.db, d.cfg.retention_sweep_interval));
  ck_assert_int_eq(dsr_queue_run_batch(d.db, sweep_registry, "sweep-test", t0, 4, &d.env), 0);
  dsr_set_fake_now(t0 + d.cfg.retention_sweep_interval + 1);
  ck_assert_int_eq(dsr_queue_run_batch(d.db, sweep_registry, "sweep-test", dsr_now(), 4, &d.env), 1);
  ck_assert_int_eq(ef_long(d.conninfo, "SELECT count(*) FROM dsr_events WHERE kind = 'sweep.receipt'"), 1);
  ck_assert_int_eq(ef_long(d.conninfo, "SELECT count(*) FROM dsr_jobs WHERE kind = 'retention_sweep'"
                                       " AND state = 'queued' AND run_at > to_timestamp(%lld)",
                           (long long)dsr_now()), 1);
  dsr_set_fake_now(0);
  /* dsrd's own data: the old closed request is gone, the recent one stays, the trail stays */
  ck_assert_int_eq(ef_long(d.conninfo, "SELECT count(*) FROM dsr_requests WHERE id = '%s'", old_id), 0);
  ck_assert_int_eq(ef_long(d.conninfo, "SELECT count(*) FROM dsr_requests WHERE id = '%s'", new_id), 1);
  ck_assert_int_eq(ef_long(d.conninfo, "SELECT count(*) FROM dsr_audit_entries WHERE request_id = '%s'",
                           old_id), audit);
  PGresult *r = h_sql(d.conninfo, "SELECT data FROM dsr_events WHERE kind = 'sweep.receipt'");
  json_t *j = json_loads(PQgetvalue(r, 0, 0), 0, NULL);
  PQclear(r);
  ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(j, "dsrd_data"),
                                                      "closed_requests")), 1);
  json_decref(j);
  ef_dsrd_close(&d);
  ef_platform_free(&pl);
}
END_TEST

Suite *suite_sweep(void)
{
  Suite *s = suite_create("sweep");
  TCase *tc = tcase_create("sweep");
  tcase_set_timeout(tc, 300);
  tcase_add_test(tc, sweep_removes_exactly_what_is_past_retention);
  tcase_add_test(tc, scheduled_sweeps_one_at_a_time_and_dsrd_data);
  suite_add_tcase(s, tc);
  return s;
}

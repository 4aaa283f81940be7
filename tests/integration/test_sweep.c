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
#include <signal.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
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

/* The same changes on a twin platform: 30% of the recordings long past retention, and a
 * second and third transcript for some recordings, so that a page can end between two
 * children of one recording. */
static void age_and_add_children(const char *plat)
{
  PQclear(h_sql(plat, "UPDATE recordings SET created_at = created_at - interval '50 years'"
                      " WHERE id IN (SELECT id FROM recordings ORDER BY md5(id::text)"
                      " LIMIT (SELECT count(*) * 3 / 10 FROM recordings))"));
  for (int k = 2; k <= 3; k++) {
    char sql[512];
    snprintf(sql, sizeof sql, "INSERT INTO transcripts (workspace_id, recording_id, language, text,"
                              " word_count, created_at) SELECT workspace_id, recording_id,"
                              " language, text || ' (%d)', word_count, created_at FROM"
                              " transcripts WHERE recording_id %% %d = 0 ORDER BY id", k, k);
    PQclear(h_sql(plat, sql));
  }
}

/* dsrctl sweep (batches of 10 rows, the policy's store at @p pl) killed at failpoint @p point
 * (NULL: none) of its @p skip+1-th batch; returns its exit status. */
static int sweep_killed(const struct ef_dsrd *d, const struct ef_platform *pl,
                        const char *policy, const char *point, int skip)
{
  char url[600], key[400], out[320], sk[16];
  snprintf(url, sizeof url, "--database-url=%s", d->conninfo);
  snprintf(key, sizeof key, "--secret-key-file=%s", keyfile);
  snprintf(out, sizeof out, "%s.out", keyfile);
  snprintf(sk, sizeof sk, "%d", skip);
  ef_use(pl);
  ck_assert(setenv("DSRD_ERASURE_BATCH_ROWS", "10", 1) == 0);
  if (point)
    ck_assert(setenv("DSRD_FAILPOINT", point, 1) == 0 && setenv("DSRD_FAILPOINT_SKIP", sk, 1) == 0);
  const char *argv[] = {"dsrctl", url, key, "sweep", "--policy", policy, "--now", "2026-01-01",
                        "--json", NULL};
  int rc = it_run(argv, out);
  unsetenv("DSRD_FAILPOINT");
  unsetenv("DSRD_FAILPOINT_SKIP");
  unsetenv("DSRD_ERASURE_BATCH_ROWS");
  return rc;
}

/*
 * A sweep killed (SIGKILL) inside the commit protocol of its batches, again and again, then
 * resumed, ends with the platform of the same sweep uninterrupted on a twin platform, and the
 * same figures. Transcripts and AI summaries (a foreign key to their recording) are paged
 * from the expired recordings, in pages of 10 that end between two children of one recording:
 * their cursors name the recording and the child.
 */
START_TEST(sweep_killed_at_its_batches_resumes_to_the_same_state)
{
  unsigned seed = (unsigned)time(NULL);
  srand(seed);
  char policy[512];
  snprintf(policy, sizeof policy, "%s/policies/callcenter-ai.json", getenv("DSR_TOP_SRCDIR"));
  struct ef_platform a, b;
  ef_generate(&a, "sw_crash_a", 150, true, NULL);
  ef_generate(&b, "sw_crash_b", 150, false, NULL);
  age_and_add_children(a.conninfo);
  age_and_add_children(b.conninfo);
  char *sum_a0 = ef_checksums(a.conninfo), *sum_b0 = ef_checksums(b.conninfo);
  ck_assert_str_eq(sum_a0, sum_b0); /* the same platform twice */
  const char *expired = "SELECT count(*) FROM transcripts t JOIN recordings r ON r.id ="
                        " t.recording_id WHERE r.created_at < '1990-01-01'";
  ck_assert_int_gt(h_sql_long(a.conninfo, expired), 20);
  write_key();
  struct ef_dsrd da, db;
  ef_dsrd_open(&da, "dsr_sweep_crash_a", policy, sweep_key);
  static const char *const points[] = {"pending", "committed"};
  int kills = 0, rc = -1;
  for (int k = 0; k < 6 && rc != 0; k++) {
    rc = sweep_killed(&da, &a, policy, points[k % 2], rand() % 12);
    if (rc == 0)
      break; /* finished before this kill point */
    ck_assert_int_eq(rc, 128 + SIGKILL);
    kills++;
    ck_assert_int_eq(h_sql_long(da.conninfo, "SELECT count(*) FROM dsr_erasure_steps WHERE"
                                             " pend_xid IS NOT NULL"), 1); /* caught in flight */
  }
  ck_assert_int_ge(kills, 2);
  if (rc != 0)
    ck_assert_int_eq(sweep_killed(&da, &a, policy, NULL, 0), 0);
  /* the children were paged from their recordings: cursors of recording and child */
  ck_assert_int_eq(h_sql_long(da.conninfo, "SELECT count(*) FROM dsr_erasure_steps WHERE"
                                           " collection IN ('transcripts', 'ai_summaries')"
                                           " AND cursor_key LIKE '{\"c\": %, \"p\": %}'"), 2);
  char *fig_a = NULL, *fig_b = NULL;
  PGresult *r = h_sql(da.conninfo, "SELECT string_agg(collection || '=' || rows, ',' ORDER BY"
                                   " collection) FROM dsr_erasure_steps");
  fig_a = strdup(PQgetvalue(r, 0, 0));
  PQclear(r);
  ck_assert_int_eq(h_sql_long(a.conninfo, expired), 0);
  char *sum_a = ef_checksums(a.conninfo);
  ef_dsrd_close(&da);

  ef_dsrd_open(&db, "dsr_sweep_crash_b", policy, sweep_key);
  ck_assert_int_eq(sweep_killed(&db, &b, policy, NULL, 0), 0);
  r = h_sql(db.conninfo, "SELECT string_agg(collection || '=' || rows, ',' ORDER BY"
                         " collection) FROM dsr_erasure_steps");
  fig_b = strdup(PQgetvalue(r, 0, 0));
  PQclear(r);
  char *sum_b = ef_checksums(b.conninfo);
  ef_dsrd_close(&db);
  fprintf(stderr, "sweep crash test: seed %u, %d kills, %s; checksums %s\n", seed, kills, fig_a,
          strcmp(sum_a, sum_b) ? "DIFFER" : "equal");
  ck_assert_str_eq(fig_a, fig_b);
  ck_assert_str_eq(sum_a, sum_b);
  free(fig_a);
  free(fig_b);
  free(sum_a0);
  free(sum_b0);
  free(sum_a);
  free(sum_b);
  ef_platform_free(&a);
  ef_platform_free(&b);
}
END_TEST

static const struct dsr_job_kind sweep_registry[] = {
    {DSR_JOB_RETENTION_SWEEP, dsr_job_retention_sweep, 3600, NULL},
    {NULL, NULL, 0, NULL},
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
  /* released before the job below: a closed connection's backend lets go only when it exits */
  PQclear(PQexec(other, "SELECT pg_advisory_unlock(hashtext('dsrd.retention_sweep'))"));
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

/* Runs one sweep of dsrd's own data at the test's clock; returns its "dsrd_data" counts. */
static json_t *own_sweep(struct ef_dsrd *d, time_t at)
{
  dsr_set_fake_now(at);
  struct dsr_sweep_opts o;
  dsr_sweep_opts_init(&o, &d->cfg);
  json_t *rc = NULL;
  char err[256];
  ck_assert_msg(dsr_sweep_run(d->db, d->policy, &o, &rc, err, sizeof err) == DSR_SWEEP_DONE, "%s",
                err);
  dsr_set_fake_now(0);
  json_t *own = json_incref(json_object_get(rc, "dsrd_data"));
  json_decref(rc);
  ck_assert_ptr_nonnull(own);
  return own;
}

static long long own_count(const json_t *own, const char *what)
{
  const json_t *v = json_object_get(own, what);
  ck_assert_msg(json_is_integer(v), "no %s in dsrd_data", what);
  return json_integer_value(v);
}

/*
 * dsrd's own retention of messages and export packages, by the test's clock,
 * with the configured periods (the policy names no "messages" period here):
 * an expired package is destroyed (file, key, event) and its record deleted
 * export_retention_days later; messages go outbox_retention_days after they
 * were sent (or created, unsent); nothing goes a day before.
 */
START_TEST(own_retention_of_messages_and_exports)
{
  char src[512], policy[512], dir[256], exports[300];
  snprintf(src, sizeof src, "%s/policies/callos.json", getenv("DSR_TOP_SRCDIR"));
  h_tmpdir(dir, sizeof dir, "own-retention");
  snprintf(policy, sizeof policy, "%s/policy.json", dir);
  snprintf(exports, sizeof exports, "%s/exports", dir);
  ck_assert_int_eq(mkdir(exports, 0700), 0);
  json_error_t je;
  json_t *pj = json_load_file(src, 0, &je);
  ck_assert_ptr_nonnull(pj);
  ck_assert_int_eq(json_object_del(json_object_get(pj, "retention_of_dsr_data"), "messages"), 0);
  ck_assert_int_eq(json_dump_file(pj, policy, JSON_INDENT(2)), 0);
  json_decref(pj);
  struct ef_platform pl;
  ef_generate(&pl, "sw_own", 60, false, NULL);
  ef_use(&pl);
  struct ef_dsrd d;
  ef_dsrd_open(&d, "dsr_sweep_own", policy, sweep_key);
  free(d.cfg.export_dir);
  d.cfg.export_dir = strdup(exports);
  d.cfg.outbox_retention_days = 20;
  d.cfg.export_retention_days = 10;
  const time_t day = 86400, t0 = time(NULL);
  char req[40], req2[40], sql[1200];
  dsr_strlcpy(req, ef_request(&d, "own@example.org", NULL), sizeof req);
  dsr_strlcpy(req2, ef_request(&d, "own2@example.org", NULL), sizeof req2);
  /* a part each to hang a package on (no discovery ran) */
  snprintf(sql, sizeof sql, "INSERT INTO dsr_parts (request_id, owner_kind, state, approval, due_at,"
           " created_at, updated_at) VALUES ('%s', 'controller', 'done', 'staff', now(), now(), now()),"
           " ('%s', 'controller', 'done', 'staff', now(), now(), now())", req, req2);
  PQclear(h_sql(d.conninfo, sql));
  /* a package whose link expires in 7 days (its file on disk), and one destroyed at t0 */
  snprintf(sql, sizeof sql,
           "INSERT INTO dsr_exports (request_id, part_id, kind, state, file_name, key_sealed,"
           " token_hash, plain_bytes, row_count, file_count, max_downloads, created_at, expires_at,"
           " destroyed_at) SELECT p.request_id, p.id, 'access', CASE WHEN p.request_id = '%s' THEN"
           " 'ready' ELSE 'destroyed' END, p.id::text || '.zip.enc', CASE WHEN p.request_id = '%s'"
           " THEN '\\x0102'::bytea END, sha256(p.id::text::bytea), 10, 1, 0, 5, to_timestamp(%lld),"
           " to_timestamp(%lld), CASE WHEN p.request_id = '%s' THEN NULL ELSE to_timestamp(%lld) END"
           " FROM dsr_parts p WHERE p.request_id IN ('%s', '%s') AND p.customer_id IS NULL"
           " RETURNING state, file_name",
           req, req, (long long)t0, (long long)(t0 + 7 * day), req, (long long)t0, req, req2);
  PGresult *r = h_sql(d.conninfo, sql);
  ck_assert_int_eq(PQntuples(r), 2);
  char pkg[700];
  for (int i = 0; i < 2; i++)
    if (!strcmp(PQgetvalue(r, i, 0), "ready"))
      snprintf(pkg, sizeof pkg, "%s/%s", exports, PQgetvalue(r, i, 1));
  PQclear(r);
  FILE *f = fopen(pkg, "w");
  ck_assert_ptr_nonnull(f);
  fputs("sealed package", f);
  fclose(f);
  /* messages: sent at t0, failed at t0, never sent since t0, and one sent at t0 + 15 days */
  snprintf(sql, sizeof sql,
           "INSERT INTO dsr_outbox (request_id, channel, template, status, body_sealed, created_at,"
           " sent_at) VALUES ('%s', 'email', 'code', 'sent', NULL, to_timestamp(%lld), to_timestamp(%lld)),"
           " ('%s', 'email', 'code', 'failed', '\\x01', to_timestamp(%lld), NULL),"
           " (NULL, 'sms', 'code', 'pending', '\\x01', to_timestamp(%lld), NULL),"
           " ('%s', 'email', 'link', 'sent', NULL, to_timestamp(%lld), to_timestamp(%lld))",
           req, (long long)t0, (long long)t0, req, (long long)t0, (long long)t0, req2,
           (long long)(t0 + 15 * day), (long long)(t0 + 15 * day));
  PQclear(h_sql(d.conninfo, sql));
  long msgs = ef_long(d.conninfo, "SELECT count(*) FROM dsr_outbox");

  /* day 6: nothing is due */
  json_t *own = own_sweep(&d, t0 + 6 * day);
  ck_assert_int_eq(own_count(own, "expired_packages"), 0);
  ck_assert_int_eq(own_count(own, "exports"), 0);
  ck_assert_int_eq(own_count(own, "messages"), 0);
  json_decref(own);
  ck_assert(access(pkg, F_OK) == 0);
  ck_assert_int_eq(ef_long(d.conninfo, "SELECT count(*) FROM dsr_exports"), 2);
  ck_assert_int_eq(ef_long(d.conninfo, "SELECT count(*) FROM dsr_outbox"), msgs);
  /* day 8: the expired package is destroyed (file, key, event); its record stays */
  own = own_sweep(&d, t0 + 8 * day);
  ck_assert_int_eq(own_count(own, "expired_packages"), 1);
  ck_assert_int_eq(own_count(own, "exports"), 0);
  json_decref(own);
  ck_assert(access(pkg, F_OK) != 0);
  ck_assert_int_eq(ef_long(d.conninfo, "SELECT count(*) FROM dsr_exports WHERE state = 'destroyed'"
                                       " AND key_sealed IS NULL"), 2);
  ck_assert_int_eq(ef_long(d.conninfo, "SELECT count(*) FROM dsr_events WHERE kind ="
                                       " 'export.destroyed'"), 1);
  /* day 9 and 11: the record destroyed at t0 stays until export_retention_days (10) */
  own = own_sweep(&d, t0 + 9 * day);
  ck_assert_int_eq(own_count(own, "exports"), 0);
  json_decref(own);
  own = own_sweep(&d, t0 + 11 * day);
  ck_assert_int_eq(own_count(own, "exports"), 1);
  json_decref(own);
  ck_assert_int_eq(ef_long(d.conninfo, "SELECT count(*) FROM dsr_exports WHERE request_id = '%s'",
                           req2), 0);
  ck_assert_int_eq(ef_long(d.conninfo, "SELECT count(*) FROM dsr_exports WHERE request_id = '%s'",
                           req), 1);
  /* day 19: messages stay until outbox_retention_days (20); the package destroyed on day 8
   * has been a record for 11 days */
  own = own_sweep(&d, t0 + 19 * day);
  ck_assert_int_eq(own_count(own, "messages"), 0);
  ck_assert_int_eq(own_count(own, "exports"), 1);
  json_decref(own);
  ck_assert_int_eq(ef_long(d.conninfo, "SELECT count(*) FROM dsr_exports"), 0);
  ck_assert_int_eq(ef_long(d.conninfo, "SELECT count(*) FROM dsr_outbox"), msgs);
  /* day 21: the three messages of t0 go, whatever their state; the one sent on day 15 stays */
  own = own_sweep(&d, t0 + 21 * day);
  ck_assert_int_eq(own_count(own, "messages"), 3);
  json_decref(own);
  ck_assert_int_eq(ef_long(d.conninfo, "SELECT count(*) FROM dsr_outbox"), msgs - 3);
  ck_assert_int_eq(ef_long(d.conninfo, "SELECT count(*) FROM dsr_outbox WHERE sent_at ="
                                       " to_timestamp(%lld)", (long long)(t0 + 15 * day)), 1);
  /* and the audit trail of all that stays */
  ck_assert_int_gt(ef_long(d.conninfo, "SELECT count(*) FROM dsr_audit_entries"), 0);
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
  tcase_add_test(tc, sweep_killed_at_its_batches_resumes_to_the_same_state);
  tcase_add_test(tc, scheduled_sweeps_one_at_a_time_and_dsrd_data);
  tcase_add_test(tc, own_retention_of_messages_and_exports);
  suite_add_tcase(s, tc);
  return s;
}

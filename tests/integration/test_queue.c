/**
 * @file test_queue.c
 * @brief The job queue against real PostgreSQL: transactional enqueue,
 *        leases and takeover after a crash, back-off and dead jobs, dedupe,
 *        NOTIFY, and two workers never running the same job. Time is passed
 *        in explicitly; nothing sleeps.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <stdatomic.h>
#include <string.h>
#include "suites.h"
#include "dsr/crypto.h"
#include "dsr/queue.h"
#include "dsr/requests.h"
#include "verify_util.h"

#define T0 ((time_t)2000000000) /* a fixed "now" far from the real clock */

static struct dsr_db *open_db(void)
{
  char err[256];
  PGconn *c = dsr_db_connect(it_pg.conninfo, err, sizeof err);
  ck_assert_msg(c != NULL, "%s", err);
  struct dsr_db *db = dsr_db_wrap(c);
  ck_assert_ptr_nonnull(db);
  return db;
}

static void close_db(struct dsr_db *db)
{
  PGconn *c = db->conn;
  dsr_db_unwrap(db);
  PQfinish(c);
}

static void exec_ok(struct dsr_db *db, const char *sql)
{
  PGresult *r = PQexec(db->conn, sql);
  ck_assert_msg(PQresultStatus(r) == PGRES_COMMAND_OK, "%s: %s", sql, PQresultErrorMessage(r));
  PQclear(r);
}

/** Enqueues one job of @p kind in its own transaction; returns whether it was new. */
static bool put(struct dsr_db *db, const char *kind, int n, const char *dedupe, time_t now)
{
  exec_ok(db, "BEGIN");
  json_t *p = json_pack("{s:i}", "n", n);
  struct dsr_job_opts o = {.dedupe_key = dedupe, .max_attempts = 3};
  bool enq = false, retry = false;
  ck_assert(dsr_queue_enqueue(db, kind, p, &o, now, &enq, &retry));
  json_decref(p);
  exec_ok(db, "COMMIT");
  return enq;
}

static enum dsr_job_result ok_handler(struct dsr_db *db, const struct dsr_job *job, void *ctx,
                                      char *err, size_t errlen)
{
  return DSR_JOB_DONE;
}

static long count_kind(const char *kind, const char *state)
{
  char sql[200];
  snprintf(sql, sizeof sql, "SELECT count(*) FROM dsr_jobs WHERE kind = '%s' AND state = '%s'",
           kind, state);
  return h_sql_long(it_pg.conninfo, sql);
}

START_TEST(enqueue_is_transactional_and_claim_runs_once)
{
  const struct dsr_job_kind reg[] = {{"t_basic", ok_handler, 30, NULL}, {NULL, NULL, 0, NULL}};
  struct dsr_db *db = open_db();
  exec_ok(db, "BEGIN");
  bool enq, retry;
  ck_assert(dsr_queue_enqueue(db, "t_basic", NULL, NULL, T0, &enq, &retry));
  ck_assert(enq);
  exec_ok(db, "ROLLBACK");
  ck_assert_int_eq(count_kind("t_basic", "queued"), 0);
  ck_assert(put(db, "t_basic", 7, NULL, T0));
  struct dsr_job *jobs;
  size_t n;
  ck_assert(dsr_queue_claim(db, reg, "w1", T0 - 1, 10, &jobs, &n));
  ck_assert_uint_eq(n, 0); /* not yet due */
  dsr_queue_jobs_free(jobs, n);
  ck_assert(dsr_queue_claim(db, reg, "w1", T0, 10, &jobs, &n));
  ck_assert_uint_eq(n, 1);
  ck_assert_str_eq(jobs[0].kind, "t_basic");
  ck_assert_int_eq(json_integer_value(json_object_get(jobs[0].payload, "n")), 7);
  ck_assert_int_eq(jobs[0].attempts, 1);
  ck_assert(!dsr_queue_done(db, &jobs[0], "someone-else"));
  ck_assert(dsr_queue_done(db, &jobs[0], "w1"));
  dsr_queue_jobs_free(jobs, n);
  ck_assert_int_eq(count_kind("t_basic", "queued") + count_kind("t_basic", "running"), 0);
  close_db(db);
}
END_TEST

START_TEST(crashed_worker_lease_is_taken_over)
{
  const struct dsr_job_kind reg[] = {{"t_lease", ok_handler, 60, NULL}, {NULL, NULL, 0, NULL}};
  struct dsr_db *a = open_db(), *b = open_db();
  ck_assert(put(a, "t_lease", 1, NULL, T0));
  struct dsr_job *ja, *jb;
  size_t na, nb;
  ck_assert(dsr_queue_claim(a, reg, "worker-a", T0, 5, &ja, &na));
  ck_assert_uint_eq(na, 1);
  /* worker-a "crashes": it never completes. Inside the lease nobody else gets the job. */
  ck_assert(dsr_queue_claim(b, reg, "worker-b", T0 + 59, 5, &jb, &nb));
  ck_assert_uint_eq(nb, 0);
  dsr_queue_jobs_free(jb, nb);
  ck_assert(dsr_queue_claim(b, reg, "worker-b", T0 + 61, 5, &jb, &nb));
  ck_assert_uint_eq(nb, 1);
  ck_assert(jb[0].id == ja[0].id);
  ck_assert_int_eq(jb[0].attempts, 2);
  /* The crashed worker coming back cannot complete or fail a job it no longer holds. */
  bool dead;
  ck_assert(!dsr_queue_done(a, &ja[0], "worker-a"));
  ck_assert(!dsr_queue_failed(a, &ja[0], "worker-a", "late", false, T0 + 62, &dead));
  ck_assert(dsr_queue_done(b, &jb[0], "worker-b"));
  dsr_queue_jobs_free(ja, na);
  dsr_queue_jobs_free(jb, nb);
  close_db(a);
  close_db(b);
}
END_TEST

START_TEST(lease_expiry_with_no_attempts_left_is_dead)
{
  const struct dsr_job_kind reg[] = {{"t_lease_dead", ok_handler, 10, NULL}, {NULL, NULL, 0, NULL}};
  struct dsr_db *db = open_db();
  ck_assert(put(db, "t_lease_dead", 1, NULL, T0)); /* max_attempts 3 */
  for (int i = 0; i < 3; i++) {
    struct dsr_job *j;
    size_t n;
    ck_assert(dsr_queue_claim(db, reg, "crashy", T0 + i * 11, 5, &j, &n));
    ck_assert_uint_eq(n, 1);
    dsr_queue_jobs_free(j, n);
  }
  struct dsr_job *j;
  size_t n;
  ck_assert(dsr_queue_claim(db, reg, "crashy", T0 + 100, 5, &j, &n));
  ck_assert_uint_eq(n, 0);
  ck_assert_int_eq(count_kind("t_lease_dead", "dead"), 1);
  close_db(db);
}
END_TEST

/** Seconds from @p now until the t_retry job may run again. */
static long retry_wait(time_t now)
{
  char sql[200];
  snprintf(sql, sizeof sql,
           "SELECT extract(epoch FROM run_at)::bigint - %lld FROM dsr_jobs WHERE kind = 't_retry'",
           (long long)now);
  return h_sql_long(it_pg.conninfo, sql);
}

static enum dsr_job_result failing_handler(struct dsr_db *db, const struct dsr_job *job,
                                           void *ctx, char *err, size_t errlen)
{
  snprintf(err, errlen, "transport down (try %d)", job->attempts);
  return DSR_JOB_RETRY;
}

START_TEST(retries_back_off_then_die)
{
  const struct dsr_job_kind reg[] = {{"t_retry", failing_handler, 30, NULL}, {NULL, NULL, 0, NULL}};
  struct dsr_db *db = open_db();
  ck_assert(put(db, "t_retry", 1, NULL, T0));
  time_t now = T0;
  ck_assert_int_eq(dsr_queue_run_batch(db, reg, "w", now, 5, NULL), 1);
  ck_assert_int_eq(count_kind("t_retry", "queued"), 1);
  /* first retry after 5..10 s */
  long wait = retry_wait(now);
  ck_assert_int_ge(wait, 5);
  ck_assert_int_le(wait, 10);
  ck_assert_int_eq(dsr_queue_run_batch(db, reg, "w", now + 4, 5, NULL), 0);
  now += wait;
  ck_assert_int_eq(dsr_queue_run_batch(db, reg, "w", now, 5, NULL), 1);
  wait = retry_wait(now);
  ck_assert_int_ge(wait, 10); /* second retry after 10..20 s */
  ck_assert_int_le(wait, 20);
  now += wait;
  ck_assert_int_eq(dsr_queue_run_batch(db, reg, "w", now, 5, NULL), 1);
  ck_assert_int_eq(count_kind("t_retry", "dead"), 1);
  ck_assert_int_eq(dsr_queue_run_batch(db, reg, "w", now + 100000, 5, NULL), 0);
  PGresult *r = h_sql(it_pg.conninfo, "SELECT last_error, attempts FROM dsr_jobs WHERE kind = 't_retry'");
  ck_assert_str_eq(PQgetvalue(r, 0, 0), "transport down (try 3)");
  ck_assert_str_eq(PQgetvalue(r, 0, 1), "3");
  PQclear(r);
  long id = h_sql_long(it_pg.conninfo, "SELECT id FROM dsr_jobs WHERE kind = 't_retry'");
  long n = -1;
  ck_assert(dsr_queue_requeue_dead(db, id, NULL, "test", now, &n));
  ck_assert_int_eq(n, 1);
  ck_assert_int_eq(count_kind("t_retry", "queued"), 1);
  ck_assert(dsr_queue_requeue_dead(db, id, NULL, "test", now, &n));
  ck_assert_int_eq(n, 0); /* no longer dead */
  close_db(db);
}
END_TEST

START_TEST(backoff_grows_with_jitter_and_a_cap)
{
  for (int a = 1; a <= 30; a++) {
    long lo = dsr_queue_backoff(a, 0), hi = dsr_queue_backoff(a, UINT32_MAX);
    long full = a <= 20 ? (long)DSR_QUEUE_BACKOFF_BASE_S << (a - 1) : DSR_QUEUE_BACKOFF_CAP_S;
    if (full > DSR_QUEUE_BACKOFF_CAP_S)
      full = DSR_QUEUE_BACKOFF_CAP_S;
    ck_assert_int_eq(lo, full / 2);
    ck_assert_int_le(hi, full);
    ck_assert_int_ge(hi, lo);
  }
  ck_assert_int_eq(dsr_queue_backoff(40, 12345) <= DSR_QUEUE_BACKOFF_CAP_S, 1);
  /* jitter really varies */
  ck_assert_int_ne(dsr_queue_backoff(5, 1), dsr_queue_backoff(5, 77));
}
END_TEST

START_TEST(dedupe_key_allows_one_live_job)
{
  const struct dsr_job_kind reg[] = {{"t_dedupe", ok_handler, 30, NULL}, {NULL, NULL, 0, NULL}};
  struct dsr_db *db = open_db();
  ck_assert(put(db, "t_dedupe", 1, "expire:abc", T0));
  ck_assert(!put(db, "t_dedupe", 2, "expire:abc", T0));
  ck_assert(put(db, "t_dedupe", 3, "expire:other", T0));
  ck_assert_int_eq(count_kind("t_dedupe", "queued"), 2);
  ck_assert_int_eq(dsr_queue_run_batch(db, reg, "w", T0, 10, NULL), 2);
  ck_assert(put(db, "t_dedupe", 4, "expire:abc", T0)); /* finished: the key is free again */
  close_db(db);
}
END_TEST

START_TEST(notify_wakes_listener_only_after_commit)
{
  struct dsr_db *l = open_db(), *p = open_db();
  ck_assert(dsr_queue_listen(l));
  exec_ok(p, "BEGIN");
  bool enq, retry;
  ck_assert(dsr_queue_enqueue(p, "t_notify", NULL, NULL, T0, &enq, &retry));
  ck_assert(!dsr_queue_wait(l, -1, 200)); /* uncommitted: nothing delivered */
  exec_ok(p, "COMMIT");
  ck_assert(dsr_queue_wait(l, -1, 10000));
  close_db(l);
  close_db(p);
}
END_TEST

static atomic_int long_runs, short_runs;

/* A job that takes longer than a batch's time budget (its own duration, not a wait for a race). */
static enum dsr_job_result long_handler(struct dsr_db *db, const struct dsr_job *job, void *ctx,
                                        char *err, size_t errlen)
{
  atomic_fetch_add(&long_runs, 1);
  struct timespec ts = {0, (DSR_QUEUE_BATCH_BUDGET_MS + 50) * 1000000L};
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
    ;
  return DSR_JOB_DONE;
}

static enum dsr_job_result short_handler(struct dsr_db *db, const struct dsr_job *job, void *ctx,
                                         char *err, size_t errlen)
{
  atomic_fetch_add(&short_runs, 1);
  return DSR_JOB_DONE;
}

START_TEST(long_job_gives_back_the_rest_of_its_batch)
{
  const struct dsr_job_kind reg[] = {
      {"t_long", long_handler, 60, NULL}, {"t_short", short_handler, 60, NULL}, {NULL, NULL, 0, NULL}};
  struct dsr_db *db = open_db(), *l = open_db();
  ck_assert(put(db, "t_long", 0, NULL, T0 - 10)); /* first in run_at order */
  for (int i = 1; i <= 4; i++)
    ck_assert(put(db, "t_short", i, NULL, T0));
  ck_assert(dsr_queue_listen(l)); /* after the enqueues: only the release can wake it */
  ck_assert_int_eq(dsr_queue_run_batch(db, reg, "w", T0, 5, NULL), 5); /* claimed */
  ck_assert_int_eq(atomic_load(&long_runs), 1);
  ck_assert_int_eq(atomic_load(&short_runs), 0);
  /* the four not started are queued again, their attempt not counted, and workers woken */
  ck_assert_int_eq(h_sql_long(it_pg.conninfo, "SELECT count(*) FROM dsr_jobs WHERE kind = "
                                              "'t_short' AND state = 'queued' AND attempts = 0 "
                                              "AND lease_owner IS NULL"), 4);
  ck_assert_int_eq(h_sql_long(it_pg.conninfo, "SELECT count(*) FROM dsr_jobs WHERE kind = "
                                              "'t_long'"), 0);
  ck_assert(dsr_queue_wait(l, -1, 10000));
  ck_assert_int_eq(dsr_queue_run_batch(db, reg, "w2", T0, 5, NULL), 4);
  ck_assert_int_eq(atomic_load(&short_runs), 4);
  ck_assert_int_eq(h_sql_long(it_pg.conninfo, "SELECT count(*) FROM dsr_jobs WHERE kind IN "
                                              "('t_long', 't_short')"), 0);
  close_db(l);
  close_db(db);
}
END_TEST

#define RACE_JOBS 120
static atomic_int runs[RACE_JOBS];

static enum dsr_job_result count_handler(struct dsr_db *db, const struct dsr_job *job, void *ctx,
                                         char *err, size_t errlen)
{
  json_int_t n = json_integer_value(json_object_get(job->payload, "n"));
  if (n >= 0 && n < RACE_JOBS)
    atomic_fetch_add(&runs[n], 1);
  return DSR_JOB_DONE;
}

static const struct dsr_job_kind race_reg[] = {{"t_race", count_handler, 300, NULL}, {NULL, NULL, 0, NULL}};

static void *race_worker(void *arg)
{
  struct dsr_db *db = open_db();
  int idle = 0;
  while (idle < 3) {
    int n = dsr_queue_run_batch(db, race_reg, arg, T0, 7, NULL);
    idle = n == 0 ? idle + 1 : 0;
  }
  close_db(db);
  return NULL;
}

START_TEST(two_workers_never_run_the_same_job)
{
  struct dsr_db *db = open_db();
  for (int i = 0; i < RACE_JOBS; i++)
    ck_assert(put(db, "t_race", i, NULL, T0));
  pthread_t a, b;
  pthread_create(&a, NULL, race_worker, "race-a");
  pthread_create(&b, NULL, race_worker, "race-b");
  pthread_join(a, NULL);
  pthread_join(b, NULL);
  for (int i = 0; i < RACE_JOBS; i++)
    ck_assert_msg(atomic_load(&runs[i]) == 1, "job %d ran %d times", i, atomic_load(&runs[i]));
  ck_assert_int_eq(count_kind("t_race", "queued") + count_kind("t_race", "running"), 0);
  close_db(db);
}
END_TEST

/* Runs dsrctl against the shared database with its own key file; stdout lands in *out. */
static int jobs_ctl(const char *const *args, char **out)
{
  static char dir[256];
  if (!dir[0])
    h_tmpdir(dir, sizeof dir, "jobs-ctl");
  char url[600], key[400], path[320];
  snprintf(url, sizeof url, "--database-url=%s", it_pg.conninfo);
  snprintf(key, sizeof key, "--secret-key-file=%s/secret.key", dir);
  snprintf(path, sizeof path, "%s/out.txt", dir);
  const char *argv[16] = {"dsrctl", url, key, "jobs"};
  int n = 4;
  for (int i = 0; args[i] && n < 15; i++)
    argv[n++] = args[i];
  argv[n] = NULL;
  int rc = it_run(argv, path);
  *out = h_slurp(path, NULL);
  return rc;
}

static int count_lines(const char *text, const char *needle)
{
  int n = 0;
  for (const char *l = text; l && *l;) {
    const char *e = strchr(l, '\n');
    size_t len = e ? (size_t)(e - l) : strlen(l);
    char line[400];
    snprintf(line, sizeof line, "%.*s", (int)(len < sizeof line ? len : sizeof line - 1), l);
    n += strstr(line, needle) != NULL;
    l = e ? e + 1 : l + len;
  }
  return n;
}

/* dsrctl jobs list/requeue: dead jobs are shown, put back one by one or all, workers woken. */
START_TEST(dsrctl_lists_and_requeues_dead_jobs)
{
  struct dsr_db *db = open_db();
  time_t now = dsr_now();
  ck_assert(put(db, "t_ctl", 1, NULL, now));
  ck_assert(put(db, "t_ctl", 2, NULL, now));
  ck_assert(put(db, "t_ctl", 3, "t_ctl:k1", now));
  PQclear(h_sql(it_pg.conninfo, "UPDATE dsr_jobs SET state = 'dead', attempts = max_attempts,"
                                " last_error = 'smtp down' WHERE kind = 't_ctl'"));
  ck_assert(put(db, "t_ctl", 4, "t_ctl:k1", now)); /* the same work is live again */
  long first = h_sql_long(it_pg.conninfo,
                          "SELECT min(id) FROM dsr_jobs WHERE kind = 't_ctl' AND state = 'dead'");
  char *out = NULL;

  const char *dead[] = {"list", "--dead", "--kind", "t_ctl", NULL};
  ck_assert_int_eq(jobs_ctl(dead, &out), 0);
  ck_assert_int_eq(count_lines(out, "t_ctl"), 3);
  ck_assert_int_eq(count_lines(out, "dead"), 3);
  ck_assert_int_eq(count_lines(out, "smtp down"), 3);
  ck_assert_int_eq(count_lines(out, "3/3"), 3);
  free(out);
  const char *all[] = {"list", "--kind", "t_ctl", NULL};
  ck_assert_int_eq(jobs_ctl(all, &out), 0);
  ck_assert_int_eq(count_lines(out, "t_ctl"), 4);
  ck_assert_int_eq(count_lines(out, "queued"), 1);
  free(out);

  /* Bad arguments are usage errors, never a crash or a change. */
  const char *bad[][4] = {{"requeue", NULL}, {"requeue", "abc", NULL},
                          {"requeue", "-5", NULL}, {"requeue", "1", "--all-dead", NULL},
                          {"list", "--limit", "0", NULL}, {"explode", NULL}};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    ck_assert_int_eq(jobs_ctl(bad[i], &out), 2);
    free(out);
  }
  ck_assert_int_eq(count_kind("t_ctl", "dead"), 3);

  /* One job back: attempts reset, due now, a listening worker is woken by the commit. */
  PGconn *listener = PQconnectdb(it_pg.conninfo);
  ck_assert_int_eq(PQstatus(listener), CONNECTION_OK);
  PQclear(PQexec(listener, "LISTEN dsr_jobs"));
  char id[24];
  snprintf(id, sizeof id, "%ld", first);
  const char *one[] = {"requeue", id, NULL};
  ck_assert_int_eq(jobs_ctl(one, &out), 0);
  ck_assert_ptr_nonnull(strstr(out, "requeued 1 job"));
  free(out);
  /* delivered after dsrctl's commit, asynchronously: wait for it (bounded), do not sample */
  PGnotify *note = NULL;
  for (int tries = 0; !note && tries < 100; tries++) {
    struct pollfd pfd = {.fd = PQsocket(listener), .events = POLLIN};
    ck_assert_int_ge(poll(&pfd, 1, 100), 0);
    ck_assert(PQconsumeInput(listener));
    note = PQnotifies(listener);
  }
  ck_assert_ptr_nonnull(note);
  ck_assert_str_eq(note->extra, "t_ctl");
  PQfreemem(note);
  PQfinish(listener);
  char sql[300];
  snprintf(sql, sizeof sql,
           "SELECT count(*) FROM dsr_jobs WHERE id = %ld AND state = 'queued' AND attempts = 0",
           first);
  ck_assert_int_eq(h_sql_long(it_pg.conninfo, sql), 1);
  ck_assert_int_eq(jobs_ctl(one, &out), 1); /* no longer dead */
  free(out);

  /* All the rest of the kind, except the one whose work a live job already does. */
  const char *rest[] = {"requeue", "--all-dead", "--kind", "t_ctl", NULL};
  ck_assert_int_eq(jobs_ctl(rest, &out), 0);
  ck_assert_ptr_nonnull(strstr(out, "requeued 1 job"));
  free(out);
  ck_assert_int_eq(count_kind("t_ctl", "dead"), 1);
  ck_assert_int_eq(h_sql_long(it_pg.conninfo, "SELECT count(*) FROM dsr_jobs WHERE kind ="
                                              " 't_ctl' AND state = 'dead' AND dedupe_key ="
                                              " 't_ctl:k1'"), 1);
  ck_assert_int_eq(jobs_ctl(rest, &out), 0);
  ck_assert_ptr_nonnull(strstr(out, "requeued 0 jobs"));
  free(out);

  /* Audited: who, how many, which kinds; no payloads. */
  snprintf(sql, sizeof sql,
           "SELECT count(*) FROM dsr_events WHERE kind = 'jobs.requeued' AND actor ="
           " 'operator:dsrctl' AND (data->>'job_id')::bigint = %ld AND data->>'count' = '1'"
           " AND data->'kinds'->>'t_ctl' = '1' AND data->'n' IS NULL", first);
  ck_assert_int_eq(h_sql_long(it_pg.conninfo, sql), 1);
  ck_assert_int_eq(h_sql_long(it_pg.conninfo, "SELECT count(*) FROM dsr_events WHERE kind ="
                                              " 'jobs.requeued' AND data->'kinds' ? 't_ctl'"),
                   2);
  PQclear(h_sql(it_pg.conninfo, "DELETE FROM dsr_jobs WHERE kind = 't_ctl'"));
  close_db(db);
}
END_TEST

/*
 * dsrd --role worker: with its own database (no other dsrd claims its jobs) it
 * sends a new request's verification code through the job queue and the
 * outbox, and listens on no HTTP port.
 */
START_TEST(role_worker_runs_jobs_and_serves_no_http)
{
  char *ci = it_fresh_db("dsr_worker_role");
  char state[256], key[300], url[600], maildir[300];
  h_tmpdir(state, sizeof state, "worker-role");
  snprintf(key, sizeof key, "%s/secret.key", state);
  snprintf(maildir, sizeof maildir, "%s/maildir", state);
  char err[256];
  ck_assert_msg(dsr_crypto_init(key, err, sizeof err), "%s", err); /* the daemon's key, made here */
  snprintf(url, sizeof url, "--database-url=%s", ci);
  const char *args[] = {url, "--role=worker", "--workers=1", NULL};
  struct h_dsrd d;
  h_dsrd_spawn(&d, state, args);

  /* A request stored as the HTTP side would: its code waits in the outbox for a worker. */
  struct dsr_db *db = it_connect(ci);
  struct dsr_verify_env env = {.link_base = "http://127.0.0.1"};
  struct dsr_intake in = {.type = "access", .jurisdiction = "gdpr", .language = "en",
                          .email = "worker.role@example.org", .venv = &env};
  json_t *reply = NULL;
  unsigned status = 0;
  ck_assert_int_eq(dsr_request_create(db, &in, &reply, &status), DSR_OK);
  char id[40];
  snprintf(id, sizeof id, "%s", json_string_value(json_object_get(reply, "id")));
  json_decref(reply);
  it_disconnect(db);
  ck_assert_int_ge(h_sql_long(ci, "SELECT count(*) FROM dsr_jobs WHERE kind = 'send_message'"), 1);

  /* The worker-only daemon sends it (bounded wait for its delivery, no race to win). */
  char *mail = vu_wait_mail(maildir, "worker.role@example.org", id, 60);
  ck_assert_msg(mail != NULL, "no message from the worker; log: %s", d.log);
  free(mail);
  char sql[200];
  snprintf(sql, sizeof sql, "SELECT count(*) FROM dsr_outbox WHERE request_id = '%s' AND"
                            " sent_at IS NOT NULL AND body_sealed IS NULL", id);
  for (int i = 0; i < 100 && h_sql_long(ci, sql) != 1; i++) {
    struct timespec ts = {0, 50000000L}; /* the row is marked just after the file is written */
    nanosleep(&ts, NULL);
  }
  ck_assert_int_eq(h_sql_long(ci, sql), 1);

  /* ... and serves no HTTP: nothing listens on the port it was given. */
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  ck_assert_int_ge(fd, 0);
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)d.port),
                           .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  ck_assert_int_ne(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
  ck_assert_int_eq(errno, ECONNREFUSED);
  close(fd);
  ck_assert_int_eq(h_dsrd_stop(&d, SIGTERM), 0);
  char *log = h_slurp(d.log, NULL);
  ck_assert_ptr_null(strstr(log, "http.listening"));
  free(log);
  free(ci);
}
END_TEST

/* A transaction sent ahead (pipeline mode) commits whole or not at all, and leaves the
 * connection usable either way. */
START_TEST(a_transaction_sent_ahead_commits_whole_or_not_at_all)
{
  struct dsr_db *db = open_db();
  exec_ok(db, "DELETE FROM dsr_jobs WHERE kind LIKE 'pipe.%'");
  const char *ok_v[] = {"pipe.ok", "{}", "2000000000", "3", NULL, "2000000000"};
  const struct dsr_db_call ok[] = {{DSR_STMT_EX_APPLY_NO_WAIT, 0, NULL},
                                   {DSR_STMT_JOB_ENQUEUE, 6, ok_v}};
  ck_assert(dsr_db_send_tx(db, 2, ok));
  /* the answers are read later; meanwhile the rows are another session's business */
  ck_assert_int_eq(dsr_db_await_tx(db, 2, 1), DSR_TX_COMMIT);
  ck_assert_int_eq(PQpipelineStatus(db->conn), PQ_PIPELINE_OFF);
  ck_assert_int_eq(PQtransactionStatus(db->conn), PQTRANS_IDLE);
  ck_assert_int_eq(h_sql_long(it_pg.conninfo, "SELECT count(*) FROM dsr_jobs WHERE kind = "
                                              "'pipe.ok'"), 1);
  /* a row count other than the one wanted: reported (what ran committed) */
  ck_assert(dsr_db_send_tx(db, 2, ok));
  ck_assert_int_eq(dsr_db_await_tx(db, 2, 5), DSR_TX_ROLLBACK);
  ck_assert_int_eq(PQtransactionStatus(db->conn), PQTRANS_IDLE);
  /* a failing statement: the one before it is rolled back, the connection still works */
  const char *bad_v[] = {"pipe.bad", "{}", "2000000000", "3", NULL, "2000000000"};
  const char *get_v[] = {"not a uuid", "x"};
  const struct dsr_db_call bad[] = {{DSR_STMT_JOB_ENQUEUE, 6, bad_v},
                                    {DSR_STMT_EX_STEP_GET, 2, get_v}};
  ck_assert(dsr_db_send_tx(db, 2, bad));
  ck_assert_int_eq(dsr_db_await_tx(db, 2, -1), DSR_TX_ROLLBACK);
  ck_assert_int_eq(PQpipelineStatus(db->conn), PQ_PIPELINE_OFF);
  ck_assert_int_eq(PQtransactionStatus(db->conn), PQTRANS_IDLE);
  ck_assert_int_eq(h_sql_long(it_pg.conninfo, "SELECT count(*) FROM dsr_jobs WHERE kind = "
                                              "'pipe.bad'"), 0);
  PGresult *r = dsr_db_exec(db, DSR_STMT_JOB_ENQUEUE, 6, bad_v);
  ck_assert(dsr_db_ok(r) && PQntuples(r) == 1);
  PQclear(r);
  exec_ok(db, "DELETE FROM dsr_jobs WHERE kind LIKE 'pipe.%'");
  close_db(db);
}
END_TEST

Suite *suite_queue(void)
{
  Suite *s = suite_create("queue");
  TCase *tc = tcase_create("jobs");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, enqueue_is_transactional_and_claim_runs_once);
  tcase_add_test(tc, crashed_worker_lease_is_taken_over);
  tcase_add_test(tc, lease_expiry_with_no_attempts_left_is_dead);
  tcase_add_test(tc, retries_back_off_then_die);
  tcase_add_test(tc, backoff_grows_with_jitter_and_a_cap);
  tcase_add_test(tc, dedupe_key_allows_one_live_job);
  tcase_add_test(tc, notify_wakes_listener_only_after_commit);
  tcase_add_test(tc, two_workers_never_run_the_same_job);
  tcase_add_test(tc, long_job_gives_back_the_rest_of_its_batch);
  tcase_add_test(tc, dsrctl_lists_and_requeues_dead_jobs);
  tcase_add_test(tc, role_worker_runs_jobs_and_serves_no_http);
  tcase_add_test(tc, a_transaction_sent_ahead_commits_whole_or_not_at_all);
  suite_add_tcase(s, tc);
  return s;
}

/**
 * @file test_erasure_crash.c
 * @brief kill -9 of a real dsrd at random points of a large erasure (the
 *        generator's designated subject with thousands of calls: more than
 *        50,000 rows across collections), restarts, and the final platform
 *        equals that of an uninterrupted run of the same erasure on an
 *        identical platform (every table's checksum), with equal receipts.
 *        Waiting is by polling state with bounded timeouts; the dead
 *        worker's lease is run out by moving it, not by waiting for it.
 */
#include "erasure_fixture.h"
#include "dsr/admin.h"
#include "dsr/erasure.h"
#include "dsr/executor.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/wait.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define C_EMAIL "casey.crash@example.org"
#define C_PHONE "+15550100999"
#define C_ARGS                                                                          \
  "--subject-email " C_EMAIL " --subject-phone " C_PHONE " --subject-workspaces 4 "    \
  "--subject-calls 19000 --subject-account"
#define KILLS 3

static void pause_ms(long ms)
{
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

/* Polls @p sql on @p conninfo until it answers at least @p want, at most @p max_ms. */
static long wait_for(const char *conninfo, const char *sql, long want, long max_ms)
{
  long v = 0;
  for (long waited = 0; waited <= max_ms; waited += 50) {
    v = h_sql_long(conninfo, sql);
    if (v >= want)
      return v;
    pause_ms(50);
  }
  return v;
}

/* Waits (bounded) for a dsrd that kills itself at a failpoint; true when it died of SIGKILL. */
static bool died(struct h_dsrd *dd, long max_ms)
{
  for (long waited = 0; waited <= max_ms; waited += 50) {
    int st = 0;
    pid_t p = waitpid(dd->pid, &st, WNOHANG);
    if (p == dd->pid) {
      dd->pid = 0;
      return WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL;
    }
    pause_ms(50);
  }
  return false;
}

/* dsrd with one worker; waited for until it answers when @p ready, else only spawned: a run
 * meant to die at a failpoint can get there before its first health check. */
static void start(struct h_dsrd *dd, const char *state, const char *dsn, const char *policy,
                  bool ready)
{
  char url[600], pol[600];
  snprintf(url, sizeof url, "--database-url=%s", dsn);
  snprintf(pol, sizeof pol, "--policy-file=%s", policy);
  const char *args[] = {url, pol, "--workers=1", NULL};
  if (ready)
    h_dsrd_start(dd, state, args);
  else
    h_dsrd_spawn(dd, state, args);
}

/* Keys of the batch left in flight (the one pending batch of the run). */
static long pending_keys(const char *conninfo)
{
  return h_sql_long(conninfo, "SELECT coalesce(max(cardinality(pend_keys::text[])), 0)"
                              " FROM dsr_erasure_steps WHERE pend_xid IS NOT NULL");
}

/* Rows per collection and action of the request's receipts: "coll/action=rows/files;...". */
static char *receipt_figures(struct dsr_db *db, const char *request)
{
  json_t *rcs = dsr_erasure_receipts(db, request);
  struct dsr_buf b = {0};
  ck_assert(dsr_buf_puts(&b, ""));
  const char *k;
  json_t *rc;
  json_object_foreach(rcs, k, rc) {
    size_t i;
    json_t *e;
    json_array_foreach(json_object_get(rc, "collections"), i, e)
      ck_assert(dsr_buf_printf(&b, "%s/%s=%lld/%lld;",
                               json_string_value(json_object_get(e, "collection")),
                               json_string_value(json_object_get(e, "action")),
                               (long long)json_integer_value(json_object_get(e, "rows")),
                               (long long)json_integer_value(json_object_get(e, "files"))));
    ck_assert(dsr_buf_printf(&b, "files_removed=%lld;",
                             (long long)json_integer_value(json_object_get(rc, "files_removed"))));
  }
  json_decref(rcs);
  return dsr_buf_steal(&b);
}

/* Two identical platforms (@p name "_a" with media, "_b"), a state directory and one master
 * key written into it for both runs (pseudonyms of masked fields depend on it). */
struct twins {
  struct ef_platform a, b;
  char *sum_a0, *sum_b0; /* every table's checksum before */
  char policy[512], state[256];
  unsigned char key[32];
};

static void twins_open(struct twins *t, const char *name, long subjects, const char *args)
{
  char an[64], bn[64], keyfile[400];
  snprintf(an, sizeof an, "%s_a", name);
  snprintf(bn, sizeof bn, "%s_b", name);
  ef_generate(&t->a, an, subjects, true, args);
  ef_generate(&t->b, bn, subjects, false, args);
  t->sum_a0 = ef_checksums(t->a.conninfo);
  t->sum_b0 = ef_checksums(t->b.conninfo);
  ck_assert_str_eq(t->sum_a0, t->sum_b0); /* the same platform twice */
  snprintf(t->policy, sizeof t->policy, "%s/policies/callorbit.json", getenv("DSR_TOP_SRCDIR"));
  h_tmpdir(t->state, sizeof t->state, name);
  snprintf(keyfile, sizeof keyfile, "%s/secret.key", t->state);
  randombytes_buf(t->key, sizeof t->key);
  int fd = open(keyfile, O_WRONLY | O_CREAT | O_TRUNC, 0600);
  ck_assert(fd >= 0 && write(fd, t->key, sizeof t->key) == (ssize_t)sizeof t->key);
  close(fd);
}

static void twins_close(struct twins *t)
{
  free(t->sum_a0);
  free(t->sum_b0);
  ef_platform_free(&t->a);
  ef_platform_free(&t->b);
}

/* The largest page of a run's ledger (keys of one applied batch). */
static long largest_page(const char *conninfo)
{
  return h_sql_long(conninfo, "SELECT coalesce(max(cardinality(keys)), 0)"
                              " FROM dsr_erasure_ledger_keys");
}

/* The same erasure of @p email/@p phone, uninterrupted and in process, on the twin platform
 * (database @p dbname), in pages of @p batch_rows keys (0: the default) under target
 * @p page_ms (-1: the default): its receipts' figures and the platform's checksums into *fig
 * and *sum; the largest page it applied is returned. */
static long twin_run(struct twins *t, const char *dbname, const char *email, const char *phone,
                     long batch_rows, long page_ms, char **fig, char **sum)
{
  struct ef_dsrd d;
  ef_use(&t->b);
  ef_dsrd_open(&d, dbname, t->policy, t->key);
  if (batch_rows > 0)
    d.cfg.erasure_batch_rows = batch_rows;
  if (page_ms >= 0)
    d.cfg.erasure_page_ms = page_ms;
  char idb[40];
  dsr_strlcpy(idb, ef_request(&d, email, phone), sizeof idb);
  ef_run_jobs(&d);
  ef_approve(&d, idb);
  ef_run_jobs(&d);
  ck_assert_int_eq(h_sql_long(d.conninfo, "SELECT count(*) FROM dsr_parts WHERE state = 'done'"),
                   1);
  long largest = largest_page(d.conninfo);
  *fig = receipt_figures(d.db, idb);
  *sum = ef_checksums(t->b.conninfo);
  ef_dsrd_close(&d);
  return largest;
}

START_TEST(kill_9_at_random_points_resumes_to_the_same_state)
{
  unsigned seed = (unsigned)time(NULL);
  srand(seed);
  struct twins t;
  twins_open(&t, "crash", 300, C_ARGS);
  const char *policy = t.policy, *state = t.state;
  const unsigned char *key = t.key;

  /* --- the crashed run: a real dsrd, killed with SIGKILL, restarted ----------------- */
  ef_use(&t.a);
  struct ef_dsrd d;
  ef_dsrd_open(&d, "dsr_crash_a", policy, key);
  struct h_dsrd dd;
  start(&dd, state, d.conninfo, policy, true);
  char id[40];
  dsr_strlcpy(id, ef_request(&d, C_EMAIL, C_PHONE), sizeof id); /* the daemon discovers */
  char sql[512];
  snprintf(sql, sizeof sql, "SELECT count(*) FROM dsr_parts WHERE request_id = '%s'", id);
  ck_assert_msg(wait_for(d.conninfo, sql, 1, 60000) >= 1, "no parts; log: %s", dd.log);
  const char *progress = "SELECT coalesce(sum(rows + kept), 0) FROM dsr_erasure_steps";
  const char *done = "SELECT count(*) FROM dsr_parts WHERE state = 'done'";
  ck_assert_int_eq(h_dsrd_stop(&dd, SIGTERM), 0); /* discovery done; the erasure is next */
  ef_approve(&d, id);
  /* Two kills inside the commit protocol, at a random batch each: after the batch's outcome
   * is recorded but before the store commits, and after the store commits but before the
   * outcome is applied. Then kills from outside at random moments. */
  static const char *const points[] = {"pending", "committed"};
  char skip[16];
  long at[KILLS + 2];
  int kills = 0;
  for (int k = 0; k < 2; k++) {
    snprintf(skip, sizeof skip, "%d", 1 + rand() % 4);
    ck_assert(setenv("DSRD_FAILPOINT", points[k], 1) == 0 && setenv("DSRD_FAILPOINT_SKIP", skip, 1) == 0);
    PQclear(h_sql(d.conninfo, "UPDATE dsr_jobs SET lease_expires_at = now() - interval '1 second'"
                              " WHERE state = 'running'"));
    start(&dd, state, d.conninfo, policy, false);
    ck_assert_msg(died(&dd, 120000), "dsrd did not stop at failpoint %s; log: %s", points[k], dd.log);
    at[kills++] = h_sql_long(d.conninfo, progress);
    ck_assert_int_eq(h_sql_long(d.conninfo, "SELECT count(*) FROM dsr_erasure_steps WHERE "
                                            "pend_xid IS NOT NULL"), 1); /* caught in flight */
  }
  unsetenv("DSRD_FAILPOINT");
  unsetenv("DSRD_FAILPOINT_SKIP");
  PQclear(h_sql(d.conninfo, "UPDATE dsr_jobs SET lease_expires_at = now() - interval '1 second'"
                            " WHERE state = 'running'"));
  start(&dd, state, d.conninfo, policy, true);
  for (int k = 0; k < KILLS; k++) {
    long now = h_sql_long(d.conninfo, progress);
    long target = now + 500 + rand() % 9000;
    long v = wait_for(d.conninfo, progress, target, 120000);
    if (h_sql_long(d.conninfo, done) > 0)
      break; /* finished before this kill point */
    pause_ms(rand() % 40); /* anywhere inside a batch: query, store commit, bookkeeping */
    ck_assert_int_eq(h_dsrd_stop(&dd, SIGKILL), 128 + SIGKILL);
    at[kills++] = v;
    /* the dead worker's lease runs out (moved, not waited for) */
    PQclear(h_sql(d.conninfo, "UPDATE dsr_jobs SET lease_expires_at = now() - interval '1 second'"
                              " WHERE state = 'running'"));
    start(&dd, state, d.conninfo, policy, true);
  }
  ck_assert_msg(wait_for(d.conninfo, done, 1, 240000) == 1, "not finished; log: %s", dd.log);
  ck_assert_int_eq(h_dsrd_stop(&dd, SIGTERM), 0);
  ck_assert_int_ge(kills, 4);
  long rows = h_sql_long(d.conninfo, "SELECT sum(rows) FROM dsr_erasure_steps WHERE action <> "
                                     "'retain'");
  ck_assert_int_ge(rows, 50000);
  char *fig_a = receipt_figures(d.db, id);
  char *sum_a = ef_checksums(t.a.conninfo);
  long left_files = h_sql_long(d.conninfo, "SELECT count(*) FROM dsr_file_deletions WHERE state"
                                           " <> 'done'");
  ef_dsrd_close(&d);

  /* --- the same erasure, uninterrupted, on the twin platform ----------------------- */
  char *fig_b = NULL, *sum_b = NULL;
  (void)twin_run(&t, "dsr_crash_b", C_EMAIL, C_PHONE, 0, -1, &fig_b, &sum_b);

  fprintf(stderr, "crash test: seed %u, %ld rows erased, %d kills at", seed, rows, kills);
  for (int k = 0; k < kills; k++)
    fprintf(stderr, " %ld", at[k]);
  fprintf(stderr, " rows; checksums %s\n", strcmp(sum_a, sum_b) ? "DIFFER" : "equal");
  ck_assert_int_eq(left_files, 0);
  ef_assert_twins_agree(t.sum_a0, sum_a, sum_b, fig_a, fig_b);
  twins_close(&t);
}
END_TEST

#define G_EMAIL "gale.grown@example.org"
#define G_PHONE "+15550100998"
#define G_ARGS                                                                          \
  "--subject-email " G_EMAIL " --subject-phone " G_PHONE " --subject-workspaces 2 "    \
  "--subject-calls 700 --subject-account"

/* Pages that grow under a time target (erasure_page_ms), killed inside the commit protocol on a
 * grown page and resumed (where each step starts again at erasure_batch_rows), end in the state
 * of the same erasure run in fixed pages on a twin platform: every table, every receipt. */
START_TEST(grown_pages_killed_resume_to_the_state_of_fixed_pages)
{
  struct twins t;
  twins_open(&t, "grown", 200, G_ARGS);
  const char *policy = t.policy, *state = t.state;
  const unsigned char *key = t.key;

  /* --- grown pages (10 keys first, doubling: a minute's target is never reached), killed -- */
  ef_use(&t.a);
  struct ef_dsrd d;
  ef_dsrd_open(&d, "dsr_grown_a", policy, key);
  char id[40], sql[512];
  dsr_strlcpy(id, ef_request(&d, G_EMAIL, G_PHONE), sizeof id);
  ef_run_jobs(&d); /* discovery, in process */
  snprintf(sql, sizeof sql, "SELECT count(*) FROM dsr_parts WHERE request_id = '%s'", id);
  ck_assert_int_ge(h_sql_long(d.conninfo, sql), 1);
  ef_approve(&d, id);
  char url[600], pol[600];
  snprintf(url, sizeof url, "--database-url=%s", d.conninfo);
  snprintf(pol, sizeof pol, "--policy-file=%s", policy);
  const char *args[] = {url, pol, "--workers=1", "--erasure-batch-rows=10",
                        "--erasure-page-ms=60000", NULL};
  struct h_dsrd dd;
  /* the 18th batch of the run (the AI summaries of one tenant, 10, 20, 40, then 80 keys,
   * after 14 batches of small steps), then the 6th after the resume (on a grown page of the
   * summaries too); then while a page's rows are deleted and the last page's outcome is on
   * its way to dsrd's database (the 4th time, so on a step's 5th page at least) */
  static const char *const points[] = {"committed", "pending", "overlap"};
  static const char *const skips[] = {"17", "5", "3"};
  for (int k = 0; k < 3; k++) {
    ck_assert(setenv("DSRD_FAILPOINT", points[k], 1) == 0 &&
              setenv("DSRD_FAILPOINT_SKIP", skips[k], 1) == 0);
    PQclear(h_sql(d.conninfo, "UPDATE dsr_jobs SET lease_expires_at = now() - interval '1 second'"
                              " WHERE state = 'running'"));
    h_dsrd_spawn(&dd, state, args); /* it may stop at the failpoint before it answers */
    ck_assert_msg(died(&dd, 120000), "dsrd did not stop at %s; log: %s", points[k], dd.log);
    if (k == 2)
      continue; /* the last outcome: applied or still pending, either way */
    ck_assert_int_eq(h_sql_long(d.conninfo, "SELECT count(*) FROM dsr_erasure_steps WHERE "
                                            "pend_xid IS NOT NULL"), 1); /* caught in flight */
    ck_assert_int_gt(pending_keys(d.conninfo), 10); /* on a grown page */
  }
  unsetenv("DSRD_FAILPOINT");
  unsetenv("DSRD_FAILPOINT_SKIP");
  PQclear(h_sql(d.conninfo, "UPDATE dsr_jobs SET lease_expires_at = now() - interval '1 second'"
                            " WHERE state = 'running'"));
  h_dsrd_start(&dd, state, args);
  const char *done = "SELECT count(*) FROM dsr_parts WHERE state = 'done'";
  ck_assert_msg(wait_for(d.conninfo, done, 1, 240000) == 1, "not finished; log: %s", dd.log);
  ck_assert_int_eq(h_dsrd_stop(&dd, SIGTERM), 0);
  long grown = largest_page(d.conninfo);
  ck_assert_int_eq(grown, 10 * DSR_EXEC_PAGE_GROWTH); /* grown, up to the cap and no further */
  char *fig_a = receipt_figures(d.db, id);
  char *sum_a = ef_checksums(t.a.conninfo);
  ef_dsrd_close(&d);

  /* --- fixed pages of 10 keys, uninterrupted, on the twin ---------------------------- */
  char *fig_b = NULL, *sum_b = NULL;
  ck_assert_int_eq(twin_run(&t, "dsr_grown_b", G_EMAIL, G_PHONE, 10, 0, &fig_b, &sum_b), 10);

  ef_assert_twins_agree(t.sum_a0, sum_a, sum_b, fig_a, fig_b);
  twins_close(&t);
}
END_TEST

Suite *suite_erasure_crash(void)
{
  Suite *s = suite_create("erasure_crash");
  TCase *tc = tcase_create("erasure_crash");
  tcase_set_timeout(tc, 600);
  tcase_add_test(tc, kill_9_at_random_points_resumes_to_the_same_state);
  suite_add_tcase(s, tc);
  TCase *tg = tcase_create("grown_pages");
  tcase_set_timeout(tg, 600);
  tcase_add_test(tg, grown_pages_killed_resume_to_the_state_of_fixed_pages);
  suite_add_tcase(s, tg);
  return s;
}

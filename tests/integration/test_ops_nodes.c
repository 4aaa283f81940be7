/**
 * @file test_ops_nodes.c
 * @brief Several nodes on one external PostgreSQL (the harness's cluster,
 *        through database_url, not an embedded one): one dsrd with
 *        --role=http and two with --role=worker. Requests filed over HTTP
 *        are worked off by both workers, each job exactly once (every
 *        verification mail is written once, by one worker, into that
 *        worker's own maildir). An erasure is approved over HTTP; the worker
 *        that runs it is killed with SIGKILL mid-erasure; the other takes it
 *        over (the dead lease is run out by moving it, not by waiting) and
 *        finishes; the platform and the receipt equal those of the same
 *        erasure run uninterrupted on a twin platform; the HTTP node answers
 *        throughout. Waiting is by polling state with bounded timeouts.
 */
#include "erasure_fixture.h"
#include "ops_util.h"
#include "dsr/erasure.h"
#include "dsr/staff.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define N_EMAIL "nico.nodes@example.org"
#define N_PHONE "+15550100888"
#define N_ARGS                                                                          \
  "--subject-email " N_EMAIL " --subject-phone " N_PHONE " --subject-workspaces 3 "    \
  "--subject-calls 6000 --subject-account"
#define N_FILED 24

static void pause_ms(long ms)
{
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

/* Polls @p sql until it answers at least @p want, at most @p max_ms; returns the last answer. */
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

/* Waits (at most 60 s) until the worker node @p d has started its worker threads: jobs filed
 * before that all go to the node that started first. */
static void worker_started(const struct h_dsrd *d)
{
  for (long waited = 0; waited <= 60000; waited += 50) {
    /* the node's child opens its log after the fork: it may not be there yet */
    char *log = access(d->log, R_OK) == 0 ? h_slurp(d->log, NULL) : NULL;
    bool up = log && strstr(log, "event=worker.started");
    free(log);
    if (up)
      return;
    pause_ms(50);
  }
  ck_abort_msg("the worker node never started its workers (log: %s)", d->log);
}

/* Counts, in @p state/maildir/new, the messages addressed to @p email (all when NULL). */
static int mails(const char *state, const char *email)
{
  char dir[400];
  snprintf(dir, sizeof dir, "%s/maildir/new", state);
  DIR *d = opendir(dir);
  if (!d)
    return 0;
  int n = 0;
  struct dirent *e;
  while ((e = readdir(d))) {
    if (e->d_name[0] == '.')
      continue;
    char path[700];
    snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
    char *text = h_slurp(path, NULL);
    char to[200];
    snprintf(to, sizeof to, "\nTo: %s\r\n", email ? email : "");
    if (!email || strstr(text, to))
      n++;
    free(text);
  }
  closedir(d);
  return n;
}

static void node(struct h_dsrd *d, const char *role, const char *dsn, const char *policy,
                 const char *key, bool http)
{
  char r[32], url[600], pol[600], k[600];
  snprintf(r, sizeof r, "--role=%s", role);
  snprintf(url, sizeof url, "--database-url=%s", dsn);
  snprintf(pol, sizeof pol, "--policy-file=%s", policy);
  snprintf(k, sizeof k, "--secret-key-file=%s", key);
  const char *args[] = {r, url, pol, k, "--workers=2", "--erasure-batch-rows=100", NULL};
  if (http)
    h_dsrd_start(d, NULL, args);
  else
    h_dsrd_spawn(d, NULL, args);
}

/* "coll/action=rows/files;...;files_removed=N;" of the request's receipts. Caller frees. */
static char *figures(struct dsr_db *db, const char *request)
{
  json_t *rcs = dsr_erasure_receipts(db, request);
  struct dsr_buf b = {0};
  ck_assert(dsr_buf_puts(&b, ""));
  const char *k;
  json_t *rc;
  json_object_foreach(rcs, k, rc)
  {
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

/* A staff action over HTTP; returns the status. */
static long act(const struct h_dsrd *d, const char *token, const char *id, const char *body)
{
  char path[200], auth[200];
  snprintf(path, sizeof path, "/v1/admin/requests/%s/actions", id);
  snprintf(auth, sizeof auth, "Authorization: Bearer %s", token);
  const char *extra[] = {auth};
  return h_json_call(d, "POST", path, extra, 1, body, NULL);
}

/* The HTTP node still answers: ready, and takes a new request. */
static void http_answers(const struct h_dsrd *d, int i)
{
  struct h_resp r;
  h_http(d, "GET", "/readyz", NULL, NULL, &r);
  ck_assert_int_eq(r.status, 200);
  h_resp_free(&r);
  char body[200];
  snprintf(body, sizeof body,
           "{\"type\":\"erasure\",\"subject\":{\"email\":\"late%d.nodes@example.org\"}}", i);
  ck_assert_int_eq(h_json_call(d, "POST", "/v1/requests", NULL, 0, body, NULL), 202);
}

START_TEST(http_node_and_two_workers_share_the_queue_and_survive_a_kill)
{
  struct ef_platform a, b;
  ef_generate(&a, "nodes_a", 200, true, N_ARGS);
  ef_generate(&b, "nodes_b", 200, false, N_ARGS);
  char *sum_a0 = ef_checksums(a.conninfo), *sum_b0 = ef_checksums(b.conninfo);
  ck_assert_str_eq(sum_a0, sum_b0);
  char policy[512];
  snprintf(policy, sizeof policy, "%s/policies/callorbit.json", getenv("DSR_TOP_SRCDIR"));
  /* one master key for the nodes and the reference run (pseudonyms depend on it) */
  char keydir[256], keyfile[400];
  h_tmpdir(keydir, sizeof keydir, "nodes-key");
  snprintf(keyfile, sizeof keyfile, "%s/secret.key", keydir);
  unsigned char key[32];
  randombytes_buf(key, sizeof key);
  int fd = open(keyfile, O_WRONLY | O_CREAT | O_TRUNC, 0600);
  ck_assert(fd >= 0 && write(fd, key, sizeof key) == (ssize_t)sizeof key);
  close(fd);

  ef_use(&a); /* the nodes inherit the platform's DSN and media root */
  struct ef_dsrd d;
  ef_dsrd_open(&d, "dsr_nodes_a", policy, key);
  char *token = NULL, staff_id[40];
  ck_assert_int_eq(dsr_staff_token_create(d.db, "operator:test", "nodes-admin", DSR_ROLE_ADMIN,
                                          &token, staff_id),
                   DSR_OK);
  struct h_dsrd web, w[2];
  node(&web, "http", d.conninfo, policy, keyfile, true);
  node(&w[0], "worker", d.conninfo, policy, keyfile, false);
  node(&w[1], "worker", d.conninfo, policy, keyfile, false);
  worker_started(&w[0]);
  worker_started(&w[1]);

  /* --- requests through HTTP, worked off by both workers, each job once ------------- */
  for (int i = 0; i < N_FILED; i++) {
    char body[200];
    snprintf(body, sizeof body,
             "{\"type\":\"erasure\",\"subject\":{\"email\":\"n%02d.nodes@example.org\"}}", i);
    ck_assert_int_eq(h_json_call(&web, "POST", "/v1/requests", NULL, 0, body, NULL), 202);
  }
  const char *pending_mail = "SELECT count(*) FROM dsr_jobs WHERE kind = 'send_message'";
  for (long waited = 0; h_sql_long(d.conninfo, pending_mail) > 0 && waited < 60000; waited += 50)
    pause_ms(50);
  ck_assert_int_eq(h_sql_long(d.conninfo, pending_mail), 0);
  int by[2] = {mails(w[0].state_dir, NULL), mails(w[1].state_dir, NULL)};
  ck_assert_int_eq(mails(web.state_dir, NULL), 0); /* the HTTP node runs no jobs */
  ck_assert_int_eq(by[0] + by[1], N_FILED);
  for (int i = 0; i < N_FILED; i++) {
    char email[64];
    snprintf(email, sizeof email, "n%02d.nodes@example.org", i);
    ck_assert_int_eq(mails(w[0].state_dir, email) + mails(w[1].state_dir, email), 1);
  }
  ck_assert_msg(by[0] > 0 && by[1] > 0, "one worker ran every job: %d and %d", by[0], by[1]);

  /* --- an erasure over HTTP; its worker dies mid-way; the other finishes ----------- */
  json_t *j = NULL;
  ck_assert_int_eq(h_json_call(&web, "POST", "/v1/requests", NULL, 0,
                               "{\"type\":\"erasure\",\"jurisdiction\":\"gdpr\",\"subject\":"
                               "{\"email\":\"" N_EMAIL "\",\"phone\":\"" N_PHONE "\"}}",
                               &j),
                   202);
  char id[40];
  dsr_strlcpy(id, json_string_value(json_object_get(j, "id")), sizeof id);
  json_decref(j);
  ck_assert_int_eq(act(&web, token, id, "{\"action\":\"verify\",\"note\":\"called back\"}"), 200);
  char sql[300];
  snprintf(sql, sizeof sql,
           "SELECT count(*) FROM dsr_parts WHERE request_id = '%s'", id);
  ck_assert_msg(wait_for(d.conninfo, sql, 1, 60000) >= 1, "discovery made no part");
  ck_assert_int_eq(act(&web, token, id, "{\"action\":\"approve\"}"), 200);
  const char *progress = "SELECT coalesce(sum(rows + kept), 0) FROM dsr_erasure_steps";
  const char *done = "SELECT count(*) FROM dsr_parts WHERE state = 'done'";
  long at = wait_for(d.conninfo, progress, 1500, 120000);
  ck_assert_msg(h_sql_long(d.conninfo, done) == 0, "the erasure ended before the kill (%ld rows)",
                at);
  PGresult *own = h_sql(d.conninfo, "SELECT lease_owner FROM dsr_jobs WHERE kind = 'erasure' AND"
                                    " state = 'running'");
  ck_assert_int_eq(PQntuples(own), 1);
  long pid = 0;
  ck_assert(sscanf(strchr(PQgetvalue(own, 0, 0), ':') + 1, "%ld", &pid) == 1);
  PQclear(own);
  int victim = pid == (long)w[0].pid ? 0 : pid == (long)w[1].pid ? 1 : -1;
  ck_assert_msg(victim >= 0, "the erasure runs on neither worker (pid %ld)", pid);
  ck_assert_int_eq(h_dsrd_stop(&w[victim], SIGKILL), 128 + SIGKILL);
  long killed_at = h_sql_long(d.conninfo, progress);
  http_answers(&web, 1);
  /* the dead worker's lease runs out (moved, not waited for); the survivor is woken */
  PQclear(h_sql(d.conninfo, "UPDATE dsr_jobs SET lease_expires_at = now() - interval '1 second'"
                            " WHERE state = 'running' AND kind = 'erasure'"));
  PQclear(h_sql(d.conninfo, "SELECT pg_notify('dsr_jobs', 'erasure')"));
  ck_assert_msg(wait_for(d.conninfo, done, 1, 240000) == 1, "not finished; log: %s",
                w[1 - victim].log);
  http_answers(&web, 2);
  ck_assert_int_eq(h_dsrd_stop(&w[1 - victim], SIGTERM), 0);
  ck_assert_int_eq(h_dsrd_stop(&web, SIGTERM), 0);
  char *fig_a = figures(d.db, id);
  char *sum_a = ef_checksums(a.conninfo);
  long rows = h_sql_long(d.conninfo, "SELECT sum(rows) FROM dsr_erasure_steps WHERE action <> "
                                     "'retain'");
  ef_dsrd_close(&d);

  /* --- the same erasure, uninterrupted, on the twin platform ------------------------ */
  ef_use(&b);
  ef_dsrd_open(&d, "dsr_nodes_b", policy, key);
  char idb[40];
  dsr_strlcpy(idb, ef_request(&d, N_EMAIL, N_PHONE), sizeof idb);
  ef_run_jobs(&d);
  ef_approve(&d, idb);
  ef_run_jobs(&d);
  ck_assert_int_eq(h_sql_long(d.conninfo, done), 1);
  char *fig_b = figures(d.db, idb);
  char *sum_b = ef_checksums(b.conninfo);
  ef_dsrd_close(&d);

  fprintf(stderr, "nodes: %d + %d verification mails by the two workers; erasure of %ld rows, "
                  "worker %d killed at %ld; checksums %s, receipts %s\n",
          by[0], by[1], rows, victim, killed_at, strcmp(sum_a, sum_b) ? "DIFFER" : "equal",
          strcmp(fig_a, fig_b) ? "DIFFER" : "equal");
  ck_assert_int_gt(killed_at, 0);
  ck_assert_int_lt(killed_at, rows);
  ef_assert_twins_agree(sum_a0, sum_a, sum_b, fig_a, fig_b);
  free(sum_a0);
  free(sum_b0);
  free(token);
  ef_platform_free(&a);
  ef_platform_free(&b);
}
END_TEST

Suite *suite_ops_nodes(void)
{
  Suite *s = suite_create("ops_nodes");
  TCase *tc = tcase_create("ops_nodes");
  tcase_set_timeout(tc, 600);
  tcase_add_test(tc, http_node_and_two_workers_share_the_queue_and_survive_a_kill);
  suite_add_tcase(s, tc);
  return s;
}

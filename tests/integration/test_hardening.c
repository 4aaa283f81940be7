/**
 * @file test_hardening.c
 * @brief Findings of the outside security review (issue 17), each reproduced
 *        against a real dsrd on loopback: connection floods and slow senders
 *        (H1), smuggling shapes of strict HTTP parsing (L4).
 */
#include "config.h"
#include "suites.h"
#include "dsr/crypto.h"
#include "dsr/db.h"
#include "dsr/staff.h"
#include "dsr/ui_auth.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double now_ms(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

/* A TCP connection to @p d from loopback address @p from ("127.0.0.N"); nonblocking when asked. */
static int connect_from(const struct h_dsrd *d, const char *from, bool nonblock)
{
  int s = socket(AF_INET, SOCK_STREAM | (nonblock ? SOCK_NONBLOCK : 0), 0);
  H_REQUIRE(s >= 0, "socket: %s", strerror(errno));
  struct sockaddr_in src = {.sin_family = AF_INET};
  inet_pton(AF_INET, from, &src.sin_addr);
  H_REQUIRE(bind(s, (struct sockaddr *)&src, sizeof src) == 0, "bind %s: %s", from,
            strerror(errno));
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)d->port),
                          .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  int rc = connect(s, (struct sockaddr *)&a, sizeof a);
  H_REQUIRE(rc == 0 || (nonblock && errno == EINPROGRESS), "connect: %s", strerror(errno));
  return s;
}

/* Sends all of @p text on blocking socket @p s. */
static void send_all(int s, const char *text, size_t len)
{
  size_t sent = 0;
  while (sent < len) {
    ssize_t w = send(s, text + sent, len - sent, MSG_NOSIGNAL);
    H_REQUIRE(w > 0, "send: %s", strerror(errno));
    sent += (size_t)w;
  }
}

/*
 * Reads an answer from @p s until the server closes or @p deadline_ms (monotonic)
 * passes; returns the status (0: none) and copies up to outlen bytes.
 */
static long read_answer(int s, double deadline_ms, char *out, size_t outlen)
{
  size_t got = 0;
  out[0] = '\0';
  for (;;) {
    double left = deadline_ms - now_ms();
    if (left <= 0)
      break;
    struct pollfd p = {.fd = s, .events = POLLIN};
    if (poll(&p, 1, (int)left + 1) <= 0)
      break;
    ssize_t n = recv(s, out + got, outlen - 1 - got, 0);
    if (n <= 0)
      break;
    got += (size_t)n;
    out[got] = '\0';
    if (got == outlen - 1 || (strstr(out, "\r\n\r\n") && strstr(out, "Content-Length: 0")))
      break;
  }
  long status = 0;
  sscanf(out, "HTTP/1.%*d %ld", &status);
  return status;
}

static void start_with(struct h_dsrd *d, const char *const *more)
{
  char url[512];
  snprintf(url, sizeof url, "--database-url=%s", it_pg.conninfo);
  const char *args[16] = {url, "--workers=0"};
  size_t n = 2;
  for (; more && *more && n < 15; more++)
    args[n++] = *more;
  args[n] = NULL;
  h_dsrd_start(d, NULL, args);
}

#define FLOOD 2000

/*
 * H1: 2,000 connections from one address, each holding a half-sent request,
 * while /healthz from another address answers within a second. Before the
 * limits, libmicrohttpd's default of 1,020 connections was reached and every
 * new connection waited in the listen queue.
 */
START_TEST(idle_flood_from_one_address_leaves_healthz_answering)
{
  struct rlimit rl;
  getrlimit(RLIMIT_NOFILE, &rl);
  if (rl.rlim_cur < FLOOD + 256) {
    rl.rlim_cur = rl.rlim_max < FLOOD + 256 ? rl.rlim_max : FLOOD + 256;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
  H_REQUIRE(rl.rlim_cur >= FLOOD + 64, "open-file limit %lu too low for the test",
            (unsigned long)rl.rlim_cur);
  struct h_dsrd d;
  const char *more[] = {"--max-connections-per-address=32", "--request-header-timeout=30",
                        "--request-timeout=60", NULL};
  start_with(&d, more);
  static int fds[FLOOD];
  static const char partial[] = "GET /healthz HTTP/1.1\r\nHost: a\r\n";
  int established = 0;
  for (int i = 0; i < FLOOD; i++)
    fds[i] = connect_from(&d, "127.0.0.1", true);
  /* Wait (bounded) for the connects, then send the half request on each. */
  double until = now_ms() + 10000;
  for (int i = 0; i < FLOOD; i++) {
    struct pollfd p = {.fd = fds[i], .events = POLLOUT};
    double left = until - now_ms();
    if (poll(&p, 1, left > 0 ? (int)left : 0) == 1 && (p.revents & POLLOUT)) {
      int soerr = 0;
      socklen_t sl = sizeof soerr;
      getsockopt(fds[i], SOL_SOCKET, SO_ERROR, &soerr, &sl);
      if (soerr == 0) {
        established++;
        (void)send(fds[i], partial, sizeof partial - 1, MSG_NOSIGNAL);
      }
    }
  }
  ck_assert_int_ge(established, 1000);
  /* Another address: a whole request, answered within one second. */
  double worst = 0;
  for (int round = 0; round < 3; round++) {
    double t0 = now_ms();
    int s = connect_from(&d, "127.0.0.2", true);
    struct pollfd p = {.fd = s, .events = POLLOUT};
    ck_assert_int_eq(poll(&p, 1, 1000), 1);
    int fl = fcntl(s, F_GETFL);
    fcntl(s, F_SETFL, fl & ~O_NONBLOCK);
    static const char req[] = "GET /healthz HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n";
    send_all(s, req, sizeof req - 1);
    char buf[2048];
    long st = read_answer(s, t0 + 1000, buf, sizeof buf);
    double ms = now_ms() - t0;
    close(s);
    ck_assert_msg(st == 200, "healthz answered %ld under %d held connections", st, established);
    ck_assert_msg(ms < 1000, "healthz took %.0f ms", ms);
    worst = ms > worst ? ms : worst;
  }
  fprintf(stderr, "hardening: /healthz answered within %.1f ms under %d held connections\n",
          worst, established);
  for (int i = 0; i < FLOOD; i++)
    close(fds[i]);
  ck_assert_int_eq(h_dsrd_stop(&d, SIGTERM), 0);
}
END_TEST

/*
 * Sends @p head, then one byte of @p drip every 250 ms; returns the milliseconds
 * until the server closed the connection, or -1 if it still had not after
 * @p limit_ms.
 */
static double drip_until_closed(const struct h_dsrd *d, const char *head, const char *drip,
                                double limit_ms)
{
  int s = connect_from(d, "127.0.0.3", false);
  double t0 = now_ms();
  send_all(s, head, strlen(head));
  size_t i = 0, n = strlen(drip);
  double closed = -1;
  while (now_ms() - t0 < limit_ms) {
    /* Waiting for the server's close doubles as the pace of the drip. */
    struct pollfd p = {.fd = s, .events = POLLIN};
    if (poll(&p, 1, 250) == 1) {
      char buf[512];
      ssize_t r = recv(s, buf, sizeof buf, 0);
      if (r <= 0) {
        closed = now_ms() - t0;
        break;
      }
      continue; /* an answer (none is expected): keep reading until it closes */
    }
    if (send(s, drip + (i % n), 1, MSG_NOSIGNAL) != 1) {
      closed = now_ms() - t0;
      break;
    }
    i++;
  }
  close(s);
  return closed;
}

/* H1: one header byte every 250 ms no longer holds a connection past request_header_timeout. */
START_TEST(slow_headers_are_cut_at_the_header_deadline)
{
  struct h_dsrd d;
  const char *more[] = {"--request-header-timeout=2", "--request-timeout=30", NULL};
  start_with(&d, more);
  double ms = drip_until_closed(&d, "GET /healthz HTTP/1.1\r\nHost: a\r\nX-Slow: ",
                                "abcdefghij", 8000);
  ck_assert_msg(ms >= 1500 && ms < 4000, "closed after %.0f ms (-1: never)", ms);
  /* The service still answers. */
  struct h_resp r;
  h_http(&d, "GET", "/healthz", NULL, NULL, &r);
  ck_assert_int_eq(r.status, 200);
  h_resp_free(&r);
  ck_assert_int_eq(h_dsrd_stop(&d, SIGTERM), 0);
}
END_TEST

/* H1: a body sent one byte every 250 ms is cut at request_timeout. */
START_TEST(slow_body_is_cut_at_the_request_deadline)
{
  struct h_dsrd d;
  const char *more[] = {"--request-header-timeout=2", "--request-timeout=3", NULL};
  start_with(&d, more);
  double ms = drip_until_closed(&d,
                                "POST /v1/requests HTTP/1.1\r\nHost: a\r\n"
                                "Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n",
                                "{\"type\":\"access\"", 9000);
  ck_assert_msg(ms >= 2500 && ms < 5500, "closed after %.0f ms (-1: never)", ms);
  ck_assert_int_eq(h_dsrd_stop(&d, SIGTERM), 0);
}
END_TEST

/* A kept-alive connection that answers quickly is not cut by the deadlines of earlier requests. */
START_TEST(keep_alive_requests_each_get_their_own_deadline)
{
  struct h_dsrd d;
  const char *more[] = {"--request-header-timeout=2", "--request-timeout=2", NULL};
  start_with(&d, more);
  int s = connect_from(&d, "127.0.0.4", false);
  static const char req[] = "GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n";
  double t0 = now_ms();
  int answered = 0;
  /* Six requests 700 ms apart: 4.2 s on one connection, each well within its deadline. */
  for (int i = 0; i < 6; i++) {
    send_all(s, req, sizeof req - 1);
    char buf[2048];
    long st = read_answer(s, now_ms() + 700, buf, sizeof buf);
    if (st == 200)
      answered++;
    double next = t0 + 700.0 * (i + 1);
    struct pollfd p = {.fd = s, .events = POLLIN};
    double left = next - now_ms();
    if (left > 0)
      ck_assert_int_eq(poll(&p, 1, (int)left), 0); /* nothing more, and not closed */
  }
  close(s);
  ck_assert_int_eq(answered, 6);
  ck_assert_int_eq(h_dsrd_stop(&d, SIGTERM), 0);
}
END_TEST


/* Jobs held by the worker process @p pid (owners are "host:pid:index"), and jobs in all. */
static long held_by(const char *conninfo, pid_t pid)
{
  char sql[200];
  snprintf(sql, sizeof sql,
           "SELECT count(*) FROM dsr_jobs WHERE state = 'running' AND lease_owner LIKE '%%:%ld:%%'",
           (long)pid);
  return h_sql_long(conninfo, sql);
}

/*
 * M1: kill -9 of a worker in the middle of a job: with a short job_lease_max
 * another worker takes over every job it held, of every kind, within seconds;
 * while the worker lives, its heartbeat keeps the lease past its length.
 * Before, every job of a batch was leased for the longest lease of any kind
 * (an hour), and nothing renewed it.
 */
START_TEST(killed_worker_jobs_of_every_kind_are_taken_over)
{
  char *conninfo = it_fresh_db("hardening_leases");
  PQclear(h_sql(conninfo, "DELETE FROM dsr_jobs")); /* an earlier run's, if any */
  /* A "gateway" that takes the SMS connection and never answers: the job hangs in it. */
  int hole = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in ha = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  H_REQUIRE1(bind(hole, (struct sockaddr *)&ha, sizeof ha) == 0 && listen(hole, 8) == 0);
  socklen_t hl = sizeof ha;
  getsockname(hole, (struct sockaddr *)&ha, &hl);
  char url[600], sms[128], key[400];
  snprintf(url, sizeof url, "--database-url=%s", conninfo);
  snprintf(sms, sizeof sms, "--sms-webhook-url=http://127.0.0.1:%u/sms", ntohs(ha.sin_port));

  /* An intake node without workers queues the codes (email and SMS). */
  struct h_dsrd h;
  const char *hargs[] = {url, "--workers=0", NULL};
  h_dsrd_start(&h, NULL, hargs);
  snprintf(key, sizeof key, "--secret-key-file=%s/secret.key", h.state_dir);
  struct h_resp r;
  h_http(&h, "POST", "/v1/requests", (const char *const[]){"Content-Type: application/json", NULL},
         "{\"type\":\"erasure\",\"jurisdiction\":\"gdpr\",\"subject\":{\"email\":"
         "\"lease@example.org\",\"phone\":\"+4915112345678\"}}",
         &r);
  ck_assert_int_eq(r.status, 202);
  h_resp_free(&r);
  ck_assert_int_eq(h_dsrd_stop(&h, SIGTERM), 0);
  /* One job of every other kind (payloads that fail: what counts is who runs them). */
  PQclear(h_sql(conninfo,
                "UPDATE dsr_jobs SET run_at = now() - interval '1 minute' WHERE kind = 'send_message';"
                "DELETE FROM dsr_jobs WHERE kind <> 'send_message';"
                "INSERT INTO dsr_jobs (kind, payload, run_at, max_attempts, created_at, updated_at)"
                " SELECT k, '{}', now() - interval '30 seconds', 5, now(), now()"
                " FROM unnest(ARRAY['expire_request',"
                "'discovery','webhook_deliver','routing_sweep','export','export_expire','rights',"
                "'erasure','retention_sweep']) k"));
  long total = h_sql_long(conninfo, "SELECT count(*) FROM dsr_jobs");
  long last = h_sql_long(conninfo, "SELECT max(id) FROM dsr_jobs");
  char left_sql[160];
  /* Jobs finished are gone; the rest show a second attempt (a routing sweep queues its next). */
  snprintf(left_sql, sizeof left_sql,
           "SELECT count(*) FROM dsr_jobs WHERE id <= %ld AND attempts < 2", last);
  ck_assert_int_ge(total, 11);
  ck_assert_int_ge(h_sql_long(conninfo, "SELECT count(DISTINCT kind) FROM dsr_jobs"), 10);

  /* Worker A claims them all in one batch and hangs in the SMS send. */
  struct h_dsrd a, b;
  const char *aargs[] = {url, key, "--role=worker", "--workers=1", "--job-lease-max=3",
                         "--sms-transport=sms_webhook", sms, NULL};
  h_dsrd_spawn(&a, NULL, aargs);
  struct pollfd p = {.fd = hole, .events = POLLIN};
  ck_assert_msg(poll(&p, 1, 20000) == 1, "worker A never reached the SMS gateway");
  int held = accept(hole, NULL, NULL);
  ck_assert_int_eq(held_by(conninfo, a.pid), total);

  /* Worker B runs beside it: for three leases A's heartbeat keeps every job. */
  const char *bargs[] = {url, key, "--role=worker", "--workers=2", "--job-lease-max=3", NULL};
  h_dsrd_spawn(&b, NULL, bargs);
  double t0 = now_ms();
  while (now_ms() - t0 < 9000) {
    ck_assert_int_eq(held_by(conninfo, a.pid), total);
    ck_assert_int_eq(h_sql_long(conninfo, "SELECT count(*) FROM dsr_jobs WHERE attempts > 1"),
                     0);
    struct pollfd none = {.fd = -1};
    (void)poll(&none, 1, 500); /* the pace of the checks, not a wait for an outcome */
  }

  /* kill -9: B takes over every job, of every kind, within a lease and a poll. */
  h_dsrd_stop(&a, SIGKILL);
  double killed = now_ms();
  double taken = -1;
  while (now_ms() - killed < 60000) {
    long left = h_sql_long(conninfo, left_sql);
    if (left == 0) {
      taken = now_ms() - killed;
      break;
    }
    struct pollfd none = {.fd = -1};
    (void)poll(&none, 1, 200);
  }
  fprintf(stderr, "hardening: %ld jobs taken over %.0f ms after kill -9\n", total, taken);
  ck_assert_msg(taken >= 0 && taken < 20000, "jobs left to the dead worker (%.0f ms)", taken);
  ck_assert_int_eq(held_by(conninfo, a.pid), 0);
  ck_assert_int_eq(h_dsrd_stop(&b, SIGTERM), 0);
  close(held);
  close(hole);
  free(conninfo);
}
END_TEST

static double login_ms(struct dsr_db *db, const struct dsr_login_rules *rules, const char *email,
                       const char *password, time_t t, enum dsr_ec *ec, long *wait)
{
  char uid[40];
  enum dsr_role role;
  double t0 = now_ms();
  *ec = dsr_ui_login(db, rules, email, password, t, uid, &role, wait);
  return now_ms() - t0;
}

/*
 * M3: a locked account, an unknown address and a wrong password cost the same
 * (the hash is always checked); an unknown address locks as an account does;
 * a lock that has ended starts the count again. Before, a locked account
 * answered in about a millisecond, unknown addresses never locked, and one
 * wrong password after a lock ended locked the account again.
 */
START_TEST(login_lockout_tells_nothing_and_ends)
{
  unsigned char key[32];
  memset(key, 0x33, sizeof key);
  dsr_crypto_init_with_key(key);
  char *ci = it_fresh_db("hardening_login");
  struct dsr_db *db = it_connect(ci);
  static const char pw[] = "a sufficiently long password";
  char id[40];
  ck_assert_int_eq(dsr_ui_user_add(db, "kim@example.org", "Kim", DSR_ROLE_AUDITOR, pw, id),
                   DSR_OK);
  const struct dsr_login_rules rules = {.max_failures = 3, .lockout = 600};
  time_t t = 1900000000;
  enum dsr_ec ec;
  long wait;
  for (int i = 0; i < 3; i++) {
    login_ms(db, &rules, "kim@example.org", "wrong wrong wrong", t, &ec, &wait);
    ck_assert_int_eq(ec, DSR_E_UNAUTHORIZED);
    login_ms(db, &rules, "ghost@example.org", "wrong wrong wrong", t, &ec, &wait);
    ck_assert_int_eq(ec, DSR_E_UNAUTHORIZED);
  }
  /* Both locked now, with the same answer and about the same cost. */
  double known = login_ms(db, &rules, "kim@example.org", pw, t + 10, &ec, &wait);
  ck_assert_int_eq(ec, DSR_E_RATE_LIMITED);
  ck_assert_int_eq(wait, 590);
  double ghost = login_ms(db, &rules, "ghost@example.org", pw, t + 10, &ec, &wait);
  ck_assert_int_eq(ec, DSR_E_RATE_LIMITED);
  ck_assert_int_eq(wait, 590);
  double fresh = login_ms(db, &rules, "other@example.org", pw, t + 10, &ec, &wait);
  ck_assert_int_eq(ec, DSR_E_UNAUTHORIZED);
  fprintf(stderr, "hardening: login ms locked=%.1f locked-unknown=%.1f unknown=%.1f\n", known,
          ghost, fresh);
  ck_assert_msg(known > fresh * 0.1 && ghost > fresh * 0.1,
                "a locked answer is faster: %.1f / %.1f ms against %.1f ms", known, ghost, fresh);
  /* The lock ends; one wrong password then is one failure, not a new lock. */
  login_ms(db, &rules, "kim@example.org", "wrong wrong wrong", t + 600, &ec, &wait);
  ck_assert_int_eq(ec, DSR_E_UNAUTHORIZED);
  login_ms(db, &rules, "kim@example.org", pw, t + 601, &ec, &wait);
  ck_assert_int_eq(ec, DSR_OK);
  /* No address in the clear. */
  ck_assert_int_eq(h_sql_long(ci, "SELECT count(*) FROM dsr_login_failures WHERE email_hash"
                                  " LIKE '%example%'"),
                   0);
  ck_assert_int_eq(h_sql_long(ci, "SELECT count(*) FROM dsr_login_failures"), 2);
  /* Sessions nobody can use any more go when someone signs in. */
  char *s1 = NULL, *s2 = NULL, *s3 = NULL;
  ck_assert_int_eq(dsr_ui_session_start(db, id, t, &s1), DSR_OK);
  ck_assert_int_eq(dsr_ui_session_start(db, id, t + 3600, &s2), DSR_OK);
  ck_assert_int_eq(h_sql_long(ci, "SELECT count(*) FROM dsr_ui_sessions"), 2);
  ck_assert_int_eq(dsr_ui_session_start(db, id, t + 3600 + 86000, &s3), DSR_OK);
  ck_assert_int_eq(h_sql_long(ci, "SELECT count(*) FROM dsr_ui_sessions"), 2); /* s1 idle > 1 day */
  free(s1);
  free(s2);
  free(s3);
  /* A day later another unknown address fails: the rows untouched for a day go with it. */
  login_ms(db, &rules, "late@example.org", "wrong wrong wrong", t + 90000, &ec, &wait);
  ck_assert_int_eq(h_sql_long(ci, "SELECT count(*) FROM dsr_login_failures"), 1);
  /* its own stale row is counted on, never dropped under it */
  login_ms(db, &rules, "late@example.org", "wrong wrong wrong", t + 200000, &ec, &wait);
  ck_assert_int_eq(h_sql_long(ci, "SELECT count(*) FROM dsr_login_failures"), 1);
  ck_assert_int_eq(h_sql_long(ci, "SELECT failed_logins FROM dsr_login_failures"), 2);
  it_disconnect(db);
  free(ci);
}
END_TEST

/* POSTs @p body to @p path on @p d with an optional bearer; returns the status. */
static long post_json(const struct h_dsrd *d, const char *path, const char *bearer,
                      const char *body)
{
  char auth[160];
  snprintf(auth, sizeof auth, "Authorization: Bearer %s", bearer ? bearer : "");
  const char *headers[] = {"Content-Type: application/json", bearer ? auth : NULL, NULL};
  struct h_resp r;
  h_http(d, "POST", path, headers, body, &r);
  long st = r.status;
  h_resp_free(&r);
  return st;
}

/*
 * M4: knowing a request's id is not enough to lock its verification or to
 * spend its rate budget; the holder of the status token unlocks a locked
 * channel with a new code. Before, wrong codes without any token locked the
 * channel, the budget was spent before any check, and resend stayed locked.
 */
START_TEST(verification_cannot_be_locked_by_id_alone)
{
  struct h_dsrd d;
  const char *more[] = {"--rate-verify-per-request=8", NULL};
  start_with(&d, more);
  struct h_resp r;
  h_http(&d, "POST", "/v1/requests", NULL,
         "{\"type\":\"access\",\"subject\":{\"email\":\"m4@example.org\"}}", &r);
  ck_assert_int_eq(r.status, 202);
  json_t *j = h_resp_json(&r);
  h_resp_free(&r);
  char id[40], tok[64], path[128], resend[128], sql[256];
  snprintf(id, sizeof id, "%s", json_string_value(json_object_get(j, "id")));
  snprintf(tok, sizeof tok, "%s", json_string_value(json_object_get(j, "status_token")));
  json_decref(j);
  snprintf(path, sizeof path, "/v1/requests/%s/verify", id);
  snprintf(resend, sizeof resend, "/v1/requests/%s/resend", id);
  snprintf(sql, sizeof sql,
           "SELECT attempts FROM dsr_verifications WHERE request_id = '%s' AND channel = 'email'",
           id);
  static const char wrong[] = "{\"channel\":\"email\",\"code\":\"000000\"}";
  /* Twenty wrong codes from someone who has only the id: refused, nothing counted or spent. */
  for (int i = 0; i < 10; i++) {
    ck_assert_int_eq(post_json(&d, path, NULL, wrong), 401);
    ck_assert_int_eq(post_json(&d, path, "not-the-status-token-0123456789", wrong), 404);
  }
  ck_assert_int_eq(h_sql_long(it_pg.conninfo, sql), 0);
  ck_assert_int_eq(post_json(&d, resend, "not-the-status-token-0123456789",
                             "{\"channel\":\"email\"}"),
                   404);
  /* The holder: five wrong codes lock the channel (the budget of 8 was not touched). */
  for (int i = 0; i < 4; i++)
    ck_assert_int_eq(post_json(&d, path, tok, wrong), 422);
  ck_assert_int_eq(post_json(&d, path, tok, wrong), 429);
  ck_assert_int_eq(h_sql_long(it_pg.conninfo, sql), 5);
  /* A new code (past the cool-down) comes with its attempts: the channel is open again. */
  char past[256];
  snprintf(past, sizeof past,
           "UPDATE dsr_verifications SET sent_at = sent_at - interval '1 hour'"
           " WHERE request_id = '%s'",
           id);
  PQclear(h_sql(it_pg.conninfo, past));
  ck_assert_int_eq(post_json(&d, resend, tok, "{\"channel\":\"email\"}"), 202);
  ck_assert_int_eq(post_json(&d, path, tok, wrong), 422);
  ck_assert_int_eq(h_sql_long(it_pg.conninfo, sql), 1);
  ck_assert_int_eq(h_dsrd_stop(&d, SIGTERM), 0);
}
END_TEST

/* A staff API token of @p role for the shared daemon (its key signs the token hash). */
static char *shared_staff_token(const char *role_name, enum dsr_role role)
{
  char err[256], keyfile[400], name[64], uid[40];
  snprintf(keyfile, sizeof keyfile, "%s/secret.key", it_dsrd.state_dir);
  H_REQUIRE(dsr_crypto_init(keyfile, err, sizeof err), "%s", err);
  snprintf(name, sizeof name, "hardening-%s-%d", role_name, (int)getpid());
  struct dsr_db *db = it_connect(it_pg.conninfo);
  char *tok = NULL;
  ck_assert_int_eq(dsr_staff_token_create(db, "operator:test", name, role, &tok, uid), DSR_OK);
  it_disconnect(db);
  return tok;
}

/* L1: a cursor naming a date that does not exist is the caller's error (400), not 503. */
START_TEST(cursor_with_impossible_date_is_400)
{
  char *tok = shared_staff_token("auditor", DSR_ROLE_AUDITOR);
  char auth[160];
  snprintf(auth, sizeof auth, "Authorization: Bearer %s", tok);
  const char *headers[] = {auth, NULL};
  static const char *const stamps[] = {
      "2026-99-99T00:00:00.000000Z", "2026-02-30T00:00:00.000000Z",
      "2025-02-29T00:00:00.000000Z", "2026-01-01T24:00:00.000000Z",
      "2026-01-01T00:60:00.000000Z", "0000-01-01T00:00:00.000000Z"};
  for (size_t i = 0; i < sizeof stamps / sizeof *stamps; i++) {
    char raw[96], path[256];
    snprintf(raw, sizeof raw, "%s|00000000-0000-4000-8000-000000000000", stamps[i]);
    char *cur = dsr_b64url((const unsigned char *)raw, strlen(raw));
    snprintf(path, sizeof path, "/v1/admin/requests?cursor=%s", cur);
    free(cur);
    struct h_resp r;
    h_http(&it_dsrd, "GET", path, headers, NULL, &r);
    ck_assert_msg(r.status == 400, "%s: %ld %s", stamps[i], r.status, r.body);
    h_resp_free(&r);
  }
  /* A leap day is a real date. */
  char raw[96], path[256];
  snprintf(raw, sizeof raw, "2024-02-29T23:59:59.999999Z|00000000-0000-4000-8000-000000000000");
  char *cur = dsr_b64url((const unsigned char *)raw, strlen(raw));
  snprintf(path, sizeof path, "/v1/admin/requests?cursor=%s", cur);
  free(cur);
  struct h_resp r;
  h_http(&it_dsrd, "GET", path, headers, NULL, &r);
  ck_assert_int_eq(r.status, 200);
  h_resp_free(&r);
  free(tok);
}
END_TEST

/* L2 and the small ones: a trailing newline, a foreign charset. */
START_TEST(intake_refuses_trailing_newline_and_foreign_charset)
{
  struct h_resp r;
  h_http(&it_dsrd, "POST", "/v1/requests", NULL,
         "{\"type\":\"access\",\"subject\":{\"email\":\"nl@example.org\\n\"}}", &r);
  ck_assert_msg(r.status == 422 || r.status == 400, "%ld %s", r.status, r.body);
  ck_assert_ptr_nonnull(strstr(r.body, "/subject/email"));
  h_resp_free(&r);
  h_http(&it_dsrd, "POST", "/v1/requests", NULL,
         "{\"type\":\"access\",\"subject\":{\"phone\":\"+4915112345678\\n\"}}", &r);
  ck_assert_msg(r.status == 422 || r.status == 400, "%ld %s", r.status, r.body);
  h_resp_free(&r);
  static const char body[] = "{\"type\":\"access\",\"subject\":{\"email\":\"cs@example.org\"}}";
  const char *utf7[] = {"Content-Type: application/json; charset=utf-7", NULL};
  h_http(&it_dsrd, "POST", "/v1/requests", utf7, body, &r);
  ck_assert_int_eq(r.status, 415);
  h_resp_free(&r);
  const char *latin[] = {"Content-Type: application/json;charset=\"ISO-8859-1\"", NULL};
  h_http(&it_dsrd, "POST", "/v1/requests", latin, body, &r);
  ck_assert_int_eq(r.status, 415);
  h_resp_free(&r);
  const char *utf8[] = {"Content-Type: application/json; charset=UTF-8", NULL};
  h_http(&it_dsrd, "POST", "/v1/requests", utf8, body, &r);
  ck_assert_int_eq(r.status, 202);
  h_resp_free(&r);
}
END_TEST

/* Sends @p len raw bytes on a new connection to the shared daemon; returns the status. */
static long raw_status(const void *req, size_t len, char *ct, size_t ctlen)
{
  struct h_resp r;
  h_raw(&it_dsrd, req, len, &r);
  long st = r.status;
  if (ct)
    snprintf(ct, ctlen, "%s", r.content_type);
  h_resp_free(&r);
  return st;
}

/*
 * L4: the request-smuggling shapes of the review. Before, a NUL cut a header
 * short (a valid bearer followed by \0junk was accepted), conflicting
 * Content-Lengths were accepted (the first won), and requests without Host or
 * with two were served.
 */
START_TEST(smuggling_shapes_are_refused)
{
  char *tok = shared_staff_token("auditor2", DSR_ROLE_AUDITOR);
  char req[1024];
  /* The bearer alone works ... */
  int n = snprintf(req, sizeof req,
                   "GET /v1/admin/requests HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer %s\r\n"
                   "Connection: close\r\n\r\n",
                   tok);
  ck_assert_int_eq(raw_status(req, (size_t)n, NULL, 0), 200);
  /* ... a NUL and junk after it do not. */
  n = snprintf(req, sizeof req,
               "GET /v1/admin/requests HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer %s", tok);
  static const char tail[] = "\0junk\r\nConnection: close\r\n\r\n";
  memcpy(req + n, tail, sizeof tail - 1);
  ck_assert_int_eq(raw_status(req, (size_t)n + sizeof tail - 1, NULL, 0), 400);
  free(tok);
  /* Two Content-Lengths that disagree. */
  static const char two_cl[] =
      "POST /v1/requests HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\n"
      "Content-Length: 5\r\nContent-Length: 60\r\nConnection: close\r\n\r\n"
      "{\"type\":\"access\",\"subject\":{\"email\":\"cl@example.org\"}}";
  ck_assert_int_eq(raw_status(two_cl, sizeof two_cl - 1, NULL, 0), 400);
  /* No Host, and two Hosts, on HTTP/1.1. */
  static const char no_host[] = "GET /healthz HTTP/1.1\r\nConnection: close\r\n\r\n";
  ck_assert_int_eq(raw_status(no_host, sizeof no_host - 1, NULL, 0), 400);
  static const char two_hosts[] =
      "GET /healthz HTTP/1.1\r\nHost: a\r\nHost: b\r\nConnection: close\r\n\r\n";
  ck_assert_int_eq(raw_status(two_hosts, sizeof two_hosts - 1, NULL, 0), 400);
  /* A browser-facing page answers its 400 as a readable page. */
  static const char page[] =
      "GET /requests/new HTTP/1.1\r\nHost: a\r\nHost: b\r\nAccept: text/html\r\n"
      "Connection: close\r\n\r\n";
  char ct[128];
  ck_assert_int_eq(raw_status(page, sizeof page - 1, ct, sizeof ct), 400);
  ck_assert_msg(strncmp(ct, "text/html", 9) == 0, "content type %s", ct);
  /* HTTP/1.0 needs no Host. */
  static const char old[] = "GET /healthz HTTP/1.0\r\n\r\n";
  ck_assert_int_eq(raw_status(old, sizeof old - 1, NULL, 0), 200);
}
END_TEST

/* Value of cookie @p name in the Set-Cookie headers of @p r ("" when none). */
static void cookie_of(const struct h_resp *r, const char *name, char *out, size_t outlen)
{
  char needle[64];
  snprintf(needle, sizeof needle, "Set-Cookie: %s=", name);
  const char *p = strcasestr(r->headers, needle);
  out[0] = '\0';
  if (p)
    snprintf(out, outlen, "%.*s", (int)strcspn(p + strlen(needle), ";\r\n"), p + strlen(needle));
}

/* Signs in to the shared daemon's staff UI; fills the session and its CSRF token. */
static void ui_sign_in(const char *email, char session[64], char csrf[64])
{
  struct h_resp r;
  h_http(&it_dsrd, "GET", "/ui/login", NULL, NULL, &r);
  char pre[64], cookie[128], body[300];
  cookie_of(&r, "dsr_csrf", pre, sizeof pre);
  h_resp_free(&r);
  snprintf(cookie, sizeof cookie, "Cookie: dsr_csrf=%s", pre);
  snprintf(body, sizeof body, "csrf=%s&email=%s&password=a+sufficiently+long+password", pre,
           email);
  const char *h[] = {"Content-Type: application/x-www-form-urlencoded", cookie, NULL};
  h_http(&it_dsrd, "POST", "/ui/login", h, body, &r);
  ck_assert_msg(r.status == 303, "login: %ld", r.status);
  cookie_of(&r, "dsr_ui", session, 64);
  cookie_of(&r, "dsr_csrf", csrf, 64);
  h_resp_free(&r);
  ck_assert_uint_eq(strlen(session), 43);
  ck_assert_uint_eq(strlen(csrf), 43);
}

static long ui_logout(const char *session, const char *csrf_cookie, const char *csrf_field,
                      const char *extra)
{
  char cookie[200], body[100];
  snprintf(cookie, sizeof cookie, "Cookie: dsr_ui=%s; dsr_csrf=%s", session, csrf_cookie);
  snprintf(body, sizeof body, "csrf=%s", csrf_field);
  const char *h[] = {"Content-Type: application/x-www-form-urlencoded", cookie, extra, NULL};
  struct h_resp r;
  h_http(&it_dsrd, "POST", "/ui/logout", h, body, &r);
  long st = r.status;
  h_resp_free(&r);
  return st;
}

/*
 * L5: the CSRF token of a signed-in browser is bound to its session; a request
 * a browser marks cross-site, or from another origin, is refused; over TLS the
 * cookie is Secure and __Host-. Before, any matching cookie and field pair
 * passed (one planted by a sibling host, say), whatever the Origin.
 */
START_TEST(csrf_token_is_bound_to_the_session_and_origin)
{
  char err[256], keyfile[400], uid[40];
  snprintf(keyfile, sizeof keyfile, "%s/secret.key", it_dsrd.state_dir);
  H_REQUIRE(dsr_crypto_init(keyfile, err, sizeof err), "%s", err);
  struct dsr_db *db = it_connect(it_pg.conninfo);
  char email[80];
  snprintf(email, sizeof email, "csrf-%d@example.org", (int)getpid());
  ck_assert_int_eq(
      dsr_ui_user_add(db, email, "Csrf", DSR_ROLE_AUDITOR, "a sufficiently long password", uid),
      DSR_OK);
  it_disconnect(db);
  char session[64], csrf[64];
  ui_sign_in(email, session, csrf);
  /* A planted pair that matches itself is not this session's token. */
  static const char planted[] = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
  ck_assert_int_eq(ui_logout(session, planted, planted, NULL), 403);
  /* The session's own token, from another site: refused. */
  ck_assert_int_eq(ui_logout(session, csrf, csrf, "Sec-Fetch-Site: cross-site"), 403);
  ck_assert_int_eq(ui_logout(session, csrf, csrf, "Origin: http://evil.example"), 403);
  /* From our own page: signed out. */
  char origin[128];
  snprintf(origin, sizeof origin, "Origin: %s", it_dsrd.base);
  ck_assert_int_eq(ui_logout(session, csrf, csrf, origin), 303);

  /* Over TLS the CSRF cookie is Secure and __Host-. */
  struct h_dsrd d;
  const char *more[] = {"--base-url=https://dsr.example.test", NULL};
  start_with(&d, more);
  struct h_resp r;
  h_http(&d, "GET", "/requests/new", NULL, NULL, &r);
  ck_assert_int_eq(r.status, 200);
  const char *c = strstr(r.headers, "Set-Cookie: __Host-dsr_csrf=");
  ck_assert_msg(c != NULL, "%s", r.headers);
  char line[300];
  snprintf(line, sizeof line, "%.*s", (int)strcspn(c, "\r\n"), c);
  ck_assert_msg(strstr(line, "; Secure") && strstr(line, "Path=/") && !strstr(line, "Domain="),
                "%s", line);
  h_resp_free(&r);
  ck_assert_int_eq(h_dsrd_stop(&d, SIGTERM), 0);
}
END_TEST

/* Lines of @p log that contain @p needle. */
static long log_count(const char *log, const char *needle)
{
  size_t len = 0;
  char *text = h_slurp(log, &len);
  long n = 0;
  for (const char *p = text; (p = strstr(p, needle)) != NULL; p++)
    n++;
  free(text);
  return n;
}

/*
 * L3: PostgreSQL ending the connection in the middle of an intake transaction
 * is 503 db_unavailable, never 500. The database's own trigger terminates the
 * session at the INSERT, as a crash or a restart would.
 */
START_TEST(database_dying_mid_intake_is_503)
{
  char *ci = it_fresh_db("hardening_dying");
  PQclear(h_sql(ci, "CREATE OR REPLACE FUNCTION hardening_die() RETURNS trigger LANGUAGE plpgsql"
                    " AS $$ BEGIN PERFORM pg_terminate_backend(pg_backend_pid());"
                    " PERFORM pg_sleep(5); RETURN NEW; END $$;"
                    "DROP TRIGGER IF EXISTS hardening_die ON dsr_requests;"
                    "CREATE TRIGGER hardening_die BEFORE INSERT ON dsr_requests"
                    " FOR EACH ROW EXECUTE FUNCTION hardening_die()"));
  PQclear(h_sql(ci, "DROP TRIGGER IF EXISTS hardening_die ON dsr_idempotency;"
                    "CREATE TRIGGER hardening_die BEFORE INSERT ON dsr_idempotency"
                    " FOR EACH ROW EXECUTE FUNCTION hardening_die()"));
  char url[600];
  snprintf(url, sizeof url, "--database-url=%s", ci);
  const char *args[] = {url, "--workers=0", NULL};
  struct h_dsrd d;
  h_dsrd_start(&d, NULL, args);
  for (int i = 0; i < 5; i++) {
    struct h_resp r;
    h_http(&d, "POST", "/v1/requests", NULL,
           "{\"type\":\"access\",\"subject\":{\"email\":\"die@example.org\"}}", &r);
    ck_assert_msg(r.status == 503, "attempt %d: %ld %s", i, r.status, r.body);
    h_resp_free(&r);
  }
  /* With an Idempotency-Key the connection dies when the answer is kept. */
  PQclear(h_sql(ci, "DROP TRIGGER hardening_die ON dsr_requests"));
  for (int i = 0; i < 5; i++) {
    char key[64];
    snprintf(key, sizeof key, "Idempotency-Key: die-%d-%d", (int)getpid(), i);
    const char *h[] = {"Content-Type: application/json", key, NULL};
    struct h_resp r;
    h_http(&d, "POST", "/v1/requests", h,
           "{\"type\":\"access\",\"subject\":{\"email\":\"die@example.org\"}}", &r);
    ck_assert_msg(r.status == 503, "keyed attempt %d: %ld %s", i, r.status, r.body);
    h_resp_free(&r);
  }
  ck_assert_int_eq(h_dsrd_stop(&d, SIGTERM), 0);
  PQclear(h_sql(ci, "DROP TRIGGER hardening_die ON dsr_idempotency"));
  free(ci);
}
END_TEST

/*
 * L6: while the database refuses connections, requests answer 503 and the log
 * gets a few lines, not one per request; when it is back, one line says so.
 */
START_TEST(database_outage_logs_a_few_lines)
{
  char *ci = it_fresh_db("hardening_outage");
  char url[600];
  snprintf(url, sizeof url, "--database-url=%s", ci);
  const char *args[] = {url, "--workers=0", "--db-pool-size=2", NULL};
  struct h_dsrd d;
  h_dsrd_start(&d, NULL, args);
  PQclear(h_sql(it_pg.conninfo, "ALTER DATABASE hardening_outage ALLOW_CONNECTIONS false"));
  PQclear(h_sql(it_pg.conninfo, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                                " WHERE datname = 'hardening_outage'"));
  long before = log_count(d.log, "event=db.connect_failed");
  int unavailable = 0;
  for (int i = 0; i < 200; i++) {
    struct h_resp r;
    h_http(&d, "POST", "/v1/requests", NULL,
           "{\"type\":\"access\",\"subject\":{\"email\":\"out@example.org\"}}", &r);
    ck_assert_msg(r.status == 503, "request %d: %ld %s", i, r.status, r.body);
    unavailable++;
    h_resp_free(&r);
  }
  long lines = log_count(d.log, "event=db.connect_failed") - before;
  fprintf(stderr, "hardening: %d requests in an outage, %ld db.connect_failed lines\n",
          unavailable, lines);
  ck_assert_msg(lines >= 1 && lines <= 5, "%ld connect_failed lines for 200 requests", lines);
  PQclear(h_sql(it_pg.conninfo, "ALTER DATABASE hardening_outage ALLOW_CONNECTIONS true"));
  /* Back: the next requests work (within the few seconds a failed connect is remembered). */
  long st = 0;
  for (int i = 0; i < 50 && st != 202; i++) {
    struct h_resp r;
    h_http(&d, "POST", "/v1/requests", NULL,
           "{\"type\":\"access\",\"subject\":{\"email\":\"back@example.org\"}}", &r);
    st = r.status;
    h_resp_free(&r);
    if (st != 202) {
      struct pollfd none = {.fd = -1};
      (void)poll(&none, 1, 200); /* the pace of the retries */
    }
  }
  ck_assert_int_eq(st, 202);
  ck_assert_int_eq(log_count(d.log, "event=db.reconnected"), 1);
  ck_assert_int_eq(h_dsrd_stop(&d, SIGTERM), 0);
  free(ci);
}
END_TEST

/* One status read; its status, and whether a 503 said db_unavailable. */
static long status_read(const struct h_dsrd *d, const char *path, const char *auth)
{
  const char *h[] = {auth, NULL};
  struct h_resp r;
  h_http(d, "GET", path, h, NULL, &r);
  long st = r.status;
  if (st == 503)
    ck_assert_msg(strstr(r.body, "\"db_unavailable\"") != NULL, "503 without its code: %s", r.body);
  h_resp_free(&r);
  return st;
}

/*
 * Status reads run on connections of their own, pipelined (db_async.c): when
 * the database ends those connections the read in flight is a clear 503
 * db_unavailable, the next one reconnects, and in an outage they answer 503
 * until the database is back.
 */
START_TEST(database_dropping_status_reads_is_503_then_reconnects)
{
  char *ci = it_fresh_db("hardening_status_drop");
  char url[600];
  snprintf(url, sizeof url, "--database-url=%s", ci);
  const char *args[] = {url, "--workers=0", NULL};
  struct h_dsrd d;
  h_dsrd_start(&d, NULL, args);
  json_t *j = NULL;
  ck_assert_int_eq(h_json_call(&d, "POST", "/v1/requests", NULL, 0,
                               "{\"type\":\"access\",\"subject\":{\"email\":\"drop@example.org\"}}",
                               &j),
                   202);
  char path[80], auth[128];
  snprintf(path, sizeof path, "/v1/requests/%s", json_string_value(json_object_get(j, "id")));
  snprintf(auth, sizeof auth, "Authorization: Bearer %s",
           json_string_value(json_object_get(j, "status_token")));
  json_decref(j);
  ck_assert_int_eq(status_read(&d, path, auth), 200);
  const char *kill = "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                     " WHERE datname = 'hardening_status_drop' AND pid <> pg_backend_pid()";
  PQclear(h_sql(it_pg.conninfo, kill));
  ck_assert_int_eq(status_read(&d, path, auth), 503);
  ck_assert_int_eq(status_read(&d, path, auth), 200);
  /* An outage: 503 while connections are refused, 200 once they are not. */
  PQclear(h_sql(it_pg.conninfo,
                "ALTER DATABASE hardening_status_drop ALLOW_CONNECTIONS false"));
  PQclear(h_sql(it_pg.conninfo, kill));
  for (int i = 0; i < 20; i++)
    ck_assert_int_eq(status_read(&d, path, auth), 503);
  PQclear(h_sql(it_pg.conninfo, "ALTER DATABASE hardening_status_drop ALLOW_CONNECTIONS true"));
  ck_assert_int_eq(status_read(&d, path, auth), 200);
  ck_assert_int_eq(h_dsrd_stop(&d, SIGTERM), 0);
  free(ci);
}
END_TEST

/*
 * L7: a state directory moved (or copied, or restored) elsewhere still starts:
 * its cluster's postgresql.conf no longer pins the old socket directory.
 */
START_TEST(moved_state_dir_still_starts)
{
  char a[256], b[300];
  h_tmpdir(a, sizeof a, "move-a");
  snprintf(b, sizeof b, "%s-moved", a);
  struct h_dsrd d;
  h_dsrd_start(&d, a, NULL);
  struct h_resp r;
  h_http(&d, "POST", "/v1/requests", NULL,
         "{\"type\":\"access\",\"subject\":{\"email\":\"move@example.org\"}}", &r);
  ck_assert_int_eq(r.status, 202);
  h_resp_free(&r);
  ck_assert_int_eq(h_dsrd_stop(&d, SIGTERM), 0);
  char conf[400];
  snprintf(conf, sizeof conf, "%s/pg/data/postgresql.conf", a);
  char *text = h_slurp(conf, NULL);
  ck_assert_msg(strstr(text, a) == NULL, "postgresql.conf names %s", a);
  free(text);
  ck_assert_int_eq(rename(a, b), 0);
  h_dsrd_start(&d, b, NULL);
  h_http(&d, "GET", "/readyz", NULL, NULL, &r);
  ck_assert_int_eq(r.status, 200);
  h_resp_free(&r);
  ck_assert_int_eq(h_dsrd_stop(&d, SIGTERM), 0);
}
END_TEST

/* M2: a report period beyond report_max_days is a clear 400, before anything is built. */
START_TEST(report_period_is_bounded)
{
  char *tok = shared_staff_token("auditor3", DSR_ROLE_AUDITOR);
  char auth[160];
  snprintf(auth, sizeof auth, "Authorization: Bearer %s", tok);
  const char *headers[] = {auth, NULL};
  struct h_resp r;
  h_http(&it_dsrd, "GET",
         "/v1/admin/reports/compliance?from=1970-01-01&to=9999-12-31&format=html", headers,
         NULL, &r);
  ck_assert_msg(r.status == 400, "%ld", r.status);
  ck_assert_ptr_nonnull(strstr(r.body, "report_max_days"));
  ck_assert_ptr_nonnull(strstr(r.body, "\"field\":\"to\""));
  h_resp_free(&r);
  h_http(&it_dsrd, "GET", "/v1/admin/reports/compliance?from=2020-01-01&to=2021-01-01", headers,
         NULL, &r);
  ck_assert_int_eq(r.status, 200);
  h_resp_free(&r);
  free(tok);
}
END_TEST

/* A query of thousands of parameters answers 400 (it exhausted the connection's memory: no answer). */
START_TEST(huge_query_gets_an_answer)
{
  size_t n = 40000;
  char *req = malloc(n + 200);
  int k = snprintf(req, 200, "GET /healthz?");
  for (size_t i = 0; i < 10000; i++)
    memcpy(req + k + i * 4, "a=1&", 4);
  k += 40000;
  k += snprintf(req + k, 200, " HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
  char ct[128];
  ck_assert_int_eq(raw_status(req, (size_t)k, ct, sizeof ct), 400);
  /* One long parameter is fine. */
  k = snprintf(req, 200, "GET /healthz?q=");
  memset(req + k, 'a', 40000);
  k += 40000;
  k += snprintf(req + k, 200, " HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
  ck_assert_int_eq(raw_status(req, (size_t)k, NULL, 0), 200);
  free(req);
}
END_TEST

Suite *suite_hardening(void)
{
  Suite *s = suite_create("hardening");
  TCase *tc = tcase_create("connections");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, idle_flood_from_one_address_leaves_healthz_answering);
  tcase_add_test(tc, slow_headers_are_cut_at_the_header_deadline);
  tcase_add_test(tc, slow_body_is_cut_at_the_request_deadline);
  tcase_add_test(tc, keep_alive_requests_each_get_their_own_deadline);
  suite_add_tcase(s, tc);
  TCase *ti = tcase_create("input");
  tcase_set_timeout(ti, 60);
  tcase_add_test(ti, cursor_with_impossible_date_is_400);
  tcase_add_test(ti, intake_refuses_trailing_newline_and_foreign_charset);
  tcase_add_test(ti, smuggling_shapes_are_refused);
  tcase_add_test(ti, report_period_is_bounded);
  tcase_add_test(ti, huge_query_gets_an_answer);
  suite_add_tcase(s, ti);
  TCase *tu = tcase_create("login");
  tcase_set_timeout(tu, 60);
  tcase_add_test(tu, login_lockout_tells_nothing_and_ends);
  tcase_add_test(tu, verification_cannot_be_locked_by_id_alone);
  tcase_add_test(tu, csrf_token_is_bound_to_the_session_and_origin);
  suite_add_tcase(s, tu);
  TCase *to = tcase_create("outage");
  tcase_set_timeout(to, 90);
  tcase_add_test(to, database_dying_mid_intake_is_503);
  tcase_add_test(to, database_outage_logs_a_few_lines);
  tcase_add_test(to, database_dropping_status_reads_is_503_then_reconnects);
  tcase_add_test(to, moved_state_dir_still_starts);
  suite_add_tcase(s, to);
  TCase *tl = tcase_create("leases");
  tcase_set_timeout(tl, 120);
  tcase_add_test(tl, killed_worker_jobs_of_every_kind_are_taken_over);
  suite_add_tcase(s, tl);
  return s;
}

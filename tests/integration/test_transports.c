/**
 * @file test_transports.c
 * @brief The whole subject flow over real transports: a real SMTP server on
 *        loopback (Debian's python3-aiosmtpd, started here on a free port,
 *        storing mail in a maildir this test reads) and an SMS gateway played
 *        by a small libmicrohttpd server inside the test. Each dsrd here has
 *        a database of its own, so no other daemon's workers send its mail.
 */
#include "config.h"
#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sodium.h>
#include <sys/stat.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "suites.h"
#include "verify_util.h"
#include "dsr/config.h"
#include "dsr/crypto.h"
#include "dsr/outbox.h"

static unsigned free_port(void)
{
  int s = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  ck_assert(bind(s, (struct sockaddr *)&a, sizeof a) == 0);
  socklen_t len = sizeof a;
  ck_assert(getsockname(s, (struct sockaddr *)&a, &len) == 0);
  close(s);
  return ntohs(a.sin_port);
}

static bool port_open(unsigned port)
{
  int s = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                          .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  bool ok = connect(s, (struct sockaddr *)&a, sizeof a) == 0;
  close(s);
  return ok;
}

/* The flow both transports share: create, wrong code 422, right code 200, status verified. */
static void flow(const struct h_dsrd *d, const char *body, const char *inbox, const char *to,
                 const char *channel)
{
  char id[40], token[64], code[7];
  json_t *j = vu_create(d, body, id, token);
  char *text = vu_wait_mail(inbox, to, NULL, 30);
  vu_code(text, code);
  free(text);
  char req[100], wrong[7];
  memcpy(wrong, code, 7);
  wrong[0] = (char)('0' + (code[0] - '0' + 5) % 10); /* differs in the first digit */
  snprintf(req, sizeof req, "{\"channel\":\"%s\",\"code\":\"%s\"}", channel, wrong);
  struct h_resp r;
  ck_assert_int_eq(vu_verify(d, id, req, &r), 422);
  ck_assert_msg(strstr(r.body, "\"attempts_left\":4") != NULL, "%s", r.body);
  h_resp_free(&r);
  snprintf(req, sizeof req, "{\"channel\":\"%s\",\"code\":\"%s\"}", channel, code);
  ck_assert_int_eq(vu_verify(d, id, req, &r), 200);
  h_resp_free(&r);
  char path[100], auth[128];
  snprintf(path, sizeof path, "/v1/requests/%s", id);
  snprintf(auth, sizeof auth, "Authorization: Bearer %s", token);
  h_http(d, "GET", path, (const char *const[]){auth, NULL}, NULL, &r);
  ck_assert_int_eq(r.status, 200);
  ck_assert(strstr(r.body, "\"status\":\"verified\"") != NULL);
  h_resp_free(&r);
  json_decref(j);
}

START_TEST(smtp_to_a_real_server)
{
  char dir[256];
  h_tmpdir(dir, sizeof dir, "smtp");
  char inbox[300];
  snprintf(inbox, sizeof inbox, "%s/inbox", dir);
  unsigned port = free_port();
  char listen[64];
  snprintf(listen, sizeof listen, "127.0.0.1:%u", port);
  pid_t smtpd = fork();
  ck_assert(smtpd >= 0);
  if (smtpd == 0) {
    execl("/usr/bin/python3", "python3", "-m", "aiosmtpd", "-n", "-l", listen, "-c",
          "aiosmtpd.handlers.Mailbox", inbox, (char *)NULL);
    _exit(127);
  }
  for (int i = 0; i < 200 && !port_open(port); i++) {
    struct timespec ts = {0, 50000000L}; /* waiting for the server to listen */
    nanosleep(&ts, NULL);
  }
  ck_assert_msg(port_open(port), "aiosmtpd did not start (is python3-aiosmtpd installed?)");
  char *ci = vu_database("dsrd_smtp");
  char url[600], smtp[100];
  snprintf(url, sizeof url, "--database-url=%s", ci);
  snprintf(smtp, sizeof smtp, "--smtp-url=smtp://127.0.0.1:%u", port);
  const char *args[] = {url, "--mail-transport=smtp", smtp, "--mail-from=Privacy <privacy@callorbit.example>", NULL};
  struct h_dsrd d;
  h_dsrd_start(&d, NULL, args);
  flow(&d, "{\"type\":\"erasure\",\"subject\":{\"email\":\"smtp.user@example.org\"}}", inbox,
       "smtp.user@example.org", "email");
  /* the message is well formed: both parts, the organization, an encoded subject */
  PGresult *res = h_sql(ci, "SELECT count(*) FROM dsr_outbox WHERE status = 'sent'");
  ck_assert_int_ge(atol(PQgetvalue(res, 0, 0)), 1);
  PQclear(res);
  ck_assert_int_eq(h_dsrd_stop(&d, SIGTERM), 0);
  kill(smtpd, SIGTERM);
  waitpid(smtpd, NULL, 0);
  free(ci);
}
END_TEST

/* The SMS gateway: records each POST body. */
struct gateway {
  pthread_mutex_t lock;
  char bodies[8][1024];
  int n;
  char cur[1024];
  size_t curlen;
};

static enum MHD_Result on_sms(void *cls, struct MHD_Connection *c, const char *url,
                              const char *method, const char *version, const char *data,
                              size_t *size, void **state)
{
  struct gateway *g = cls;
  if (!*state) {
    *state = g;
    pthread_mutex_lock(&g->lock);
    g->curlen = 0;
    pthread_mutex_unlock(&g->lock);
    return MHD_YES;
  }
  if (*size) {
    pthread_mutex_lock(&g->lock);
    size_t take = *size < sizeof g->cur - 1 - g->curlen ? *size : sizeof g->cur - 1 - g->curlen;
    memcpy(g->cur + g->curlen, data, take);
    g->curlen += take;
    pthread_mutex_unlock(&g->lock);
    *size = 0;
    return MHD_YES;
  }
  const char *auth = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
  bool authorized = auth && !strcmp(auth, "Bearer gw-token");
  pthread_mutex_lock(&g->lock);
  if (authorized && !strcmp(method, "POST") && !strcmp(url, "/sms") && g->n < 8) {
    g->cur[g->curlen] = '\0';
    memcpy(g->bodies[g->n++], g->cur, g->curlen + 1);
  }
  pthread_mutex_unlock(&g->lock);
  struct MHD_Response *resp =
      MHD_create_response_from_buffer(2, (void *)"{}", MHD_RESPMEM_PERSISTENT);
  enum MHD_Result ret = MHD_queue_response(c, authorized ? 202 : 401, resp);
  MHD_destroy_response(resp);
  return ret;
}

/* Writes every SMS the gateway got as a mail into @p inbox/new, so flow() can read it. */
static void gateway_to_inbox(struct gateway *g, const char *inbox, int *seen)
{
  pthread_mutex_lock(&g->lock);
  for (; *seen < g->n; (*seen)++) {
    json_t *j = json_loads(g->bodies[*seen], 0, NULL);
    ck_assert_ptr_nonnull(j);
    const char *text = json_string_value(json_object_get(j, "text"));
    unsigned char b64[1024];
    sodium_bin2base64((char *)b64, sizeof b64, (const unsigned char *)text, strlen(text),
                      sodium_base64_VARIANT_ORIGINAL);
    char path[400];
    snprintf(path, sizeof path, "%s/new/sms-%d", inbox, *seen);
    FILE *f = fopen(path, "w");
    fprintf(f, "To: %s\nContent-Transfer-Encoding: base64\n\n%s\n",
            json_string_value(json_object_get(j, "to")), b64);
    fclose(f);
    json_decref(j);
  }
  pthread_mutex_unlock(&g->lock);
}

struct pump {
  struct gateway *g;
  const char *inbox;
  volatile bool stop;
};

static void *pump_run(void *arg)
{
  struct pump *p = arg;
  int seen = 0;
  while (!p->stop) {
    gateway_to_inbox(p->g, p->inbox, &seen);
    struct timespec ts = {0, 20000000L};
    nanosleep(&ts, NULL);
  }
  return NULL;
}

START_TEST(sms_through_a_webhook_gateway)
{
  static struct gateway g = {.lock = PTHREAD_MUTEX_INITIALIZER};
  unsigned port = free_port();
  struct MHD_Daemon *gw = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD, (uint16_t)port, NULL,
                                           NULL, on_sms, &g, MHD_OPTION_END);
  ck_assert_ptr_nonnull(gw);
  char dir[256], inbox[300], sub[320];
  h_tmpdir(dir, sizeof dir, "sms");
  snprintf(inbox, sizeof inbox, "%s/inbox", dir);
  mkdir(inbox, 0700);
  snprintf(sub, sizeof sub, "%s/new", inbox);
  mkdir(sub, 0700);
  snprintf(sub, sizeof sub, "%s/cur", inbox);
  mkdir(sub, 0700);
  struct pump p = {.g = &g, .inbox = inbox};
  pthread_t t;
  pthread_create(&t, NULL, pump_run, &p);
  char *ci = vu_database("dsrd_sms");
  char url[600], hook[100];
  snprintf(url, sizeof url, "--database-url=%s", ci);
  snprintf(hook, sizeof hook, "--sms-webhook-url=http://127.0.0.1:%u/sms", port);
  const char *args[] = {url, "--sms-transport=sms_webhook", hook, "--sms-webhook-token=gw-token",
                        NULL};
  struct h_dsrd d;
  h_dsrd_start(&d, NULL, args);
  flow(&d, "{\"type\":\"opt_out\",\"subject\":{\"phone\":\"+14155550142\"}}", inbox,
       "+14155550142", "sms");
  pthread_mutex_lock(&g.lock);
  ck_assert_int_ge(g.n, 1);
  ck_assert(strstr(g.bodies[0], "\"to\":\"+14155550142\"") != NULL);
  pthread_mutex_unlock(&g.lock);
  ck_assert_int_eq(h_dsrd_stop(&d, SIGTERM), 0);
  p.stop = true;
  pthread_join(t, NULL);
  MHD_stop_daemon(gw);
  free(ci);
}
END_TEST

START_TEST(failing_transport_keeps_the_request_and_retries)
{
  char *ci = vu_database("dsrd_down");
  char url[600], smtp[100];
  snprintf(url, sizeof url, "--database-url=%s", ci);
  snprintf(smtp, sizeof smtp, "--smtp-url=smtp://127.0.0.1:%u", free_port()); /* nobody listens */
  const char *args[] = {url, "--mail-transport=smtp", smtp, NULL};
  struct h_dsrd d;
  h_dsrd_start(&d, NULL, args);
  char id[40], token[64];
  json_t *j = vu_create(&d, "{\"type\":\"access\",\"subject\":{\"email\":\"down@example.org\"}}",
                        id, token);
  char sql[300];
  snprintf(sql, sizeof sql,
           "SELECT count(*) FROM dsr_outbox WHERE request_id = '%s' AND attempts >= 1 "
           "AND status = 'pending' AND last_error LIKE 'smtp:%%'", id);
  const char *job_sql = "SELECT count(*) FROM dsr_jobs WHERE kind = 'send_message' "
                        "AND state = 'queued' AND attempts = 1 AND last_error IS NOT NULL";
  time_t until = time(NULL) + 30;
  while ((h_sql_long(ci, sql) == 0 || h_sql_long(ci, job_sql) == 0) && time(NULL) < until) {
    struct timespec ts = {0, 50000000L}; /* polling for the worker's first try */
    nanosleep(&ts, NULL);
  }
  ck_assert_int_eq(h_sql_long(ci, sql), 1);
  /* the job waits for its retry with back-off; the request is intact */
  ck_assert_int_eq(h_sql_long(ci, job_sql), 1);
  char *st = vu_status(ci, id);
  ck_assert_str_eq(st, "pending_verification");
  free(st);
  ck_assert_int_eq(h_dsrd_stop(&d, SIGTERM), 0);
  /* The last attempt gives up on the message: failed, body erased, event recorded. */
  char err[256], keyfile[400];
  snprintf(keyfile, sizeof keyfile, "%s/secret.key", d.state_dir);
  ck_assert(dsr_crypto_init(keyfile, err, sizeof err));
  struct dsr_config cfg;
  ck_assert(dsr_config_defaults(&cfg));
  ck_assert(dsr_config_set(&cfg, "mail_transport", "smtp", err, sizeof err));
  ck_assert(dsr_config_set(&cfg, "smtp_url", smtp + strlen("--smtp-url="), err, sizeof err));
  PGconn *c = dsr_db_connect(ci, err, sizeof err);
  ck_assert_msg(c != NULL, "%s", err);
  struct dsr_db *db = dsr_db_wrap(c);
  snprintf(sql, sizeof sql, "SELECT id FROM dsr_outbox WHERE request_id = '%s'", id);
  long outbox = h_sql_long(ci, sql);
  ck_assert_int_eq(dsr_outbox_send(db, &cfg, outbox, true, time(NULL), err, sizeof err),
                   DSR_JOB_RETRY);
  ck_assert(strstr(err, "smtp:") != NULL);
  /* and a message that is no longer pending is done at once (idempotent) */
  ck_assert_int_eq(dsr_outbox_send(db, &cfg, outbox, false, time(NULL), err, sizeof err),
                   DSR_JOB_DONE);
  dsr_db_unwrap(db);
  PQfinish(c);
  dsr_config_free(&cfg);
  snprintf(sql, sizeof sql,
           "SELECT count(*) FROM dsr_outbox WHERE id = %ld AND status = 'failed' "
           "AND body_sealed IS NULL", outbox);
  ck_assert_int_eq(h_sql_long(ci, sql), 1);
  snprintf(sql, sizeof sql,
           "SELECT count(*) FROM dsr_events WHERE request_id = '%s' AND kind = 'message.failed'",
           id);
  ck_assert_int_eq(h_sql_long(ci, sql), 1);
  json_decref(j);
  free(ci);
}
END_TEST

Suite *suite_transports(void)
{
  Suite *s = suite_create("transports");
  TCase *tc = tcase_create("real");
  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, smtp_to_a_real_server);
  tcase_add_test(tc, sms_through_a_webhook_gateway);
  tcase_add_test(tc, failing_transport_keeps_the_request_and_retries);
  suite_add_tcase(s, tc);
  return s;
}

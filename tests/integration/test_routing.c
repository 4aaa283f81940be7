/**
 * @file test_routing.c
 * @brief Discovery and routing against real PostgreSQL, a real dsrd and real
 *        webhook receivers on loopback: parts per owner, signed deliveries
 *        with retries, customer decisions and isolation, escalation by an
 *        injected clock, 410 handling, secret rotation, staff roles on every
 *        admin action, extensions, holds, pagination and "no data held".
 *
 * Discovery runs in this process against the shared database, with the
 * daemon's master key, so the rows it writes are the daemon's. Its search is
 * given a fixed result (the planner's part, tested by the policy module).
 */
#include <fcntl.h>
#include <stdarg.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "suites.h"
#include "webhook_receiver.h"
#include "dsr/admin.h"
#include "dsr/closing.h"
#include "dsr/crypto.h"
#include "dsr/db.h"
#include "dsr/discovery.h"
#include "dsr/pgembed.h"
#include "dsr/queue.h"
#include "dsr/routing_sweep.h"
#include "dsr/idempotency.h"
#include "dsr/webhook.h"
#include "routing_jobs.h"
#include "worker.h"

/* This suite's own database and dsrd (HTTP only: jobs run here, by the test's clock). */
static struct h_dsrd rt_dsrd;
static char *rt_conninfo;

static char *alt_load(void);
static char *alt_conninfo;

static void suite_setup(void)
{
  char err[512];
  alt_conninfo = alt_load(); /* the platform of the policy dsrd runs with */
  H_REQUIRE(dsr_pgembed_ensure_db(it_pg.embed, "dsr_routing", err, sizeof err), "%s", err);
  rt_conninfo = dsr_pgembed_conninfo(it_pg.embed, "dsr_routing");
  H_REQUIRE1(rt_conninfo != NULL);
  char url[600];
  snprintf(url, sizeof url, "--database-url=%s", rt_conninfo);
  char policy[600];
  snprintf(policy, sizeof policy, "--policy-file=%s/tests/data/policy-alt/policy.json",
           getenv("DSR_TOP_SRCDIR"));
  const char *args[] = {url, policy, "--workers=0", NULL};
  h_dsrd_start(&rt_dsrd, NULL, args);
}

static void suite_teardown(void)
{
  int st = h_dsrd_stop(&rt_dsrd, SIGTERM);
  H_REQUIRE(st == 0, "routing dsrd exited with %d; log: %s", st, rt_dsrd.log);
  free(rt_conninfo);
  rt_conninfo = NULL;
  free(alt_conninfo);
  alt_conninfo = NULL;
}

static char *e2e_conninfo; /* set while the end-to-end test switches to its own dsrd */
/* The dsrd (and its database) that helpers talk to: this suite's, unless a test switches. */
static struct h_dsrd *api = &rt_dsrd;

static const char *api_db(void)
{
  return api == &rt_dsrd ? rt_conninfo : e2e_conninfo;
}

static PGconn *tconn;
static struct dsr_db *tdb;
static struct dsr_webhook_opts wopts;

static void setup(void)
{
  char key[400], err[512];
  snprintf(key, sizeof key, "%s/secret.key", rt_dsrd.state_dir);
  ck_assert_msg(dsr_crypto_init(key, err, sizeof err), "%s", err);
  tconn = dsr_db_connect(rt_conninfo, err, sizeof err);
  ck_assert_msg(tconn != NULL, "%s", err);
  tdb = dsr_db_wrap(tconn);
  wopts = (struct dsr_webhook_opts){.allow_http = true, .allow_private = true, .timeout_s = 15,
                                    .base_url = rt_dsrd.base};
  dsr_set_fake_now(time(NULL));
  /* Endpoints of earlier tests are gone: keep their leftover deliveries out of this one. */
  PQclear(h_sql(rt_conninfo, "UPDATE dsr_customers SET status = 'disabled'"));
}

static void teardown(void)
{
  dsr_set_fake_now(0);
  dsr_db_unwrap(tdb);
  PQfinish(tconn);
}

/* ---- dsrctl ----------------------------------------------------------------------- */


/** Runs dsrctl against the api daemon's database and key; returns its stdout (caller frees). */
static char *ctl_run(const char *const *args)
{
  char *prog = h_program("dsrctl");
  char url[600], key[400];
  snprintf(url, sizeof url, "--database-url=%s", api_db());
  snprintf(key, sizeof key, "--secret-key-file=%s/secret.key", api->state_dir);
  const char *argv[24] = {prog, url, key, "--webhook-allow-http=true"};
  int n = 4;
  for (int i = 0; args[i] && n < 23; i++)
    argv[n++] = args[i];
  argv[n] = NULL;
  int fds[2];
  ck_assert_int_eq(pipe(fds), 0);
  pid_t pid = fork();
  ck_assert_int_ge(pid, 0);
  if (pid == 0) {
    int null = open("/dev/null", O_WRONLY);
    dup2(fds[1], STDOUT_FILENO);
    dup2(null, STDERR_FILENO);
    close(fds[0]);
    execv(prog, (char *const *)argv);
    _exit(127);
  }
  close(fds[1]);
  struct dsr_buf out = {0};
  char buf[1024];
  ssize_t got;
  while ((got = read(fds[0], buf, sizeof buf)) > 0)
    ck_assert(dsr_buf_append(&out, buf, (size_t)got));
  close(fds[0]);
  int st = 0;
  waitpid(pid, &st, 0);
  free(prog);
  ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "dsrctl %s %s failed", args[0],
                args[1] ? args[1] : "");
  return out.data ? dsr_buf_steal(&out) : strdup("");
}

/** The value of "key: value" in dsrctl output. */
static void field_of(const char *out, const char *key, char *dst, size_t n)
{
  char want[64];
  snprintf(want, sizeof want, "%s: ", key);
  const char *p = strstr(out, want);
  ck_assert_msg(p != NULL, "no %s in dsrctl output", key);
  p += strlen(want);
  size_t len = strcspn(p, "\n");
  ck_assert_uint_lt(len, n);
  memcpy(dst, p, len);
  dst[len] = '\0';
}

struct customer {
  char id[40], name[64], tenant[64], key[128];
};

/** Adds a customer whose platform tenant value is @p tenant (NULL: a made-up one). */
static void add_tenant_customer(struct customer *c, const char *tag, const char *tenant,
                                struct wh_receiver *w)
{
  snprintf(c->name, sizeof c->name, "%s-%d", tag, (int)getpid());
  if (tenant)
    snprintf(c->tenant, sizeof c->tenant, "%s", tenant);
  else
    snprintf(c->tenant, sizeof c->tenant, "ws-%s-%d", tag, (int)getpid());
  const char *args[] = {"customer", "add",          "--name", c->name, "--tenant", c->tenant,
                        "--webhook-url", w->url, NULL};
  char *out = ctl_run(args);
  field_of(out, "customer_id", c->id, sizeof c->id);
  field_of(out, "api_key", c->key, sizeof c->key);
  field_of(out, "webhook_secret", w->secret, sizeof w->secret);
  free(out);
}

static void add_customer(struct customer *c, const char *tag, struct wh_receiver *w)
{
  add_tenant_customer(c, tag, NULL, w);
}

static void staff_token(const char *role, char *tok, size_t n)
{
  char name[64];
  snprintf(name, sizeof name, "%s-%d", role, (int)getpid());
  const char *args[] = {"staff", "token", "create", "--role", role, "--name", name, NULL};
  char *out = ctl_run(args);
  field_of(out, "token", tok, n);
  free(out);
}

/* ---- HTTP helpers ----------------------------------------------------------------- */

/* An API call with an optional bearer @p token and Idempotency-Key @p idem_key (NULL: none). */
static long call_with(const char *method, const char *path, const char *token,
                      const char *idem_key, const char *body, json_t **json)
{
  char auth[200], idem[400];
  snprintf(auth, sizeof auth, "Authorization: Bearer %s", token ? token : "");
  snprintf(idem, sizeof idem, "Idempotency-Key: %s", idem_key ? idem_key : "");
  const char *extra[] = {token ? auth : NULL, idem_key ? idem : NULL};
  return h_json_call(api, method, path, extra, 2, body, json);
}

static long call(const char *method, const char *path, const char *token, const char *body,
                 json_t **json)
{
  return call_with(method, path, token, NULL, body, json);
}

struct request {
  char id[40], token[64];
};

static void new_request(struct request *q, const char *type, const char *email,
                        const char *phone)
{
  char body[400];
  snprintf(body, sizeof body, "{\"type\":\"%s\",\"jurisdiction\":\"gdpr\",\"subject\":{"
                              "\"email\":\"%s\",\"phone\":\"%s\"}}",
           type, email, phone);
  json_t *j = NULL;
  ck_assert_int_eq(call("POST", "/v1/requests", NULL, body, &j), 202);
  snprintf(q->id, sizeof q->id, "%s", json_string_value(json_object_get(j, "id")));
  snprintf(q->token, sizeof q->token, "%s", json_string_value(json_object_get(j, "status_token")));
  json_decref(j);
}

static long act(const char *id, const char *token, const char *body, json_t **reply)
{
  char path[120];
  snprintf(path, sizeof path, "/v1/admin/requests/%s/actions", id);
  return call("POST", path, token, body, reply);
}

static void verify_by_staff(const struct request *q, const char *token)
{
  json_t *j = NULL;
  long st = act(q->id, token, "{\"action\":\"verify\",\"note\":\"passport seen\"}", &j);
  ck_assert_msg(st == 200, "verify: %ld", st);
  ck_assert_str_eq(json_string_value(json_object_get(j, "status")), "verified");
  json_decref(j);
  /* The API goes through the verification module's manual path (one implementation). */
  char path[120];
  snprintf(path, sizeof path, "/v1/admin/requests/%s", q->id);
  ck_assert_int_eq(call("GET", path, token, NULL, &j), 200);
  char *text = json_dumps(json_object_get(j, "timeline"), 0);
  ck_assert_msg(text && strstr(text, "\"verification.manual\"") != NULL, "%s", text);
  free(text);
  json_decref(j);
  ck_assert_int_eq(act(q->id, token, "{\"action\":\"verify\",\"note\":\"again\"}", NULL), 409);
  ck_assert_int_eq(act(q->id, token, "{\"action\":\"verify\"}", NULL), 422);
}

/* ---- discovery with a fixed search result ----------------------------------------- */

static bool fixed_find(void *ctx, const char *type, const struct dsr_subject *s,
                       struct dsr_found *out, char *err, size_t errlen)
{
  (void)type;
  (void)err;
  (void)errlen;
  ck_assert_ptr_nonnull(s->email); /* the search sees the unsealed identities */
  *out = *(const struct dsr_found *)ctx;
  return true;
}

static int discover(const char *id, struct dsr_found *found)
{
  struct dsr_finder f = {.find = fixed_find, .ctx = found};
  int n = -2;
  ck_assert_int_eq(dsr_discovery_run(tdb, NULL, &f, rt_dsrd.base, id, &n), DSR_OK);
  return n;
}

static int deliver(void)
{
  int sent = 0;
  ck_assert(dsr_webhook_deliver_due(tdb, &wopts, 50, &sent));
  return sent;
}

static long sqlv(const char *fmt, ...) DSR_PRINTF(1, 2);
static long sqlv(const char *fmt, ...)
{
  char sql[600];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(sql, sizeof sql, fmt, ap);
  va_end(ap);
  return h_sql_long(rt_conninfo, sql);
}

static json_t *hit_json(struct wh_receiver *w, int i)
{
  json_t *j = json_loads(w->hits[i].body, 0, NULL);
  ck_assert_ptr_nonnull(j);
  return j;
}

/* ---- the scenario of the issue -------------------------------------------------------- */

START_TEST(three_parts_signed_webhooks_retries_and_decisions)
{
  struct wh_receiver ra, rb;
  static const unsigned flaky[] = {500, 500, 200, 0};
  wh_start(&ra, NULL);
  wh_start(&rb, flaky);
  struct customer a, b;
  add_customer(&a, "acme", &ra);
  add_customer(&b, "globex", &rb);
  char triager[128], auditor[128];
  staff_token("triager", triager, sizeof triager);
  staff_token("auditor", auditor, sizeof auditor);

  struct request q;
  new_request(&q, "erasure", "Caller.One@example.net", "+4915112340001");
  verify_by_staff(&q, triager);

  /* Controller data (account, billing) and content in two workspaces. */
  struct dsr_found_tenant tenants[] = {{a.tenant, DSR_IDBIT(DSR_ID_EMAIL), 5}, {b.tenant, DSR_IDBIT(DSR_ID_PHONE), 2}};
  struct dsr_found found = {.controller_rows = 3, .controller_kinds = DSR_IDBIT(DSR_ID_EMAIL),
                            .ntenants = 2, .tenants = tenants};
  ck_assert_int_eq(discover(q.id, &found), 3);
  ck_assert_int_eq(discover(q.id, &found), -1); /* idempotent: a second run splits nothing */
  ck_assert_int_eq(sqlv("SELECT count(*) FROM dsr_parts WHERE request_id = '%s'", q.id), 3);
  ck_assert_int_eq(sqlv("SELECT count(*) FROM dsr_requests WHERE id = '%s' AND status = "
                        "'in_progress'", q.id), 1);

  /* First pass: acme takes it, globex fails; then the clock moves past each backoff. */
  ck_assert_int_eq(deliver(), 2);
  ck_assert_int_eq(deliver(), 0); /* nothing due yet */
  dsr_set_fake_now(dsr_now() + 10);
  ck_assert_int_eq(deliver(), 1);
  dsr_set_fake_now(dsr_now() + 400);
  ck_assert_int_eq(deliver(), 1);
  dsr_set_fake_now(dsr_now() + 7 * 86400);
  ck_assert_int_eq(deliver(), 0); /* delivered rows are never sent again */

  ck_assert_int_eq(wh_count(&ra), 1);
  ck_assert_int_eq(wh_count(&rb), 3);
  for (int i = 0; i < 3; i++) {
    ck_assert_msg(rb.hits[i].sig_ok, "globex attempt %d badly signed", i);
    ck_assert_msg(rb.hits[i].ts_ok, "globex attempt %d timestamp off", i);
    ck_assert_str_eq(rb.hits[i].id, rb.hits[0].id); /* stable across retries */
  }
  ck_assert_uint_eq(rb.hits[0].answered, 500);
  ck_assert_uint_eq(rb.hits[2].answered, 200);
  ck_assert(ra.hits[0].sig_ok && ra.hits[0].ts_ok);
  ck_assert_str_ne(ra.hits[0].id, rb.hits[0].id);
  ck_assert(strncmp(ra.hits[0].id, "msg_", 4) == 0);

  /* Each receiver got only its own part and only its own matched identities. */
  json_t *ja = hit_json(&ra, 0), *jb = hit_json(&rb, 2);
  ck_assert_str_eq(json_string_value(json_object_get(ja, "type")), "dsr.forwarded");
  json_t *da = json_object_get(ja, "data"), *db = json_object_get(jb, "data");
  const char *pa = json_string_value(json_object_get(da, "part_id"));
  const char *pb = json_string_value(json_object_get(db, "part_id"));
  ck_assert_ptr_nonnull(pa);
  ck_assert_ptr_nonnull(pb);
  ck_assert_str_ne(pa, pb);
  ck_assert_int_eq(sqlv("SELECT count(*) FROM dsr_parts WHERE id = '%s' AND customer_id = '%s'",
                        pa, a.id), 1);
  ck_assert_int_eq(sqlv("SELECT count(*) FROM dsr_parts WHERE id = '%s' AND customer_id = '%s'",
                        pb, b.id), 1);
  json_t *ida = json_object_get(da, "identities"), *idb = json_object_get(db, "identities");
  ck_assert_str_eq(json_string_value(json_object_get(ida, "email")), "Caller.One@example.net");
  ck_assert_ptr_null(json_object_get(ida, "phone"));
  ck_assert_str_eq(json_string_value(json_object_get(idb, "phone")), "+4915112340001");
  ck_assert_ptr_null(json_object_get(idb, "email"));
  ck_assert_str_eq(json_string_value(json_object_get(da, "request_type")), "erasure");
  ck_assert_str_eq(json_string_value(json_object_get(da, "jurisdiction")), "gdpr");
  ck_assert_ptr_nonnull(json_string_value(json_object_get(da, "due_at")));
  ck_assert(strstr(json_string_value(json_object_get(da, "api_url")), pa) != NULL);
  ck_assert_uint_eq(json_object_size(da), 8); /* + sequence, status; no request id, no other owner */
  ck_assert(strstr(ra.hits[0].body, pb) == NULL);
  ck_assert(strstr(ra.hits[0].body, q.id) == NULL);
  ck_assert(strstr(rb.hits[2].body, "example.net") == NULL);

  /* The delivery log: one row per attempt. */
  ck_assert_int_eq(sqlv("SELECT count(*) FROM dsr_webhook_attempts t JOIN dsr_webhook_outbox o"
                        " ON o.id = t.outbox_id WHERE o.customer_id = '%s'", b.id), 3);
  ck_assert_int_eq(sqlv("SELECT count(*) FROM dsr_webhook_attempts t JOIN dsr_webhook_outbox o"
                        " ON o.id = t.outbox_id WHERE o.customer_id = '%s' AND t.status_code = 500"
                        " AND t.error = 'HTTP 500'", b.id), 2);
  ck_assert_int_eq(sqlv("SELECT count(*) FROM dsr_webhook_outbox WHERE customer_id = '%s' AND "
                        "state = 'delivered' AND attempts = 3", b.id), 1);

  /* Customer API: own parts only; a decision moves the part on; the other customer gets 404. */
  json_t *list = NULL;
  ck_assert_int_eq(call("GET", "/v1/customer/requests", a.key, NULL, &list), 200);
  json_t *items = json_object_get(list, "items");
  ck_assert_uint_eq(json_array_size(items), 1);
  ck_assert_str_eq(json_string_value(json_object_get(json_array_get(items, 0), "part_id")), pa);
  ck_assert_str_eq(json_string_value(json_object_get(json_array_get(items, 0), "status")),
                   "forwarded");
  json_decref(list);
  char path[160];
  snprintf(path, sizeof path, "/v1/customer/requests/%s/decision", pa);
  json_t *d = NULL;
  ck_assert_int_eq(call("POST", path, b.key, "{\"decision\":\"handled\"}", &d), 404);
  json_decref(d);
  ck_assert_int_eq(call("POST", path, a.key, "{\"decision\":\"fulfill\"}", &d), 200);
  ck_assert_str_eq(json_string_value(json_object_get(d, "status")), "approved");
  json_decref(d);
  ck_assert_int_eq(call("POST", path, a.key, "{\"decision\":\"fulfill\"}", NULL), 409);
  ck_assert_int_eq(sqlv("SELECT count(*) FROM dsr_parts WHERE id = '%s' AND state = 'approved'"
                        " AND decision = 'fulfill'", pa), 1);
  snprintf(path, sizeof path, "/v1/customer/requests/%s/decision", pb);
  ck_assert_int_eq(call("POST", path, b.key, "{\"decision\":\"deny\"}", NULL), 422);
  ck_assert_int_eq(call("POST", path, b.key, "{\"decision\":\"handled\"}", NULL), 200);
  ck_assert_int_eq(call("GET", "/v1/customer/requests?status=done", b.key, NULL, &list), 200);
  ck_assert_uint_eq(json_array_size(json_object_get(list, "items")), 1);
  json_decref(list);
  ck_assert_int_eq(call("GET", "/v1/customer/requests", "dsrk_not-a-key", NULL, NULL), 401);
  ck_assert_int_eq(call("GET", "/v1/customer/requests", triager, NULL, NULL), 401);

  /* Staff view: three parts, masked identities, the timeline. */
  snprintf(path, sizeof path, "/v1/admin/requests/%s", q.id);
  json_t *det = NULL;
  ck_assert_int_eq(call("GET", path, auditor, NULL, &det), 200);
  ck_assert_uint_eq(json_array_size(json_object_get(det, "parts")), 3);
  char *text = json_dumps(det, 0);
  ck_assert(strstr(text, "C***@e***.net") != NULL);
  ck_assert(strstr(text, "+49*********01") != NULL);
  ck_assert(strstr(text, "Caller.One") == NULL);
  ck_assert(strstr(text, "part.decided") != NULL);
  ck_assert(strstr(text, "request.verified") != NULL);
  ck_assert(strstr(text, "webhook.delivered") != NULL);
  free(text);
  json_decref(det);
  json_decref(ja);
  json_decref(jb);
  wh_stop(&ra);
  wh_stop(&rb);
}
END_TEST

/*
 * A customer that missed every webhook rebuilds its parts from the API alone:
 * the list comes page by page, each part exactly once, newest first, and the
 * last page says no more follow. A made-up cursor or limit is a 400 naming it.
 */
START_TEST(customer_lists_its_parts_page_by_page)
{
  struct wh_receiver w;
  wh_start(&w, NULL);
  struct customer c;
  add_customer(&c, "paged", &w);
  char admin[128];
  staff_token("admin", admin, sizeof admin);
  struct request q[5];
  for (int i = 0; i < 5; i++) {
    char email[64], phone[32];
    snprintf(email, sizeof email, "paged%d@example.org", i);
    snprintf(phone, sizeof phone, "+1415555013%d", i);
    new_request(&q[i], "access", email, phone);
    verify_by_staff(&q[i], admin);
    struct dsr_found_tenant t[] = {{c.tenant, DSR_IDBIT(DSR_ID_EMAIL), 2}};
    struct dsr_found found = {.ntenants = 1, .tenants = t};
    ck_assert_int_eq(discover(q[i].id, &found), 1);
  }
  char seen[5][40] = {{0}};
  int nseen = 0, pages = 0;
  char path[400] = "/v1/customer/requests?limit=2";
  for (;;) {
    json_t *list = NULL;
    ck_assert_int_eq(call("GET", path, c.key, NULL, &list), 200);
    json_t *items = json_object_get(list, "items");
    ck_assert_uint_le(json_array_size(items), 2);
    for (size_t i = 0; i < json_array_size(items); i++) {
      json_t *it = json_array_get(items, i);
      const char *id = json_string_value(json_object_get(it, "part_id"));
      ck_assert_ptr_nonnull(id);
      for (int k = 0; k < nseen; k++)
        ck_assert_str_ne(seen[k], id); /* never twice */
      ck_assert_int_lt(nseen, 5);
      snprintf(seen[nseen++], sizeof seen[0], "%s", id);
      const char *email =
          json_string_value(json_object_get(json_object_get(it, "identities"), "email"));
      ck_assert_msg(email && !strncmp(email, "paged", 5) && strstr(email, "@example.org"),
                    "part %s without its matched email", id);
    }
    pages++;
    const char *next = json_string_value(json_object_get(list, "next_cursor"));
    if (!next) {
      json_decref(list);
      break;
    }
    snprintf(path, sizeof path, "/v1/customer/requests?limit=2&cursor=%s", next);
    json_decref(list);
  }
  ck_assert_int_eq(pages, 3);
  ck_assert_int_eq(nseen, 5);
  for (int k = 0; k + 1 < 5; k++) /* newest first (ties, as under the test clock, by id) */
    ck_assert_int_eq(sqlv("SELECT count(*) FROM dsr_parts a, dsr_parts b WHERE a.id = '%s'"
                          " AND b.id = '%s' AND (a.created_at, a.id) > (b.created_at, b.id)",
                          seen[k], seen[k + 1]),
                     1);
  json_t *all = NULL; /* without a limit, one page of up to 50 */
  ck_assert_int_eq(call("GET", "/v1/customer/requests", c.key, NULL, &all), 200);
  ck_assert_uint_eq(json_array_size(json_object_get(all, "items")), 5);
  ck_assert_ptr_null(json_object_get(all, "next_cursor"));
  json_decref(all);
  /* the second cursor is "2026-02-30T00:00:00.000000Z|" and a well-formed UUID: no such day */
  const char *bad[] = {"/v1/customer/requests?cursor=not-a-cursor",
                       "/v1/customer/requests?cursor=MjAyNi0wMi0zMFQwMDowMDowMC4wMDAwMDBafDAwMDAw"
                       "MDAwLTAwMDAtNDAwMC04MDAwLTAwMDAwMDAwMDAwMA",
                       "/v1/customer/requests?limit=0", "/v1/customer/requests?limit=201",
                       "/v1/customer/requests?limit=2x", "/v1/customer/requests?limit="};
  const char *field[] = {"cursor", "cursor", "limit", "limit", "limit", "limit"};
  for (size_t i = 0; i < DSR_ARRAY_LEN(bad); i++) {
    json_t *p = NULL;
    ck_assert_int_eq(call("GET", bad[i], c.key, NULL, &p), 400);
    ck_assert_str_eq(json_string_value(json_object_get(p, "field")), field[i]);
    json_decref(p);
  }
  wh_stop(&w);
}
END_TEST

/*
 * A withdrawal closes the parts not yet carried out (no job runs them, the
 * customer hears dsr.completed with outcome "withdrawn"); once a part is being
 * carried out, the request can no longer be withdrawn (409 withdraw_too_late).
 */
START_TEST(withdrawal_closes_parts_not_yet_carried_out)
{
  struct wh_receiver w;
  wh_start(&w, NULL);
  struct customer c;
  add_customer(&c, "withdrawn", &w);
  char admin[128], approver[128];
  staff_token("admin", admin, sizeof admin);
  staff_token("approver", approver, sizeof approver);
  struct dsr_found_tenant t[] = {{c.tenant, DSR_IDBIT(DSR_ID_EMAIL), 2}};
  /* the controller's own data too: its part is the erasure staff approve */
  struct dsr_found found = {.controller_rows = 3, .controller_kinds = DSR_IDBIT(DSR_ID_EMAIL),
                            .ntenants = 1, .tenants = t};
  struct request q, late;
  new_request(&q, "erasure", "changed.mind@example.org", "+14155550177");
  new_request(&late, "erasure", "too.late@example.org", "+14155550178");
  const struct request *both[] = {&q, &late};
  for (int i = 0; i < 2; i++) {
    verify_by_staff(both[i], admin);
    ck_assert_int_eq(discover(both[i]->id, &found), 2); /* the controller's part, the customer's */
    ck_assert_int_eq(act(both[i]->id, approver, "{\"action\":\"approve\"}", NULL), 200);
  }
  ck_assert_int_eq(deliver(), 2); /* each customer part forwarded */
  ck_assert_int_eq(sqlv("SELECT count(*) FROM dsr_parts WHERE request_id = '%s' AND state ="
                        " 'approved'", q.id), 1); /* the controller's erasure, not yet run */

  char path[160];
  snprintf(path, sizeof path, "/v1/requests/%s/withdraw", q.id);
  json_t *j = NULL;
  ck_assert_int_eq(call("POST", path, q.token, NULL, &j), 200);
  ck_assert_str_eq(json_string_value(json_object_get(j, "status")), "withdrawn");
  json_decref(j);
  ck_assert_int_eq(sqlv("SELECT count(*) FROM dsr_parts WHERE request_id = '%s' AND NOT"
                        " (state = 'denied' AND reason_code = 'withdrawn')", q.id), 0);
  ck_assert_int_eq(sqlv("SELECT count(*) FROM dsr_requests WHERE id = '%s' AND status ="
                        " 'withdrawn'", q.id), 1);
  dsr_set_fake_now(time(NULL)); /* dsrd's clock queued the event; this test's clock is frozen */
  ck_assert_int_eq(deliver(), 1);
  json_t *done = hit_json(&w, wh_count(&w) - 1);
  ck_assert_str_eq(json_string_value(json_object_get(done, "type")), "dsr.completed");
  json_t *data = json_object_get(done, "data");
  ck_assert_str_eq(json_string_value(json_object_get(data, "outcome")), "withdrawn");
  ck_assert_str_eq(json_string_value(json_object_get(data, "reason")), "withdrawn");
  json_decref(done);

  /* The other request's erasure is under way: too late to withdraw, nothing changes. */
  ck_assert_int_eq(sqlv("UPDATE dsr_parts SET state = 'executing' WHERE request_id = '%s'"
                        " AND customer_id IS NULL AND state = 'approved' RETURNING 1", late.id),
                   1);
  snprintf(path, sizeof path, "/v1/requests/%s/withdraw", late.id);
  ck_assert_int_eq(call("POST", path, late.token, NULL, &j), 409);
  ck_assert_str_eq(json_string_value(json_object_get(j, "code")), "withdraw_too_late");
  json_decref(j);
  ck_assert_int_eq(sqlv("SELECT count(*) FROM dsr_requests WHERE id = '%s' AND status ="
                        " 'in_progress'", late.id), 1);
  ck_assert_int_eq(sqlv("SELECT count(*) FROM dsr_parts WHERE request_id = '%s' AND state ="
                        " 'denied'", late.id), 0);
  /* Its status page says so instead of offering a withdrawal that would be refused. */
  char cookie[200];
  snprintf(cookie, sizeof cookie, "Cookie: dsr_st=%s.%s", late.id, late.token);
  const char *const hdrs[] = {cookie, "Accept: text/html", NULL};
  struct h_resp page;
  snprintf(path, sizeof path, "/requests/%s/status", late.id);
  h_http(api, "GET", path, hdrs, NULL, &page);
  ck_assert_int_eq(page.status, 200);
  ck_assert_msg(strstr(page.body, "can no longer be withdrawn") != NULL, "%s", page.body);
  ck_assert(strstr(page.body, "/withdraw\"") == NULL);
  h_resp_free(&page);
  wh_stop(&w);
}
END_TEST

START_TEST(silent_customer_is_reminded_then_escalated)
{
  struct wh_receiver r;
  wh_start(&r, NULL);
  struct customer c;
  add_customer(&c, "initech", &r);
  char admin[128], approver[128];
  staff_token("admin", admin, sizeof admin);
  staff_token("approver", approver, sizeof approver);
  struct request q;
  new_request(&q, "access", "quiet@example.org", "+14155550111");
  verify_by_staff(&q, admin);
  struct dsr_found_tenant t[] = {{c.tenant, DSR_IDBIT(DSR_ID_EMAIL) | DSR_IDBIT(DSR_ID_PHONE), 4}};
  struct dsr_found found = {.ntenants = 1, .tenants = t};
  ck_assert_int_eq(discover(q.id, &found), 1);
  time_t t0 = dsr_now();
  ck_assert_int_eq(deliver(), 1);
  struct dsr_sweep_counts n;

  dsr_set_fake_now(t0 + 4 * 86400);
  ck_assert(dsr_routing_sweep(tdb, NULL, 7, &n));
  ck_assert_int_eq(sqlv("SELECT count(*) FROM dsr_parts WHERE request_id = '%s' AND state = "
                        "'forwarded' AND reminded_at IS NULL", q.id), 1);

  dsr_set_fake_now(t0 + 5 * 86400 + 60); /* customers.reminder_after: 5 days */
  ck_assert(dsr_routing_sweep(tdb, NULL, 7, &n));
  ck_assert_int_ge(n.reminded, 1);
  ck_assert_int_eq(sqlv("SELECT count(*) FROM dsr_parts WHERE request_id = '%s' AND state = "
                        "'forwarded' AND reminded_at IS NOT NULL", q.id), 1);
  ck_assert(dsr_routing_sweep(tdb, NULL, 7, &n));
  ck_assert_int_eq(n.reminded, 0); /* once */
  ck_assert_int_eq(sqlv("SELECT count(*) FROM dsr_events WHERE request_id = '%s' AND kind = "
                        "'part.reminded'", q.id), 1);
  ck_assert_int_eq(deliver(), 1);
  ck_assert_int_eq(wh_count(&r), 2);
  json_t *j = hit_json(&r, 1);
  ck_assert_str_eq(json_string_value(json_object_get(j, "type")), "dsr.updated");
  ck_assert(json_is_true(json_object_get(json_object_get(j, "data"), "reminder")));
  ck_assert(r.hits[1].sig_ok && r.hits[1].ts_ok);
  json_decref(j);

  dsr_set_fake_now(t0 + 10 * 86400 + 60); /* customers.decision_timeout: 10 days */
  ck_assert(dsr_routing_sweep(tdb, NULL, 7, &n));
  ck_assert_int_ge(n.escalated, 1);
  ck_assert_int_eq(sqlv("SELECT count(*) FROM dsr_parts WHERE request_id = '%s' AND state = "
                        "'escalated'", q.id), 1);
  ck_assert_int_eq(sqlv("SELECT count(*) FROM dsr_events WHERE request_id = '%s' AND kind = "
                        "'part.escalated'", q.id), 1);
  ck_assert_int_eq(deliver(), 1); /* the customer is reminded once more */
  j = hit_json(&r, 2);
  ck_assert_str_eq(json_string_value(json_object_get(json_object_get(j, "data"), "status")),
                   "escalated");
  json_decref(j);

  /* It now sits in the privacy team's queue, where an approver takes it. */
  json_t *list = NULL;
  ck_assert_int_eq(call("GET", "/v1/admin/requests?queue=escalated&limit=200", admin, NULL,
                        &list), 200);
  char *text = json_dumps(list, 0);
  ck_assert(strstr(text, q.id) != NULL);
  free(text);
  json_decref(list);
  ck_assert_int_eq(act(q.id, approver, "{\"action\":\"approve\"}", NULL), 200);
  ck_assert_int_eq(sqlv("SELECT count(*) FROM dsr_parts WHERE request_id = '%s' AND state = "
                        "'approved'", q.id), 1);
  /* Deadline flags: due soon, then overdue, each recorded once. */
  dsr_set_fake_now(t0 + 26 * 86400);
  ck_assert(dsr_routing_sweep(tdb, NULL, 7, &n));
  ck_assert_int_ge(n.due_soon, 1);
  ck_assert(dsr_routing_sweep(tdb, NULL, 7, &n));
  ck_assert_int_eq(n.due_soon, 0);
  ck_assert_int_eq(sqlv("SELECT count(*) FROM dsr_events WHERE request_id = '%s' AND kind = "
                        "'request.due_soon'", q.id), 1);
  dsr_set_fake_now(t0 + 40 * 86400);
  ck_assert(dsr_routing_sweep(tdb, NULL, 7, &n));
  ck_assert_int_ge(n.overdue, 1);
  ck_assert(dsr_routing_sweep(tdb, NULL, 7, &n));
  ck_assert_int_eq(n.overdue, 0);
  ck_assert_int_eq(sqlv("SELECT count(*) FROM dsr_events WHERE request_id = '%s' AND kind = "
                        "'request.overdue'", q.id), 1);
  ck_assert_int_eq(sqlv("SELECT count(*) FROM dsr_requests WHERE id = '%s' AND overdue", q.id), 1);
  wh_stop(&r);
}
END_TEST

START_TEST(gone_disables_the_endpoint)
{
  struct wh_receiver r;
  static const unsigned gone[] = {410, 0};
  wh_start(&r, gone);
  struct customer c;
  add_customer(&c, "hooli", &r);
  char admin[128];
  staff_token("admin", admin, sizeof admin);
  struct request q;
  new_request(&q, "erasure", "gone@example.org", "+14155550122");
  verify_by_staff(&q, admin);
  struct dsr_found_tenant t[] = {{c.tenant, DSR_IDBIT(DSR_ID_PHONE), 1}};
  struct dsr_found found = {.ntenants = 1, .tenants = t};
  ck_assert_int_eq(discover(q.id, &found), 1);
  ck_assert_int_eq(deliver(), 1);
  ck_assert_int_eq(wh_count(&r), 1);
  ck_assert_int_eq(sqlv("SELECT count(*) FROM dsr_customers WHERE id = '%s' AND status = "
                        "'disabled'", c.id), 1);
  ck_assert_int_eq(sqlv("SELECT count(*) FROM dsr_webhook_outbox WHERE customer_id = '%s' AND "
                        "state = 'failed' AND attempts = 1", c.id), 1);
  ck_assert_int_eq(sqlv("SELECT count(*) FROM dsr_events WHERE kind = "
                        "'customer.endpoint_disabled' AND data->>'customer_id' = '%s'", c.id), 1);
  /* Later events wait while the endpoint is disabled, whatever the clock says. */
  ck_assert_int_eq(act(q.id, admin, "{\"action\":\"extend\",\"reason\":\"complex\"}", NULL), 200);
  dsr_set_fake_now(dsr_now() + 3 * 86400);
  ck_assert_int_eq(deliver(), 0);
  ck_assert_int_eq(wh_count(&r), 1);
  const char *args[] = {"customer", "enable", "--name", c.name, NULL};
  free(ctl_run(args));
  ck_assert_int_eq(deliver(), 1);
  ck_assert_int_eq(wh_count(&r), 2);
  ck_assert(r.hits[1].sig_ok);
  wh_stop(&r);
}
END_TEST

START_TEST(retry_after_is_honoured)
{
  struct wh_receiver r;
  static const unsigned busy[] = {503, 0};
  wh_start(&r, busy);
  snprintf(r.retry_after, sizeof r.retry_after, "7200");
  struct customer c;
  add_customer(&c, "busy", &r);
  char admin[128];
  staff_token("admin", admin, sizeof admin);
  struct request q;
  new_request(&q, "erasure", "busy@example.org", "+14155550188");
  verify_by_staff(&q, admin);
  struct dsr_found_tenant t[] = {{c.tenant, DSR_IDBIT(DSR_ID_PHONE), 1}};
  struct dsr_found found = {.ntenants = 1, .tenants = t};
  ck_assert_int_eq(discover(q.id, &found), 1);
  time_t t0 = dsr_now();
  ck_assert_int_eq(deliver(), 1);
  /* The endpoint asked for two hours, far more than the 5 s back-off. */
  ck_assert_int_eq(sqlv("SELECT count(*) FROM dsr_webhook_outbox WHERE customer_id = '%s' AND "
                        "state = 'pending' AND next_attempt_at = to_timestamp(%lld)",
                        c.id, (long long)t0 + 7200), 1);
  dsr_set_fake_now(t0 + 60);
  ck_assert_int_eq(deliver(), 0);
  dsr_set_fake_now(t0 + 7200);
  ck_assert_int_eq(deliver(), 1);
  ck_assert_int_eq(wh_count(&r), 2);
  ck_assert_str_eq(r.hits[0].id, r.hits[1].id);
  ck_assert_uint_eq(r.hits[1].answered, 200);
  wh_stop(&r);
}
END_TEST

START_TEST(rotated_secret_signs_twice_during_grace)
{
  struct wh_receiver r;
  wh_start(&r, NULL);
  struct customer c;
  add_customer(&c, "umbrella", &r);
  char old_secret[128], admin[128];
  snprintf(old_secret, sizeof old_secret, "%s", r.secret);
  staff_token("admin", admin, sizeof admin);
  const char *args[] = {"customer", "rotate-secret", "--name", c.name, NULL};
  char *out = ctl_run(args);
  char new_secret[128];
  field_of(out, "webhook_secret", new_secret, sizeof new_secret);
  free(out);
  ck_assert_str_ne(new_secret, old_secret);
  snprintf(r.secret, sizeof r.secret, "%s", new_secret);

  struct request q;
  new_request(&q, "erasure", "rot@example.org", "+14155550133");
  verify_by_staff(&q, admin);
  struct dsr_found_tenant t[] = {{c.tenant, DSR_IDBIT(DSR_ID_EMAIL), 1}};
  struct dsr_found found = {.ntenants = 1, .tenants = t};
  ck_assert_int_eq(discover(q.id, &found), 1);
  ck_assert_int_eq(deliver(), 1);
  struct wh_hit *h = &r.hits[0];
  ck_assert(h->sig_ok);
  /* Two space-separated signatures: the first with the new secret, the second with the old. */
  char first[256], second[256];
  ck_assert_int_eq(sscanf(h->signature, "%255s %255s", first, second), 2);
  size_t bl = strlen(h->body);
  ck_assert(dsr_webhook_verify(new_secret, h->id, h->ts, h->body, bl, first));
  ck_assert(!dsr_webhook_verify(old_secret, h->id, h->ts, h->body, bl, first));
  ck_assert(dsr_webhook_verify(old_secret, h->id, h->ts, h->body, bl, second));

  /* After the grace period only the new secret signs. */
  dsr_set_fake_now(dsr_now() + 25 * 3600);
  ck_assert_int_eq(act(q.id, admin, "{\"action\":\"hold\"}", NULL), 200);
  ck_assert_int_eq(act(q.id, admin, "{\"action\":\"release\"}", NULL), 200);
  ck_assert_int_eq(sqlv("SELECT count(*) FROM dsr_webhook_outbox WHERE customer_id = '%s' AND "
                        "state = 'pending'", c.id), 0); /* gdpr built-in: clock runs */
  ck_assert_int_eq(act(q.id, admin, "{\"action\":\"extend\",\"reason\":\"volume\"}", NULL), 200);
  ck_assert_int_eq(deliver(), 1);
  h = &r.hits[1];
  ck_assert(h->sig_ok);
  ck_assert(strchr(h->signature, ' ') == NULL);
  ck_assert(!dsr_webhook_verify(old_secret, h->id, h->ts, h->body, strlen(h->body),
                                h->signature));
  wh_stop(&r);
}
END_TEST

/* Every admin action against every role: 403 exactly where the matrix says so. */
START_TEST(roles_checked_on_every_admin_action)
{
  static const char *const roles[] = {"admin", "triager", "approver", "auditor"};
  static const struct {
    const char *body;
    bool allowed[4]; /* admin, triager, approver, auditor */
  } cases[] = {
      {"{\"action\":\"verify\",\"note\":\"id card\"}", {true, true, false, false}},
      {"{\"action\":\"assign\",\"assignee\":\"nobody-here\"}", {true, true, false, false}},
      {"{\"action\":\"hold\"}", {true, true, false, false}},
      {"{\"action\":\"release\"}", {true, true, false, false}},
      {"{\"action\":\"approve\"}", {true, false, true, false}},
      {"{\"action\":\"deny\",\"reason\":\"excessive\"}", {true, false, true, false}},
      {"{\"action\":\"extend\",\"reason\":\"many systems\"}", {true, false, true, false}},
  };
  char tokens[4][128];
  for (int i = 0; i < 4; i++)
    staff_token(roles[i], tokens[i], sizeof tokens[i]);
  for (size_t c = 0; c < DSR_ARRAY_LEN(cases); c++) {
    for (int i = 0; i < 4; i++) {
      struct request q;
      new_request(&q, "erasure", "roles@example.org", "+14155550144");
      json_t *j = NULL;
      long st = act(q.id, tokens[i], cases[c].body, &j);
      if (cases[c].allowed[i])
        ck_assert_msg(st != 403 && st != 401, "%s as %s: %ld", cases[c].body, roles[i], st);
      else
        ck_assert_msg(st == 403, "%s as %s: expected 403, got %ld", cases[c].body, roles[i], st);
      if (st == 403)
        ck_assert_str_eq(json_string_value(json_object_get(j, "code")), "forbidden");
      json_decref(j);
    }
  }
  struct request q;
  new_request(&q, "erasure", "roles@example.org", "+14155550144");
  ck_assert_int_eq(act(q.id, NULL, "{\"action\":\"hold\"}", NULL), 401);
  ck_assert_int_eq(act(q.id, "dsrs_forged", "{\"action\":\"hold\"}", NULL), 401);
  ck_assert_int_eq(act(q.id, tokens[0], "{\"action\":\"explode\"}", NULL), 400);
  char path[120];
  snprintf(path, sizeof path, "/v1/admin/requests/%s", q.id);
  for (int i = 0; i < 4; i++) {
    ck_assert_int_eq(call("GET", path, tokens[i], NULL, NULL), 200);
    ck_assert_int_eq(call("GET", "/v1/admin/requests", tokens[i], NULL, NULL), 200);
  }
  ck_assert_int_eq(call("GET", "/v1/admin/requests", NULL, NULL, NULL), 401);
}
END_TEST

START_TEST(actions_deny_extend_hold_assign)
{
  char admin[128], approver[128];
  staff_token("admin", admin, sizeof admin);
  staff_token("approver", approver, sizeof approver);
  struct request q;
  new_request(&q, "erasure", "acts@example.org", "+14155550155");
  json_t *j = NULL;
  /* Before verification: nothing is extended, held or denied for an unverified requester
   * (nothing is mailed to an address nobody verified); only a denial as unverifiable. */
  ck_assert_int_eq(act(q.id, approver, "{\"action\":\"extend\",\"reason\":\"early\"}", &j), 409);
  ck_assert_str_eq(json_string_value(json_object_get(j, "code")), "not_verified_yet");
  ck_assert(strstr(json_string_value(json_object_get(j, "detail")), "before_verification"));
  json_decref(j);
  ck_assert_int_eq(act(q.id, admin, "{\"action\":\"hold\"}", NULL), 409);
  ck_assert_int_eq(act(q.id, approver, "{\"action\":\"deny\",\"reason\":\"excessive\"}", NULL),
                   409);
  struct request unv;
  new_request(&unv, "erasure", "unverified@example.org", "+14155550157");
  ck_assert_int_eq(
      act(unv.id, approver, "{\"action\":\"deny\",\"reason\":\"identity_not_verified\"}", &j),
      200);
  ck_assert_str_eq(json_string_value(json_object_get(j, "status")), "denied");
  json_decref(j);
  ck_assert_int_eq(sqlv("SELECT count(*) FROM dsr_outbox WHERE request_id = '%s' AND template ="
                        " 'notice'", unv.id), 0);
  verify_by_staff(&q, admin);
  ck_assert_int_eq(act(q.id, approver, "{\"action\":\"deny\"}", &j), 422);
  ck_assert_str_eq(json_string_value(json_object_get(j, "field")), "/reason");
  json_decref(j);
  ck_assert_int_eq(act(q.id, approver, "{\"action\":\"deny\",\"reason\":\"because\"}", NULL),
                   422);
  ck_assert_int_eq(act(q.id, approver, "{\"action\":\"extend\"}", NULL), 422);
  /* extend once, within the notice window, and the subject sees it */
  ck_assert_int_eq(act(q.id, approver, "{\"action\":\"extend\",\"reason\":\"backups\"}", NULL),
                   200);
  ck_assert_int_eq(act(q.id, approver, "{\"action\":\"extend\",\"reason\":\"again\"}", NULL),
                   409);
  /* ... and is told by message on both of its channels (sealed in the outbox until sent) */
  ck_assert_int_eq(sqlv("SELECT count(*) FROM dsr_outbox WHERE request_id = '%s' AND template ="
                        " 'notice' AND body_sealed IS NOT NULL", q.id), 2);
  char path[120], auth[120];
  snprintf(path, sizeof path, "/v1/requests/%s", q.id);
  ck_assert_int_eq(call("GET", path, q.token, NULL, &j), 200);
  json_t *ext = json_object_get(j, "extension");
  ck_assert_ptr_nonnull(ext);
  ck_assert_str_eq(json_string_value(json_object_get(ext, "reason")), "backups");
  /* GDPR: one month plus the two-month extension */
  ck_assert_int_eq(sqlv("SELECT count(*) FROM dsr_requests WHERE id = '%s' AND due_at = "
                        "received_at + interval '3 months'", q.id), 1);
  json_decref(j);
  (void)auth;
  /* out of the notice window: a second request, a month and a day later */
  struct request late;
  new_request(&late, "erasure", "late@example.org", "+14155550156");
  verify_by_staff(&late, admin);
  char sql[300];
  snprintf(sql, sizeof sql, "UPDATE dsr_requests SET received_at = received_at - interval "
                            "'1 month 1 day' WHERE id = '%s'", late.id);
  PQclear(h_sql(rt_conninfo, sql));
  ck_assert_int_eq(act(late.id, approver, "{\"action\":\"extend\",\"reason\":\"late\"}", &j),
                   422);
  ck_assert(strstr(json_string_value(json_object_get(j, "detail")), "notice window") != NULL);
  json_decref(j);
  /* hold / release, assign */
  ck_assert_int_eq(act(q.id, admin, "{\"action\":\"hold\",\"reason\":\"litigation\"}", &j), 200);
  ck_assert_str_eq(json_string_value(json_object_get(j, "status")), "on_hold");
  json_decref(j);
  ck_assert_int_eq(act(q.id, admin, "{\"action\":\"hold\"}", NULL), 409);
  ck_assert_int_eq(act(q.id, admin, "{\"action\":\"release\"}", &j), 200);
  ck_assert_str_eq(json_string_value(json_object_get(j, "status")), "verified");
  json_decref(j);
  char body[200];
  snprintf(body, sizeof body, "{\"action\":\"assign\",\"assignee\":\"approver-%d\"}",
           (int)getpid());
  ck_assert_int_eq(act(q.id, admin, body, NULL), 200);
  ck_assert_int_eq(act(q.id, admin, "{\"action\":\"assign\",\"assignee\":\"ghost\"}", NULL), 422);
  ck_assert_int_eq(act(q.id, approver, "{\"action\":\"deny\",\"reason\":\"excessive\"}", &j),
                   200);
  ck_assert_str_eq(json_string_value(json_object_get(j, "status")), "denied");
  json_decref(j);
  ck_assert_int_eq(act(q.id, approver, "{\"action\":\"deny\",\"reason\":\"excessive\"}", NULL),
                   409);
  ck_assert_int_eq(act("00000000-0000-4000-8000-000000000000", admin, "{\"action\":\"hold\"}",
                       NULL), 404);
  /* verified by hand (2 events), extend, hold, release, assign, deny */
  ck_assert_int_eq(sqlv("SELECT count(*) FROM dsr_events WHERE request_id = '%s' AND actor LIKE "
                        "'staff:%%'", q.id), 7);
}
END_TEST

/* A policy of its own: policy-alt with verification.before_verification set to @p list (JSON). */
static void policy_with_before(const char *list, char *path, size_t n)
{
  char src[600];
  snprintf(src, sizeof src, "%s/tests/data/policy-alt/policy.json", getenv("DSR_TOP_SRCDIR"));
  json_error_t e;
  json_t *p = json_load_file(src, 0, &e);
  ck_assert_msg(p != NULL, "%s", e.text);
  json_t *before = json_loads(list, 0, &e);
  ck_assert_ptr_nonnull(before);
  json_object_set_new(p, "verification", json_pack("{s:o}", "before_verification", before));
  char dir[] = "/tmp/dsr-before-XXXXXX";
  ck_assert_ptr_nonnull(mkdtemp(dir));
  snprintf(path, n, "%s/policy.json", dir);
  ck_assert_int_eq(json_dump_file(p, path, JSON_INDENT(2)), 0);
  json_decref(p);
}

/* Which staff actions a not yet verified request allows is the policy's to say. */
START_TEST(before_verification_follows_the_policy)
{
  /* The default (this suite's policy says nothing; actions_deny_extend_hold_assign has the
   * refusals): assigning is allowed before verification. */
  char triager[128];
  staff_token("triager", triager, sizeof triager);
  struct request q;
  new_request(&q, "erasure", "before@example.org", "+14155550171");
  json_t *j = NULL;
  char body[200];
  snprintf(body, sizeof body, "{\"action\":\"assign\",\"assignee\":\"triager-%d\"}",
           (int)getpid());
  ck_assert_int_eq(act(q.id, triager, body, NULL), 200);

  /* A policy that lets staff extend early (and verify), but neither deny nor assign. */
  char err[512], policy_file[300];
  policy_with_before("[\"verify\", \"extend\"]", policy_file, sizeof policy_file);
  H_REQUIRE(dsr_pgembed_ensure_db(it_pg.embed, "routing_before", err, sizeof err), "%s", err);
  e2e_conninfo = dsr_pgembed_conninfo(it_pg.embed, "routing_before");
  ck_assert_ptr_nonnull(e2e_conninfo);
  char url[600], policy[400];
  snprintf(url, sizeof url, "--database-url=%s", e2e_conninfo);
  snprintf(policy, sizeof policy, "--policy-file=%s", policy_file);
  const char *args[] = {url, policy, "--workers=0", NULL};
  struct h_dsrd other;
  h_dsrd_start(&other, NULL, args);
  api = &other;
  char approver2[128], triager2[128];
  staff_token("approver", approver2, sizeof approver2);
  staff_token("triager", triager2, sizeof triager2);
  struct request e;
  new_request(&e, "erasure", "early@example.org", "+14155550172");
  ck_assert_int_eq(act(e.id, approver2, "{\"action\":\"extend\",\"reason\":\"backlog\"}", &j),
                   200);
  ck_assert_str_eq(json_string_value(json_object_get(j, "status")), "pending_verification");
  json_decref(j);
  ck_assert_int_eq(
      act(e.id, approver2, "{\"action\":\"deny\",\"reason\":\"identity_not_verified\"}", &j), 409);
  ck_assert_str_eq(json_string_value(json_object_get(j, "code")), "not_verified_yet");
  json_decref(j);
  snprintf(body, sizeof body, "{\"action\":\"assign\",\"assignee\":\"triager-%d\"}",
           (int)getpid());
  ck_assert_int_eq(act(e.id, triager2, body, &j), 409);
  ck_assert_str_eq(json_string_value(json_object_get(j, "code")), "not_verified_yet");
  json_decref(j);
  char path[160];
  snprintf(path, sizeof path, "/v1/admin/requests/%s/withdraw", e.id);
  ck_assert_int_eq(call("POST", path, triager2, "{\"reason\":\"phoned\"}", &j), 409);
  ck_assert_str_eq(json_string_value(json_object_get(j, "code")), "not_verified_yet");
  json_decref(j);
  /* Once verified, everything is open again. */
  verify_by_staff(&e, triager2);
  ck_assert_int_eq(act(e.id, triager2, body, NULL), 200);
  ck_assert_int_eq(h_dsrd_stop(&other, SIGTERM), 0);
  api = &rt_dsrd;
  free(e2e_conninfo);
  e2e_conninfo = NULL;
  unlink(policy_file);
  *strrchr(policy_file, '/') = '\0';
  rmdir(policy_file);
}
END_TEST

/* Staff withdraw a request on the requester's behalf: audited, the reason sealed, the
 * requester told as when they withdraw themselves. */
START_TEST(staff_withdraw_for_the_requester)
{
  char triager[128], auditor[128];
  staff_token("triager", triager, sizeof triager);
  staff_token("auditor", auditor, sizeof auditor);
  struct request q;
  new_request(&q, "erasure", "phoned@example.org", "+14155550173");
  char path[160];
  snprintf(path, sizeof path, "/v1/admin/requests/%s/withdraw", q.id);
  json_t *j = NULL;
  ck_assert_int_eq(call("POST", path, triager, "{}", &j), 400); /* the spec: reason required */
  ck_assert_str_eq(json_string_value(json_object_get(j, "field")), "/reason");
  json_decref(j);
  ck_assert_int_eq(call("POST", path, auditor, "{\"reason\":\"phoned in\"}", NULL), 403);
  /* Before verification, by default: the requester phoned in. */
  ck_assert_int_eq(
      call("POST", path, triager, "{\"reason\":\"Phoned in on 5 Dec, caller id matched\"}", &j),
      200);
  ck_assert_str_eq(json_string_value(json_object_get(j, "status")), "withdrawn");
  ck_assert_str_eq(json_string_value(json_object_get(j, "action")), "withdraw");
  json_decref(j);
  ck_assert_int_eq(call("POST", path, triager, "{\"reason\":\"again\"}", &j), 409);
  ck_assert_str_eq(json_string_value(json_object_get(j, "code")), "request_closed");
  json_decref(j);
  /* The event names the staff member and the note, never the reason's text. */
  ck_assert_int_eq(sqlv("SELECT count(*) FROM dsr_events WHERE request_id = '%s' AND kind ="
                        " 'request.withdrawn' AND actor LIKE 'staff:%%' AND"
                        " (data->>'on_behalf')::boolean AND data->>'previous_status' ="
                        " 'pending_verification' AND data::text NOT LIKE '%%Phoned%%'",
                        q.id),
                   1);
  ck_assert_int_eq(sqlv("SELECT count(*) FROM dsr_request_notes n JOIN dsr_events e ON"
                        " (e.data->>'note_id')::bigint = n.id WHERE n.request_id = '%s'"
                        " AND e.kind = 'request.withdrawn' AND position('Phoned'::bytea IN"
                        " n.body_sealed) = 0", q.id),
                   1);
  /* ... the staff page shows it as an internal note and says who withdrew it. */
  snprintf(path, sizeof path, "/v1/admin/requests/%s", q.id);
  ck_assert_int_eq(call("GET", path, triager, NULL, &j), 200);
  ck_assert_str_eq(json_string_value(json_object_get(j, "status")), "withdrawn");
  json_decref(j);
  /* The requester gets the withdrawal notice, as when they withdraw themselves. */
  ck_assert_int_eq(sqlv("SELECT count(*) FROM dsr_jobs WHERE kind = 'closing_notice' AND"
                        " dedupe_key = 'closing:%s'", q.id),
                   1);
  ck_assert(dsr_closing_notice(tdb, NULL, rt_dsrd.base, q.id));
  ck_assert_int_eq(sqlv("SELECT count(*) FROM dsr_events WHERE request_id = '%s' AND kind ="
                        " 'subject.answered' AND data->>'kind' = 'withdrawn'", q.id),
                   1);
  ck_assert_int_eq(sqlv("SELECT count(*) FROM dsr_outbox WHERE request_id = '%s' AND template"
                        " = 'notice'", q.id),
                   2);
  /* A verified request, through the action itself. */
  struct request v;
  new_request(&v, "erasure", "letter@example.org", "+14155550174");
  verify_by_staff(&v, triager);
  ck_assert_int_eq(act(v.id, triager, "{\"action\":\"withdraw\"}", &j), 422);
  ck_assert_str_eq(json_string_value(json_object_get(j, "field")), "/reason");
  json_decref(j);
  ck_assert_int_eq(act(v.id, triager, "{\"action\":\"withdraw\",\"reason\":\"letter\"}", &j), 200);
  ck_assert_str_eq(json_string_value(json_object_get(j, "status")), "withdrawn");
  json_decref(j);
  ck_assert_int_eq(sqlv("SELECT count(*) FROM dsr_events WHERE request_id = '%s' AND kind ="
                        " 'request.withdrawn' AND data->>'previous_status' = 'verified'", v.id),
                   1);
}
END_TEST

START_TEST(no_data_anywhere_still_gets_an_answer)
{
  char admin[128];
  staff_token("admin", admin, sizeof admin);
  struct request q;
  new_request(&q, "access", "nobody@example.org", "+14155550166");
  verify_by_staff(&q, admin);
  struct dsr_found none = {0};
  ck_assert_int_eq(discover(q.id, &none), 0);
  char path[120];
  snprintf(path, sizeof path, "/v1/requests/%s", q.id);
  json_t *j = NULL;
  ck_assert_int_eq(call("GET", path, q.token, NULL, &j), 200);
  ck_assert_str_eq(json_string_value(json_object_get(j, "status")), "completed");
  ck_assert_str_eq(json_string_value(json_object_get(j, "outcome")), "no_data");
  ck_assert(strstr(json_string_value(json_object_get(j, "message")), "no personal data") != NULL);
  json_decref(j);
}
END_TEST

START_TEST(list_filters_and_cursor_pages)
{
  char auditor[128];
  staff_token("auditor", auditor, sizeof auditor);
  for (int i = 0; i < 5; i++) {
    struct request q;
    new_request(&q, "opt_out", "pages@example.org", "+14155550177");
  }
  /* Walk all opt_out requests one page of two at a time: no repeats, newest first. */
  char cursor[200] = "", path[400], seen[64][40];
  int nseen = 0;
  for (int page = 0; page < 64; page++) {
    snprintf(path, sizeof path, "/v1/admin/requests?type=opt_out&limit=2%s%s",
             cursor[0] ? "&cursor=" : "", cursor);
    json_t *j = NULL;
    ck_assert_int_eq(call("GET", path, auditor, NULL, &j), 200);
    json_t *items = json_object_get(j, "items");
    ck_assert_uint_le(json_array_size(items), 2);
    for (size_t i = 0; i < json_array_size(items); i++) {
      const char *id = json_string_value(json_object_get(json_array_get(items, i), "id"));
      ck_assert_str_eq(json_string_value(json_object_get(json_array_get(items, i), "type")),
                       "opt_out");
      for (int k = 0; k < nseen; k++)
        ck_assert_str_ne(seen[k], id);
      ck_assert_int_lt(nseen, 64);
      snprintf(seen[nseen++], sizeof seen[0], "%s", id);
    }
    const char *next = json_string_value(json_object_get(j, "next_cursor"));
    snprintf(cursor, sizeof cursor, "%s", next ? next : "");
    json_decref(j);
    if (!next)
      break;
  }
  ck_assert_int_eq(nseen, (int)h_sql_long(rt_conninfo, "SELECT count(*) FROM dsr_requests "
                                                          "WHERE type = 'opt_out'"));
  ck_assert_int_ge(nseen, 5);
  ck_assert_int_eq(call("GET", "/v1/admin/requests?cursor=bm9wZQ", auditor, NULL, NULL), 400);
  ck_assert_int_eq(call("GET", "/v1/admin/requests?status=bogus", auditor, NULL, NULL), 400);
  ck_assert_int_eq(call("GET", "/v1/admin/requests?limit=0", auditor, NULL, NULL), 400);
  json_t *j = NULL;
  ck_assert_int_eq(call("GET", "/v1/admin/requests?status=completed&overdue=true&limit=200",
                        auditor, NULL, &j), 200);
  ck_assert_uint_eq(json_array_size(json_object_get(j, "items")), 0); /* closed is never overdue */
  json_decref(j);
}
END_TEST

/* ---- the whole chain through the job queue and the real planner ------------------- */

/* The alternate test platform of the policy module (tests/data/policy-alt), own database. */
static char *alt_load(void)
{
  char err[512];
  H_REQUIRE(dsr_pgembed_ensure_db(it_pg.embed, "routing_alt", err, sizeof err), "%s", err);
  char *alt = dsr_pgembed_conninfo(it_pg.embed, "routing_alt");
  H_REQUIRE1(alt != NULL);
  PQclear(h_sql(alt, "SET client_min_messages = warning; DROP SCHEMA IF EXISTS hd CASCADE;"
                     " DROP SCHEMA IF EXISTS acct CASCADE"));
  const char *files[] = {"schema.sql", "data.sql"};
  for (size_t i = 0; i < 2; i++) {
    char path[512];
    snprintf(path, sizeof path, "%s/tests/data/policy-alt/%s", getenv("DSR_TOP_SRCDIR"), files[i]);
    char *sql = h_slurp(path, NULL);
    PQclear(h_sql(alt, sql));
    free(sql);
  }
  H_REQUIRE1(setenv("DSR_ALT_DSN", alt, 1) == 0);
  return alt;
}

static const struct dsr_job_kind routing_registry[] = {
    {DSR_JOB_DISCOVERY, dsr_job_discovery, 300, NULL},
    {DSR_JOB_WEBHOOK, dsr_job_webhook, 120, dsr_job_webhook_batch},
    {DSR_JOB_ROUTING_SWEEP, dsr_job_routing_sweep, 300, NULL},
    {NULL, NULL, 0, NULL},
};

/* Runs queued routing jobs until none is due; returns how many ran. */
static int run_jobs(struct dsr_worker_env *env)
{
  int total = 0, ran;
  while ((ran = dsr_queue_run_batch(tdb, routing_registry, "routing-test", dsr_now(), 8, env)) > 0)
    total += ran;
  ck_assert_int_eq(ran, 0);
  return total;
}

START_TEST(planner_discovery_through_the_job_queue)
{
  const char *alt = alt_conninfo;
  char path[512], err[512];
  snprintf(path, sizeof path, "%s/tests/data/policy-alt/policy.json", getenv("DSR_TOP_SRCDIR"));
  struct dsr_policy *policy = dsr_policy_load(path, err, sizeof err);
  ck_assert_msg(policy != NULL, "%s", err);
  struct dsr_config cfg;
  ck_assert(dsr_config_defaults(&cfg));
  ck_assert(dsr_config_set(&cfg, "webhook_allow_http", "true", err, sizeof err));
  ck_assert(dsr_config_set(&cfg, "webhook_allow_private", "true", err, sizeof err));
  ck_assert(dsr_config_set(&cfg, "base_url", rt_dsrd.base, err, sizeof err));
  struct dsr_worker_env env = {.cfg = &cfg, .policy = policy};

  /* Tenants 10 and 20 of the platform are customers; tenant 30 is nobody's yet. */
  struct wh_receiver r10, r20;
  wh_start(&r10, NULL);
  wh_start(&r20, NULL);
  struct customer c10, c20;
  add_tenant_customer(&c10, "alt10", "10", &r10);
  add_tenant_customer(&c20, "alt20", "20", &r20);
  char triager[128];
  staff_token("triager", triager, sizeof triager);
  struct request q;
  new_request(&q, "erasure", "sam@example.org", "+15550001111");
  (void)run_jobs(&env); /* leftovers of earlier tests; this request is not verified yet */
  ck_assert_int_eq(sqlv("SELECT count(*) FROM dsr_parts WHERE request_id = '%s'", q.id), 0);
  verify_by_staff(&q, triager);         /* enqueues discovery with the state change */
  ck_assert_int_eq(sqlv("SELECT count(*) FROM dsr_jobs WHERE kind = 'discovery' AND "
                        "payload->>'request_id' = '%s'", q.id), 1);
  dsr_set_fake_now(time(NULL) + 1); /* dsrd enqueued it by the real clock */
  ck_assert_int_ge(run_jobs(&env), 3); /* discovery, then one delivery per customer */

  ck_assert_int_eq(sqlv("SELECT count(*) FROM dsr_parts WHERE request_id = '%s'", q.id), 3);
  ck_assert_int_eq(sqlv("SELECT count(*) FROM dsr_parts WHERE request_id = '%s' AND owner_kind ="
                        " 'controller' AND state = 'pending' AND 'email' = ANY(identity_kinds)",
                        q.id), 1); /* members 1 and 3; the policy's default approval: staff */
  ck_assert_int_eq(sqlv("SELECT count(*) FROM dsr_events WHERE request_id = '%s' AND kind = "
                        "'request.discovered' AND (data->>'unclaimed_tenant_rows')::int > 0", q.id),
                   1); /* tenant 30 only mentions the subject, and has no customer */
  ck_assert_int_eq(wh_count(&r10), 1);
  ck_assert_int_eq(wh_count(&r20), 1);
  ck_assert(r10.hits[0].sig_ok && r10.hits[0].ts_ok);
  ck_assert(r20.hits[0].sig_ok && r20.hits[0].ts_ok);
  json_t *j10 = hit_json(&r10, 0), *j20 = hit_json(&r20, 0);
  json_t *i10 = json_object_get(json_object_get(j10, "data"), "identities");
  json_t *i20 = json_object_get(json_object_get(j20, "data"), "identities");
  /* tenant 10 knows the caller by phone only; tenant 20 by phone and email */
  ck_assert_str_eq(json_string_value(json_object_get(i10, "phone")), "+15550001111");
  ck_assert_ptr_null(json_object_get(i10, "email"));
  ck_assert_str_eq(json_string_value(json_object_get(i20, "phone")), "+15550001111");
  ck_assert_str_eq(json_string_value(json_object_get(i20, "email")), "sam@example.org");
  json_decref(j10);
  json_decref(j20);
  /* The platform is untouched by discovery. */
  ck_assert_int_eq(h_sql_long(alt, "SELECT count(*) FROM hd.engagement"), 5);

  /* Staff see the same split as a dry run, identities masked. */
  char auditor[128], ppath[160];
  staff_token("auditor", auditor, sizeof auditor);
  snprintf(ppath, sizeof ppath, "/v1/admin/requests/%s/plan", q.id);
  json_t *pl = NULL;
  ck_assert_int_eq(call("GET", ppath, auditor, NULL, &pl), 200);
  json_t *parts = json_object_get(json_object_get(pl, "plan"), "parts");
  ck_assert_uint_eq(json_array_size(parts), 4); /* controller, tenants 10, 20 and 30 */
  /* the preview says where each goes, as discovery did: tenant 30 has no customer */
  size_t pi;
  json_t *pp;
  json_array_foreach(parts, pi, pp)
  {
    const char *tn = json_string_value(json_object_get(pp, "tenant"));
    const char *to = json_string_value(json_object_get(pp, "routed_to"));
    ck_assert_ptr_nonnull(to);
    ck_assert_str_eq(to, tn && strcmp(tn, "30") != 0 ? "customer" : "controller");
    ck_assert(json_is_string(json_object_get(pp, "route_note")) == (tn && !strcmp(tn, "30")));
  }
  ck_assert_str_eq(json_string_value(json_array_get(json_object_get(json_object_get(pl,
                   "identities"), "used"), 0)), "email");
  char *text = json_dumps(pl, 0);
  ck_assert(strstr(text, "sam@example.org") == NULL);
  ck_assert(strstr(text, "5550001111") == NULL);
  ck_assert(strstr(text, "s***@e***.org") != NULL);
  free(text);
  json_decref(pl);
  json_t *none = NULL;
  ck_assert_int_eq(dsr_admin_plan(tdb, NULL, q.id, &none), DSR_E_NO_POLICY);
  ck_assert_int_eq(call("GET", "/v1/admin/requests/00000000-0000-4000-8000-000000000000/plan",
                        auditor, NULL, NULL), 404);

  /* The sweep job reschedules itself in its next slot. */
  ck_assert(dsr_routing_schedule(tdb, cfg.routing_sweep_interval));
  dsr_set_fake_now(dsr_now() + cfg.routing_sweep_interval + 1);
  ck_assert_int_ge(run_jobs(&env), 1);
  ck_assert_int_eq(sqlv("SELECT count(*) FROM dsr_jobs WHERE kind = 'routing_sweep' AND state ="
                        " 'queued' AND run_at > to_timestamp(%lld)", (long long)dsr_now()), 1);
  wh_stop(&r10);
  wh_stop(&r20);
  dsr_config_free(&cfg);
  dsr_policy_free(policy);
}
END_TEST

/* The same chain inside a real dsrd: its worker threads run discovery (planner) and the
 * deliveries; the test only talks HTTP and waits for the receivers. */
START_TEST(dsrd_workers_discover_and_deliver)
{
  char err[512];
  H_REQUIRE(dsr_pgembed_ensure_db(it_pg.embed, "routing_e2e", err, sizeof err), "%s", err);
  e2e_conninfo = dsr_pgembed_conninfo(it_pg.embed, "routing_e2e");
  ck_assert_ptr_nonnull(e2e_conninfo);
  char url[600], policy[600];
  snprintf(url, sizeof url, "--database-url=%s", e2e_conninfo);
  snprintf(policy, sizeof policy, "--policy-file=%s/tests/data/policy-alt/policy.json",
           getenv("DSR_TOP_SRCDIR"));
  const char *args[] = {url, policy, "--workers=1", "--webhook-allow-http=true",
                        "--webhook-allow-private=true", NULL};
  struct h_dsrd e2e;
  h_dsrd_start(&e2e, NULL, args);
  api = &e2e;
  dsr_set_fake_now(0); /* the daemon signs with the real clock */

  struct wh_receiver r10, r20;
  wh_start(&r10, NULL);
  wh_start(&r20, NULL);
  struct customer c10, c20;
  add_tenant_customer(&c10, "e2e10", "10", &r10);
  add_tenant_customer(&c20, "e2e20", "20", &r20);
  char triager[128];
  staff_token("triager", triager, sizeof triager);
  struct request q;
  new_request(&q, "erasure", "sam@example.org", "+15550001111");
  verify_by_staff(&q, triager);
  /* Wait (bounded) for the workers: discovery, then one delivery per customer. */
  for (int i = 0; i < 600 && (wh_count(&r10) < 1 || wh_count(&r20) < 1); i++) {
    struct timespec ts = {0, 100000000L};
    nanosleep(&ts, NULL);
  }
  ck_assert_msg(wh_count(&r10) == 1 && wh_count(&r20) == 1, "deliveries: %d and %d; log: %s",
                wh_count(&r10), wh_count(&r20), e2e.log);
  ck_assert(r10.hits[0].sig_ok && r10.hits[0].ts_ok);
  ck_assert(r20.hits[0].sig_ok && r20.hits[0].ts_ok);
  json_t *j = hit_json(&r10, 0);
  const char *part = json_string_value(json_object_get(json_object_get(j, "data"), "part_id"));
  ck_assert_ptr_nonnull(part);
  const char *link = json_string_value(json_object_get(json_object_get(j, "data"), "api_url"));
  ck_assert(strncmp(link, "http://127.0.0.1:", 17) == 0); /* base_url defaults to the listener */
  char path[160];
  snprintf(path, sizeof path, "/v1/customer/requests/%s/decision", part);
  ck_assert_int_eq(call("POST", path, c20.key, "{\"decision\":\"handled\"}", NULL), 404);
  ck_assert_int_eq(call("POST", path, c10.key, "{\"decision\":\"handled\"}", NULL), 200);
  json_decref(j);
  ck_assert_int_eq(h_sql_long(e2e_conninfo, "SELECT count(*) FROM dsr_parts WHERE state = 'done'"),
                   1);
  /* dsrd scheduled its routing sweep when its workers started. */
  ck_assert_int_eq(h_sql_long(e2e_conninfo, "SELECT count(*) FROM dsr_jobs WHERE kind = "
                                            "'routing_sweep' AND state = 'queued'"),
                   1);
  wh_stop(&r10);
  wh_stop(&r20);
  ck_assert_int_eq(h_dsrd_stop(&e2e, SIGTERM), 0);
  api = &rt_dsrd;
  free(e2e_conninfo);
  e2e_conninfo = NULL;
}
END_TEST

/* A POST with an Idempotency-Key header (NULL: none); returns the status, *json the body. */
static long call_idem(const char *path, const char *token, const char *key, const char *body,
                      json_t **json)
{
  return call_with("POST", path, token, key, body, json);
}

/* Idempotency-Key on staff and customer POSTs: one mechanism in the dispatcher. */
START_TEST(idempotency_key_on_staff_and_customer_posts)
{
  char admin[128], admin2[128];
  staff_token("admin", admin, sizeof admin);
  snprintf(admin2, sizeof admin2, "%s", admin);
  {
    char name[64];
    snprintf(name, sizeof name, "second-admin-%d", (int)getpid());
    const char *args[] = {"staff", "token", "create", "--role", "admin", "--name", name, NULL};
    char *out = ctl_run(args);
    field_of(out, "token", admin2, sizeof admin2);
    free(out);
  }
  struct request q;
  new_request(&q, "erasure", "idem@example.org", "+14155550177");
  verify_by_staff(&q, admin);
  char path[120];
  snprintf(path, sizeof path, "/v1/admin/requests/%s/actions", q.id);
  const char *hold = "{\"action\":\"hold\",\"reason\":\"litigation\"}";

  /* The retry gets the first answer again; the hold happened once. */
  json_t *first = NULL, *again = NULL;
  ck_assert_int_eq(call_idem(path, admin, "hold-once-1", hold, &first), 200);
  ck_assert_int_eq(call_idem(path, admin, "hold-once-1", hold, &again), 200);
  ck_assert(json_equal(first, again));
  json_decref(first);
  json_decref(again);
  ck_assert_int_eq(sqlv("SELECT count(*) FROM dsr_events WHERE request_id = '%s' AND kind ="
                        " 'request.held'", q.id), 1);
  ck_assert_int_eq(call_idem(path, admin, NULL, hold, NULL), 409); /* without a key: runs */
  /* The same key with another body is refused; nothing runs. */
  json_t *j = NULL;
  ck_assert_int_eq(call_idem(path, admin, "hold-once-1", "{\"action\":\"release\"}", &j), 422);
  ck_assert_str_eq(json_string_value(json_object_get(j, "code")), "idempotency_key_reused");
  json_decref(j);
  ck_assert_int_eq(sqlv("SELECT count(*) FROM dsr_requests WHERE id = '%s' AND status ="
                        " 'on_hold'", q.id), 1);
  /* Keys belong to their caller: another staff member's same key is a new request. */
  ck_assert_int_eq(call_idem(path, admin2, "hold-once-1", hold, NULL), 409);
  /* A 4xx answer is kept too (the retry does not run the action a second time). */
  ck_assert_int_eq(call_idem(path, admin2, "hold-once-1", hold, &j), 409);
  ck_assert_str_eq(json_string_value(json_object_get(j, "code")), "conflict");
  json_decref(j);
  /* A bad key is a 400, before anything runs. */
  ck_assert_int_eq(call_idem(path, admin, "two words", hold, &j), 400);
  ck_assert_str_eq(json_string_value(json_object_get(j, "code")), "bad_header");
  json_decref(j);
  /* Only keyed hashes of keys and sealed answers are stored. */
  ck_assert_int_eq(sqlv("SELECT count(*) FROM dsr_idempotency WHERE scope LIKE"
                        " 'POST /v1/admin/requests/{id}/actions staff:%%' AND status IN (200, 409)"
                        " AND position('hold-once' IN encode(key_hash, 'escape')) = 0"
                        " AND position('on_hold' IN encode(response_sealed, 'escape')) = 0"), 2);

  /* A customer's decision, retried: one decision, the same answer. */
  struct wh_receiver w;
  wh_start(&w, NULL);
  struct customer c;
  add_customer(&c, "idem", &w);
  struct request q2;
  new_request(&q2, "erasure", "idem2@example.org", "+14155550178");
  char triager[128];
  staff_token("triager", triager, sizeof triager);
  verify_by_staff(&q2, triager);
  struct dsr_found_tenant tenants[] = {{c.tenant, DSR_IDBIT(DSR_ID_EMAIL), 1}};
  struct dsr_found found = {.ntenants = 1, .tenants = tenants};
  ck_assert_int_eq(discover(q2.id, &found), 1);
  char part[40];
  char psql[200];
  snprintf(psql, sizeof psql, "SELECT id FROM dsr_parts WHERE customer_id = '%s'", c.id);
  PGresult *pr = h_sql(rt_conninfo, psql);
  ck_assert_int_eq(PQntuples(pr), 1);
  snprintf(part, sizeof part, "%s", PQgetvalue(pr, 0, 0));
  PQclear(pr);
  char dpath[160];
  snprintf(dpath, sizeof dpath, "/v1/customer/requests/%s/decision", part);
  ck_assert_int_eq(call_idem(dpath, c.key, "decide-1", "{\"decision\":\"fulfill\"}", &first),
                   200);
  ck_assert_int_eq(call_idem(dpath, c.key, "decide-1", "{\"decision\":\"fulfill\"}", &again),
                   200);
  ck_assert(json_equal(first, again));
  json_decref(first);
  json_decref(again);
  ck_assert_int_eq(call_idem(dpath, c.key, NULL, "{\"decision\":\"fulfill\"}", NULL), 409);
  ck_assert_int_eq(sqlv("SELECT count(*) FROM dsr_events WHERE kind = 'part.decided' AND"
                        " data->>'part_id' = '%s'", part), 1);
  wh_stop(&w);
}
END_TEST

/* The reservation behind it, with the clock passed in: busy, taken over when stale, replayed. */
START_TEST(idempotency_reservations_busy_stale_and_replayed)
{
  struct dsr_idem k, other;
  json_t *body = json_pack("{s:s}", "action", "hold");
  ck_assert(dsr_idem_init(&k, "POST /test staff:x", "k-1", "/test/1", body));
  ck_assert(dsr_idem_init(&other, "POST /test staff:x", "k-1", "/test/2", body));
  json_decref(body);
  time_t t0 = 2000000000;
  unsigned int status = 0;
  json_t *reply = NULL;
  bool retry = false, lost = false;
  ck_assert_int_eq(dsr_idem_reserve(tdb, &k, t0, &status, &reply, &retry), DSR_IDEM_NONE);
  ck_assert_int_eq(dsr_idem_reserve(tdb, &k, t0 + 1, &status, &reply, &retry), DSR_IDEM_BUSY);
  ck_assert_int_eq(dsr_idem_reserve(tdb, &other, t0 + 1, &status, &reply, &retry),
                   DSR_IDEM_MISMATCH);
  /* The first holder crashed: after DSR_IDEM_STALE_S a retry takes the key over. */
  ck_assert_int_eq(dsr_idem_reserve(tdb, &k, t0 + DSR_IDEM_STALE_S + 1, &status, &reply, &retry),
                   DSR_IDEM_NONE);
  ck_assert(dsr_idem_store(tdb, &k, 201, "{\"ok\":true}", t0 + 70, &lost, &retry));
  ck_assert(!lost);
  ck_assert_int_eq(dsr_idem_reserve(tdb, &k, t0 + 71, &status, &reply, &retry), DSR_IDEM_REPLAY);
  ck_assert_uint_eq(status, 201);
  ck_assert(json_is_true(json_object_get(reply, "ok")));
  json_decref(reply);
  /* A stored answer is never replaced, and a released reservation frees the key. */
  ck_assert(dsr_idem_store(tdb, &k, 200, "{}", t0 + 72, &lost, &retry));
  ck_assert(lost);
  struct dsr_idem k2;
  ck_assert(dsr_idem_init(&k2, "POST /test staff:x", "k-2", "/test/1", NULL));
  ck_assert_int_eq(dsr_idem_reserve(tdb, &k2, t0, &status, &reply, &retry), DSR_IDEM_NONE);
  dsr_idem_release(tdb, &k2);
  ck_assert_int_eq(dsr_idem_reserve(tdb, &k2, t0, &status, &reply, &retry), DSR_IDEM_NONE);
}
END_TEST

/* ---- the customer API alone, and events a receiver can order ------------------------ */

/* Every delivery of @p w validates against docs/webhook-events.schema.json (python3-jsonschema). */
static void assert_schema(struct wh_receiver *w)
{
  char file[] = "/tmp/dsr-wh-XXXXXX";
  int fd = mkstemp(file);
  ck_assert_int_ge(fd, 0);
  FILE *f = fdopen(fd, "w");
  ck_assert_ptr_nonnull(f);
  fputs("[", f);
  for (int i = 0; i < wh_count(w); i++)
    fprintf(f, "%s%s", i ? "," : "", w->hits[i].body);
  fputs("]", f);
  fclose(f);
  char cmd[1200];
  snprintf(cmd, sizeof cmd,
           "python3 -c 'import json,sys,jsonschema; s=json.load(open(sys.argv[1]));"
           " [jsonschema.validate(e, s) for e in json.load(open(sys.argv[2]))]'"
           " '%s/docs/webhook-events.schema.json' '%s' 2>&1",
           getenv("DSR_TOP_SRCDIR"), file);
  FILE *p = popen(cmd, "r");
  ck_assert_ptr_nonnull(p);
  char out[2000] = "";
  size_t n = fread(out, 1, sizeof out - 1, p);
  out[n] = '\0';
  int rc = pclose(p);
  unlink(file);
  ck_assert_msg(rc == 0, "a delivered event breaks the schema: %s", out);
}

/* The deliveries of @p w, by sequence: seen[k] is the hit with sequence k+1 (-1: none). */
static void by_sequence(struct wh_receiver *w, int *seen, int n)
{
  for (int k = 0; k < n; k++)
    seen[k] = -1;
  for (int i = 0; i < wh_count(w); i++) {
    if (w->hits[i].answered < 200 || w->hits[i].answered > 299)
      continue;
    json_t *j = hit_json(w, i);
    json_int_t seq = json_integer_value(json_object_get(json_object_get(j, "data"), "sequence"));
    ck_assert_msg(seq >= 1 && seq <= n, "sequence %lld", (long long)seq);
    ck_assert_msg(seen[seq - 1] < 0, "sequence %lld delivered twice", (long long)seq);
    seen[seq - 1] = i;
    json_decref(j);
  }
}

static const char *hit_str(struct wh_receiver *w, int i, const char *key, char *buf, size_t n)
{
  json_t *j = hit_json(w, i);
  json_t *v = !strcmp(key, "type") ? json_object_get(j, key)
                                   : json_object_get(json_object_get(j, "data"), key);
  snprintf(buf, n, "%s", json_is_string(v) ? json_string_value(v) : "");
  json_decref(j);
  return buf;
}

START_TEST(customer_rebuilds_parts_from_the_api_and_orders_events)
{
  struct wh_receiver ra, rb;
  static const unsigned fails_once[] = {500, 0};
  wh_start(&ra, NULL);
  wh_start(&rb, fails_once);
  snprintf(rb.retry_after, sizeof rb.retry_after, "3600"); /* its retry waits an hour */
  struct customer a, b;
  add_customer(&a, "hooli", &ra);
  add_customer(&b, "piedpiper", &rb);
  char triager[128];
  staff_token("triager", triager, sizeof triager);
  struct request q;
  new_request(&q, "erasure", "Rebuild.Me@example.com", "+4915112349999");
  verify_by_staff(&q, triager);
  struct dsr_found_tenant tenants[] = {{a.tenant, DSR_IDBIT(DSR_ID_EMAIL), 2},
                                       {b.tenant, DSR_IDBIT(DSR_ID_PHONE), 3}};
  struct dsr_found found = {.ntenants = 2, .tenants = tenants};
  ck_assert_int_eq(discover(q.id, &found), 2);
  ck_assert_int_eq(deliver(), 2); /* hooli has its dsr.forwarded; piedpiper's failed */

  /* piedpiper missed the webhook: the list alone says who the subject is. */
  json_t *list = NULL;
  ck_assert_int_eq(call("GET", "/v1/customer/requests", b.key, NULL, &list), 200);
  json_t *item = json_array_get(json_object_get(list, "items"), 0);
  ck_assert_ptr_nonnull(item);
  char pb[40];
  snprintf(pb, sizeof pb, "%s", json_string_value(json_object_get(item, "part_id")));
  json_t *ids = json_object_get(item, "identities");
  ck_assert_str_eq(json_string_value(json_object_get(ids, "phone")), "+4915112349999");
  ck_assert_uint_eq(json_object_size(ids), 1); /* only what matched in its own data */
  ck_assert_str_eq(json_string_value(json_object_get(item, "status")), "forwarded");
  ck_assert_int_eq(json_integer_value(json_object_get(item, "sequence")), 1);
  ck_assert(strstr(json_string_value(json_object_get(item, "api_url")), pb) != NULL);
  json_decref(list);

  /* The part itself, at the api_url every webhook carries, with its history. */
  char path[160];
  snprintf(path, sizeof path, "/v1/customer/requests/%s", pb);
  json_t *part = NULL;
  ck_assert_int_eq(call("GET", path, b.key, NULL, &part), 200);
  ck_assert_str_eq(json_string_value(json_object_get(part, "part_id")), pb);
  ck_assert_str_eq(json_string_value(json_object_get(part, "request_type")), "erasure");
  ck_assert_str_eq(json_string_value(
                       json_object_get(json_object_get(part, "identities"), "phone")),
                   "+4915112349999");
  json_t *hist = json_object_get(part, "history");
  ck_assert_uint_eq(json_array_size(hist), 1);
  ck_assert_str_eq(json_string_value(json_object_get(json_array_get(hist, 0), "event")),
                   "dsr.forwarded");
  ck_assert_str_eq(json_string_value(json_object_get(json_array_get(hist, 0), "delivery")),
                   "pending");
  char *text = json_dumps(part, 0);
  ck_assert_msg(strstr(text, "example.com") == NULL, "%s", text); /* not hooli's identity */
  ck_assert(strstr(text, q.id) == NULL);
  free(text);
  json_decref(part);
  ck_assert_int_eq(call("GET", path, a.key, NULL, NULL), 404); /* another customer's part */
  ck_assert_int_eq(call("GET", "/v1/customer/requests/not-a-uuid", b.key, NULL, NULL), 404);
  ck_assert_int_eq(call("GET", path, triager, NULL, NULL), 401);

  /* A bad decision names the accepted values. */
  snprintf(path, sizeof path, "/v1/customer/requests/%s/decision", pb);
  json_t *pr = NULL;
  ck_assert_int_eq(call("POST", path, b.key, "{\"decision\":\"approve\"}", &pr), 400);
  ck_assert_msg(strstr(json_string_value(json_object_get(pr, "detail")),
                       "fulfill, deny, handled") != NULL,
                "%s", json_string_value(json_object_get(pr, "detail")));
  json_decref(pr);
  ck_assert_int_eq(call("POST", path, b.key, "{\"decision\":\"deny\"}", &pr), 422);
  ck_assert(strstr(json_string_value(json_object_get(pr, "detail")), "not_applicable") != NULL);
  json_decref(pr);

  /* piedpiper denies: its dsr.updated and dsr.completed wait for the forwarded retry. */
  ck_assert_int_eq(call("POST", path, b.key,
                        "{\"decision\":\"deny\",\"reason\":\"not_applicable\"}", NULL), 200);
  dsr_set_fake_now(time(NULL) + 1); /* the daemon wrote them by its (real) clock */
  ck_assert_int_eq(deliver(), 0);
  dsr_set_fake_now(dsr_now() + 3700);
  ck_assert_int_eq(deliver(), 3);
  ck_assert_int_eq(wh_count(&rb), 4);
  char buf[200];
  ck_assert_str_eq(hit_str(&rb, 1, "type", buf, sizeof buf), "dsr.forwarded"); /* in turn */
  ck_assert_str_eq(hit_str(&rb, 2, "type", buf, sizeof buf), "dsr.updated");
  ck_assert_str_eq(hit_str(&rb, 3, "type", buf, sizeof buf), "dsr.completed");
  int seen[3];
  by_sequence(&rb, seen, 3); /* ... and each carries its sequence */
  ck_assert_str_eq(hit_str(&rb, seen[0], "type", buf, sizeof buf), "dsr.forwarded");
  ck_assert_str_eq(hit_str(&rb, seen[1], "change", buf, sizeof buf), "decided");
  ck_assert_str_eq(hit_str(&rb, seen[2], "type", buf, sizeof buf), "dsr.completed");
  ck_assert_str_eq(hit_str(&rb, seen[2], "outcome", buf, sizeof buf), "denied");
  ck_assert_str_eq(hit_str(&rb, seen[2], "reason", buf, sizeof buf), "not_applicable");
  ck_assert_str_eq(hit_str(&rb, seen[2], "status", buf, sizeof buf), "denied");
  ck_assert(strstr(hit_str(&rb, seen[2], "api_url", buf, sizeof buf), pb) != NULL);

  /* hooli says it handled it: a final state, so dsr.completed with outcome "handled". */
  ck_assert_int_eq(call("GET", "/v1/customer/requests", a.key, NULL, &list), 200);
  char pa[40];
  snprintf(pa, sizeof pa, "%s", json_string_value(json_object_get(
                                   json_array_get(json_object_get(list, "items"), 0), "part_id")));
  json_decref(list);
  snprintf(path, sizeof path, "/v1/customer/requests/%s/decision", pa);
  ck_assert_int_eq(call("POST", path, a.key, "{\"decision\":\"handled\"}", NULL), 200);
  dsr_set_fake_now(time(NULL) + 3700);
  ck_assert_int_eq(deliver(), 2);
  by_sequence(&ra, seen, 3);
  ck_assert_str_eq(hit_str(&ra, seen[2], "type", buf, sizeof buf), "dsr.completed");
  ck_assert_str_eq(hit_str(&ra, seen[2], "outcome", buf, sizeof buf), "handled");
  ck_assert_str_eq(hit_str(&ra, seen[2], "status", buf, sizeof buf), "done");
  ck_assert_int_eq(sqlv("SELECT count(*) FROM dsr_requests WHERE id = '%s' AND status = "
                        "'completed'", q.id), 1);
  ck_assert_int_eq(deliver(), 0); /* one dsr.completed per part, not another at completion */

  /* Every event delivered follows the published schema. */
  assert_schema(&ra);
  assert_schema(&rb);

  /* The history now has all three, delivered, in order; the list shows the final state. */
  snprintf(path, sizeof path, "/v1/customer/requests/%s", pa);
  ck_assert_int_eq(call("GET", path, a.key, NULL, &part), 200);
  hist = json_object_get(part, "history");
  ck_assert_uint_eq(json_array_size(hist), 3);
  for (size_t i = 0; i < 3; i++) {
    json_t *e = json_array_get(hist, i);
    ck_assert_int_eq(json_integer_value(json_object_get(e, "sequence")), (json_int_t)i + 1);
    ck_assert_str_eq(json_string_value(json_object_get(e, "delivery")), "delivered");
  }
  ck_assert_str_eq(json_string_value(json_object_get(json_array_get(hist, 2), "change")),
                   "handled");
  ck_assert_str_eq(json_string_value(json_object_get(part, "status")), "done");
  ck_assert_str_eq(json_string_value(json_object_get(part, "decision")), "handled");
  json_decref(part);
  wh_stop(&ra);
  wh_stop(&rb);
}
END_TEST

/* The sequence numbers of @p w's successful deliveries, in the order they arrived. */
static int arrived_in_order(struct wh_receiver *w, json_int_t *seqs, int max)
{
  int n = 0;
  for (int i = 0; i < wh_count(w) && n < max; i++) {
    if (w->hits[i].answered < 200 || w->hits[i].answered > 299)
      continue;
    json_t *j = hit_json(w, i);
    seqs[n++] = json_integer_value(json_object_get(json_object_get(j, "data"), "sequence"));
    json_decref(j);
  }
  return n;
}

/* A part whose customer decided while its dsr.forwarded is retried; @p fails: 500s first. */
static void decided_while_retrying(struct wh_receiver *w, struct customer *c, const char *tag,
                                   const unsigned *fails, char part[40])
{
  wh_start(w, fails);
  add_customer(c, tag, w);
  char triager[128];
  staff_token("triager", triager, sizeof triager);
  char email[80];
  snprintf(email, sizeof email, "%s@example.org", tag);
  unsigned h = 0;
  for (const char *p = tag; *p; p++)
    h = h * 31u + (unsigned char)*p;
  char phone[20];
  snprintf(phone, sizeof phone, "+1415556%04u", h % 10000u);
  struct request q;
  new_request(&q, "erasure", email, phone);
  verify_by_staff(&q, triager);
  struct dsr_found_tenant tenants[] = {{c->tenant, DSR_IDBIT(DSR_ID_EMAIL), 1}};
  struct dsr_found found = {.ntenants = 1, .tenants = tenants};
  ck_assert_int_eq(discover(q.id, &found), 1);
  ck_assert_int_eq(deliver(), 1); /* dsr.forwarded: 500 */
  json_t *list = NULL;
  ck_assert_int_eq(call("GET", "/v1/customer/requests", c->key, NULL, &list), 200);
  snprintf(part, 40, "%s", json_string_value(json_object_get(
                              json_array_get(json_object_get(list, "items"), 0), "part_id")));
  json_decref(list);
  char path[160];
  snprintf(path, sizeof path, "/v1/customer/requests/%s/decision", part);
  ck_assert_int_eq(call("POST", path, c->key,
                        "{\"decision\":\"deny\",\"reason\":\"not_applicable\"}", NULL), 200);
  dsr_set_fake_now(time(NULL) + 1); /* the daemon wrote dsr.updated and dsr.completed */
}

/* A part's later events wait while an earlier one is retried: the receiver sees them in
 * sequence order, whichever way they are picked up (sweep or each row's own job). */
START_TEST(events_of_a_part_wait_for_an_earlier_one_being_retried)
{
  static const unsigned fails[] = {500, 500, 500, 0};
  struct wh_receiver w;
  struct customer c;
  char part[40];
  decided_while_retrying(&w, &c, "inturn", fails, part);
  ck_assert_int_eq(sqlv("SELECT count(*) FROM dsr_webhook_outbox WHERE part_id = '%s' AND"
                        " state = 'pending'", part), 3);
  ck_assert_int_eq(deliver(), 0); /* dsr.updated and dsr.completed are due, but not in turn */
  /* The held rows' own jobs find nothing to send either. */
  long later = sqlv("SELECT id FROM dsr_webhook_outbox WHERE part_id = '%s' AND seq = 2", part);
  bool attempted = true;
  ck_assert(dsr_webhook_deliver_one(tdb, &wopts, later, &attempted));
  ck_assert(!attempted);
  int rearmed = -1;
  ck_assert(dsr_webhook_rearm(tdb, &rearmed));
  ck_assert_int_eq(rearmed, 0); /* the sweep re-arms none of them */
  dsr_set_fake_now(dsr_now() + 10);
  ck_assert_int_eq(deliver(), 1); /* the 2nd attempt fails: the others still wait */
  dsr_set_fake_now(dsr_now() + 400);
  ck_assert_int_eq(deliver(), 1); /* the 3rd too */
  ck_assert_int_eq(wh_count(&w), 3);
  /* The 4th attempt is delivered through its own job: finishing it queues the next event. */
  dsr_set_fake_now(dsr_now() + 2000);
  long first = sqlv("SELECT id FROM dsr_webhook_outbox WHERE part_id = '%s' AND seq = 1", part);
  ck_assert(dsr_webhook_deliver_one(tdb, &wopts, first, &attempted));
  ck_assert(attempted);
  ck_assert_int_eq(sqlv("SELECT count(*) FROM dsr_jobs WHERE kind = 'webhook_deliver' AND state ="
                        " 'queued' AND dedupe_key = 'webhook:%ld:0:after:%ld'", later, first),
                   1);
  ck_assert(dsr_webhook_deliver_one(tdb, &wopts, later, &attempted));
  ck_assert(attempted);
  ck_assert_int_eq(deliver(), 1); /* dsr.completed */
  json_int_t seqs[8];
  ck_assert_int_eq(arrived_in_order(&w, seqs, 8), 3);
  for (int i = 0; i < 3; i++)
    ck_assert_int_eq(seqs[i], i + 1);
  char buf[64];
  ck_assert_str_eq(hit_str(&w, 3, "type", buf, sizeof buf), "dsr.forwarded");
  ck_assert_str_eq(hit_str(&w, 5, "type", buf, sizeof buf), "dsr.completed");
  wh_stop(&w);
}
END_TEST

/* A batch of delivery jobs delivered together: a row named by two jobs goes out once, a
 * later event of the part is not claimed while the earlier one is pending, and a row claimed
 * after the batch's deadline gets its lease back (due again, nothing posted). */
START_TEST(a_batch_of_deliveries_posts_each_due_row_once_and_in_turn)
{
  static const unsigned fails[] = {500, 0};
  struct wh_receiver w;
  struct customer c;
  char part[40];
  decided_while_retrying(&w, &c, "batchturn", fails, part);
  dsr_set_fake_now(dsr_now() + 10);
  long first = sqlv("SELECT id FROM dsr_webhook_outbox WHERE part_id = '%s' AND seq = 1", part);
  long later = sqlv("SELECT id FROM dsr_webhook_outbox WHERE part_id = '%s' AND seq = 2", part);
  long long ids[] = {later, first, first};
  bool failed[3] = {true, true, true};
  size_t attempted = 0;
  ck_assert_uint_eq(dsr_webhook_deliver_many(tdb, &wopts, ids, 3, dsr_mono_ms() + 60000, failed,
                                             &attempted),
                    3);
  ck_assert_uint_eq(attempted, 1);
  ck_assert(!failed[0] && !failed[1] && !failed[2]);
  ck_assert_int_eq(wh_count(&w), 2); /* the 500, then this one */
  ck_assert_int_eq(sqlv("SELECT count(*) FROM dsr_webhook_outbox WHERE id = %ld AND state ="
                        " 'delivered' AND attempts = 2", first),
                   1);
  ck_assert_int_eq(sqlv("SELECT count(*) FROM dsr_webhook_attempts WHERE outbox_id = %ld", first),
                   2);
  ck_assert_int_eq(sqlv("SELECT count(*) FROM dsr_events WHERE kind = 'webhook.delivered' AND"
                        " data->>'webhook_id' = (SELECT webhook_id FROM dsr_webhook_outbox"
                        " WHERE id = %ld)", first),
                   1);
  ck_assert_int_eq(sqlv("SELECT count(*) FROM dsr_audit_entries WHERE kind = 'webhook.delivered'"
                        " AND actor = 'system' AND data::jsonb->>'webhook_id' = (SELECT webhook_id"
                        " FROM dsr_webhook_outbox WHERE id = %ld)", first),
                   1);
  /* Past the deadline: the first row is still attempted. */
  long long two[] = {later, later};
  ck_assert_uint_eq(dsr_webhook_deliver_many(tdb, &wopts, two, 2, 0, failed, &attempted), 2);
  ck_assert_uint_eq(attempted, 1);
  ck_assert_int_eq(wh_count(&w), 3);
  /* Two rows of no part, due together: past the deadline, the second goes back unposted. */
  json_t *data = json_pack("{s:s}", "note", "batch");
  bool retry = false;
  ck_assert(dsr_outbox_add(tdb, c.id, NULL, "dsr.updated", data, &retry));
  ck_assert(dsr_outbox_add(tdb, c.id, NULL, "dsr.updated", data, &retry));
  json_decref(data);
  long long cut[2];
  cut[0] = sqlv("SELECT min(id) FROM dsr_webhook_outbox WHERE customer_id = '%s' AND part_id IS"
                " NULL AND state = 'pending'", c.id);
  cut[1] = sqlv("SELECT max(id) FROM dsr_webhook_outbox WHERE customer_id = '%s' AND part_id IS"
                " NULL AND state = 'pending'", c.id);
  ck_assert(cut[0] != cut[1]);
  ck_assert_uint_eq(dsr_webhook_deliver_many(tdb, &wopts, cut, 2, 0, failed, &attempted), 1);
  ck_assert_uint_eq(attempted, 1);
  ck_assert(!failed[0]);
  ck_assert_int_eq(wh_count(&w), 4);
  ck_assert_int_eq(sqlv("SELECT count(*) FROM dsr_webhook_outbox WHERE id = %lld AND state ="
                        " 'pending' AND attempts = 0 AND next_attempt_at <= to_timestamp(%lld)",
                        cut[1], (long long)dsr_now()),
                   1);
  bool attempted_one = false;
  ck_assert(dsr_webhook_deliver_one(tdb, &wopts, cut[1], &attempted_one));
  ck_assert(attempted_one);
  ck_assert_int_eq(wh_count(&w), 5);
  wh_stop(&w);
}
END_TEST

/* One event that is never taken blocks nothing for ever: once given up, the next ones go. */
START_TEST(events_of_a_part_go_on_after_an_earlier_one_is_given_up)
{
  unsigned fails[DSR_WEBHOOK_MAX_ATTEMPTS + 1] = {0};
  for (int i = 0; i < DSR_WEBHOOK_MAX_ATTEMPTS; i++)
    fails[i] = 503;
  struct wh_receiver w;
  struct customer c;
  char part[40];
  decided_while_retrying(&w, &c, "givenup", fails, part);
  for (int i = 1; i < DSR_WEBHOOK_MAX_ATTEMPTS - 1; i++) {
    dsr_set_fake_now(dsr_now() + 80000); /* past the longest wait, jitter included */
    ck_assert_int_eq(deliver(), 1);      /* only the dsr.forwarded, attempt after attempt */
  }
  ck_assert_int_eq(sqlv("SELECT count(*) FROM dsr_webhook_outbox WHERE part_id = '%s' AND"
                        " state = 'pending'", part), 3);
  /* The last attempt fails: given up, dsr.updated and dsr.completed go at once, in turn. */
  dsr_set_fake_now(dsr_now() + 80000);
  ck_assert_int_eq(deliver(), 3);
  ck_assert_int_eq(wh_count(&w), DSR_WEBHOOK_MAX_ATTEMPTS + 2);
  ck_assert_int_eq(sqlv("SELECT count(*) FROM dsr_webhook_outbox WHERE part_id = '%s' AND"
                        " seq = 1 AND state = 'failed'", part), 1);
  json_int_t seqs[4];
  ck_assert_int_eq(arrived_in_order(&w, seqs, 4), 2);
  ck_assert_int_eq(seqs[0], 2);
  ck_assert_int_eq(seqs[1], 3);
  wh_stop(&w);
}
END_TEST

/* One forwarded part of a new, staff-verified request for customer @p c's tenant. */
static void forward_one(struct customer *c, const char *email, const char *triager)
{
  /* Distinct people: staff verification verifies every identity, and a request sharing a
   * verified identity with an earlier one would be linked to it as a duplicate. */
  unsigned h = 0; /* from the email: each test runs in its own process (a counter restarts) */
  for (const char *p = email; *p; p++)
    h = h * 31u + (unsigned char)*p;
  char phone[20];
  snprintf(phone, sizeof phone, "+1415555%04u", h % 10000u);
  struct request q;
  new_request(&q, "erasure", email, phone);
  verify_by_staff(&q, triager);
  struct dsr_found_tenant tenants[] = {{c->tenant, DSR_IDBIT(DSR_ID_EMAIL), 1}};
  struct dsr_found found = {.ntenants = 1, .tenants = tenants};
  ck_assert_int_eq(discover(q.id, &found), 1);
}

/* Deliveries from one thread share a kept-alive connection; the guard still runs on each. */
START_TEST(webhooks_keep_the_connection_and_guard_every_attempt)
{
  struct wh_receiver r, r2;
  wh_start(&r, NULL);
  wh_start(&r2, NULL);
  struct customer c, c2;
  add_customer(&c, "keep", &r);
  add_customer(&c2, "keep2", &r2);
  char triager[128];
  staff_token("triager", triager, sizeof triager);
  forward_one(&c, "keep1@example.org", triager);
  forward_one(&c, "keep2@example.org", triager);
  forward_one(&c, "keep3@example.org", triager);
  ck_assert_int_eq(deliver(), 3);
  ck_assert_int_eq(wh_count(&r), 3);
  for (int i = 0; i < 3; i++)
    ck_assert(r.hits[i].sig_ok);
  ck_assert_int_eq(wh_connections(&r), 1); /* one TCP connection for three POSTs */
  /* Another endpoint gets its own connection; the first one stays in use. */
  forward_one(&c2, "keep4@example.org", triager);
  forward_one(&c, "keep5@example.org", triager);
  ck_assert_int_eq(deliver(), 2);
  ck_assert_int_eq(wh_count(&r2), 1);
  ck_assert_int_eq(wh_connections(&r2), 1);
  ck_assert_int_eq(wh_count(&r), 4);
  ck_assert_int_eq(wh_connections(&r), 1);
  /* A kept connection never bypasses the guard: loopback refused now, nothing sent. */
  wopts.allow_private = false;
  forward_one(&c, "keep6@example.org", triager);
  ck_assert_int_eq(deliver(), 1);
  ck_assert_int_eq(wh_count(&r), 4);
  ck_assert_int_eq(sqlv("SELECT count(*) FROM dsr_webhook_attempts a JOIN dsr_webhook_outbox o"
                        " ON o.id = a.outbox_id WHERE o.customer_id = '%s' AND a.error LIKE"
                        " 'refused: %%private%%'", c.id), 1);
  wopts.allow_private = true;
  wh_stop(&r);
  wh_stop(&r2);
}
END_TEST

/* Demo mode: dsrd is its demo customers' endpoint and checks signatures; only there does the
 * guard let a plain-http loopback endpoint through, and only that one. */
START_TEST(demo_mode_receiver_checks_signatures)
{
  char key[400], url[600];
  snprintf(key, sizeof key, "--secret-key-file=%s/secret.key", rt_dsrd.state_dir);
  snprintf(url, sizeof url, "--database-url=%s", rt_conninfo);
  const char *args[] = {url, key, "--workers=0", "--demo-mode=true", NULL};
  struct h_dsrd demo;
  h_dsrd_start(&demo, NULL, args);
  struct wh_receiver unused;
  struct customer c;
  snprintf(unused.url, sizeof unused.url, "%.40s/demo/webhooks/demo-%d", demo.base,
           (int)getpid());
  add_customer(&c, "demo", &unused);
  ck_assert(strstr(unused.url, c.name) != NULL); /* the name is the URL's last segment */
  char triager[128];
  staff_token("triager", triager, sizeof triager);
  forward_one(&c, "demo.subject@example.org", triager);
  /* The guard as dsrd in demo mode has it: https only, no private addresses, but its own
   * receiver on this port. */
  struct dsr_webhook_opts saved = wopts;
  wopts.allow_http = wopts.allow_private = false;
  snprintf(wopts.demo_prefix, sizeof wopts.demo_prefix, "http://127.0.0.1:%u/demo/webhooks/",
           demo.port);
  ck_assert(dsr_webhook_is_demo(&wopts, unused.url));
  char other[200];
  snprintf(other, sizeof other, "http://127.0.0.1:%u/v1/requests", demo.port);
  ck_assert(!dsr_webhook_is_demo(&wopts, other));
  snprintf(other, sizeof other, "http://127.0.0.1:%u/demo/webhooks/x/../../v1", demo.port);
  ck_assert(!dsr_webhook_is_demo(&wopts, other));
  ck_assert_int_eq(deliver(), 1);
  ck_assert_int_eq(sqlv("SELECT count(*) FROM dsr_webhook_attempts a JOIN dsr_webhook_outbox o"
                        " ON o.id = a.outbox_id WHERE o.customer_id = '%s' AND a.status_code ="
                        " 200", c.id), 1);
  /* Outside demo mode the same endpoint is refused before any connection. */
  wopts.demo_prefix[0] = '\0';
  forward_one(&c, "demo.subject2@example.org", triager);
  ck_assert_int_eq(deliver(), 1);
  ck_assert_int_eq(sqlv("SELECT count(*) FROM dsr_webhook_attempts a JOIN dsr_webhook_outbox o"
                        " ON o.id = a.outbox_id WHERE o.customer_id = '%s' AND a.error LIKE"
                        " 'refused:%%'", c.id), 1);
  wopts = saved;
  /* A forged delivery: 401; the route does not exist outside demo mode. */
  char path[200], ts[40];
  snprintf(path, sizeof path, "/demo/webhooks/%s", c.name);
  snprintf(ts, sizeof ts, "webhook-timestamp: %lld", (long long)time(NULL));
  const char *h[] = {"webhook-id: msg_forged", ts, "webhook-signature: v1,AAAA", NULL};
  json_t *j = NULL;
  const char *body = "{\"type\":\"dsr.updated\",\"timestamp\":\"x\",\"data\":{}}";
  ck_assert_int_eq(h_json_call(&demo, "POST", path, h, 3, body, &j), 401);
  json_decref(j);
  ck_assert_int_eq(h_json_call(&rt_dsrd, "POST", path, h, 3, body, NULL), 404);
  ck_assert_int_eq(h_dsrd_stop(&demo, SIGTERM), 0);
}
END_TEST

Suite *suite_routing(void)
{
  Suite *s = suite_create("routing");
  TCase *tc = tcase_create("routing");
  tcase_set_timeout(tc, 120);
  tcase_add_unchecked_fixture(tc, suite_setup, suite_teardown);
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, three_parts_signed_webhooks_retries_and_decisions);
  tcase_add_test(tc, customer_lists_its_parts_page_by_page);
  tcase_add_test(tc, withdrawal_closes_parts_not_yet_carried_out);
  tcase_add_test(tc, silent_customer_is_reminded_then_escalated);
  tcase_add_test(tc, gone_disables_the_endpoint);
  tcase_add_test(tc, retry_after_is_honoured);
  tcase_add_test(tc, rotated_secret_signs_twice_during_grace);
  tcase_add_test(tc, roles_checked_on_every_admin_action);
  tcase_add_test(tc, actions_deny_extend_hold_assign);
  tcase_add_test(tc, before_verification_follows_the_policy);
  tcase_add_test(tc, staff_withdraw_for_the_requester);
  tcase_add_test(tc, no_data_anywhere_still_gets_an_answer);
  tcase_add_test(tc, list_filters_and_cursor_pages);
  tcase_add_test(tc, planner_discovery_through_the_job_queue);
  tcase_add_test(tc, dsrd_workers_discover_and_deliver);
  tcase_add_test(tc, idempotency_key_on_staff_and_customer_posts);
  tcase_add_test(tc, idempotency_reservations_busy_stale_and_replayed);
  tcase_add_test(tc, webhooks_keep_the_connection_and_guard_every_attempt);
  tcase_add_test(tc, customer_rebuilds_parts_from_the_api_and_orders_events);
  tcase_add_test(tc, events_of_a_part_wait_for_an_earlier_one_being_retried);
  tcase_add_test(tc, a_batch_of_deliveries_posts_each_due_row_once_and_in_turn);
  tcase_add_test(tc, events_of_a_part_go_on_after_an_earlier_one_is_given_up);
  tcase_add_test(tc, demo_mode_receiver_checks_signatures);
  suite_add_tcase(s, tc);
  return s;
}

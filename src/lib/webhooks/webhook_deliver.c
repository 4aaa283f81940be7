/**
 * @file webhook_deliver.c
 * @brief Delivery of outbox rows: claim (leased, SKIP LOCKED), sign, POST
 *        with libcurl through the SSRF guard (one kept handle per thread:
 *        keep-alive), log the attempt, then mark it
 *        delivered, schedule a retry (backoff with jitter, Retry-After
 *        honoured) or give up; 410 Gone disables the endpoint. A part's
 *        events go out in sequence: a row is not claimed while an earlier
 *        one of its part is pending, and finishing one (delivered or given
 *        up) queues the part's next.
 */
#include "config.h"
#include "dsr/crypto.h"
#include "dsr/events.h"
#include "dsr/log.h"
#include "dsr/queue.h"
#include "dsr/webhook.h"

#include <curl/curl.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* A claimed row is leased this long: another worker will not take it meanwhile. */
#define LEASE_S 300
/* Never wait longer than this between two attempts, whatever Retry-After says. */
#define MAX_WAIT_S (24L * 3600)

/* Waits after the 1st, 2nd, ... failure: about three days in all. */
static const long schedule_s[DSR_WEBHOOK_MAX_ATTEMPTS - 1] = {
    5, 300, 1800, 7200, 18000, 36000, 50400, 72000, 72000};

long dsr_webhook_backoff_s(int attempt)
{
  if (attempt < 1)
    attempt = 1;
  if (attempt > (int)DSR_ARRAY_LEN(schedule_s))
    attempt = (int)DSR_ARRAY_LEN(schedule_s);
  long base = schedule_s[attempt - 1];
  /* +-10% jitter so endpoints that failed together do not all retry together */
  long spread = base / 10;
  if (spread == 0)
    return base;
  return base - spread + (long)randombytes_uniform((uint32_t)(2 * spread + 1));
}

/** One claimed delivery; strings owned, freed by job_free(). */
struct job {
  char outbox_id[24];
  char webhook_id[48];
  char customer_id[40]; /* "" for a DRP status callback (no customer, no signature) */
  char request_id[40]; /* "" when the row has no part */
  char part_id[40];
  char event[24];
  int attempts; /* before this one */
  char *url;
  char *body;
  char *secret;
  char *prev_secret;
  /* outcome */
  long status;
  long retry_after;
  double ms;
  char error[160];
};

static void job_free(struct job *j)
{
  free(j->url);
  if (j->body) {
    sodium_memzero(j->body, strlen(j->body));
    free(j->body);
  }
  if (j->secret) {
    sodium_memzero(j->secret, strlen(j->secret));
    free(j->secret);
  }
  if (j->prev_secret) {
    sodium_memzero(j->prev_secret, strlen(j->prev_secret));
    free(j->prev_secret);
  }
  memset(j, 0, sizeof *j);
}

/* Unseals a bytea column; NULL when it is NULL or does not open. Caller frees. */
static char *unseal_col(const PGresult *r, int row, int col)
{
  if (PQgetisnull(r, row, col))
    return NULL;
  size_t n = 0, pl = 0;
  unsigned char *raw = PQunescapeBytea((const unsigned char *)PQgetvalue(r, row, col), &n);
  unsigned char *plain = NULL;
  if (raw && !dsr_unseal(raw, n, &plain, &pl))
    plain = NULL;
  PQfreemem(raw);
  return (char *)plain;
}

/* The end of a transaction body whose statement failed: retried when the server says so. */
static enum dsr_tx_status fail_tx(PGresult *r)
{
  bool retry = dsr_db_is_retryable(r);
  PQclear(r);
  return retry ? DSR_TX_RETRY : DSR_TX_ROLLBACK;
}

/* Fills @p j from row @p row of a claim (DSR_OUTBOX_CLAIM_FROM's columns). */
static void job_from_row(struct job *j, const PGresult *r, int row)
{
  job_free(j);
  dsr_strlcpy(j->outbox_id, PQgetvalue(r, row, 0), sizeof j->outbox_id);
  dsr_strlcpy(j->webhook_id, PQgetvalue(r, row, 1), sizeof j->webhook_id);
  j->body = unseal_col(r, row, 2);
  j->attempts = atoi(PQgetvalue(r, row, 3));
  dsr_strlcpy(j->customer_id, PQgetvalue(r, row, 4), sizeof j->customer_id);
  j->url = strdup(PQgetvalue(r, row, 5));
  j->secret = unseal_col(r, row, 6);
  j->prev_secret = unseal_col(r, row, 7);
  dsr_strlcpy(j->request_id, PQgetvalue(r, row, 8), sizeof j->request_id);
  dsr_strlcpy(j->part_id, PQgetvalue(r, row, 9), sizeof j->part_id);
  dsr_strlcpy(j->event, PQgetvalue(r, row, 10), sizeof j->event);
}

/*
 * Claims and leases due rows, one statement (its own transaction): the next
 * due row when @p ids is NULL, else those of the id array literal @p ids that
 * are due. NULL when the database failed.
 */
static PGresult *claim(struct dsr_db *db, const char *ids)
{
  char now[24], lease[24];
  snprintf(now, sizeof now, "%lld", (long long)dsr_now());
  snprintf(lease, sizeof lease, "%lld", (long long)dsr_now() + LEASE_S);
  const char *v[] = {now, ids ? ids : lease, lease};
  PGresult *r = ids ? dsr_db_exec(db, DSR_STMT_WEBHOOK_OUTBOX_CLAIM_MANY, 3, v)
                    : dsr_db_exec(db, DSR_STMT_WEBHOOK_OUTBOX_CLAIM, 2, v);
  if (dsr_db_ok(r))
    return r;
  PQclear(r);
  return NULL;
}

static size_t discard(char *p, size_t size, size_t n, void *ud)
{
  (void)p;
  (void)ud;
  return size * n;
}

static size_t on_header(char *buf, size_t size, size_t n, void *ud)
{
  struct job *j = ud;
  size_t len = size * n;
  static const char name[] = "retry-after:";
  if (len > sizeof name - 1 && !strncasecmp(buf, name, sizeof name - 1)) {
    char val[64];
    size_t vl = len - (sizeof name - 1);
    if (vl >= sizeof val)
      vl = sizeof val - 1;
    memcpy(val, buf + sizeof name - 1, vl);
    val[vl] = '\0';
    char *s = val;
    while (*s == ' ' || *s == '\t')
      s++;
    s[strcspn(s, "\r\n")] = '\0';
    char *end = NULL;
    long secs = strtol(s, &end, 10);
    if (end != s && *end == '\0' && secs >= 0) {
      j->retry_after = secs;
    } else {
      time_t t = curl_getdate(s, NULL);
      if (t > 0)
        j->retry_after = t > dsr_now() ? (long)(t - dsr_now()) : 0;
    }
  }
  return len;
}

/* Signatures for the current secret and, during a rotation's grace, the previous one. */
static char *signature_header(const struct job *j, long long ts)
{
  size_t blen = strlen(j->body);
  char *a = dsr_webhook_sign(j->secret, j->webhook_id, ts, j->body, blen);
  char *b = j->prev_secret ? dsr_webhook_sign(j->prev_secret, j->webhook_id, ts, j->body, blen)
                           : NULL;
  char *h = NULL;
  if (a)
    h = b ? dsr_asprintf("webhook-signature: %s %s", a, b)
          : dsr_asprintf("webhook-signature: %s", a);
  free(a);
  free(b);
  return h;
}

/*
 * One libcurl handle per thread, kept between deliveries so that its
 * connection cache keeps connections to endpoints alive (no new TCP and TLS
 * handshake per POST). Every attempt starts from curl_easy_reset(): options
 * never leak from one destination to the next, while the connection, DNS and
 * TLS session caches stay. The SSRF guard still runs before every attempt and
 * pins the address it checked (CURLOPT_RESOLVE); a refused endpoint is never
 * contacted. libcurl matches a cached connection by host name and port, not
 * by address, so the thread remembers the pin ("host:port:address") every
 * cached connection was made under, at most one per host and port: when a
 * host now resolves elsewhere, or more endpoints are in use than it keeps,
 * the handle and all its connections are dropped and a new one starts. So a
 * reused connection always goes to the address the guard just passed. The
 * handle is cleaned up when its thread ends.
 */
#define KEPT_CONNS 16 /* endpoints a thread keeps connections to (CURLOPT_MAXCONNECTS) */

struct kept {
  CURL *h;
  char pins[KEPT_CONNS][400]; /* pins of the connections the handle may hold; "" unused */
};

static pthread_key_t kept_key;
static pthread_once_t kept_once = PTHREAD_ONCE_INIT;

static void kept_free(void *p)
{
  struct kept *k = p;
  curl_easy_cleanup(k->h);
  free(k);
}

static void kept_key_make(void)
{
  if (pthread_key_create(&kept_key, kept_free) != 0)
    abort(); /* at start-up, out of keys: nothing sensible to do */
}

/* Whether @p pin may use the handle's cached connections; records it. False: start afresh. */
static bool kept_pin(struct kept *k, const char *pin)
{
  const char *last = strrchr(pin, ':');
  size_t prefix = last ? (size_t)(last - pin) + 1 : strlen(pin); /* "host:port:" */
  for (int i = 0; i < KEPT_CONNS; i++) {
    if (!strcmp(k->pins[i], pin))
      return true;
    if (!strncmp(k->pins[i], pin, prefix))
      return false; /* the same host and port now resolve elsewhere */
    if (!k->pins[i][0]) {
      dsr_strlcpy(k->pins[i], pin, sizeof k->pins[i]);
      return true; /* a new endpoint: the handle holds no connection for it */
    }
  }
  return false; /* more endpoints than kept */
}

/* This thread's kept handle, options reset, for an attempt pinned to @p pin; NULL: no memory. */
static CURL *thread_handle(const char *pin)
{
  pthread_once(&kept_once, kept_key_make);
  struct kept *k = pthread_getspecific(kept_key);
  if (k && k->h && kept_pin(k, pin)) {
    curl_easy_reset(k->h);
    return k->h;
  }
  if (k) { /* start afresh: no connection made under another pin can be reused */
    curl_easy_cleanup(k->h);
    memset(k->pins, 0, sizeof k->pins);
  } else {
    k = calloc(1, sizeof *k);
    if (!k || pthread_setspecific(kept_key, k) != 0) {
      free(k);
      return NULL;
    }
  }
  k->h = curl_easy_init();
  if (k->h)
    dsr_strlcpy(k->pins[0], pin, sizeof k->pins[0]);
  return k->h;
}

/*
 * Every event links to its part in the customer API; events written where the
 * base URL is not known get the link here, from the same configuration. The
 * body stays the same on every retry.
 */
static void add_api_url(const struct dsr_webhook_opts *o, struct job *j)
{
  json_t *p = j->body && j->part_id[0] ? json_loads(j->body, 0, NULL) : NULL;
  json_t *d = json_object_get(p, "data");
  if (json_is_object(d) && !json_object_get(d, "api_url")) {
    char *link = dsr_asprintf("%s/v1/customer/requests/%s", o->base_url ? o->base_url : "",
                              j->part_id);
    char *text = link && json_object_set_new(d, "api_url", json_string(link)) == 0
                     ? json_dumps(p, JSON_COMPACT)
                     : NULL;
    if (text) {
      sodium_memzero(j->body, strlen(j->body));
      free(j->body);
      j->body = text;
    }
    free(link);
  }
  json_decref(p);
}

/* One HTTP attempt. Fills status / retry_after / error / ms. */
static void post(const struct dsr_webhook_opts *o, struct job *j)
{
  add_api_url(o, j);
  j->status = 0;
  j->retry_after = -1;
  double t0 = dsr_mono_ms();
  char pin[400], why[160];
  CURL *h = NULL;
  struct curl_slist *hdrs = NULL, *resolve = NULL;
  char *sig = NULL;
  bool callback = !j->customer_id[0];
  if (!j->body || (!j->secret && !callback) || !j->url) {
    snprintf(j->error, sizeof j->error, "cannot unseal the payload or the secret");
    goto cleanup;
  }
  if (!dsr_webhook_url_check(o, j->url, pin, sizeof pin, why, sizeof why)) {
    snprintf(j->error, sizeof j->error, "refused: %.140s", why);
    goto cleanup;
  }
  long long ts = (long long)dsr_now();
  char idh[80], tsh[48];
  snprintf(idh, sizeof idh, "webhook-id: %s", j->webhook_id);
  snprintf(tsh, sizeof tsh, "webhook-timestamp: %lld", ts);
  sig = callback ? NULL : signature_header(j, ts);
  h = thread_handle(pin);
  if (!h || (!sig && !callback)) {
    snprintf(j->error, sizeof j->error, "out of memory");
    goto cleanup;
  }
  curl_easy_setopt(h, CURLOPT_MAXCONNECTS, (long)KEPT_CONNS);
  hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
  hdrs = curl_slist_append(hdrs, idh);
  hdrs = curl_slist_append(hdrs, tsh);
  if (sig)
    hdrs = curl_slist_append(hdrs, sig);
  hdrs = curl_slist_append(hdrs, "Expect:");
  resolve = curl_slist_append(resolve, pin);
  curl_easy_setopt(h, CURLOPT_URL, j->url);
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR,
                   o->allow_http || dsr_webhook_is_demo(o, j->url) ? "http,https" : "https");
  curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(h, CURLOPT_RESOLVE, resolve);
  curl_easy_setopt(h, CURLOPT_NOPROXY, "*");
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_TIMEOUT, o->timeout_s > 0 ? o->timeout_s : 15L);
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, o->timeout_s > 0 ? o->timeout_s : 15L);
  curl_easy_setopt(h, CURLOPT_USERAGENT, "dsrd-webhooks/" PACKAGE_VERSION);
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
  curl_easy_setopt(h, CURLOPT_POSTFIELDS, j->body);
  curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)strlen(j->body));
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
  curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(h, CURLOPT_HEADERDATA, j);
  CURLcode rc = curl_easy_perform(h);
  if (rc != CURLE_OK) {
    snprintf(j->error, sizeof j->error, "%s", curl_easy_strerror(rc));
  } else {
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &j->status);
    if (j->status < 200 || j->status > 299)
      snprintf(j->error, sizeof j->error, "HTTP %ld", j->status);
  }
cleanup:
  j->ms = dsr_mono_ms() - t0;
  if (h) /* the lists go now: the kept handle must not point at them */
    curl_easy_reset(h);
  curl_slist_free_all(hdrs);
  curl_slist_free_all(resolve);
  free(sig);
}

struct finish_ctx {
  const struct job *job;
};

static enum dsr_tx_status event_tx(struct dsr_db *db, const char *request_id, const char *kind,
                                   json_t *data)
{
  bool retry = false;
  bool ok = data && dsr_event_record(db, request_id, kind, "system", data, &retry);
  json_decref(data);
  return ok ? DSR_TX_COMMIT : retry ? DSR_TX_RETRY : DSR_TX_ROLLBACK;
}

/* The data of a delivery's final event ("webhook.delivered" or "webhook.failed"). New reference. */
static json_t *event_data(const struct job *j, int attempt)
{
  json_t *d = json_pack("{s:s, s:s, s:i}", "webhook_id", j->webhook_id, "event", j->event,
                        "attempts", attempt);
  if (d)
    json_object_set_new(d, j->customer_id[0] ? "customer_id" : "callback",
                        j->customer_id[0] ? json_string(j->customer_id) : json_true());
  if (d && j->part_id[0])
    json_object_set_new(d, "part_id", json_string(j->part_id));
  return d;
}

static enum dsr_tx_status finish_body(struct dsr_db *db, void *arg)
{
  const struct job *j = ((struct finish_ctx *)arg)->job;
  int attempt = j->attempts + 1;
  long long now = (long long)dsr_now();
  char nows[24], att[12], code[12], ms[16];
  snprintf(nows, sizeof nows, "%lld", now);
  snprintf(att, sizeof att, "%d", attempt);
  snprintf(code, sizeof code, "%ld", j->status);
  snprintf(ms, sizeof ms, "%ld", (long)(j->ms + 0.5));
  const char *av[] = {j->outbox_id, att, nows, j->status ? code : NULL, ms,
                      j->error[0] ? j->error : NULL};
  PGresult *r = dsr_db_exec(db, DSR_STMT_ATTEMPT_INSERT, 6, av);
  if (!dsr_db_ok(r))
    return fail_tx(r);
  PQclear(r);
  const char *state = "pending";
  long long next = now;
  bool gone = j->status == 410;
  if (j->status >= 200 && j->status <= 299) {
    state = "delivered";
  } else if (gone || attempt >= DSR_WEBHOOK_MAX_ATTEMPTS) {
    state = "failed";
  } else {
    long wait = dsr_webhook_backoff_s(attempt);
    if (j->retry_after > wait)
      wait = j->retry_after < MAX_WAIT_S ? j->retry_after : MAX_WAIT_S;
    next = now + wait;
  }
  char nexts[24];
  snprintf(nexts, sizeof nexts, "%lld", next);
  const char *uv[] = {j->outbox_id, state, att, nexts, nows};
  r = dsr_db_exec(db, DSR_STMT_WEBHOOK_OUTBOX_FINISH, 5, uv);
  if (!dsr_db_ok(r))
    return fail_tx(r);
  PQclear(r);
  if (!strcmp(state, "pending")) {
    bool retry = false;
    if (!dsr_webhook_enqueue(db, j->outbox_id, attempt, (time_t)next, &retry))
      return retry ? DSR_TX_RETRY : DSR_TX_ROLLBACK;
  }
  if (strcmp(state, "pending") != 0 && j->part_id[0]) { /* the part's next event may go now */
    bool retry = false;
    if (!dsr_webhook_enqueue_next(db, j->part_id, j->outbox_id, &retry))
      return retry ? DSR_TX_RETRY : DSR_TX_ROLLBACK;
  }
  const char *rid = j->request_id[0] ? j->request_id : NULL;
  if (gone && j->customer_id[0]) { /* a callback has no endpoint to disable */
    const char *dv[] = {j->customer_id, "endpoint answered 410 Gone", nows};
    r = dsr_db_exec(db, DSR_STMT_CUSTOMER_DISABLE, 3, dv);
    if (!dsr_db_ok(r))
      return fail_tx(r);
    bool changed = PQntuples(r) == 1;
    PQclear(r);
    if (changed) {
      enum dsr_tx_status s = event_tx(db, NULL, "customer.endpoint_disabled",
                                      json_pack("{s:s, s:s}", "customer_id", j->customer_id,
                                                "reason", "http_410"));
      if (s != DSR_TX_COMMIT)
        return s;
    }
  }
  if (strcmp(state, "pending") != 0) {
    return event_tx(db, rid, !strcmp(state, "delivered") ? "webhook.delivered" : "webhook.failed",
                    event_data(j, attempt));
  }
  return DSR_TX_COMMIT;
}

/* The log line of a recorded attempt. */
static void log_attempt(const struct job *j)
{
  DSR_INFO("webhook.attempt", "outbox=%s customer=%s attempt=%d status=%ld ms=%.0f",
           j->outbox_id, j->customer_id, j->attempts + 1, j->status, j->ms);
}

/* Records @p j's attempt and outcome in its own transaction; false when the database failed. */
static bool finish(struct dsr_db *db, struct job *j)
{
  struct finish_ctx f = {.job = j};
  if (!dsr_db_tx(db, "READ COMMITTED", finish_body, &f))
    return false; /* the lease runs out and the row is tried again: same webhook-id */
  log_attempt(j);
  return true;
}

/* Claims the next due row, delivers it and records the outcome. */
static bool deliver_next(struct dsr_db *db, const struct dsr_webhook_opts *o, struct job *j,
                         bool *found)
{
  *found = false;
  PGresult *r = claim(db, NULL);
  if (!r)
    return false;
  *found = PQntuples(r) == 1;
  if (*found)
    job_from_row(j, r, 0);
  PQclear(r);
  if (!*found)
    return true;
  post(o, j);
  return finish(db, j);
}

bool dsr_webhook_deliver_due(struct dsr_db *db, const struct dsr_webhook_opts *o, int max,
                             int *sent)
{
  *sent = 0;
  struct job j = {0};
  bool ok = true, found = true;
  for (int i = 0; i < max && ok && found; i++) {
    ok = deliver_next(db, o, &j, &found);
    if (ok && found)
      (*sent)++;
  }
  job_free(&j);
  return ok;
}

struct finish_many_ctx {
  struct job *jobs; /* the attempts made */
  size_t n;
  const char *unlease; /* ids of rows claimed but not attempted, or NULL */
};

/*
 * Adds the attempt of @p j, delivered (2xx), to @p rows for
 * DSR_STMT_WEBHOOK_DELIVERED_MANY and its event to @p events for
 * dsr_event_record_many(): what finish_body() writes for it in three
 * statements, for the whole batch in two.
 */
static bool delivered_row(json_t *rows, json_t *events, const struct job *j)
{
  json_t *row = json_pack("{s:s, s:i, s:i, s:i}", "id", j->outbox_id, "attempt",
                          j->attempts + 1, "code", (int)j->status, "ms", (int)(j->ms + 0.5));
  json_t *d = event_data(j, j->attempts + 1);
  json_t *e = d ? json_pack("{s:s?, s:O}", "request_id",
                            j->request_id[0] ? j->request_id : NULL, "data", d)
                : NULL;
  bool ok = row && e && json_array_append(rows, row) == 0 && json_array_append(events, e) == 0;
  json_decref(row);
  json_decref(e);
  json_decref(d);
  return ok;
}

static enum dsr_tx_status finish_many_body(struct dsr_db *db, void *arg)
{
  struct finish_many_ctx *c = arg;
  if (c->unlease) {
    char now[24];
    snprintf(now, sizeof now, "%lld", (long long)dsr_now());
    const char *v[] = {c->unlease, now};
    PGresult *r = dsr_db_exec(db, DSR_STMT_WEBHOOK_OUTBOX_UNLEASE, 2, v);
    if (!dsr_db_ok(r))
      return fail_tx(r);
    PQclear(r);
  }
  json_t *rows = json_array(), *events = json_array();
  enum dsr_tx_status st = rows && events ? DSR_TX_COMMIT : DSR_TX_ROLLBACK;
  for (size_t i = 0; st == DSR_TX_COMMIT && i < c->n; i++) {
    const struct job *j = &c->jobs[i];
    if (j->status < 200 || j->status > 299) { /* a retry to schedule, a failure, a 410 */
      struct finish_ctx f = {.job = j};
      st = finish_body(db, &f);
      continue;
    }
    bool retry = false;
    if (j->part_id[0] && !dsr_webhook_enqueue_next(db, j->part_id, j->outbox_id, &retry)) {
      st = retry ? DSR_TX_RETRY : DSR_TX_ROLLBACK;
      break;
    }
    st = delivered_row(rows, events, j) ? DSR_TX_COMMIT : DSR_TX_ROLLBACK;
  }
  if (st == DSR_TX_COMMIT && json_array_size(rows) > 0) {
    char *text = json_dumps(rows, JSON_COMPACT);
    char now[24];
    snprintf(now, sizeof now, "%lld", (long long)dsr_now());
    const char *v[] = {text, now};
    PGresult *r = text ? dsr_db_exec(db, DSR_STMT_WEBHOOK_DELIVERED_MANY, 2, v) : NULL;
    bool retry = r && !dsr_db_ok(r) && dsr_db_is_retryable(r);
    bool ok = dsr_db_ok(r) &&
              dsr_event_record_many(db, "webhook.delivered", "system", events, &retry);
    st = ok ? DSR_TX_COMMIT : retry ? DSR_TX_RETRY : DSR_TX_ROLLBACK;
    PQclear(r);
    free(text);
  }
  json_decref(rows);
  json_decref(events);
  return st;
}

/* Appends @p id to the array literal being built in @p b ("{" first). */
static bool ids_add(struct dsr_buf *b, const char *id)
{
  return dsr_buf_printf(b, "%s%s", b->len > 1 ? "," : "", id);
}

size_t dsr_webhook_deliver_many(struct dsr_db *db, const struct dsr_webhook_opts *o,
                                const long long *ids, size_t n, double deadline_ms,
                                bool *failed, size_t *attempted)
{
  *attempted = 0;
  for (size_t i = 0; i < n; i++)
    failed[i] = true;
  struct dsr_buf want = {0}, back = {0};
  struct job *jobs = n ? calloc(n, sizeof *jobs) : NULL;
  size_t *of = n ? calloc(n, sizeof *of) : NULL; /* index in @p ids of each attempt */
  PGresult *r = NULL;
  bool *used = NULL; /* per claimed row: handed to a job */
  size_t dealt = n, posted = 0;
  bool ok = jobs && of && dsr_buf_puts(&want, "{") && dsr_buf_puts(&back, "{");
  for (size_t i = 0; ok && i < n; i++)
    ok = dsr_buf_printf(&want, "%s%lld", i ? "," : "", ids[i]);
  ok = ok && dsr_buf_puts(&want, "}");
  r = ok ? claim(db, want.data) : NULL;
  used = r && PQntuples(r) > 0 ? calloc((size_t)PQntuples(r), sizeof *used) : NULL;
  if (!r || (PQntuples(r) > 0 && !used))
    goto cleanup; /* nothing claimed, or nothing left leased: all tried again */
  for (size_t i = 0; i < n; i++) {
    char id[24];
    snprintf(id, sizeof id, "%lld", ids[i]);
    int row = -1; /* a row claimed for this id, not yet taken by an earlier job of the same id */
    for (int k = 0; k < PQntuples(r) && row < 0; k++)
      if (!used[k] && !strcmp(PQgetvalue(r, k, 0), id))
        row = k;
    if (row >= 0)
      used[row] = true;
    if (row >= 0 && dealt == n && posted > 0 && dsr_mono_ms() > deadline_ms)
      dealt = i; /* out of time: this row and the claimed ones after it go back */
    if (dealt < n) {
      if (row >= 0 && !ids_add(&back, id))
        goto cleanup; /* out of memory: they wait for their lease */
      continue;
    }
    if (row < 0) { /* not due (delivered, rescheduled, waiting its turn) or taken */
      failed[i] = false;
      continue;
    }
    job_from_row(&jobs[posted], r, row);
    post(o, &jobs[posted]);
    of[posted++] = i;
  }
  if (!dsr_buf_puts(&back, "}"))
    goto cleanup;
  *attempted = posted;
  struct finish_many_ctx f = {.jobs = jobs, .n = posted,
                              .unlease = back.len > 2 ? back.data : NULL};
  if (posted == 0 && !f.unlease)
    goto cleanup;
  if (dsr_db_tx(db, "READ COMMITTED", finish_many_body, &f)) {
    for (size_t k = 0; k < posted; k++) {
      failed[of[k]] = false;
      log_attempt(&jobs[k]);
    }
    goto cleanup;
  }
  /* One row's outcome failed the whole transaction: each on its own, so the others stand. */
  DSR_WARN("webhook.batch_finish_failed", "attempts=%zu", posted);
  for (size_t k = 0; k < posted; k++)
    failed[of[k]] = !finish(db, &jobs[k]);
cleanup:
  for (size_t k = 0; jobs && k < n; k++)
    job_free(&jobs[k]);
  free(jobs);
  free(of);
  free(used);
  PQclear(r);
  dsr_buf_free(&want);
  dsr_buf_free(&back);
  return dealt;
}

bool dsr_webhook_deliver_one(struct dsr_db *db, const struct dsr_webhook_opts *o,
                             long long outbox_id, bool *attempted)
{
  bool failed = true;
  size_t made = 0;
  (void)dsr_webhook_deliver_many(db, o, &outbox_id, 1, 0, &failed, &made);
  *attempted = made == 1;
  return !failed;
}

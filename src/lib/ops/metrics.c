/** @file metrics.c @brief GET /metrics: process figures, cached database counts, exposition. */
#include "config.h"
#include "dsr/metrics.h"
#include "dsr/log.h"
#include "dsr/util.h"

#include <arpa/inet.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* ---- process-wide figures -------------------------------------------------------------- */

static const double http_le[] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
static const double job_le[] = {0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 900};
#define HTTP_NB (sizeof http_le / sizeof http_le[0])
#define JOB_NB (sizeof job_le / sizeof job_le[0])
#define MAX_SERIES 512

static const char *const methods[] = {"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH",
                                      "OPTIONS", "other"};
#define NMETHODS (sizeof methods / sizeof methods[0])

struct hist {
  uint64_t bucket[12]; /* per bucket (not cumulative); the last slot counts +Inf only */
  uint64_t count;
  double sum;
};

struct http_series {
  const char *route; /* pattern (static) or "unmatched" */
  unsigned method;
  unsigned status;
  uint64_t count;
};
struct http_hist {
  const char *route;
  unsigned method;
  struct hist h;
};
struct job_series {
  const char *kind, *result;
  uint64_t count;
};
struct job_hist {
  const char *kind;
  struct hist h;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct http_series http[MAX_SERIES];
static struct http_hist http_h[MAX_SERIES];
static struct job_series jobs[64];
static struct job_hist jobs_h[32];
static size_t nhttp, nhttp_h, njobs, njobs_h;
static uint64_t dropped; /* observations beyond the series limits */

static void hist_add(struct hist *h, const double *le, size_t nb, double v)
{
  size_t i = 0;
  while (i < nb && v > le[i])
    i++;
  h->bucket[i]++;
  h->count++;
  h->sum += v;
}

void dsr_metrics_http_observe(const char *route, const char *method, unsigned int status,
                              double seconds)
{
  unsigned m = NMETHODS - 1;
  for (unsigned i = 0; i + 1 < NMETHODS; i++)
    if (method && !strcmp(method, methods[i]))
      m = i;
  if (!route)
    route = "unmatched";
  pthread_mutex_lock(&lock);
  size_t i;
  for (i = 0; i < nhttp; i++)
    if (http[i].route == route && http[i].method == m && http[i].status == status)
      break;
  if (i == nhttp && nhttp < MAX_SERIES)
    http[nhttp++] = (struct http_series){route, m, status, 0};
  if (i < nhttp)
    http[i].count++;
  else
    dropped++;
  for (i = 0; i < nhttp_h; i++)
    if (http_h[i].route == route && http_h[i].method == m)
      break;
  if (i == nhttp_h && nhttp_h < MAX_SERIES)
    http_h[nhttp_h++] = (struct http_hist){.route = route, .method = m};
  if (i < nhttp_h)
    hist_add(&http_h[i].h, http_le, HTTP_NB, seconds);
  pthread_mutex_unlock(&lock);
}

void dsr_metrics_job_observe(const char *kind, const char *result, double seconds)
{
  pthread_mutex_lock(&lock);
  size_t i;
  for (i = 0; i < njobs; i++)
    if (jobs[i].kind == kind && !strcmp(jobs[i].result, result))
      break;
  if (i == njobs && njobs < DSR_ARRAY_LEN(jobs))
    jobs[njobs++] = (struct job_series){kind, result, 0};
  if (i < njobs)
    jobs[i].count++;
  else
    dropped++;
  for (i = 0; i < njobs_h; i++)
    if (jobs_h[i].kind == kind)
      break;
  if (i == njobs_h && njobs_h < DSR_ARRAY_LEN(jobs_h))
    jobs_h[njobs_h++] = (struct job_hist){.kind = kind};
  if (i < njobs_h)
    hist_add(&jobs_h[i].h, job_le, JOB_NB, seconds);
  pthread_mutex_unlock(&lock);
}

/* ---- exposition helpers ---------------------------------------------------------------- */

/* A label value with \, " and newline escaped (text format 0.0.4). */
static bool put_label(struct dsr_buf *b, const char *name, const char *v)
{
  bool ok = dsr_buf_printf(b, "%s=\"", name);
  for (const char *p = v ? v : ""; *p && ok; p++) {
    if (*p == '\\' || *p == '"')
      ok = dsr_buf_printf(b, "\\%c", *p);
    else if (*p == '\n')
      ok = dsr_buf_puts(b, "\\n");
    else
      ok = dsr_buf_append(b, p, 1);
  }
  return ok && dsr_buf_puts(b, "\"");
}

static bool head(struct dsr_buf *b, const char *name, const char *type, const char *help)
{
  return dsr_buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* name{labels...} value, labels as alternating name/value pairs ending in NULL. */
static bool sample(struct dsr_buf *b, const char *name, const char *const *labels, double v)
{
  bool ok = dsr_buf_puts(b, name);
  if (labels && labels[0]) {
    ok = ok && dsr_buf_puts(b, "{");
    for (size_t i = 0; ok && labels[i]; i += 2)
      ok = (i == 0 || dsr_buf_puts(b, ",")) && put_label(b, labels[i], labels[i + 1]);
    ok = ok && dsr_buf_puts(b, "}");
  }
  /* whole numbers as integers (no libm: (long long) truncates, exact below 2^53) */
  if (v > -9e15 && v < 9e15 && (double)(long long)v == v)
    return ok && dsr_buf_printf(b, " %.0f\n", v);
  return ok && dsr_buf_printf(b, " %.6g\n", v);
}

/* The _bucket, _sum and _count samples of one histogram series; @p lab has room for 2 more. */
static bool hist_out(struct dsr_buf *b, const char *name, const char **lab, size_t nlab,
                     const double *le, size_t nb, const struct hist *h)
{
  char bucket[128], sum[128], count[128], lev[32];
  snprintf(bucket, sizeof bucket, "%s_bucket", name);
  snprintf(sum, sizeof sum, "%s_sum", name);
  snprintf(count, sizeof count, "%s_count", name);
  bool ok = true;
  uint64_t cum = 0;
  lab[nlab] = "le";
  lab[nlab + 2] = NULL;
  for (size_t i = 0; i <= nb && ok; i++) {
    cum += h->bucket[i];
    if (i < nb)
      snprintf(lev, sizeof lev, "%g", le[i]);
    else
      snprintf(lev, sizeof lev, "+Inf");
    lab[nlab + 1] = lev;
    ok = sample(b, bucket, lab, (double)cum);
  }
  lab[nlab] = NULL;
  return ok && sample(b, sum, lab, h->sum) && sample(b, count, lab, (double)h->count);
}

static bool render_process(struct dsr_buf *b)
{
  bool ok = true;
  char st[16];
  pthread_mutex_lock(&lock);
  ok = ok && head(b, "dsrd_http_requests_total", "counter",
                  "HTTP requests answered, by route pattern, method and status.");
  for (size_t i = 0; ok && i < nhttp; i++) {
    snprintf(st, sizeof st, "%u", http[i].status);
    const char *lab[] = {"route", http[i].route, "method", methods[http[i].method], "status", st,
                         NULL};
    ok = sample(b, "dsrd_http_requests_total", lab, (double)http[i].count);
  }
  ok = ok && head(b, "dsrd_http_request_duration_seconds", "histogram",
                  "Time from the request's first byte to its answer, by route pattern and method.");
  for (size_t i = 0; ok && i < nhttp_h; i++) {
    const char *lab[8] = {"route", http_h[i].route, "method", methods[http_h[i].method]};
    ok = hist_out(b, "dsrd_http_request_duration_seconds", lab, 4, http_le, HTTP_NB,
                  &http_h[i].h);
  }
  ok = ok && head(b, "dsrd_job_runs_total", "counter",
                  "Job runs in this process, by kind and result (done, retry, fail).");
  for (size_t i = 0; ok && i < njobs; i++) {
    const char *lab[] = {"kind", jobs[i].kind, "result", jobs[i].result, NULL};
    ok = sample(b, "dsrd_job_runs_total", lab, (double)jobs[i].count);
  }
  ok = ok && head(b, "dsrd_job_duration_seconds", "histogram",
                  "How long one job run took in this process, by kind.");
  for (size_t i = 0; ok && i < njobs_h; i++) {
    const char *lab[6] = {"kind", jobs_h[i].kind};
    ok = hist_out(b, "dsrd_job_duration_seconds", lab, 2, job_le, JOB_NB, &jobs_h[i].h);
  }
  ok = ok && head(b, "dsrd_metrics_series_dropped_total", "counter",
                  "Observations not recorded because a series table was full.");
  ok = ok && sample(b, "dsrd_metrics_series_dropped_total", NULL, (double)dropped);
  pthread_mutex_unlock(&lock);
  return ok;
}

void dsr_metrics_reset(void)
{
  pthread_mutex_lock(&lock);
  nhttp = nhttp_h = njobs = njobs_h = 0;
  dropped = 0;
  memset(http_h, 0, sizeof http_h);
  memset(jobs_h, 0, sizeof jobs_h);
  pthread_mutex_unlock(&lock);
}

/* ---- database counts, cached --------------------------------------------------------- */

static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;
static char *cache_text;    /* the rendered database section */
static double cache_at_ms;  /* dsr_mono_ms() when it was read */
static bool cache_db_up;
static uint64_t cache_reads, cache_failures;

/* Runs @p st with $1 = now; NULL (logged) on failure. */
static PGresult *q(struct dsr_db *db, enum dsr_stmt st, const char *now)
{
  const char *params[] = {now};
  int n = 0;
  switch (st) {
  case DSR_STMT_METRICS_DEADLINES:
  case DSR_STMT_METRICS_VERIFICATIONS:
  case DSR_STMT_METRICS_JOBS:
  case DSR_STMT_METRICS_AUDIT:
    n = 1;
    break;
  default:
    break;
  }
  PGresult *res = dsr_db_exec(db, st, n, n ? params : NULL);
  if (!dsr_db_ok(res)) {
    DSR_WARN("metrics.query_failed", "stmt=%s", dsr_stmt_name(st));
    PQclear(res);
    return NULL;
  }
  return res;
}

static double num(const PGresult *r, int row, int col)
{
  return strtod(PQgetvalue(r, row, col), NULL);
}

/* Renders the database section into @p b; false when a query failed. */
static bool read_db(struct dsr_db *db, time_t now, struct dsr_buf *b)
{
  char nows[32];
  snprintf(nows, sizeof nows, "%lld", (long long)now);
  PGresult *r = NULL;
  bool ok = true;

  ok = ok && (r = q(db, DSR_STMT_METRICS_REQUESTS, nows)) != NULL;
  ok = ok && head(b, "dsrd_requests", "gauge", "Requests by status, type and jurisdiction.");
  for (int i = 0; ok && i < PQntuples(r); i++) {
    const char *lab[] = {"status", PQgetvalue(r, i, 0), "type", PQgetvalue(r, i, 1),
                         "jurisdiction", PQgetvalue(r, i, 2), NULL};
    ok = sample(b, "dsrd_requests", lab, num(r, i, 3));
  }
  PQclear(r);
  r = NULL;

  ok = ok && (r = q(db, DSR_STMT_METRICS_DEADLINES, nows)) != NULL && PQntuples(r) == 1;
  ok = ok && head(b, "dsrd_requests_open", "gauge", "Requests not yet closed.") &&
       sample(b, "dsrd_requests_open", NULL, num(r, 0, 0));
  ok = ok && head(b, "dsrd_requests_due_this_week", "gauge",
                  "Open requests whose due date falls in the next 7 days.") &&
       sample(b, "dsrd_requests_due_this_week", NULL, num(r, 0, 1));
  ok = ok && head(b, "dsrd_requests_overdue", "gauge", "Open requests past their due date.") &&
       sample(b, "dsrd_requests_overdue", NULL, num(r, 0, 2));
  PQclear(r);
  r = NULL;

  ok = ok && (r = q(db, DSR_STMT_METRICS_VERIFICATIONS, nows)) != NULL;
  ok = ok && head(b, "dsrd_verifications", "gauge",
                  "Verification channels of requests by outcome (verified, locked, expired, "
                  "pending).");
  for (int i = 0; ok && i < PQntuples(r); i++) {
    const char *lab[] = {"channel", PQgetvalue(r, i, 0), "outcome", PQgetvalue(r, i, 1), NULL};
    ok = sample(b, "dsrd_verifications", lab, num(r, i, 2));
  }
  PQclear(r);
  r = NULL;

  ok = ok && (r = q(db, DSR_STMT_METRICS_PARTS, nows)) != NULL;
  ok = ok && head(b, "dsrd_parts", "gauge", "Request parts by owner (controller, customer) and state.");
  for (int i = 0; ok && i < PQntuples(r); i++) {
    const char *lab[] = {"owner", PQgetvalue(r, i, 0), "state", PQgetvalue(r, i, 1), NULL};
    ok = sample(b, "dsrd_parts", lab, num(r, i, 2));
  }
  PQclear(r);
  r = NULL;

  ok = ok && (r = q(db, DSR_STMT_METRICS_JOBS, nows)) != NULL;
  ok = ok && head(b, "dsrd_jobs", "gauge", "Jobs in the queue by kind and state (queued, running, dead).");
  for (int i = 0; ok && i < PQntuples(r); i++) {
    const char *lab[] = {"kind", PQgetvalue(r, i, 0), "state", PQgetvalue(r, i, 1), NULL};
    ok = sample(b, "dsrd_jobs", lab, num(r, i, 2));
  }
  ok = ok && head(b, "dsrd_jobs_runnable", "gauge",
                  "Queued jobs whose time has come (the queue depth), by kind.");
  for (int i = 0; ok && i < PQntuples(r); i++) {
    if (strcmp(PQgetvalue(r, i, 1), "queued"))
      continue;
    const char *lab[] = {"kind", PQgetvalue(r, i, 0), NULL};
    ok = sample(b, "dsrd_jobs_runnable", lab, num(r, i, 3));
  }
  PQclear(r);
  r = NULL;

  ok = ok && (r = q(db, DSR_STMT_METRICS_WEBHOOK_OUTBOX, nows)) != NULL;
  ok = ok && head(b, "dsrd_webhook_messages", "gauge",
                  "Webhook messages to customers by state (pending, delivered, failed, cancelled).");
  for (int i = 0; ok && i < PQntuples(r); i++) {
    const char *lab[] = {"state", PQgetvalue(r, i, 0), NULL};
    ok = sample(b, "dsrd_webhook_messages", lab, num(r, i, 1));
  }
  PQclear(r);
  r = NULL;

  static const double wh_le[] = {0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30};
  ok = ok && (r = q(db, DSR_STMT_METRICS_WEBHOOK_ATTEMPTS, nows)) != NULL;
  ok = ok && head(b, "dsrd_webhook_delivery_attempts", "gauge",
                  "Webhook delivery attempts on record by outcome (success, http_error, "
                  "transport_error); old ones leave with the retention sweep.");
  for (int i = 0; ok && i < PQntuples(r); i++) {
    const char *lab[] = {"outcome", PQgetvalue(r, i, 0), NULL};
    ok = sample(b, "dsrd_webhook_delivery_attempts", lab, num(r, i, 1));
  }
  ok = ok && head(b, "dsrd_webhook_delivery_duration_seconds", "histogram",
                  "Duration of the webhook delivery attempts on record, by outcome.");
  for (int i = 0; ok && i < PQntuples(r); i++) {
    struct hist h = {.count = (uint64_t)num(r, i, 1), .sum = num(r, i, 2) / 1000.0};
    uint64_t prev = 0;
    for (size_t k = 0; k < DSR_ARRAY_LEN(wh_le); k++) {
      uint64_t cum = (uint64_t)num(r, i, 3 + (int)k);
      h.bucket[k] = cum - prev;
      prev = cum;
    }
    h.bucket[DSR_ARRAY_LEN(wh_le)] = h.count - prev;
    const char *lab[6] = {"outcome", PQgetvalue(r, i, 0)};
    ok = hist_out(b, "dsrd_webhook_delivery_duration_seconds", lab, 2, wh_le,
                  DSR_ARRAY_LEN(wh_le), &h);
  }
  PQclear(r);
  r = NULL;

  ok = ok && (r = q(db, DSR_STMT_METRICS_ENDPOINTS_DISABLED, nows)) != NULL;
  ok = ok && head(b, "dsrd_webhook_endpoints_disabled", "gauge",
                  "Customers whose webhook endpoint is disabled (410 Gone or by hand).") &&
       sample(b, "dsrd_webhook_endpoints_disabled", NULL, num(r, 0, 0));
  PQclear(r);
  r = NULL;

  ok = ok && (r = q(db, DSR_STMT_METRICS_AUDIT, nows)) != NULL && PQntuples(r) == 1;
  double lag = ok ? num(r, 0, 2) : 0;
  ok = ok && head(b, "dsrd_audit_sealed_position", "gauge",
                  "Position of the last entry linked into the audit hash chain.") &&
       sample(b, "dsrd_audit_sealed_position", NULL, num(r, 0, 0));
  ok = ok && head(b, "dsrd_audit_unsealed_entries", "gauge",
                  "Audit entries not yet linked into the chain.") &&
       sample(b, "dsrd_audit_unsealed_entries", NULL, num(r, 0, 1));
  ok = ok && head(b, "dsrd_audit_seal_lag_seconds", "gauge",
                  "Age of the oldest audit entry not yet linked into the chain (0: none).") &&
       sample(b, "dsrd_audit_seal_lag_seconds", NULL, lag > 0 ? lag : 0);
  PQclear(r);
  return ok;
}

/* The database section, read again when older than cache_seconds; copied into @p out. */
static bool db_section(const struct dsr_metrics_env *env, struct dsr_buf *out)
{
  pthread_mutex_lock(&cache_lock);
  double now_ms = dsr_mono_ms();
  if (env->pool && (!cache_text || now_ms - cache_at_ms >= env->cache_seconds * 1000.0)) {
    struct dsr_buf fresh = {0};
    struct dsr_db *db = dsr_db_acquire(env->pool);
    bool up = db && read_db(db, env->now, &fresh);
    dsr_db_release(db);
    cache_reads++;
    cache_at_ms = now_ms; /* a failed read is not retried by every scrape either */
    cache_db_up = up;
    if (up) {
      free(cache_text);
      cache_text = dsr_buf_steal(&fresh);
    } else {
      cache_failures++;
    }
    dsr_buf_free(&fresh);
  }
  bool ok = head(out, "dsrd_metrics_db_up", "gauge",
                 "1 when the last read of the database counts succeeded.") &&
            sample(out, "dsrd_metrics_db_up", NULL, cache_db_up ? 1 : 0);
  ok = ok && head(out, "dsrd_metrics_db_reads_total", "counter",
                  "Reads of the database counts by this process (at most one per "
                  "metrics_cache_seconds).") &&
       sample(out, "dsrd_metrics_db_reads_total", NULL, (double)cache_reads);
  ok = ok && head(out, "dsrd_metrics_db_read_failures_total", "counter",
                  "Reads of the database counts that failed.") &&
       sample(out, "dsrd_metrics_db_read_failures_total", NULL, (double)cache_failures);
  ok = ok && head(out, "dsrd_metrics_db_age_seconds", "gauge",
                  "Age of the database counts shown.") &&
       sample(out, "dsrd_metrics_db_age_seconds", NULL,
              cache_text ? (now_ms - cache_at_ms) / 1000.0 : 0);
  if (ok && cache_text)
    ok = dsr_buf_puts(out, cache_text);
  pthread_mutex_unlock(&cache_lock);
  return ok;
}

char *dsr_metrics_render(const struct dsr_metrics_env *env)
{
  struct dsr_buf b = {0};
  const char *lab[] = {"version", PACKAGE_VERSION, "role", env->role ? env->role : "all", NULL};
  bool ok = head(&b, "dsrd_build_info", "gauge", "Version and role of this dsrd; always 1.") &&
            sample(&b, "dsrd_build_info", lab, 1);
  if (ok && env->pool) {
    unsigned size = 0, in_use = 0, waiting = 0;
    dsr_db_pool_stats(env->pool, &size, &in_use, &waiting);
    ok = head(&b, "dsrd_db_pool_connections", "gauge", "Size of this process's connection pool.") &&
         sample(&b, "dsrd_db_pool_connections", NULL, size) &&
         head(&b, "dsrd_db_pool_in_use", "gauge", "Pooled connections handed out now.") &&
         sample(&b, "dsrd_db_pool_in_use", NULL, in_use) &&
         head(&b, "dsrd_db_pool_waiting", "gauge", "Threads waiting for a pooled connection.") &&
         sample(&b, "dsrd_db_pool_waiting", NULL, waiting);
  }
  ok = ok && render_process(&b) && db_section(env, &b);
  if (!ok) {
    dsr_buf_free(&b);
    return NULL;
  }
  return dsr_buf_steal(&b);
}

/* ---- who may read /metrics --------------------------------------------------------- */

/* Parses "ADDR" or "ADDR/BITS" into family, bytes and prefix length. */
static bool parse_net(const char *s, size_t len, int *family, unsigned char addr[16], int *bits)
{
  char tmp[64];
  if (len == 0 || len >= sizeof tmp)
    return false;
  memcpy(tmp, s, len);
  tmp[len] = '\0';
  char *slash = strchr(tmp, '/');
  long pl = -1;
  if (slash) {
    *slash = '\0';
    char *end = NULL;
    pl = strtol(slash + 1, &end, 10);
    if (!slash[1] || *end || pl < 0)
      return false;
  }
  if (inet_pton(AF_INET, tmp, addr) == 1) {
    *family = AF_INET;
    *bits = pl < 0 ? 32 : (int)pl;
    return *bits <= 32;
  }
  if (inet_pton(AF_INET6, tmp, addr) == 1) {
    *family = AF_INET6;
    *bits = pl < 0 ? 128 : (int)pl;
    return *bits <= 128;
  }
  return false;
}

static bool prefix_eq(const unsigned char *a, const unsigned char *b, int bits)
{
  int full = bits / 8, rest = bits % 8;
  if (memcmp(a, b, (size_t)full) != 0)
    return false;
  if (!rest)
    return true;
  unsigned char mask = (unsigned char)(0xff << (8 - rest));
  return (a[full] & mask) == (b[full] & mask);
}

bool dsr_metrics_addr_allowed(const char *allow, const char *addr)
{
  int fam = 0, bits = 0;
  unsigned char a[16];
  if (!allow || !addr || !parse_net(addr, strlen(addr), &fam, a, &bits))
    return false;
  /* an IPv4 client on a dual-stack socket arrives as ::ffff:a.b.c.d */
  static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (fam == AF_INET6 && !memcmp(a, mapped, 12)) {
    memmove(a, a + 12, 4);
    fam = AF_INET;
  }
  for (const char *p = allow; *p;) {
    while (*p == ' ' || *p == ',')
      p++;
    size_t len = strcspn(p, ", ");
    int nf = 0, nb = 0;
    unsigned char n[16];
    if (len && parse_net(p, len, &nf, n, &nb) && nf == fam && prefix_eq(a, n, nb))
      return true;
    p += len;
  }
  return false;
}

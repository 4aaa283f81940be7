/** @file report.c @brief Gathers the compliance report from the database (see report.h). */
#include "config.h"
#include "dsr/report.h"
#include "dsr/audit.h"
#include "dsr/crypto.h"

#include <sodium.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/** The period as statement parameters; kind is $4 where a statement takes one. */
struct q {
  struct dsr_db *db;
  char from[24], to[24], now[24];
  char *err;
  size_t errlen;
};

static PGresult *run(struct q *q, enum dsr_stmt st, const char *kind)
{
  const char *v[] = {q->from, q->to, q->now, kind};
  PGresult *r = dsr_db_exec(q->db, st, kind ? 4 : 3, v);
  if (!dsr_db_ok(r)) {
    snprintf(q->err, q->errlen, "%s: %s", dsr_stmt_name(st), PQresultErrorMessage(r));
    PQclear(r);
    return NULL;
  }
  return r;
}

static void bump(json_t *obj, const char *key, json_int_t by)
{
  json_t *cur = json_object_get(obj, key);
  json_object_set_new(obj, key, json_integer(json_integer_value(cur) + by));
}

static json_t *real_or_null(double v)
{
  return isnan(v) ? json_null() : json_real(v);
}

/** requests received in the period, by type, jurisdiction, channel, outcome; weekly counts. */
static bool received(struct q *q, json_t *rep, json_t *weeks)
{
  PGresult *r = run(q, DSR_STMT_REPORT_RECEIVED, NULL);
  if (!r)
    return false;
  json_t *by_type = json_object(), *by_jur = json_object(), *by_ch = json_object(),
         *by_out = json_object();
  for (int i = 0; i < PQntuples(r); i++) {
    bump(by_type, PQgetvalue(r, i, 0), 1);
    bump(by_jur, PQgetvalue(r, i, 1), 1);
    bump(by_out, PQgetvalue(r, i, 2), 1);
    /* "email,sms": counted under each channel that verified it */
    char chans[128];
    dsr_strlcpy(chans, PQgetvalue(r, i, 3), sizeof chans);
    char *save = NULL;
    for (char *c = strtok_r(chans, ",", &save); c; c = strtok_r(NULL, ",", &save))
      bump(by_ch, c, 1);
    char wk[21];
    dsr_time_rfc3339(dsr_week_start((time_t)atoll(PQgetvalue(r, i, 4))), wk);
    json_t *w = json_object_get(weeks, wk);
    if (w)
      bump(w, "received", 1);
  }
  json_object_set_new(rep, "requests",
                      json_pack("{s:i, s:o, s:o, s:o, s:o}", "received", PQntuples(r), "by_type",
                                by_type, "by_jurisdiction", by_jur, "by_channel", by_ch,
                                "by_outcome", by_out));
  PQclear(r);
  return true;
}

/** Responses (completions and denials) in the period: on-time rate, time to complete. */
static bool responded(struct q *q, json_t *rep, json_t *weeks, json_t *hist)
{
  PGresult *r = run(q, DSR_STMT_REPORT_RESPONDED, NULL);
  if (!r)
    return false;
  int n = PQntuples(r);
  double *done = calloc((size_t)n + 1, sizeof *done);
  size_t ndone = 0;
  long on_time = 0;
  for (int i = 0; done && i < n; i++) {
    long long recv = atoll(PQgetvalue(r, i, 1)), due = atoll(PQgetvalue(r, i, 2));
    long long at = atoll(PQgetvalue(r, i, 3));
    bool ok = at <= due;
    on_time += ok;
    char wk[21];
    dsr_time_rfc3339(dsr_week_start((time_t)at), wk);
    json_t *w = json_object_get(weeks, wk);
    if (w) {
      bump(w, "responded", 1);
      bump(w, "on_time", ok);
    }
    if (!strcmp(PQgetvalue(r, i, 0), "request.completed")) {
      done[ndone++] = (double)(at - recv);
      bump(json_array_get(hist, dsr_ttc_bucket_of((double)(at - recv))), "count", 1);
    }
  }
  PQclear(r);
  if (!done) {
    snprintf(q->err, q->errlen, "out of memory");
    return false;
  }
  double median = dsr_quantile(done, ndone, 0.5), p95 = dsr_quantile(done, ndone, 0.95);
  free(done);
  json_object_set_new(
      rep, "timeliness",
      json_pack("{s:i, s:i, s:i, s:o, s:i, s:o, s:o}", "responded", n, "on_time", (int)on_time,
                "late", n - (int)on_time, "on_time_rate",
                n ? json_real((double)on_time / n) : json_null(), "completed", (int)ndone,
                "median_seconds_to_complete", real_or_null(median),
                "p95_seconds_to_complete", real_or_null(p95)));
  return true;
}

/** {"count": N, "by_reason": {...}} for events of @p kind in the period. */
static bool reasons(struct q *q, json_t *rep, const char *section, const char *kind)
{
  PGresult *r = run(q, DSR_STMT_REPORT_REASONS, kind);
  if (!r)
    return false;
  json_t *by = json_object();
  json_int_t total = 0;
  for (int i = 0; i < PQntuples(r); i++) {
    json_int_t c = atoll(PQgetvalue(r, i, 1));
    json_object_set_new(by, PQgetvalue(r, i, 0), json_integer(c));
    total += c;
  }
  PQclear(r);
  json_object_set_new(rep, section, json_pack("{s:I, s:o}", "count", total, "by_reason", by));
  return true;
}

/* The reason an extension gave, as a report key: trimmed, one line, at most 80 bytes. */
static void reason_key(const char *in, size_t len, char *out, size_t outlen)
{
  while (len && (*in == ' ' || *in == '\t' || *in == '\r' || *in == '\n')) {
    in++;
    len--;
  }
  size_t n = 0;
  for (size_t i = 0; i < len && n + 1 < outlen && n < 80; i++)
    out[n++] = in[i] == '\r' || in[i] == '\n' || in[i] == '\t' ? ' ' : in[i];
  /* never cut a UTF-8 sequence in two: back up to the start of the one cut */
  while (n && n < len && ((unsigned char)in[n] & 0xC0) == 0x80)
    n--;
  while (n && out[n - 1] == ' ')
    n--;
  out[n] = '\0';
}

/**
 * {"count": N, "by_reason": {...}} for the extensions in the period: by the
 * reason staff gave (told to the subject, kept sealed with the request).
 */
static bool extensions(struct q *q, json_t *rep)
{
  PGresult *r = run(q, DSR_STMT_REPORT_EXTENSIONS, NULL);
  if (!r)
    return false;
  json_t *by = json_object();
  for (int i = 0; i < PQntuples(r); i++) {
    char key[96] = "";
    if (!PQgetisnull(r, i, 0)) {
      const char *v = PQgetvalue(r, i, 0);
      reason_key(v, strlen(v), key, sizeof key);
    } else if (!PQgetisnull(r, i, 1)) {
      size_t n = 0, pl = 0;
      unsigned char *raw = PQunescapeBytea((const unsigned char *)PQgetvalue(r, i, 1), &n);
      unsigned char *plain = NULL;
      if (raw && dsr_unseal(raw, n, &plain, &pl))
        reason_key((const char *)plain, pl, key, sizeof key);
      if (plain) {
        sodium_memzero(plain, pl);
        free(plain);
      }
      PQfreemem(raw);
    }
    bump(by, key[0] ? key : "unspecified", 1);
  }
  json_object_set_new(rep, "extensions",
                      json_pack("{s:i, s:o}", "count", PQntuples(r), "by_reason", by));
  PQclear(r);
  return true;
}

static bool backlog(struct q *q, json_t *rep, time_t now)
{
  PGresult *r = run(q, DSR_STMT_REPORT_BACKLOG, NULL);
  if (!r)
    return false;
  char asof[21];
  dsr_time_rfc3339(now, asof);
  json_object_set_new(rep, "backlog",
                      json_pack("{s:s, s:I, s:I}", "as_of", asof, "open",
                                (json_int_t)atoll(PQgetvalue(r, 0, 0)), "overdue",
                                (json_int_t)atoll(PQgetvalue(r, 0, 1))));
  PQclear(r);
  return true;
}

static bool customers(struct q *q, json_t *rep)
{
  PGresult *r = run(q, DSR_STMT_REPORT_CUSTOMERS, NULL);
  if (!r)
    return false;
  json_t *a = json_array();
  for (int i = 0; i < PQntuples(r); i++)
    json_array_append_new(
        a, json_pack("{s:s, s:I, s:o, s:I, s:I}", "customer_id", PQgetvalue(r, i, 0), "parts",
                     (json_int_t)atoll(PQgetvalue(r, i, 1)), "median_response_seconds",
                     PQgetisnull(r, i, 2) ? json_null() : json_real(atof(PQgetvalue(r, i, 2))),
                     "unanswered", (json_int_t)atoll(PQgetvalue(r, i, 3)), "escalated",
                     (json_int_t)atoll(PQgetvalue(r, i, 4))));
  PQclear(r);
  json_object_set_new(rep, "customers", a);
  return true;
}

/** Receipts of @p kind summed per store.collection, rows split by action. */
static bool receipts(struct q *q, json_t *rep, const char *section, const char *count_name,
                     const char *kind)
{
  PGresult *r = run(q, DSR_STMT_REPORT_RECEIPTS, kind);
  PGresult *c = r ? run(q, DSR_STMT_REPORT_KIND_COUNT, kind) : NULL;
  if (!c) {
    PQclear(r);
    return false;
  }
  json_t *cols = json_array(), *cur = NULL;
  for (int i = 0; i < PQntuples(r); i++) {
    const char *name = PQgetvalue(r, i, 0);
    if (!cur || strcmp(json_string_value(json_object_get(cur, "collection")), name) != 0) {
      cur = json_pack("{s:s, s:{}, s:i}", "collection", name, "rows", "files", 0);
      json_array_append_new(cols, cur);
    }
    bump(json_object_get(cur, "rows"), PQgetvalue(r, i, 1), atoll(PQgetvalue(r, i, 2)));
    bump(cur, "files", atoll(PQgetvalue(r, i, 3)));
  }
  json_object_set_new(rep, section,
                      json_pack("{s:I, s:o}", count_name, (json_int_t)atoll(PQgetvalue(c, 0, 0)),
                                "collections", cols));
  PQclear(r);
  PQclear(c);
  return true;
}

static bool backups(struct q *q, json_t *rep)
{
  PGresult *r = run(q, DSR_STMT_REPORT_BACKUPS, NULL);
  if (!r)
    return false;
  json_t *a = json_array();
  for (int i = 0; i < PQntuples(r); i++)
    json_array_append_new(a, json_pack("{s:s, s:s, s:s, s:s}", "backup_set",
                                       PQgetvalue(r, i, 0), "mechanism", PQgetvalue(r, i, 1),
                                       "residual_until", PQgetvalue(r, i, 2), "reported_at",
                                       PQgetvalue(r, i, 3)));
  PQclear(r);
  json_object_set_new(rep, "backups", a);
  return true;
}

/** Empty weekly rows for every week touching the period, keyed by week start. */
static json_t *week_table(time_t from, time_t to)
{
  json_t *weeks = json_object();
  for (time_t w = dsr_week_start(from); w < to; w += 7 * 86400) {
    char wk[21];
    dsr_time_rfc3339(w, wk);
    json_object_set_new(weeks, wk, json_pack("{s:s, s:i, s:i, s:i}", "week_start", wk,
                                             "received", 0, "responded", 0, "on_time", 0));
  }
  return weeks;
}

static json_t *charts(json_t *weeks, json_t *hist)
{
  json_t *weekly = json_array();
  const char *k;
  json_t *v;
  json_object_foreach(weeks, k, v) json_array_append(weekly, v);
  /* RFC 3339 strings of one format sort as times. */
  size_t n = json_array_size(weekly);
  for (size_t i = 1; i < n; i++)
    for (size_t j = i; j > 0 && strcmp(json_string_value(json_object_get(
                                           json_array_get(weekly, j - 1), "week_start")),
                                       json_string_value(json_object_get(
                                           json_array_get(weekly, j), "week_start"))) > 0;
         j--) {
      json_t *a = json_incref(json_array_get(weekly, j - 1));
      json_array_set(weekly, j - 1, json_array_get(weekly, j));
      json_array_set_new(weekly, j, a);
    }
  return json_pack("{s:o, s:O}", "weekly", weekly, "time_to_complete", hist);
}

static json_t *histogram(void)
{
  json_t *h = json_array();
  for (const struct dsr_ttc_bucket *b = dsr_ttc_buckets(); b->label; b++)
    json_array_append_new(h, json_pack("{s:s, s:i, s:o, s:i}", "bucket", b->label, "min_days",
                                       b->min_days, "max_days",
                                       b->max_days < 0 ? json_null() : json_integer(b->max_days),
                                       "count", 0));
  return h;
}

bool dsr_report_build(struct dsr_db *db, time_t from, time_t to, time_t now, json_t **out,
                      char *err, size_t errlen)
{
  struct q q = {.db = db, .err = err, .errlen = errlen};
  snprintf(q.from, sizeof q.from, "%lld", (long long)from);
  snprintf(q.to, sizeof q.to, "%lld", (long long)to);
  snprintf(q.now, sizeof q.now, "%lld", (long long)now);
  char f[21], t[21], g[21], head[DSR_AUDIT_HEX_LEN];
  dsr_time_rfc3339(from, f);
  dsr_time_rfc3339(to, t);
  dsr_time_rfc3339(now, g);
  long long head_pos = 0;
  json_t *rep = json_pack("{s:s, s:i, s:s, s:{s:s, s:s}}", "report", "dsr-compliance-report",
                          "schema_version", DSR_REPORT_SCHEMA_VERSION, "generated_at", g,
                          "period", "from", f, "to", t);
  json_t *weeks = week_table(from, to), *hist = histogram();
  bool ok = false;
  if (!rep || !weeks || !hist) {
    snprintf(err, errlen, "out of memory");
    goto cleanup;
  }
  if (!dsr_audit_head(db, &head_pos, head)) {
    snprintf(err, errlen, "cannot read the audit chain head");
    goto cleanup;
  }
  json_object_set_new(rep, "audit", json_pack("{s:I, s:s}", "head_pos", (json_int_t)head_pos,
                                              "head_hash", head));
  ok = received(&q, rep, weeks) && responded(&q, rep, weeks, hist) &&
       extensions(&q, rep) &&
       reasons(&q, rep, "denials", "request.denied") && backlog(&q, rep, now) &&
       customers(&q, rep) &&
       receipts(&q, rep, "erasure_receipts", "receipts", "erasure.receipt") &&
       receipts(&q, rep, "retention_sweeps", "sweeps", "sweep.receipt") && backups(&q, rep);
  if (ok)
    json_object_set_new(rep, "charts", charts(weeks, hist));
cleanup:
  json_decref(weeks);
  json_decref(hist);
  if (!ok) {
    json_decref(rep);
    return false;
  }
  *out = rep;
  return true;
}

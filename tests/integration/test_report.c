/**
 * @file test_report.c
 * @brief The compliance report over a seeded history with known outcomes. The
 *        history goes in through the real code paths (dsr_request_create,
 *        dsr_event_record) under the injectable clock; the expected figures are
 *        computed here, by hand, from the seed table. JSON and CSV must agree,
 *        and the HTML must render in headless Chromium.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "suites.h"
#include "dsr/audit.h"
#include "dsr/crypto.h"
#include "dsr/events.h"
#include "dsr/report.h"
#include "dsr/requests.h"
#include "dsr/timeparse.h"

#define DAY 86400L
#define T0 "2026-03-02T09:00:00Z" /* request i is received at T0 + i hours */

/** The seeded history: one row per request. */
static const struct seed {
  const char *jur;
  const char *type;
  const char *channel;  /* verification.succeeded channel (manual: request.verified by staff,
                         * as routing records it), NULL: never verified */
  const char *close;    /* "request.completed", "request.denied" or NULL (open) */
  long close_days;      /* days from receipt to the closing event */
  const char *reason;   /* denial reason */
  long received_offset; /* extra seconds after T0 + i hours */
} seeds[] = {
    {"gdpr", "erasure", "email", "request.completed", 2, NULL, 0},
    {"gdpr", "access", "email", "request.completed", 5, NULL, 0},
    {"gdpr", "erasure", "email", "request.completed", 10, NULL, 0},
    {"ccpa", "access", "email", "request.completed", 1, NULL, 0},
    {"lgpd", "erasure", "email", "request.completed", 20, NULL, 0},
    {"lgpd", "access", "email", "request.completed", 18, NULL, 0},
    {"gdpr", "erasure", "sms", "request.denied", 3, "identity_not_verified", 0},
    {"ccpa", "opt_out", "sms", "request.completed", 7, NULL, 0},
    {"lgpd", "erasure", "manual", "request.denied", 16, "manifestly_unfounded", 0},
    {"gdpr", "access", NULL, "request.completed", 25, NULL, 0},
    {"lgpd", "erasure", NULL, NULL, 0, NULL, 0},            /* open, overdue by the report */
    {"gdpr", "access", NULL, NULL, 0, NULL, 28 * DAY},      /* open, received 03-30, not due */
};
#define NSEEDS (sizeof seeds / sizeof *seeds)

static time_t t0(void)
{
  time_t t;
  ck_assert(dsr_time_parse(T0, &t));
  return t;
}

/* Deadlines as the jurisdictions define them, worked out by hand for a March receipt. */
static long deadline_days(const char *jur)
{
  return !strcmp(jur, "gdpr") ? 31 /* one calendar month from March 2 */
         : !strcmp(jur, "ccpa") ? 45
                                : 15;
}

static void tx(struct dsr_db *db, const char *sql)
{
  PGresult *r = PQexec(db->conn, sql);
  ck_assert_msg(PQresultStatus(r) == PGRES_COMMAND_OK, "%s: %s", sql, PQresultErrorMessage(r));
  PQclear(r);
}

static void event_at(struct dsr_db *db, time_t at, const char *rid, const char *kind,
                     json_t *data)
{
  dsr_set_fake_now(at);
  tx(db, "BEGIN");
  bool retry;
  ck_assert(dsr_event_record(db, rid, kind, "system", data, &retry));
  tx(db, "COMMIT");
  json_decref(data);
}

/* Request @p rid extended at @p at with @p reason, the way staff/admin_actions.c records it. */
static void extend_at(struct dsr_db *db, time_t at, const char *rid, const char *reason)
{
  unsigned char *sealed = NULL;
  size_t sl = 0;
  ck_assert(dsr_seal(reason, strlen(reason), &sealed, &sl));
  const char *v[] = {(const char *)sealed, rid};
  const int lens[] = {(int)sl, 0}, fmts[] = {1, 0};
  PGresult *r = PQexecParams(db->conn,
                             "UPDATE dsr_requests SET extension_reason_sealed = $1 WHERE id = $2",
                             2, NULL, v, lens, fmts, 0);
  ck_assert_msg(PQresultStatus(r) == PGRES_COMMAND_OK, "%s", PQresultErrorMessage(r));
  PQclear(r);
  free(sealed);
  event_at(db, at, rid, "request.extended",
           json_pack("{s:s, s:s, s:b}", "due_at", "2026-05-02T09:00:00Z", "extension", "P2M",
                     "subject_told", 1));
}

/** Seeds the history; ids[i] receives request i's id. */
static void seed(struct dsr_db *db, char ids[][40])
{
  unsigned char key[32] = {7};
  dsr_crypto_init_with_key(key);
  for (size_t i = 0; i < NSEEDS; i++) {
    const struct seed *s = &seeds[i];
    time_t recv = t0() + (time_t)i * 3600 + s->received_offset;
    dsr_set_fake_now(recv);
    json_t *body = json_object();
    struct dsr_intake in = {.type = s->type, .jurisdiction = s->jur,
                            .email = "seeded.subject@example.com", .body = body};
    json_t *reply = NULL;
    unsigned status = 0;
    ck_assert_int_eq(dsr_request_create(db, &in, &reply, &status), DSR_OK);
    snprintf(ids[i], 40, "%s", json_string_value(json_object_get(reply, "id")));
    json_decref(reply);
    json_decref(body);
    if (s->channel)
      event_at(db, recv + 3600, ids[i],
               !strcmp(s->channel, "manual") ? "request.verified" : "verification.succeeded",
               json_pack("{s:s}", "channel", s->channel));
    if (s->close) {
      char sql[200];
      dsr_set_fake_now(recv + s->close_days * DAY);
      tx(db, "BEGIN");
      snprintf(sql, sizeof sql, "UPDATE dsr_requests SET status = '%s' WHERE id = '%s'",
               !strcmp(s->close, "request.completed") ? "completed" : "denied", ids[i]);
      tx(db, sql);
      json_t *d = s->reason ? json_pack("{s:s}", "reason", s->reason) : json_object();
      bool retry;
      ck_assert(dsr_event_record(db, ids[i], s->close, "staff:1", d, &retry));
      json_decref(d);
      tx(db, "COMMIT");
    }
  }
  time_t base = t0();
  /* Extensions of requests 2 and 9, as staff make them: the reason (told to the subject)
   * sealed with the request, the event without it. */
  extend_at(db, base + 5 * DAY, ids[2], "volume");
  extend_at(db, base + 20 * DAY, ids[9], "  complexity\n");
  /* Request 0 was verified by SMS too: it counts under email and under sms. */
  event_at(db, t0() + 2 * 3600, ids[0], "verification.succeeded",
           json_pack("{s:s}", "channel", "sms"));
  /* Customer parts: acme answers p1 after 2 days and p2 after 4, never p3 (escalated);
   * globex answers p4 after 1 day. */
  static const struct {
    int req;
    const char *part, *customer;
    long answer_days; /* -1: never, escalated after 10 days */
  } parts[] = {{0, "p1", "acme", 2}, {1, "p2", "acme", 4}, {2, "p3", "acme", -1},
               {3, "p4", "globex", 1}};
  for (size_t i = 0; i < sizeof parts / sizeof *parts; i++) {
    time_t fwd = base + DAY + (time_t)i * 60;
    /* routing records a forwarded customer part as part.created with its customer_id */
    event_at(db, fwd, ids[parts[i].req], i == 3 ? "part.created" : "part.forwarded",
             json_pack("{s:s, s:s}", "part_id", parts[i].part, "customer_id", parts[i].customer));
    if (parts[i].answer_days >= 0)
      event_at(db, fwd + parts[i].answer_days * DAY, ids[parts[i].req], "part.decided",
               json_pack("{s:s, s:s, s:s}", "part_id", parts[i].part, "customer_id",
                         parts[i].customer, "decision", "fulfill"));
    else
      event_at(db, fwd + 10 * DAY, ids[parts[i].req], "part.escalated",
               json_pack("{s:s, s:s}", "part_id", parts[i].part, "customer_id",
                         parts[i].customer));
  }
  event_at(db, base + 3 * DAY, ids[0], "erasure.receipt",
           json_pack("{s:s, s:[{s:s, s:s, s:s, s:i, s:i}, {s:s, s:s, s:s, s:i, s:i}]}",
                     "part_id", "p1", "collections", "store", "platform", "collection", "calls",
                     "action", "delete", "rows", 12, "files", 0, "store", "platform",
                     "collection", "recordings", "action", "delete", "rows", 3, "files", 3));
  event_at(db, base + 2 * DAY, ids[3], "erasure.receipt",
           json_pack("{s:s, s:[{s:s, s:s, s:s, s:i}, {s:s, s:s, s:s, s:i}]}", "part_id", "p4",
                     "collections", "store", "platform", "collection", "calls", "action",
                     "delete", "rows", 5, "store", "platform", "collection", "transcripts",
                     "action", "redact", "rows", 7));
  event_at(db, base + 6 * DAY, NULL, "sweep.receipt",
           json_pack("{s:s, s:[{s:s, s:s, s:s, s:i, s:i}]}", "sweep_id", "s1", "collections",
                     "store", "platform", "collection", "recordings", "action", "delete", "rows",
                     40, "files", 40));
  event_at(db, base + 1 * DAY, NULL, "backup.residual_window",
           json_pack("{s:s, s:s, s:s}", "backup_set", "media-nightly", "mechanism", "file",
                     "residual_until", "2026-04-15T00:00:00Z"));
  event_at(db, base + 8 * DAY, NULL, "backup.residual_window",
           json_pack("{s:s, s:s, s:s}", "backup_set", "media-nightly", "mechanism", "file",
                     "residual_until", "2026-04-20T00:00:00Z"));
  event_at(db, base + 8 * DAY, NULL, "backup.residual_window",
           json_pack("{s:s, s:s, s:s}", "backup_set", "db-weekly", "mechanism", "ledger",
                     "residual_until", "2026-05-01T00:00:00Z"));
  /* Outside the period: must not count. */
  event_at(db, base - 10 * DAY, NULL, "request.extended", json_pack("{s:s}", "reason", "volume"));
  dsr_set_fake_now(0);
}

static json_int_t jint(const json_t *root, const char *a, const char *b, const char *c)
{
  const json_t *v = json_object_get(root, a);
  if (b)
    v = json_object_get(v, b);
  if (c)
    v = json_object_get(v, c);
  ck_assert_msg(json_is_integer(v), "%s.%s.%s is not an integer", a, b ? b : "", c ? c : "");
  return json_integer_value(v);
}

static double jnum(const json_t *root, const char *a, const char *b)
{
  const json_t *v = json_object_get(json_object_get(root, a), b);
  ck_assert_msg(json_is_number(v), "%s.%s is not a number", a, b);
  return json_number_value(v);
}

static int cmp_long(const void *a, const void *b)
{
  long x = *(const long *)a, y = *(const long *)b;
  return (x > y) - (x < y);
}

/* --- CSV <-> JSON ------------------------------------------------------- */

/** Splits one CSV record (RFC 4180) at *p into 4 cells; advances *p. */
static void csv_record(const char **p, char cells[4][256])
{
  for (int c = 0; c < 4; c++) {
    size_t n = 0;
    const char *s = *p;
    if (*s == '"') {
      s++;
      while (*s && !(*s == '"' && s[1] != '"')) {
        if (*s == '"')
          s++;
        if (n < 255)
          cells[c][n++] = *s;
        s++;
      }
      ck_assert(*s == '"');
      s++;
    } else {
      while (*s && *s != ',' && *s != '\r')
        if (n < 255)
          cells[c][n++] = *s++;
    }
    cells[c][n] = '\0';
    ck_assert_msg(*s == (c < 3 ? ',' : '\r'), "bad CSV near %.40s", *p);
    s++;
    *p = s;
  }
  ck_assert(**p == '\n');
  (*p)++;
}

/** The JSON value at dotted @p path inside @p obj (keys may not contain dots here). */
static const json_t *at_path(const json_t *obj, const char *path)
{
  if (!*path)
    return obj;
  char buf[256];
  snprintf(buf, sizeof buf, "%s", path);
  const json_t *v = obj;
  for (char *save = NULL, *k = strtok_r(buf, ".", &save); k; k = strtok_r(NULL, ".", &save))
    v = json_object_get(v, k);
  return v;
}

/** The element of list @p a whose first member reads @p id. */
static const json_t *element(const json_t *a, const char *id)
{
  size_t i;
  json_t *el;
  json_array_foreach(a, i, el)
  {
    json_t *first = json_object_iter_value(json_object_iter(el));
    char num[64];
    if (json_is_string(first))
      snprintf(num, sizeof num, "%s", json_string_value(first));
    else
      snprintf(num, sizeof num, "%" JSON_INTEGER_FORMAT, json_integer_value(first));
    if (!strcmp(num, id))
      return el;
  }
  return NULL;
}

/**
 * Checks that every CSV row holds the same value as the JSON report, and that
 * the CSV has as many rows as the JSON has leaves. Rows whose section and
 * field are in @p skip are only counted.
 */
static void csv_agrees(const json_t *rep, const char *csv, const char *const *skip)
{
  const char *p = csv;
  char cells[4][256];
  csv_record(&p, cells);
  ck_assert_str_eq(cells[0], "section");
  int rows = 0;
  while (*p) {
    csv_record(&p, cells);
    rows++;
    bool skipped = false;
    for (int s = 0; skip && skip[s]; s += 2)
      skipped |= !strcmp(cells[0], skip[s]) && !strcmp(cells[2], skip[s + 1]);
    if (skipped)
      continue;
    const json_t *sec = json_object_get(rep, cells[0]), *v;
    ck_assert_msg(sec != NULL, "CSV section %s not in JSON", cells[0]);
    if (!cells[1][0]) {
      v = at_path(sec, cells[2]);
    } else {
      const json_t *list = sec;
      const char *id = cells[1];
      if (!json_is_array(sec)) { /* "member.id": a list inside the section */
        char member[64];
        const char *dot = strchr(cells[1], '.');
        ck_assert(dot != NULL);
        snprintf(member, sizeof member, "%.*s", (int)(dot - cells[1]), cells[1]);
        list = json_object_get(sec, member);
        id = dot + 1;
      }
      const json_t *el = element(list, id);
      ck_assert_msg(el != NULL, "CSV item %s/%s not in JSON", cells[0], cells[1]);
      v = at_path(el, cells[2]);
    }
    ck_assert_msg(v != NULL, "CSV row %s,%s,%s not in JSON", cells[0], cells[1], cells[2]);
    if (json_is_integer(v))
      ck_assert_msg(strtoll(cells[3], NULL, 10) == json_integer_value(v) && cells[3][0],
                    "%s %s %s: CSV %s", cells[0], cells[1], cells[2], cells[3]);
    else if (json_is_real(v))
      ck_assert_msg(fabs(strtod(cells[3], NULL) - json_real_value(v)) <=
                        (fabs(json_real_value(v)) < 10 ? 0.0005 : 0.05) + 1e-9,
                    "%s %s: CSV %s vs JSON %f", cells[0], cells[2], cells[3], json_real_value(v));
    else if (json_is_string(v))
      ck_assert_str_eq(cells[3], json_string_value(v));
    else
      ck_assert_msg(json_is_null(v) && !cells[3][0], "%s %s: CSV %s", cells[0], cells[2],
                    cells[3]);
  }
  ck_assert_int_gt(rows, 60);
}

/** The CSV value of one row, or NULL. */
static const char *csv_value(const char *csv, const char *section, const char *item,
                             const char *field)
{
  static char found[256];
  const char *p = csv;
  char cells[4][256];
  while (*p) {
    csv_record(&p, cells);
    if (!strcmp(cells[0], section) && !strcmp(cells[1], item) && !strcmp(cells[2], field)) {
      snprintf(found, sizeof found, "%s", cells[3]);
      return found;
    }
  }
  return NULL;
}

START_TEST(report_figures_match_the_seeded_history)
{
  char *ci = it_fresh_db("report_seed");
  struct dsr_db *db = it_connect(ci);
  char ids[NSEEDS][40];
  seed(db, ids);

  /* By hand, from the seed table. */
  long on_time = 0, responded = 0, durations[NSEEDS], ndur = 0;
  for (size_t i = 0; i < NSEEDS; i++) {
    if (!seeds[i].close)
      continue;
    responded++;
    on_time += seeds[i].close_days <= deadline_days(seeds[i].jur);
    if (!strcmp(seeds[i].close, "request.completed"))
      durations[ndur++] = seeds[i].close_days * DAY;
  }
  ck_assert_int_eq(responded, 10);
  ck_assert_int_eq(on_time, 7); /* the lgpd ones at 20, 18 and 16 days are late */
  qsort(durations, (size_t)ndur, sizeof *durations, cmp_long);
  ck_assert_int_eq(ndur, 8); /* 1 2 5 7 10 18 20 25 days */
  double median = (durations[3] + durations[4]) / 2.0;           /* (7 + 10) / 2 = 8.5 d */
  double p95 = durations[6] + 0.65 * (durations[7] - durations[6]); /* rank 0.95*7 = 6.65 */
  ck_assert(fabs(median - 8.5 * DAY) < 1e-6);
  ck_assert(fabs(p95 - 23.25 * DAY) < 1e-6);

  time_t from, to, now;
  ck_assert(dsr_time_parse("2026-03-01", &from));
  ck_assert(dsr_time_parse("2026-04-01", &to));
  ck_assert(dsr_time_parse("2026-04-10", &now));
  json_t *rep = NULL;
  char err[512];
  ck_assert_msg(dsr_report_build(db, from, to, now, &rep, err, sizeof err), "%s", err);

  ck_assert_int_eq(jint(rep, "requests", "received", NULL), 12);
  ck_assert_int_eq(jint(rep, "requests", "by_type", "erasure"), 6);
  ck_assert_int_eq(jint(rep, "requests", "by_type", "access"), 5);
  ck_assert_int_eq(jint(rep, "requests", "by_type", "opt_out"), 1);
  ck_assert_int_eq(jint(rep, "requests", "by_jurisdiction", "gdpr"), 6);
  ck_assert_int_eq(jint(rep, "requests", "by_jurisdiction", "lgpd"), 4);
  ck_assert_int_eq(jint(rep, "requests", "by_jurisdiction", "ccpa"), 2);
  ck_assert_int_eq(jint(rep, "requests", "by_channel", "email"), 6);
  ck_assert_int_eq(jint(rep, "requests", "by_channel", "sms"), 3); /* request 0 twice */
  ck_assert_int_eq(jint(rep, "requests", "by_channel", "manual"), 1);
  ck_assert_int_eq(jint(rep, "requests", "by_channel", "unverified"), 3);
  ck_assert_int_eq(jint(rep, "requests", "by_outcome", "completed"), 8);
  ck_assert_int_eq(jint(rep, "requests", "by_outcome", "denied"), 2);
  ck_assert_int_eq(jint(rep, "requests", "by_outcome", "pending_verification"), 2);

  ck_assert_int_eq(jint(rep, "timeliness", "responded", NULL), responded);
  ck_assert_int_eq(jint(rep, "timeliness", "on_time", NULL), on_time);
  ck_assert(fabs(jnum(rep, "timeliness", "on_time_rate") - 0.7) < 1e-9);
  ck_assert_int_eq(jint(rep, "timeliness", "completed", NULL), ndur);
  ck_assert(fabs(jnum(rep, "timeliness", "median_seconds_to_complete") - median) < 1e-6);
  ck_assert(fabs(jnum(rep, "timeliness", "p95_seconds_to_complete") - p95) < 1e-6);

  ck_assert_int_eq(jint(rep, "extensions", "count", NULL), 2);
  ck_assert_int_eq(jint(rep, "extensions", "by_reason", "volume"), 1);
  ck_assert_int_eq(jint(rep, "extensions", "by_reason", "complexity"), 1);
  ck_assert_int_eq(jint(rep, "denials", "count", NULL), 2);
  ck_assert_int_eq(jint(rep, "denials", "by_reason", "identity_not_verified"), 1);
  ck_assert_int_eq(jint(rep, "denials", "by_reason", "manifestly_unfounded"), 1);
  ck_assert_int_eq(jint(rep, "backlog", "open", NULL), 2);
  ck_assert_int_eq(jint(rep, "backlog", "overdue", NULL), 1); /* lgpd due 03-17; gdpr due 04-30 */

  const json_t *cust = json_object_get(rep, "customers");
  ck_assert_int_eq(json_array_size(cust), 2);
  const json_t *acme = element(cust, "acme"), *globex = element(cust, "globex");
  ck_assert_int_eq(jint(acme, "parts", NULL, NULL), 3);
  ck_assert(fabs(json_number_value(json_object_get(acme, "median_response_seconds")) -
                 3.0 * DAY) < 1e-6); /* median of 2 and 4 days */
  ck_assert_int_eq(jint(acme, "unanswered", NULL, NULL), 1);
  ck_assert_int_eq(jint(acme, "escalated", NULL, NULL), 1);
  ck_assert_int_eq(jint(globex, "parts", NULL, NULL), 1);
  ck_assert(fabs(json_number_value(json_object_get(globex, "median_response_seconds")) -
                 1.0 * DAY) < 1e-6);
  ck_assert_int_eq(jint(globex, "unanswered", NULL, NULL), 0);

  const json_t *er = json_object_get(rep, "erasure_receipts");
  ck_assert_int_eq(jint(er, "receipts", NULL, NULL), 2);
  const json_t *cols = json_object_get(er, "collections");
  ck_assert_int_eq(jint(element(cols, "platform.calls"), "rows", "delete", NULL), 17);
  ck_assert_int_eq(jint(element(cols, "platform.recordings"), "files", NULL, NULL), 3);
  ck_assert_int_eq(jint(element(cols, "platform.transcripts"), "rows", "redact", NULL), 7);
  ck_assert_int_eq(jint(rep, "retention_sweeps", "sweeps", NULL), 1);
  const json_t *bk = json_object_get(rep, "backups");
  ck_assert_int_eq(json_array_size(bk), 2);
  ck_assert_str_eq(json_string_value(json_object_get(element(bk, "media-nightly"),
                                                     "residual_until")),
                   "2026-04-20T00:00:00Z");

  /* Weeks: the ten, plus the overdue one, arrive in the week of 03-02; one on 03-30. */
  const json_t *weekly = json_object_get(json_object_get(rep, "charts"), "weekly");
  ck_assert_int_eq(json_array_size(weekly), 6); /* 02-23 ... 03-30 */
  ck_assert_int_eq(jint(element(weekly, "2026-03-02T00:00:00Z"), "received", NULL, NULL), 11);
  ck_assert_int_eq(jint(element(weekly, "2026-03-30T00:00:00Z"), "received", NULL, NULL), 1);
  long hist_total = 0;
  size_t i;
  json_t *b;
  json_array_foreach(json_object_get(json_object_get(rep, "charts"), "time_to_complete"), i, b)
      hist_total += (long)json_integer_value(json_object_get(b, "count"));
  ck_assert_int_eq(hist_total, ndur);

  /* The audit head in the report is the chain's head. */
  long long sealed;
  ck_assert(dsr_audit_seal_all(db, &sealed));
  json_decref(rep);
  ck_assert(dsr_report_build(db, from, to, now, &rep, err, sizeof err));
  ck_assert_int_eq(jint(rep, "audit", "head_pos", NULL),
                   h_sql_long(ci, "SELECT count(*) FROM dsr_audit_entries"));

  /* CSV and JSON agree, row by row. */
  char *csv = dsr_report_csv(rep);
  ck_assert_ptr_nonnull(csv);
  csv_agrees(rep, csv, NULL);
  ck_assert_str_eq(csv_value(csv, "timeliness", "", "on_time_rate"), "0.7");
  ck_assert_str_eq(csv_value(csv, "timeliness", "", "median_seconds_to_complete"), "734400");
  ck_assert_str_eq(csv_value(csv, "customers", "acme", "unanswered"), "1");
  free(csv);
  json_decref(rep);
  it_disconnect(db);
  free(ci);
}
END_TEST

static void render_in_chromium(const char *html, const char *png)
{
  char profile[256];
  h_tmpdir(profile, sizeof profile, "chromium");
  char cmd[2048];
  snprintf(cmd, sizeof cmd,
           "timeout 120 chromium --headless --no-sandbox --disable-gpu --disable-quic"
           " --no-first-run --disable-background-networking --disable-component-update"
           " --disable-sync --hide-scrollbars --user-data-dir=%s --window-size=1100,2600"
           " --screenshot=%s file://%s >%s/chromium.log 2>&1",
           profile, png, html, profile);
  ck_assert_msg(system(cmd) == 0, "chromium failed; see %s/chromium.log", profile);
  size_t len = 0;
  char *img = h_slurp(png, &len);
  ck_assert_msg(len > 20000, "screenshot is only %zu bytes", len);
  ck_assert(memcmp(img, "\x89PNG", 4) == 0);
  free(img);
  snprintf(cmd, sizeof cmd,
           "timeout 120 chromium --headless --no-sandbox --disable-gpu --no-first-run"
           " --disable-background-networking --disable-component-update --disable-sync"
           " --user-data-dir=%s --dump-dom file://%s >%s/dom.html 2>/dev/null",
           profile, html, profile);
  ck_assert(system(cmd) == 0);
  char dom_path[300];
  snprintf(dom_path, sizeof dom_path, "%s/dom.html", profile);
  char *dom = h_slurp(dom_path, NULL);
  int svgs = 0;
  for (const char *p = dom; (p = strstr(p, "<svg")) != NULL; p++)
    svgs++;
  ck_assert_int_eq(svgs, 3);
  ck_assert(strstr(dom, "Data-subject request compliance report") != NULL);
  free(dom);
  snprintf(cmd, sizeof cmd, "rm -rf %s", profile);
  ck_assert(system(cmd) == 0);
}

START_TEST(cli_formats_agree_and_html_renders)
{
  char *ci = it_fresh_db("report_seed"); /* seeded by the test above when run in order */
  struct dsr_db *db = it_connect(ci);
  if (h_sql_long(ci, "SELECT count(*) FROM dsr_requests") == 0) {
    char ids[NSEEDS][40];
    seed(db, ids);
  }
  char url[600], jpath[300], cpath[300], hpath[400];
  snprintf(url, sizeof url, "--database-url=%s", ci);
  snprintf(jpath, sizeof jpath, "%s/report.json", it_pg.dir);
  snprintf(cpath, sizeof cpath, "%s/report.csv", it_pg.dir);
  const char *top = getenv("DSR_TOP_BUILDDIR");
  snprintf(hpath, sizeof hpath, "%s/compliance-report.html", top ? top : it_pg.dir);
  const char *fmts[][2] = {{"json", jpath}, {"csv", cpath}, {"html", hpath}};
  for (int f = 0; f < 3; f++) {
    const char *argv[] = {"dsrctl", url, "report", "--from", "2026-03-01", "--to", "2026-04-01",
                          "--format", fmts[f][0], "--out", fmts[f][1], NULL};
    ck_assert_int_eq(it_run(argv, NULL), 0);
  }
  /* The JSON follows the published schema (an independent validator: python3-jsonschema). */
  char cmd[1600];
  snprintf(cmd, sizeof cmd,
           "/usr/bin/python3 -c 'import json, sys, jsonschema; jsonschema.validate("
           "json.load(open(sys.argv[1])), json.load(open(sys.argv[2])))' %s "
           "%s/docs/compliance-report.schema.json",
           jpath, getenv("DSR_TOP_SRCDIR"));
  ck_assert_msg(system(cmd) == 0, "the JSON report does not follow its schema");
  json_error_t je;
  json_t *rep = json_load_file(jpath, 0, &je);
  ck_assert_msg(rep != NULL, "%s", je.text);
  ck_assert(fabs(jnum(rep, "timeliness", "on_time_rate") - 0.7) < 1e-9);
  char *csv = h_slurp(cpath, NULL);
  /* Two runs, two clocks: the time of generation may differ by a second. */
  static const char *const skip[] = {"generated_at", "", "backlog", "as_of", NULL};
  csv_agrees(rep, csv, skip);
  free(csv);
  json_decref(rep);
  const char *bad[] = {"dsrctl", url, "report", "--from", "2026-04-01", "--to", "2026-03-01",
                       NULL};
  ck_assert_int_eq(it_run(bad, NULL), 2);

  char png[400];
  snprintf(png, sizeof png, "%s/compliance-report.png", top ? top : it_pg.dir);
  render_in_chromium(hpath, png);
  it_disconnect(db);
  free(ci);
}
END_TEST

Suite *suite_report(void)
{
  Suite *s = suite_create("report");
  TCase *tc = tcase_create("compliance");
  tcase_set_timeout(tc, 300);
  tcase_add_test(tc, report_figures_match_the_seeded_history);
  tcase_add_test(tc, cli_formats_agree_and_html_renders);
  suite_add_tcase(s, tc);
  return s;
}

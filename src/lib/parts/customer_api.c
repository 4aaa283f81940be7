/** @file customer_api.c @brief Customers' own parts and their decisions. */
#include "config.h"
#include "dsr/admin.h"
#include "dsr/customer_api.h"
#include "dsr/page_cursor.h"
#include "dsr/rights.h"
#include "dsr/erasure.h"
#include "dsr/parts.h"
#include "dsr/subject.h"
#include "dsr/util.h"
#include "dsr/validate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static json_t *str_or_null(const PGresult *r, int row, int c)
{
  return PQgetisnull(r, row, c) ? json_null() : json_string(PQgetvalue(r, row, c));
}

/* True when the PostgreSQL text[] literal @p lit ("{email,phone}") holds @p name. */
static bool kinds_have(const char *lit, const char *name)
{
  size_t n = strlen(name);
  for (const char *p = lit; (p = strstr(p, name)) != NULL; p += n)
    if ((p[-1] == '{' || p[-1] == ',') && (p[n] == '}' || p[n] == ','))
      return true;
  return false;
}

/*
 * The identities that matched in this customer's data (the part's kinds), as
 * the webhook carried them: verified ones only (dsr_subject_load). NULL when
 * the database or a key failed.
 */
static json_t *part_identities(struct dsr_db *db, const char *request_id, const char *kinds)
{
  struct dsr_subject_values sv;
  if (!dsr_subject_load(db, request_id, &sv))
    return NULL;
  json_t *ids = json_object();
  for (int i = 0; ids && i < DSR_ID_KIND_COUNT; i++)
    if (sv.value[i] && kinds_have(kinds, dsr_id_kind_name(i)))
      json_object_set_new(ids, dsr_id_kind_name(i), json_string(sv.value[i]));
  dsr_subject_free(&sv);
  return ids;
}

/* Row @p i of DSR_STMT_CUSTOMER_PARTS as the API shows it; NULL on failure. */
static json_t *part_json(struct dsr_db *db, const PGresult *r, int i, const char *base_url)
{
  json_t *ids = part_identities(db, PQgetvalue(r, i, 8), PQgetvalue(r, i, 9));
  if (!ids)
    return NULL;
  char *link = dsr_asprintf("%s/v1/customer/requests/%s", base_url ? base_url : "",
                            PQgetvalue(r, i, 0));
  json_t *p = link ? json_pack("{s:s, s:s, s:s, s:s, s:s, s:o, s:o, s:o, s:o, s:I, s:s, s:o,"
                               " s:s}",
                               "part_id", PQgetvalue(r, i, 0), "request_type",
                               PQgetvalue(r, i, 1), "jurisdiction", PQgetvalue(r, i, 2),
                               "status", PQgetvalue(r, i, 3), "due_at", PQgetvalue(r, i, 4),
                               "forwarded_at", str_or_null(r, i, 5), "decision",
                               str_or_null(r, i, 6), "decided_at", str_or_null(r, i, 7),
                               "reason", str_or_null(r, i, 11), "sequence",
                               (json_int_t)atoll(PQgetvalue(r, i, 10)), "updated_at",
                               PQgetvalue(r, i, 12), "identities", ids, "api_url", link)
                   : NULL;
  if (!p)
    json_decref(ids);
  free(link);
  return p;
}

enum dsr_ec dsr_customer_parts(struct dsr_db *db, const char *customer_id, const char *state,
                               const char *cursor, int limit, const char *base_url,
                               json_t **reply)
{
  char ts[40] = "", id[40] = "", lim_text[12];
  *reply = NULL;
  if (cursor && !dsr_cursor_decode(cursor, ts, id))
    return DSR_E_FIELD_INVALID;
  int lim = limit > 0 && limit <= 200 ? limit : 50;
  snprintf(lim_text, sizeof lim_text, "%d", lim + 1); /* one more tells whether a page follows */
  const char *v[] = {customer_id, state, NULL, cursor ? ts : NULL, cursor ? id : NULL, lim_text};
  PGresult *r = dsr_db_exec(db, DSR_STMT_CUSTOMER_PARTS, 6, v);
  if (!dsr_db_ok(r)) {
    PQclear(r);
    return DSR_E_DB_UNAVAILABLE;
  }
  enum dsr_ec ec = DSR_OK;
  int rows = PQntuples(r), shown = rows > lim ? lim : rows;
  json_t *items = json_array();
  json_t *out = items ? json_pack("{s:O}", "items", items) : NULL;
  for (int i = 0; out && ec == DSR_OK && i < shown; i++) {
    json_t *p = part_json(db, r, i, base_url);
    if (!p || json_array_append_new(items, p) != 0)
      ec = DSR_E_INTERNAL;
  }
  if (out && ec == DSR_OK && rows > lim) {
    char *next = dsr_cursor_encode(PQgetvalue(r, lim - 1, 13), PQgetvalue(r, lim - 1, 0));
    if (!next || json_object_set_new(out, "next_cursor", json_string(next)) != 0)
      ec = DSR_E_INTERNAL;
    free(next);
  }
  PQclear(r);
  json_decref(items);
  if (!out && ec == DSR_OK)
    ec = DSR_E_INTERNAL;
  if (ec == DSR_OK)
    *reply = out;
  else
    json_decref(out);
  return ec;
}

/* The part's events as they were sent, oldest first. NULL on failure. */
static json_t *part_history(struct dsr_db *db, const char *customer_id, const char *part_id)
{
  const char *v[] = {part_id, customer_id};
  PGresult *r = dsr_db_exec(db, DSR_STMT_CUSTOMER_PART_HISTORY, 2, v);
  json_t *h = dsr_db_ok(r) ? json_array() : NULL;
  for (int i = 0; h && i < PQntuples(r); i++) {
    json_t *e = json_pack("{s:o, s:s, s:o, s:o, s:s, s:s}", "sequence",
                          PQgetisnull(r, i, 0) ? json_null()
                                               : json_integer(atoll(PQgetvalue(r, i, 0))),
                          "event", PQgetvalue(r, i, 1), "status", str_or_null(r, i, 2),
                          "change", str_or_null(r, i, 3), "at", PQgetvalue(r, i, 4),
                          "delivery", PQgetvalue(r, i, 5));
    if (!e || json_array_append_new(h, e) != 0) {
      json_decref(h);
      h = NULL;
    }
  }
  PQclear(r);
  return h;
}

enum dsr_ec dsr_customer_part(struct dsr_db *db, const char *customer_id, const char *part_id,
                              const char *base_url, json_t **reply)
{
  const char *why;
  *reply = NULL;
  if (!dsr_valid_uuid(part_id, &why))
    return DSR_E_NOT_FOUND;
  const char *v[] = {customer_id, NULL, part_id, NULL, NULL, "1"};
  PGresult *r = dsr_db_exec(db, DSR_STMT_CUSTOMER_PARTS, 6, v);
  if (!dsr_db_ok(r)) {
    PQclear(r);
    return DSR_E_DB_UNAVAILABLE;
  }
  if (PQntuples(r) != 1) { /* someone else's part looks like no part at all */
    PQclear(r);
    return DSR_E_NOT_FOUND;
  }
  json_t *p = part_json(db, r, 0, base_url);
  PQclear(r);
  json_t *h = p ? part_history(db, customer_id, part_id) : NULL;
  if (!h) {
    json_decref(p);
    return DSR_E_INTERNAL;
  }
  json_object_set_new(p, "history", h);
  *reply = p;
  return DSR_OK;
}

struct decide_ctx {
  const char *customer_id, *part_id, *decision, *reason;
  char new_state[16];
  enum dsr_ec ec;
};

static enum dsr_tx_status decide_body(struct dsr_db *db, void *arg)
{
  struct decide_ctx *c = arg;
  c->ec = DSR_OK;
  const char *v[] = {c->part_id, c->customer_id};
  PGresult *r = NULL;
  enum dsr_tx_status s = dsr_tx_exec(db, DSR_STMT_PART_LOCK_FOR_CUSTOMER, 2, v, &r);
  if (s != DSR_TX_COMMIT)
    return s;
  if (PQntuples(r) != 1) {
    PQclear(r);
    c->ec = DSR_E_NOT_FOUND;
    return DSR_TX_ROLLBACK;
  }
  char request_id[40], state[16];
  dsr_strlcpy(request_id, PQgetvalue(r, 0, 1), sizeof request_id);
  dsr_strlcpy(state, PQgetvalue(r, 0, 2), sizeof state);
  PQclear(r);
  /* A late answer to an escalated part still counts: it is the customer's data. */
  if (strcmp(state, "forwarded") != 0 && strcmp(state, "escalated") != 0) {
    c->ec = DSR_E_CONFLICT;
    return DSR_TX_ROLLBACK;
  }
  const char *next = !strcmp(c->decision, "fulfill") ? "approved"
                     : !strcmp(c->decision, "deny")  ? "denied"
                                                     : "done";
  dsr_strlcpy(c->new_state, next, sizeof c->new_state);
  char now[24], actor[64];
  snprintf(now, sizeof now, "%lld", (long long)dsr_now());
  snprintf(actor, sizeof actor, "customer:%s", c->customer_id);
  const char *uv[] = {c->part_id, next, c->decision, c->reason, now};
  s = dsr_tx_exec(db, DSR_STMT_PART_DECIDE, 5, uv, &r);
  if (s != DSR_TX_COMMIT)
    return s;
  PQclear(r);
  json_t *d = json_pack("{s:s, s:s, s:s}", "part_id", c->part_id, "decision", c->decision,
                        "state", next);
  if (d && c->reason)
    json_object_set_new(d, "reason", json_string(c->reason));
  s = dsr_tx_event(db, request_id, "part.decided", actor, d);
  if (s == DSR_TX_COMMIT) { /* the part's history shows the decision; a final one ends it */
    json_t *extra = json_pack("{s:s, s:s}", "change", "decided", "decision", c->decision);
    s = extra ? dsr_part_notify(db, c->part_id, "dsr.updated", extra) : DSR_TX_ROLLBACK;
    json_decref(extra);
  }
  if (s == DSR_TX_COMMIT && !strcmp(next, "approved"))
    s = dsr_part_execute_enqueue(db, request_id, c->part_id); /* runs once this commits */
  if (s != DSR_TX_COMMIT)
    return s;
  return dsr_request_settle(db, request_id, actor);
}

enum dsr_ec dsr_customer_decide(struct dsr_db *db, const char *customer_id, const char *part_id,
                                const char *decision, const char *reason, json_t **reply)
{
  const char *why;
  if (!dsr_valid_uuid(part_id, &why))
    return DSR_E_NOT_FOUND;
  if (!strcmp(decision, "deny")) {
    bool known = false;
    for (const char *const *p = dsr_deny_reasons; reason && *p; p++)
      known = known || !strcmp(*p, reason);
    if (!known)
      return DSR_E_UNPROCESSABLE;
  }
  struct decide_ctx c = {.customer_id = customer_id, .part_id = part_id, .decision = decision,
                         .reason = reason};
  if (!dsr_db_tx(db, "READ COMMITTED", decide_body, &c))
    return c.ec != DSR_OK ? c.ec : DSR_E_DB_UNAVAILABLE;
  *reply = json_pack("{s:s, s:s, s:s}", "part_id", part_id, "decision", decision, "status",
                     c.new_state);
  return *reply ? DSR_OK : DSR_E_INTERNAL;
}

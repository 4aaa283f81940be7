/** @file customer_api.c @brief Customers' own parts and their decisions. */
#include "config.h"
#include "dsr/admin.h"
#include "dsr/customer_api.h"
#include "dsr/rights.h"
#include "dsr/erasure.h"
#include "dsr/parts.h"
#include "dsr/validate.h"

#include <stdio.h>
#include <string.h>

static json_t *str_or_null(const PGresult *r, int row, int c)
{
  return PQgetisnull(r, row, c) ? json_null() : json_string(PQgetvalue(r, row, c));
}

enum dsr_ec dsr_customer_parts(struct dsr_db *db, const char *customer_id, const char *state,
                               json_t **reply)
{
  const char *v[] = {customer_id, state};
  PGresult *r = dsr_db_exec(db, DSR_STMT_CUSTOMER_PARTS, 2, v);
  if (!dsr_db_ok(r)) {
    PQclear(r);
    return DSR_E_DB_UNAVAILABLE;
  }
  json_t *items = json_array();
  for (int i = 0; i < PQntuples(r); i++)
    json_array_append_new(
        items, json_pack("{s:s, s:s, s:s, s:s, s:s, s:o, s:o, s:o}", "part_id",
                         PQgetvalue(r, i, 0), "request_type", PQgetvalue(r, i, 1),
                         "jurisdiction", PQgetvalue(r, i, 2), "status", PQgetvalue(r, i, 3),
                         "due_at", PQgetvalue(r, i, 4), "forwarded_at", str_or_null(r, i, 5),
                         "decision", str_or_null(r, i, 6), "decided_at", str_or_null(r, i, 7)));
  PQclear(r);
  *reply = json_pack("{s:o}", "items", items);
  return *reply ? DSR_OK : DSR_E_INTERNAL;
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

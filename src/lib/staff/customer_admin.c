/**
 * @file customer_admin.c
 * @brief Customers managed by the privacy team in the staff UI: change the
 *        webhook endpoint, disable and enable, send failed messages again
 *        (one or all: a 410 or retries used up) and the delivery history.
 *        Every change records a customer.* event (no request; actor
 *        "staff:<id>"; ids and counts only) in its transaction; additions and
 *        rotations record theirs in parts/customers.c, in theirs.
 */
#include "config.h"
#include "dsr/customer_admin.h"
#include "dsr/parts.h"
#include "dsr/util.h"
#include "dsr/validate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct cust_ctx {
  const char *staff_id, *customer_id;
  const char *url, *status, *outbox_id; /* what the body changes */
  const char *kind;                     /* the event */
  json_t *data;                         /* the event's data (taken) */
  enum dsr_ec ec;
  int count;
};

static void actor_of(const char *staff_id, char out[64])
{
  snprintf(out, 64, "staff:%s", staff_id);
}

static enum dsr_tx_status failed(PGresult *r, struct cust_ctx *c)
{
  bool retry = dsr_db_is_retryable(r);
  PQclear(r);
  c->ec = retry ? DSR_OK : DSR_E_DB_UNAVAILABLE;
  return retry ? DSR_TX_RETRY : DSR_TX_ROLLBACK;
}

static enum dsr_tx_status record(struct dsr_db *db, struct cust_ctx *c)
{
  char actor[64];
  actor_of(c->staff_id, actor);
  json_t *d = c->data ? json_incref(c->data) : json_object();
  json_object_set_new(d, "customer_id", json_string(c->customer_id));
  return dsr_tx_event(db, NULL, c->kind, actor, d);
}

static enum dsr_tx_status change_body(struct dsr_db *db, void *arg)
{
  struct cust_ctx *c = arg;
  char now[24];
  snprintf(now, sizeof now, "%lld", (long long)dsr_now());
  PGresult *r;
  if (c->url) {
    const char *v[] = {c->customer_id, c->url, now};
    r = dsr_db_exec(db, DSR_STMT_UI_CUSTOMER_SET_URL, 3, v);
  } else if (c->status) {
    const char *v[] = {c->customer_id, c->status, now};
    r = dsr_db_exec(db, DSR_STMT_UI_CUSTOMER_SET_STATUS, 3, v);
  } else {
    const char *v[] = {c->customer_id, now, c->outbox_id};
    r = dsr_db_exec(db, DSR_STMT_UI_OUTBOX_REPLAY, 3, v);
  }
  if (!dsr_db_ok(r))
    return failed(r, c);
  c->count = PQntuples(r);
  enum dsr_tx_status s = DSR_TX_COMMIT;
  if (c->outbox_id || (!c->url && !c->status)) { /* a replay: each row's first attempt again */
    time_t t = dsr_now();
    for (int i = 0; s == DSR_TX_COMMIT && i < c->count; i++) {
      bool retry = false;
      if (!dsr_webhook_enqueue(db, PQgetvalue(r, i, 0), 0, t, &retry))
        s = retry ? DSR_TX_RETRY : DSR_TX_ROLLBACK;
    }
    if (s == DSR_TX_COMMIT)
      json_object_set_new(c->data, "messages", json_integer(c->count));
  }
  PQclear(r);
  if (s != DSR_TX_COMMIT) {
    c->ec = DSR_E_DB_UNAVAILABLE;
    return s;
  }
  if (c->count == 0 && (c->url || c->status)) {
    c->ec = c->status ? DSR_E_CONFLICT : DSR_E_NOT_FOUND;
    return DSR_TX_ROLLBACK;
  }
  if (c->count == 0) /* nothing to send again: nothing to record */
    return DSR_TX_COMMIT;
  return record(db, c);
}

static enum dsr_ec run(struct dsr_db *db, struct cust_ctx *c)
{
  const char *why;
  if (!dsr_valid_uuid(c->customer_id, &why)) {
    json_decref(c->data);
    return DSR_E_NOT_FOUND;
  }
  c->ec = DSR_OK;
  bool ok = dsr_db_tx(db, "READ COMMITTED", change_body, c);
  json_decref(c->data);
  if (ok)
    return DSR_OK;
  return c->ec != DSR_OK ? c->ec : DSR_E_DB_UNAVAILABLE;
}

enum dsr_ec dsr_customer_set_endpoint(struct dsr_db *db, const struct dsr_webhook_opts *o,
                                      const char *staff_id, const char *customer_id,
                                      const char *url, char *why, size_t whylen)
{
  bool https = !strncmp(url, "https://", 8), http = !strncmp(url, "http://", 7);
  if (!https && !(http && o->allow_http)) {
    snprintf(why, whylen, "the webhook URL must start with https:// (webhook_allow_http is off)");
    return DSR_E_FIELD_INVALID;
  }
  struct cust_ctx c = {.staff_id = staff_id, .customer_id = customer_id, .url = url,
                       .kind = "customer.endpoint_changed", .data = json_object()};
  return run(db, &c);
}

enum dsr_ec dsr_customer_set_enabled(struct dsr_db *db, const char *staff_id,
                                     const char *customer_id, bool enabled)
{
  struct cust_ctx c = {.staff_id = staff_id, .customer_id = customer_id,
                       .status = enabled ? "enabled" : "disabled",
                       .kind = enabled ? "customer.enabled" : "customer.disabled",
                       .data = json_object()};
  enum dsr_ec ec = run(db, &c);
  int n = 0;
  if (ec == DSR_OK && enabled && !dsr_webhook_rearm(db, &n)) /* what waited goes out now */
    ec = DSR_E_DB_UNAVAILABLE;
  return ec;
}

enum dsr_ec dsr_customer_replay(struct dsr_db *db, const char *staff_id, const char *customer_id,
                                const char *outbox_id, int *count)
{
  struct cust_ctx c = {.staff_id = staff_id, .customer_id = customer_id,
                       .outbox_id = outbox_id, .kind = "customer.messages_replayed",
                       .data = json_object()};
  enum dsr_ec ec = run(db, &c);
  *count = c.count;
  return ec;
}

json_t *dsr_customer_history(struct dsr_db *db, const char *customer_id, const char *state,
                             const char *event)
{
  const char *v[] = {customer_id, state, event};
  PGresult *r = dsr_db_exec(db, DSR_STMT_UI_OUTBOX_OF, 3, v);
  if (!dsr_db_ok(r)) {
    PQclear(r);
    return NULL;
  }
  json_t *a = json_array();
  for (int i = 0; a && i < PQntuples(r); i++)
    json_array_append_new(
        a, json_pack("{s:s, s:s, s:s, s:s, s:i, s:s, s:s, s:s, s:s, s:s, s:b}", "id",
                     PQgetvalue(r, i, 0), "webhook_id", PQgetvalue(r, i, 1), "event",
                     PQgetvalue(r, i, 2), "state", PQgetvalue(r, i, 3), "attempts",
                     atoi(PQgetvalue(r, i, 4)), "created_at", PQgetvalue(r, i, 5),
                     "delivered_at", PQgetvalue(r, i, 6), "status", PQgetvalue(r, i, 7),
                     "error", PQgetvalue(r, i, 8), "request_id", PQgetvalue(r, i, 9),
                     "failed", !strcmp(PQgetvalue(r, i, 3), "failed")));
  PQclear(r);
  return a;
}

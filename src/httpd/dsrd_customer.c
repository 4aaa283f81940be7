/**
 * @file dsrd_customer.c
 * @brief The customer API: GET /v1/customer/requests (own parts only, page
 *        by page),
 *        GET /v1/customer/requests/{part_id} (one part with its history) and
 *        POST /v1/customer/requests/{part_id}/decision. The dispatcher has
 *        authenticated the customer's API key.
 */
#include "config.h"
#include "httpd.h"
#include "dsr/admin.h"
#include "dsr/customer_api.h"
#include "dsr/customers.h"
#include "dsr/log.h"
#include "dsr/webhook.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

static const char *const decisions[] = {"fulfill", "deny", "handled", NULL};
static const char *const part_states[] = {"pending", "forwarded", "approved", "executing",
                                          "done",    "denied",    "escalated", NULL};

const struct dsr_jspec dsrd_customer_decision_spec[] = {
    {.name = "decision", .type = DSR_JT_STRING, .required = true, .max_len = 16,
     .one_of = decisions},
    {.name = "reason", .type = DSR_JT_STRING, .max_len = 64, .one_of = dsr_deny_reasons},
    {0},
};

enum MHD_Result dsrd_customer_parts_list(struct dsr_hreq *r)
{
  const char *status = MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, "status");
  if (status) {
    bool known = false;
    for (const char *const *s = part_states; *s; s++)
      known = known || !strcmp(*s, status);
    if (!known)
      return dsr_reply_problem(r, DSR_E_FIELD_INVALID,
                               "status must be one of: pending, forwarded, approved, executing,"
                               " done, denied, escalated",
                               "status");
  }
  const char *cursor = MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, "cursor");
  const char *limit = MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, "limit");
  char *end = NULL;
  long n = limit ? strtol(limit, &end, 10) : 0;
  if (limit && (!*limit || *end || n < 1 || n > 200))
    return dsr_reply_problem(r, DSR_E_FIELD_INVALID, "limit must be from 1 to 200", "limit");
  struct dsr_db *db = dsr_db_acquire(r->app->pool);
  if (!db)
    return dsr_reply_problem(r, DSR_E_DB_UNAVAILABLE, NULL, NULL);
  json_t *reply = NULL;
  enum dsr_ec ec = dsr_customer_parts(db, r->customer_id, status, cursor, (int)n,
                                      r->app->venv.link_base, &reply);
  dsr_db_release(db);
  if (ec == DSR_E_FIELD_INVALID)
    return dsr_reply_problem(r, ec, "the cursor is not valid", "cursor");
  return dsr_reply_outcome(r, ec, reply);
}

enum MHD_Result dsrd_customer_part_get(struct dsr_hreq *r)
{
  struct dsr_db *db = dsr_db_acquire(r->app->pool);
  if (!db)
    return dsr_reply_problem(r, DSR_E_DB_UNAVAILABLE, NULL, NULL);
  json_t *reply = NULL;
  enum dsr_ec ec = dsr_customer_part(db, r->customer_id, r->args[0], r->app->venv.link_base,
                                     &reply);
  dsr_db_release(db);
  return dsr_reply_outcome(r, ec, reply);
}

enum MHD_Result dsrd_customer_decision(struct dsr_hreq *r)
{
  const char *decision = dsr_json_str(r->json, "decision");
  const char *reason = dsr_json_str(r->json, "reason");
  struct dsr_db *db = dsr_db_acquire(r->app->pool);
  if (!db)
    return dsr_reply_problem(r, DSR_E_DB_UNAVAILABLE, NULL, NULL);
  json_t *reply = NULL;
  enum dsr_ec ec = dsr_customer_decide(db, r->customer_id, r->args[0], decision, reason, &reply);
  dsr_db_release(db);
  if (ec == DSR_E_UNPROCESSABLE)
    return dsr_reply_problem(r, ec,
                             "deny needs a reason code, one of: identity_not_verified, "
                             "manifestly_unfounded, excessive, legal_obligation, legal_claims, "
                             "exemption_applies, not_applicable, duplicate, third_party_rights",
                             "/reason");
  if (ec == DSR_E_CONFLICT)
    return dsr_reply_problem(r, ec, "this part no longer waits for a decision", NULL);
  return dsr_reply_outcome(r, ec, reply);
}

/* A webhook event's envelope: what the demo receiver accepts (data as sent). */
const struct dsr_jspec dsrd_demo_webhook_spec[] = {
    {.name = "type", .type = DSR_JT_STRING, .required = true, .max_len = 32},
    {.name = "timestamp", .type = DSR_JT_STRING, .required = true, .max_len = 32},
    {.name = "data", .type = DSR_JT_OBJECT, .required = true},
    {0},
};

static void wipe_free(char *s)
{
  if (s) {
    sodium_memzero(s, strlen(s));
    free(s);
  }
}

/*
 * POST /demo/webhooks/{customer}: in demo mode only, dsrd is the endpoint of
 * the demo customers (scripts/demo) and checks each delivery as a customer
 * would: its Standard Webhooks signature under the customer's secret and its
 * timestamp (5 minutes). 204 when both hold, 401 otherwise; the delivery and
 * its answer show in the staff UI with the part. 404 outside demo mode.
 */
enum MHD_Result dsrd_demo_webhook(struct dsr_hreq *r)
{
  if (!r->app->cfg->demo_mode)
    return dsr_reply_problem(r, DSR_E_NOT_FOUND, NULL, NULL);
  const char *id = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "webhook-id");
  const char *ts = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "webhook-timestamp");
  const char *sig = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "webhook-signature");
  if (!id || !ts || !sig)
    return dsr_reply_problem(r, DSR_E_UNAUTHORIZED,
                             "webhook-id, webhook-timestamp and webhook-signature are required",
                             NULL);
  struct dsr_db *db = dsr_db_acquire(r->app->pool);
  if (!db)
    return dsr_reply_problem(r, DSR_E_DB_UNAVAILABLE, NULL, NULL);
  char cid[40], *whsec = NULL, *prev = NULL;
  enum dsr_ec ec = dsr_customer_whsecs(db, r->args[0], cid, &whsec, &prev);
  dsr_db_release(db);
  if (ec != DSR_OK)
    return dsr_reply_problem(r, ec, NULL, NULL);
  char *end = NULL;
  long long t = strtoll(ts, &end, 10);
  long long skew = t - (long long)dsr_now();
  bool fresh = end && end != ts && *end == '\0' && skew < 300 && skew > -300;
  bool ok = fresh && (dsr_webhook_verify(whsec, id, t, r->body.data, r->body.len, sig) ||
                      (prev && dsr_webhook_verify(prev, id, t, r->body.data, r->body.len, sig)));
  wipe_free(whsec);
  wipe_free(prev);
  DSR_INFO("demo.webhook", "customer=%s event=%s signature=%s", cid,
           json_string_value(json_object_get(r->json, "type")), ok ? "ok" : "bad");
  if (!ok)
    return dsr_reply_problem(r, DSR_E_UNAUTHORIZED,
                             fresh ? "the signature does not match the customer's secret"
                                   : "the timestamp is not within 5 minutes",
                             NULL);
  return dsr_reply_outcome(r, DSR_OK,
                           json_pack("{s:b, s:s}", "signature_ok", 1, "customer_id", cid));
}

/**
 * @file dsrd_customer.c
 * @brief The customer API: GET /v1/customer/requests (own parts only),
 *        GET /v1/customer/requests/{part_id} (one part with its history) and
 *        POST /v1/customer/requests/{part_id}/decision. The dispatcher has
 *        authenticated the customer's API key.
 */
#include "config.h"
#include "httpd.h"
#include "dsr/admin.h"
#include "dsr/customer_api.h"

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
  struct dsr_db *db = dsr_db_acquire(r->app->pool);
  if (!db)
    return dsr_reply_problem(r, DSR_E_DB_UNAVAILABLE, NULL, NULL);
  json_t *reply = NULL;
  enum dsr_ec ec = dsr_customer_parts(db, r->customer_id, status, r->app->venv.link_base, &reply);
  dsr_db_release(db);
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

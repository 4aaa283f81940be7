/** @file dsrd_requests.c @brief POST /v1/requests and GET /v1/requests/{id} (public API). */
#include "config.h"
#include "httpd.h"
#include "dsr/jurisdiction.h"
#include "dsr/requests.h"
#include "dsr/validate.h"

#include <string.h>

static const struct dsr_jspec subject_spec[] = {
    {.name = "email", .type = DSR_JT_STRING, .max_len = 254, .validate = dsr_valid_email},
    {.name = "phone", .type = DSR_JT_STRING, .max_len = 16, .validate = dsr_valid_phone},
    {.name = "name", .type = DSR_JT_STRING, .max_len = 200, .validate = dsr_valid_text},
    {.name = "account_id", .type = DSR_JT_STRING, .max_len = 128,
     .validate = dsr_valid_account_id},
    {0},
};

static bool valid_jurisdiction(const char *s, const char **why)
{
  if (dsr_jurisdiction_find(s))
    return true;
  *why = "is not a known jurisdiction (gdpr, uk_gdpr, ccpa, lgpd, pipeda, dpdp, it_act)";
  return false;
}

static bool valid_type(const char *s, const char **why)
{
  for (const char *const *t = dsr_request_types; *t; t++)
    if (!strcmp(*t, s))
      return true;
  *why = "is not a request type (access, portability, erasure, rectification, restriction, "
         "objection, withdraw_consent, opt_out)";
  return false;
}

const struct dsr_jspec dsrd_request_create_spec[] = {
    {.name = "type", .type = DSR_JT_STRING, .required = true, .max_len = 32,
     .validate = valid_type},
    {.name = "jurisdiction", .type = DSR_JT_STRING, .max_len = 32, .validate = valid_jurisdiction},
    {.name = "subject", .type = DSR_JT_OBJECT, .required = true, .fields = subject_spec,
     .min_fields = 1},
    {.name = "details", .type = DSR_JT_STRING, .max_len = 4000, .validate = dsr_valid_text},
    {.name = "language", .type = DSR_JT_STRING, .max_len = 35, .validate = dsr_valid_language},
    {0},
};

/** Idempotency-Key: 1 to 255 visible ASCII characters. */
static bool idempotency_key_ok(const char *k)
{
  size_t n = strlen(k);
  if (n == 0 || n > 255)
    return false;
  for (const unsigned char *p = (const unsigned char *)k; *p; p++)
    if (*p < 0x21 || *p > 0x7e)
      return false;
  return true;
}

enum MHD_Result dsrd_requests_create(struct dsr_hreq *r)
{
  const json_t *subject = json_object_get(r->json, "subject");
  struct dsr_intake in = {
      .type = dsr_json_str(r->json, "type"),
      .jurisdiction = dsr_json_str(r->json, "jurisdiction"),
      .language = dsr_json_str(r->json, "language"),
      .details = dsr_json_str(r->json, "details"),
      .email = dsr_json_str(subject, "email"),
      .phone = dsr_json_str(subject, "phone"),
      .name = dsr_json_str(subject, "name"),
      .account_id = dsr_json_str(subject, "account_id"),
      .body = r->json,
  };
  if (!in.email && !in.phone && !in.account_id)
    return dsr_reply_problem(r, DSR_E_FIELD_MISSING,
                             "/subject needs an email, a phone or an account_id to verify",
                             "/subject");
  if (!in.jurisdiction)
    in.jurisdiction = r->app->cfg->default_jurisdiction;
  in.idempotency_key = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "Idempotency-Key");
  if (in.idempotency_key && !idempotency_key_ok(in.idempotency_key))
    return dsr_reply_problem(r, DSR_E_BAD_HEADER,
                             "Idempotency-Key must be 1 to 255 visible ASCII characters", NULL);
  struct dsr_db *db = dsr_db_acquire(r->app->pool);
  if (!db)
    return dsr_reply_problem(r, DSR_E_DB_UNAVAILABLE, NULL, NULL);
  json_t *reply = NULL;
  unsigned int status = 0;
  enum dsr_ec ec = dsr_request_create(db, &in, &reply, &status);
  dsr_db_release(db);
  if (ec != DSR_OK)
    return dsr_reply_problem(r, ec, NULL, ec == DSR_E_FIELD_INVALID ? "/jurisdiction" : NULL);
  enum MHD_Result ret = dsr_reply_json(r, status, reply);
  json_decref(reply);
  return ret;
}

enum MHD_Result dsrd_requests_get(struct dsr_hreq *r)
{
  struct dsr_db *db = dsr_db_acquire(r->app->pool);
  if (!db)
    return dsr_reply_problem(r, DSR_E_DB_UNAVAILABLE, NULL, NULL);
  json_t *reply = NULL;
  enum dsr_ec ec = dsr_request_status(db, r->args[0], r->bearer, &reply);
  dsr_db_release(db);
  if (ec != DSR_OK)
    return dsr_reply_problem(r, ec, ec == DSR_E_NOT_FOUND ? "no request with this id and token" : NULL, NULL);
  enum MHD_Result ret = dsr_reply_json(r, 200, reply);
  json_decref(reply);
  return ret;
}

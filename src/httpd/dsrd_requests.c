/** @file dsrd_requests.c @brief POST /v1/requests and GET /v1/requests/{id} (public API). */
#include "config.h"
#include "httpd.h"
#include "dsr/rights.h"
#include "dsr/log.h"
#include "dsr/jurisdiction.h"
#include "dsr/phone.h"
#include "dsr/requests.h"
#include "dsr/validate.h"
#include "dsr/verify.h"

#include <stdlib.h>
#include <string.h>

static const struct dsr_jspec subject_spec[] = {
    {.name = "email", .type = DSR_JT_STRING, .max_len = 254, .validate = dsr_valid_email},
    {.name = "phone", .type = DSR_JT_STRING, .max_len = 32, .validate = dsr_valid_phone_written},
    {.name = "name", .type = DSR_JT_STRING, .max_len = 200, .validate = dsr_valid_text},
    {.name = "account_id", .type = DSR_JT_STRING, .max_len = 128,
     .validate = dsr_valid_account_id},
    {0},
};

/* Shape only: which codes exist depends on the policy, checked in dsrd_intake(). */
static bool valid_jurisdiction(const char *s, const char **why)
{
  size_t n = strlen(s);
  if (n > 0 && n <= 32 && strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789_") == n)
    return true;
  *why = "is not a jurisdiction code";
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
    {.name = "corrections", .type = DSR_JT_ARRAY},
    {0},
};

/* Channels the subject gave, as a mask (what verification could use). */
static unsigned offered_channels(const struct dsr_intake *in)
{
  return (in->email ? DSR_CH_EMAIL : 0) | (in->phone ? DSR_CH_SMS : 0) |
         (in->account_id ? DSR_CH_ACCOUNT : 0);
}

/* Per-identity intake limit: each identity given counts. */
static bool identities_within_limit(struct dsr_hreq *r, const struct dsr_intake *in)
{
  const char *kinds[] = {"email", "phone", "account"};
  const char *values[] = {in->email, in->phone, in->account_id};
  for (size_t i = 0; i < DSR_ARRAY_LEN(kinds); i++) {
    if (!values[i])
      continue;
    char *norm = i == 0 ? dsr_normalize_email(values[i]) : strdup(values[i]);
    char *key = norm ? dsr_asprintf("%s:%s", kinds[i], norm) : NULL;
    bool ok = !key || dsr_rate_ok(r, DSR_RATE_INTAKE_IDENTITY, key);
    free(key);
    free(norm);
    if (!ok)
      return false;
  }
  return true;
}

/* dsrd_intake() once the subject's phone number, if any, is in E.164. */
static enum dsr_ec intake(struct dsr_hreq *r, const json_t *body, const char *phone,
                          json_t **reply, unsigned int *status, const char **field)
{
  const json_t *subject = json_object_get(body, "subject");
  struct dsr_intake in = {
      .type = dsr_json_str(body, "type"),
      .jurisdiction = dsr_json_str(body, "jurisdiction"),
      .language = dsr_json_str(body, "language"),
      .details = dsr_json_str(body, "details"),
      .email = dsr_json_str(subject, "email"),
      .phone = phone,
      .name = dsr_json_str(subject, "name"),
      .account_id = dsr_json_str(subject, "account_id"),
      .body = body,
      .venv = &r->app->venv,
  };
  *field = NULL;
  in.corrections = json_object_get(body, "corrections");
  char cfield[64], cdetail[128];
  if (!dsr_corrections_check(r->app->policy, in.type, in.corrections, cfield, sizeof cfield,
                             cdetail, sizeof cdetail)) {
    DSR_INFO("intake.corrections_invalid", "rid=%s at=%s", r->rid, cfield);
    *field = "/corrections"; /* the reply names the list; the log the element */
    return DSR_E_FIELD_INVALID;
  }
  if (!in.email && !in.phone && !in.account_id) {
    *field = "/subject";
    return DSR_E_FIELD_MISSING;
  }
  if (!in.jurisdiction) {
    const char *pd = json_string_value(dsr_policy_section(r->app->policy, "default_jurisdiction"));
    in.jurisdiction = pd ? pd : r->app->cfg->default_jurisdiction;
  }
  struct dsr_jur_view jur;
  if (!dsr_jur_view_get(r->app->policy, in.jurisdiction, &jur)) {
    *field = "/jurisdiction";
    return DSR_E_FIELD_INVALID;
  }
  if (!dsr_jur_offers(&jur, in.type)) {
    *field = "/type";
    return DSR_E_RIGHT_NOT_OFFERED;
  }
  in.jurisdiction = jur.code;
  in.deadline = jur.deadline;
  unsigned masks[DSR_MAX_ALTERNATIVES];
  size_t nalt = dsr_verify_requirements(r->app->policy, in.type, jur.code, masks);
  unsigned offered = offered_channels(&in);
  if (!dsr_verify_possible(masks, nalt, offered,
                           dsr_verify_partial_allowed(r->app->policy, in.type, jur.code))) {
    *field = "/subject";
    return DSR_E_CHANNEL_UNAVAILABLE;
  }
  if (!identities_within_limit(r, &in))
    return DSR_E_RATE_LIMITED;
  in.idempotency_key = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "Idempotency-Key");
  if (in.idempotency_key && !dsr_idem_key_ok(in.idempotency_key))
    return DSR_E_BAD_HEADER;
  struct dsr_db *db = dsr_db_acquire(r->app->pool);
  if (!db)
    return DSR_E_DB_UNAVAILABLE;
  enum dsr_ec ec = dsr_request_create(db, &in, reply, status);
  dsr_db_release(db);
  return ec;
}

enum dsr_ec dsrd_intake(struct dsr_hreq *r, const json_t *body, json_t **reply,
                        unsigned int *status, const char **field)
{
  /* One form for every way it was written, so duplicates, limits and discovery see one number. */
  const char *written = dsr_json_str(json_object_get(body, "subject"), "phone");
  char *phone = written ? dsr_phone_e164(written, r->app->cfg->phone_region) : NULL;
  const char *why;
  if (phone && !dsr_valid_phone(phone, &why)) { /* possible, but shorter than SMS can reach */
    free(phone);
    phone = NULL;
  }
  if (written && !phone) {
    *field = "/subject/phone";
    return DSR_E_FIELD_INVALID;
  }
  enum dsr_ec ec = intake(r, body, phone, reply, status, field);
  free(phone);
  return ec;
}

enum MHD_Result dsrd_requests_create(struct dsr_hreq *r)
{
  json_t *reply = NULL;
  unsigned int status = 0;
  const char *field = NULL;
  enum dsr_ec ec = dsrd_intake(r, r->json, &reply, &status, &field);
  if (ec != DSR_OK) {
    const char *detail = NULL;
    if (ec == DSR_E_FIELD_MISSING)
      detail = "/subject needs an email, a phone or an account_id to verify";
    else if (ec == DSR_E_BAD_HEADER)
      detail = "Idempotency-Key must be 1 to 255 visible ASCII characters";
    else if (ec == DSR_E_FIELD_INVALID && field && !strcmp(field, "/subject/phone"))
      detail = r->app->cfg->phone_region
                   ? "/subject/phone is not a possible phone number"
                   : "/subject/phone is not a possible phone number (write it with + and the"
                     " country code)";
    else if (ec == DSR_E_FIELD_INVALID && field && !strcmp(field, "/corrections"))
      detail = "/corrections names a field that cannot be corrected or a value it cannot take";
    else if (ec == DSR_E_FIELD_INVALID)
      detail = "/jurisdiction is not a jurisdiction of this deployment";
    else if (ec == DSR_E_CHANNEL_UNAVAILABLE)
      detail = "this request type needs more ways to verify you (see the verification rules)";
    return dsr_reply_problem(r, ec, detail, field);
  }
  enum MHD_Result ret = dsr_reply_json(r, status, reply);
  json_decref(reply);
  return ret;
}

static enum MHD_Result status_reply(struct dsr_hreq *r, enum dsr_ec ec, json_t *reply)
{
  if (ec != DSR_OK)
    return dsr_reply_problem(r, ec, ec == DSR_E_NOT_FOUND ? "no request with this id and token" : NULL, NULL);
  enum MHD_Result ret = dsr_reply_json(r, 200, reply);
  json_decref(reply);
  return ret;
}

/* On the dbq's thread: keep the result and let libmicrohttpd call the handler again. */
static void status_answered(PGresult *res, void *arg)
{
  struct dsr_hreq *r = arg;
  r->handed_res = res;
  r->handed = DSR_HANDED_ANSWERED;
  MHD_resume_connection(r->conn);
}

/*
 * The read is handed over to app->dbq (pipelined with the other requests' reads,
 * db_async.h) while the connection is suspended; the answer is built here, on the
 * HTTP thread, once libmicrohttpd calls again.
 */
enum MHD_Result dsrd_requests_get(struct dsr_hreq *r)
{
  json_t *reply = NULL;
  enum dsr_ec ec;
  if (r->handed == DSR_HANDED_ANSWERED) {
    char *text = NULL;
    ec = dsr_request_status_answer(r->handed_res, r->bearer, &text);
    return ec == DSR_OK ? dsr_reply_json_text(r, 200, text) : status_reply(r, ec, NULL);
  }
  if (r->app->dbq) {
    ec = dsr_request_status_check(r->args[0], r->bearer);
    if (ec != DSR_OK)
      return status_reply(r, ec, NULL);
    /* suspended first: the answer may come back before dsr_request_status_submit() returns */
    MHD_suspend_connection(r->conn);
    r->handed = DSR_HANDED_WAITING;
    if (!dsr_request_status_submit(r->app->dbq, r->args[0], status_answered, r))
      status_answered(NULL, r); /* answered 503 when called again */
    return MHD_YES;
  }
  struct dsr_db *db = dsr_db_acquire(r->app->pool);
  if (!db)
    return dsr_reply_problem(r, DSR_E_DB_UNAVAILABLE, NULL, NULL);
  ec = dsr_request_status(db, r->args[0], r->bearer, &reply);
  dsr_db_release(db);
  return status_reply(r, ec, reply);
}

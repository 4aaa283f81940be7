/**
 * @file dsrd_verify.c
 * @brief POST /v1/requests/{id}/verify, /resend and /withdraw (public API).
 */
#include "config.h"
#include "httpd.h"
#include "dsr/verify.h"

#include <string.h>

static const char *const code_channels[] = {"email", "sms", NULL};

static bool valid_code(const char *s, const char **why)
{
  if (strlen(s) == 6 && strspn(s, "0123456789") == 6)
    return true;
  *why = "must be the 6 digits you received";
  return false;
}

static bool valid_token(const char *s, const char **why)
{
  size_t n = strlen(s);
  if (n >= 16 && strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.") == n)
    return true;
  *why = "is not a verification token";
  return false;
}

const struct dsr_jspec dsrd_verify_spec[] = {
    {.name = "channel", .type = DSR_JT_STRING, .max_len = 16, .one_of = code_channels},
    {.name = "code", .type = DSR_JT_STRING, .max_len = 6, .validate = valid_code},
    {.name = "token", .type = DSR_JT_STRING, .max_len = 2048, .validate = valid_token},
    {0},
};

const struct dsr_jspec dsrd_resend_spec[] = {
    {.name = "channel", .type = DSR_JT_STRING, .required = true, .max_len = 16,
     .one_of = code_channels},
    {0},
};

static json_t *channel_list(unsigned mask)
{
  json_t *a = json_array();
  for (unsigned b = 1; a && b <= DSR_CH_MANUAL; b <<= 1)
    if (mask & b)
      json_array_append_new(a, json_string(dsr_channel_name(b)));
  return a;
}

enum MHD_Result dsrd_verify_reply(struct dsr_hreq *r, const char *id,
                                  const struct dsr_verify_outcome *o)
{
  switch (o->ec) {
  case DSR_OK: {
    json_t *j = json_pack("{s:s, s:s, s:o}", "id", id, "status", o->status, "verified_channels",
                          channel_list(o->verified));
    enum MHD_Result ret = dsr_reply_json(r, 200, j);
    json_decref(j);
    return ret;
  }
  case DSR_E_CODE_WRONG:
    return dsr_reply_problem_x(
        r, o->ec, o->attempts_left >= 0 ? "the code is not right" : "the assertion is not valid",
        NULL, o->attempts_left >= 0 ? json_pack("{s:i}", "attempts_left", o->attempts_left) : NULL);
  case DSR_E_VERIFY_LOCKED:
    return dsr_reply_problem_x(r, o->ec,
                               "too many wrong codes; ask the privacy team to verify you",
                               NULL, json_pack("{s:i}", "attempts_left", 0));
  case DSR_E_RESEND_TOO_SOON:
    r->retry_after = o->retry_after;
    return dsr_reply_problem(r, o->ec, NULL, NULL);
  case DSR_E_NOT_FOUND:
    return dsr_reply_problem(r, o->ec, "no request with this id and token", NULL);
  default:
    return dsr_reply_problem(r, o->ec, NULL, NULL);
  }
}

enum MHD_Result dsrd_verify(struct dsr_hreq *r)
{
  const char *channel = dsr_json_str(r->json, "channel");
  const char *code = dsr_json_str(r->json, "code");
  const char *token = dsr_json_str(r->json, "token");
  if (token ? (channel || code) : !(channel && code))
    return dsr_reply_problem(r, DSR_E_BAD_REQUEST,
                             "send either {\"channel\", \"code\"} or {\"token\"}", NULL);
  /* A code counts only from the holder of the status token (a link token is its own secret). */
  r->bearer = token ? NULL : dsr_bearer_of(r->conn);
  if (!token && !r->bearer)
    return dsr_reply_problem(r, DSR_E_UNAUTHORIZED,
                             "send the status token as Authorization: Bearer <token>", NULL);
  struct dsr_db *db = dsr_db_acquire(r->app->pool);
  if (!db)
    return dsr_reply_problem(r, DSR_E_DB_UNAVAILABLE, NULL, NULL);
  enum dsr_ec ec = token ? DSR_OK : dsr_verify_status_token_check(db, r->args[0], r->bearer);
  if (ec == DSR_OK && !dsr_rate_ok(r, DSR_RATE_VERIFY_REQUEST, r->args[0]))
    ec = DSR_E_RATE_LIMITED;
  if (ec != DSR_OK) {
    dsr_db_release(db);
    return dsr_reply_problem(r, ec,
                             ec == DSR_E_RATE_LIMITED ? "too many attempts for this request"
                             : ec == DSR_E_NOT_FOUND  ? "no request with this id and token"
                                                      : NULL,
                             NULL);
  }
  struct dsr_verify_outcome o;
  dsr_verify_submit(db, &r->app->venv, r->args[0], r->bearer, channel, code, token, &o);
  if (o.ec == DSR_OK)
    dsrd_drp_changed(r, db, r->args[0]);
  dsr_db_release(db);
  return dsrd_verify_reply(r, r->args[0], &o);
}

enum MHD_Result dsrd_resend(struct dsr_hreq *r)
{
  struct dsr_db *db = dsr_db_acquire(r->app->pool);
  if (!db)
    return dsr_reply_problem(r, DSR_E_DB_UNAVAILABLE, NULL, NULL);
  /* The token first: a caller without it spends none of the request's budget. */
  enum dsr_ec ec = dsr_verify_status_token_check(db, r->args[0], r->bearer);
  if (ec == DSR_OK && !dsr_rate_ok(r, DSR_RATE_VERIFY_REQUEST, r->args[0]))
    ec = DSR_E_RATE_LIMITED;
  if (ec != DSR_OK) {
    dsr_db_release(db);
    return dsr_reply_problem(r, ec,
                             ec == DSR_E_RATE_LIMITED ? "too many attempts for this request"
                             : ec == DSR_E_NOT_FOUND  ? "no request with this id and token"
                                                      : NULL,
                             NULL);
  }
  struct dsr_verify_outcome o;
  const char *channel = dsr_json_str(r->json, "channel");
  dsr_verify_resend(db, &r->app->venv, r->args[0], r->bearer, channel, &o);
  dsr_db_release(db);
  if (o.ec != DSR_OK)
    return dsrd_verify_reply(r, r->args[0], &o);
  json_t *j = json_pack("{s:s, s:s, s:s}", "id", r->args[0], "channel", channel, "expires_at",
                        o.expires_at);
  enum MHD_Result ret = dsr_reply_json(r, 202, j);
  json_decref(j);
  return ret;
}

enum MHD_Result dsrd_withdraw(struct dsr_hreq *r)
{
  struct dsr_db *db = dsr_db_acquire(r->app->pool);
  if (!db)
    return dsr_reply_problem(r, DSR_E_DB_UNAVAILABLE, NULL, NULL);
  struct dsr_verify_outcome o;
  dsr_request_withdraw(db, r->args[0], r->bearer, &o);
  if (o.ec == DSR_OK)
    dsrd_drp_changed(r, db, r->args[0]);
  dsr_db_release(db);
  if (o.ec != DSR_OK)
    return dsrd_verify_reply(r, r->args[0], &o);
  json_t *j = json_pack("{s:s, s:s}", "id", r->args[0], "status", o.status);
  enum MHD_Result ret = dsr_reply_json(r, 200, j);
  json_decref(j);
  return ret;
}

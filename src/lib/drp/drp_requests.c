/**
 * @file drp_requests.c
 * @brief The DRP operations (see drp.h): key setup, exercise, status and
 *        revoke on top of the request store, and the state mapping of
 *        section 3.02. Claims are checked in the order of section 3.07.
 */
#include "config.h"
#include "dsr/drp.h"
#include "dsr/crypto.h"
#include "dsr/events.h"
#include "dsr/jspec.h"
#include "dsr/log.h"
#include "dsr/requests.h"
#include "dsr/util.h"
#include "dsr/validate.h"
#include "dsr/webhook.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* How far ahead of our clock an agent's issued-at may be (clock skew). */
#define SKEW_SECONDS 60
/* The longest validity a signed message may claim: the spec recommends minutes. */
#define MAX_VALIDITY (24L * 3600L)

void dsr_drp_answer_clear(struct dsr_drp_answer *a)
{
  json_decref(a->body);
  a->body = NULL;
  a->status = 0;
}

json_t *dsr_drp_error_json(unsigned int status, const char *message, bool fatal)
{
  char code[8];
  snprintf(code, sizeof code, "%u", status);
  return json_pack("{s:s, s:s, s:b}", "code", code, "message", message, "fatal", fatal);
}

static void fail(struct dsr_drp_answer *out, unsigned int status, const char *message, bool fatal)
{
  json_decref(out->body);
  out->status = status;
  out->body = dsr_drp_error_json(status, message, fatal);
}

/* ---- actions ---- */

static const struct {
  const char *exercise, *type;
} actions[] = {
    {"deletion", "erasure"},        {"access", "access"},          {"sale:opt-out", "opt_out"},
    {"access:categories", "access"}, {"access:specific", "access"}, {"sale:opt-in", NULL},
};

const char *dsr_drp_action_type(const char *exercise)
{
  for (size_t i = 0; exercise && i < DSR_ARRAY_LEN(actions); i++)
    if (!strcmp(actions[i].exercise, exercise))
      return actions[i].type;
  return NULL;
}

static bool action_known(const char *exercise)
{
  for (size_t i = 0; exercise && i < DSR_ARRAY_LEN(actions); i++)
    if (!strcmp(actions[i].exercise, exercise))
      return true;
  return false;
}

bool dsr_drp_action_supported(const struct dsr_config *cfg, const char *exercise)
{
  const char *list = cfg->drp_actions ? cfg->drp_actions : "";
  size_t n = exercise ? strlen(exercise) : 0;
  for (const char *p = list; n && *p;) {
    p += strspn(p, " ,");
    size_t len = strcspn(p, ", ");
    if (len == n && !strncmp(p, exercise, n))
      return dsr_drp_action_type(exercise) != NULL;
    p += len;
  }
  return false;
}

json_t *dsr_drp_business_document(const struct dsr_config *cfg, const struct dsr_policy *policy)
{
  json_t *org = dsr_org_json(policy);
  const char *name = cfg->drp_business_name ? cfg->drp_business_name
                                            : json_string_value(json_object_get(org, "name"));
  char *api = cfg->base_url
                  ? dsr_asprintf("%s%s", cfg->base_url, cfg->drp_base_path ? cfg->drp_base_path
                                                                           : "/drp")
                  : dsr_asprintf("http://%s:%ld%s", cfg->listen_address, cfg->port,
                                 cfg->drp_base_path ? cfg->drp_base_path : "/drp");
  json_t *acts = json_array();
  for (size_t i = 0; i < DSR_ARRAY_LEN(actions); i++)
    if (dsr_drp_action_supported(cfg, actions[i].exercise))
      json_array_append_new(acts, json_string(actions[i].exercise));
  json_t *doc = json_pack("{s:s?, s:s?, s:n, s:s?, s:o, s:[ss]}", "id", cfg->drp_business_id,
                          "name", name, "logo", "api_base", api, "supported_actions", acts,
                          "supported_verifications", "email", "phone_number");
  /* Optional members only when known: the schema wants strings, not nulls. */
  const char *web = json_string_value(json_object_get(org, "url"));
  const char *tech = cfg->drp_technical_contact
                         ? cfg->drp_technical_contact
                         : json_string_value(json_object_get(org, "contact_email"));
  if (doc && web)
    json_object_set_new(doc, "web_url", json_string(web));
  if (doc && tech)
    json_object_set_new(doc, "technical_contact", json_string(tech));
  free(api);
  json_decref(org);
  return doc;
}

/* ---- claims (section 3.07's order after the signature) ---- */

/*
 * The envelope: agent-id, business-id, issued-at, expires-at, drp.version.
 * Sets *status and *why on failure; *expires gets expires-at.
 */
static bool envelope_ok(const struct dsr_drp_env *env, const json_t *c, const char *agent_id,
                        time_t now, time_t *expires, unsigned int *status, const char **why,
                        bool *fatal)
{
  const char *aid = dsr_json_str(c, "agent-id"), *bid = dsr_json_str(c, "business-id");
  time_t issued = 0;
  *status = 403;
  *fatal = true;
  if (!aid || strcmp(aid, agent_id) != 0) {
    *why = "the agent-id claim is not the agent of this token";
    return false;
  }
  if (!bid || !env->cfg->drp_business_id || strcmp(bid, env->cfg->drp_business_id) != 0) {
    *why = "the business-id claim names another business";
    return false;
  }
  *status = 400;
  if (!dsr_drp_time_parse(dsr_json_str(c, "issued-at"), &issued) ||
      !dsr_drp_time_parse(dsr_json_str(c, "expires-at"), expires)) {
    *why = "issued-at and expires-at must be ISO 8601 times";
    return false;
  }
  if (issued > now + SKEW_SECONDS) {
    *why = "issued-at is in the future (check the agent's clock)";
    *fatal = false;
    return false;
  }
  if (*expires <= now) {
    *why = "the request has expired (expires-at is past)";
    return false;
  }
  if (*expires - issued > MAX_VALIDITY) {
    *why = "expires-at is too far after issued-at";
    return false;
  }
  const char *v = dsr_json_str(c, "drp.version");
  if (!v || strcmp(v, DSR_DRP_VERSION) != 0) {
    *why = "drp.version must be \"1.0\"";
    return false;
  }
  return true;
}

/* Takes the body's digest once; false (a replay) when it was taken before. */
static enum dsr_ec first_sight(struct dsr_db *db, const unsigned char digest[32], time_t expires,
                               time_t now)
{
  char nows[24], exps[24];
  snprintf(nows, sizeof nows, "%lld", (long long)now);
  snprintf(exps, sizeof exps, "%lld", (long long)expires);
  PGresult *r = dsr_db_exec(db, DSR_STMT_DRP_SEEN_PRUNE, 1, (const char *const[]){nows});
  PQclear(r);
  const char *v[] = {(const char *)digest, exps};
  const int lens[] = {32, 0}, fmts[] = {1, 0};
  r = dsr_db_exec_bin(db, DSR_STMT_DRP_SEEN_PUT, 2, v, lens, fmts);
  enum dsr_ec ec = !dsr_db_ok(r) ? DSR_E_DB_UNAVAILABLE : PQntuples(r) == 1 ? DSR_OK
                                                                             : DSR_E_CONFLICT;
  PQclear(r);
  return ec;
}

static void token_hash(const char *token, unsigned char out[DSR_HASH_BYTES])
{
  char *in = dsr_asprintf("drp-token:%s", token);
  dsr_keyed_hash(DSR_KEY_TOKEN, in ? in : "", in ? strlen(in) : 0, out);
  free(in);
}

/* ---- 2.05 key setup ---- */

void dsr_drp_pair(struct dsr_db *db, const struct dsr_drp_env *env, const char *url_agent_id,
                  const char *body, size_t len, time_t now, struct dsr_drp_answer *out)
{
  out->status = 403; /* any failure: 403 and no body (section 2.05.1) */
  out->body = NULL;
  const struct dsr_drp_agent *a = dsr_drp_agent_find(env->dir, url_agent_id);
  json_t *claims = NULL;
  unsigned char digest[32];
  const char *why = "the agent is not in the directory";
  char *token = NULL;
  if (!a || !env->cfg->drp_business_id)
    goto cleanup;
  enum dsr_drp_open o = dsr_drp_open_signed(body, len, a->key, &claims, digest);
  why = o == DSR_DRP_OPEN_BASE64 ? "bad base64" : o == DSR_DRP_OPEN_SIGNATURE ? "bad signature"
        : o == DSR_DRP_OPEN_JSON ? "not a JSON object" : NULL;
  if (o != DSR_DRP_OPEN_OK)
    goto cleanup;
  time_t expires = 0;
  unsigned int st;
  bool fatal;
  if (!envelope_ok(env, claims, a->id, now, &expires, &st, &why, &fatal))
    goto cleanup;
  enum dsr_ec ec = first_sight(db, digest, expires, now);
  if (ec != DSR_OK) {
    why = ec == DSR_E_CONFLICT ? "replayed body" : "database unavailable";
    if (ec != DSR_E_CONFLICT)
      fail(out, 503, "the service is unavailable; retry", false);
    goto cleanup;
  }
  token = dsr_token_new();
  unsigned char h[DSR_HASH_BYTES];
  char nows[24];
  snprintf(nows, sizeof nows, "%lld", (long long)now);
  if (token)
    token_hash(token, h);
  const char *v[] = {a->id, (const char *)h, nows};
  const int lens[] = {0, DSR_HASH_BYTES, 0}, fmts[] = {0, 1, 0};
  PGresult *r = token ? dsr_db_exec_bin(db, DSR_STMT_DRP_TOKEN_PUT, 3, v, lens, fmts) : NULL;
  bool ok = dsr_db_ok(r);
  PQclear(r);
  if (!ok) {
    why = "cannot store the token";
    fail(out, 503, "the service is unavailable; retry", false);
    goto cleanup;
  }
  out->status = 200;
  out->body = json_pack("{s:s, s:s}", "agent-id", a->id, "token", token);
  why = NULL;
  DSR_INFO("drp.paired", "agent=%s", a->id);
cleanup:
  if (why)
    DSR_INFO("drp.pair_refused", "agent_known=%d reason=\"%s\"", a != NULL, why);
  if (token) {
    sodium_memzero(token, strlen(token));
    free(token);
  }
  json_decref(claims);
}

enum dsr_ec dsr_drp_token_agent(struct dsr_db *db, const char *token, char *agent_id,
                                size_t agent_len)
{
  if (!token || !*token)
    return DSR_E_UNAUTHORIZED;
  unsigned char h[DSR_HASH_BYTES];
  token_hash(token, h);
  const char *v[] = {(const char *)h};
  const int lens[] = {DSR_HASH_BYTES}, fmts[] = {1};
  PGresult *r = dsr_db_exec_bin(db, DSR_STMT_DRP_TOKEN_AGENT, 1, v, lens, fmts);
  enum dsr_ec ec = !dsr_db_ok(r) ? DSR_E_DB_UNAVAILABLE
                   : PQntuples(r) == 1 ? DSR_OK
                                       : DSR_E_UNAUTHORIZED;
  if (ec == DSR_OK)
    dsr_strlcpy(agent_id, PQgetvalue(r, 0, 0), agent_len);
  PQclear(r);
  return ec;
}

static void callback_now(struct dsr_db *db, const struct dsr_drp_env *env, const char *id);

/* ---- status (3.02, 3.03) ---- */

/* The closest section 3.02 reason for a request denied with @p deny (or closed with @p close). */
static const char *deny_reason(const char *deny, const char *close)
{
  static const struct {
    const char *ours, *drp;
  } map[] = {
      {"identity_not_verified", "insuf_verification"}, {"manifestly_unfounded", "suspected_fraud"},
      {"excessive", "too_many_requests"},             {"duplicate", "too_many_requests"},
      {"legal_obligation", "claim_not_covered"},      {"legal_claims", "claim_not_covered"},
      {"exemption_applies", "claim_not_covered"},     {"not_applicable", "claim_not_covered"},
      {"third_party_rights", "claim_not_covered"},
  };
  const char *k = deny && *deny ? deny : close;
  for (size_t i = 0; k && i < DSR_ARRAY_LEN(map); i++)
    if (!strcmp(map[i].ours, k))
      return map[i].drp;
  return "other";
}

static const char *col(const PGresult *r, int c)
{
  return PQgetisnull(r, 0, c) ? NULL : PQgetvalue(r, 0, c);
}

json_t *dsr_drp_status_json(struct dsr_db *db, const struct dsr_drp_env *env,
                            const char *request_id, char *agent_id, size_t agent_len, bool *found)
{
  *found = false;
  const char *why;
  if (!dsr_valid_uuid(request_id, &why)) {
    *found = true; /* answered: no such request */
    return NULL;
  }
  PGresult *r = dsr_db_exec(db, DSR_STMT_DRP_REQUEST_STATUS, 1, (const char *const[]){request_id});
  json_t *s = NULL;
  if (!dsr_db_ok(r) || PQntuples(r) != 1) {
    *found = dsr_db_ok(r);
    PQclear(r);
    return NULL;
  }
  *found = true;
  dsr_strlcpy(agent_id, PQgetvalue(r, 0, 0), agent_len);
  const char *st = PQgetvalue(r, 0, 2), *outcome = col(r, 7);
  s = json_pack("{s:s, s:s}", "request_id", request_id, "received_at", PQgetvalue(r, 0, 3));
  if (!s)
    goto cleanup;
  if (col(r, 1))
    json_object_set_new(s, "agent_request_id", json_string(col(r, 1)));
  const char *drp = "open", *reason = NULL, *details = NULL;
  bool expected = false;
  if (!strcmp(st, "pending_verification")) {
    drp = "in_progress";
    reason = "need_user_verification";
    char *url = dsr_asprintf("%s/requests/%s/verify",
                             env->venv && env->venv->link_base ? env->venv->link_base : "",
                             request_id);
    if (url)
      json_object_set_new(s, "user_verification_url", json_string(url));
    free(url);
  } else if (!strcmp(st, "verified") || !strcmp(st, "in_progress") || !strcmp(st, "on_hold")) {
    drp = "in_progress";
    expected = true;
  } else if (!strcmp(st, "completed")) {
    bool none = outcome && !strcmp(outcome, "no_data");
    drp = none ? "denied" : "fulfilled";
    reason = none ? "no_match" : NULL;
  } else if (!strcmp(st, "denied")) {
    drp = "denied";
    reason = deny_reason(col(r, 6), col(r, 5));
    details = col(r, 6) ? col(r, 6) : col(r, 5);
  } else if (!strcmp(st, "withdrawn")) {
    drp = "revoked";
  } else if (!strcmp(st, "expired")) {
    drp = "denied";
    reason = "insuf_verification";
    details = "the identity was not verified in time";
  }
  json_object_set_new(s, "status", json_string(drp));
  if (reason)
    json_object_set_new(s, "reason", json_string(reason));
  if (expected)
    json_object_set_new(s, "expected_by", json_string(PQgetvalue(r, 0, 4)));
  if (col(r, 8) && expected) {
    /* An extension: expected_by moved; processing_details says why (section 3.03). */
    size_t n = 0, pl = 0;
    unsigned char *raw = PQunescapeBytea((const unsigned char *)PQgetvalue(r, 0, 9), &n);
    unsigned char *plain = NULL;
    if (raw && n > 0 && dsr_unseal(raw, n, &plain, &pl)) {
      char *d = dsr_asprintf("the deadline was extended: %s", (const char *)plain);
      if (d)
        json_object_set_new(s, "processing_details", json_string(d));
      free(d);
      sodium_memzero(plain, pl);
      free(plain);
    } else {
      json_object_set_new(s, "processing_details", json_string("the deadline was extended"));
    }
    PQfreemem(raw);
  } else if (details) {
    json_object_set_new(s, "processing_details", json_string(details));
  }
cleanup:
  PQclear(r);
  return s;
}

/* The status of a request of @p agent_id; 403 when another agent's, 404 when none. */
static void answer_status(struct dsr_db *db, const struct dsr_drp_env *env, const char *agent_id,
                          const char *request_id, struct dsr_drp_answer *out)
{
  char owner[80] = "";
  bool found = false;
  json_t *s = dsr_drp_status_json(db, env, request_id, owner, sizeof owner, &found);
  if (!found) {
    fail(out, 503, "the service is unavailable; retry", false);
  } else if (!s) {
    fail(out, 404, "no such data rights request", true);
  } else if (strcmp(owner, agent_id) != 0) {
    fail(out, 403, "this request belongs to another agent", true);
  } else {
    json_decref(out->body);
    out->status = 200;
    out->body = json_incref(s);
  }
  json_decref(s);
}

void dsr_drp_status(struct dsr_db *db, const struct dsr_drp_env *env, const char *agent_id,
                    const char *request_id, struct dsr_drp_answer *out)
{
  *out = (struct dsr_drp_answer){0};
  answer_status(db, env, agent_id, request_id, out);
}

/* ---- 2.01 exercise ---- */

/* The signed body of @p agent_id, opened and its envelope checked; NULL with *out filled. */
static json_t *open_checked(struct dsr_db *db, const struct dsr_drp_env *env, const char *agent_id,
                            const char *body, size_t len, time_t now, bool envelope,
                            struct dsr_drp_answer *out)
{
  const struct dsr_drp_agent *a = dsr_drp_agent_find(env->dir, agent_id);
  if (!a) {
    fail(out, 403, "the agent is no longer in the directory", true);
    return NULL;
  }
  json_t *claims = NULL;
  unsigned char digest[32];
  switch (dsr_drp_open_signed(body, len, a->key, &claims, digest)) {
  case DSR_DRP_OPEN_BASE64:
    fail(out, 400, "the body must be base64 of a signed message", true);
    return NULL;
  case DSR_DRP_OPEN_SIGNATURE:
    fail(out, 403, "the signature does not verify with the agent's key", true);
    return NULL;
  case DSR_DRP_OPEN_JSON:
    fail(out, 400, "the signed message is not a JSON object", true);
    return NULL;
  case DSR_DRP_OPEN_OK:
    break;
  }
  if (!envelope)
    return claims;
  time_t expires = 0;
  unsigned int st = 0;
  const char *why = NULL;
  bool fatal = true;
  if (!envelope_ok(env, claims, agent_id, now, &expires, &st, &why, &fatal)) {
    fail(out, st, why, fatal);
    json_decref(claims);
    return NULL;
  }
  enum dsr_ec ec = first_sight(db, digest, expires, now);
  if (ec != DSR_OK) {
    if (ec == DSR_E_CONFLICT)
      fail(out, 409, "this signed request was received before; sign a new one", true);
    else
      fail(out, 503, "the service is unavailable; retry", false);
    json_decref(claims);
    return NULL;
  }
  return claims;
}

/* Optional string claim; false when present and not a string within @p max. */
static bool opt_str(const json_t *c, const char *k, size_t max, const char **out)
{
  const json_t *v = json_object_get(c, k);
  *out = json_string_value(v);
  return !v || json_is_null(v) || (*out && strlen(*out) <= max);
}

/* The checked identity and request claims of an exercise. */
struct exercise {
  const char *exercise, *type, *regime, *jurisdiction, *agent_request_id, *callback;
  const char *name, *email, *phone;
  bool email_verified, phone_verified;
};

static bool read_exercise(const struct dsr_drp_env *env, const json_t *c, struct exercise *e,
                          struct dsr_drp_answer *out)
{
  const char *why = NULL;
  e->exercise = dsr_json_str(c, "exercise");
  if (!e->exercise || !action_known(e->exercise)) {
    fail(out, 400, "exercise must be one of sale:opt-out, sale:opt-in, deletion, access, "
                   "access:categories, access:specific", true);
    return false;
  }
  if (!dsr_drp_action_supported(env->cfg, e->exercise)) {
    fail(out, 400, "Unsupported rights actions submitted.", true);
    return false;
  }
  e->type = dsr_drp_action_type(e->exercise);
  if (!opt_str(c, "regime", 32, &e->regime) || !opt_str(c, "agent-request-id", 128,
                                                        &e->agent_request_id) ||
      !opt_str(c, "status_callback", 512, &e->callback) || !opt_str(c, "name", 200, &e->name) ||
      !opt_str(c, "email", 254, &e->email) || !opt_str(c, "phone_number", 16, &e->phone)) {
    fail(out, 400, "regime, agent-request-id, status_callback, name, email and phone_number "
                   "must be strings of reasonable length", true);
    return false;
  }
  const json_t *rel = json_object_get(c, "relationships");
  if (rel && !json_is_array(rel)) {
    fail(out, 400, "relationships must be a list of strings", true);
    return false;
  }
  if (e->regime && strcmp(e->regime, "ccpa") != 0) {
    fail(out, 400, "regime must be \"ccpa\" or absent (voluntary)", true);
    return false;
  }
  e->jurisdiction = e->regime ? "ccpa" : env->cfg->drp_jurisdiction;
  if ((e->email && !dsr_valid_email(e->email, &why)) ||
      (e->phone && !dsr_valid_phone(e->phone, &why)) ||
      (e->name && !dsr_valid_text(e->name, &why))) {
    fail(out, 400, "email, phone_number (E.164) or name is malformed", true);
    return false;
  }
  if (!e->email && !e->phone) {
    fail(out, 400, "the request needs an email or a phone_number to identify the consumer", true);
    return false;
  }
  if (e->callback && strncmp(e->callback, "https://", 8) != 0 &&
      !(env->cfg->webhook_allow_http && !strncmp(e->callback, "http://", 7))) {
    fail(out, 400, "status_callback must be an https URL", true);
    return false;
  }
  e->email_verified = e->email && json_is_true(json_object_get(c, "email_verified"));
  e->phone_verified = e->phone && json_is_true(json_object_get(c, "phone_number_verified"));
  return true;
}

static bool record_drp(struct dsr_db *db, const char *id, const char *agent_id,
                       const struct exercise *e, time_t now)
{
  char nows[24];
  snprintf(nows, sizeof nows, "%lld", (long long)now);
  const char *v[] = {id, agent_id, e->agent_request_id, e->exercise, e->regime, e->callback, nows};
  PGresult *r = dsr_db_exec(db, DSR_STMT_DRP_REQUEST_INSERT, 7, v);
  bool ok = dsr_db_ok(r);
  PQclear(r);
  json_t *data = json_pack("{s:s, s:s}", "agent_id", agent_id, "exercise", e->exercise);
  bool retry = false;
  ok = ok && data && dsr_event_record(db, id, "drp.received", "agent", data, &retry);
  json_decref(data);
  return ok;
}

void dsr_drp_exercise(struct dsr_db *db, const struct dsr_drp_env *env, const char *agent_id,
                      const char *body, size_t len, time_t now, struct dsr_drp_answer *out)
{
  *out = (struct dsr_drp_answer){0};
  json_t *claims = open_checked(db, env, agent_id, body, len, now, true, out);
  json_t *reply = NULL;
  if (!claims)
    return;
  struct exercise e = {0};
  if (!read_exercise(env, claims, &e, out))
    goto cleanup;
  struct dsr_jur_view jur;
  const char *code = e.jurisdiction;
  if (!code) {
    const char *pd = json_string_value(dsr_policy_section(env->policy, "default_jurisdiction"));
    code = pd ? pd : env->cfg->default_jurisdiction;
  }
  if (!dsr_jur_view_get(env->policy, code, &jur) || !dsr_jur_offers(&jur, e.type)) {
    fail(out, 400, "Unsupported rights actions submitted.", true);
    goto cleanup;
  }
  /* Does what the agent verified suffice (the "agent" channel), or must the consumer verify? */
  unsigned masks[DSR_MAX_ALTERNATIVES];
  size_t nalt = dsr_verify_requirements(env->policy, e.type, jur.code, masks);
  bool vouched = e.email_verified || e.phone_verified;
  bool by_agent = vouched && dsr_verify_satisfied(masks, nalt, DSR_CH_AGENT);
  unsigned offered = (e.email ? DSR_CH_EMAIL : 0) | (e.phone ? DSR_CH_SMS : 0);
  bool by_user = false;
  for (size_t i = 0; i < nalt; i++)
    by_user = by_user || (masks[i] & offered) == masks[i];
  if (!by_agent && !by_user) {
    fail(out, 400, "the identities given cannot be verified for this action: send verified "
                   "identities (email_verified, phone_number_verified)", true);
    goto cleanup;
  }
  struct dsr_intake in = {.type = e.type, .jurisdiction = jur.code, .deadline = jur.deadline,
                          .language = "en", .email = e.email, .phone = e.phone, .name = e.name,
                          .body = claims, .venv = by_agent ? NULL : env->venv};
  unsigned int st = 0;
  enum dsr_ec ec = dsr_request_create(db, &in, &reply, &st);
  const char *id = json_string_value(json_object_get(reply, "id"));
  if (ec != DSR_OK || !id) {
    fail(out, ec == DSR_E_DB_UNAVAILABLE ? 503 : 500, "the request could not be stored; retry",
         false);
    goto cleanup;
  }
  if (!record_drp(db, id, agent_id, &e, now)) {
    fail(out, 503, "the request could not be stored; retry", false);
    goto cleanup;
  }
  if (by_agent) {
    const char *kinds[3] = {NULL, NULL, NULL};
    size_t k = 0;
    if (e.email_verified)
      kinds[k++] = "email";
    if (e.phone_verified)
      kinds[k++] = "phone";
    char actor[96];
    snprintf(actor, sizeof actor, "agent:%s", agent_id);
    struct dsr_verify_outcome o;
    dsr_verify_agent(db, env->venv, id, actor, kinds, &o);
    if (o.ec != DSR_OK)
      DSR_WARN("drp.vouch_failed", "id=%s agent=%s code=%s", id, agent_id, dsr_ec_code(o.ec));
  }
  DSR_INFO("drp.exercise", "id=%s agent=%s exercise=%s by_agent=%d", id, agent_id, e.exercise,
           by_agent);
  callback_now(db, env, id);
  answer_status(db, env, agent_id, id, out);
cleanup:
  json_decref(reply);
  json_decref(claims);
}

/* ---- 2.04 revoke ---- */

void dsr_drp_revoke(struct dsr_db *db, const struct dsr_drp_env *env, const char *agent_id,
                    const char *request_id, const char *body, size_t len, time_t now,
                    struct dsr_drp_answer *out)
{
  *out = (struct dsr_drp_answer){0};
  answer_status(db, env, agent_id, request_id, out);
  if (out->status != 200)
    return;
  json_t *claims = open_checked(db, env, agent_id, body, len, now, false, out);
  if (!claims)
    return;
  const char *reason = NULL, *aid = dsr_json_str(claims, "agent-id"),
             *bid = dsr_json_str(claims, "business-id");
  if (!opt_str(claims, "reason", 2000, &reason)) {
    fail(out, 400, "reason must be a string", true);
  } else if ((aid && strcmp(aid, agent_id)) ||
             (bid && (!env->cfg->drp_business_id || strcmp(bid, env->cfg->drp_business_id)))) {
    fail(out, 403, "the agent-id or business-id claim does not match", true);
  } else {
    char actor[96];
    snprintf(actor, sizeof actor, "agent:%s", agent_id);
    struct dsr_verify_outcome o;
    dsr_request_withdraw_as(db, request_id, actor, &o);
    if (o.ec == DSR_OK || !strcmp(json_string_value(json_object_get(out->body, "status")) ?: "",
                                  "revoked")) {
      DSR_INFO("drp.revoked", "id=%s agent=%s has_reason=%d", request_id, agent_id,
               reason != NULL);
      callback_now(db, env, request_id);
      answer_status(db, env, agent_id, request_id, out);
    } else if (o.ec == DSR_E_REQUEST_CLOSED || o.ec == DSR_E_REQUEST_EXPIRED) {
      fail(out, 409, "the request is closed and can no longer be revoked", true);
    } else if (o.ec == DSR_E_WITHDRAW_TOO_LATE) {
      fail(out, 409, "the request is being carried out and can no longer be revoked", true);
    } else {
      fail(out, 503, "the service is unavailable; retry", false);
    }
  }
  json_decref(claims);
}

/* ---- 2.03 status callbacks ---- */

struct cb_ctx {
  const struct dsr_drp_env *env;
  const char *only;
  int queued;
};

static enum dsr_tx_status callbacks_body(struct dsr_db *db, void *arg)
{
  struct cb_ctx *c = arg;
  c->queued = 0;
  PGresult *r = dsr_db_exec(db, DSR_STMT_DRP_CALLBACKS_DUE, 1, (const char *const[]){c->only});
  if (!dsr_db_ok(r)) {
    bool retry = dsr_db_is_retryable(r);
    PQclear(r);
    return retry ? DSR_TX_RETRY : DSR_TX_ROLLBACK;
  }
  enum dsr_tx_status st = DSR_TX_COMMIT;
  for (int i = 0; st == DSR_TX_COMMIT && i < PQntuples(r); i++) {
    const char *id = PQgetvalue(r, i, 0);
    char agent[80];
    bool found = false, retry = false;
    json_t *body = dsr_drp_status_json(db, c->env, id, agent, sizeof agent, &found);
    bool ok = body && dsr_outbox_add_callback(db, id, PQgetvalue(r, i, 1), body, &retry);
    json_decref(body);
    PGresult *u = ok ? dsr_db_exec(db, DSR_STMT_DRP_CALLBACK_KEY, 2,
                                   (const char *const[]){id, PQgetvalue(r, i, 2)})
                     : NULL;
    ok = ok && dsr_db_ok(u);
    retry = retry || (u && !ok && dsr_db_is_retryable(u));
    PQclear(u);
    if (!ok)
      st = retry ? DSR_TX_RETRY : DSR_TX_ROLLBACK;
    else
      c->queued++;
  }
  PQclear(r);
  return st;
}

bool dsr_drp_callbacks(struct dsr_db *db, const struct dsr_drp_env *env, const char *request_id,
                       int *queued)
{
  struct cb_ctx c = {.env = env, .only = request_id};
  bool ok = dsr_db_tx(db, "READ COMMITTED", callbacks_body, &c);
  *queued = ok ? c.queued : 0;
  if (ok && c.queued)
    DSR_INFO("drp.callbacks", "queued=%d", c.queued);
  return ok;
}

/* After a change made here: the request's callback now, not at the next sweep. */
static void callback_now(struct dsr_db *db, const struct dsr_drp_env *env, const char *id)
{
  int n = 0;
  if (!dsr_drp_callbacks(db, env, id, &n))
    DSR_WARN("drp.callback_deferred", "id=%s", id); /* the routing sweep sends it */
}

/* ---- what staff see ---- */

json_t *dsr_drp_request_info(struct dsr_db *db, const char *request_id)
{
  const char *why;
  if (!request_id || !dsr_valid_uuid(request_id, &why))
    return NULL;
  PGresult *r = dsr_db_exec(db, DSR_STMT_DRP_REQUEST_STATUS, 1, (const char *const[]){request_id});
  json_t *info = NULL;
  if (dsr_db_ok(r) && PQntuples(r) == 1)
    info = json_pack("{s:s, s:s?, s:s, s:s?, s:b}", "agent_id", PQgetvalue(r, 0, 0),
                     "agent_request_id", col(r, 1), "exercise", PQgetvalue(r, 0, 10), "regime",
                     col(r, 11), "status_callback", !PQgetisnull(r, 0, 12));
  PQclear(r);
  if (!info)
    return NULL;
  json_t *cbs = json_array();
  r = dsr_db_exec(db, DSR_STMT_DRP_CALLBACKS_OF, 1, (const char *const[]){request_id});
  for (int i = 0; cbs && dsr_db_ok(r) && i < PQntuples(r); i++)
    json_array_append_new(cbs, json_pack("{s:s, s:i, s:s, s:s?, s:o}", "state",
                                         PQgetvalue(r, i, 0), "attempts",
                                         atoi(PQgetvalue(r, i, 1)), "created_at",
                                         PQgetvalue(r, i, 2), "delivered_at",
                                         PQgetisnull(r, i, 3) ? NULL : PQgetvalue(r, i, 3),
                                         "last_status_code",
                                         PQgetisnull(r, i, 4) ? json_null()
                                                              : json_integer(atoi(PQgetvalue(r, i, 4)))));
  PQclear(r);
  json_object_set_new(info, "callbacks", cbs ? cbs : json_array());
  return info;
}

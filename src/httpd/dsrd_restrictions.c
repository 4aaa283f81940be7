/**
 * @file dsrd_restrictions.c
 * @brief GET /v1/restrictions/check?identity=...[&kind=email|phone|account_id][&tenant=T]
 *        for the platform's services (service key as Authorization: Bearer):
 *        {"restricted": bool, "since"?: RFC 3339}, with a strong ETag and
 *        Cache-Control: private, max-age=restriction_check_max_age;
 *        If-None-Match answers 304. The identity is hashed at once and never
 *        logged. POST /v1/admin/requests/{id}/restriction/lift (admin,
 *        approver) lifts the request's restrictions, recorded as an event.
 *        POST /v1/admin/requests/{id}/corrections/{n} (admin, approver)
 *        approves or rejects one correction of a rectification request.
 */
#include "config.h"
#include "httpd.h"
#include "dsr/log.h"
#include "dsr/erasure.h"
#include "dsr/rights.h"
#include "dsr/validate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

const struct dsr_jspec dsrd_restriction_lift_spec[] = {
    {.name = "reason", .type = DSR_JT_STRING, .required = true, .max_len = 1000,
     .validate = dsr_valid_text},
    {0},
};

static bool kind_arg(const char *s, enum dsr_id_kind *k)
{
  if (!strcmp(s, "email"))
    *k = DSR_ID_EMAIL;
  else if (!strcmp(s, "phone"))
    *k = DSR_ID_PHONE;
  else if (!strcmp(s, "account_id"))
    *k = DSR_ID_ACCOUNT;
  else
    return false;
  return true;
}

enum MHD_Result dsrd_restrictions_check(struct dsr_hreq *r)
{
  const char *id = MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, "identity");
  const char *ks = MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, "kind");
  const char *tenant = MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, "tenant");
  if (!id || !*id)
    return dsr_reply_problem(r, DSR_E_FIELD_MISSING, "give ?identity=", "/identity");
  if (strlen(id) > 320)
    return dsr_reply_problem(r, DSR_E_FIELD_INVALID, "the identity is too long", "/identity");
  if (tenant && (!*tenant || strlen(tenant) > 128))
    return dsr_reply_problem(r, DSR_E_FIELD_INVALID, "tenant must be 1 to 128 bytes", "/tenant");
  enum dsr_id_kind kind;
  if (ks) {
    if (!kind_arg(ks, &kind))
      return dsr_reply_problem(r, DSR_E_FIELD_INVALID, "kind is email, phone or account_id",
                               "/kind");
  } else {
    kind = dsr_rights_guess_kind(id);
  }
  struct dsr_db *db = dsr_db_acquire(r->app->pool);
  if (!db)
    return dsr_reply_problem(r, DSR_E_DB_UNAVAILABLE, NULL, NULL);
  struct dsr_restriction_state st;
  enum dsr_ec ec = dsr_restriction_check(db, kind, id, tenant, &st);
  dsr_db_release(db);
  if (ec != DSR_OK)
    return dsr_reply_problem(r, ec, NULL, NULL);
  char since[32] = "";
  if (st.restricted) {
    time_t t = (time_t)st.since;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(since, sizeof since, "%Y-%m-%dT%H:%M:%SZ", &tm);
  }
  /* The ETag names the answer (and the identity, so caches never mix subjects up). */
  unsigned char h[16];
  crypto_generichash_state gs;
  crypto_generichash_init(&gs, NULL, 0, sizeof h);
  crypto_generichash_update(&gs, (const unsigned char *)(st.restricted ? "1" : "0"), 1);
  crypto_generichash_update(&gs, (const unsigned char *)since, strlen(since));
  unsigned char idh[DSR_HASH_BYTES];
  if (dsr_identity_hash(kind, id, idh))
    crypto_generichash_update(&gs, idh, sizeof idh);
  if (tenant)
    crypto_generichash_update(&gs, (const unsigned char *)tenant, strlen(tenant));
  crypto_generichash_final(&gs, h, sizeof h);
  char hex[2 * sizeof h + 1], etag[2 * sizeof h + 3], cc[64];
  sodium_bin2hex(hex, sizeof hex, h, sizeof h);
  snprintf(etag, sizeof etag, "\"%s\"", hex);
  snprintf(cc, sizeof cc, "private, max-age=%ld", r->app->cfg->restriction_check_max_age);
  const char *inm = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND,
                                                MHD_HTTP_HEADER_IF_NONE_MATCH);
  bool not_modified = inm && (strstr(inm, etag) || !strcmp(inm, "*"));
  char *body = NULL;
  if (!not_modified) {
    json_t *j = json_pack("{s:b}", "restricted", st.restricted);
    if (j && st.restricted)
      json_object_set_new(j, "since", json_string(since));
    body = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    if (!body)
      return MHD_NO;
  }
  struct MHD_Response *resp =
      body ? MHD_create_response_from_buffer(strlen(body), body, MHD_RESPMEM_MUST_FREE)
           : MHD_create_response_from_buffer(0, "", MHD_RESPMEM_PERSISTENT);
  if (!resp) {
    free(body);
    return MHD_NO;
  }
  MHD_add_response_header(resp, MHD_HTTP_HEADER_ETAG, etag);
  MHD_add_response_header(resp, "Cache-Control", cc);
  MHD_add_response_header(resp, "Vary", "Authorization");
  enum MHD_Result ret = dsr_reply_stream(r, not_modified ? MHD_HTTP_NOT_MODIFIED : MHD_HTTP_OK,
                                         resp, "application/json");
  return ret;
}

enum MHD_Result dsrd_restrictions_lift(struct dsr_hreq *r)
{
  const char *why;
  if (!dsr_valid_uuid(r->args[0], &why))
    return dsr_reply_problem(r, DSR_E_NOT_FOUND, NULL, NULL);
  const char *reason = json_string_value(json_object_get(r->json, "reason"));
  char actor[64];
  snprintf(actor, sizeof actor, "staff:%s", r->staff_id);
  struct dsr_db *db = dsr_db_acquire(r->app->pool);
  if (!db)
    return dsr_reply_problem(r, DSR_E_DB_UNAVAILABLE, NULL, NULL);
  int lifted = 0;
  enum dsr_ec ec = dsr_restriction_lift(db, r->args[0], actor, reason, &lifted);
  dsr_db_release(db);
  if (ec == DSR_E_CONFLICT)
    return dsr_reply_problem(r, ec, "the request has no active restriction", NULL);
  if (ec != DSR_OK)
    return dsr_reply_problem(r, ec, NULL, NULL);
  DSR_INFO("restriction.lifted", "request=%s entries=%d staff=%s", r->args[0], lifted,
           r->staff_id);
  json_t *body = json_pack("{s:s, s:i}", "request_id", r->args[0], "lifted", lifted);
  enum MHD_Result ret = dsr_reply_json(r, MHD_HTTP_OK, body);
  json_decref(body);
  return ret;
}

const struct dsr_jspec dsrd_correction_decide_spec[] = {
    {.name = "decision", .type = DSR_JT_STRING, .required = true, .max_len = 8,
     .one_of = (const char *const[]){"approve", "reject", NULL}},
    {0},
};

/* POST /v1/admin/requests/{id}/corrections/{n}: staff's field-level decision (rectification). */
enum MHD_Result dsrd_corrections_decide(struct dsr_hreq *r)
{
  const char *why;
  char *end;
  long idx = strtol(r->args[1], &end, 10);
  if (!dsr_valid_uuid(r->args[0], &why) || *end || end == r->args[1] || idx < 0 || idx > 1000)
    return dsr_reply_problem(r, DSR_E_NOT_FOUND, NULL, NULL);
  char actor[64];
  snprintf(actor, sizeof actor, "staff:%s", r->staff_id);
  struct dsr_db *db = dsr_db_acquire(r->app->pool);
  if (!db)
    return dsr_reply_problem(r, DSR_E_DB_UNAVAILABLE, NULL, NULL);
  const char *decision = json_string_value(json_object_get(r->json, "decision"));
  enum dsr_ec ec = dsr_correction_decide(db, r->args[0], (int)idx, decision, actor);
  dsr_db_release(db);
  if (ec == DSR_E_CONFLICT)
    return dsr_reply_problem(r, ec, "the correction was decided already", NULL);
  if (ec != DSR_OK)
    return dsr_reply_problem(r, ec, NULL, NULL);
  json_t *body = json_pack("{s:s, s:i, s:s}", "request_id", r->args[0], "index", (int)idx,
                           "state", !strcmp(decision, "approve") ? "approved" : "rejected");
  enum MHD_Result ret = dsr_reply_json(r, MHD_HTTP_OK, body);
  json_decref(body);
  return ret;
}

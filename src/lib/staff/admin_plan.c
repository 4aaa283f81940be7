/** @file admin_plan.c @brief The staff's dry run of a request's plan (see admin.h). */
#include "config.h"
#include "dsr/admin.h"
#include "dsr/discovery.h"
#include "dsr/log.h"
#include "dsr/mask.h"
#include "dsr/planner.h"
#include "dsr/validate.h"

#include <string.h>

/* Masks parameter values that are the subject's identities, in place. */
static void mask_params(json_t *plan)
{
  size_t i, k, n;
  json_t *part, *step, *param;
  json_array_foreach(json_object_get(plan, "parts"), i, part)
  {
    json_array_foreach(json_object_get(part, "steps"), k, step)
    {
      json_array_foreach(json_object_get(step, "params"), n, param)
      {
        const char *label = json_string_value(json_object_get(param, "label"));
        const char *value = json_string_value(json_object_get(param, "value"));
        if (!label || !value)
          continue;
        if (!strcmp(label, "phone_regex") || !strcmp(label, "email_regex")) {
          /* built from the subject's identity: not shown at all */
          json_object_set_new(param, "value", json_string("***"));
          continue;
        }
        const char *kind = !strcmp(label, "email")          ? "email"
                           : !strcmp(label, "phone")        ? "phone"
                           : !strcmp(label, "phone_digits") ? "phone"
                           : !strcmp(label, "account_id")   ? "account_id"
                                                            : NULL;
        if (!kind)
          continue;
        char masked[300];
        dsr_mask_identity(kind, value, masked, sizeof masked);
        json_object_set_new(param, "value", json_string(masked));
      }
    }
  }
}

/*
 * Where each tenant's part goes when discovery splits the request: to its
 * customer, or — no customer registered for the tenant — to the privacy
 * team with the controller part, as execution does. False on a database error.
 */
static bool mark_routes(struct dsr_db *db, json_t *plan)
{
  size_t i;
  json_t *part;
  json_array_foreach(json_object_get(plan, "parts"), i, part)
  {
    const char *tenant = json_string_value(json_object_get(part, "tenant"));
    bool claimed = false;
    if (tenant) {
      const char *v[] = {tenant};
      PGresult *r = dsr_db_exec(db, DSR_STMT_CUSTOMER_BY_TENANT, 1, v);
      bool ok = dsr_db_ok(r);
      claimed = ok && PQntuples(r) == 1;
      PQclear(r);
      if (!ok)
        return false;
    }
    json_object_set_new(part, "routed_to", json_string(claimed ? "customer" : "controller"));
    if (tenant && !claimed)
      json_object_set_new(part, "route_note",
                          json_string("no customer is registered for this tenant: the privacy "
                                      "team handles these rows with the controller part"));
  }
  return true;
}

/* {"used": [kinds the plan searches by], "unverified": [kinds given but left out]}. */
static json_t *identities_of(const struct dsr_subject_values *subj)
{
  json_t *used = json_array(), *left = json_array();
  for (int k = 0; used && left && k < DSR_ID_KIND_COUNT; k++) {
    if (subj->value[k])
      json_array_append_new(used, json_string(dsr_id_kind_name(k)));
    else if (subj->unverified & DSR_IDBIT(k))
      json_array_append_new(left, json_string(dsr_id_kind_name(k)));
  }
  return used && left ? json_pack("{s:o, s:o}", "used", used, "unverified", left) : NULL;
}

enum dsr_ec dsr_admin_plan(struct dsr_db *db, const struct dsr_policy *p, const char *id,
                           json_t **reply)
{
  const char *why;
  if (!dsr_valid_uuid(id, &why))
    return DSR_E_NOT_FOUND;
  if (!p)
    return DSR_E_NO_POLICY;
  const char *v[] = {id};
  PGresult *r = dsr_db_exec(db, DSR_STMT_REQUEST_ROUTING_GET, 1, v);
  struct dsr_subject_values subj = {.unverified = 0};
  struct dsr_plan *plan = NULL;
  PGconn *conn = NULL;
  enum dsr_ec ec = DSR_E_DB_UNAVAILABLE;
  char type[32], err[512];
  if (!dsr_db_ok(r))
    goto cleanup;
  if (PQntuples(r) != 1) {
    ec = DSR_E_NOT_FOUND;
    goto cleanup;
  }
  dsr_strlcpy(type, PQgetvalue(r, 0, 1), sizeof type);
  if (!dsr_subject_load(db, id, &subj))
    goto cleanup;
  json_t *ids = identities_of(&subj);
  if (!ids) {
    ec = DSR_E_INTERNAL;
    goto cleanup;
  }
  if (json_array_size(json_object_get(ids, "used")) == 0) {
    /* Nothing verified yet: no plan acts on an identity nobody verified. */
    *reply = json_pack("{s:s, s:s, s:o, s:n}", "request_id", id, "type", type, "identities", ids,
                       "plan");
    ec = *reply ? DSR_OK : DSR_E_INTERNAL;
    goto cleanup;
  }
  const char *dsn = dsr_policy_pg_dsn(p);
  conn = dsn ? PQconnectdb(dsn) : NULL;
  if (!conn || PQstatus(conn) != CONNECTION_OK) {
    json_decref(ids);
    ec = DSR_E_STORE_UNAVAILABLE;
    goto cleanup;
  }
  struct dsr_subject s = dsr_subject_of(&subj);
  bool access = !strcmp(type, "access") || !strcmp(type, "portability");
  plan = dsr_plan_build(p, conn, access ? DSR_PLAN_ACCESS : DSR_PLAN_ERASURE, &s, err, sizeof err);
  if (!plan) {
    /* The planner's message may quote the platform, never the subject: log the fact only. */
    DSR_WARN("admin.plan_failed", "request=%s", id);
    json_decref(ids);
    ec = DSR_E_STORE_UNAVAILABLE;
    goto cleanup;
  }
  json_t *pj = dsr_plan_to_json(plan);
  if (pj)
    mask_params(pj);
  if (pj && !mark_routes(db, pj)) {
    json_decref(pj);
    json_decref(ids);
    ec = DSR_E_DB_UNAVAILABLE;
    goto cleanup;
  }
  *reply = pj ? json_pack("{s:s, s:s, s:o, s:o}", "request_id", id, "type", type, "identities",
                          ids, "plan", pj)
              : NULL;
  if (!pj)
    json_decref(ids);
  ec = *reply ? DSR_OK : DSR_E_INTERNAL;
cleanup:
  PQclear(r);
  dsr_plan_free(plan);
  if (conn)
    PQfinish(conn);
  dsr_subject_free(&subj);
  return ec;
}

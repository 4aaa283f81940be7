/** @file discovery.c @brief Splitting a verified request into parts (see discovery.h). */
#include "config.h"
#include "dsr/closing.h"
#include "dsr/crypto.h"
#include "dsr/discovery.h"
#include "dsr/rights.h"
#include "dsr/erasure.h"
#include "dsr/log.h"
#include "dsr/parts.h"
#include "dsr/routing_policy.h"
#include "dsr/webhook.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct split_ctx {
  const char *request_id;
  const struct dsr_policy *policy;
  const char *base_url;
  const struct dsr_found *found;
  const struct dsr_subject_values *subject;
  int nparts;   /* -1: nothing done (already split) */
  bool again;   /* split already: add what newly verified identities reach */
  int nwidened; /* existing parts that learnt an identity */
  long unknown; /* rows in tenants that no customer claims */
  enum dsr_ec ec;
};

/* Inserts one part; *part_id empty when it existed already. */
static enum dsr_tx_status insert_part(struct dsr_db *db, struct split_ctx *c, const char *owner,
                                      const char *customer_id, const char *state,
                                      const char *approval, unsigned idk, long rows,
                                      char part_id[40], char due[24])
{
  char lit[64], rowss[24], now[24];
  dsr_id_kinds_literal(idk, lit, sizeof lit);
  snprintf(rowss, sizeof rowss, "%ld", rows);
  snprintf(now, sizeof now, "%lld", (long long)dsr_now());
  const char *v[] = {c->request_id, owner, customer_id, state, approval, lit, rowss, now};
  PGresult *r = NULL;
  enum dsr_tx_status s = dsr_tx_exec(db, DSR_STMT_PART_INSERT, 8, v, &r);
  if (s != DSR_TX_COMMIT)
    return s;
  part_id[0] = '\0';
  if (PQntuples(r) == 1) {
    dsr_strlcpy(part_id, PQgetvalue(r, 0, 0), 40);
    dsr_strlcpy(due, PQgetvalue(r, 0, 1), 24);
  }
  PQclear(r);
  if (!part_id[0])
    return DSR_TX_COMMIT;
  c->nparts++;
  json_t *d = json_pack("{s:s, s:s, s:s, s:I}", "part_id", part_id, "owner", owner, "state",
                        state, "rows", (json_int_t)rows);
  if (d && customer_id)
    json_object_set_new(d, "customer_id", json_string(customer_id));
  return dsr_tx_event(db, c->request_id, "part.created", "system", d);
}

/* The subject's verified identities of kinds @p idk, by kind name. */
static json_t *identities_json(const struct split_ctx *c, unsigned idk)
{
  json_t *ids = json_object();
  for (int i = 0; ids && i < DSR_ID_KIND_COUNT; i++)
    if ((idk & DSR_IDBIT(i)) && c->subject->value[i])
      json_object_set_new(ids, dsr_id_kind_name(i), json_string(c->subject->value[i]));
  return ids;
}

/*
 * Discovery run again after another identity was verified: the part that
 * exists already for this owner learns the kinds it lacked, and a customer
 * is told with dsr.updated. A part that is final keeps what it did.
 */
static enum dsr_tx_status widen_part(struct dsr_db *db, struct split_ctx *c, const char *owner,
                                     const char *customer_id, unsigned idk)
{
  char lit[64], now[24];
  dsr_id_kinds_literal(idk, lit, sizeof lit);
  snprintf(now, sizeof now, "%lld", (long long)dsr_now());
  const char *v[] = {c->request_id, owner, customer_id, lit, now};
  PGresult *r = NULL;
  enum dsr_tx_status s = dsr_tx_exec(db, DSR_STMT_PART_WIDEN, 5, v, &r);
  if (s != DSR_TX_COMMIT)
    return s;
  for (int i = 0; s == DSR_TX_COMMIT && i < PQntuples(r); i++) {
    c->nwidened++;
    if (customer_id) {
      json_t *extra = json_pack("{s:s, s:o}", "change", "identities", "identities",
                                identities_json(c, idk));
      s = extra ? dsr_part_notify(db, PQgetvalue(r, i, 0), "dsr.updated", extra)
                : DSR_TX_ROLLBACK;
      json_decref(extra);
    }
  }
  PQclear(r);
  return s;
}

/* What dsr.forwarded adds to the part's fields: only what this customer needs. */
static json_t *forward_extra(const struct split_ctx *c, const char *part_id, unsigned idk)
{
  json_t *ids = identities_json(c, idk);
  char *link = dsr_asprintf("%s/v1/customer/requests/%s", c->base_url ? c->base_url : "",
                            part_id);
  json_t *d = json_pack("{s:o, s:s}", "identities", ids, "api_url", link ? link : "");
  free(link);
  return d;
}

static enum dsr_tx_status split_body(struct dsr_db *db, void *arg)
{
  struct split_ctx *c = arg;
  c->nparts = 0;
  c->unknown = 0;
  c->ec = DSR_OK;
  const char *v[] = {c->request_id};
  PGresult *r = NULL;
  enum dsr_tx_status s = dsr_tx_exec(db, DSR_STMT_REQUEST_LOCK, 1, v, &r);
  if (s != DSR_TX_COMMIT)
    return s;
  if (PQntuples(r) != 1) {
    PQclear(r);
    c->ec = DSR_E_NOT_FOUND;
    return DSR_TX_ROLLBACK;
  }
  char type[32], jur[32], status[32];
  dsr_strlcpy(type, PQgetvalue(r, 0, 1), sizeof type);
  dsr_strlcpy(jur, PQgetvalue(r, 0, 2), sizeof jur);
  dsr_strlcpy(status, PQgetvalue(r, 0, 3), sizeof status);
  PQclear(r);
  c->again = !strcmp(status, "in_progress") || !strcmp(status, "on_hold");
  c->nwidened = 0;
  if (strcmp(status, "verified") != 0 && !c->again) {
    c->nparts = -1; /* not (any longer) ours to split */
    return DSR_TX_COMMIT;
  }
  const char *approval = dsr_rp_approval(c->policy, type, jur);
  if (!strcmp(type, "rectification") && !strcmp(approval, "auto")) {
    /* nothing to apply: the subject's own words say what to correct, so staff read them */
    PGresult *cr = NULL;
    enum dsr_tx_status cs = dsr_tx_exec(db, DSR_STMT_CORRECTIONS_COUNT, 1,
                                        (const char *const[]){c->request_id}, &cr);
    if (cs != DSR_TX_COMMIT)
      return cs;
    if (atol(PQgetvalue(cr, 0, 0)) == 0)
      approval = "staff";
    PQclear(cr);
  }
  const struct dsr_found *f = c->found;
  long controller_rows = f->controller_rows;
  unsigned controller_kinds = f->controller_kinds;
  char part_id[40], due[24];
  for (size_t i = 0; i < f->ntenants; i++) {
    const struct dsr_found_tenant *t = &f->tenants[i];
    const char *tv[] = {t->tenant_ref};
    s = dsr_tx_exec(db, DSR_STMT_CUSTOMER_BY_TENANT, 1, tv, &r);
    if (s != DSR_TX_COMMIT)
      return s;
    if (PQntuples(r) != 1) {
      /* Nobody to forward to: the privacy team handles it with the controller part. */
      PQclear(r);
      c->unknown += t->rows;
      controller_rows += t->rows;
      controller_kinds |= t->identity_kinds;
      continue;
    }
    char customer_id[40];
    dsr_strlcpy(customer_id, PQgetvalue(r, 0, 0), sizeof customer_id);
    PQclear(r);
    s = insert_part(db, c, "customer", customer_id, "forwarded", approval, t->identity_kinds,
                    t->rows, part_id, due);
    if (s == DSR_TX_COMMIT && !part_id[0] && c->again) {
      s = widen_part(db, c, "customer", customer_id, t->identity_kinds);
      if (s != DSR_TX_COMMIT)
        return s;
      continue;
    }
    if (s != DSR_TX_COMMIT || !part_id[0])
      return s;
    json_t *extra = forward_extra(c, part_id, t->identity_kinds);
    s = extra ? dsr_part_notify(db, part_id, "dsr.forwarded", extra) : DSR_TX_ROLLBACK;
    json_decref(extra);
    if (s != DSR_TX_COMMIT)
      return s;
  }
  if (controller_rows > 0) {
    s = insert_part(db, c, "controller", NULL, !strcmp(approval, "auto") ? "approved" : "pending",
                    approval, controller_kinds, controller_rows, part_id, due);
    if (s == DSR_TX_COMMIT && part_id[0] && !strcmp(approval, "auto"))
      s = dsr_part_execute_enqueue(db, c->request_id, part_id); /* auto-approved: execute now */
    else if (s == DSR_TX_COMMIT && !part_id[0] && c->again)
      s = widen_part(db, c, "controller", NULL, controller_kinds);
    if (s != DSR_TX_COMMIT)
      return s;
  }
  if (c->again) {
    if (c->nparts == 0 && c->nwidened == 0) {
      c->nparts = -1; /* a repeated job: nothing new */
      return DSR_TX_COMMIT;
    }
    return dsr_tx_event(db, c->request_id, "request.rediscovered", "system",
                        json_pack("{s:i, s:i}", "new_parts", c->nparts, "widened_parts",
                                  c->nwidened));
  }
  char now[24];
  snprintf(now, sizeof now, "%lld", (long long)dsr_now());
  if (c->nparts == 0) {
    struct dsr_jur_rules jr;
    const char *msg = dsr_rp_jurisdiction(c->policy, jur, &jr) ? jr.no_data_message : NULL;
    const char *cv[] = {c->request_id, "no_data", msg, now};
    s = dsr_tx_exec(db, DSR_STMT_REQUEST_COMPLETE, 4, cv, &r);
    if (s != DSR_TX_COMMIT)
      return s;
    PQclear(r);
    s = dsr_tx_event(db, c->request_id, "request.completed", "system",
                     json_pack("{s:s, s:i}", "outcome", "no_data", "parts", 0));
    return s == DSR_TX_COMMIT ? dsr_closing_enqueue(db, c->request_id) : s;
  }
  const char *sv[] = {c->request_id, "in_progress", now};
  s = dsr_tx_exec(db, DSR_STMT_REQUEST_SET_STATUS, 3, sv, &r);
  if (s != DSR_TX_COMMIT)
    return s;
  PQclear(r);
  return dsr_tx_event(db, c->request_id, "request.discovered", "system",
                      json_pack("{s:i, s:I, s:I, s:s}", "parts", c->nparts, "controller_rows",
                                (json_int_t)controller_rows, "unclaimed_tenant_rows",
                                (json_int_t)c->unknown, "approval", approval));
}

enum dsr_ec dsr_discovery_run(struct dsr_db *db, const struct dsr_policy *p,
                              const struct dsr_finder *f, const char *base_url,
                              const char *request_id, int *nparts)
{
  struct dsr_subject_values subj = {.unverified = 0};
  struct dsr_found found = {0};
  bool have_found = false;
  enum dsr_ec ec = DSR_E_INTERNAL;
  char err[256] = "";
  *nparts = -1;
  const char *v[] = {request_id};
  PGresult *r = dsr_db_exec(db, DSR_STMT_REQUEST_ROUTING_GET, 1, v);
  if (!dsr_db_ok(r)) {
    ec = DSR_E_DB_UNAVAILABLE;
    goto cleanup;
  }
  if (PQntuples(r) != 1) {
    ec = DSR_E_NOT_FOUND;
    goto cleanup;
  }
  char type[32];
  dsr_strlcpy(type, PQgetvalue(r, 0, 1), sizeof type);
  const char *status = PQgetvalue(r, 0, 3);
  if (strcmp(status, "verified") != 0 && strcmp(status, "in_progress") != 0 &&
      strcmp(status, "on_hold") != 0) {
    ec = DSR_OK; /* nothing to do: not verified, or closed */
    goto cleanup;
  }
  if (!dsr_subject_load(db, request_id, &subj))
    goto cleanup;
  struct dsr_subject s = dsr_subject_of(&subj);
  if (!f->find(f->ctx, type, &s, &found, err, sizeof err)) {
    DSR_WARN("discovery.search_failed", "request=%s", request_id);
    goto cleanup;
  }
  have_found = true;
  struct split_ctx c = {.request_id = request_id, .policy = p, .base_url = base_url,
                        .found = &found, .subject = &subj};
  if (!dsr_db_tx(db, "READ COMMITTED", split_body, &c)) {
    ec = c.ec != DSR_OK ? c.ec : DSR_E_DB_UNAVAILABLE;
    goto cleanup;
  }
  *nparts = c.nparts;
  ec = DSR_OK;
  DSR_INFO("discovery.done", "request=%s parts=%d", request_id, c.nparts);
cleanup:
  PQclear(r);
  if (have_found && f->free_found)
    f->free_found(f->ctx, &found);
  dsr_subject_free(&subj);
  return ec;
}

/**
 * @file erasure_steps.c
 * @brief From a plan to the executor's steps for one part: the plan parts
 *        that belong to it (the customer's tenant; or, for the controller,
 *        its own data and that of tenants without a customer), ordered
 *        children before parents, with legal holds turned into retained rows.
 */
#include "config.h"
#include "erasure_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void erasure_holds_free(struct erasure_holds *h)
{
  for (size_t i = 0; i < h->n; i++) {
    json_decref(h->v[i].collections);
    free(h->v[i].basis);
  }
  free(h->v);
  memset(h, 0, sizeof *h);
}

bool erasure_holds_load(struct dsr_db *db, const char *request_id, const struct dsr_subject *s,
                        struct erasure_holds *out)
{
  unsigned char h[DSR_ID_KIND_COUNT][DSR_HASH_BYTES];
  const char *given[DSR_ID_KIND_COUNT] = {s->email, s->phone, s->account_id};
  const char *v[4] = {request_id, NULL, NULL, NULL};
  int lens[4] = {0}, fmts[4] = {0};
  for (int k = 0; k < DSR_ID_KIND_COUNT; k++)
    if (given[k] && dsr_identity_hash((enum dsr_id_kind)k, given[k], h[k])) {
      v[k + 1] = (const char *)h[k];
      lens[k + 1] = DSR_HASH_BYTES;
      fmts[k + 1] = 1;
    }
  memset(out, 0, sizeof *out);
  PGresult *r = dsr_db_exec_bin(db, DSR_STMT_HOLDS_ACTIVE, 4, v, lens, fmts);
  bool ok = dsr_db_ok(r);
  int n = ok ? PQntuples(r) : 0;
  out->v = ok ? calloc((size_t)n + 1, sizeof *out->v) : NULL;
  ok = ok && out->v;
  for (int i = 0; ok && i < n; i++) {
    struct erasure_hold *eh = &out->v[out->n++];
    eh->collections = json_loads(PQgetvalue(r, i, 1), JSON_DECODE_ANY, NULL);
    eh->basis = strdup(PQgetvalue(r, i, 2));
    ok = eh->collections && eh->basis;
  }
  PQclear(r);
  if (!ok)
    erasure_holds_free(out);
  return ok;
}

/* The first hold covering collection @p name, or NULL. */
static const struct erasure_hold *held(const struct erasure_holds *h, const char *name)
{
  for (size_t i = 0; i < h->n; i++) {
    if (json_is_null(h->v[i].collections))
      return &h->v[i];
    size_t k;
    json_t *c;
    json_array_foreach(h->v[i].collections, k, c)
      if (json_is_string(c) && !strcmp(json_string_value(c), name))
        return &h->v[i];
  }
  return NULL;
}

bool erasure_hold_covers(const struct erasure_holds *h, const char *name)
{
  return held(h, name) != NULL;
}

/* Whether plan part @p pt belongs to the dsrd part of tenant @p tenant_ref (NULL: the
 * controller, which also has every tenant without a part of its own in this request). */
static bool mine(const struct dsr_plan_part *pt, const char *tenant_ref, PGresult *customers)
{
  if (tenant_ref)
    return pt->tenant && !strcmp(pt->tenant, tenant_ref);
  if (!pt->tenant)
    return true;
  for (int i = 0; i < PQntuples(customers); i++)
    if (!strcmp(PQgetvalue(customers, i, 0), pt->tenant))
      return false;
  return true; /* nobody was forwarded these rows: the controller's part took them */
}

static int by_order(const void *a, const void *b)
{
  const struct erasure_step *x = a, *y = b;
  if (x->st.coll->topo_index != y->st.coll->topo_index) /* children first */
    return x->st.coll->topo_index < y->st.coll->topo_index ? 1 : -1;
  return x->seq < y->seq ? -1 : (x->seq > y->seq);
}

bool erasure_steps_build(const struct dsr_plan *plan, const char *tenant_ref, PGresult *customers,
                         const struct erasure_holds *holds, struct erasure_step **out, size_t *n)
{
  size_t total = 0, k = 0;
  for (size_t i = 0; i < plan->nparts; i++)
    total += plan->parts[i].nsteps;
  struct erasure_step *v = calloc(total + 1, sizeof *v);
  if (!v)
    return false;
  for (size_t i = 0; i < plan->nparts; i++) {
    const struct dsr_plan_part *pt = &plan->parts[i];
    if (!mine(pt, tenant_ref, customers))
      continue;
    for (size_t j = 0; j < pt->nsteps; j++) {
      const struct dsr_plan_step *ps = &pt->steps[j];
      struct erasure_step *es = &v[k];
      es->seq = k++;
      es->st.coll = ps->coll;
      es->st.verb = ps->verb;
      es->st.keys_sql = ps->keys_sql;
      es->st.params = ps->keys_params;
      es->st.nparams = ps->nkeys_params;
      bool mentions = ps->verb == DSR_STEP_REDACT && ps->coll->action != DSR_ACT_REDACT;
      snprintf(es->st.key, sizeof es->st.key, "%s/%s%s%s%s", ps->coll->name,
               dsr_step_verb_name(ps->verb), mentions ? "/mentions" : "", pt->tenant ? "@" : "",
               pt->tenant ? pt->tenant : "");
      const struct erasure_hold *hd = held(holds, ps->coll->name);
      if (ps->verb == DSR_STEP_RETAIN || hd || !ps->keys_sql) {
        if (hd)
          snprintf(es->basis, sizeof es->basis, "legal hold: %s", hd->basis);
        else
          snprintf(es->basis, sizeof es->basis, "%s",
                   ps->reason ? ps->reason
                              : (ps->coll->action_basis ? ps->coll->action_basis : "retained"));
        es->st.verb = DSR_STEP_RETAIN;
        es->st.basis = es->basis;
        es->st.retain_rows = ps->rows;
      } else if (ps->coll->action == DSR_ACT_RETAIN) { /* kept under its basis, fields masked */
        snprintf(es->basis, sizeof es->basis, "%s; identifying fields masked",
                 ps->coll->action_basis);
        es->st.basis = es->basis;
      }
    }
  }
  qsort(v, k, sizeof *v, by_order);
  *out = v;
  *n = k;
  return true;
}

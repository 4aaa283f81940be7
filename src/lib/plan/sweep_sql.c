/**
 * @file sweep_sql.c
 * @brief The statements of a retention sweep, from the data map. A row is
 *        expired when, at the cutoff $asof:
 *   age            t."col" < $asof - period
 *   after_event    t."col" IS NOT NULL AND t."col" < $asof - period
 *   tenant_setting t."col" < $asof - clamp(setting of t's tenant, or the default; min, max)
 *   with_parent    its parent row is expired, or gone:
 *                  coalesce((SELECT bool_or(coalesce(<parent expired>, false))
 *                            FROM parent a1 WHERE a1."pc" = a0."col"), true)
 * A with_parent child whose reference a foreign key guards (no row can lose its parent) is
 * paged from its parent instead: the children of the parent's expired rows (by_parent()).
 * Every value is a parameter; identifiers are quoted, from the policy.
 */
#include "config.h"
#include "planner_int.h"
#include "dsr/sweep.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Seconds of a duration string, as text for a parameter. */
static void secs(const char *dur, char *out, size_t n, long long fallback)
{
  long long s = 0;
  if (!dur || !dsr_duration_parse(dur, &s))
    s = fallback;
  snprintf(out, n, "%lld", s);
}

static bool has_rule(const struct dsr_pcollection *c, int depth);

/* Appends the "expired" condition of alias @p a (a<depth>) of collection @p c. */
static void expired(struct psql *s, const struct dsr_pcollection *c, int depth)
{
  char num[32], label[192];
  const struct dsr_pretention *r = &c->retention;
  int asof = 0; /* added where used: an unused parameter has no type */
  switch (r->rule) {
  case DSR_RET_AGE:
  case DSR_RET_AFTER_EVENT: {
    asof = psql_param(s, "as_of", NULL, false);
    snprintf(label, sizeof label, "period:%s", c->name);
    int pn = psql_param(s, label, r->period, false);
    psql_printf(s, "(a%d.", depth);
    psql_ident(s, r->column);
    if (r->rule == DSR_RET_AFTER_EVENT) {
      psql_puts(s, " IS NOT NULL AND a");
      psql_printf(s, "%d.", depth);
      psql_ident(s, r->column);
    }
    psql_printf(s, " < to_timestamp($%d::bigint) - $%d::interval)", asof, pn);
    return;
  }
  case DSR_RET_TENANT_SETTING: {
    long long unit = 86400;
    char u[64];
    asof = psql_param(s, "as_of", NULL, false);
    snprintf(u, sizeof u, "1 %s", r->setting_unit ? r->setting_unit : "days");
    if (!dsr_duration_parse(u, &unit))
      unit = 86400;
    snprintf(label, sizeof label, "default:%s", c->name);
    secs(r->period, num, sizeof num, 0);
    int dn = psql_param(s, label, num, false);
    snprintf(label, sizeof label, "min:%s", c->name);
    secs(r->min, num, sizeof num, 0);
    int mn = psql_param(s, label, num, false);
    snprintf(label, sizeof label, "max:%s", c->name);
    secs(r->max, num, sizeof num, 1000LL * 365 * 86400);
    int xn = psql_param(s, label, num, false);
    psql_printf(s, "(a%d.", depth);
    psql_ident(s, r->column);
    psql_printf(s, " < to_timestamp($%d::bigint) - make_interval(secs => least(greatest(", asof);
    if (r->setting && c->owner == DSR_OWNER_PROCESSOR) {
      /* Only a parameter the text uses may be added: PostgreSQL counts the ones it sees. */
      snprintf(label, sizeof label, "unit:%s", c->name);
      snprintf(num, sizeof num, "%lld", unit);
      int un = psql_param(s, label, num, false);
      psql_puts(s, "coalesce((SELECT st.");
      psql_ident(s, r->setting_value_column);
      psql_printf(s, "::double precision * $%d::double precision FROM ", un);
      psql_table(s, r->setting);
      psql_puts(s, " st WHERE st.");
      psql_ident(s, r->setting_tenant_column);
      if (c->tenant_column) {
        psql_printf(s, " = a%d.", depth);
        psql_ident(s, c->tenant_column);
      } else { /* inherited along tenant_via: compared as text, as the chain yields it */
        psql_puts(s, "::text = (");
        psql_tenant_expr(s, c, depth);
        psql_puts(s, ")::text");
      }
      psql_printf(s, " LIMIT 1), $%d::double precision)", dn);
    } else {
      psql_printf(s, "$%d::double precision", dn);
    }
    psql_printf(s, ", $%d::double precision), $%d::double precision)))", mn, xn);
    return;
  }
  case DSR_RET_WITH_PARENT: {
    /* Expired when no parent row matches, or one that matches is expired: written as one
     * correlated aggregate (an index probe per row) rather than NOT EXISTS OR EXISTS, which
     * PostgreSQL runs as hashed subplans over the whole parent table for every page. */
    const struct dsr_preference *ref = r->via;
    const struct dsr_pcollection *pa = ref->parent;
    bool rule = has_rule(pa, depth + 1);
    char child[16], parent[16];
    snprintf(child, sizeof child, "a%d", depth);
    snprintf(parent, sizeof parent, "a%d", depth + 1);
    psql_puts(s, "(");
    for (size_t i = 0; i < ref->ncolumns; i++) {
      psql_printf(s, "%s.", child);
      psql_ident(s, ref->columns[i]);
      psql_puts(s, " IS NOT NULL AND ");
    }
    psql_puts(s, rule ? "coalesce((SELECT bool_or(coalesce(" : "NOT EXISTS (SELECT 1");
    if (rule) {
      expired(s, pa, depth + 1);
      psql_puts(s, ", false))");
    }
    psql_puts(s, " FROM ");
    psql_table(s, pa);
    psql_printf(s, " %s WHERE ", parent);
    psql_ref_eq(s, child, parent, ref);
    psql_puts(s, rule ? "), true))" : "))");
    return;
  }
  case DSR_RET_NONE:
  case DSR_RET_INDEFINITE: break;
  }
  psql_puts(s, "FALSE");
}

/* Whether rows of @p c can expire (a bounded chain of with_parent). */
static bool has_rule(const struct dsr_pcollection *c, int depth)
{
  const struct dsr_pretention *r = &c->retention;
  if (depth > 16 || c->store->type != DSR_STORE_POSTGRESQL)
    return false;
  if (r->rule == DSR_RET_WITH_PARENT)
    return r->via != NULL; /* a row whose parent is gone goes too */
  return r->rule == DSR_RET_AGE || r->rule == DSR_RET_AFTER_EVENT ||
         r->rule == DSR_RET_TENANT_SETTING;
}

/* The cursor of a step paged by its parent: {"c": child key text, "p": parent key text}, as
 * jsonb prints it; a cursor in another form (a step begun by an older build, paged by its own
 * key) restarts the step from its first page, which only revisits the rows it kept. */
#define BY_PARENT_CURSOR "{\"c\": "

/*
 * The page query of child @p c found from its parent's expired rows, in the order of the
 * parent's key, then its own: the parent's rows in key order, each probing the child's
 * rows that refer to it (a lateral subquery that OFFSET 0 keeps from being pulled up: as a
 * plain join, PostgreSQL merge-joins the child's whole reference index from its start on
 * every page):
 *   SELECT c.k, jsonb_build_object('c', c.k, 'p', a1.key::text)::text FROM parent a1
 *   CROSS JOIN LATERAL (SELECT a0.key::text AS k, a0.key FROM child a0 WHERE a0.ref = a1.pk
 *     AND (cursor IS NULL OR a1.key > cursor.p OR a0.key > cursor.c) OFFSET 0) c
 *   WHERE <a1 expired> AND (cursor IS NULL OR a1.key >= cursor.p)
 *   ORDER BY a1.key, c.key LIMIT n
 * or (@p page false) its count. Only for a reference that a foreign key guards: every
 * child row with a reference has its parent row (no orphans to find), and the parent's
 * columns are unique (no child row found twice).
 */
static void by_parent(struct psql *s, const struct dsr_pcollection *c, bool page)
{
  const struct dsr_preference *ref = c->retention.via;
  const struct dsr_pcollection *pa = ref->parent;
  if (!page) {
    psql_puts(s, "SELECT count(*), ");
    psql_files_expr(s, c); /* over alias x */
    psql_puts(s, " FROM (SELECT a0.* FROM ");
    psql_table(s, pa);
    psql_puts(s, " a1 JOIN ");
    psql_table(s, c);
    psql_puts(s, " a0 ON ");
    psql_ref_eq(s, "a0", "a1", ref);
    psql_puts(s, " WHERE ");
    expired(s, pa, 1);
    psql_puts(s, ") x");
    return;
  }
  int cn = psql_param(s, "cursor", NULL, false);
  char p[64], ch[64], none[160];
  snprintf(p, sizeof p, "($%d::jsonb->>'p')", cn);
  snprintf(ch, sizeof ch, "($%d::jsonb->>'c')", cn);
  snprintf(none, sizeof none, "$%d::text IS NULL OR NOT starts_with($%d::text, '%s')", cn, cn,
           BY_PARENT_CURSOR);
  psql_puts(s, "SELECT c.\"__dsr_k\", jsonb_build_object('c', c.\"__dsr_k\", 'p', ");
  psql_key_text(s, "a1", pa);
  psql_puts(s, ")::text FROM ");
  psql_table(s, pa);
  psql_puts(s, " a1 CROSS JOIN LATERAL (SELECT ");
  psql_key_text(s, "a0", c);
  psql_puts(s, " AS \"__dsr_k\", ");
  psql_key_cols(s, "a0", c);
  psql_puts(s, " FROM ");
  psql_table(s, c);
  psql_puts(s, " a0 WHERE ");
  psql_ref_eq(s, "a0", "a1", ref);
  psql_printf(s, " AND (%s OR ", none);
  psql_key_cmp(s, "a1", pa, ">", p);
  psql_puts(s, " OR ");
  psql_key_cmp(s, "a0", c, ">", ch);
  psql_puts(s, ") OFFSET 0) c WHERE ");
  expired(s, pa, 1);
  psql_printf(s, " AND (%s OR ", none);
  psql_key_cmp(s, "a1", pa, ">=", p);
  psql_puts(s, ") ORDER BY ");
  psql_key_cols(s, "a1", pa);
  psql_puts(s, ", ");
  psql_key_cols(s, "c", c);
  psql_printf(s, " LIMIT $%d::integer", psql_param(s, "limit", NULL, false));
}

static bool build(const struct dsr_pcollection *c, const char *as_of, bool page, bool parent,
                  char **sql, struct dsr_plan_param **params, size_t *n)
{
  struct psql s = {0};
  if (parent) {
    by_parent(&s, c, page);
  } else {
    if (page) {
      psql_puts(&s, "SELECT ");
      psql_key_text(&s, "a0", c);
      psql_puts(&s, " FROM ");
    } else {
      psql_puts(&s, "SELECT count(*), ");
      psql_files_expr(&s, c); /* over alias x */
      psql_puts(&s, " FROM (SELECT a0.* FROM ");
    }
    psql_table(&s, c);
    psql_puts(&s, " a0 WHERE ");
    expired(&s, c, 0);
    if (!page) {
      psql_puts(&s, ") x");
    } else {
      psql_puts(&s, " AND ");
      psql_key_page(&s, "a0", c);
    }
  }
  for (size_t i = 0; i < s.n && !s.oom; i++)
    if (!strcmp(s.params[i].label, "as_of") && !(s.params[i].value = strdup(as_of)))
      s.oom = true;
  bool ok = psql_take(&s, sql, params, n);
  psql_free(&s);
  return ok;
}

void dsr_sweep_steps_free(struct dsr_sweep_step *v, size_t n)
{
  for (size_t i = 0; v && i < n; i++) {
    free(v[i].keys_sql);
    free(v[i].count_sql);
    psql_params_free(v[i].params, v[i].nparams);
    psql_params_free(v[i].count_params, v[i].ncount_params);
  }
  free(v);
}

bool dsr_sweep_steps(const struct dsr_policy *p, time_t as_of, struct dsr_sweep_step **out,
                     size_t *n)
{
  return dsr_sweep_steps_guarded(p, as_of, NULL, NULL, out, n);
}

bool dsr_sweep_steps_guarded(const struct dsr_policy *p, time_t as_of,
                             bool (*guarded)(void *ctx, const struct dsr_pcollection *c),
                             void *ctx, struct dsr_sweep_step **out, size_t *n)
{
  size_t nc = dsr_policy_collection_count(p), k = 0;
  struct dsr_sweep_step *v = calloc(nc + 1, sizeof *v);
  char asof[24];
  snprintf(asof, sizeof asof, "%lld", (long long)as_of);
  if (!v)
    return false;
  for (size_t i = nc; i-- > 0;) { /* children first */
    const struct dsr_pcollection *c = dsr_policy_topo_at(p, i);
    if (!has_rule(c, 0))
      continue;
    /* a with_parent child whose parent expires by a rule of its own, through a reference a
     * foreign key guards: found from the parent's expired rows (the index of its reference)
     * instead of a probe of the parent for every row of the child's table */
    const struct dsr_pretention *r = &c->retention;
    bool parent = guarded && r->rule == DSR_RET_WITH_PARENT && r->via &&
                  has_rule(r->via->parent, 1) && guarded(ctx, c);
    struct dsr_sweep_step *st = &v[k++];
    if (!build(c, asof, true, parent, &st->keys_sql, &st->params, &st->nparams) ||
        !build(c, asof, false, parent, &st->count_sql, &st->count_params, &st->ncount_params)) {
      dsr_sweep_steps_free(v, k);
      return false;
    }
    snprintf(st->st.key, sizeof st->st.key, "%s/delete", c->name);
    st->st.coll = c;
    st->st.verb = DSR_STEP_DELETE;
    st->st.keys_sql = st->keys_sql;
    st->st.params = st->params;
    st->st.nparams = st->nparams;
  }
  *out = v;
  *n = k;
  return true;
}

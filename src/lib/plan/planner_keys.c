/**
 * @file planner_keys.c
 * @brief The executor's page query of an erasure step: the next primary keys
 *        of the rows a step covers, in key order, after a cursor. The same
 *        CTEs as the step's statement select the rows (the subject's own,
 *        and for redactions the other rows that mention them), so a page is
 *        exactly a slice of what the plan counted.
 *
 *   WITH s<i> AS MATERIALIZED (...) SELECT k."pk"::text FROM
 *     (SELECT x."pk" FROM s<i> x WHERE <tenant> UNION SELECT x."pk" FROM m<i> x WHERE <tenant>) k
 *   WHERE ($c::text IS NULL OR k."pk" > $c::<type>) ORDER BY k."pk" LIMIT $l::integer
 *
 * A composite key pages the same way, on its row value and as its key text
 * (sqlbuild.h).
 */
#include "config.h"
#include "planner_int.h"

#include <stdlib.h>
#include <string.h>

bool psql_keys_step(const struct plan_ctx *pc, enum dsr_step_verb verb, bool mentions_only,
                    const struct dsr_pcollection *c, const char *tenant, struct dsr_plan_step *st)
{
  struct psql s = {0};
  bool ok = false;
  bool *need = calloc(pc->ncolls + 1, sizeof *need);
  bool *need_m = calloc(pc->ncolls + 1, sizeof *need_m);
  if (!need || !need_m)
    goto cleanup;
  if (verb == DSR_STEP_RETAIN) {
    ok = true; /* nothing to page through */
    goto cleanup;
  }
  bool reached = pc->reached[c->topo_index] && !mentions_only;
  bool mentions = verb == DSR_STEP_REDACT && plan_has_mentions(pc, c);
  if (pc->reached[c->topo_index])
    psql_need(pc, c, need); /* m<i> excludes the subject's own rows through s<i> */
  if (mentions)
    need_m[c->topo_index] = true;
  psql_ctes(pc, &s, need, need_m);
  psql_puts(&s, "SELECT ");
  psql_key_text(&s, "k", c);
  psql_puts(&s, " FROM (");
  bool any = false;
  if (reached) {
    psql_puts(&s, "SELECT ");
    psql_key_cols(&s, "x", c);
    psql_printf(&s, " FROM s%zu x WHERE ", c->topo_index);
    psql_tenant_filter(&s, c, tenant);
    any = true;
  }
  if (mentions) {
    psql_puts(&s, any ? " UNION SELECT " : "SELECT ");
    psql_key_cols(&s, "x", c);
    psql_printf(&s, " FROM m%zu x WHERE ", c->topo_index);
    psql_tenant_filter(&s, c, tenant);
    any = true;
  }
  if (!any) {
    psql_puts(&s, "SELECT ");
    psql_key_cols(&s, "x", c);
    psql_puts(&s, " FROM ");
    psql_table(&s, c);
    psql_puts(&s, " x WHERE FALSE");
  }
  psql_puts(&s, ") k WHERE ");
  psql_key_page(&s, "k", c);
  ok = psql_take(&s, &st->keys_sql, &st->keys_params, &st->nkeys_params);
cleanup:
  psql_free(&s);
  free(need);
  free(need_m);
  return ok;
}

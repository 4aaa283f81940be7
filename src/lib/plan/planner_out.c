/**
 * @file planner_out.c
 * @brief Output of plans: JSON for machines (dsrctl policy explain --json,
 *        the plan endpoint) and a readable table for people. Secret
 *        parameters are shown by label only; identity values are never
 *        printed in the table (only in the JSON parameters, which the caller
 *        asked for with the identities it gave).
 */
#include "config.h"
#include "dsr/planner.h"

#include <stdio.h>
#include <string.h>

static json_t *step_json(const struct dsr_plan_step *st)
{
  json_t *params = json_array();
  for (size_t i = 0; i < st->nparams; i++)
    json_array_append_new(params,
                          json_pack("{s:i,s:s,s:o}", "n", (int)i + 1, "label", st->params[i].label,
                                    "value", st->params[i].secret || !st->params[i].value
                                                 ? json_null()
                                                 : json_string(st->params[i].value)));
  const struct dsr_pcollection *c = st->coll;
  json_t *o = json_pack("{s:s,s:s,s:s,s:s,s:s,s:I,s:I,s:I,s:I,s:o,s:o,s:o}", "collection", c->name,
                        "table", c->table, "owner",
                        c->owner == DSR_OWNER_PROCESSOR ? "processor" : "controller", "action",
                        dsr_step_verb_name(st->verb), "description", c->description,
                        "rows", (json_int_t)st->rows, "files", (json_int_t)st->files, "kept",
                        (json_int_t)st->kept, "mentions", (json_int_t)st->mentions, "sql",
                        st->sql ? json_string(st->sql) : json_null(), "params", params, "reason",
                        st->reason ? json_string(st->reason) : json_null());
  if (o && (st->verb == DSR_STEP_MASK || (st->verb == DSR_STEP_DELETE && st->kept > 0 &&
                                          c->nmasks > 0))) {
    json_t *m = json_object();
    for (size_t i = 0; i < c->nmasks; i++)
      json_object_set_new(m, c->masks[i].field,
                          json_string(dsr_mask_strategy_name(c->masks[i].strategy)));
    json_object_set_new(o, "masked", m);
  }
  if (o && st->verb == DSR_STEP_REDACT) {
    json_t *cols = json_array(), *pats = json_array();
    for (size_t i = 0; i < c->nredact_columns; i++)
      json_array_append_new(cols, json_string(c->redact_columns[i]));
    for (size_t i = 0; i < c->nredact_patterns; i++)
      json_array_append_new(pats, json_string(c->redact_patterns[i]->name));
    json_object_set_new(o, "redacted_columns", cols);
    json_object_set_new(o, "patterns", pats);
  }
  return o;
}

json_t *dsr_plan_to_json(const struct dsr_plan *plan)
{
  json_t *parts = json_array(), *notes = json_array();
  for (size_t i = 0; i < plan->nparts; i++) {
    const struct dsr_plan_part *pt = &plan->parts[i];
    json_t *steps = json_array();
    long long rows = 0, files = 0;
    for (size_t k = 0; k < pt->nsteps; k++) {
      json_array_append_new(steps, step_json(&pt->steps[k]));
      rows += pt->steps[k].rows;
      files += pt->steps[k].files;
    }
    json_array_append_new(parts, json_pack("{s:s,s:o,s:I,s:I,s:o}", "owner",
                                           pt->tenant ? "customer" : "controller", "tenant",
                                           pt->tenant ? json_string(pt->tenant) : json_null(),
                                           "rows", (json_int_t)rows, "files", (json_int_t)files,
                                           "steps", steps));
  }
  for (size_t i = 0; i < plan->nnotes; i++)
    json_array_append_new(notes, json_string(plan->notes[i]));
  const json_t *ver = dsr_policy_section(plan->policy, "policy_version");
  return json_pack("{s:s,s:s,s:o,s:o}", "plan",
                   plan->kind == DSR_PLAN_ERASURE ? "erasure" : "access", "policy_version",
                   json_is_string(ver) ? json_string_value(ver) : "", "parts", parts, "notes",
                   notes);
}

void dsr_plan_print(const struct dsr_plan *plan, FILE *out, bool with_sql)
{
  fprintf(out, "%s plan (%zu part%s)\n", plan->kind == DSR_PLAN_ERASURE ? "Erasure" : "Access",
          plan->nparts, plan->nparts == 1 ? "" : "s");
  if (plan->nparts == 0)
    fprintf(out, "  no rows found for this subject\n");
  for (size_t i = 0; i < plan->nparts; i++) {
    const struct dsr_plan_part *pt = &plan->parts[i];
    if (pt->tenant)
      fprintf(out, "\nCustomer part: tenant %s (forwarded to the customer)\n", pt->tenant);
    else
      fprintf(out, "\nController part (privacy team)\n");
    fprintf(out, "  %-3s %-22s %-8s %8s %6s %6s  %s\n", "#", "collection", "action", "rows",
            "files", "kept", "detail");
    for (size_t k = 0; k < pt->nsteps; k++) {
      const struct dsr_plan_step *st = &pt->steps[k];
      char detail[256] = "";
      const struct dsr_pcollection *c = st->coll;
      size_t used = 0;
      if (st->verb == DSR_STEP_MASK)
        for (size_t j = 0; j < c->nmasks && used < sizeof detail; j++)
          used += (size_t)snprintf(detail + used, sizeof detail - used, "%s%s=%s", j ? ", " : "mask ",
                                   c->masks[j].field, dsr_mask_strategy_name(c->masks[j].strategy));
      else if (st->verb == DSR_STEP_REDACT)
        snprintf(detail, sizeof detail, "redact %zu column%s (%lld mentioning the subject)",
                 c->nredact_columns, c->nredact_columns == 1 ? "" : "s", st->mentions);
      else if (st->reason)
        snprintf(detail, sizeof detail, "%s", st->reason);
      fprintf(out, "  %-3zu %-22s %-8s %8lld %6lld %6lld  %s\n", k + 1, c->name,
              dsr_step_verb_name(st->verb), st->rows, st->files, st->kept, detail);
      if (with_sql && st->sql)
        fprintf(out, "      %s\n", st->sql);
    }
  }
  for (size_t i = 0; i < plan->nnotes; i++)
    fprintf(out, "\nnote: %s\n", plan->notes[i]);
}

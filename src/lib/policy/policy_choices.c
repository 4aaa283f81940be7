/**
 * @file policy_choices.c
 * @brief The "choices" section (dsr-policy(5)): what objection,
 *        withdraw_consent and opt_out change in the platform's consent and
 *        suppression collections. Each request type lists actions:
 *          {"collection": C, "action": "update", "set": {col: VALUE},
 *           "where": {col: ["a", "b"]}, "only_null": [col]}
 *          {"collection": C, "action": "insert", "values": {col: VALUE}}
 *        VALUE is "now", "tenant", "identity:email|phone|account_id" or
 *        "fixed:TEXT". Columns must be declared; the collection must have
 *        identity columns, and a tenant column when owned by a processor.
 */
#include "config.h"
#include "policy_int.h"

#include <stdlib.h>
#include <string.h>

static const struct pkey action_spec[] = {
    {"collection", PT_STR, true}, {"action", PT_STR, true},  {"set", PT_OBJ, false},
    {"values", PT_OBJ, false},    {"where", PT_OBJ, false},  {"only_null", PT_STRARR, false},
    {"description", PT_STR, false}, {NULL, PT_ANY, false}};

static const char *const types[] = {"objection", "withdraw_consent", "opt_out", NULL};

bool dsr_choice_value_ok(const char *v)
{
  return !strcmp(v, "now") || !strcmp(v, "tenant") || !strcmp(v, "identity:email") ||
         !strcmp(v, "identity:phone") || !strcmp(v, "identity:account_id") ||
         !strncmp(v, "fixed:", 6);
}

static void check_columns(struct pctx *c, const struct dsr_pcollection *coll, const json_t *obj,
                          const char *ptr, bool values)
{
  const char *k;
  const json_t *v;
  json_object_foreach((json_t *)obj, k, v) {
    char *p = pptr(ptr, k);
    if (!p) {
      c->oom = true;
      return;
    }
    if (!dsr_pcollection_column_type(coll, k))
      pdiag(c, DSR_DIAG_ERROR, p, true, "not a declared column of collection %s", coll->name);
    else if (values && (!json_is_string(v) || !dsr_choice_value_ok(json_string_value(v))))
      pdiag(c, DSR_DIAG_ERROR, p, false,
            "bad value (expected \"now\", \"tenant\", \"identity:KIND\" or \"fixed:TEXT\")");
    else if (!values && !json_is_array(v))
      pdiag(c, DSR_DIAG_ERROR, p, false, "bad value (expected an array of strings)");
    free(p);
  }
}

static void check_action(struct pctx *c, const json_t *a, const char *ptr)
{
  if (!pcheck_obj(c, a, ptr, action_spec, "a choice action"))
    return;
  const char *cn = json_string_value(json_object_get(a, "collection"));
  const char *act = json_string_value(json_object_get(a, "action"));
  const struct dsr_pcollection *coll = cn ? dsr_policy_collection(c->p, cn) : NULL;
  char *p = pptr(ptr, "collection");
  if (cn && !coll)
    pdiag(c, DSR_DIAG_ERROR, p, false, "unknown collection \"%s\"", cn);
  else if (coll && coll->nidentities == 0)
    pdiag(c, DSR_DIAG_ERROR, p, false, "collection %s has no identity columns", cn);
  else if (coll && coll->owner == DSR_OWNER_PROCESSOR && !coll->tenant_column)
    pdiag(c, DSR_DIAG_ERROR, p, false, "collection %s needs its own tenant_column", cn);
  free(p);
  bool update = act && !strcmp(act, "update"), insert = act && !strcmp(act, "insert");
  if (act && !update && !insert) {
    p = pptr(ptr, "action");
    pdiag(c, DSR_DIAG_ERROR, p, false, "unknown action \"%s\" (expected update or insert)", act);
    free(p);
  }
  const char *need = update ? "set" : "values";
  if ((update || insert) && !json_object_get(a, need))
    pdiag(c, DSR_DIAG_ERROR, ptr, false, "%s: missing \"%s\"", act, need);
  if (insert && (json_object_get(a, "where") || json_object_get(a, "only_null")))
    pdiag(c, DSR_DIAG_ERROR, ptr, false, "insert takes no \"where\" or \"only_null\"");
  if (!coll)
    return;
  const char *keys[] = {"set", "values", "where"};
  for (size_t i = 0; i < 3; i++) {
    const json_t *o = json_object_get(a, keys[i]);
    if (!json_is_object(o))
      continue;
    p = pptr(ptr, keys[i]);
    if (p)
      check_columns(c, coll, o, p, i < 2);
    free(p);
  }
  const json_t *on = json_object_get(a, "only_null");
  size_t i;
  const json_t *e;
  json_array_foreach(on, i, e) {
    if (json_is_string(e) && !dsr_pcollection_column_type(coll, json_string_value(e))) {
      char *op = pptr(ptr, "only_null");
      p = op ? pptr_i(op, i) : NULL;
      free(op);
      pdiag(c, DSR_DIAG_ERROR, p ? p : ptr, false, "not a declared column of %s", cn);
      free(p);
    }
  }
}

void pcheck_choices(struct pctx *c, const json_t *doc)
{
  const json_t *ch = json_object_get(doc, "choices");
  if (!ch)
    return;
  if (!json_is_object(ch)) {
    pdiag(c, DSR_DIAG_ERROR, "/choices", false, "bad type (expected an object)");
    return;
  }
  const char *k;
  const json_t *v;
  json_object_foreach((json_t *)ch, k, v) {
    char *p = pptr("/choices", k);
    if (!p) {
      c->oom = true;
      return;
    }
    int idx;
    if (!pone_of(k, types, &idx)) {
      char names[128];
      pjoin(types, names, sizeof names);
      pdiag(c, DSR_DIAG_ERROR, p, true, "unknown request type (expected one of %s)", names);
    } else if (!json_is_array(v)) {
      pdiag(c, DSR_DIAG_ERROR, p, false, "bad type (expected an array of actions)");
    } else {
      size_t i;
      const json_t *a;
      json_array_foreach(v, i, a) {
        char *ap = pptr_i(p, i);
        if (ap)
          check_action(c, a, ap);
        free(ap);
      }
    }
    free(p);
  }
}

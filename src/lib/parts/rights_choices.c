/**
 * @file rights_choices.c
 * @brief Objection, withdrawal of consent and opt-out on the platform: the
 *        policy's "choices" actions (policy_choices.c) as set-based SQL over
 *        the subject's rows in the part's scope, one transaction. Identifiers
 *        come from the validated policy and are quoted; every value is a
 *        parameter. Idempotent when the policy guards updates with
 *        only_null; inserts never duplicate (NOT EXISTS).
 */
#include "config.h"
#include "dsr/planner.h"
#include "dsr/rights.h"
#include "rights_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void q_free(struct q *q)
{
  dsr_buf_free(&q->sql);
  for (int i = 0; i < q->n; i++)
    free(q->vals[i]);
  memset(q, 0, sizeof *q);
}

void q_puts(struct q *q, const char *s)
{
  if (!dsr_buf_puts(&q->sql, s))
    q->oom = true;
}

void q_ident(struct q *q, const char *s)
{
  if (!dsr_sql_ident(&q->sql, s))
    q->oom = true;
}

/* Appends "$n" for @p v (NULL: SQL NULL), cast to @p type when it is a plain type name. */
void q_param(struct q *q, const char *v, const char *type)
{
  if (q->n >= (int)DSR_ARRAY_LEN(q->vals)) {
    q->oom = true;
    return;
  }
  q->vals[q->n] = v ? strdup(v) : NULL;
  if (v && !q->vals[q->n])
    q->oom = true;
  q->n++;
  char ph[32];
  snprintf(ph, sizeof ph, "$%d", q->n);
  q_puts(q, ph);
  if (type && *type && strspn(type, "abcdefghijklmnopqrstuvwxyz0123456789 _[]") == strlen(type)) {
    q_puts(q, "::");
    q_puts(q, type);
  }
}

static const char *subject_value(const struct scope *sc, enum dsr_id_kind k)
{
  return k == DSR_ID_EMAIL ? sc->subj->email
         : k == DSR_ID_PHONE ? sc->subj->phone
                             : sc->subj->account_id;
}

/* "(x.a = $1 OR lower(x.b) = $2)"; false when the subject has none of them. */
bool q_identity(struct q *q, const struct dsr_pcollection *c, const struct scope *sc)
{
  bool any = false;
  for (size_t i = 0; i < c->nidentities; i++) {
    const struct dsr_pidentity *id = &c->identities[i];
    bool written_any = false; /* a phone column of format "any": compared by its digits */
    char *v = dsr_identity_match_value(id, subject_value(sc, id->kind), sc->phone_region, &written_any);
    if (!v)
      continue;
    bool lower = id->norm == DSR_NORM_LOWER && id->format == DSR_PHONE_FMT_NONE;
    bool array = dsr_type_is_array(dsr_pcollection_column_type(c, id->column));
    q_puts(q, any ? " OR " : "(");
    if (id->jsonpath) { /* the subject is one of the document's values at the path */
      q_puts(q, "EXISTS (SELECT 1 FROM jsonb_path_query(x.");
      q_ident(q, id->column);
      q_puts(q, "::jsonb, ");
      q_param(q, id->jsonpath, "jsonpath");
      q_puts(q, ") e WHERE jsonb_typeof(e) = 'string' AND ");
    } else if (array) { /* the subject is one of the array's elements */
      q_puts(q, "EXISTS (SELECT 1 FROM unnest(x.");
      q_ident(q, id->column);
      q_puts(q, ") e WHERE ");
    }
    const char *col = id->jsonpath ? "(e #>> '{}')" : array ? "e" : NULL;
    q_puts(q, written_any ? "regexp_replace(" : lower ? "lower(" : "");
    if (col)
      q_puts(q, col);
    else {
      q_puts(q, "x.");
      q_ident(q, id->column);
    }
    q_puts(q, written_any ? "::text, '[^0-9]', '', 'g') = ANY(" : lower ? "::text) = " : " = ");
    q_param(q, v, written_any ? "text[]" : NULL);
    if (written_any)
      q_puts(q, ")");
    if (array || id->jsonpath)
      q_puts(q, ")");
    free(v);
    any = true;
  }
  if (any)
    q_puts(q, ")");
  return any;
}

void q_tenant(struct q *q, const struct dsr_pcollection *c, const struct scope *sc)
{
  if (!c->tenant_column || c->owner != DSR_OWNER_PROCESSOR) /* a controller's is only lent */
    return;
  q_puts(q, " AND ");
  if (sc->tenant) {
    q_puts(q, "x.");
    q_ident(q, c->tenant_column);
    q_puts(q, "::text = ");
    q_param(q, sc->tenant, NULL);
  } else {
    q_puts(q, "(x.");
    q_ident(q, c->tenant_column);
    q_puts(q, " IS NULL OR NOT (x.");
    q_ident(q, c->tenant_column);
    q_puts(q, "::text = ANY(");
    q_param(q, sc->claimed, "text[]");
    q_puts(q, ")))");
  }
}

/* A value spec as an expression; false when it needs an identity the subject lacks. */
static bool q_value(struct q *q, const char *spec, const char *type, const struct scope *sc)
{
  if (!strcmp(spec, "now")) {
    q_puts(q, "to_timestamp(");
    q_param(q, sc->now, "bigint");
    q_puts(q, ")");
    return true;
  }
  if (!strcmp(spec, "tenant")) {
    q_param(q, sc->tenant, type);
    return true;
  }
  if (!strncmp(spec, "fixed:", 6)) {
    q_param(q, spec + 6, type);
    return true;
  }
  enum dsr_id_kind k = !strcmp(spec, "identity:email")   ? DSR_ID_EMAIL
                       : !strcmp(spec, "identity:phone") ? DSR_ID_PHONE
                                                         : DSR_ID_ACCOUNT;
  enum dsr_id_norm norm = k == DSR_ID_EMAIL ? DSR_NORM_LOWER
                          : k == DSR_ID_PHONE ? DSR_NORM_E164
                                              : DSR_NORM_EXACT;
  char *v = dsr_identity_normalize(norm, subject_value(sc, k));
  if (!v)
    return false;
  q_param(q, v, type);
  free(v);
  return true;
}

static bool build_update(struct q *q, const struct dsr_pcollection *c, const json_t *a,
                         const struct scope *sc)
{
  q_puts(q, "UPDATE ");
  q_ident(q, c->schema);
  q_puts(q, ".");
  q_ident(q, c->table);
  q_puts(q, " x SET ");
  const char *k;
  const json_t *v;
  size_t n = 0;
  json_object_foreach((json_t *)json_object_get(a, "set"), k, v) {
    if (n++)
      q_puts(q, ", ");
    q_ident(q, k);
    q_puts(q, " = ");
    if (!q_value(q, json_string_value(v), dsr_pcollection_column_type(c, k), sc))
      q_puts(q, "NULL");
  }
  q_puts(q, " WHERE ");
  if (!q_identity(q, c, sc))
    return false;
  q_tenant(q, c, sc);
  json_object_foreach((json_t *)json_object_get(a, "where"), k, v) {
    json_t *arr = json_deep_copy(v);
    char *lit = NULL;
    struct dsr_buf b = {0};
    bool ok = dsr_buf_puts(&b, "{");
    size_t i;
    json_t *e;
    json_array_foreach(arr, i, e) {
      ok = ok && dsr_buf_puts(&b, i ? ",\"" : "\"");
      for (const char *s = json_string_value(e); ok && s && *s; s++)
        ok = (*s == '"' || *s == '\\') ? dsr_buf_printf(&b, "\\%c", *s) : dsr_buf_append(&b, s, 1);
      ok = ok && dsr_buf_puts(&b, "\"");
    }
    ok = ok && dsr_buf_puts(&b, "}");
    lit = ok ? dsr_buf_steal(&b) : NULL;
    dsr_buf_free(&b);
    json_decref(arr);
    if (!lit) {
      q->oom = true;
      return false;
    }
    q_puts(q, " AND x.");
    q_ident(q, k);
    q_puts(q, "::text = ANY(");
    q_param(q, lit, "text[]");
    q_puts(q, ")");
    free(lit);
  }
  size_t i;
  json_array_foreach(json_object_get(a, "only_null"), i, v) {
    q_puts(q, " AND x.");
    q_ident(q, json_string_value(v));
    q_puts(q, " IS NULL");
  }
  return true;
}

static bool build_insert(struct q *q, const struct dsr_pcollection *c, const json_t *a,
                         const struct scope *sc)
{
  const json_t *vals = json_object_get(a, "values");
  const char *k;
  const json_t *v;
  q_puts(q, "INSERT INTO ");
  q_ident(q, c->schema);
  q_puts(q, ".");
  q_ident(q, c->table);
  q_puts(q, " (");
  size_t n = 0;
  json_object_foreach((json_t *)vals, k, v) {
    if (n++)
      q_puts(q, ", ");
    q_ident(q, k);
  }
  q_puts(q, ") SELECT ");
  n = 0;
  json_object_foreach((json_t *)vals, k, v) {
    if (n++)
      q_puts(q, ", ");
    if (!q_value(q, json_string_value(v), dsr_pcollection_column_type(c, k), sc))
      return false; /* the subject lacks that identity: nothing to record */
  }
  q_puts(q, " WHERE NOT EXISTS (SELECT 1 FROM ");
  q_ident(q, c->schema);
  q_puts(q, ".");
  q_ident(q, c->table);
  q_puts(q, " x WHERE true");
  json_object_foreach((json_t *)vals, k, v) {
    if (!strcmp(json_string_value(v), "now"))
      continue;
    q_puts(q, " AND x.");
    q_ident(q, k);
    q_puts(q, " IS NOT DISTINCT FROM ");
    (void)q_value(q, json_string_value(v), dsr_pcollection_column_type(c, k), sc);
  }
  q_puts(q, ")");
  return true;
}

bool dsr_choices_apply(const struct dsr_policy *p, PGconn *conn, const char *type,
                       const struct dsr_subject *subj, const char *tenant, const char *claimed,
                       json_t **changes, char *err, size_t errlen)
{
  const json_t *acts = json_object_get(dsr_policy_section(p, "choices"), type);
  char now[24];
  snprintf(now, sizeof now, "%lld", (long long)dsr_now());
  struct scope sc = {.subj = subj, .tenant = tenant, .claimed = claimed, .now = now,
                     .phone_region = dsr_policy_phone_region(p)};
  *changes = json_array();
  PGresult *r = PQexec(conn, "BEGIN");
  bool ok = *changes && PQresultStatus(r) == PGRES_COMMAND_OK;
  PQclear(r);
  if (!ok) {
    snprintf(err, errlen, "the platform store is not reachable");
    goto cleanup;
  }
  size_t i;
  const json_t *a;
  json_array_foreach(acts, i, a) {
    const struct dsr_pcollection *c =
        dsr_policy_collection(p, json_string_value(json_object_get(a, "collection")));
    bool update = !strcmp(json_string_value(json_object_get(a, "action")), "update");
    if (!c || (c->owner == DSR_OWNER_CONTROLLER && tenant))
      continue; /* a customer's part never touches the controller's data */
    struct q q = {0};
    bool built = update ? build_update(&q, c, a, &sc) : build_insert(&q, c, a, &sc);
    long long rows = 0;
    if (q.oom) {
      snprintf(err, errlen, "out of memory");
      ok = false;
    } else if (built) {
      r = PQexecParams(conn, q.sql.data, q.n, NULL, (const char *const *)q.vals, NULL, NULL, 0);
      ok = PQresultStatus(r) == PGRES_COMMAND_OK;
      if (!ok)
        snprintf(err, errlen, "%s on collection %s failed", update ? "update" : "insert",
                 c->name);
      else
        rows = atoll(PQcmdTuples(r));
      PQclear(r);
    }
    q_free(&q);
    if (!ok)
      break;
    json_array_append_new(*changes, json_pack("{s:s, s:s, s:I}", "collection", c->name, "action",
                                              update ? "update" : "insert", "rows",
                                              (json_int_t)rows));
  }
  r = PQexec(conn, ok ? "COMMIT" : "ROLLBACK");
  ok = ok && PQresultStatus(r) == PGRES_COMMAND_OK;
  PQclear(r);
  if (!ok && !err[0])
    snprintf(err, errlen, "the platform store refused the change");
cleanup:
  if (!ok) {
    json_decref(*changes);
    *changes = NULL;
  }
  return ok;
}

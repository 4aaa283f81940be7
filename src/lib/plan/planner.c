/**
 * @file planner.c
 * @brief Building plans: which collections the subject reaches, one COUNT
 *        query per collection (grouped by tenant) inside a read-only
 *        transaction that is rolled back, and one step per collection and
 *        owner with the statement that part will run.
 */
#include "config.h"
#include "planner_int.h"
#include "dsr/db.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct {
  enum dsr_stmt st;
  const char *sql;
} fixed_sql[] = {
#define DSR_X_POLICY(e, sql) {e, sql},
    DSR_STMTS_POLICY(DSR_X_POLICY)
#undef DSR_X_POLICY
};

/* The local buffers a keyed plan's session asks for (DSR_STMT_POLICY_TEMP_BUFFERS). */
#define KEYED_TEMP_BUFFERS "512MB"

/** SQL text of one of the module's fixed statements (for store connections). */
static const char *stmt_sql(enum dsr_stmt st)
{
  for (size_t i = 0; i < DSR_ARRAY_LEN(fixed_sql); i++)
    if (fixed_sql[i].st == st)
      return fixed_sql[i].sql;
  return "SELECT 1";
}

const char *dsr_step_verb_name(enum dsr_step_verb v)
{
  static const char *const names[] = {"select", "delete", "mask", "redact", "retain"};
  return (unsigned)v <= DSR_STEP_RETAIN ? names[v] : "?";
}

static void ctx_free(struct plan_ctx *pc)
{
  for (int k = 0; k < DSR_ID_KIND_COUNT; k++) {
    for (int n = 0; n < 4; n++)
      free(pc->ids[k][n]);
    free(pc->mention_re[k]);
  }
  free(pc->reached);
  free(pc->krows);
  free(pc->or_hash);
  dsr_phone_forms_free(&pc->phone);
}

/* One digit sequence with separators allowed between its digits, into @p b. */
static bool seq_regex(struct dsr_buf *b, const char *d)
{
  bool ok = true;
  for (size_t i = 0; ok && d[i]; i++)
    ok = dsr_buf_append(b, &d[i], 1) && (!d[i + 1] || dsr_buf_puts(b, "[-. ()]*"));
  return ok;
}

/* A PostgreSQL ARE that finds the subject's number in any of its written
 * forms (the digit sequences of @p f, else the digits of @p e164) with
 * separators, and an opening bracket that the number closes ("(+34) 699 ...",
 * "(030) 123456"), bounded so that a longer number does not match. Caller frees. */
static char *phone_regex(const struct dsr_phone_forms *f, const char *e164)
{
  struct dsr_buf b = {0};
  bool ok = dsr_buf_puts(&b, "(?<![0-9])(?:\\((?=\\+?[0-9]+\\)))?(?:\\+?(?:");
  if (f && f->ndigits) {
    bool first = true;
    for (size_t i = 0; ok && i < f->ndigits; i++)
      if (!f->digits[i].national) {
        ok = (first || dsr_buf_puts(&b, "|")) && seq_regex(&b, f->digits[i].digits);
        first = false;
      }
    /* national forms: not after a country code ("+44 699 507 918") */
    first = true;
    for (size_t i = 0; ok && i < f->ndigits; i++)
      if (f->digits[i].national) {
        ok = dsr_buf_puts(&b, first ? ")|(?<![0-9+][-. ()]*)(?:" : "|") &&
             seq_regex(&b, f->digits[i].digits);
        first = false;
      }
  } else {
    ok = ok && seq_regex(&b, e164[0] == '+' ? e164 + 1 : e164);
  }
  ok = ok && dsr_buf_puts(&b, "))(?![0-9])");
  if (!ok) {
    dsr_buf_free(&b);
    return NULL;
  }
  return dsr_buf_steal(&b);
}

static char *email_regex(const char *email)
{
  struct dsr_buf b = {0};
  bool ok = dsr_buf_puts(&b, "(?<![[:alnum:]._%+-])");
  for (const char *c = email; ok && *c; c++) {
    bool alnum = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9');
    ok = alnum ? dsr_buf_append(&b, c, 1) : ((unsigned char)*c >= 0x80 ? dsr_buf_append(&b, c, 1) : dsr_buf_printf(&b, "\\%c", *c));
  }
  ok = ok && dsr_buf_puts(&b, "(?![[:alnum:]_-])");
  if (!ok) {
    dsr_buf_free(&b);
    return NULL;
  }
  return dsr_buf_steal(&b);
}

static bool add_note(struct dsr_plan *plan, const char *fmt, ...) DSR_PRINTF(2, 3);
static bool add_note(struct dsr_plan *plan, const char *fmt, ...)
{
  char tmp[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(tmp, sizeof tmp, fmt, ap);
  va_end(ap);
  char **nv = realloc(plan->notes, (plan->nnotes + 1) * sizeof *nv);
  if (!nv)
    return false;
  plan->notes = nv;
  return (plan->notes[plan->nnotes] = strdup(tmp)) != NULL && ++plan->nnotes;
}

static bool ctx_init(struct plan_ctx *pc, const struct dsr_policy *p, const struct dsr_subject *subj,
                     struct dsr_plan *plan)
{
  const char *given[DSR_ID_KIND_COUNT] = {subj->email, subj->phone, subj->account_id};
  pc->p = p;
  pc->ncolls = dsr_policy_collection_count(p);
  pc->reached = calloc(pc->ncolls + 1, sizeof *pc->reached);
  pc->krows = malloc((pc->ncolls + 1) * sizeof *pc->krows);
  for (size_t i = 0; pc->krows && i <= pc->ncolls; i++)
    pc->krows[i] = -1;
  pc->or_hash = calloc(pc->ncolls + 1, sizeof *pc->or_hash);
  if (!pc->reached || !pc->krows || !pc->or_hash)
    return false;
  pc->phone_region = dsr_policy_phone_region(p);
  if (subj->phone) {
    const char *why;
    pc->has_phone = dsr_phone_parse(subj->phone, pc->phone_region, &pc->phone, &why);
    if (pc->has_phone) /* a number given the local way ("explain --phone") is compared as E.164 */
      given[DSR_ID_PHONE] = pc->phone.e164;
  }
  for (int k = 0; k < DSR_ID_KIND_COUNT; k++)
    for (int n = 0; n < 4; n++)
      if (given[k] && !(pc->ids[k][n] = dsr_identity_normalize((enum dsr_id_norm)n, given[k])) &&
          n == DSR_NORM_EXACT)
        return false;
  if (pc->ids[DSR_ID_PHONE][DSR_NORM_E164] &&
      !(pc->mention_re[DSR_ID_PHONE] = phone_regex(pc->has_phone ? &pc->phone : NULL,
                                                   pc->ids[DSR_ID_PHONE][DSR_NORM_E164])))
    return false;
  if (pc->ids[DSR_ID_EMAIL][DSR_NORM_LOWER] && !(pc->mention_re[DSR_ID_EMAIL] = email_regex(pc->ids[DSR_ID_EMAIL][DSR_NORM_LOWER])))
    return false;
  /* The policy's patterns say what an identifier looks like: one that does
   * not recognise the subject's own value would miss mentions. */
  for (size_t i = 0; i < pc->ncolls; i++) {
    const struct dsr_pcollection *c = dsr_policy_topo_at(p, i);
    for (size_t k = 0; k < c->nredact_patterns; k++) {
      const struct dsr_ppattern *pat = c->redact_patterns[k];
      const char *v = pat->kind == DSR_ID_EMAIL ? pc->ids[DSR_ID_EMAIL][DSR_NORM_LOWER]
                                                : pc->ids[DSR_ID_PHONE][DSR_NORM_E164];
      if (!v || !pat->code)
        continue;
      pcre2_match_data *md = pcre2_match_data_create_from_pattern(pat->code, NULL);
      int rc = md ? pcre2_match(pat->code, (PCRE2_SPTR)v, strlen(v), 0, 0, md, NULL) : -1;
      pcre2_match_data_free(md);
      if (rc < 0 && !add_note(plan, "pattern \"%s\" does not recognise the subject's %s: "
                                    "mentions in %s may be written differently",
                              pat->name, dsr_id_kind_name(pat->kind), c->name))
        return false;
    }
  }
  /* reached: own identities, or a cascading reference to a reached parent */
  for (size_t i = 0; i < pc->ncolls; i++) {
    const struct dsr_pcollection *c = dsr_policy_topo_at(p, i);
    for (size_t k = 0; k < c->nidentities; k++) {
      bool any;
      char *v = plan_identity_value(pc, &c->identities[k], &any);
      if (v)
        pc->reached[i] = true;
      free(v);
    }
    for (size_t r = 0; r < c->nreferences; r++)
      if (plan_reaches(pc, &c->references[r]) && pc->reached[c->references[r].parent->topo_index])
        pc->reached[i] = true;
  }
  return true;
}

static struct dsr_plan_part *part_for(struct dsr_plan *plan, const char *tenant)
{
  for (size_t i = 0; i < plan->nparts; i++)
    if ((!tenant && !plan->parts[i].tenant) ||
        (tenant && plan->parts[i].tenant && !strcmp(tenant, plan->parts[i].tenant)))
      return &plan->parts[i];
  struct dsr_plan_part *nv = realloc(plan->parts, (plan->nparts + 1) * sizeof *nv);
  if (!nv)
    return NULL;
  plan->parts = nv;
  struct dsr_plan_part *pt = &plan->parts[plan->nparts];
  memset(pt, 0, sizeof *pt);
  if (tenant && !(pt->tenant = strdup(tenant)))
    return NULL;
  plan->nparts++;
  return pt;
}

static struct dsr_plan_step *add_step(struct dsr_plan_part *pt)
{
  struct dsr_plan_step *nv = realloc(pt->steps, (pt->nsteps + 1) * sizeof *nv);
  if (!nv)
    return NULL;
  pt->steps = nv;
  memset(&pt->steps[pt->nsteps], 0, sizeof *nv);
  return &pt->steps[pt->nsteps++];
}

/* Runs @p s on @p conn with its parameters' values; NULL when out of memory. */
static PGresult *exec_psql(PGconn *conn, const struct psql *s)
{
  const char **vals = s->oom ? NULL : calloc(s->n + 1, sizeof *vals);
  if (!vals)
    return NULL;
  for (size_t i = 0; i < s->n; i++)
    vals[i] = s->params[i].value;
  PGresult *r = PQexecParams(conn, s->sql.data, (int)s->n, NULL, vals, NULL, NULL, 0);
  free(vals);
  return r;
}

/* Runs @p s on @p conn; returns the result or NULL with a message. */
static PGresult *run(PGconn *conn, const struct psql *s, char *err, size_t errlen)
{
  PGresult *r = exec_psql(conn, s);
  if (!r) {
    snprintf(err, errlen, "out of memory");
    return NULL;
  }
  if (PQresultStatus(r) != PGRES_TUPLES_OK) {
    snprintf(err, errlen, "count query failed: %s", PQresultErrorMessage(r));
    PQclear(r);
    return NULL;
  }
  return r;
}

size_t dsr_plan_access_columns(const struct dsr_pcollection *c, const char **out, size_t max)
{
  size_t n = 0;
  if (!c->export_fields) {
    for (size_t i = 0; i < c->ncolumns && n < max; i++)
      out[n++] = c->columns[i].name;
    return n;
  }
  const char *k;
  const json_t *v;
  json_object_foreach((json_t *)c->export_fields, k, v) {
    if (n < max)
      out[n++] = k;
  }
  /* exports also need the file columns and the portable fields */
  for (size_t i = 0; i < c->nfiles + c->nportable; i++) {
    const char *col = i < c->nfiles ? c->files[i].column : c->portable[i - c->nfiles];
    if (json_object_get(c->export_fields, col))
      continue;
    bool dup = false;
    for (size_t j = 0; j < i && !dup; j++)
      dup = !strcmp(col, j < c->nfiles ? c->files[j].column : c->portable[j - c->nfiles]);
    if (!dup && n < max)
      out[n++] = col;
  }
  return n;
}

/* The access SELECT of one part of @p c after its CTEs, in key order. */
static void access_select(struct psql *s, const struct dsr_pcollection *c, const char *tenant)
{
  const char *cols[DSR_PLAN_MAX_COLUMNS];
  size_t n = dsr_plan_access_columns(c, cols, DSR_ARRAY_LEN(cols));
  psql_puts(s, "SELECT ");
  for (size_t i = 0; i < n; i++) {
    psql_puts(s, i ? ", x." : "x.");
    psql_ident(s, cols[i]);
  }
  psql_printf(s, " FROM s%zu x WHERE ", c->topo_index);
  psql_tenant_filter(s, c, tenant);
  psql_puts(s, " ORDER BY ");
  psql_key_cols(s, "x", c);
}

/* Keyed access plans: one statement per reached collection reading its session's table
 * (see dsr_plan.export_colls): no rank, no text conversion, no sort of the whole package. */
static bool access_export_colls(const struct plan_ctx *pc, struct dsr_plan *plan)
{
  bool *need = calloc(pc->ncolls + 1, sizeof *need);
  plan->export_colls = calloc(pc->ncolls + 1, sizeof *plan->export_colls);
  bool ok = need && plan->export_colls;
  for (size_t i = 0; ok && i < pc->ncolls; i++) {
    if (!pc->reached[i])
      continue;
    const struct dsr_pcollection *c = dsr_policy_topo_at(pc->p, i);
    const char *cols[DSR_PLAN_MAX_COLUMNS];
    size_t n = dsr_plan_access_columns(c, cols, DSR_ARRAY_LEN(cols));
    struct psql s = {0};
    memset(need, 0, (pc->ncolls + 1) * sizeof *need);
    need[i] = true; /* a keyed CTE reads its table only */
    psql_ctes(pc, &s, need, NULL);
    psql_printf(&s, "SELECT %zu::int, NULL::bigint", i);
    for (size_t k = 0; k < n; k++) {
      psql_puts(&s, ", x.");
      psql_ident(&s, cols[k]);
    }
    psql_printf(&s, " FROM s%zu x", i);
    /* the parts' order, as export_sql ranks them: the controller's rows, then each tenant's
     * in the order of the "tenants" parameter (an integer to sort by: comparing the tenants'
     * text row by row costs more than the rest of the sort) */
    bool proc = c->owner == DSR_OWNER_PROCESSOR;
    if (proc)
      psql_printf(&s, " LEFT JOIN unnest($%d::text[]) WITH ORDINALITY AS r(t, n) ON r.t = "
                      "x.\"__dsr_tenant\"", psql_param(&s, "tenants", NULL, false));
    psql_puts(&s, " WHERE ");
    psql_tenants_filter(&s, c);
    psql_puts(&s, proc ? " ORDER BY r.n NULLS FIRST, " : " ORDER BY ");
    psql_key_cols(&s, "x", c);
    struct dsr_plan_export *e = &plan->export_colls[plan->nexport_colls];
    e->coll = i;
    ok = psql_take(&s, &e->sql, &e->params, &e->nparams);
    plan->nexport_colls += ok;
    psql_free(&s);
  }
  free(need);
  return ok;
}

/* Access plans: every reached collection's rows in one statement, so that
 * the chain of CTEs is evaluated once (see dsr_plan.export_sql). */
static bool access_export_sql(const struct plan_ctx *pc, struct dsr_plan *plan)
{
  struct psql s = {0};
  bool *need = calloc(pc->ncolls + 1, sizeof *need);
  bool ok = false;
  if (!need)
    goto cleanup;
  size_t width = 0;
  for (size_t i = 0; i < pc->ncolls; i++) {
    const struct dsr_pcollection *c = dsr_policy_topo_at(pc->p, i);
    const char *cols[DSR_PLAN_MAX_COLUMNS];
    size_t n = dsr_plan_access_columns(c, cols, DSR_ARRAY_LEN(cols));
    if (pc->reached[i] && n > width)
      width = n;
    psql_need(pc, c, need);
  }
  psql_ctes(pc, &s, need, NULL);
  bool first = true;
  for (size_t i = 0; i < pc->ncolls; i++) {
    if (!pc->reached[i])
      continue;
    const struct dsr_pcollection *c = dsr_policy_topo_at(pc->p, i);
    const char *cols[DSR_PLAN_MAX_COLUMNS];
    size_t n = dsr_plan_access_columns(c, cols, DSR_ARRAY_LEN(cols));
    psql_printf(&s, "%sSELECT %zu::int, row_number() OVER (ORDER BY ", first ? "" : " UNION ALL ", i);
    if (c->owner == DSR_OWNER_PROCESSOR)
      psql_puts(&s, "x.\"__dsr_tenant\" IS NOT NULL, octet_length(x.\"__dsr_tenant\"), "
                    "x.\"__dsr_tenant\" COLLATE \"C\", ");
    psql_key_cols(&s, "x", c);
    psql_puts(&s, ")");
    for (size_t k = 0; k < width; k++) {
      if (k < n) {
        /* the type's output text, as libpq gives it (a ::text cast differs, e.g. for inet) */
        psql_puts(&s, ", CASE WHEN x.");
        psql_ident(&s, cols[k]);
        psql_puts(&s, " IS NULL THEN NULL ELSE format('%s', x.");
        psql_ident(&s, cols[k]);
        psql_puts(&s, ") END");
      } else {
        psql_puts(&s, ", NULL::text");
      }
    }
    psql_printf(&s, " FROM s%zu x WHERE ", i);
    psql_tenants_filter(&s, c);
    first = false;
  }
  psql_puts(&s, first ? "SELECT NULL::int, NULL::bigint WHERE FALSE" : " ORDER BY 1, 2");
  ok = psql_take(&s, &plan->export_sql, &plan->export_params, &plan->nexport_params);
  ok = ok && (!pc->keyed || access_export_colls(pc, plan));
cleanup:
  psql_free(&s);
  free(need);
  return ok;
}

/* The statement of one step, for one part. */
static bool step_sql(const struct plan_ctx *pc, enum dsr_plan_kind kind, enum dsr_step_verb verb,
                     bool mentions_only, const struct dsr_pcollection *c, const char *tenant,
                     struct dsr_plan_step *st)
{
  struct psql s = {0};
  bool *need = calloc(pc->ncolls + 1, sizeof *need);
  bool *need_m = calloc(pc->ncolls + 1, sizeof *need_m);
  bool ok = false;
  if (!need || !need_m)
    goto cleanup;
  bool reached = pc->reached[c->topo_index];
  bool mentions = verb == DSR_STEP_REDACT && plan_has_mentions(pc, c);
  if (reached)
    psql_need(pc, c, need);
  if (mentions)
    need_m[c->topo_index] = true;
  psql_ctes(pc, &s, need, need_m);
  if (kind == DSR_PLAN_ACCESS) {
    access_select(&s, c, tenant);
  } else {
    psql_puts(&s, verb == DSR_STEP_DELETE ? "DELETE FROM " : "UPDATE ");
    psql_table(&s, c);
    psql_puts(&s, " t ");
    if (verb == DSR_STEP_MASK) {
      psql_puts(&s, "SET ");
      psql_mask_set(pc, &s, c);
    } else if (verb == DSR_STEP_REDACT) {
      psql_puts(&s, "SET ");
      psql_redact_set(pc, &s, c);
    }
    psql_puts(&s, " WHERE ");
    psql_key_row(&s, "t", c);
    psql_puts(&s, " IN (");
    bool any = false;
    if (reached && !mentions_only) {
      psql_puts(&s, "SELECT ");
      psql_key_cols(&s, "x", c);
      psql_printf(&s, " FROM s%zu x WHERE ", c->topo_index);
      psql_tenant_filter(&s, c, tenant);
      any = true;
    }
    if (mentions) {
      psql_puts(&s, any ? " UNION ALL SELECT " : "SELECT ");
      psql_key_cols(&s, "x", c);
      psql_printf(&s, " FROM m%zu x WHERE ", c->topo_index);
      psql_tenant_filter(&s, c, tenant);
    }
    psql_puts(&s, ")");
    if (verb == DSR_STEP_DELETE)
      psql_not_referenced(pc->p, &s, c);
  }
  if (!psql_take(&s, &st->sql, &st->params, &st->nparams))
    goto cleanup;
  ok = kind != DSR_PLAN_ERASURE || psql_keys_step(pc, verb, mentions_only, c, tenant, st);
cleanup:
  psql_free(&s);
  free(need);
  free(need_m);
  return ok;
}

static enum dsr_step_verb verb_of(enum dsr_plan_kind kind, const struct dsr_pcollection *c)
{
  if (kind == DSR_PLAN_ACCESS)
    return DSR_STEP_SELECT;
  switch (c->action) {
  case DSR_ACT_DELETE: return DSR_STEP_DELETE;
  case DSR_ACT_MASK: return DSR_STEP_MASK;
  case DSR_ACT_REDACT: return DSR_STEP_REDACT;
  case DSR_ACT_RETAIN: return c->nmasks > 0 ? DSR_STEP_MASK : DSR_STEP_RETAIN;
  }
  return DSR_STEP_RETAIN;
}

/* Counts of one collection already read by access_counts(): rows lo..hi-1 of
 * r, whose first column is the collection's topo index. */
struct pre_counts {
  PGresult *r;
  int lo, hi;
};

/* Counts the subject's rows of @p c per tenant (or takes them from @p pre) and
 * adds the steps. */
static bool plan_collection(const struct plan_ctx *pc, struct dsr_plan *plan, PGconn *conn,
                            const struct dsr_pcollection *c, const struct pre_counts *pre,
                            char *err, size_t errlen)
{
  struct psql s = {0}, sm = {0};
  PGresult *r = NULL, *rm = NULL;
  bool *need = calloc(pc->ncolls + 1, sizeof *need);
  bool *need_m = calloc(pc->ncolls + 1, sizeof *need_m);
  bool ok = false;
  enum dsr_step_verb verb = verb_of(plan->kind, c);
  bool mentions = plan->kind == DSR_PLAN_ERASURE && plan_has_mentions(pc, c);
  bool reached = pc->reached[c->topo_index];
  if (!need || !need_m) {
    snprintf(err, errlen, "out of memory");
    goto cleanup;
  }
  if (reached && !pre) {
    psql_need(pc, c, need);
    psql_ctes(pc, &s, need, NULL);
    bool kept = verb == DSR_STEP_DELETE && psql_can_keep(pc, c);
    psql_puts(&s, "SELECT x.\"__dsr_tenant\", count(*), ");
    psql_files_expr(&s, c);
    psql_puts(&s, kept ? ", count(kk.\"__dsr_k0\")" : ", 0");
    psql_printf(&s, " FROM s%zu x", c->topo_index);
    if (kept)
      (void)psql_kept_join(pc, &s, c);
    psql_puts(&s, " GROUP BY 1 ORDER BY 1");
    if (s.oom || !(r = run(conn, &s, err, errlen)))
      goto oom_or_err;
  }
  if (mentions) {
    /* need_m: the s CTEs that m<i> excludes; only c's own m CTE */
    if (reached)
      psql_need(pc, c, need_m);
    bool *only_m = calloc(pc->ncolls + 1, sizeof *only_m);
    if (!only_m) {
      snprintf(err, errlen, "out of memory");
      goto cleanup;
    }
    only_m[c->topo_index] = true;
    psql_ctes(pc, &sm, need_m, only_m);
    free(only_m);
    psql_printf(&sm, "SELECT x.\"__dsr_tenant\", count(*) FROM m%zu x GROUP BY 1 ORDER BY 1",
                c->topo_index);
    if (sm.oom || !(rm = run(conn, &sm, err, errlen)))
      goto oom_or_err;
  }
  /* one step per tenant group; mention-only tenants too */
  int nr = r ? PQntuples(r) : 0, nm = rm ? PQntuples(rm) : 0;
  PGresult *rc = r; /* counts: rows base.. of rc, columns from co */
  int base = 0, co = 0;
  if (pre) {
    rc = pre->r;
    base = pre->lo;
    co = 1;
    nr = pre->hi - pre->lo;
  }
  for (int pass = 0; pass < 2; pass++) {
    int rows = pass == 0 ? nr : nm;
    for (int i = 0; i < rows; i++) {
      PGresult *res = pass == 0 ? rc : rm;
      int ri = pass == 0 ? base + i : i, rco = pass == 0 ? co : 0;
      const char *tenant = PQgetisnull(res, ri, rco) ? NULL : PQgetvalue(res, ri, rco);
      long long cnt = atoll(PQgetvalue(res, ri, rco + 1));
      long long mcnt = 0;
      if (pass == 0) {
        for (int j = 0; j < nm; j++)
          if (PQgetisnull(rm, j, 0) == (tenant == NULL) &&
              (!tenant || !strcmp(tenant, PQgetvalue(rm, j, 0))))
            mcnt = atoll(PQgetvalue(rm, j, 1));
      } else {
        bool done = false; /* tenants with reached rows were handled in pass 0 */
        for (int j = base; j < base + nr; j++)
          if (PQgetisnull(rc, j, co) == (tenant == NULL) &&
              (!tenant || !strcmp(tenant, PQgetvalue(rc, j, co))))
            done = true;
        if (done)
          continue;
        mcnt = cnt;
        cnt = 0;
      }
      struct dsr_plan_part *pt = part_for(plan, tenant);
      if (!pt)
        goto oom;
      if (cnt > 0) {
        struct dsr_plan_step *st = add_step(pt);
        if (!st)
          goto oom;
        st->coll = c;
        st->verb = verb;
        st->rows = cnt + (verb == DSR_STEP_REDACT ? mcnt : 0);
        st->files = atoll(PQgetvalue(rc, ri, co + 2));
        st->kept = atoll(PQgetvalue(rc, ri, co + 3));
        st->mentions = verb == DSR_STEP_REDACT ? mcnt : 0;
        if (verb == DSR_STEP_RETAIN || c->action == DSR_ACT_RETAIN) /* kept, maybe masked */
          st->reason = strdup(c->action_basis);
        else if (st->kept > 0)
          st->reason = strdup(c->action == DSR_ACT_DELETE && c->nmasks > 0
                                  ? "still referenced by rows this plan keeps; kept with the "
                                    "erasure's fields masked"
                                  : "still referenced by rows this plan keeps");
        if ((verb == DSR_STEP_RETAIN || c->action == DSR_ACT_RETAIN || st->kept > 0) &&
            !st->reason)
          goto oom;
        if (verb != DSR_STEP_RETAIN && !step_sql(pc, plan->kind, verb, false, c, tenant, st))
          goto oom;
        if (verb == DSR_STEP_REDACT)
          mcnt = 0;
      }
      if (mcnt > 0) {
        struct dsr_plan_step *st = add_step(pt);
        if (!st)
          goto oom;
        st->coll = c;
        st->verb = DSR_STEP_REDACT;
        st->rows = mcnt;
        st->mentions = mcnt;
        if (!step_sql(pc, plan->kind, DSR_STEP_REDACT, true, c, tenant, st))
          goto oom;
      }
    }
  }
  ok = true;
  goto cleanup;
oom:
  snprintf(err, errlen, "out of memory");
  goto cleanup;
oom_or_err:
  if (s.oom || sm.oom)
    snprintf(err, errlen, "out of memory");
cleanup:
  PQclear(r);
  PQclear(rm);
  psql_free(&s);
  psql_free(&sm);
  free(need);
  free(need_m);
  return ok;
}

/* Access plans: the counts of every reached collection in one statement, so
 * that the chain of CTEs is evaluated once: (topo index, tenant, rows, files,
 * 0), ordered by collection, then tenant as plan_collection() orders them. */
static PGresult *access_counts(const struct plan_ctx *pc, PGconn *conn, char *err, size_t errlen)
{
  struct psql s = {0};
  PGresult *r = NULL;
  bool *need = calloc(pc->ncolls + 1, sizeof *need);
  if (!need) {
    snprintf(err, errlen, "out of memory");
    return NULL;
  }
  for (size_t i = 0; i < pc->ncolls; i++)
    psql_need(pc, dsr_policy_topo_at(pc->p, i), need);
  psql_ctes(pc, &s, need, NULL);
  bool first = true;
  for (size_t i = 0; i < pc->ncolls; i++) {
    if (!pc->reached[i])
      continue;
    psql_printf(&s, "%sSELECT %zu::int, x.\"__dsr_tenant\", count(*), ", first ? "" : " UNION ALL ",
                i);
    psql_files_expr(&s, dsr_policy_topo_at(pc->p, i));
    psql_printf(&s, ", 0 FROM s%zu x GROUP BY 2", i);
    first = false;
  }
  psql_puts(&s, first ? "SELECT NULL::int WHERE FALSE" : " ORDER BY 1, 2");
  if (s.oom)
    snprintf(err, errlen, "out of memory");
  else
    r = run(conn, &s, err, errlen);
  psql_free(&s);
  free(need);
  return r;
}

static int part_cmp(const void *a, const void *b)
{
  const struct dsr_plan_part *x = a, *y = b;
  if (!x->tenant || !y->tenant)
    return x->tenant ? 1 : (y->tenant ? -1 : 0);
  size_t lx = strlen(x->tenant), ly = strlen(y->tenant);
  if (lx != ly) /* numeric keys sort by value */
    return lx < ly ? -1 : 1;
  return strcmp(x->tenant, y->tenant);
}

/* Runs @p s (no result rows) on @p conn, the rows it wrote into @p rows when not NULL; false
 * with a message on failure. */
static bool run_command(PGconn *conn, const struct psql *s, long long *rows, char *err,
                        size_t errlen)
{
  PGresult *r = exec_psql(conn, s);
  if (!r) {
    snprintf(err, errlen, "out of memory");
    return false;
  }
  bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
  if (ok && rows)
    *rows = atoll(PQcmdTuples(r));
  if (!ok)
    snprintf(err, errlen, "cannot store the subject's rows: %s", PQresultErrorMessage(r));
  PQclear(r);
  return ok;
}

/* Runs fixed statement @p st with one parameter; its result, or NULL on failure. */
static PGresult *exec_one(PGconn *conn, enum dsr_stmt st, const char *value, ExecStatusType want)
{
  const char *v[] = {value};
  PGresult *r = PQexecParams(conn, stmt_sql(st), value ? 1 : 0, NULL, v, NULL, NULL, 0);
  if (PQresultStatus(r) == want)
    return r;
  PQclear(r);
  return NULL;
}

/* Runs fixed statement @p st (with @p value, if any): whether it gave @p want. */
static bool exec_ok(PGconn *conn, enum dsr_stmt st, const char *value, ExecStatusType want)
{
  PGresult *r = exec_one(conn, st, value, want);
  bool ok = r != NULL;
  PQclear(r);
  return ok;
}

/*
 * Whether the keyed table of @p c is built with its conditions ORed over its parents' tables
 * hashed (psql_or_hash_kb(), from the store's estimate of the table's rows), into
 * pc->or_hash; if so, sets the work_mem that needs for the transaction, first keeping the
 * store's own in @p saved. False when the store fails.
 */
static bool or_hash_begin(const struct plan_ctx *pc, PGconn *conn, const struct dsr_pcollection *c,
                          char *saved, size_t savedlen)
{
  pc->or_hash[c->topo_index] = false;
  if (!psql_or_hash_candidate(pc, c))
    return true;
  struct psql t = {0};
  psql_table(&t, c);
  PGresult *r = t.oom ? NULL
                      : exec_one(conn, DSR_STMT_POLICY_TABLE_ROWS, t.sql.data, PGRES_TUPLES_OK);
  psql_free(&t);
  bool ok = r != NULL;
  double rows = ok && PQntuples(r) == 1 && !PQgetisnull(r, 0, 0) ? atof(PQgetvalue(r, 0, 0)) : -1;
  PQclear(r);
  long long kb = ok ? psql_or_hash_kb(pc, c, rows) : 0;
  if (kb > 0 && !saved[0]) {
    r = exec_one(conn, DSR_STMT_POLICY_WORK_MEM_SHOW, NULL, PGRES_TUPLES_OK);
    ok = r && PQntuples(r) == 1;
    if (ok)
      snprintf(saved, savedlen, "%s", PQgetvalue(r, 0, 0));
    PQclear(r);
  }
  if (ok && kb > 0) {
    char v[32];
    snprintf(v, sizeof v, "%lldkB", kb);
    ok = exec_ok(conn, DSR_STMT_POLICY_WORK_MEM_SET, v, PGRES_TUPLES_OK);
  }
  pc->or_hash[c->topo_index] = ok && kb > 0;
  return ok;
}

/* After or_hash_begin(): the store's own work_mem back, for the statements that follow. */
static bool or_hash_end(const struct plan_ctx *pc, PGconn *conn, const struct dsr_pcollection *c,
                        const char *saved)
{
  return !pc->or_hash[c->topo_index] ||
         exec_ok(conn, DSR_STMT_POLICY_WORK_MEM_SET, saved, PGRES_TUPLES_OK);
}

/* Keyed plans: the subject's rows of every reached collection into the session's tables,
 * parents first (each reads its parents' tables), then their statistics for the planner. */
static bool keys_tables(const struct plan_ctx *pc, PGconn *conn, char *err, size_t errlen)
{
  struct psql drop = {0};
  bool ok = true, any = false;
  /* an access plan reads each table whole, once (counts, then the package): neither a key
   * index nor statistics of every column pay for themselves (ANALYZE samples every wide
   * column); an erasure's narrow tables get both, for the steps' page queries */
  bool access = pc->kind == DSR_PLAN_ACCESS;
  psql_puts(&drop, "DROP TABLE IF EXISTS ");
  for (size_t i = 0; i < pc->ncolls; i++)
    if (pc->reached[i]) {
      psql_printf(&drop, "%spg_temp.\"__dsr_s%zu\"", any ? ", " : "", i);
      any = true;
    }
  if (!any)
    goto cleanup;
  ok = exec_ok(conn, DSR_STMT_POLICY_QUIET, NULL, PGRES_COMMAND_OK) &&
       exec_ok(conn, DSR_STMT_POLICY_PAGE_COST, NULL, PGRES_TUPLES_OK) &&
       exec_ok(conn, DSR_STMT_POLICY_KEYED_STATS, NULL, PGRES_COMMAND_OK);
  if (!ok)
    snprintf(err, errlen, "cannot store the subject's rows");
  ok = ok && run_command(conn, &drop, NULL, err, errlen);
  char saved[64] = "";
  for (size_t i = 0; ok && i < pc->ncolls; i++) {
    if (!pc->reached[i])
      continue;
    const struct dsr_pcollection *c = dsr_policy_topo_at(pc->p, i);
    struct psql s = {0}, ix = {0}, st = {0};
    bool store_ok = or_hash_begin(pc, conn, c, saved, sizeof saved);
    psql_keys_table(pc, &s, c);
    psql_keys_index(&ix, c);
    /* before the children's tables, whose joins read it, are built */
    psql_keys_stats(pc, &st, c, !access);
    ok = store_ok && run_command(conn, &s, &pc->krows[i], err, errlen) &&
         (store_ok = or_hash_end(pc, conn, c, saved)) &&
         (access || run_command(conn, &ix, NULL, err, errlen)) &&
         ((!st.sql.len && !st.oom) || run_command(conn, &st, NULL, err, errlen));
    psql_free(&s);
    psql_free(&ix);
    psql_free(&st);
    if (!store_ok)
      snprintf(err, errlen, "cannot store the subject's rows");
  }
cleanup:
  psql_free(&drop);
  return ok;
}

static struct dsr_plan *plan_build(const struct dsr_policy *policy, PGconn *conn,
                                   enum dsr_plan_kind kind, const struct dsr_subject *subj,
                                   bool keyed, char *err, size_t errlen)
{
  struct plan_ctx pc = {0};
  struct dsr_plan *plan = calloc(1, sizeof *plan);
  PGresult *counts = NULL;
  bool in_tx = false, ok = false;
  if (!plan) {
    snprintf(err, errlen, "out of memory");
    goto cleanup;
  }
  plan->kind = kind;
  plan->policy = policy;
  if (!subj->email && !subj->phone && !subj->account_id) {
    snprintf(err, errlen, "no identity given (expected an email, a phone or an account id)");
    goto cleanup;
  }
  pc.kind = kind;
  if (!ctx_init(&pc, policy, subj, plan)) {
    snprintf(err, errlen, "an identity is empty after normalization, or out of memory");
    goto cleanup;
  }
  const struct dsr_pstore *store = NULL;
  for (size_t i = 0; i < pc.ncolls; i++) {
    const struct dsr_pcollection *c = dsr_policy_topo_at(policy, i);
    if (store && c->store != store && pc.reached[i]) {
      snprintf(err, errlen, "collection \"%s\" is in store \"%s\": a plan covers one postgresql store",
               c->name, c->store->name);
      goto cleanup;
    }
    store = pc.reached[i] ? c->store : store;
  }
  /* a large subject's tables outgrow the default 8 MB of local buffers: each page written
   * out and read back through the kernel cost its backend 0.7 of 6.8 s of CPU in the
   * 1,000,000-row export (bench/README.md); the memory is taken only as the tables grow */
  if (keyed) /* a store that refuses it still gets its plan */
    (void)exec_ok(conn, DSR_STMT_POLICY_TEMP_BUFFERS, KEYED_TEMP_BUFFERS, PGRES_TUPLES_OK);
  PGresult *b = PQexec(conn, stmt_sql(keyed ? DSR_STMT_POLICY_BEGIN_KEYED
                                             : DSR_STMT_POLICY_BEGIN_READ_ONLY));
  in_tx = PQresultStatus(b) == PGRES_COMMAND_OK;
  if (!in_tx)
    snprintf(err, errlen, "cannot start a read-only transaction: %s", PQresultErrorMessage(b));
  PQclear(b);
  if (!in_tx)
    goto cleanup;
  pc.keyed = keyed;
  if (keyed && !keys_tables(&pc, conn, err, errlen))
    goto cleanup;
  if (kind == DSR_PLAN_ACCESS && !(counts = access_counts(&pc, conn, err, errlen)))
    goto cleanup;
  if (kind == DSR_PLAN_ACCESS && !access_export_sql(&pc, plan)) {
    snprintf(err, errlen, "out of memory");
    goto cleanup;
  }
  int row = 0;
  for (size_t k = 0; k < pc.ncolls; k++) {
    size_t i = kind == DSR_PLAN_ERASURE ? pc.ncolls - 1 - k : k; /* children first for erasure */
    const struct dsr_pcollection *c = dsr_policy_topo_at(policy, i);
    bool mentions = kind == DSR_PLAN_ERASURE && plan_has_mentions(&pc, c);
    struct pre_counts pre = {.r = counts, .lo = row};
    while (counts && row < PQntuples(counts) && (size_t)atoll(PQgetvalue(counts, row, 0)) == i)
      row++;
    pre.hi = row;
    if ((pc.reached[i] || mentions) &&
        !plan_collection(&pc, plan, conn, c, counts ? &pre : NULL, err, errlen))
      goto cleanup;
  }
  if (plan->nparts > 1)
    qsort(plan->parts, plan->nparts, sizeof *plan->parts, part_cmp);
  unsigned sk = dsr_policy_suppression_kinds(policy);
  if (kind == DSR_PLAN_ERASURE && sk) {
    for (int k = 0; k < DSR_ID_KIND_COUNT; k++)
      if ((sk & (1u << k)) && pc.ids[k][DSR_NORM_EXACT] &&
          !add_note(plan, "suppression: a keyed hash of the subject's %s is kept after erasure "
                          "(never the %s itself)", dsr_id_kind_name((enum dsr_id_kind)k),
                    dsr_id_kind_name((enum dsr_id_kind)k))) {
        snprintf(err, errlen, "out of memory");
        goto cleanup;
      }
  }
  if (keyed) { /* the tables stay for the steps */
    PGresult *c = PQexec(conn, stmt_sql(DSR_STMT_POLICY_COMMIT));
    in_tx = false;
    if (PQresultStatus(c) != PGRES_COMMAND_OK) {
      snprintf(err, errlen, "cannot keep the subject's rows: %s", PQresultErrorMessage(c));
      PQclear(c);
      goto cleanup;
    }
    PQclear(c);
  }
  ok = true;
cleanup:
  PQclear(counts);
  if (in_tx)
    PQclear(PQexec(conn, stmt_sql(DSR_STMT_POLICY_ROLLBACK)));
  ctx_free(&pc);
  if (!ok) {
    dsr_plan_free(plan);
    plan = NULL;
  }
  return plan;
}

struct dsr_plan *dsr_plan_build(const struct dsr_policy *policy, PGconn *conn,
                                enum dsr_plan_kind kind, const struct dsr_subject *subj, char *err,
                                size_t errlen)
{
  return plan_build(policy, conn, kind, subj, false, err, errlen);
}

struct dsr_plan *dsr_plan_build_keyed(const struct dsr_policy *policy, PGconn *conn,
                                      const struct dsr_subject *subj, char *err, size_t errlen)
{
  return plan_build(policy, conn, DSR_PLAN_ERASURE, subj, true, err, errlen);
}

struct dsr_plan *dsr_plan_build_access_keyed(const struct dsr_policy *policy, PGconn *conn,
                                             const struct dsr_subject *subj, char *err,
                                             size_t errlen)
{
  return plan_build(policy, conn, DSR_PLAN_ACCESS, subj, true, err, errlen);
}

void dsr_plan_free(struct dsr_plan *plan)
{
  if (!plan)
    return;
  for (size_t i = 0; i < plan->nparts; i++) {
    struct dsr_plan_part *pt = &plan->parts[i];
    for (size_t k = 0; k < pt->nsteps; k++) {
      struct dsr_plan_step *st = &pt->steps[k];
      psql_params_free(st->params, st->nparams);
      free(st->sql);
      psql_params_free(st->keys_params, st->nkeys_params);
      free(st->keys_sql);
      free(st->reason);
    }
    free(pt->steps);
    free(pt->tenant);
  }
  free(plan->parts);
  psql_params_free(plan->export_params, plan->nexport_params);
  free(plan->export_sql);
  for (size_t i = 0; i < plan->nexport_colls; i++) {
    psql_params_free(plan->export_colls[i].params, plan->export_colls[i].nparams);
    free(plan->export_colls[i].sql);
  }
  free(plan->export_colls);
  for (size_t i = 0; i < plan->nnotes; i++)
    free(plan->notes[i]);
  free(plan->notes);
  free(plan);
}

long long dsr_plan_rows(const struct dsr_plan *plan, const char *collection)
{
  long long n = 0;
  for (size_t i = 0; i < plan->nparts; i++)
    for (size_t k = 0; k < plan->parts[i].nsteps; k++)
      if (!strcmp(plan->parts[i].steps[k].coll->name, collection))
        n += plan->parts[i].steps[k].rows;
  return n;
}

/**
 * @file planner_sql.c
 * @brief SQL generation from the data map. Identifiers come only from the
 *        validated policy and are always quoted; every value (identities,
 *        tenants, fixed masks, patterns, keys) is a $n parameter.
 *
 * For each collection reached by the subject, a CTE s<i> selects its rows
 * with their tenant ("__dsr_tenant", text, NULL for controller data):
 *   s<i> AS (SELECT a0.*, (<tenant>)::text AS "__dsr_tenant" FROM "schema"."table" a0
 *            WHERE a0."pk" IN (SELECT b."pk" FROM "schema"."table" b WHERE b."id_col" = $1
 *                              UNION SELECT b."pk" ... WHERE b."fk" IN (SELECT x."pk" FROM s<parent> x)))
 * one UNION branch per identity column and cascading reference, so that
 * each can use its own index. An erasure selects only the columns read from
 * s<i> (erasure_cols()), and without the table's join to itself: one
 * condition alone, or the UNION of each condition's rows (cte_body()).
 * and, for collections that redact mentions, m<i> selects the other rows whose
 * text mentions the subject's identifiers.
 */
#include "config.h"
#include "planner_int.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Most rows a table read by an ORed condition may have: its keys become an array (or_small()). */
#define OR_PARENT_ROWS_MAX 10000
/* Most rows of a parent's table hashed for an ORed condition (psql_or_hash_kb()), and the
 * work_mem asked per row: PostgreSQL hashes a subquery only when its estimate (the key's
 * width plus 24 bytes a row: 32 for one bigint) fits in hash_mem, twice work_mem by default,
 * so 256 bytes a row: eight times one bigint's estimate, twice a 100-byte key's. */
#define OR_HASH_ROWS_MAX 2000000
#define OR_HASH_BYTES_PER_ROW 128
/* A large parent's table is hashed only when it holds at least one row for every
 * OR_HASH_SHARE of the child's: the child's table is then read whole in either form. */
#define OR_HASH_SHARE 50

char *dsr_identity_normalize(enum dsr_id_norm norm, const char *value)
{
  if (!value)
    return NULL;
  while (isspace((unsigned char)*value))
    value++;
  struct dsr_buf b = {0};
  bool ok = dsr_buf_puts(&b, "");
  size_t n = strlen(value);
  while (n > 0 && isspace((unsigned char)value[n - 1]))
    n--;
  for (size_t i = 0; ok && i < n; i++) {
    char ch = value[i];
    switch (norm) {
    case DSR_NORM_EXACT: ok = dsr_buf_append(&b, &ch, 1); break;
    case DSR_NORM_LOWER:
      ch = (char)tolower((unsigned char)ch);
      ok = dsr_buf_append(&b, &ch, 1);
      break;
    case DSR_NORM_E164:
      if (isdigit((unsigned char)ch) || (ch == '+' && b.len == 0))
        ok = dsr_buf_append(&b, &ch, 1);
      break;
    case DSR_NORM_DIGITS:
      if (isdigit((unsigned char)ch))
        ok = dsr_buf_append(&b, &ch, 1);
      break;
    }
  }
  if (!ok || b.len == 0 || (b.len == 1 && b.data[0] == '+')) {
    dsr_buf_free(&b);
    return NULL;
  }
  return dsr_buf_steal(&b);
}

char *dsr_identity_match_value(const struct dsr_pidentity *id, const char *value,
                               const char *region, bool *any)
{
  *any = false;
  if (!value)
    return NULL;
  if (id->kind != DSR_ID_PHONE || id->format == DSR_PHONE_FMT_NONE)
    return dsr_identity_normalize(id->norm, value);
  struct dsr_phone_forms f;
  const char *why;
  if (!dsr_phone_parse(value, region, &f, &why)) {
    /* not a number libphonenumber reads: compared by its digits, as written */
    if (id->format == DSR_PHONE_FMT_NATIONAL)
      return NULL;
    char *d = dsr_identity_normalize(DSR_NORM_DIGITS, value);
    if (!d || id->format == DSR_PHONE_FMT_DIGITS)
      return d;
    char *out = NULL;
    if (asprintf(&out, id->format == DSR_PHONE_FMT_ANY ? "{%s}" : "+%s", d) < 0)
      out = NULL;
    free(d);
    *any = out && id->format == DSR_PHONE_FMT_ANY;
    return out;
  }
  char *out = NULL;
  if (id->format != DSR_PHONE_FMT_ANY) {
    out = dsr_phone_format(f.e164, NULL, id->format, id->format_region);
  } else {
    /* "any": a text[] literal of the digit sequences (digits only: no quoting needed) */
    struct dsr_buf b = {0};
    bool ok = dsr_buf_puts(&b, "{");
    for (size_t i = 0; ok && i < f.ndigits; i++)
      ok = dsr_buf_printf(&b, "%s%s", i ? "," : "", f.digits[i].digits);
    ok = ok && dsr_buf_puts(&b, "}");
    if (ok) {
      out = dsr_buf_steal(&b);
      *any = true;
    } else {
      dsr_buf_free(&b);
    }
  }
  dsr_phone_forms_free(&f);
  return out;
}

char *plan_identity_value(const struct plan_ctx *pc, const struct dsr_pidentity *id, bool *any)
{
  if (id->kind != DSR_ID_PHONE || id->format == DSR_PHONE_FMT_NONE) {
    *any = false;
    const char *v = pc->ids[id->kind][id->norm]; /* normalized once by ctx_init() */
    return v ? strdup(v) : NULL;
  }
  return dsr_identity_match_value(id, pc->ids[id->kind][DSR_NORM_EXACT], pc->phone_region, any);
}

/*
 * The tenant of alias a<depth> of @p c. A processor collection's own, or one
 * lent by a parent along tenant_via: a processor parent's, or a controller
 * parent's tenant_column (an agent account of the platform that belongs to a
 * customer). A controller collection's own rows are the controller's (NULL).
 */
static void tenant_of(struct psql *s, const struct dsr_pcollection *c, int depth, bool lent)
{
  if ((c->owner != DSR_OWNER_PROCESSOR && !lent) || (!c->tenant_column && !c->tenant_via)) {
    psql_puts(s, "NULL");
    return;
  }
  if (c->tenant_column) {
    psql_printf(s, "a%d.", depth);
    psql_ident(s, c->tenant_column);
    return;
  }
  const struct dsr_preference *r = c->tenant_via;
  psql_puts(s, "(SELECT (");
  tenant_of(s, r->parent, depth + 1, true);
  psql_puts(s, ")::text FROM ");
  psql_table(s, r->parent);
  char child[16], parent[16];
  snprintf(child, sizeof child, "a%d", depth);
  snprintf(parent, sizeof parent, "a%d", depth + 1);
  psql_printf(s, " %s WHERE ", parent);
  psql_ref_eq(s, child, parent, r);
  psql_puts(s, " LIMIT 1)");
}

void psql_tenant_expr(struct psql *s, const struct dsr_pcollection *c, int depth)
{
  tenant_of(s, c, depth, false);
}

/*
 * "the element is the subject's identity", for parameter $n of
 * identity_cond(): @p e is the element as text ("e::text" of an array,
 * "(e #>> '{}')" of a JSON value).
 */
static void elem_cond(struct psql *s, const struct dsr_pidentity *id, bool written_any, int n,
                      const char *e)
{
  if (written_any)
    psql_printf(s, "regexp_replace(%s, '[^0-9]', '', 'g') = ANY($%d::text[])", e, n);
  else if (id->norm == DSR_NORM_LOWER && id->format == DSR_PHONE_FMT_NONE)
    psql_printf(s, "lower(%s) = lower($%d::text)", e, n);
  else
    psql_printf(s, "%s = $%d::text", e, n);
}

/* The parameter holding @p id's jsonpath. */
static int path_param(struct psql *s, const struct dsr_pidentity *id)
{
  char label[160];
  snprintf(label, sizeof label, "path:%s", id->column);
  return psql_param(s, label, id->jsonpath, false);
}

/* Whether the subject has a value to compare identity column @p id with. */
static bool plan_has_value(const struct plan_ctx *pc, const struct dsr_pidentity *id)
{
  bool any = false;
  char *v = plan_identity_value(pc, id, &any);
  free(v);
  return v != NULL;
}

/*
 * Appends "<alias>.col = $n" comparing identity column @p id with the
 * subject's value for it (its normalize, or its declared phone format);
 * false, appending nothing, when the subject has no value for it.
 */
static bool identity_cond(const struct plan_ctx *pc, struct psql *s,
                          const struct dsr_pcollection *c, const struct dsr_pidentity *id,
                          const char *alias)
{
  bool written_any = false;
  char *v = plan_identity_value(pc, id, &written_any);
  if (!v)
    return false;
  const char *type = dsr_pcollection_column_type(c, id->column);
  int n = psql_param(s, written_any ? "phone_digits" : dsr_id_kind_name(id->kind), v, false);
  free(v);
  if (id->jsonpath) {
    /* a json column: the subject is one of the values at the path */
    int pn = path_param(s, id);
    psql_printf(s, "EXISTS (SELECT 1 FROM jsonb_path_query(%s.", alias);
    psql_ident(s, id->column);
    psql_printf(s, "::jsonb, $%d::jsonpath) e WHERE jsonb_typeof(e) = 'string' AND ", pn);
    elem_cond(s, id, written_any, n, "(e #>> '{}')");
    psql_puts(s, ")");
  } else if (dsr_type_is_array(type)) {
    /* an array column: the subject is one of its elements */
    psql_printf(s, "EXISTS (SELECT 1 FROM unnest(%s.", alias);
    psql_ident(s, id->column);
    psql_puts(s, ") e WHERE ");
    elem_cond(s, id, written_any, n, "e::text");
    psql_puts(s, ")");
  } else if (written_any) {
    /* written any way: compared by its digits with every form's digits */
    psql_printf(s, "regexp_replace(%s.", alias);
    psql_ident(s, id->column);
    psql_printf(s, "::text, '[^0-9]', '', 'g') = ANY($%d::text[])", n);
  } else if (id->norm == DSR_NORM_LOWER && id->format == DSR_PHONE_FMT_NONE) {
    psql_printf(s, "lower(%s.", alias);
    psql_ident(s, id->column);
    psql_printf(s, ") = lower($%d::text)", n);
  } else {
    psql_printf(s, "%s.", alias);
    psql_ident(s, id->column);
    psql_printf(s, " = $%d::", n);
    psql_puts(s, type); /* validated type name */
  }
  return true;
}

/* One "SELECT b.pk FROM table b WHERE ..." branch per identity of @p c that the
 * subject has, UNION-ed (each branch can use its own index); returns whether
 * any was emitted. */
static bool identity_branches(const struct plan_ctx *pc, struct psql *s,
                              const struct dsr_pcollection *c, bool any)
{
  for (size_t i = 0; i < c->nidentities; i++) {
    if (!plan_has_value(pc, &c->identities[i]))
      continue;
    psql_puts(s, any ? " UNION SELECT " : "SELECT ");
    any = true;
    psql_key_cols(s, "b", c);
    psql_puts(s, " FROM ");
    psql_table(s, c);
    psql_puts(s, " b WHERE ");
    (void)identity_cond(pc, s, c, &c->identities[i], "b");
  }
  return any;
}

void psql_need(const struct plan_ctx *pc, const struct dsr_pcollection *c, bool *need)
{
  if (!pc->reached[c->topo_index] || need[c->topo_index])
    return;
  need[c->topo_index] = true;
  for (size_t r = 0; r < c->nreferences; r++)
    if (plan_reaches(pc, &c->references[r]))
      psql_need(pc, c->references[r].parent, need);
}

bool plan_has_mentions(const struct plan_ctx *pc, const struct dsr_pcollection *c)
{
  for (size_t i = 0; i < c->nredact_patterns; i++)
    if (pc->mention_re[c->redact_patterns[i]->kind])
      return true;
  for (size_t i = 0; i < c->nothers; i++)
    if (c->others[i].match && plan_has_value(pc, &c->others[i].id))
      return true;
  return false;
}

/* (a0."col" ~* $re OR ...) over redact columns and usable patterns. */
static void mention_cond(const struct plan_ctx *pc, struct psql *s, const struct dsr_pcollection *c)
{
  bool first = true;
  psql_puts(s, "(");
  for (size_t i = 0; i < c->nredact_columns; i++)
    for (size_t k = 0; k < c->nredact_patterns; k++) {
      const char *re = pc->mention_re[c->redact_patterns[k]->kind];
      if (!re)
        continue;
      int rn = psql_param(s, c->redact_patterns[k]->kind == DSR_ID_EMAIL ? "email_regex" : "phone_regex",
                          re, false);
      psql_puts(s, first ? "a0." : " OR a0.");
      psql_ident(s, c->redact_columns[i]);
      psql_printf(s, " ~* $%d::text", rn);
      first = false;
    }
  /* another party's column that holds the subject's identity */
  for (size_t i = 0; i < c->nothers; i++) {
    if (!c->others[i].match || !plan_has_value(pc, &c->others[i].id))
      continue;
    psql_puts(s, first ? "" : " OR ");
    (void)identity_cond(pc, s, c, &c->others[i].id, "a0");
    first = false;
  }
  psql_puts(s, ")");
}

static size_t inbound(const struct dsr_policy *p, struct psql *s, const struct dsr_pcollection *c,
                      const struct dsr_pcollection ***ch, const struct dsr_preference ***refs);

static void add_col(const char **cols, size_t *n, const char *col)
{
  for (size_t i = 0; i < *n; i++)
    if (!strcmp(cols[i], col))
      return;
  cols[(*n)++] = col;
}

/*
 * "a0."k", a0."f", ...": the columns of @p c that an erasure reads from s<i>: its key (the
 * steps, page queries and "deleted first" probes), its file columns (the counts) and the
 * columns its children refer to (their rows, and the kept counts). The masks, redactions,
 * "still referenced" checks and file lists read the table itself by key; so a large
 * subject's rows are not copied whole (8 of 50 s of a 1,000,000-row erasure).
 */
static void erasure_cols(const struct plan_ctx *pc, struct psql *s, const struct dsr_pcollection *c)
{
  const struct dsr_pcollection **ch = NULL;
  const struct dsr_preference **refs = NULL;
  size_t n = inbound(pc->p, s, c, &ch, &refs);
  const char **cols = calloc(c->nkey + c->nfiles + n * DSR_KEY_MAX + 1, sizeof *cols);
  if (!cols) {
    s->oom = true;
    goto cleanup;
  }
  size_t nc = 0;
  for (size_t i = 0; i < c->nkey; i++)
    add_col(cols, &nc, c->key[i]);
  for (size_t i = 0; i < c->nfiles; i++)
    add_col(cols, &nc, c->files[i].column);
  for (size_t i = 0; i < n; i++)
    for (size_t k = 0; k < refs[i]->ncolumns; k++)
      add_col(cols, &nc, refs[i]->parent_columns[k]);
  for (size_t i = 0; i < nc; i++) {
    psql_puts(s, i ? ", a0." : "a0.");
    psql_ident(s, cols[i]);
  }
cleanup:
  free(cols);
  free(ch);
  free(refs);
}

/* Whether reference @p ref carries the subject's rows of its parent (read from s<parent>)
 * into @p c's. */
static bool ref_branch(const struct plan_ctx *pc, const struct dsr_preference *ref)
{
  return plan_reaches(pc, ref) && pc->reached[ref->parent->topo_index];
}

/* The conditions that select the subject's rows of @p c on alias a0: one per identity the
 * subject has a value for, one per reference carrying them; appends condition @p k (when
 * @p s; a reference's as "= ANY (ARRAY(...))" when @p arrays) and returns how many there are. */
static size_t branch_cond(const struct plan_ctx *pc, struct psql *s,
                          const struct dsr_pcollection *c, size_t k, bool arrays)
{
  size_t n = 0;
  for (size_t i = 0; i < c->nidentities; i++)
    if (plan_has_value(pc, &c->identities[i]) && n++ == k && s)
      (void)identity_cond(pc, s, c, &c->identities[i], "a0");
  for (size_t r = 0; r < c->nreferences; r++) {
    const struct dsr_preference *ref = &c->references[r];
    if (!ref_branch(pc, ref) || n++ != k || !s)
      continue;
    psql_ref_row(s, "a0", ref);
    psql_puts(s, arrays ? " = ANY (ARRAY(SELECT " : " IN (SELECT ");
    psql_ref_parent_cols(s, "x", ref);
    psql_printf(s, " FROM s%zu x)%s", ref->parent->topo_index, arrays ? ")" : "");
  }
  return n;
}

/* "SELECT <columns>, (<tenant>)::text AS "__dsr_tenant" FROM <table> a0 WHERE ". */
static void select_head(const struct plan_ctx *pc, struct psql *s,
                        const struct dsr_pcollection *c, bool narrow)
{
  psql_puts(s, "SELECT ");
  if (narrow)
    erasure_cols(pc, s, c);
  else
    psql_puts(s, "a0.*");
  psql_puts(s, ", (");
  psql_tenant_expr(s, c, 0);
  psql_puts(s, ")::text AS \"__dsr_tenant\" FROM ");
  psql_table(s, c);
  psql_puts(s, " a0 WHERE ");
}

/* Whether UNION can compare the erasure's columns of @p c (erasure_cols()): keys and
 * references compare already; a file column of a type without equality (json, xml) cannot. */
static bool rows_compare(const struct dsr_pcollection *c)
{
  for (size_t i = 0; i < c->nfiles; i++) {
    const char *type = dsr_pcollection_column_type(c, c->files[i].column);
    if (!type || !strcmp(type, "json") || !strcmp(type, "xml"))
      return false;
  }
  return true;
}

/*
 * Whether the conditions of @p c can be ORed in one scan of its table: only once every table
 * they read is built and small, each read as an array of its keys, so that every condition is
 * an index's (a bitmap OR of them); a large one stays a join, through the UNION of conditions.
 * A reference of several columns has no array to compare with: it keeps the UNION too.
 */
static bool or_small(const struct plan_ctx *pc, const struct dsr_pcollection *c)
{
  if (!pc->keyed)
    return false;
  for (size_t r = 0; r < c->nreferences; r++) {
    const struct dsr_preference *ref = &c->references[r];
    if (ref_branch(pc, ref) && (ref->ncolumns != 1 || pc->krows[ref->parent->topo_index] < 0 ||
                                pc->krows[ref->parent->topo_index] > OR_PARENT_ROWS_MAX))
      return false;
  }
  return true;
}

bool psql_or_hash_candidate(const struct plan_ctx *pc, const struct dsr_pcollection *c)
{
  if (!pc->keyed || branch_cond(pc, NULL, c, 0, false) < 2 || or_small(pc, c))
    return false;
  for (size_t r = 0; r < c->nreferences; r++) {
    const struct dsr_preference *ref = &c->references[r];
    if (ref_branch(pc, ref) && pc->krows[ref->parent->topo_index] > OR_PARENT_ROWS_MAX)
      return true;
  }
  return false;
}

/*
 * With several conditions and a large parent, the UNION reads the child's table once per
 * condition and once more to join the keys it found back to it (for an ai_summaries of
 * 1,150,000 rows and calls of 376,000: 1.33 s of the backend's CPU); ORing them reads it
 * once, each parent's table a hashed subquery (0.86 s). PostgreSQL hashes such a subquery
 * only when its estimate fits its memory for hashes: otherwise it runs it again for every
 * row, hence the work_mem asked for here, and the limits on the parents' sizes.
 */
long long psql_or_hash_kb(const struct plan_ctx *pc, const struct dsr_pcollection *c,
                          double table_rows)
{
  if (!psql_or_hash_candidate(pc, c) || table_rows < 0)
    return 0;
  long long most = 0;
  bool large = false;
  for (size_t r = 0; r < c->nreferences; r++) {
    const struct dsr_preference *ref = &c->references[r];
    if (!ref_branch(pc, ref))
      continue;
    long long k = pc->krows[ref->parent->topo_index];
    if (k < 0 || k > OR_HASH_ROWS_MAX)
      return 0;
    large = large || (k > OR_PARENT_ROWS_MAX && (double)k * OR_HASH_SHARE >= table_rows);
    most = k > most ? k : most;
  }
  long long kb = most * OR_HASH_BYTES_PER_ROW / 1024;
  return large ? (kb < 4096 ? 4096 : kb) : 0;
}

/*
 * The SELECT of the subject's rows of @p c (mentions: of the other rows that mention the
 * subject), with their tenant, reading its parents' rows from s<parent>: whole rows for an
 * access plan (its package), the columns that read them for an erasure (erasure_cols()).
 * Rows that one condition selects (one identity, or one reference) are selected by it on the
 * table itself; an erasure's rows that several select, as the UNION of each condition's rows
 * (its columns compare; the same row is the same in each); a keyed table whose conditions
 * read only small tables, in one scan with its conditions ORed (or_small()), as does one
 * with a large parent the store hashes (psql_or_hash_kb(), set in pc->or_hash); else "key IN
 * (SELECT key ... UNION ...)", the table joined to itself (that join was most of the 9 s of
 * the tables of a 1,000,000-row subject).
 */
static void cte_body(const struct plan_ctx *pc, struct psql *s, const struct dsr_pcollection *c,
                     bool mentions)
{
  bool narrow = pc->kind == DSR_PLAN_ERASURE && !mentions;
  size_t n = mentions ? 0 : branch_cond(pc, NULL, c, 0, false);
  bool small = n > 1 && or_small(pc, c);
  bool hashed = n > 1 && pc->keyed && pc->or_hash[c->topo_index];
  if (small || hashed) { /* one scan: a bitmap OR of indexes, or the parents hashed */
    select_head(pc, s, c, narrow);
    for (size_t k = 0; k < n; k++) {
      psql_puts(s, k ? ") OR (" : "(");
      (void)branch_cond(pc, s, c, k, small);
    }
    psql_puts(s, ")");
    return;
  }
  if (n == 1 || (n > 1 && narrow && rows_compare(c))) {
    for (size_t k = 0; k < n; k++) {
      psql_puts(s, k ? " UNION " : "");
      select_head(pc, s, c, narrow);
      (void)branch_cond(pc, s, c, k, false);
    }
    return;
  }
  select_head(pc, s, c, narrow);
  if (mentions) {
    mention_cond(pc, s, c);
    if (pc->reached[c->topo_index]) {
      psql_printf(s, " AND NOT EXISTS (SELECT 1 FROM s%zu x WHERE ", c->topo_index);
      psql_key_eq(s, "x", "a0", c);
      psql_puts(s, ")");
    }
    return;
  }
  psql_key_row(s, "a0", c);
  psql_puts(s, " IN (");
  bool any = identity_branches(pc, s, c, false);
  for (size_t r = 0; r < c->nreferences; r++) {
    const struct dsr_preference *ref = &c->references[r];
    if (!ref_branch(pc, ref))
      continue;
    psql_puts(s, any ? " UNION SELECT " : "SELECT ");
    psql_key_cols(s, "b", c);
    psql_puts(s, " FROM ");
    psql_table(s, c);
    psql_puts(s, " b WHERE ");
    psql_ref_row(s, "b", ref);
    psql_puts(s, " IN (SELECT ");
    psql_ref_parent_cols(s, "x", ref);
    psql_printf(s, " FROM s%zu x)", ref->parent->topo_index);
    any = true;
  }
  if (!any) {
    psql_puts(s, "SELECT ");
    psql_key_cols(s, "b", c);
    psql_puts(s, " FROM ");
    psql_table(s, c);
    psql_puts(s, " b WHERE FALSE");
  }
  psql_puts(s, ")");
}

static void one_cte(const struct plan_ctx *pc, struct psql *s, const struct dsr_pcollection *c,
                    bool mentions)
{
  if (pc->keyed && !mentions) {
    /* the rows are in the session's table (psql_keys_table): read it where it is named */
    psql_printf(s, "s%zu AS NOT MATERIALIZED (SELECT * FROM pg_temp.\"__dsr_s%zu\")",
                c->topo_index, c->topo_index);
    return;
  }
  /* MATERIALIZED: each CTE runs once per statement, never once per row */
  psql_printf(s, "%c%zu AS MATERIALIZED (", mentions ? 'm' : 's', c->topo_index);
  cte_body(pc, s, c, mentions);
  psql_puts(s, ")");
}

void psql_keys_table(const struct plan_ctx *pc, struct psql *s, const struct dsr_pcollection *c)
{
  bool *need = calloc(pc->ncolls + 1, sizeof *need);
  if (!need) {
    s->oom = true;
    return;
  }
  psql_need(pc, c, need);
  need[c->topo_index] = false; /* its parents' tables exist already (topological order) */
  psql_printf(s, "CREATE TEMP TABLE \"__dsr_s%zu\" AS ", c->topo_index);
  psql_ctes(pc, s, need, NULL);
  cte_body(pc, s, c, false);
  free(need);
}

void psql_keys_index(struct psql *s, const struct dsr_pcollection *c)
{
  psql_printf(s, "CREATE INDEX ON pg_temp.\"__dsr_s%zu\" (", c->topo_index);
  for (size_t i = 0; i < c->nkey; i++) {
    psql_puts(s, i ? ", " : "");
    psql_ident(s, c->key[i]);
  }
  psql_puts(s, ")");
}

void psql_keys_stats(const struct plan_ctx *pc, struct psql *s, const struct dsr_pcollection *c,
                     bool whole)
{
  if (whole) {
    psql_printf(s, "ANALYZE pg_temp.\"__dsr_s%zu\"", c->topo_index);
    return;
  }
  size_t n = dsr_policy_children(pc->p, c, NULL, NULL, 0);
  const struct dsr_pcollection **kids = n ? calloc(n, sizeof *kids) : NULL;
  const struct dsr_preference **refs = n ? calloc(n, sizeof *refs) : NULL;
  const char *cols[DSR_KEY_MAX * 8];
  size_t ncols = 0;
  if (n && (!kids || !refs)) {
    s->oom = true;
    goto cleanup;
  }
  n = dsr_policy_children(pc->p, c, kids, refs, n);
  for (size_t i = 0; i < n; i++) {
    if (!pc->reached[kids[i]->topo_index])
      continue;
    for (size_t k = 0; k < refs[i]->ncolumns; k++) {
      bool seen = false;
      for (size_t j = 0; j < ncols && !seen; j++)
        seen = !strcmp(cols[j], refs[i]->parent_columns[k]);
      if (!seen && ncols < DSR_ARRAY_LEN(cols))
        cols[ncols++] = refs[i]->parent_columns[k];
    }
  }
  if (!ncols)
    goto cleanup;
  psql_printf(s, "ANALYZE pg_temp.\"__dsr_s%zu\" (", c->topo_index);
  for (size_t j = 0; j < ncols; j++) {
    psql_puts(s, j ? ", " : "");
    psql_ident(s, cols[j]);
  }
  psql_puts(s, ")");
cleanup:
  free(kids);
  free(refs);
}

void psql_ctes(const struct plan_ctx *pc, struct psql *s, const bool *need, const bool *need_m)
{
  bool first = true;
  for (size_t i = 0; i < pc->ncolls; i++) {
    const struct dsr_pcollection *c = dsr_policy_topo_at(pc->p, i);
    if (need[i]) {
      psql_puts(s, first ? "WITH " : ", ");
      first = false;
      one_cte(pc, s, c, false);
    }
    if (need_m && need_m[i]) {
      psql_puts(s, first ? "WITH " : ", ");
      first = false;
      one_cte(pc, s, c, true);
    }
  }
  if (!first)
    psql_puts(s, " ");
}

void psql_tenant_filter(struct psql *s, const struct dsr_pcollection *c, const char *tenant)
{
  if (c->owner != DSR_OWNER_PROCESSOR) {
    psql_puts(s, "TRUE");
  } else if (!tenant) {
    psql_puts(s, "x.\"__dsr_tenant\" IS NULL");
  } else {
    int n = psql_param(s, "tenant", tenant, false);
    psql_printf(s, "x.\"__dsr_tenant\" = $%d::text", n);
  }
}

void psql_tenants_filter(struct psql *s, const struct dsr_pcollection *c)
{
  if (c->owner != DSR_OWNER_PROCESSOR) {
    psql_puts(s, "TRUE");
    return;
  }
  int t = psql_param(s, "tenants", NULL, false);
  int z = psql_param(s, "tenant_null", NULL, false);
  psql_printf(s, "(x.\"__dsr_tenant\" = ANY($%d::text[]) OR ($%d::boolean AND x.\"__dsr_tenant\" "
                 "IS NULL))", t, z);
}

/* Appends the masked value of column m->field of alias t under mask @p m. */
static void mask_expr(struct psql *s, const struct dsr_pcollection *c, const struct dsr_pmask *m)
{
  const char *type = dsr_pcollection_column_type(c, m->field);
  switch (m->strategy) {
  case DSR_MASK_NULL: psql_puts(s, "NULL"); break;
  case DSR_MASK_FIXED: {
    char label[160];
    snprintf(label, sizeof label, "fixed:%s", m->field);
    psql_printf(s, "$%d::", psql_param(s, label, m->value, false));
    psql_puts(s, type);
    break;
  }
  case DSR_MASK_HMAC: {
    /* HMAC-SHA256(key, value) = H((K^opad) || H((K^ipad) || value)); the
     * executor supplies both padded keys, derived from dsrd's master key. */
    int in = psql_param(s, "hmac_ipad", NULL, true);
    int out = psql_param(s, "hmac_opad", NULL, true);
    psql_printf(s, "CASE WHEN t.");
    psql_ident(s, m->field);
    psql_printf(s, " IS NULL THEN NULL ELSE encode(sha256($%d::bytea || sha256($%d::bytea || "
                   "convert_to(t.", out, in);
    psql_ident(s, m->field);
    psql_puts(s, "::text, 'UTF8'))), 'hex') END");
    break;
  }
  case DSR_MASK_RANDOM:
    psql_printf(s, "substr(encode(sha256(convert_to(gen_random_uuid()::text, 'UTF8')), 'hex'), 1, %d)",
                m->length);
    break;
  }
}

void psql_mask_set(const struct plan_ctx *pc, struct psql *s, const struct dsr_pcollection *c)
{
  (void)pc;
  for (size_t i = 0; i < c->nmasks; i++) {
    psql_puts(s, i ? ", " : "");
    psql_ident(s, c->masks[i].field);
    psql_puts(s, " = ");
    mask_expr(s, c, &c->masks[i]);
  }
}

void psql_redact_set(const struct plan_ctx *pc, struct psql *s, const struct dsr_pcollection *c)
{
  for (size_t i = 0; i < c->nredact_columns; i++) {
    struct dsr_buf expr = {0};
    psql_puts(s, i ? ", " : "");
    psql_ident(s, c->redact_columns[i]);
    psql_puts(s, " = ");
    /* nested regexp_replace, innermost first */
    size_t depth = 0;
    for (size_t k = 0; k < c->nredact_patterns; k++)
      if (pc->mention_re[c->redact_patterns[k]->kind]) {
        psql_puts(s, "regexp_replace(");
        depth++;
      }
    psql_puts(s, "t.");
    psql_ident(s, c->redact_columns[i]);
    for (size_t k = 0; k < c->nredact_patterns; k++) {
      const struct dsr_ppattern *pat = c->redact_patterns[k];
      const char *re = pc->mention_re[pat->kind];
      if (!re)
        continue;
      int rn = psql_param(s, pat->kind == DSR_ID_EMAIL ? "email_regex" : "phone_regex", re, false);
      /* '\' and '&' are special in PostgreSQL replacements */
      bool ok = dsr_buf_puts(&expr, "");
      for (const char *ch = pat->replacement; ok && *ch; ch++)
        ok = (*ch == '\\' || *ch == '&') ? dsr_buf_printf(&expr, "\\%c", *ch)
                                         : dsr_buf_append(&expr, ch, 1);
      char label[160];
      snprintf(label, sizeof label, "replacement:%s", pat->name);
      int pn = ok ? psql_param(s, label, expr.data, false) : 1;
      if (!ok)
        s->oom = true;
      dsr_buf_reset(&expr);
      psql_printf(s, ", $%d::text, $%d::text, 'gi')", rn, pn);
    }
    (void)depth;
    dsr_buf_free(&expr);
  }
  /* another party's column: masked where it holds the subject's identity */
  bool first = c->nredact_columns == 0;
  for (size_t i = 0; i < c->nothers; i++) {
    const struct dsr_pother *o = &c->others[i];
    if (!o->match || !plan_has_value(pc, &o->id))
      continue;
    psql_puts(s, first ? "" : ", ");
    first = false;
    psql_ident(s, o->id.column);
    if (o->id.jsonpath) {
      /* a document: dsrd masks the values at the path that are the subject's, in place;
       * the statement shown here leaves it as it is */
      psql_puts(s, " = t.");
      psql_ident(s, o->id.column);
      continue;
    }
    if (dsr_type_is_array(dsr_pcollection_column_type(c, o->id.column))) {
      /* an array: the subject's elements leave it, the others stay in order */
      bool written_any = false;
      char *v = plan_identity_value(pc, &o->id, &written_any);
      int n = psql_param(s, written_any ? "phone_digits" : dsr_id_kind_name(o->id.kind), v, false);
      free(v);
      psql_puts(s, " = ARRAY(SELECT e FROM unnest(t.");
      psql_ident(s, o->id.column);
      psql_puts(s, ") WITH ORDINALITY AS u(e, i) WHERE NOT coalesce(");
      elem_cond(s, &o->id, written_any, n, "e::text");
      psql_puts(s, ", false) ORDER BY i)");
      continue;
    }
    psql_puts(s, " = CASE WHEN ");
    (void)identity_cond(pc, s, c, &o->id, "t");
    psql_puts(s, " THEN ");
    mask_expr(s, c, &o->mask);
    psql_puts(s, " ELSE t.");
    psql_ident(s, o->id.column);
    psql_puts(s, " END");
  }
}

/* References into @p c as (child, reference) pairs; arrays malloc'd, caller
 * frees both. Returns the count; on allocation failure 0 with s->oom set. */
static size_t inbound(const struct dsr_policy *p, struct psql *s, const struct dsr_pcollection *c,
                      const struct dsr_pcollection ***ch, const struct dsr_preference ***refs)
{
  size_t n = dsr_policy_children(p, c, NULL, NULL, 0);
  *ch = calloc(n + 1, sizeof **ch);
  *refs = calloc(n + 1, sizeof **refs);
  if (!*ch || !*refs) {
    s->oom = true;
    return 0;
  }
  return dsr_policy_children(p, c, *ch, *refs, n);
}

void psql_not_referenced(const struct dsr_policy *p, struct psql *s, const struct dsr_pcollection *c)
{
  const struct dsr_pcollection **ch = NULL;
  const struct dsr_preference **refs = NULL;
  size_t n = inbound(p, s, c, &ch, &refs);
  for (size_t i = 0; i < n; i++) {
    psql_puts(s, " AND NOT EXISTS (SELECT 1 FROM ");
    psql_table(s, ch[i]);
    psql_puts(s, " r WHERE ");
    psql_ref_eq(s, "r", "t", refs[i]);
    psql_puts(s, ")");
  }
  free(ch);
  free(refs);
}

/*
 * Whether child rows of @p ch referring to @p c through @p ref are deleted before @p c's:
 * then each of them is in s<ch> (its rows include every row whose reference is in s<c>,
 * read in the same snapshot), so they never keep a row of s<c>.
 */
static bool deleted_first(const struct plan_ctx *pc, const struct dsr_pcollection *ch,
                          const struct dsr_preference *ref)
{
  return plan_reaches(pc, ref) && ch->action == DSR_ACT_DELETE && pc->reached[ch->topo_index];
}

/*
 * The kept keys as a join, not a per-row probe: for each row of s<i> a
 * correlated EXISTS over the children is a scan of those rows per child row
 * (92 s for a subject with 37,000 calls); joins let PostgreSQL hash them once.
 * Only the references whose rows the plan does not delete first can keep a
 * row (deleted_first()): a subject whose children are all deleted first has
 * no join at all (3.8 s of a 1,000,000-row erasure was joining its calls'
 * children only to find none left).
 */
bool psql_kept_join(const struct plan_ctx *pc, struct psql *s, const struct dsr_pcollection *c)
{
  const struct dsr_pcollection **ch = NULL;
  const struct dsr_preference **refs = NULL;
  size_t n = inbound(pc->p, s, c, &ch, &refs);
  bool any = false;
  for (size_t i = 0; i < n; i++) {
    if (deleted_first(pc, ch[i], refs[i]))
      continue;
    /* DISTINCT: a row referred to twice is one kept row (UNION does it for the others) */
    psql_puts(s, any ? " UNION SELECT " : " LEFT JOIN (SELECT DISTINCT ");
    any = true;
    for (size_t k = 0; k < c->nkey; k++) {
      psql_puts(s, k ? ", x2." : "x2.");
      psql_ident(s, c->key[k]);
      psql_printf(s, " AS \"__dsr_k%zu\"", k);
    }
    psql_printf(s, " FROM s%zu x2 JOIN ", c->topo_index);
    psql_table(s, ch[i]);
    psql_puts(s, " r ON ");
    psql_ref_eq(s, "r", "x2", refs[i]);
  }
  if (!any)
    goto cleanup;
  psql_puts(s, ") kk ON ");
  for (size_t k = 0; k < c->nkey; k++) {
    psql_printf(s, "%skk.\"__dsr_k%zu\" = x.", k ? " AND " : "", k);
    psql_ident(s, c->key[k]);
  }
cleanup:
  free(ch);
  free(refs);
  return any && !s->oom;
}

bool psql_can_keep(const struct plan_ctx *pc, const struct dsr_pcollection *c)
{
  struct psql s = {0};
  bool any = psql_kept_join(pc, &s, c) || s.oom; /* the count's own join reports it */
  psql_free(&s);
  return any;
}

void psql_files_expr(struct psql *s, const struct dsr_pcollection *c)
{
  if (c->nfiles == 0) {
    psql_puts(s, "0");
    return;
  }
  psql_puts(s, "coalesce(sum(");
  for (size_t i = 0; i < c->nfiles; i++) {
    psql_puts(s, i ? " + (x." : "(x.");
    psql_ident(s, c->files[i].column);
    psql_puts(s, " IS NOT NULL)::int");
  }
  psql_puts(s, "), 0)");
}

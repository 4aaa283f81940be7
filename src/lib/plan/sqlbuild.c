/**
 * @file sqlbuild.c
 * @brief The statement builder (see sqlbuild.h): SQL text with quoted
 *        identifiers and its $n parameters, used by the planner and the
 *        executor alike.
 */
#include "config.h"
#include "dsr/sqlbuild.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void psql_params_free(struct dsr_plan_param *params, size_t n)
{
  for (size_t i = 0; i < n; i++) {
    free(params[i].label);
    free(params[i].value);
  }
  free(params);
}

void psql_free(struct psql *s)
{
  psql_params_free(s->params, s->n);
  dsr_buf_free(&s->sql);
  memset(s, 0, sizeof *s);
}

bool psql_take(struct psql *s, char **sql, struct dsr_plan_param **params, size_t *n)
{
  if (s->oom)
    return false;
  *sql = dsr_buf_steal(&s->sql);
  *params = s->params;
  *n = s->n;
  s->params = NULL;
  s->n = 0;
  return true;
}

int psql_param(struct psql *s, const char *label, const char *value, bool secret)
{
  for (size_t i = 0; i < s->n; i++)
    if (!strcmp(s->params[i].label, label) &&
        ((!value && !s->params[i].value) ||
         (value && s->params[i].value && !strcmp(value, s->params[i].value))))
      return (int)i + 1;
  if (s->n == s->cap) {
    size_t ncap = s->cap ? s->cap * 2 : 8;
    struct dsr_plan_param *nv = realloc(s->params, ncap * sizeof *nv);
    if (!nv) {
      s->oom = true;
      return 1;
    }
    s->params = nv;
    s->cap = ncap;
  }
  struct dsr_plan_param *pp = &s->params[s->n];
  pp->label = strdup(label);
  pp->value = value ? strdup(value) : NULL;
  pp->secret = secret;
  if (!pp->label || (value && !pp->value)) {
    free(pp->label);
    free(pp->value);
    s->oom = true;
    return 1;
  }
  return (int)++s->n;
}

void psql_puts(struct psql *s, const char *text)
{
  if (!dsr_buf_puts(&s->sql, text))
    s->oom = true;
}

void psql_printf(struct psql *s, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  char tmp[512];
  int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
  va_end(ap);
  if (n < 0 || (size_t)n >= sizeof tmp)
    s->oom = true; /* only short fragments go through here */
  else
    psql_puts(s, tmp);
}

bool dsr_sql_ident(struct dsr_buf *b, const char *name)
{
  bool ok = dsr_buf_puts(b, "\"");
  for (const char *c = name; ok && *c; c++)
    ok = *c == '"' ? dsr_buf_puts(b, "\"\"") : dsr_buf_append(b, c, 1);
  return ok && dsr_buf_puts(b, "\"");
}

bool dsr_sql_array_add(struct dsr_buf *b, const char *v, bool first)
{
  if (!dsr_buf_puts(b, first ? "" : ","))
    return false;
  if (!v)
    return dsr_buf_puts(b, "NULL");
  bool ok = dsr_buf_puts(b, "\"");
  for (const char *c = v; ok && *c; c++)
    ok = (*c == '"' || *c == '\\') ? dsr_buf_printf(b, "\\%c", *c) : dsr_buf_append(b, c, 1);
  return ok && dsr_buf_puts(b, "\"");
}

void psql_ident(struct psql *s, const char *name)
{
  if (!dsr_sql_ident(&s->sql, name))
    s->oom = true;
}

void psql_table(struct psql *s, const struct dsr_pcollection *c)
{
  psql_ident(s, c->schema);
  psql_puts(s, ".");
  psql_ident(s, c->table);
}

/*
 * Keys of one or several columns. A row's key travels between statements
 * (pages, ledger, pending files, backups) as one text: the column's own text
 * for a one-column key, a JSON array of the columns' texts for a composite
 * one, so that everything downstream handles a single string either way.
 */

static void column_list(struct psql *s, const char *a, const char *const *cols, size_t n,
                        const char *sep, const char *cast)
{
  for (size_t i = 0; i < n; i++) {
    psql_puts(s, i ? sep : "");
    psql_printf(s, "%s.", a);
    psql_ident(s, cols[i]);
    psql_puts(s, cast);
  }
}

static void row_of(struct psql *s, const char *a, const char *const *cols, size_t n)
{
  psql_puts(s, n > 1 ? "(" : "");
  column_list(s, a, cols, n, ", ", "");
  psql_puts(s, n > 1 ? ")" : "");
}

void psql_key_cols(struct psql *s, const char *a, const struct dsr_pcollection *c)
{
  column_list(s, a, c->key, c->nkey, ", ", "");
}

void psql_key_row(struct psql *s, const char *a, const struct dsr_pcollection *c)
{
  row_of(s, a, c->key, c->nkey);
}

/* a."x1" = b."y1" AND ... over @p n pairs of columns. */
static void columns_eq(struct psql *s, const char *a, const char *const *x, const char *b,
                       const char *const *y, size_t n)
{
  for (size_t i = 0; i < n; i++) {
    psql_printf(s, "%s%s.", i ? " AND " : "", a);
    psql_ident(s, x[i]);
    psql_printf(s, " = %s.", b);
    psql_ident(s, y[i]);
  }
}

void psql_key_eq(struct psql *s, const char *a, const char *b, const struct dsr_pcollection *c)
{
  columns_eq(s, a, c->key, b, c->key, c->nkey);
}

void psql_key_text(struct psql *s, const char *a, const struct dsr_pcollection *c)
{
  if (c->nkey == 1) {
    column_list(s, a, c->key, 1, "", "::text");
    return;
  }
  psql_puts(s, "jsonb_build_array(");
  column_list(s, a, c->key, c->nkey, ", ", "::text");
  psql_puts(s, ")::text");
}

/* The key of @p c read back from the text expression @p t: a row value, or with @p list
 * its columns as a select list. */
static void key_of_text(struct psql *s, const struct dsr_pcollection *c, const char *t, bool list)
{
  bool row = c->nkey > 1 && !list;
  psql_puts(s, row ? "(" : "");
  for (size_t i = 0; i < c->nkey; i++) {
    const char *type = dsr_pcollection_column_type(c, c->key[i]);
    if (c->nkey == 1)
      psql_printf(s, "(%s)::", t);
    else
      psql_printf(s, "%s((%s)::jsonb->>%zu)::", i ? ", " : "", t, i);
    psql_puts(s, type ? type : "text"); /* validated type name */
  }
  psql_puts(s, row ? ")" : "");
}

void psql_key_is(struct psql *s, const char *a, const struct dsr_pcollection *c, const char *t)
{
  psql_key_row(s, a, c);
  psql_puts(s, " = ");
  key_of_text(s, c, t, false);
}

void psql_key_in(struct psql *s, const char *a, const struct dsr_pcollection *c, int param)
{
  if (c->nkey == 1) {
    const char *type = dsr_pcollection_column_type(c, c->key[0]);
    psql_printf(s, "%s.", a);
    psql_ident(s, c->key[0]);
    psql_printf(s, " = ANY($%d::", param);
    psql_puts(s, type ? type : "text");
    psql_puts(s, "[])");
    return;
  }
  psql_key_row(s, a, c);
  psql_puts(s, " IN (SELECT ");
  key_of_text(s, c, "k.k", true);
  psql_printf(s, " FROM unnest($%d::text[]) AS k(k))", param);
}

void psql_key_cmp(struct psql *s, const char *a, const struct dsr_pcollection *c, const char *op,
                  const char *t)
{
  psql_key_row(s, a, c);
  psql_printf(s, " %s ", op);
  key_of_text(s, c, t, false);
}

void psql_key_after(struct psql *s, const char *a, const struct dsr_pcollection *c, int param)
{
  char t[24];
  snprintf(t, sizeof t, "$%d::text", param);
  psql_key_cmp(s, a, c, ">", t);
}

void psql_key_page(struct psql *s, const char *a, const struct dsr_pcollection *c)
{
  int cn = psql_param(s, "cursor", NULL, false);
  psql_printf(s, "($%d::text IS NULL OR ", cn);
  psql_key_after(s, a, c, cn);
  psql_puts(s, ") ORDER BY ");
  psql_key_cols(s, a, c);
  psql_printf(s, " LIMIT $%d::integer", psql_param(s, "limit", NULL, false));
}

void psql_ref_row(struct psql *s, const char *a, const struct dsr_preference *r)
{
  row_of(s, a, r->columns, r->ncolumns);
}

void psql_ref_parent_cols(struct psql *s, const char *a, const struct dsr_preference *r)
{
  column_list(s, a, r->parent_columns, r->ncolumns, ", ", "");
}

void psql_ref_eq(struct psql *s, const char *child, const char *parent,
                 const struct dsr_preference *r)
{
  columns_eq(s, child, r->columns, parent, r->parent_columns, r->ncolumns);
}

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

void psql_free(struct psql *s)
{
  for (size_t i = 0; i < s->n; i++) {
    free(s->params[i].label);
    free(s->params[i].value);
  }
  free(s->params);
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

/**
 * @file executor_sql.c
 * @brief Statements the executor runs on a store for one page of keys,
 *        generated from the data map: quoted identifiers from the validated
 *        policy, the keys and values always as array parameters.
 *
 *   DELETE FROM "s"."t" t WHERE t."pk" = ANY($1::type[])
 *     AND NOT EXISTS (SELECT 1 FROM "s"."child" r WHERE r."fk" = t."col") ...
 *     RETURNING t."pk"::text, t."file_col"...
 *   SELECT t."pk"::text, t."c"::text ... FROM "s"."t" t WHERE t."pk" = ANY($1::type[])
 *     ORDER BY t."pk" FOR UPDATE
 *   UPDATE "s"."t" t SET "c" = v.c0::type ... FROM unnest($1::text[], $2::text[] ...)
 *     AS v(k, c0 ...) WHERE t."pk" = v.k::type
 *
 * A composite key matches as a row value, read from its key text (sqlbuild.h).
 */
#include "config.h"
#include "executor_int.h"
#include "dsr/sqlbuild.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct {
  enum dsr_stmt st;
  const char *sql;
} fixed[] = {
#define DSR_X_FIXED(e, sql) {e, sql},
    DSR_STMTS_ERASURE(DSR_X_FIXED)
    DSR_STMTS_BACKUPS_STORE(DSR_X_FIXED)
#undef DSR_X_FIXED
};

const char *exec_fixed_sql(enum dsr_stmt st)
{
  for (size_t i = 0; i < DSR_ARRAY_LEN(fixed); i++)
    if (fixed[i].st == st)
      return fixed[i].sql;
  return "SELECT 1";
}

static char *finish(struct psql *s)
{
  char *out = s->oom ? NULL : dsr_buf_steal(&s->sql);
  psql_free(s);
  return out;
}

char *exsql_delete(const struct dsr_policy *p, const struct dsr_pcollection *c)
{
  struct psql s = {0};
  psql_puts(&s, "DELETE FROM ");
  psql_table(&s, c);
  psql_puts(&s, " t WHERE ");
  psql_key_in(&s, "t", c, 1);
  psql_not_referenced(p, &s, c);
  psql_puts(&s, " RETURNING ");
  psql_key_text(&s, "t", c);
  for (size_t i = 0; i < c->nfiles; i++) {
    psql_puts(&s, ", t.");
    psql_ident(&s, c->files[i].column);
    psql_puts(&s, "::text");
  }
  return finish(&s);
}

char *exsql_select(const struct dsr_pcollection *c, const char *const *cols, size_t n)
{
  struct psql s = {0};
  psql_puts(&s, "SELECT ");
  psql_key_text(&s, "t", c);
  for (size_t i = 0; i < n; i++) {
    psql_puts(&s, ", t.");
    psql_ident(&s, cols[i]);
    psql_puts(&s, "::text");
  }
  psql_puts(&s, " FROM ");
  psql_table(&s, c);
  psql_puts(&s, " t WHERE ");
  psql_key_in(&s, "t", c, 1);
  psql_puts(&s, " ORDER BY ");
  psql_key_cols(&s, "t", c);
  psql_puts(&s, " FOR UPDATE");
  return finish(&s);
}

char *exsql_update(const struct dsr_pcollection *c, const char *const *cols, size_t n)
{
  struct psql s = {0};
  psql_puts(&s, "UPDATE ");
  psql_table(&s, c);
  psql_puts(&s, " t SET ");
  for (size_t i = 0; i < n; i++) {
    const char *type = dsr_pcollection_column_type(c, cols[i]);
    psql_puts(&s, i ? ", " : "");
    psql_ident(&s, cols[i]);
    psql_printf(&s, " = v.c%zu::", i);
    psql_puts(&s, type ? type : "text");
  }
  psql_puts(&s, " FROM unnest($1::text[]");
  for (size_t i = 0; i < n; i++)
    psql_printf(&s, ", $%zu::text[]", i + 2);
  psql_puts(&s, ") AS v(k");
  for (size_t i = 0; i < n; i++)
    psql_printf(&s, ", c%zu", i);
  psql_puts(&s, ") WHERE ");
  psql_key_is(&s, "t", c, "v.k");
  return finish(&s);
}

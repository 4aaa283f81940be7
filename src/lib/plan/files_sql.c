/**
 * @file files_sql.c
 * @brief The sample of a files column that `dsrctl policy lint --live`
 *        resolves (dsr/filepath.h) to report values outside every root of
 *        their store before an erasure meets them.
 */
#include "config.h"
#include "dsr/sqlbuild.h"

#include <stdlib.h>

char *dsr_sql_files_sample(const struct dsr_pcollection *c, const char *column)
{
  struct psql s = {0};
  char *sql = NULL;
  struct dsr_plan_param *params = NULL;
  size_t n = 0;
  psql_puts(&s, "SELECT ");
  psql_key_text(&s, "t", c);
  psql_puts(&s, ", t.");
  psql_ident(&s, column);
  psql_puts(&s, "::text FROM ");
  psql_table(&s, c);
  psql_puts(&s, " t WHERE t.");
  psql_ident(&s, column);
  psql_puts(&s, " IS NOT NULL LIMIT $1::integer");
  if (!psql_take(&s, &sql, &params, &n))
    sql = NULL;
  free(params);
  psql_free(&s);
  return sql;
}

/**
 * @file sqlbuild.h
 * @brief The statement builder: SQL text plus its $n parameters. Identifiers
 *        come only from the validated policy and are always quoted; every
 *        value is a parameter. Used by the planner and the executor.
 */
#ifndef DSR_SQLBUILD_H
#define DSR_SQLBUILD_H

#include "dsr/planner.h"

/** A statement under construction; owner frees with psql_free(). */
struct psql {
  struct dsr_buf sql;
  struct dsr_plan_param *params;
  size_t n, cap;
  bool oom;
};

void psql_free(struct psql *s);
/**
 * Moves the built statement and its parameters to the caller (who frees them
 * with the plan); false, moving nothing, when building ran out of memory.
 */
bool psql_take(struct psql *s, char **sql, struct dsr_plan_param **params, size_t *n);
/** Adds a parameter (deduplicated by label and value) and returns its $n. */
int psql_param(struct psql *s, const char *label, const char *value, bool secret);
/** Appends text; records allocation failure in s->oom. */
void psql_puts(struct psql *s, const char *text);
void psql_printf(struct psql *s, const char *fmt, ...) DSR_PRINTF(2, 3);
void psql_ident(struct psql *s, const char *name);
/** "schema"."table" */
void psql_table(struct psql *s, const struct dsr_pcollection *c);
/** Appends " AND NOT EXISTS (...)" for every reference of @p p into @p c (alias t). */
void psql_not_referenced(const struct dsr_policy *p, struct psql *s, const struct dsr_pcollection *c);

/**
 * SELECT key::text, @p column::text of up to $1 rows of @p c whose @p column
 * is set (a files column's sample for `policy lint --live`). Caller frees;
 * NULL when out of memory.
 */
char *dsr_sql_files_sample(const struct dsr_pcollection *c, const char *column);

#endif

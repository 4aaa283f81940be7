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
/** Frees @p n parameters taken with psql_take() (labels, values and the array). */
void psql_params_free(struct dsr_plan_param *params, size_t n);
/** Adds a parameter (deduplicated by label and value) and returns its $n. */
int psql_param(struct psql *s, const char *label, const char *value, bool secret);
/** Appends text; records allocation failure in s->oom. */
void psql_puts(struct psql *s, const char *text);
void psql_printf(struct psql *s, const char *fmt, ...) DSR_PRINTF(2, 3);
void psql_ident(struct psql *s, const char *name);
/** "schema"."table" */
void psql_table(struct psql *s, const struct dsr_pcollection *c);
/*
 * Keys and references of one or several columns, on table alias @p a. A key
 * as one text (psql_key_text) is the column's text, or for a composite key a
 * JSON array of its columns' texts; psql_key_is/in/after read it back.
 */
/** a."k1", a."k2" (a select or ORDER BY list) */
void psql_key_cols(struct psql *s, const char *a, const struct dsr_pcollection *c);
/** a."k" or (a."k1", a."k2") (a row value) */
void psql_key_row(struct psql *s, const char *a, const struct dsr_pcollection *c);
/** a."k1" = b."k1" AND ... */
void psql_key_eq(struct psql *s, const char *a, const char *b, const struct dsr_pcollection *c);
/** The key of alias @p a as one text. */
void psql_key_text(struct psql *s, const char *a, const struct dsr_pcollection *c);
/** "the key of a is the key text @p t" (t: an SQL text expression such as v.k). */
void psql_key_is(struct psql *s, const char *a, const struct dsr_pcollection *c, const char *t);
/** "the key of a is one of the key texts of array parameter $param" (text[]). */
void psql_key_in(struct psql *s, const char *a, const struct dsr_pcollection *c, int param);
/** "the key of a <op> the key text that SQL expression @p t yields" (op: a comparison such as
 *  ">" or ">=", in key order as psql_key_cols sorts). */
void psql_key_cmp(struct psql *s, const char *a, const struct dsr_pcollection *c, const char *op,
                  const char *t);
/** "the key of a comes after key text $param" (key order, as psql_key_cols sorts). */
void psql_key_after(struct psql *s, const char *a, const struct dsr_pcollection *c, int param);
/** One page in key order: "(the key of a comes after parameter "cursor", or it is NULL)
 *  ORDER BY the key LIMIT parameter "limit"" (both added with psql_param()). */
void psql_key_page(struct psql *s, const char *a, const struct dsr_pcollection *c);
/** A reference's columns on the child alias @p a, as a row value. */
void psql_ref_row(struct psql *s, const char *a, const struct dsr_preference *r);
/** The parent's columns it refers to, on alias @p a, as a select list. */
void psql_ref_parent_cols(struct psql *s, const char *a, const struct dsr_preference *r);
/** child."c1" = parent."p1" AND ... */
void psql_ref_eq(struct psql *s, const char *child, const char *parent,
                 const struct dsr_preference *r);

/** Appends " AND NOT EXISTS (...)" for every reference of @p p into @p c (alias t). */
void psql_not_referenced(const struct dsr_policy *p, struct psql *s, const struct dsr_pcollection *c);

/**
 * SELECT key::text, @p column::text of up to $1 rows of @p c whose @p column
 * is set (a files column's sample for `policy lint --live`). Caller frees;
 * NULL when out of memory.
 */
char *dsr_sql_files_sample(const struct dsr_pcollection *c, const char *column);

#endif

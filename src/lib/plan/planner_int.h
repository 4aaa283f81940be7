/**
 * @file planner_int.h
 * @brief Internals of the planner: what it knows of one subject and the
 *        generators of planner_sql.c (the statement builder is sqlbuild.h).
 */
#ifndef DSR_PLANNER_INT_H
#define DSR_PLANNER_INT_H

#include "dsr/planner.h"
#include "dsr/sqlbuild.h"

/** What the planner knows about one subject and policy. */
struct plan_ctx {
  const struct dsr_policy *p;
  size_t ncolls;
  /* normalized identity values by [kind][norm], NULL when absent */
  char *ids[DSR_ID_KIND_COUNT][4];
  /* subject-specific regular expressions (PostgreSQL ARE) by kind, for mentions */
  char *mention_re[DSR_ID_KIND_COUNT];
  bool *reached; /* by topo index: the subject has rows here */
  enum dsr_plan_kind kind;
  /* the subject's phone number in every written form (phone.h), when
   * libphonenumber reads it (else only the E.164 digits are used) */
  struct dsr_phone_forms phone;
  bool has_phone;
  const char *phone_region; /* the policy's default region, or NULL */
  /* the subject's rows of each reached collection are in the session's temporary table
   * pg_temp."__dsr_s<i>" (psql_keys_table): s<i> reads it instead of computing them */
  bool keyed;
  /* by topo index: how many rows each keyed table got, -1 before it is built */
  long long *krows;
  /* by topo index: the keyed table's conditions are ORed with its parents' tables hashed
   * (psql_or_hash_kb()), set just before it is built */
  bool *or_hash;
};

/** Whether reference @p r carries the subject from parent to child in this plan. */
static inline bool plan_reaches(const struct plan_ctx *pc, const struct dsr_preference *r)
{
  return pc->kind == DSR_PLAN_ACCESS ? r->reach_access : r->reach_erasure;
}

/**
 * The tenant of alias a<depth> of @p c as an SQL expression: its tenant
 * column, or the one a parent lends along tenant_via (as text; a controller
 * parent lends its tenant_column), NULL for controller data.
 */
void psql_tenant_expr(struct psql *s, const struct dsr_pcollection *c, int depth);

/**
 * The subject's value that identity column @p id is compared with (its
 * normalize, or its declared phone format; for format "any" a text[] literal
 * of digit sequences, *any set). NULL when the subject has none for it
 * (e.g. a national:DE column and a Spanish number). Caller frees.
 */
char *plan_identity_value(const struct plan_ctx *pc, const struct dsr_pidentity *id, bool *any);

/** Marks in @p need (by topo index) the CTEs that the rows of @p c depend on. */
void psql_need(const struct plan_ctx *pc, const struct dsr_pcollection *c, bool *need);
/** Emits "WITH s<i> AS (...), m<i> AS (...) " for the needed collections. */
void psql_ctes(const struct plan_ctx *pc, struct psql *s, const bool *need, const bool *need_m);
/**
 * "CREATE TEMP TABLE "__dsr_s<i>" AS ..." of the subject's rows of @p c (those s<i>
 * selects, with their tenant), reading its parents' tables: for keyed plans, in
 * topological order.
 */
void psql_keys_table(const struct plan_ctx *pc, struct psql *s, const struct dsr_pcollection *c);
/**
 * Whether the keyed table of @p c is better built in one scan of its table, its conditions
 * ORed and each large parent's table hashed, than as the UNION of a scan per condition: the
 * store's work_mem (kB) that hash needs, or 0 for the UNION. @p table_rows: the table's row
 * estimate (the store's statistics), < 0 when it has none.
 */
long long psql_or_hash_kb(const struct plan_ctx *pc, const struct dsr_pcollection *c,
                          double table_rows);
/** Whether psql_or_hash_kb() needs the table's row estimate for @p c (it has a large parent). */
bool psql_or_hash_candidate(const struct plan_ctx *pc, const struct dsr_pcollection *c);
/** The index of that table on @p c's key: "the plan deletes this row" is a probe, not a scan. */
void psql_keys_index(struct psql *s, const struct dsr_pcollection *c);
/**
 * "ANALYZE pg_temp."__dsr_s<i>"": its statistics, so that the tables of @p c's children are
 * built with joins sized for the subject's rows. @p whole: every column; else only the
 * columns reached children join on, and nothing when no reached child reads @p c.
 */
void psql_keys_stats(const struct plan_ctx *pc, struct psql *s, const struct dsr_pcollection *c,
                     bool whole);
/** True when @p c redacts mentions of the subject (has columns and patterns usable now). */
bool plan_has_mentions(const struct plan_ctx *pc, const struct dsr_pcollection *c);
/** The condition "x is in this part": x."__dsr_tenant" = $n / IS NULL / TRUE. */
void psql_tenant_filter(struct psql *s, const struct dsr_pcollection *c, const char *tenant);
/** The condition "x is in one of the export's parts": the parameters labelled
 * "tenants" (text[] literal) and "tenant_null" (boolean: the controller part)
 * are left NULL for the caller; TRUE for controller collections. */
void psql_tenants_filter(struct psql *s, const struct dsr_pcollection *c);
/** Appends the SET list of a mask or redact on alias t. */
void psql_mask_set(const struct plan_ctx *pc, struct psql *s, const struct dsr_pcollection *c);
void psql_redact_set(const struct plan_ctx *pc, struct psql *s, const struct dsr_pcollection *c);
/**
 * Appends " LEFT JOIN (...) kk ON ...": the keys of the rows of s<i> (alias x) that
 * rows of other collections still reference after the plan (those it does not
 * delete first); count(kk."__dsr_k0") counts them. Appends nothing and returns
 * false when nothing that the plan does not delete first refers to @p c.
 */
bool psql_kept_join(const struct plan_ctx *pc, struct psql *s, const struct dsr_pcollection *c);
/** Whether psql_kept_join() would append a join: some rows could keep @p c's. */
bool psql_can_keep(const struct plan_ctx *pc, const struct dsr_pcollection *c);
/**
 * Fills st->keys_sql / keys_params: the page query of an erasure step (see
 * planner.h). False on allocation failure.
 */
bool psql_keys_step(const struct plan_ctx *pc, enum dsr_step_verb verb, bool mentions_only,
                    const struct dsr_pcollection *c, const char *tenant, struct dsr_plan_step *st);
/** Appends the sum of non-NULL file columns of x. */
void psql_files_expr(struct psql *s, const struct dsr_pcollection *c);

#endif

/**
 * @file planner.h
 * @brief The planner: from a validated policy and a subject's identities,
 *        the access plan and the erasure plan. A plan is a list of parts, one
 *        per owner (the controller, then one per customer tenant); each part
 *        is a list of steps in execution order (erasure: children before
 *        parents; access: parents first). A step is one set-based statement
 *        generated from the data map: quoted identifiers from the policy,
 *        every value a $n parameter. Counting runs COUNT queries in one
 *        read-only REPEATABLE READ transaction that is rolled back: planning
 *        never changes the platform. Discovery, the executor and exports
 *        reuse these plans.
 */
#ifndef DSR_PLANNER_H
#define DSR_PLANNER_H

#include <jansson.h>
#include <libpq-fe.h>
#include "dsr/policy.h"

/** The subject's verified identities; NULL members are unknown. */
struct dsr_subject {
  const char *email;
  const char *phone;
  const char *account_id;
};

enum dsr_plan_kind { DSR_PLAN_ACCESS, DSR_PLAN_ERASURE };

/** What a step does. */
enum dsr_step_verb {
  DSR_STEP_SELECT, /**< access: read the subject's rows */
  DSR_STEP_DELETE, /**< erasure: delete rows (files listed for deletion) */
  DSR_STEP_MASK,   /**< erasure: overwrite fields */
  DSR_STEP_REDACT, /**< erasure: replace the subject's identifiers in text */
  DSR_STEP_RETAIN  /**< erasure: keep rows, with a basis; no statement */
};

/** One statement parameter, in $n order. */
struct dsr_plan_param {
  char *label; /**< "email", "phone", "tenant", "fixed:col", "hmac_ipad", ... */
  char *value; /**< text value; NULL for secrets the executor supplies (hmac keys) */
  bool secret;
};

/** One step: one collection, one owner. All strings owned by the plan. */
struct dsr_plan_step {
  const struct dsr_pcollection *coll;
  enum dsr_step_verb verb;
  char *sql;  /**< the statement to run, or NULL for retain */
  struct dsr_plan_param *params;
  size_t nparams;
  long long rows;      /**< rows the step reads / deletes / masks / redacts / keeps */
  long long files;     /**< files pointed to by those rows (delete, select) */
  long long kept;      /**< delete: rows kept because other rows still reference them */
  long long mentions;  /**< of rows: those that are not the subject's but mention the
                            subject (redacted); counted in rows already */
  char *reason;        /**< why rows are retained / kept, or NULL */
  /**
   * Erasure steps: the executor's page query. It returns the next primary
   * keys (as text, in key order) of the rows this step covers, after the
   * key in the parameter labelled "cursor" (NULL: from the start), at most
   * the parameter labelled "limit"; both are left NULL for the executor.
   */
  char *keys_sql;
  struct dsr_plan_param *keys_params;
  size_t nkeys_params;
};

/** One collection's statement of a keyed access plan (dsr_plan.export_colls). */
struct dsr_plan_export {
  size_t coll; /**< the collection's topological index */
  char *sql;
  struct dsr_plan_param *params;
  size_t nparams;
};

struct dsr_plan_part {
  char *tenant; /**< NULL: the controller part; else the tenant key as text */
  struct dsr_plan_step *steps;
  size_t nsteps;
};

struct dsr_plan {
  enum dsr_plan_kind kind;
  const struct dsr_policy *policy; /**< borrowed */
  struct dsr_plan_part *parts;     /**< controller part first, then tenants in order */
  size_t nparts;
  char **notes; /**< plan-level remarks (suppression, unmatched patterns) */
  size_t nnotes;
  /**
   * Access plans: every reached collection's rows in one statement (exports
   * read the whole package through one cursor, so the subject's chain of
   * CTEs is evaluated once). Columns: the collection's topo index (int), the
   * row's rank in it (part order, then key order), then the columns of
   * dsr_plan_access_columns() as text, padded with NULLs to the widest
   * collection. Rows come by collection, then rank. Rows are those of the
   * tenants in the parameter labelled "tenants" (a text[] literal) and, when
   * the parameter labelled "tenant_null" is "true", of the controller part;
   * both are left NULL for the caller. NULL for erasure plans.
   */
  char *export_sql;
  struct dsr_plan_param *export_params;
  size_t nexport_params;
  /**
   * Keyed access plans (dsr_plan_build_access_keyed) also: the rows of each
   * reached collection, in topological order, in a statement of its own
   * reading the session's table: export_sql's columns and rows for that
   * collection, except that the rank is NULL and the columns have their own
   * types (their text as libpq gives it is export_sql's text). Parameters as
   * export_sql's, except that the tenants' rows come in the order of the
   * "tenants" parameter (give it in part order, as dsr_plan.parts are).
   * NULL (none) otherwise.
   */
  struct dsr_plan_export *export_colls;
  size_t nexport_colls;
};

/**
 * Computes the plan of @p kind for @p subj over every postgresql store of
 * @p policy. @p conn is a connection to the store (one store per policy in
 * this version: collections of other stores are reported as an error).
 * Returns NULL and a message in @p err on failure. Caller frees with
 * dsr_plan_free(). Nothing is written: counts run in a read-only transaction.
 */
DSR_MUST_USE struct dsr_plan *dsr_plan_build(const struct dsr_policy *policy, PGconn *conn,
                                             enum dsr_plan_kind kind,
                                             const struct dsr_subject *subj, char *err,
                                             size_t errlen);
/**
 * As dsr_plan_build(), for an erasure that runs the plan's steps on @p conn:
 * the subject's rows of each reached collection are computed once, into a
 * temporary table of @p conn's session (pg_temp."__dsr_s<i>", i its
 * topological index; an earlier keyed plan's are replaced), in the
 * transaction of the counts, which commits; the counts and every step's page
 * query read those tables instead of evaluating the chain of references per
 * statement. So a page lists what the subject had when the plan was built
 * (the steps run children first, so no step changes the rows a later one
 * covers; the delete itself still checks what references a row), and the
 * tables last as long as the session: a new session, such as a resume after
 * a crash, builds the plan, and its tables, anew.
 */
DSR_MUST_USE struct dsr_plan *dsr_plan_build_keyed(const struct dsr_policy *policy, PGconn *conn,
                                                   const struct dsr_subject *subj, char *err,
                                                   size_t errlen);
/**
 * As dsr_plan_build_keyed(), for an access plan: the subject's rows go into
 * the session's tables once, in the transaction of the counts, and the
 * counts and export_sql read those tables; so an export reading export_sql
 * on @p conn afterwards reads the rows the counts counted (one snapshot) and
 * the chain of references is evaluated once for both.
 */
DSR_MUST_USE struct dsr_plan *dsr_plan_build_access_keyed(const struct dsr_policy *policy,
                                                          PGconn *conn,
                                                          const struct dsr_subject *subj,
                                                          char *err, size_t errlen);
void dsr_plan_free(struct dsr_plan *plan);

/** The plan as JSON (new reference; caller decrefs). Secrets are never included. */
json_t *dsr_plan_to_json(const struct dsr_plan *plan);
/** Writes a readable table of the plan to @p out. */
void dsr_plan_print(const struct dsr_plan *plan, FILE *out, bool with_sql);

/** Most columns a collection's access statements read. */
#define DSR_PLAN_MAX_COLUMNS 256
/**
 * The columns access plans read of @p c (at most @p max, into @p out, borrowed
 * from the policy): the export fields, then file columns and portable fields
 * not among them; all columns when the policy has no export fields.
 */
size_t dsr_plan_access_columns(const struct dsr_pcollection *c, const char **out, size_t max);

/** Total rows of a collection over all parts (tests, receipts). */
long long dsr_plan_rows(const struct dsr_plan *plan, const char *collection);

const char *dsr_step_verb_name(enum dsr_step_verb v);

/* --- SQL generation (planner_sql.c), also used by lint and sweeps --------- */

/** Appends @p name as a quoted SQL identifier ("a""b"). */
DSR_MUST_USE bool dsr_sql_ident(struct dsr_buf *b, const char *name);
/**
 * Appends @p v (NULL: a NULL element) to a text[] literal under way in @p b,
 * quoted; @p first: no comma before it. The caller writes the braces.
 */
DSR_MUST_USE bool dsr_sql_array_add(struct dsr_buf *b, const char *v, bool first);
/** Normalizes a subject value for an identity of @p norm; caller frees. NULL: unusable. */
char *dsr_identity_normalize(enum dsr_id_norm norm, const char *value);
/**
 * The value identity column @p id is compared with, for a subject whose
 * value of its kind is @p value: normalized as its normalize says, or, for
 * a phone column with a declared format, the number (parsed in the default
 * region @p region, or NULL) in that format. For format "any" it is a
 * PostgreSQL text[] literal of the digit sequences of every written form,
 * to compare with the column's digits, and *any is set. NULL when the
 * subject has no value for the column (e.g. a national:DE column and a
 * Spanish number). Caller frees.
 */
char *dsr_identity_match_value(const struct dsr_pidentity *id, const char *value,
                               const char *region, bool *any);

#endif

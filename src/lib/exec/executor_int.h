/**
 * @file executor_int.h
 * @brief Internals of the executor: statements generated for one
 *        collection (executor_sql.c), the page transforms (executor_mask.c)
 *        and the store's fixed statements.
 */
#ifndef DSR_EXECUTOR_INT_H
#define DSR_EXECUTOR_INT_H

#include "dsr/db.h"
#include "dsr/executor.h"

/** SQL text of a fixed statement, for store connections (not prepared there). */
const char *exec_fixed_sql(enum dsr_stmt st);

/**
 * DELETE of the rows whose keys are in $1 (text[]), except those other
 * collections still reference; RETURNING the key and each file column.
 * Caller frees; NULL on allocation failure.
 */
char *exsql_delete(const struct dsr_policy *p, const struct dsr_pcollection *c);
/** SELECT key::text and @p cols (as text) of the rows with keys in $1, FOR UPDATE. Caller frees. */
char *exsql_select(const struct dsr_pcollection *c, const char *const *cols, size_t n);
/**
 * UPDATE setting @p cols from unnest($1 keys, $2.. values) (text arrays,
 * cast to the declared types). Caller frees.
 */
char *exsql_update(const struct dsr_pcollection *c, const char *const *cols, size_t n);

/** A page read for a transform: keys and values (row-major), as text; NULL is SQL NULL. */
struct expage {
  int nrows;
  size_t ncols;
  char **vals; /**< nrows * ncols, owned */
};

/**
 * Computes the new values of a mask or redact page in place; *changed[i]
 * tells whether row i changes (allocated by the caller, nrows entries).
 * False on allocation failure.
 */
DSR_MUST_USE bool extransform(const struct dsr_exec *ex, const struct dsr_exec_step *st,
                              struct expage *pg, bool *changed);

/** The columns a transform reads and writes: mask fields or redact columns (borrowed). */
size_t excols(const struct dsr_exec_step *st, const char **cols, size_t max);

/**
 * The copies of the policy's file_set backup sets: each immediate
 * subdirectory of a set's root is one copy mirroring the files store it
 * copies ("of"), so a file "rel" of that store is "COPY/rel" in the set.
 */
struct excopy {
  const struct dsr_pstore *set;
  char copy[256];
};
struct excopies {
  struct excopy *v; /**< owned */
  size_t n;
};
/** Lists them (sets whose root is not configured here have none). False on allocation failure. */
DSR_MUST_USE bool excopies_list(const struct dsr_policy *p, struct excopies *out);
void excopies_free(struct excopies *c);

/** One file's removal by exfiles_unlink(). */
struct exunlink {
  int err;            /**< 0: gone (or already missing) and its directory synced; else an errno */
  bool refused;       /**< its path is refused: it never can be removed */
  const char *reason; /**< why not (static text, never a path), or NULL */
};

/**
 * Unlinks files i < @p n (store names and values, as listed in
 * dsr_file_deletions) under their roots, then fsyncs each directory touched
 * once; out[i] says how it went. False on allocation failure.
 */
DSR_MUST_USE bool exfiles_unlink(const struct dsr_exec *ex, size_t n, const char *const *stores,
                                 const char *const *values, struct exunlink *out);

#endif

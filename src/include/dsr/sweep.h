/**
 * @file sweep.h
 * @brief Retention sweeps: every retention rule of the policy —
 *        N days from a column, N days after an event, per-tenant periods
 *        read from a settings collection and clamped to the policy's bounds,
 *        "with the parent" — applied by the executor (executor.h), children
 *        before parents, with files removed and a "sweep.receipt". Then
 *        dsrd's own data past retention_of_dsr_data. One sweep at a time
 *        across all nodes (an advisory lock); an interrupted sweep resumes
 *        with the same cutoff.
 */
#ifndef DSR_SWEEP_H
#define DSR_SWEEP_H

#include <jansson.h>
#include <time.h>
#include "dsr/db.h"
#include "dsr/executor.h"
#include "dsr/policy.h"

/** The job kind of the scheduled sweep (payload {}); it schedules its next run itself. */
#define DSR_JOB_RETENTION_SWEEP "retention_sweep"

struct dsr_sweep_opts {
  bool dry_run;       /**< count what would go; change nothing */
  long batch_rows;    /**< 0: default */
  time_t now;         /**< the cutoff clock; 0: dsr_now() */
  bool own_data;      /**< also dsrd's own data (retention_of_dsr_data) */
  long outbox_days;   /**< own data: outbox messages older than this go (policy "messages" wins) */
  long export_days;   /**< own data: records of destroyed packages older than this go */
  char export_dir[512]; /**< own data: package directory for expired packages ("" : left to the
                             export_expire jobs) */
  /**
   * Progress (may be NULL): collection, rows done, rows expected (-1 unknown);
   * done == total == -2 when a collection ends.
   */
  void (*progress)(void *ctx, const char *collection, long long done, long long total);
  void *progress_ctx;
  /**
   * Progress wants each step's total: what it would remove is counted before it runs (a
   * scan of the collection's rows past retention). Unset, the total is -1.
   */
  bool progress_total;
};

struct dsr_config;
/**
 * Options of a real sweep from the configuration: batch size, dsrd's own
 * data with its configured periods, and the package directory (export_dir
 * or STATE_DIR/exports) when it exists.
 */
void dsr_sweep_opts_init(struct dsr_sweep_opts *o, const struct dsr_config *cfg);

enum dsr_sweep_outcome { DSR_SWEEP_DONE, DSR_SWEEP_BUSY, DSR_SWEEP_RETRY, DSR_SWEEP_FAIL };

/**
 * Runs one sweep (or resumes the interrupted one). On DSR_SWEEP_DONE
 * *receipt (new reference, caller decrefs) is the receipt, or for a dry run
 * {"dry_run": true, "collections": [{"store","collection","action","rows","files"}]}.
 */
enum dsr_sweep_outcome dsr_sweep_run(struct dsr_db *db, const struct dsr_policy *p,
                                     const struct dsr_sweep_opts *o, json_t **receipt,
                                     char *err, size_t errlen);

/**
 * Enqueues the next scheduled sweep at the next multiple of @p interval_s
 * (a dedupe key per slot, so many processes schedule it once).
 */
DSR_MUST_USE bool dsr_sweep_schedule(struct dsr_db *db, long interval_s);

/** One collection's sweep statements (sweep_sql.c); owned, free with dsr_sweep_steps_free(). */
struct dsr_sweep_step {
  struct dsr_exec_step st;
  char *keys_sql;
  struct dsr_plan_param *params;
  size_t nparams;
  char *count_sql; /**< SELECT count(*), files FROM ... WHERE expired (no cursor/limit) */
  struct dsr_plan_param *count_params;
  size_t ncount_params;
};

/**
 * The steps of a sweep at cutoff @p as_of: one per collection with an
 * expiring rule, children first. False on allocation failure.
 */
DSR_MUST_USE bool dsr_sweep_steps(const struct dsr_policy *p, time_t as_of,
                                  struct dsr_sweep_step **out, size_t *n);
/**
 * The same, where @p guarded (may be NULL) says which with_parent children have a
 * reference that a foreign key guards, so that no child row with a reference lacks its
 * parent row: such a child whose parent expires by a rule of its own is paged from the
 * parent's expired rows (its children, in the order of the parent's key, then its own;
 * the page query's second column is the step's cursor), not by a probe of the parent for
 * every row of the child's table.
 */
DSR_MUST_USE bool dsr_sweep_steps_guarded(const struct dsr_policy *p, time_t as_of,
                                          bool (*guarded)(void *ctx,
                                                          const struct dsr_pcollection *c),
                                          void *ctx, struct dsr_sweep_step **out, size_t *n);
void dsr_sweep_steps_free(struct dsr_sweep_step *v, size_t n);

#endif

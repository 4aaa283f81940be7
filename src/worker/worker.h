/**
 * @file worker.h
 * @brief Worker threads of dsrd and the registry of job kinds (jobs.c, one
 *        file per kind: job_<kind>.c). Each worker thread holds its own
 *        database connection, LISTENs on "dsr_jobs", claims batches of jobs
 *        and runs them; it wakes on a notification, when the next job falls
 *        due, or at the latest every few seconds (for leases that ran out).
 */
#ifndef DSRD_WORKER_H
#define DSRD_WORKER_H

#include "dsr/config.h"
#include "dsr/policy.h"
#include "dsr/queue.h"

/** What handlers may read (shared, read-only while workers run). */
struct dsr_worker_env {
  const struct dsr_config *cfg;
  const struct dsr_policy *policy; /**< NULL: built-in defaults */
};

/** The registry: every job kind dsrd runs, terminated by a row with kind NULL. */
extern const struct dsr_job_kind dsr_job_registry[];
/**
 * The same kinds and leases, each handler timed for /metrics (job_timing.c);
 * the worker threads run this one.
 */
const struct dsr_job_kind *dsr_job_registry_timed(void);

/* Handlers, one file per kind (ctx is the struct dsr_worker_env). */
enum dsr_job_result dsr_job_send_message(struct dsr_db *db, const struct dsr_job *job, void *ctx,
                                         char *err, size_t errlen);
enum dsr_job_result dsr_job_expire_request(struct dsr_db *db, const struct dsr_job *job,
                                           void *ctx, char *err, size_t errlen);
enum dsr_job_result dsr_job_closing_notice(struct dsr_db *db, const struct dsr_job *job,
                                           void *ctx, char *err, size_t errlen);

struct dsr_workers;

/**
 * Starts @p n worker threads on @p conninfo (copied). @p env must outlive
 * them. Returns NULL (with @p err) when a thread cannot start. Stop and free
 * with dsr_workers_stop().
 */
struct dsr_workers *dsr_workers_start(const char *conninfo, int n,
                                      const struct dsr_worker_env *env, char *err,
                                      size_t errlen);
/** Wakes every worker, waits until each finished its current job, frees @p w. */
void dsr_workers_stop(struct dsr_workers *w);

#endif

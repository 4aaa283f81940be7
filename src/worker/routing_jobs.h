/**
 * @file routing_jobs.h
 * @brief Job handlers of discovery and routing, one file each:
 *        job_discovery.c, job_webhook.c, job_routing_sweep.c. Their context
 *        is the worker environment (struct dsr_worker_env).
 */
#ifndef DSRD_ROUTING_JOBS_H
#define DSRD_ROUTING_JOBS_H

#include "dsr/queue.h"

enum dsr_job_result dsr_job_discovery(struct dsr_db *db, const struct dsr_job *job, void *ctx,
                                      char *err, size_t errlen);
enum dsr_job_result dsr_job_webhook(struct dsr_db *db, const struct dsr_job *job, void *ctx,
                                    char *err, size_t errlen);
/* The batch handler of "webhook_deliver": the batch's rows delivered with shared commits. */
size_t dsr_job_webhook_batch(struct dsr_db *db, const struct dsr_job *const *jobs, size_t n,
                             void *ctx, double deadline_ms, enum dsr_job_result *res, char *err,
                             size_t errlen);
enum dsr_job_result dsr_job_routing_sweep(struct dsr_db *db, const struct dsr_job *job,
                                          void *ctx, char *err, size_t errlen);

struct dsr_worker_env;
/**
 * DRP status callbacks of request @p request_id (NULL: every request whose state changed),
 * as the routing sweep sends them; jobs that change a request's state call it when done.
 */
DSR_MUST_USE bool dsr_worker_drp_callbacks(struct dsr_db *db, const struct dsr_worker_env *env,
                                           const char *request_id, int *queued);

#endif

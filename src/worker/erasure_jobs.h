/**
 * @file erasure_jobs.h
 * @brief Job handlers of erasure and retention, one file each:
 *        job_erasure.c, job_retention_sweep.c. Their context is the worker
 *        environment (struct dsr_worker_env).
 */
#ifndef DSRD_ERASURE_JOBS_H
#define DSRD_ERASURE_JOBS_H

#include "dsr/queue.h"

enum dsr_job_result dsr_job_erasure(struct dsr_db *db, const struct dsr_job *job, void *ctx,
                                    char *err, size_t errlen);
enum dsr_job_result dsr_job_retention_sweep(struct dsr_db *db, const struct dsr_job *job,
                                            void *ctx, char *err, size_t errlen);

#endif

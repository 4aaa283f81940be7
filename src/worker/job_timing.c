/**
 * @file job_timing.c
 * @brief The job registry as the worker threads run it: every kind of
 *        jobs.c with its handler wrapped to count the run and its duration
 *        (dsrd_job_runs_total, dsrd_job_duration_seconds on /metrics).
 */
#include "config.h"
#include "worker.h"
#include "dsr/metrics.h"
#include "dsr/util.h"

#include <pthread.h>
#include <string.h>

#define MAX_KINDS 32

static struct dsr_job_kind timed[MAX_KINDS + 1];
static pthread_once_t once = PTHREAD_ONCE_INIT;

static enum dsr_job_result run_timed(struct dsr_db *db, const struct dsr_job *job, void *ctx,
                                     char *err, size_t errlen)
{
  for (const struct dsr_job_kind *k = dsr_job_registry; k->kind; k++) {
    if (strcmp(k->kind, job->kind))
      continue;
    double t0 = dsr_mono_ms();
    enum dsr_job_result res = k->handler(db, job, ctx, err, errlen);
    dsr_metrics_job_observe(k->kind,
                            res == DSR_JOB_DONE    ? "done"
                            : res == DSR_JOB_RETRY ? "retry"
                                                   : "fail",
                            (dsr_mono_ms() - t0) / 1000.0);
    return res;
  }
  return DSR_JOB_FAIL; /* not reached: the claim only takes kinds of the registry */
}

/* A kind's batch handler, timed: each job it ran is observed with an equal share of the call. */
static size_t run_timed_batch(struct dsr_db *db, const struct dsr_job *const *jobs, size_t n,
                              void *ctx, double deadline_ms, enum dsr_job_result *res, char *err,
                              size_t errlen)
{
  for (const struct dsr_job_kind *k = dsr_job_registry; n && k->kind; k++) {
    if (strcmp(k->kind, jobs[0]->kind) || !k->batch)
      continue;
    double t0 = dsr_mono_ms();
    size_t ran = k->batch(db, jobs, n, ctx, deadline_ms, res, err, errlen);
    double each = ran ? (dsr_mono_ms() - t0) / 1000.0 / (double)ran : 0;
    for (size_t i = 0; i < ran; i++)
      dsr_metrics_job_observe(k->kind,
                              res[i] == DSR_JOB_DONE    ? "done"
                              : res[i] == DSR_JOB_RETRY ? "retry"
                                                        : "fail",
                              each);
    return ran;
  }
  return 0; /* not reached: only kinds with a batch handler get this one */
}

static void build(void)
{
  size_t n = 0;
  for (const struct dsr_job_kind *k = dsr_job_registry; k->kind && n < MAX_KINDS; k++) {
    timed[n] = *k;
    timed[n].batch = k->batch ? run_timed_batch : NULL;
    timed[n++].handler = run_timed;
  }
  timed[n] = (struct dsr_job_kind){0};
}

const struct dsr_job_kind *dsr_job_registry_timed(void)
{
  pthread_once(&once, build);
  return timed;
}

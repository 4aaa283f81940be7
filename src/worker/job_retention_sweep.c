/**
 * @file job_retention_sweep.c
 * @brief Job "retention_sweep": one retention sweep (dsr_sweep_run), with
 *        dsrd's own data, then the next one scheduled. Another node's sweep
 *        in progress (the advisory lock) means nothing to do now.
 */
#include "config.h"
#include "erasure_jobs.h"
#include "worker.h"
#include "dsr/log.h"
#include "dsr/sweep.h"

#include <stdio.h>

enum dsr_job_result dsr_job_retention_sweep(struct dsr_db *db, const struct dsr_job *job,
                                            void *ctx, char *err, size_t errlen)
{
  (void)job;
  const struct dsr_worker_env *env = ctx;
  if (!env->policy) {
    snprintf(err, errlen, "no policy_file: sweeps need the policy's retention rules");
    return DSR_JOB_FAIL;
  }
  struct dsr_sweep_opts o;
  dsr_sweep_opts_init(&o, env->cfg);
  json_t *receipt = NULL;
  enum dsr_sweep_outcome out = dsr_sweep_run(db, env->policy, &o, &receipt, err, errlen);
  json_decref(receipt);
  if (out == DSR_SWEEP_RETRY)
    return DSR_JOB_RETRY;
  if (!dsr_sweep_schedule(db, env->cfg->retention_sweep_interval))
    DSR_WARN("sweep.schedule_failed", NULL);
  return out == DSR_SWEEP_FAIL ? DSR_JOB_FAIL : DSR_JOB_DONE;
}

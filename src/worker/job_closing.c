/**
 * @file job_closing.c
 * @brief Job "closing_notice" {"request_id"}: queued when a request is
 *        completed or withdrawn; tells the subject how it ended (closing.h),
 *        and an authorized agent at once (DRP status callback) rather than at
 *        the next routing sweep. Idempotent.
 */
#include "config.h"
#include "worker.h"
#include "routing_jobs.h"
#include "dsr/closing.h"
#include "dsr/log.h"

#include <stdio.h>

enum dsr_job_result dsr_job_closing_notice(struct dsr_db *db, const struct dsr_job *job,
                                           void *ctx, char *err, size_t errlen)
{
  const struct dsr_worker_env *env = ctx;
  const char *id = json_string_value(json_object_get(job->payload, "request_id"));
  if (!id) {
    snprintf(err, errlen, "payload lacks request_id");
    return DSR_JOB_FAIL;
  }
  if (!dsr_closing_notice(db, env->policy, env->cfg->base_url, id)) {
    snprintf(err, errlen, "database error");
    return DSR_JOB_RETRY;
  }
  int n = 0;
  if (!dsr_worker_drp_callbacks(db, env, id, &n))
    DSR_WARN("drp.callback_deferred", "id=%s", id); /* the routing sweep sends it */
  return DSR_JOB_DONE;
}

/**
 * @file job_expire_request.c
 * @brief Job "expire_request" {"request_id"}, due when the policy's
 *        request_expiry has passed: a request still unverified becomes
 *        "expired" and the subject is told. Idempotent.
 */
#include "config.h"
#include "worker.h"
#include "routing_jobs.h"
#include "dsr/log.h"
#include "dsr/verify.h"

#include <stdio.h>

enum dsr_job_result dsr_job_expire_request(struct dsr_db *db, const struct dsr_job *job,
                                           void *ctx, char *err, size_t errlen)
{
  const struct dsr_worker_env *env = ctx;
  const char *id = json_string_value(json_object_get(job->payload, "request_id"));
  if (!id) {
    snprintf(err, errlen, "payload lacks request_id");
    return DSR_JOB_FAIL;
  }
  struct dsr_verify_env venv = {.policy = env->policy, .link_base = env->cfg->base_url};
  bool expired = false;
  if (!dsr_verify_expire(db, &venv, id, dsr_now(), &expired)) {
    snprintf(err, errlen, "database error");
    return DSR_JOB_RETRY;
  }
  int n = 0;
  if (expired)
    DSR_INFO("request.expired", "id=%s", id);
  if (expired && !dsr_worker_drp_callbacks(db, env, id, &n))
    DSR_WARN("drp.callback_deferred", "id=%s", id); /* the routing sweep sends it */
  return DSR_JOB_DONE;
}

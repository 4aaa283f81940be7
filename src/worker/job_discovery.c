/**
 * @file job_discovery.c
 * @brief Job "discovery": splits a verified request into parts with the
 *        planner (dsr_discovery_run). Idempotent: a request already split is
 *        left alone.
 */
#include "config.h"
#include "routing_jobs.h"
#include "worker.h"
#include "dsr/discovery.h"
#include "dsr/log.h"
#include "dsr/validate.h"
#include "dsr/webhook.h"

#include <stdio.h>

enum dsr_job_result dsr_job_discovery(struct dsr_db *db, const struct dsr_job *job, void *ctx,
                                      char *err, size_t errlen)
{
  const struct dsr_worker_env *env = ctx;
  const char *id = json_string_value(json_object_get(job->payload, "request_id"));
  const char *why;
  if (!id || !dsr_valid_uuid(id, &why)) {
    snprintf(err, errlen, "payload lacks a request_id");
    return DSR_JOB_FAIL;
  }
  if (!env->policy) {
    /* Without a data map nobody can say where the subject's data is: an operator must act. */
    snprintf(err, errlen, "no policy_file: discovery needs the policy's data map");
    return DSR_JOB_FAIL;
  }
  struct dsr_finder f;
  dsr_planner_finder(&f, env->policy);
  struct dsr_webhook_opts o;
  dsr_webhook_opts_from_config(&o, env->cfg);
  int nparts = 0;
  enum dsr_ec ec = dsr_discovery_run(db, env->policy, &f, o.base_url, id, &nparts);
  int n = 0;
  if (ec == DSR_OK && !dsr_worker_drp_callbacks(db, env, id, &n))
    DSR_WARN("drp.callback_deferred", "id=%s", id); /* the routing sweep sends it */
  if (ec == DSR_OK || ec == DSR_E_NOT_FOUND)
    return DSR_JOB_DONE;
  snprintf(err, errlen, "discovery failed (%s)", dsr_ec_code(ec));
  return DSR_JOB_RETRY;
}

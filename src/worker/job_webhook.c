/**
 * @file job_webhook.c
 * @brief Job "webhook_deliver": one attempt at one outbox row. HTTP failures
 *        are not job failures: the outbox schedules the next attempt (with its
 *        own job) after its back-off or the endpoint's Retry-After.
 */
#include "config.h"
#include "routing_jobs.h"
#include "worker.h"
#include "dsr/webhook.h"

#include <stdio.h>

enum dsr_job_result dsr_job_webhook(struct dsr_db *db, const struct dsr_job *job, void *ctx,
                                    char *err, size_t errlen)
{
  const struct dsr_worker_env *env = ctx;
  json_t *id = json_object_get(job->payload, "outbox_id");
  if (!json_is_integer(id)) {
    snprintf(err, errlen, "payload lacks an outbox_id");
    return DSR_JOB_FAIL;
  }
  struct dsr_webhook_opts o;
  dsr_webhook_opts_from_config(&o, env->cfg);
  bool attempted = false;
  if (!dsr_webhook_deliver_one(db, &o, (long long)json_integer_value(id), &attempted)) {
    snprintf(err, errlen, "database error while delivering");
    return DSR_JOB_RETRY;
  }
  return DSR_JOB_DONE; /* not due, delivered, rescheduled or given up: this job is over */
}

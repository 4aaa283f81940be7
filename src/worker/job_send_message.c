/**
 * @file job_send_message.c
 * @brief Job "send_message" {"outbox_id"}: delivers one outbox message
 *        through the configured transport (outbox.h). Idempotent: a message
 *        already sent is done.
 */
#include "config.h"
#include "worker.h"
#include "dsr/outbox.h"

#include <stdio.h>

enum dsr_job_result dsr_job_send_message(struct dsr_db *db, const struct dsr_job *job, void *ctx,
                                         char *err, size_t errlen)
{
  const struct dsr_worker_env *env = ctx;
  json_t *id = json_object_get(job->payload, "outbox_id");
  if (!json_is_integer(id)) {
    snprintf(err, errlen, "payload lacks outbox_id");
    return DSR_JOB_FAIL;
  }
  return dsr_outbox_send(db, env->cfg, (int64_t)json_integer_value(id),
                         job->attempts >= job->max_attempts, dsr_now(), err, errlen);
}

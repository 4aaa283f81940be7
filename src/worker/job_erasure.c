/**
 * @file job_erasure.c
 * @brief Job "erasure": runs (or resumes) an approved erasure part with the
 *        executor (dsr_erasure_run). Idempotent: a finished part is left
 *        alone, an interrupted one resumes where its progress says.
 */
#include "config.h"
#include "erasure_jobs.h"
#include "worker.h"
#include "dsr/erasure.h"
#include "dsr/validate.h"

#include <stdio.h>

enum dsr_job_result dsr_job_erasure(struct dsr_db *db, const struct dsr_job *job, void *ctx,
                                    char *err, size_t errlen)
{
  const struct dsr_worker_env *env = ctx;
  const char *id = json_string_value(json_object_get(job->payload, "part_id"));
  const char *why;
  if (!id || !dsr_valid_uuid(id, &why)) {
    snprintf(err, errlen, "payload lacks a part_id");
    return DSR_JOB_FAIL;
  }
  if (!env->policy) {
    snprintf(err, errlen, "no policy_file: erasure needs the policy's data map");
    return DSR_JOB_FAIL;
  }
  switch (dsr_erasure_run(db, env->policy, id, env->cfg->erasure_batch_rows,
                          env->cfg->erasure_page_ms, err, errlen)) {
  case DSR_ERASURE_DONE:
  case DSR_ERASURE_NOTHING:
  case DSR_ERASURE_HELD: return DSR_JOB_DONE;
  case DSR_ERASURE_BUSY:
  case DSR_ERASURE_RETRY: return DSR_JOB_RETRY;
  case DSR_ERASURE_FAIL: break;
  }
  return DSR_JOB_FAIL;
}

/**
 * @file job_rights.c
 * @brief Job "rights": carries out an approved part of a restriction,
 *        objection, withdraw_consent or opt_out request (dsr_rights_run).
 *        Idempotent: a part already done is left alone; registry rows are
 *        unique per part and identity; choices guard their own changes.
 */
#include "config.h"
#include "worker.h"
#include "export_jobs.h"
#include "dsr/rights.h"
#include "dsr/validate.h"

#include <stdio.h>

enum dsr_job_result dsr_job_rights(struct dsr_db *db, const struct dsr_job *job, void *ctx,
                                   char *err, size_t errlen)
{
  const struct dsr_worker_env *env = ctx;
  const char *id = json_string_value(json_object_get(job->payload, "part_id"));
  const char *why;
  if (!id || !dsr_valid_uuid(id, &why)) {
    snprintf(err, errlen, "payload lacks a part_id");
    return DSR_JOB_FAIL;
  }
  return (enum dsr_job_result)dsr_rights_run(db, env ? env->policy : NULL, id, err, errlen);
}

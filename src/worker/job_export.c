/**
 * @file job_export.c
 * @brief Jobs "export" (build the package of an approved access or
 *        portability part) and "export_expire" (destroy a package whose link
 *        expired). Both idempotent (see export.h).
 */
#include "config.h"
#include "worker.h"
#include "export_jobs.h"
#include "dsr/export.h"
#include "dsr/validate.h"
#include "dsr/webhook.h"

#include <stdio.h>

void dsr_export_opts_from_config(struct dsr_export_opts *o, const struct dsr_config *cfg,
                                 const char *dir)
{
  struct dsr_webhook_opts w;
  dsr_webhook_opts_from_config(&w, cfg);
  *o = (struct dsr_export_opts){.dir = dir, .link_seconds = cfg->export_link_days * 86400L,
                                .max_downloads = cfg->export_max_downloads};
  /* the default base URL lives in w's own buffer, gone with w: keep a copy in o */
  snprintf(o->base_buf, sizeof o->base_buf, "%s", w.base_url);
  o->base_url = o->base_buf;
}

static const char *payload_id(const struct dsr_job *job, const char *key, char *err, size_t errlen)
{
  const char *id = json_string_value(json_object_get(job->payload, key));
  const char *why;
  if (!id || !dsr_valid_uuid(id, &why)) {
    snprintf(err, errlen, "payload lacks a %s", key);
    return NULL;
  }
  return id;
}

enum dsr_job_result dsr_job_export(struct dsr_db *db, const struct dsr_job *job, void *ctx,
                                   char *err, size_t errlen)
{
  const struct dsr_worker_env *env = ctx;
  const char *id = payload_id(job, "part_id", err, errlen);
  if (!id)
    return DSR_JOB_FAIL;
  if (!env->policy) {
    snprintf(err, errlen, "no policy_file: exports need the policy's data map");
    return DSR_JOB_FAIL;
  }
  char dir[1024];
  if (!dsr_export_dir(env->cfg, dir, sizeof dir)) {
    snprintf(err, errlen, "the export directory cannot be created");
    return DSR_JOB_RETRY;
  }
  struct dsr_export_opts o;
  dsr_export_opts_from_config(&o, env->cfg, dir);
  /* the policy's retention_of_dsr_data.exports, when set, decides how long links live */
  const char *keep = json_string_value(
      json_object_get(dsr_policy_section(env->policy, "retention_of_dsr_data"), "exports"));
  long long secs = 0;
  if (keep && dsr_duration_parse(keep, &secs) && secs > 0)
    o.link_seconds = (long)secs;
  return (enum dsr_job_result)dsr_export_run(db, env->policy, &o, id, err, errlen);
}

enum dsr_job_result dsr_job_export_expire(struct dsr_db *db, const struct dsr_job *job,
                                          void *ctx, char *err, size_t errlen)
{
  const struct dsr_worker_env *env = ctx;
  const char *id = payload_id(job, "export_id", err, errlen);
  if (!id)
    return DSR_JOB_FAIL;
  char dir[1024];
  if (!dsr_export_dir(env->cfg, dir, sizeof dir)) {
    snprintf(err, errlen, "the export directory cannot be created");
    return DSR_JOB_RETRY;
  }
  struct dsr_export_opts o;
  dsr_export_opts_from_config(&o, env->cfg, dir);
  return (enum dsr_job_result)dsr_export_expire(db, &o, id, err, errlen);
}

/** @file export_jobs.h @brief Handlers of the export and rights job kinds (job_export.c, job_rights.c). */
#ifndef DSRD_EXPORT_JOBS_H
#define DSRD_EXPORT_JOBS_H

#include "dsr/config.h"
#include "dsr/export.h"
#include "dsr/queue.h"

enum dsr_job_result dsr_job_export(struct dsr_db *db, const struct dsr_job *job, void *ctx,
                                   char *err, size_t errlen);
enum dsr_job_result dsr_job_export_expire(struct dsr_db *db, const struct dsr_job *job,
                                          void *ctx, char *err, size_t errlen);
enum dsr_job_result dsr_job_rights(struct dsr_db *db, const struct dsr_job *job, void *ctx,
                                   char *err, size_t errlen);
/** Export options from the configuration; @p dir is borrowed. */
void dsr_export_opts_from_config(struct dsr_export_opts *o, const struct dsr_config *cfg,
                                 const char *dir);

#endif

/**
 * @file jobs.c
 * @brief The registry of job kinds dsrd's workers run. One file per kind
 *        (job_<kind>.c) holds its handler; add a row here for each.
 */
#include "config.h"
#include "worker.h"
#include "routing_jobs.h"
#include "export_jobs.h"
#include "dsr/rights.h"
#include "erasure_jobs.h"
#include "dsr/erasure.h"
#include "dsr/sweep.h"
#include "dsr/discovery.h"
#include "dsr/routing_sweep.h"
#include "dsr/webhook.h"

#include "dsr/outbox.h"
#include "dsr/verify.h"

/* kind, handler, lease in seconds (longer than one run can take) */
const struct dsr_job_kind dsr_job_registry[] = {
    {DSR_JOB_SEND_MESSAGE, dsr_job_send_message, 120},
    {DSR_JOB_EXPIRE_REQUEST, dsr_job_expire_request, 60},
    {DSR_JOB_DISCOVERY, dsr_job_discovery, 300},
    {DSR_JOB_WEBHOOK, dsr_job_webhook, 120}, /* > webhook_timeout (at most 120 s) */
    {DSR_JOB_ROUTING_SWEEP, dsr_job_routing_sweep, 300},
    {DSR_JOB_EXPORT, dsr_job_export, 1800}, /* a large package takes a while */
    {DSR_JOB_EXPORT_EXPIRE, dsr_job_export_expire, 60},
    {DSR_JOB_RIGHTS, dsr_job_rights, 120},
    {DSR_JOB_ERASURE, dsr_job_erasure, 900},  /* a busy run's lock keeps a second worker out */
    {DSR_JOB_RETENTION_SWEEP, dsr_job_retention_sweep, 3600},
    {NULL, NULL, 0},
};

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

#include "dsr/closing.h"
#include "dsr/outbox.h"
#include "dsr/verify.h"

/*
 * kind, handler, lease in seconds. The worker's heartbeat renews a lease every
 * third of it while the job runs, so a lease is how soon a crashed worker's job
 * is taken over, not how long a run may take (job_lease_max cuts it further).
 */
const struct dsr_job_kind dsr_job_registry[] = {
    {DSR_JOB_SEND_MESSAGE, dsr_job_send_message, 30, NULL}, /* codes expire in minutes */
    {DSR_JOB_EXPIRE_REQUEST, dsr_job_expire_request, 30, NULL},
    {DSR_JOB_CLOSING_NOTICE, dsr_job_closing_notice, 30, NULL},
    {DSR_JOB_DISCOVERY, dsr_job_discovery, 60, NULL},
    {DSR_JOB_WEBHOOK, dsr_job_webhook, 60, dsr_job_webhook_batch},
    {DSR_JOB_ROUTING_SWEEP, dsr_job_routing_sweep, 60, NULL},
    {DSR_JOB_EXPORT, dsr_job_export, 60, NULL},
    {DSR_JOB_EXPORT_EXPIRE, dsr_job_export_expire, 60, NULL},
    {DSR_JOB_RIGHTS, dsr_job_rights, 60, NULL},
    {DSR_JOB_ERASURE, dsr_job_erasure, 60, NULL}, /* a busy run's lock keeps a second worker out */
    {DSR_JOB_RETENTION_SWEEP, dsr_job_retention_sweep, 60, NULL},
    {NULL, NULL, 0, NULL},
};

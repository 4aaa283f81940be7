/**
 * @file jobs.c
 * @brief The registry of job kinds dsrd's workers run. One file per kind
 *        (job_<kind>.c) holds its handler; add a row here for each.
 */
#include "config.h"
#include "worker.h"

#include "dsr/outbox.h"
#include "dsr/verify.h"

/* kind, handler, lease in seconds (longer than one run can take) */
const struct dsr_job_kind dsr_job_registry[] = {
    {DSR_JOB_SEND_MESSAGE, dsr_job_send_message, 120},
    {DSR_JOB_EXPIRE_REQUEST, dsr_job_expire_request, 60},
    {NULL, NULL, 0},
};

/**
 * @file jobs.c
 * @brief The registry of job kinds dsrd's workers run. One file per kind
 *        (job_<kind>.c) holds its handler; add a row here for each.
 */
#include "config.h"
#include "worker.h"

const struct dsr_job_kind dsr_job_registry[] = {
    {NULL, NULL, 0},
};

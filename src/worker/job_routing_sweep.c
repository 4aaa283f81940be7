/**
 * @file job_routing_sweep.c
 * @brief Job "routing_sweep": reminders and escalations of customer parts,
 *        deadline flags, re-armed deliveries, DRP status callbacks of requests
 *        whose state changed; then schedules the next run.
 */
#include "config.h"
#include "routing_jobs.h"
#include "worker.h"
#include "dsr/drp.h"
#include "dsr/log.h"
#include "dsr/routing_sweep.h"
#include "dsr/webhook.h"

#include <stdio.h>

bool dsr_worker_drp_callbacks(struct dsr_db *db, const struct dsr_worker_env *env,
                              const char *request_id, int *queued)
{
  struct dsr_verify_env venv = {.policy = env->policy, .link_base = env->cfg->base_url};
  struct dsr_drp_env drp = {.cfg = env->cfg, .policy = env->policy, .venv = &venv};
  return dsr_drp_callbacks(db, &drp, request_id, queued);
}

enum dsr_job_result dsr_job_routing_sweep(struct dsr_db *db, const struct dsr_job *job,
                                          void *ctx, char *err, size_t errlen)
{
  (void)job;
  const struct dsr_worker_env *env = ctx;
  struct dsr_sweep_counts n;
  int rearmed = 0;
  if (!dsr_routing_sweep(db, env->policy, env->cfg->due_reminder_days, &n) ||
      !dsr_webhook_rearm(db, &rearmed)) {
    snprintf(err, errlen, "database error in the routing sweep");
    return DSR_JOB_RETRY;
  }
  /* Agents hear of every state change staff or workers made (DRP 1.0 section 2.03). */
  int callbacks = 0;
  if (!dsr_worker_drp_callbacks(db, env, NULL, &callbacks)) {
    snprintf(err, errlen, "database error in the DRP callbacks");
    return DSR_JOB_RETRY;
  }
  DSR_INFO("routing.sweep",
           "reminded=%d escalated=%d due_soon=%d overdue=%d rearmed=%d drp_callbacks=%d",
           n.reminded, n.escalated, n.due_soon, n.overdue, rearmed, callbacks);
  if (!dsr_routing_schedule(db, env->cfg->routing_sweep_interval)) {
    snprintf(err, errlen, "cannot schedule the next routing sweep");
    return DSR_JOB_RETRY;
  }
  return DSR_JOB_DONE;
}

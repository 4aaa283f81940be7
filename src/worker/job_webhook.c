/**
 * @file job_webhook.c
 * @brief Job "webhook_deliver": one attempt at one outbox row. HTTP failures
 *        are not job failures: the outbox schedules the next attempt (with its
 *        own job) after its back-off or the endpoint's Retry-After.
 */
#include "config.h"
#include "routing_jobs.h"
#include "worker.h"
#include "dsr/webhook.h"

#include <stdio.h>
#include <stdlib.h>

enum dsr_job_result dsr_job_webhook(struct dsr_db *db, const struct dsr_job *job, void *ctx,
                                    char *err, size_t errlen)
{
  /* one job is a batch of one: the same payload check, delivery and outcome */
  const struct dsr_job *one[] = {job};
  enum dsr_job_result res = DSR_JOB_RETRY;
  (void)dsr_job_webhook_batch(db, one, 1, ctx, 0, &res, err, errlen);
  return res;
}

size_t dsr_job_webhook_batch(struct dsr_db *db, const struct dsr_job *const *jobs, size_t n,
                             void *ctx, double deadline_ms, enum dsr_job_result *res, char *err,
                             size_t errlen)
{
  const struct dsr_worker_env *env = ctx;
  struct dsr_webhook_opts o;
  dsr_webhook_opts_from_config(&o, env->cfg);
  long long *ids = calloc(n, sizeof *ids);
  size_t *at = calloc(n, sizeof *at); /* the job of each id */
  bool *failed = calloc(n, sizeof *failed);
  size_t m = 0, ran = 0, attempted = 0;
  if (!ids || !at || !failed) {
    snprintf(err, errlen, "out of memory");
    res[0] = DSR_JOB_RETRY;
    ran = 1; /* the first one reports it; the rest go back */
    goto cleanup;
  }
  for (size_t i = 0; i < n; i++) {
    json_t *id = json_object_get(jobs[i]->payload, "outbox_id");
    if (!json_is_integer(id)) {
      snprintf(err, errlen, "payload lacks an outbox_id");
      res[i] = DSR_JOB_FAIL;
      continue;
    }
    at[m] = i;
    ids[m++] = (long long)json_integer_value(id);
  }
  size_t dealt = m ? dsr_webhook_deliver_many(db, &o, ids, m, deadline_ms, failed, &attempted)
                   : 0;
  ran = dealt < m ? at[dealt] : n; /* the jobs before the first not dealt with */
  for (size_t k = 0; k < dealt; k++) {
    res[at[k]] = failed[k] ? DSR_JOB_RETRY : DSR_JOB_DONE;
    if (failed[k])
      snprintf(err, errlen, "database error while delivering");
  }
cleanup:
  free(ids);
  free(at);
  free(failed);
  return ran;
}

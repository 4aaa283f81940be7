/** @file routing_sweep.c @brief Reminders, escalations and deadline flags (see routing_sweep.h). */
#include "config.h"
#include "dsr/parts.h"
#include "dsr/queue.h"
#include "dsr/routing_policy.h"
#include "dsr/routing_sweep.h"

#include <stdio.h>
#include <string.h>

struct sweep_ctx {
  const struct dsr_policy *policy;
  long days;
  struct dsr_sweep_counts n;
};

static enum dsr_tx_status remind(struct dsr_db *db, struct sweep_ctx *c, const char *now)
{
  const char *v[] = {now, dsr_rp_reminder_after(c->policy)};
  PGresult *r = NULL;
  enum dsr_tx_status s = dsr_tx_exec(db, DSR_STMT_SWEEP_REMIND_PARTS, 2, v, &r);
  if (s != DSR_TX_COMMIT)
    return s;
  json_t *extra = json_pack("{s:s, s:b}", "change", "reminder", "reminder", 1);
  for (int i = 0; i < PQntuples(r) && s == DSR_TX_COMMIT; i++) {
    s = dsr_part_notify(db, PQgetvalue(r, i, 0), "dsr.updated", extra);
    if (s == DSR_TX_COMMIT)
      s = dsr_tx_event(db, PQgetvalue(r, i, 1), "part.reminded", "system",
                       json_pack("{s:s}", "part_id", PQgetvalue(r, i, 0)));
    c->n.reminded++;
  }
  json_decref(extra);
  PQclear(r);
  return s;
}

static enum dsr_tx_status escalate(struct dsr_db *db, struct sweep_ctx *c, const char *now)
{
  const char *v[] = {now, dsr_rp_decision_timeout(c->policy)};
  PGresult *r = NULL;
  enum dsr_tx_status s = dsr_tx_exec(db, DSR_STMT_SWEEP_ESCALATE, 2, v, &r);
  if (s != DSR_TX_COMMIT)
    return s;
  json_t *extra = json_pack("{s:s, s:b}", "change", "escalated", "reminder", 1);
  for (int i = 0; i < PQntuples(r) && s == DSR_TX_COMMIT; i++) {
    s = dsr_tx_event(db, PQgetvalue(r, i, 1), "part.escalated", "system",
                     json_pack("{s:s, s:s, s:s}", "part_id", PQgetvalue(r, i, 0), "customer_id",
                               PQgetvalue(r, i, 2), "why", "no_decision"));
    if (s == DSR_TX_COMMIT)
      s = dsr_part_notify(db, PQgetvalue(r, i, 0), "dsr.updated", extra);
    c->n.escalated++;
  }
  json_decref(extra);
  PQclear(r);
  return s;
}

static enum dsr_tx_status flag(struct dsr_db *db, enum dsr_stmt st, const char *now,
                               const char *days, const char *kind, int *count)
{
  const char *v[] = {now, days};
  PGresult *r = NULL;
  enum dsr_tx_status s = dsr_tx_exec(db, st, days ? 2 : 1, v, &r);
  if (s != DSR_TX_COMMIT)
    return s;
  for (int i = 0; i < PQntuples(r) && s == DSR_TX_COMMIT; i++) {
    s = dsr_tx_event(db, PQgetvalue(r, i, 0), kind, "system",
                     json_pack("{s:s}", "due_at", PQgetvalue(r, i, 1)));
    (*count)++;
  }
  PQclear(r);
  return s;
}

static enum dsr_tx_status sweep_body(struct dsr_db *db, void *arg)
{
  struct sweep_ctx *c = arg;
  memset(&c->n, 0, sizeof c->n);
  char now[24], days[24];
  snprintf(now, sizeof now, "%lld", (long long)dsr_now());
  snprintf(days, sizeof days, "%ld", c->days);
  /* Escalate first: a part past both limits is escalated, not merely reminded. */
  enum dsr_tx_status s = escalate(db, c, now);
  if (s == DSR_TX_COMMIT)
    s = remind(db, c, now);
  if (s == DSR_TX_COMMIT)
    s = flag(db, DSR_STMT_SWEEP_DUE_SOON, now, days, "request.due_soon", &c->n.due_soon);
  if (s == DSR_TX_COMMIT)
    s = flag(db, DSR_STMT_SWEEP_OVERDUE, now, NULL, "request.overdue", &c->n.overdue);
  return s;
}

bool dsr_routing_sweep(struct dsr_db *db, const struct dsr_policy *p, long due_reminder_days,
                       struct dsr_sweep_counts *out)
{
  struct sweep_ctx c = {.policy = p, .days = due_reminder_days};
  bool ok = dsr_db_tx(db, "READ COMMITTED", sweep_body, &c);
  *out = ok ? c.n : (struct dsr_sweep_counts){0};
  return ok;
}

bool dsr_routing_schedule(struct dsr_db *db, long interval_s)
{
  if (interval_s < 1)
    interval_s = 1;
  time_t now = dsr_now();
  time_t slot = (now / interval_s + 1) * interval_s;
  char key[64];
  snprintf(key, sizeof key, "routing_sweep:%lld", (long long)slot);
  struct dsr_job_opts o = {.run_at = slot, .dedupe_key = key, .max_attempts = 3};
  bool enqueued = false, retry = false;
  json_t *payload = json_object();
  bool ok = payload && dsr_queue_enqueue(db, DSR_JOB_ROUTING_SWEEP, payload, &o, now, &enqueued,
                                         &retry);
  json_decref(payload);
  return ok;
}

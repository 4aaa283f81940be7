/**
 * @file routing_sweep.h
 * @brief The periodic routing pass (a job on the queue): reminds customers
 *        that have not decided after customers.reminder_after, escalates
 *        their parts to the privacy team after customers.decision_timeout
 *        (reminding them once more), flags requests due soon and overdue.
 *        Everything goes by dsr_now(), so tests drive it with a fake clock.
 */
#ifndef DSR_ROUTING_SWEEP_H
#define DSR_ROUTING_SWEEP_H

#include "dsr/db.h"
#include "dsr/policy.h"

struct dsr_sweep_counts {
  int reminded;  /**< customer parts reminded */
  int escalated; /**< customer parts escalated */
  int due_soon;  /**< requests flagged due within due_reminder_days */
  int overdue;   /**< requests flagged overdue */
};

/** One pass, in one transaction. False when the database failed. */
DSR_MUST_USE bool dsr_routing_sweep(struct dsr_db *db, const struct dsr_policy *p,
                                    long due_reminder_days, struct dsr_sweep_counts *out);

/** The job kind of the sweep (payload {}); it schedules its next run itself. */
#define DSR_JOB_ROUTING_SWEEP "routing_sweep"

/**
 * Enqueues the next sweep at the next multiple of @p interval_s after now
 * (a dedupe key per slot: many processes schedule it once). Runs in its own
 * statement, outside a caller's transaction.
 */
DSR_MUST_USE bool dsr_routing_schedule(struct dsr_db *db, long interval_s);

#endif

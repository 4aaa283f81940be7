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

#endif

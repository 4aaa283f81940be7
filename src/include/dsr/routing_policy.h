/**
 * @file routing_policy.h
 * @brief What routing reads from the policy (docs/policy-sections.md):
 *        approval rules, customer decision timeouts and per-jurisdiction
 *        deadlines, extensions, holds and the "no data held" wording, with
 *        the documented defaults when the policy (or a section) is absent.
 *        Strings are borrowed from the policy or are static.
 */
#ifndef DSR_ROUTING_POLICY_H
#define DSR_ROUTING_POLICY_H

#include "dsr/policy.h"
#include "dsr/util.h"

/** The rules of one jurisdiction (intervals as PostgreSQL interval text). */
struct dsr_jur_rules {
  const char *deadline;
  const char *extension;               /**< "0 days" when none is allowed */
  const char *extension_notice_within; /**< default: the deadline */
  bool hold_pauses_clock;
  const char *no_data_message;
};

/** Fills @p out for jurisdiction @p code; false when the code is unknown. */
DSR_MUST_USE bool dsr_rp_jurisdiction(const struct dsr_policy *p, const char *code,
                                      struct dsr_jur_rules *out);

/** "staff" or "auto" for a part of a request of @p type under @p jurisdiction. */
const char *dsr_rp_approval(const struct dsr_policy *p, const char *type,
                            const char *jurisdiction);

/** customers.decision_timeout (default "10 days"). */
const char *dsr_rp_decision_timeout(const struct dsr_policy *p);
/** customers.reminder_after (default "5 days"). */
const char *dsr_rp_reminder_after(const struct dsr_policy *p);

#endif

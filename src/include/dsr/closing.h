/**
 * @file closing.h
 * @brief The answer every request ends with: when a request is completed
 *        (fulfilled, or no data held) or withdrawn, the "closing_notice" job
 *        tells the subject by mail and SMS (templates "notice"), in their
 *        language: for an erasure what was erased and what was kept and why,
 *        per category; for no data the jurisdiction's wording. Denials,
 *        extensions and expiry are told where they happen (notify.h).
 */
#ifndef DSR_CLOSING_H
#define DSR_CLOSING_H

#include "dsr/db.h"
#include "dsr/policy.h"

#define DSR_JOB_CLOSING_NOTICE "closing_notice"

/** Queues the closing notice of request @p id (once per request), inside the caller's transaction. */
DSR_MUST_USE enum dsr_tx_status dsr_closing_enqueue(struct dsr_db *db, const char *id);

/**
 * Runs the closing notice of request @p id: queues the message on the
 * request's channels and records "subject.answered", once (idempotent: a
 * second run finds the event and does nothing). @p link_base makes the
 * status link absolute. False on a database error (retry).
 */
DSR_MUST_USE bool dsr_closing_notice(struct dsr_db *db, const struct dsr_policy *policy,
                                     const char *link_base, const char *id);

/**
 * What the erasure receipts of request @p id say, in plain words, into
 * @p ctx: "erased" [{"what"}] and "kept" [{"what", "why"}] per category label
 * (policy: collections.C.label, else its first category's label;
 * erasure.explanation, else the basis), and "has_erased" / "has_kept".
 * False on a database error.
 */
DSR_MUST_USE bool dsr_closing_erasure_summary(struct dsr_db *db, const struct dsr_policy *policy,
                                              const char *id, json_t *ctx);

#endif

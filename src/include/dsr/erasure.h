/**
 * @file erasure.h
 * @brief Erasure of an approved part: the job that runs it, the
 *        suppression entries recorded first, legal holds, the receipt, and
 *        the part's way approved -> executing -> done. The executor
 *        (executor.h) does the work; this file decides what it runs.
 */
#ifndef DSR_ERASURE_H
#define DSR_ERASURE_H

#include <jansson.h>
#include "dsr/crypto.h"
#include "dsr/db.h"
#include "dsr/executor.h"
#include "dsr/policy.h"

/** The job kind; payload {"part_id"}. */
#define DSR_JOB_ERASURE "erasure"

/**
 * Inside the caller's transaction: enqueues an erasure job for part
 * @p part_id (NULL: every part) of request @p request_id when the request is
 * an erasure, not on hold, and the part is approved (or executing). Returns
 * the caller's transaction status (DSR_TX_COMMIT when nothing was to do).
 */
enum dsr_tx_status dsr_erasure_enqueue(struct dsr_db *db, const char *request_id,
                                       const char *part_id);

/** What running a part gave. */
enum dsr_erasure_outcome {
  DSR_ERASURE_DONE,    /**< executed now (receipt recorded) */
  DSR_ERASURE_NOTHING, /**< not approved, already final, or not an erasure */
  DSR_ERASURE_HELD,    /**< the request is on hold: runs again when released */
  DSR_ERASURE_BUSY,    /**< another worker is running it */
  DSR_ERASURE_RETRY,   /**< transient; the reason is in err */
  DSR_ERASURE_FAIL     /**< permanent; the reason is in err */
};

/**
 * Runs the erasure of part @p part_id to its end (or resumes it): records
 * the suppression entries, plans over the policy's store, turns what legal
 * holds cover into retained rows, executes, removes files, and in one
 * transaction stores the receipt, records "erasure.receipt", marks the part
 * done and settles the request. @p batch_rows keys per page (0: default), the
 * first page's of each step when @p page_ms (a time target per page's store
 * transaction, dsr_exec.page_ms) is not 0.
 */
enum dsr_erasure_outcome dsr_erasure_run(struct dsr_db *db, const struct dsr_policy *p,
                                         const char *part_id, long batch_rows, long page_ms,
                                         char *err, size_t errlen);

/**
 * The one keyed hash identifying an identity across dsrd (suppression, holds,
 * the restriction registry, the erasure ledger, data keys):
 * DSR_KEY_IDENTITY over "kind:normalized" (email lower-case, phone E.164,
 * account id trimmed). False when the value is empty after normalization.
 */
DSR_MUST_USE bool dsr_identity_hash(enum dsr_id_kind kind, const char *value,
                                    unsigned char out[DSR_HASH_BYTES]);

/** The receipts of a request's parts, keyed by part id (new reference), or NULL on failure. */
json_t *dsr_erasure_receipts(struct dsr_db *db, const char *request_id);

#endif

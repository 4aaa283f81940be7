/**
 * @file webhook.h
 * @brief Webhooks to customer endpoints, per the Standard Webhooks spec:
 *        signing (v1, HMAC-SHA256 over "id.timestamp.body" with the
 *        endpoint's whsec_ secret), the SSRF guard for endpoint URLs, the
 *        transactional outbox and the delivery pass with retries.
 */
#ifndef DSR_WEBHOOK_H
#define DSR_WEBHOOK_H

#include <jansson.h>
#include "dsr/config.h"
#include "dsr/db.h"
#include "dsr/util.h"

#define DSR_WHSEC_PREFIX "whsec_"
#define DSR_WHSEC_BYTES 32
/** The job kind that delivers one outbox row (payload {"outbox_id": N}). */
#define DSR_JOB_WEBHOOK "webhook_deliver"

/** How long a failed delivery waits for its last retry: about three days in all. */
#define DSR_WEBHOOK_MAX_ATTEMPTS 10

/** A new secret, "whsec_" + base64 of 32 random bytes. Caller frees (and should memzero). */
char *dsr_whsec_new(void);

/**
 * The "v1,<base64>" signature of @p body for message @p msg_id at @p ts under
 * @p whsec ("whsec_..."). Returns a new string (caller frees) or NULL when the
 * secret is malformed.
 */
char *dsr_webhook_sign(const char *whsec, const char *msg_id, long long ts, const char *body,
                       size_t body_len);

/**
 * Checks a webhook-signature header (space-separated "v1,..." entries) against
 * @p whsec in constant time. True when one entry matches.
 */
bool dsr_webhook_verify(const char *whsec, const char *msg_id, long long ts, const char *body,
                        size_t body_len, const char *header);

/** What the SSRF guard allows (from config: webhook_allow_http, webhook_allow_private). */
struct dsr_webhook_opts {
  bool allow_http;    /**< accept http:// endpoints (tests, closed networks) */
  bool allow_private; /**< accept loopback, private, link-local and similar addresses */
  long timeout_s;     /**< whole-exchange timeout */
  const char *base_url; /**< where the customer API lives, for links in payloads */
  char base_buf[160];   /**< holds the default base_url (http://listen_address:port) */
  /**
   * demo_mode only: "http://127.0.0.1:PORT/demo/webhooks/", dsrd's own demo
   * receiver, which the guard lets through (plain http, loopback); "" otherwise.
   */
  char demo_prefix[80];
};

/** True when @p url is dsrd's own demo receiver and demo mode allows it (see demo_prefix). */
bool dsr_webhook_is_demo(const struct dsr_webhook_opts *o, const char *url);

/** Fills @p o from the configuration (borrows its strings; base_url may point into @p o). */
void dsr_webhook_opts_from_config(struct dsr_webhook_opts *o, const struct dsr_config *cfg);

/** True when @p addr (AF_INET/AF_INET6 sockaddr) is loopback, private, link-local or reserved. */
bool dsr_addr_is_private(const void *sockaddr);

/**
 * Checks that @p url may be called: scheme (https unless allow_http), no
 * credentials, then resolves the host and refuses private addresses unless
 * allowed. On success writes a CURLOPT_RESOLVE pin "host:port:address" into
 * @p pin so the connection goes to the address that was checked.
 * On failure writes a short reason (no URL) into @p why.
 */
DSR_MUST_USE bool dsr_webhook_url_check(const struct dsr_webhook_opts *o, const char *url,
                                        char *pin, size_t pinlen, char *why, size_t whylen);

/**
 * Writes an outbox row for customer @p customer_id in the caller's
 * transaction, with the DSR_JOB_WEBHOOK job that delivers it. @p data is the
 * event's "data" object (borrowed); the whole payload is sealed at rest.
 * *retry is set when the failure is retryable.
 */
DSR_MUST_USE bool dsr_outbox_add(struct dsr_db *db, const char *customer_id, const char *part_id,
                                 const char *event, const json_t *data, bool *retry);

/**
 * Writes a DRP status callback (DRP 1.0 section 2.03) to @p url for request
 * @p request_id in the caller's transaction, with its DSR_JOB_WEBHOOK job.
 * @p body (borrowed) is sent as is, sealed at rest, without a Standard
 * Webhooks signature (agents hold no secret of ours); the SSRF guard, retries
 * and the attempts log are those of customer webhooks.
 */
DSR_MUST_USE bool dsr_outbox_add_callback(struct dsr_db *db, const char *request_id,
                                          const char *url, const json_t *body, bool *retry);

/** The wait before attempt number @p attempt + 1 (1-based count of failures), with jitter. */
long dsr_webhook_backoff_s(int attempt);

/**
 * Enqueues (in the caller's transaction) the job for attempt @p attempts + 1
 * of outbox row @p outbox_id at @p run_at. A live job for that attempt is
 * not duplicated.
 */
DSR_MUST_USE bool dsr_webhook_enqueue(struct dsr_db *db, const char *outbox_id, int attempts,
                                      time_t run_at, bool *retry);

/**
 * Delivers outbox row @p outbox_id if it is pending, due and its endpoint
 * enabled (else does nothing: *attempted false). Same steps as one row of
 * dsr_webhook_deliver_due(). Returns false when the database failed.
 */
DSR_MUST_USE bool dsr_webhook_deliver_one(struct dsr_db *db, const struct dsr_webhook_opts *o,
                                          long long outbox_id, bool *attempted);

/**
 * Delivers outbox rows @p ids (@p n of them, the ids of a batch of delivery
 * jobs) as dsr_webhook_deliver_one() does each, with fewer commits: one
 * statement claims and leases all that are due (its commit does not wait for
 * the WAL flush), then each is posted in turn, then one transaction records
 * every attempt and outcome (should it fail, each is recorded on its own).
 * Once dsr_mono_ms() passes @p deadline_ms (after the first attempt), it stops:
 * the claimed rows not attempted get their lease back. Returns how many of
 * @p ids, from the first, were dealt with; failed[i] (n of them) is true when
 * the database failed for ids[i] (its row is tried again when its lease runs
 * out). *attempted: how many were posted.
 */
size_t dsr_webhook_deliver_many(struct dsr_db *db, const struct dsr_webhook_opts *o,
                                const long long *ids, size_t n, double deadline_ms,
                                bool *failed, size_t *attempted);

/**
 * A part's events go out in sequence (DSR_OUTBOX_IN_TURN): once row
 * @p done_id of part @p part_id is delivered or given up, enqueues (in the
 * caller's transaction) the job of the part's next pending row, if any, at
 * once or at its own next attempt.
 */
DSR_MUST_USE bool dsr_webhook_enqueue_next(struct dsr_db *db, const char *part_id,
                                           const char *done_id, bool *retry);

/**
 * Re-arms delivery jobs for pending rows that are due and have no live job
 * (an endpoint re-enabled, a job that died). *n counts rows looked at.
 */
DSR_MUST_USE bool dsr_webhook_rearm(struct dsr_db *db, int *n);

/**
 * One delivery pass: takes due outbox rows (FOR UPDATE SKIP LOCKED, leased so
 * a concurrent or crashed worker never double-sends inside the lease), posts
 * each, logs the attempt and schedules the retry. At most @p max rows.
 * *sent counts attempts made. Returns false when the database failed.
 */
DSR_MUST_USE bool dsr_webhook_deliver_due(struct dsr_db *db, const struct dsr_webhook_opts *o,
                                          int max, int *sent);

#endif

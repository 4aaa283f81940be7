/**
 * @file idempotency.h
 * @brief Idempotency-Key: the first answer to a POST is kept (sealed, under a
 *        keyed hash of the key, scoped to the route and the caller) and a
 *        retry with the same key and body gets it again instead of a second
 *        execution; the same key with another body is refused.
 *
 * Two ways in, one table and one set of functions:
 * - intake stores its answer inside its own transaction (dsr_idem_lookup()
 *   then dsr_idem_store()), so a request is never created twice;
 * - the dispatcher wraps every other authenticated JSON POST: it reserves
 *   the key before the handler runs (dsr_idem_reserve()) and stores the
 *   answer (dsr_idem_store()) or drops the reservation on a 5xx
 *   (dsr_idem_release()). A reservation left by a crashed process is taken
 *   over after DSR_IDEM_STALE_S seconds.
 */
#ifndef DSR_IDEMPOTENCY_H
#define DSR_IDEMPOTENCY_H

#include <jansson.h>
#include <stdbool.h>
#include <time.h>

#include "dsr/crypto.h"
#include "dsr/db.h"

/** Seconds after which an unanswered reservation may be taken over by a retry. */
#define DSR_IDEM_STALE_S 60

/** One key in one scope, and what the request said (the fingerprint). */
struct dsr_idem {
  char scope[192]; /**< e.g. "POST /v1/requests" or "POST /v1/customer/... customer:<id>" */
  unsigned char key_hash[DSR_HASH_BYTES];
  unsigned char fingerprint[DSR_HASH_BYTES];
};

/** What a look-up found. */
enum dsr_idem_found {
  DSR_IDEM_NONE,     /**< no answer yet (reserve: the reservation is now ours) */
  DSR_IDEM_REPLAY,   /**< an answer: *status and *reply (caller decrefs) */
  DSR_IDEM_MISMATCH, /**< the key was used with another request */
  DSR_IDEM_BUSY,     /**< reserved by a request still running */
  DSR_IDEM_FAILED    /**< database or decryption failure (*retry says whether to retry) */
};

/** True for 1 to 255 visible ASCII characters. */
bool dsr_idem_key_ok(const char *key);

/**
 * Fills @p out for @p key in @p scope; the fingerprint covers @p what (e.g.
 * the path) and the canonical form of @p body (may be NULL). False when the
 * scope is too long or out of memory.
 */
DSR_MUST_USE bool dsr_idem_init(struct dsr_idem *out, const char *scope, const char *key,
                                const char *what, const json_t *body);

/** Looks up an earlier answer (inside the caller's transaction). */
enum dsr_idem_found dsr_idem_lookup(struct dsr_db *db, const struct dsr_idem *k,
                                    unsigned int *status, json_t **reply, bool *retry);

/**
 * Reserves the key for a request about to run, or reports the earlier answer,
 * a mismatch, or a reservation still in use (its own statement, no caller
 * transaction needed).
 */
enum dsr_idem_found dsr_idem_reserve(struct dsr_db *db, const struct dsr_idem *k, time_t now,
                                     unsigned int *status, json_t **reply, bool *retry);

/**
 * Stores the answer (@p text, JSON) with @p status, sealed: completes a
 * reservation, or inserts when there is none. *lost when another request with
 * the key answered first. False on a database failure (*retry).
 */
DSR_MUST_USE bool dsr_idem_store(struct dsr_db *db, const struct dsr_idem *k,
                                 unsigned int status, const char *text, time_t now, bool *lost,
                                 bool *retry);

/** Drops an unanswered reservation so that a retry runs again. */
void dsr_idem_release(struct dsr_db *db, const struct dsr_idem *k);

#endif

/**
 * @file parts.h
 * @brief Shared steps on parts, used inside callers' transactions: telling
 *        a part's customer about a change (outbox) and completing a request
 *        once every part is final. Each returns a transaction status for the
 *        caller's dsr_db_tx() body.
 */
#ifndef DSR_PARTS_H
#define DSR_PARTS_H

#include <jansson.h>
#include "dsr/db.h"

/** The fixed list of reason codes a denial of a part or request may carry (NULL-terminated). */
extern const char *const dsr_deny_reasons[];

/** Part states that end a part. */
bool dsr_part_state_final(const char *state);
/** Whether a request in @p status is still open (not completed, denied, withdrawn or expired). */
bool dsr_request_status_open(const char *status);
/**
 * Sets *@p under_way when a part of request @p id is being or was carried out
 * (it can then no longer be withdrawn). False when the database failed.
 */
bool dsr_request_under_way(struct dsr_db *db, const char *id, bool *under_way);

/**
 * Queues @p event ("dsr.forwarded", "dsr.updated", "dsr.completed") for the
 * customer of part @p part_id, following docs/webhook-events.schema.json:
 * the part's id, its next sequence number (per part, from 1; the part's row
 * stays locked until the caller commits), its state as "status", request
 * type, jurisdiction and due date, plus the members of @p extra (borrowed; may
 * be NULL; dsr.updated without a "change" gets "status"); dsr.completed adds
 * "outcome" (fulfilled, handled, denied) and the denial's "reason". When the
 * part is final, its dsr.completed follows (once per part). Controller parts
 * are skipped.
 */
enum dsr_tx_status dsr_part_notify(struct dsr_db *db, const char *part_id, const char *event,
                                   const json_t *extra);

/**
 * Sends dsr.completed to the customer of every part of @p request_id that is
 * final and has not had it yet; then completes the request (with outcome
 * "fulfilled" or "denied") when all its parts are final and records
 * request.completed. Call it after any change to a part's state.
 */
enum dsr_tx_status dsr_request_settle(struct dsr_db *db, const char *request_id,
                                      const char *actor);

/** Runs a statement; maps failure to RETRY/ROLLBACK; on success *out (caller PQclear()s). */
/**
 * Locks part @p part_id (FOR UPDATE) inside the caller's transaction; *runnable
 * tells whether its work may run now (the part is approved, or executing
 * after a crash). Returns the transaction status, like dsr_tx_exec().
 */
enum dsr_tx_status dsr_part_lock_runnable(struct dsr_db *db, const char *part_id, bool *runnable);

enum dsr_tx_status dsr_tx_exec(struct dsr_db *db, enum dsr_stmt st, int n,
                               const char *const *v, PGresult **out);

/** Records an event in a transaction body: COMMIT, RETRY or ROLLBACK. Takes @p data. */
enum dsr_tx_status dsr_tx_event(struct dsr_db *db, const char *request_id, const char *kind,
                                const char *actor, json_t *data);

/** The job kind that runs discovery for one request (payload {"request_id"}). */
#define DSR_JOB_DISCOVERY "discovery"

/**
 * Enqueues discovery for @p request_id in the caller's transaction (call it
 * with the change that made the request "verified"). At most one live job
 * per request.
 */
DSR_MUST_USE bool dsr_discovery_enqueue(struct dsr_db *db, const char *request_id, bool *retry);

/**
 * Enqueues discovery again for a request split already, because @p why (a
 * channel or identity kind) verified another identity: discovery then adds
 * the parts that identity reaches (dsr_discovery_run()).
 */
DSR_MUST_USE bool dsr_discovery_enqueue_again(struct dsr_db *db, const char *request_id,
                                              const char *why, bool *retry);

#endif

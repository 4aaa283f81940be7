/**
 * @file events.h
 * @brief The one way to record that something happened to a request (or to
 *        the system): a row in the request's timeline. Call it inside the same
 *        transaction as the change it describes. @p data must carry no
 *        personal data (ids, counts, reason codes, keyed hashes only).
 */
#ifndef DSR_EVENTS_H
#define DSR_EVENTS_H

#include <jansson.h>
#include "dsr/db.h"

/**
 * Records event @p kind ("request.received", "verification.succeeded", ...)
 * by @p actor ("subject", "staff:<id>", "customer:<id>", "system").
 * @p request_id may be NULL for system events; @p data may be NULL.
 * Returns the failed result's retryability through @p retry when it fails.
 */
DSR_MUST_USE bool dsr_event_record(struct dsr_db *db, const char *request_id, const char *kind,
                                   const char *actor, const json_t *data, bool *retry);

/**
 * Records one event @p kind by @p actor per element of @p events, a JSON array
 * of {"request_id": string or null, "data": object}, in one statement: what
 * dsr_event_record() writes for each, for a batch (webhook deliveries).
 */
DSR_MUST_USE bool dsr_event_record_many(struct dsr_db *db, const char *kind, const char *actor,
                                        const json_t *events, bool *retry);

#endif

/**
 * @file customer_api.h
 * @brief What a customer sees and does through its API key: its own parts,
 *        and decisions on them. A part of another customer is "not found".
 */
#ifndef DSR_CUSTOMER_API_H
#define DSR_CUSTOMER_API_H

#include <jansson.h>
#include "dsr/db.h"
#include "dsr/error.h"

/**
 * One page of the parts of customer @p customer_id, newest first, optionally
 * in @p state: @p limit parts (1 to 200; 0: 50) after @p cursor (NULL: from
 * the newest). *reply (caller decrefs): {"items": [part...], "next_cursor"?},
 * each part with its state, dates, decision, last event sequence, the
 * identities that matched in this customer's data (verified ones only, as the
 * webhooks carried them) and its api_url under @p base_url; next_cursor only
 * when more parts follow. DSR_E_FIELD_INVALID for a malformed cursor.
 */
enum dsr_ec dsr_customer_parts(struct dsr_db *db, const char *customer_id, const char *state,
                               const char *cursor, int limit, const char *base_url,
                               json_t **reply);

/**
 * One part of customer @p customer_id, as in dsr_customer_parts(), plus
 * "history": every event sent for it (sequence, event, status, change, at,
 * delivery state), oldest first. DSR_E_NOT_FOUND for a part of another
 * customer or none. *reply: caller decrefs.
 */
enum dsr_ec dsr_customer_part(struct dsr_db *db, const char *customer_id, const char *part_id,
                              const char *base_url, json_t **reply);

/**
 * Records @p decision ("fulfill": the engine executes it on the tenant's
 * data; "deny" with a reason code; "handled": the customer did it) on part
 * @p part_id of @p customer_id. DSR_E_NOT_FOUND for someone else's part,
 * DSR_E_CONFLICT when the part no longer waits for a decision.
 */
enum dsr_ec dsr_customer_decide(struct dsr_db *db, const char *customer_id, const char *part_id,
                                const char *decision, const char *reason, json_t **reply);

#endif

/**
 * @file notify.h
 * @brief Telling the subject about their request: a notice (templates
 *        "notice" for email and SMS) queued in the outbox on every channel the
 *        request gave, inside the caller's transaction. The identities are
 *        unsealed only to address the messages, which the outbox keeps sealed
 *        until they are sent.
 */
#ifndef DSR_NOTIFY_H
#define DSR_NOTIFY_H

#include <jansson.h>
#include "dsr/crypto.h"
#include "dsr/db.h"
#include "dsr/error.h"
#include "dsr/policy.h"

/**
 * The unsealed identity of @p kind ("email", "phone", "account_id") of request
 * @p id; caller wipes and frees. *found tells whether the request has one (a
 * NULL return with *found set means it could not be unsealed). When @p lookup
 * is not NULL it receives the identity's keyed hash.
 */
char *dsr_identity_value(struct dsr_db *db, const char *id, const char *kind,
                         unsigned char lookup[DSR_HASH_BYTES], bool *found);

/**
 * Queues the notice for request @p id on its email and SMS channels. @p ctx
 * (borrowed) says what happened ({"extended": true, ...}); the request's
 * type, due date, id and the organization are added. Returns DSR_TX_COMMIT,
 * DSR_TX_RETRY or DSR_TX_ROLLBACK (with *ec set), like a transaction body.
 */
enum dsr_tx_status dsr_notify_subject(struct dsr_db *db, const struct dsr_policy *policy,
                                      const char *id, const json_t *ctx, time_t now,
                                      enum dsr_ec *ec);

#endif

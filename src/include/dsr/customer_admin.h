/**
 * @file customer_admin.h
 * @brief The privacy team's management of customers in the staff UI
 *        (staff/customer_admin.c): endpoint, enable and disable, replay of
 *        failed messages, delivery history; each change audited as a
 *        customer.* event with the staff user as actor.
 */
#ifndef DSR_CUSTOMER_ADMIN_H
#define DSR_CUSTOMER_ADMIN_H

#include <jansson.h>
#include "dsr/db.h"
#include "dsr/error.h"
#include "dsr/webhook.h"

/**
 * Sets the webhook URL of customer @p customer_id (scheme checked against
 * @p o, as dsr_customer_add does; *why says what is wrong). DSR_E_NOT_FOUND
 * for an unknown customer.
 */
enum dsr_ec dsr_customer_set_endpoint(struct dsr_db *db, const struct dsr_webhook_opts *o,
                                      const char *staff_id, const char *customer_id,
                                      const char *url, char *why, size_t whylen);

/**
 * Enables or disables the customer's endpoint. Enabling re-arms the messages
 * that waited while it was disabled. DSR_E_CONFLICT when it already is so.
 */
enum dsr_ec dsr_customer_set_enabled(struct dsr_db *db, const char *staff_id,
                                     const char *customer_id, bool enabled);

/**
 * Sends failed messages of the customer again from their first attempt:
 * outbox row @p outbox_id, or all when NULL. *count is how many.
 */
enum dsr_ec dsr_customer_replay(struct dsr_db *db, const char *staff_id, const char *customer_id,
                                const char *outbox_id, int *count);

/**
 * The customer's last 200 messages, newest first, filtered by @p state and
 * @p event (NULL: any): [{"id", "webhook_id", "event", "state", "attempts",
 * "created_at", "delivered_at", "status", "error", "request_id", "failed"}]
 * (caller decrefs), NULL on a database error.
 */
json_t *dsr_customer_history(struct dsr_db *db, const char *customer_id, const char *state,
                             const char *event);

#endif

/**
 * @file customers.h
 * @brief The platform's customers (tenants): their webhook endpoint, whsec_
 *        secret (sealed; the previous one stays valid for a grace period
 *        after a rotation) and API key (keyed hash only). Clear secrets are
 *        returned once, to the caller, who prints them and frees them.
 */
#ifndef DSR_CUSTOMERS_H
#define DSR_CUSTOMERS_H

#include "dsr/db.h"
#include "dsr/error.h"
#include "dsr/webhook.h"

/** API key prefix: keys read "dsrk_<base64url>". */
#define DSR_CUSTOMER_KEY_PREFIX "dsrk_"

/**
 * Adds customer @p name whose platform data carries tenant value @p tenant_ref,
 * with endpoint @p url (scheme checked against @p o; the address is checked at
 * every delivery). On DSR_OK, *api_key and *whsec are new strings the caller
 * frees; @p id receives the customer id. DSR_E_CONFLICT if the name or tenant exists.
 * With @p actor ("staff:<id>"; NULL: none, as dsrctl) the customer and its
 * customer.added event are written in one transaction: never one without the other.
 */
enum dsr_ec dsr_customer_add(struct dsr_db *db, const struct dsr_webhook_opts *o,
                             const char *actor, const char *name, const char *tenant_ref,
                             const char *url, char id[40], char **api_key, char **whsec,
                             char *why, size_t whylen);

/**
 * Replaces the API key of @p name at once; *api_key is the new key (caller frees).
 * With @p actor ("staff:<id>") the change and its customer.key_rotated event are
 * one transaction.
 */
enum dsr_ec dsr_customer_rotate_key(struct dsr_db *db, const char *actor, const char *name,
                                    char **api_key);

/**
 * New whsec_ secret for @p name; the current one keeps signing (a second
 * signature) for @p grace_hours. *whsec is the new secret (caller frees).
 * With @p actor, customer.secret_rotated is recorded in the same transaction.
 */
enum dsr_ec dsr_customer_rotate_secret(struct dsr_db *db, const char *actor, const char *name,
                                       long grace_hours, char **whsec);

/** Re-enables the endpoint of @p name (after a 410 disabled it). */
enum dsr_ec dsr_customer_enable(struct dsr_db *db, const char *name);

/** The customer holding @p api_key: fills @p id. DSR_E_UNAUTHORIZED when unknown. */
enum dsr_ec dsr_customer_auth(struct dsr_db *db, const char *api_key, char id[40]);

/**
 * The webhook secrets of customer @p name (for dsrd's demo receiver, which
 * checks signatures as a customer would): *whsec and, during a rotation's
 * grace, *prev (else NULL); caller wipes and frees both. DSR_E_NOT_FOUND when
 * no such customer.
 */
enum dsr_ec dsr_customer_whsecs(struct dsr_db *db, const char *name, char id[40], char **whsec,
                                char **prev);

#endif

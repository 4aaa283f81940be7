/**
 * @file staff_admin.h
 * @brief Staff accounts managed by admins in the staff UI
 *        (staff/staff_admin.c): invitations and resets by one-time
 *        set-password links (only a keyed hash of the link is kept), role
 *        changes, disabling, and the list and end of a user's sessions.
 *        Every change records a staff.* event (no request; actor the admin;
 *        ids only) in its transaction.
 */
#ifndef DSR_STAFF_ADMIN_H
#define DSR_STAFF_ADMIN_H

#include <jansson.h>
#include "dsr/db.h"
#include "dsr/error.h"
#include "dsr/staff.h"

/** How long a set-password link works, in hours. */
#define DSR_PASSWORD_LINK_HOURS 72

/**
 * Invites @p email (display name @p name) with @p role: the account exists,
 * without a password, and *token (caller frees) is the only clear copy of its
 * set-password link's token. DSR_E_CONFLICT when the address has an account.
 */
enum dsr_ec dsr_staff_invite(struct dsr_db *db, const char *admin_id, const char *email,
                             const char *name, enum dsr_role role, char **token);

/** Resets @p user_id: no password, sessions ended, a new link in *token (caller frees). */
enum dsr_ec dsr_staff_reset(struct dsr_db *db, const char *admin_id, const char *user_id,
                            char **token);

/** Changes the role. DSR_E_CONFLICT when it is that role already (or no such user). */
enum dsr_ec dsr_staff_set_role(struct dsr_db *db, const char *admin_id, const char *user_id,
                               enum dsr_role role);

/** Disables (sessions ended) or enables the account. DSR_E_CONFLICT when it already is. */
enum dsr_ec dsr_staff_set_enabled(struct dsr_db *db, const char *admin_id, const char *user_id,
                                  bool enabled);

/** Ends one session (@p handle, from dsr_staff_accounts) or all (NULL); *n how many. */
enum dsr_ec dsr_staff_end_sessions(struct dsr_db *db, const char *admin_id, const char *user_id,
                                   const char *handle, int *n);

/**
 * The staff accounts that sign in to the UI, with their sessions:
 * [{"id", "name", "email", "role", "status", "has_password", "sessions": [{"handle",
 * "created_at", "last_seen_at"}]}] (caller decrefs), NULL on a database error.
 */
json_t *dsr_staff_accounts(struct dsr_db *db);

/**
 * The account a set-password link @p token opens, if it still works: fills
 * @p email (254 + 1 bytes). DSR_E_NOT_FOUND otherwise (unknown, used, expired).
 */
enum dsr_ec dsr_staff_link_check(struct dsr_db *db, const char *token, char email[256]);

/**
 * Sets the password through link @p token (used once): DSR_E_NOT_FOUND when the
 * link does not work, DSR_E_FIELD_INVALID when the password is too short.
 */
enum dsr_ec dsr_staff_link_use(struct dsr_db *db, const char *token, const char *password);

#endif

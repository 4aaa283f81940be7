/**
 * @file staff.h
 * @brief Staff users (the privacy team) and their API tokens. Tokens are
 *        shown once and stored only as keyed hashes; a user has one role.
 *        The UI's password login (a later module) extends dsr_staff_users.
 */
#ifndef DSR_STAFF_H
#define DSR_STAFF_H

#include "dsr/db.h"
#include "dsr/error.h"

/** Roles as bits, so a route or an action can allow several. */
enum dsr_role {
  DSR_ROLE_ADMIN = 1,
  DSR_ROLE_TRIAGER = 2,
  DSR_ROLE_APPROVER = 4,
  DSR_ROLE_AUDITOR = 8,
};
#define DSR_ROLES_ALL (DSR_ROLE_ADMIN | DSR_ROLE_TRIAGER | DSR_ROLE_APPROVER | DSR_ROLE_AUDITOR)

/** Parses "admin|triager|approver|auditor". */
DSR_MUST_USE bool dsr_role_parse(const char *s, enum dsr_role *out);
/** The role's name; "?" for anything else. */
const char *dsr_role_name(enum dsr_role r);

/** Staff token prefix: tokens read "dsrs_<base64url>". */
#define DSR_STAFF_TOKEN_PREFIX "dsrs_"

/**
 * Creates staff user @p name with @p role if it does not exist (an existing
 * user must have that role: DSR_E_CONFLICT otherwise) and a new API token for
 * it, with the event staff.token_created by @p actor (e.g. "operator:dsrctl")
 * in the same transaction. *token is the only clear copy (caller frees);
 * @p user_id receives the id.
 */
enum dsr_ec dsr_staff_token_create(struct dsr_db *db, const char *actor, const char *name,
                                   enum dsr_role role, char **token, char user_id[40]);

/**
 * Who holds @p token: fills @p user_id and @p role. DSR_E_UNAUTHORIZED when
 * the token is unknown, revoked or its user disabled.
 */
enum dsr_ec dsr_staff_auth(struct dsr_db *db, const char *token, char user_id[40],
                           enum dsr_role *role);

#endif

/**
 * @file keyauth.h
 * @brief Authentication by a prefixed bearer key (customer API keys "dsrk_",
 *        platform service keys "dsrsvc_"): keys are stored only as keyed
 *        hashes, so a lookup by hash is the comparison.
 */
#ifndef DSR_KEYAUTH_H
#define DSR_KEYAUTH_H

#include "dsr/db.h"
#include "dsr/error.h"

/**
 * Looks up @p key (must start with @p prefix) with statement @p st, which
 * takes the key's keyed hash as $1 (bytea) and returns the owner's id. On
 * DSR_OK the id is copied into @p id; otherwise DSR_E_UNAUTHORIZED or
 * DSR_E_DB_UNAVAILABLE.
 */
enum dsr_ec dsr_key_auth(struct dsr_db *db, const char *key, const char *prefix,
                         enum dsr_stmt st, char id[40]);

#endif

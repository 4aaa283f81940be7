/**
 * @file ui_auth.h
 * @brief Staff UI accounts and sessions: argon2id password hashes, password
 *        logins with a per-account lockout, and browser sessions whose
 *        256-bit ids are stored only as keyed hashes, with idle and absolute
 *        timeouts decided against an injectable clock.
 */
#ifndef DSR_UI_AUTH_H
#define DSR_UI_AUTH_H

#include <stdint.h>
#include <time.h>
#include "dsr/db.h"
#include "dsr/error.h"
#include "dsr/staff.h"

/** argon2id cost: 3 passes over 64 MiB (above the minimum of t=2, m=19 MiB). */
#define DSR_PWHASH_OPSLIMIT 3ULL
#define DSR_PWHASH_MEMLIMIT (64ULL * 1024 * 1024)

/** Shortest and longest accepted passwords (bytes). */
#define DSR_PASSWORD_MIN 12
#define DSR_PASSWORD_MAX 1024

/** Hashes @p password into @p out (crypto_pwhash_STRBYTES). False when too short or out of memory. */
DSR_MUST_USE bool dsr_password_hash(const char *password, char *out, size_t outlen);
/** True when @p password matches the argon2id string @p hash (false for any malformed hash). */
DSR_MUST_USE bool dsr_password_verify(const char *hash, const char *password);

/**
 * Creates a staff user who logs in with @p email (also its unique name) and
 * @p password. DSR_E_CONFLICT when the email or name is taken,
 * DSR_E_FIELD_INVALID when the password is too short. @p user_id gets the id.
 */
enum dsr_ec dsr_ui_user_add(struct dsr_db *db, const char *email, const char *name,
                            enum dsr_role role, const char *password, char user_id[40]);
/** Sets a new password, clears the lockout and ends the user's sessions. DSR_E_NOT_FOUND: no such email. */
enum dsr_ec dsr_ui_user_passwd(struct dsr_db *db, const char *email, const char *password);
/**
 * dsr_ui_user_passwd() inside the caller's transaction, with the argon2id
 * string @p hash already made and @p now (epoch seconds as text). On
 * DSR_TX_ROLLBACK *ec says why (DSR_E_NOT_FOUND: no such email).
 */
DSR_MUST_USE enum dsr_tx_status dsr_ui_user_passwd_tx(struct dsr_db *db, const char *email,
                                                      const char *hash, const char *now,
                                                      enum dsr_ec *ec);

/** Lockout rules of dsr_ui_login(). */
struct dsr_login_rules {
  long max_failures; /**< consecutive failures that lock the account */
  long lockout;      /**< seconds the account stays locked */
};

/**
 * Checks @p email / @p password at time @p now. DSR_OK fills @p user_id and
 * @p role. DSR_E_UNAUTHORIZED for any wrong email or password (the same
 * answer and cost either way); DSR_E_RATE_LIMITED while the account (or an
 * address that is no account, after as many failures) is locked, with
 * *retry_after the seconds left; the password hash is checked in every case.
 * A lock that has ended starts the count again.
 */
enum dsr_ec dsr_ui_login(struct dsr_db *db, const struct dsr_login_rules *rules,
                         const char *email, const char *password, time_t now, char user_id[40],
                         enum dsr_role *role, long *retry_after);

/** Session timeouts, in seconds. */
struct dsr_session_limits {
  long idle;     /**< since the last request */
  long absolute; /**< since login */
};

/** True while a session created at @p created and last used at @p last_seen is alive at @p now. */
bool dsr_session_alive(const struct dsr_session_limits *l, time_t created, time_t last_seen,
                       time_t now);

/**
 * Starts a session for @p user_id at @p now. *token is the cookie value (the
 * only clear copy of the 256-bit id, base64url; caller frees).
 */
enum dsr_ec dsr_ui_session_start(struct dsr_db *db, const char *user_id, time_t now,
                                 char **token);

/** Who a live session belongs to. */
struct dsr_session_user {
  char user_id[40];
  enum dsr_role role;
  char name[128];
};

/**
 * Looks up session @p token at @p now: a live session is touched (idle clock
 * restarted) and fills @p out; an expired one is deleted. DSR_E_UNAUTHORIZED
 * when unknown, expired or its user disabled.
 */
enum dsr_ec dsr_ui_session_get(struct dsr_db *db, const struct dsr_session_limits *l,
                               const char *token, time_t now, struct dsr_session_user *out);
/** Ends session @p token (nothing happens when it is unknown). */
enum dsr_ec dsr_ui_session_end(struct dsr_db *db, const char *token);

#endif

/**
 * @file ui_users.c
 * @brief Staff UI accounts: creating users with a password, changing it,
 *        and password logins with a per-account lockout. A wrong email costs
 *        the same argon2id work as a wrong password.
 */
#include "config.h"
#include "dsr/ui_auth.h"
#include "dsr/crypto.h"

#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum dsr_ec dsr_ui_user_add(struct dsr_db *db, const char *email, const char *name,
                            enum dsr_role role, const char *password, char user_id[40])
{
  char hash[crypto_pwhash_STRBYTES];
  if (!dsr_password_hash(password, hash, sizeof hash))
    return DSR_E_FIELD_INVALID;
  char now[24];
  snprintf(now, sizeof now, "%lld", (long long)dsr_now());
  const char *v[] = {email, name && *name ? name : NULL, dsr_role_name(role), hash, now};
  PGresult *r = dsr_db_exec(db, DSR_STMT_UI_USER_ADD, 5, v);
  enum dsr_ec ec = DSR_E_DB_UNAVAILABLE;
  if (dsr_db_ok(r)) {
    ec = PQntuples(r) == 1 ? DSR_OK : DSR_E_CONFLICT;
    if (ec == DSR_OK)
      dsr_strlcpy(user_id, PQgetvalue(r, 0, 0), 40);
  }
  PQclear(r);
  sodium_memzero(hash, sizeof hash);
  return ec;
}

enum dsr_tx_status dsr_ui_user_passwd_tx(struct dsr_db *db, const char *email, const char *hash,
                                         const char *now, enum dsr_ec *ec)
{
  *ec = DSR_E_DB_UNAVAILABLE;
  const char *v[] = {email, hash, now};
  PGresult *r = dsr_db_exec(db, DSR_STMT_UI_USER_PASSWD, 3, v);
  enum dsr_tx_status s = DSR_TX_ROLLBACK;
  if (!dsr_db_ok(r)) {
    s = dsr_db_is_retryable(r) ? DSR_TX_RETRY : DSR_TX_ROLLBACK;
  } else if (PQntuples(r) != 1) {
    *ec = DSR_E_NOT_FOUND;
  } else {
    const char *uv[] = {PQgetvalue(r, 0, 0)};
    PGresult *d = dsr_db_exec(db, DSR_STMT_UI_SESSIONS_DROP_USER, 1, uv);
    if (dsr_db_ok(d)) {
      *ec = DSR_OK;
      s = DSR_TX_COMMIT;
    } else if (dsr_db_is_retryable(d)) {
      s = DSR_TX_RETRY;
    }
    PQclear(d);
  }
  PQclear(r);
  return s;
}

struct passwd_ctx {
  const char *email, *hash, *now;
  enum dsr_ec ec;
};

static enum dsr_tx_status passwd_tx(struct dsr_db *db, void *arg)
{
  struct passwd_ctx *c = arg;
  return dsr_ui_user_passwd_tx(db, c->email, c->hash, c->now, &c->ec);
}

enum dsr_ec dsr_ui_user_passwd(struct dsr_db *db, const char *email, const char *password)
{
  char hash[crypto_pwhash_STRBYTES];
  if (!dsr_password_hash(password, hash, sizeof hash))
    return DSR_E_FIELD_INVALID;
  char now[24];
  snprintf(now, sizeof now, "%lld", (long long)dsr_now());
  struct passwd_ctx c = {.email = email, .hash = hash, .now = now, .ec = DSR_E_DB_UNAVAILABLE};
  bool committed = dsr_db_tx(db, "READ COMMITTED", passwd_tx, &c);
  sodium_memzero(hash, sizeof hash);
  return committed ? DSR_OK : c.ec == DSR_OK ? DSR_E_DB_UNAVAILABLE : c.ec;
}

/* A valid argon2id string of a random password: unknown emails verify against it. */
static char decoy[crypto_pwhash_STRBYTES];
static pthread_once_t decoy_once = PTHREAD_ONCE_INIT;

static void decoy_init(void)
{
  char pw[33];
  unsigned char raw[16];
  randombytes_buf(raw, sizeof raw);
  sodium_bin2hex(pw, sizeof pw, raw, sizeof raw);
  if (!dsr_password_hash(pw, decoy, sizeof decoy))
    decoy[0] = '\0'; /* then nothing verifies against it, which is all it is for */
}

static const char *decoy_hash(void)
{
  pthread_once(&decoy_once, decoy_init);
  return decoy;
}

/* The keyed hash of an address that is no account, as hex: the key of its failures. */
static void ghost_key(const char *email, char out[2 * DSR_HASH_BYTES + 1])
{
  unsigned char h[DSR_HASH_BYTES];
  dsr_keyed_hash(DSR_KEY_IDENTITY, email, strlen(email), h);
  sodium_bin2hex(out, 2 * DSR_HASH_BYTES + 1, h, sizeof h);
}

enum dsr_ec dsr_ui_login(struct dsr_db *db, const struct dsr_login_rules *rules,
                         const char *email, const char *password, time_t now, char user_id[40],
                         enum dsr_role *role, long *retry_after)
{
  *retry_after = 0;
  const char *v[] = {email};
  PGresult *r = dsr_db_exec(db, DSR_STMT_UI_USER_BY_EMAIL, 1, v);
  if (!dsr_db_ok(r)) {
    PQclear(r);
    return DSR_E_DB_UNAVAILABLE;
  }
  enum dsr_ec ec = DSR_E_UNAUTHORIZED;
  bool found = PQntuples(r) == 1;
  char ghost[2 * DSR_HASH_BYTES + 1] = "";
  long long locked_until = found ? atoll(PQgetvalue(r, 0, 4)) : 0;
  if (!found) {
    /* An address that is no account locks as an account would (no enumeration by lockout). */
    ghost_key(email, ghost);
    const char *gv[] = {ghost};
    PGresult *g = dsr_db_exec(db, DSR_STMT_UI_GHOST_LOCK, 1, gv);
    bool g_ok = dsr_db_ok(g);
    if (g_ok && PQntuples(g) == 1)
      locked_until = atoll(PQgetvalue(g, 0, 0));
    PQclear(g);
    if (!g_ok) {
      PQclear(r);
      return DSR_E_DB_UNAVAILABLE;
    }
  }
  /* The hash is checked in every case, so no answer comes sooner than another. */
  const char *hash = found && !PQgetisnull(r, 0, 2) ? PQgetvalue(r, 0, 2) : decoy_hash();
  bool ok = dsr_password_verify(hash, password);
  char nowbuf[24], maxf[24], lock[24];
  snprintf(nowbuf, sizeof nowbuf, "%lld", (long long)now);
  snprintf(maxf, sizeof maxf, "%ld", rules->max_failures);
  snprintf(lock, sizeof lock, "%ld", rules->lockout);
  if (locked_until > (long long)now) {
    *retry_after = (long)(locked_until - (long long)now);
    PQclear(r);
    return DSR_E_RATE_LIMITED;
  }
  if (!found) {
    PQclear(r);
    const char *fv[] = {ghost, maxf, nowbuf, lock};
    r = dsr_db_exec(db, DSR_STMT_UI_GHOST_FAILED, 4, fv);
    ec = dsr_db_ok(r) ? DSR_E_UNAUTHORIZED : DSR_E_DB_UNAVAILABLE;
    PQclear(r);
    return ec;
  }
  char id[40];
  dsr_strlcpy(id, PQgetvalue(r, 0, 0), sizeof id);
  bool enabled = !strcmp(PQgetvalue(r, 0, 3), "enabled");
  enum dsr_role ro;
  bool role_ok = dsr_role_parse(PQgetvalue(r, 0, 1), &ro);
  PQclear(r);
  r = NULL;
  if (ok && enabled && role_ok) {
    const char *uv[] = {id};
    r = dsr_db_exec(db, DSR_STMT_UI_LOGIN_OK, 1, uv);
    if (dsr_db_ok(r)) {
      dsr_strlcpy(user_id, id, 40);
      *role = ro;
      ec = DSR_OK;
    } else {
      ec = DSR_E_DB_UNAVAILABLE;
    }
  } else if (!ok) {
    const char *fv[] = {id, maxf, nowbuf, lock};
    r = dsr_db_exec(db, DSR_STMT_UI_LOGIN_FAILED, 4, fv);
    if (!dsr_db_ok(r))
      ec = DSR_E_DB_UNAVAILABLE;
  }
  PQclear(r);
  return ec;
}

/**
 * @file ui_session.c
 * @brief Staff UI sessions: random 256-bit ids handed out once as a cookie
 *        and stored only as keyed hashes; idle and absolute timeouts are
 *        decided against the time the caller passes (tests move it).
 */
#include "config.h"
#include "dsr/crypto.h"
#include "dsr/ui_auth.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SESSION_TOKEN_LEN 43 /* base64url of 32 bytes */

bool dsr_session_alive(const struct dsr_session_limits *l, time_t created, time_t last_seen,
                       time_t now)
{
  if (now < created || now - created >= l->absolute)
    return false;
  return now - last_seen < l->idle;
}

static bool token_shape(const char *t)
{
  return t && strlen(t) == SESSION_TOKEN_LEN &&
         strspn(t, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") ==
             SESSION_TOKEN_LEN;
}

/* Runs @p st with the keyed hash of @p token as $1 (binary) and @p extra as $2. */
static PGresult *exec_hashed(struct dsr_db *db, enum dsr_stmt st, const char *token,
                             const char *extra, const char *extra2)
{
  unsigned char h[DSR_HASH_BYTES];
  dsr_keyed_hash(DSR_KEY_TOKEN, token, strlen(token), h);
  const char *v[] = {(const char *)h, extra, extra2};
  const int lens[] = {DSR_HASH_BYTES, 0, 0};
  const int fmts[] = {1, 0, 0};
  int n = extra2 ? 3 : extra ? 2 : 1;
  return dsr_db_exec_bin(db, st, n, v, lens, fmts);
}

enum dsr_ec dsr_ui_session_start(struct dsr_db *db, const char *user_id, time_t now,
                                 char **token)
{
  *token = NULL;
  char *t = dsr_token_new();
  if (!t)
    return DSR_E_INTERNAL;
  char nowbuf[24];
  snprintf(nowbuf, sizeof nowbuf, "%lld", (long long)now);
  PGresult *r = exec_hashed(db, DSR_STMT_UI_SESSION_INSERT, t, user_id, nowbuf);
  enum dsr_ec ec = dsr_db_ok(r) ? DSR_OK : DSR_E_DB_UNAVAILABLE;
  PQclear(r);
  if (ec == DSR_OK) {
    *token = t;
  } else {
    sodium_memzero(t, strlen(t));
    free(t);
  }
  return ec;
}

enum dsr_ec dsr_ui_session_get(struct dsr_db *db, const struct dsr_session_limits *l,
                               const char *token, time_t now, struct dsr_session_user *out)
{
  if (!token_shape(token))
    return DSR_E_UNAUTHORIZED;
  PGresult *r = exec_hashed(db, DSR_STMT_UI_SESSION_GET, token, NULL, NULL);
  if (!dsr_db_ok(r)) {
    PQclear(r);
    return DSR_E_DB_UNAVAILABLE;
  }
  if (PQntuples(r) != 1 || !dsr_role_parse(PQgetvalue(r, 0, 1), &out->role)) {
    PQclear(r);
    return DSR_E_UNAUTHORIZED;
  }
  time_t created = (time_t)atoll(PQgetvalue(r, 0, 3));
  time_t seen = (time_t)atoll(PQgetvalue(r, 0, 4));
  dsr_strlcpy(out->user_id, PQgetvalue(r, 0, 0), sizeof out->user_id);
  dsr_strlcpy(out->name, PQgetvalue(r, 0, 2), sizeof out->name);
  PQclear(r);
  bool alive = dsr_session_alive(l, created, seen, now);
  char nowbuf[24];
  snprintf(nowbuf, sizeof nowbuf, "%lld", (long long)now);
  r = alive ? exec_hashed(db, DSR_STMT_UI_SESSION_TOUCH, token, nowbuf, NULL)
            : exec_hashed(db, DSR_STMT_UI_SESSION_DELETE, token, NULL, NULL);
  bool ok = dsr_db_ok(r);
  PQclear(r);
  if (!ok)
    return DSR_E_DB_UNAVAILABLE;
  return alive ? DSR_OK : DSR_E_UNAUTHORIZED;
}

enum dsr_ec dsr_ui_session_end(struct dsr_db *db, const char *token)
{
  if (!token_shape(token))
    return DSR_OK;
  PGresult *r = exec_hashed(db, DSR_STMT_UI_SESSION_DELETE, token, NULL, NULL);
  enum dsr_ec ec = dsr_db_ok(r) ? DSR_OK : DSR_E_DB_UNAVAILABLE;
  PQclear(r);
  return ec;
}

/** @file staff.c @brief Staff users and API tokens (keyed hashes only). */
#include "config.h"
#include "dsr/crypto.h"
#include "dsr/staff.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const role_names[] = {"admin", "triager", "approver", "auditor"};

bool dsr_role_parse(const char *s, enum dsr_role *out)
{
  for (size_t i = 0; i < DSR_ARRAY_LEN(role_names); i++)
    if (s && !strcmp(s, role_names[i])) {
      *out = (enum dsr_role)(1u << i);
      return true;
    }
  return false;
}

const char *dsr_role_name(enum dsr_role r)
{
  for (size_t i = 0; i < DSR_ARRAY_LEN(role_names); i++)
    if ((unsigned)r == 1u << i)
      return role_names[i];
  return "?";
}

enum dsr_ec dsr_staff_token_create(struct dsr_db *db, const char *name, enum dsr_role role,
                                   char **token, char user_id[40])
{
  enum dsr_ec ec = DSR_E_INTERNAL;
  char now[24];
  snprintf(now, sizeof now, "%lld", (long long)dsr_now());
  char *raw = dsr_token_new();
  char *tok = raw ? dsr_asprintf("%s%s", DSR_STAFF_TOKEN_PREFIX, raw) : NULL;
  PGresult *r = NULL;
  *token = NULL;
  if (!tok)
    goto cleanup;
  const char *uv[] = {name, dsr_role_name(role), now};
  r = dsr_db_exec(db, DSR_STMT_STAFF_USER_UPSERT, 3, uv);
  if (!dsr_db_ok(r) || PQntuples(r) != 1) {
    ec = DSR_E_DB_UNAVAILABLE;
    goto cleanup;
  }
  if (strcmp(PQgetvalue(r, 0, 1), dsr_role_name(role)) != 0) {
    ec = DSR_E_CONFLICT;
    goto cleanup;
  }
  dsr_strlcpy(user_id, PQgetvalue(r, 0, 0), 40);
  PQclear(r);
  unsigned char h[DSR_HASH_BYTES];
  dsr_keyed_hash(DSR_KEY_TOKEN, tok, strlen(tok), h);
  const char *tv[] = {user_id, (const char *)h, now};
  const int lens[] = {0, DSR_HASH_BYTES, 0};
  const int fmts[] = {0, 1, 0};
  r = dsr_db_exec_bin(db, DSR_STMT_STAFF_TOKEN_INSERT, 3, tv, lens, fmts);
  if (!dsr_db_ok(r)) {
    ec = DSR_E_DB_UNAVAILABLE;
    goto cleanup;
  }
  *token = tok;
  tok = NULL;
  ec = DSR_OK;
cleanup:
  PQclear(r);
  if (raw) {
    sodium_memzero(raw, strlen(raw));
    free(raw);
  }
  if (tok) {
    sodium_memzero(tok, strlen(tok));
    free(tok);
  }
  return ec;
}

enum dsr_ec dsr_staff_auth(struct dsr_db *db, const char *token, char user_id[40],
                           enum dsr_role *role)
{
  if (!token || strncmp(token, DSR_STAFF_TOKEN_PREFIX, sizeof DSR_STAFF_TOKEN_PREFIX - 1) != 0)
    return DSR_E_UNAUTHORIZED;
  unsigned char h[DSR_HASH_BYTES];
  dsr_keyed_hash(DSR_KEY_TOKEN, token, strlen(token), h);
  const char *v[] = {(const char *)h};
  const int lens[] = {DSR_HASH_BYTES};
  const int fmts[] = {1};
  PGresult *r = dsr_db_exec_bin(db, DSR_STMT_STAFF_AUTH, 1, v, lens, fmts);
  enum dsr_ec ec = DSR_E_UNAUTHORIZED;
  if (!dsr_db_ok(r))
    ec = DSR_E_DB_UNAVAILABLE;
  else if (PQntuples(r) == 1 && dsr_role_parse(PQgetvalue(r, 0, 1), role)) {
    dsr_strlcpy(user_id, PQgetvalue(r, 0, 0), 40);
    ec = DSR_OK;
  }
  PQclear(r);
  return ec;
}

/** @file staff.c @brief Staff users and API tokens (keyed hashes only). */
#include "config.h"
#include "dsr/crypto.h"
#include "dsr/events.h"
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

struct token_tx {
  const char *name, *actor, *now;
  enum dsr_role role;
  const unsigned char *hash;
  char *user_id;
  enum dsr_ec ec;
};

/* The user (created if new), its token's hash and staff.token_created, in one transaction. */
static enum dsr_tx_status token_body(struct dsr_db *db, void *arg)
{
  struct token_tx *t = arg;
  t->ec = DSR_E_DB_UNAVAILABLE;
  const char *uv[] = {t->name, dsr_role_name(t->role), t->now};
  PGresult *r = dsr_db_exec(db, DSR_STMT_STAFF_USER_UPSERT, 3, uv);
  enum dsr_tx_status st = DSR_TX_ROLLBACK;
  bool retry = false;
  json_t *d = NULL;
  if (!dsr_db_ok(r) || PQntuples(r) != 1) {
    st = dsr_db_is_retryable(r) ? DSR_TX_RETRY : DSR_TX_ROLLBACK;
    goto cleanup;
  }
  if (strcmp(PQgetvalue(r, 0, 1), dsr_role_name(t->role)) != 0) {
    t->ec = DSR_E_CONFLICT;
    goto cleanup;
  }
  dsr_strlcpy(t->user_id, PQgetvalue(r, 0, 0), 40);
  PQclear(r);
  const char *tv[] = {t->user_id, (const char *)t->hash, t->now};
  const int lens[] = {0, DSR_HASH_BYTES, 0};
  const int fmts[] = {0, 1, 0};
  r = dsr_db_exec_bin(db, DSR_STMT_STAFF_TOKEN_INSERT, 3, tv, lens, fmts);
  if (!dsr_db_ok(r)) {
    st = dsr_db_is_retryable(r) ? DSR_TX_RETRY : DSR_TX_ROLLBACK;
    goto cleanup;
  }
  /* who got a credential, with which role, and who issued it: never the token */
  d = json_pack("{s:s, s:s}", "staff_id", t->user_id, "role", dsr_role_name(t->role));
  if (!d || !dsr_event_record(db, NULL, "staff.token_created", t->actor, d, &retry)) {
    st = retry ? DSR_TX_RETRY : DSR_TX_ROLLBACK;
    goto cleanup;
  }
  t->ec = DSR_OK;
  st = DSR_TX_COMMIT;
cleanup:
  json_decref(d);
  PQclear(r);
  return st;
}

enum dsr_ec dsr_staff_token_create(struct dsr_db *db, const char *actor, const char *name,
                                   enum dsr_role role, char **token, char user_id[40])
{
  enum dsr_ec ec = DSR_E_INTERNAL;
  char now[24];
  snprintf(now, sizeof now, "%lld", (long long)dsr_now());
  char *raw = dsr_token_new();
  char *tok = raw ? dsr_asprintf("%s%s", DSR_STAFF_TOKEN_PREFIX, raw) : NULL;
  *token = NULL;
  if (!tok)
    goto cleanup;
  unsigned char h[DSR_HASH_BYTES];
  dsr_keyed_hash(DSR_KEY_TOKEN, tok, strlen(tok), h);
  struct token_tx t = {.name = name, .actor = actor, .now = now, .role = role, .hash = h,
                       .user_id = user_id, .ec = DSR_E_DB_UNAVAILABLE};
  if (!dsr_db_tx(db, "READ COMMITTED", token_body, &t) && t.ec == DSR_OK)
    t.ec = DSR_E_DB_UNAVAILABLE;
  ec = t.ec;
  if (ec != DSR_OK)
    goto cleanup;
  *token = tok;
  tok = NULL;
cleanup:
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

/**
 * @file restriction.c
 * @brief The restriction registry's lookups and lifting, and the service
 *        keys the platform's services check it with (see rights.h).
 */
#include "config.h"
#include "dsr/keyauth.h"
#include "dsr/events.h"
#include "dsr/parts.h"
#include "dsr/erasure.h"
#include "dsr/rights.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum dsr_ec dsr_restriction_check(struct dsr_db *db, enum dsr_id_kind kind, const char *identity,
                                  const char *scope, struct dsr_restriction_state *out)
{
  memset(out, 0, sizeof *out);
  unsigned char h[DSR_HASH_BYTES];
  if (!dsr_identity_hash(kind, identity, h))
    return DSR_OK; /* nothing usable: nobody is restricted under it */
  const char *v[] = {(const char *)h, scope};
  const int lens[] = {DSR_HASH_BYTES, 0};
  const int fmts[] = {1, 0};
  PGresult *r = dsr_db_exec_bin(db, DSR_STMT_RESTRICTION_CHECK, 2, v, lens, fmts);
  enum dsr_ec ec = DSR_E_DB_UNAVAILABLE;
  if (dsr_db_ok(r) && PQntuples(r) == 1) {
    out->restricted = atoll(PQgetvalue(r, 0, 0)) > 0;
    out->since = out->restricted ? atoll(PQgetvalue(r, 0, 1)) : 0;
    ec = DSR_OK;
  }
  PQclear(r);
  return ec;
}

struct lift_ctx {
  const char *request_id, *actor, *reason;
  int lifted;
  enum dsr_ec ec;
};

static enum dsr_tx_status lift_body(struct dsr_db *db, void *arg)
{
  struct lift_ctx *c = arg;
  c->ec = DSR_OK;
  c->lifted = 0;
  unsigned char *sealed = NULL;
  size_t sl = 0;
  if (c->reason && !dsr_seal(c->reason, strlen(c->reason), &sealed, &sl)) {
    c->ec = DSR_E_INTERNAL;
    return DSR_TX_ROLLBACK;
  }
  char now[24];
  snprintf(now, sizeof now, "%lld", (long long)dsr_now());
  const char *v[] = {c->request_id, now, c->actor, (const char *)sealed};
  const int lens[] = {0, 0, 0, (int)sl};
  const int fmts[] = {0, 0, 0, 1};
  PGresult *r = dsr_db_exec_bin(db, DSR_STMT_RESTRICTION_LIFT, 4, v, lens, fmts);
  free(sealed);
  if (!dsr_db_ok(r)) {
    enum dsr_tx_status s = dsr_db_is_retryable(r) ? DSR_TX_RETRY : DSR_TX_ROLLBACK;
    PQclear(r);
    c->ec = DSR_E_DB_UNAVAILABLE;
    return s;
  }
  c->lifted = PQntuples(r);
  PQclear(r);
  if (c->lifted == 0) {
    c->ec = DSR_E_CONFLICT;
    return DSR_TX_ROLLBACK;
  }
  return dsr_tx_event(db, c->request_id, "restriction.lifted", c->actor,
                      json_pack("{s:i, s:b}", "entries", c->lifted, "reason_given",
                                c->reason != NULL));
}

enum dsr_ec dsr_restriction_lift(struct dsr_db *db, const char *request_id, const char *actor,
                                 const char *reason, int *lifted)
{
  struct lift_ctx c = {.request_id = request_id, .actor = actor, .reason = reason};
  bool ok = dsr_db_tx(db, "READ COMMITTED", lift_body, &c);
  *lifted = c.lifted;
  if (ok)
    return DSR_OK;
  return c.ec != DSR_OK ? c.ec : DSR_E_DB_UNAVAILABLE;
}

enum dsr_ec dsr_service_key_create(struct dsr_db *db, const char *name, char **key, char id[40])
{
  *key = NULL;
  char *tok = dsr_token_new();
  char *full = tok ? dsr_asprintf(DSR_SERVICE_KEY_PREFIX "%s", tok) : NULL;
  free(tok);
  if (!full)
    return DSR_E_INTERNAL;
  unsigned char h[DSR_HASH_BYTES];
  dsr_keyed_hash(DSR_KEY_TOKEN, full, strlen(full), h);
  char now[24];
  snprintf(now, sizeof now, "%lld", (long long)dsr_now());
  const char *v[] = {name, (const char *)h, now};
  const int lens[] = {0, DSR_HASH_BYTES, 0};
  const int fmts[] = {0, 1, 0};
  PGresult *r = dsr_db_exec_bin(db, DSR_STMT_SERVICE_KEY_INSERT, 3, v, lens, fmts);
  enum dsr_ec ec = DSR_E_DB_UNAVAILABLE;
  if (dsr_db_ok(r) && PQntuples(r) == 1) {
    dsr_strlcpy(id, PQgetvalue(r, 0, 0), 40);
    *key = full;
    full = NULL;
    ec = DSR_OK;
  } else if (!strcmp(dsr_db_sqlstate(r), "23505")) {
    ec = DSR_E_CONFLICT;
  }
  PQclear(r);
  free(full);
  return ec;
}

enum dsr_ec dsr_service_auth(struct dsr_db *db, const char *key, char id[40])
{
  return dsr_key_auth(db, key, DSR_SERVICE_KEY_PREFIX, DSR_STMT_SERVICE_AUTH, id);
}

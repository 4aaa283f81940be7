/**
 * @file customers.c
 * @brief Customers: endpoints, sealed whsec_ secrets, hashed API keys. An
 *        addition or a rotation made by someone (staff) records its
 *        customer.* event in the same transaction as the change.
 */
#include "config.h"
#include "dsr/keyauth.h"
#include "dsr/crypto.h"
#include "dsr/customers.h"
#include "dsr/events.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void free_secret(char *s)
{
  if (s) {
    sodium_memzero(s, strlen(s));
    free(s);
  }
}

/* A new API key and its keyed hash. Caller frees the key. */
static char *new_key(unsigned char h[DSR_HASH_BYTES])
{
  char *raw = dsr_token_new();
  char *key = raw ? dsr_asprintf("%s%s", DSR_CUSTOMER_KEY_PREFIX, raw) : NULL;
  free_secret(raw);
  if (key)
    dsr_keyed_hash(DSR_KEY_TOKEN, key, strlen(key), h);
  return key;
}

static void now_text(char out[24])
{
  snprintf(out, 24, "%lld", (long long)dsr_now());
}

/** One change of a customer row (its statement returns the id) and, with an actor, its event. */
struct change {
  enum dsr_stmt st;
  int n;
  const char *const *v;
  const int *lens, *fmts;
  const char *actor, *kind; /* the customer.* event (no request; data: the id), or no actor */
  char id[40];              /* out: the customer's id */
  enum dsr_ec ec;           /* DSR_E_NOT_FOUND when the statement changed no row */
};

static enum dsr_tx_status change_body(struct dsr_db *db, void *arg)
{
  struct change *c = arg;
  c->ec = DSR_E_DB_UNAVAILABLE;
  PGresult *r = dsr_db_exec_bin(db, c->st, c->n, c->v, c->lens, c->fmts);
  if (!dsr_db_ok(r)) {
    bool retry = dsr_db_is_retryable(r);
    PQclear(r);
    return retry ? DSR_TX_RETRY : DSR_TX_ROLLBACK;
  }
  bool one = PQntuples(r) == 1;
  if (one)
    dsr_strlcpy(c->id, PQgetvalue(r, 0, 0), sizeof c->id);
  PQclear(r);
  if (!one) {
    c->ec = DSR_E_NOT_FOUND;
    return DSR_TX_ROLLBACK;
  }
  if (c->actor) {
    bool retry = false;
    json_t *d = json_pack("{s:s}", "customer_id", c->id);
    bool ok = d && dsr_event_record(db, NULL, c->kind, c->actor, d, &retry);
    json_decref(d);
    if (!ok)
      return retry ? DSR_TX_RETRY : DSR_TX_ROLLBACK;
  }
  c->ec = DSR_OK;
  return DSR_TX_COMMIT;
}

/* Runs @p c in its own transaction: the change and its event commit together or not at all. */
static enum dsr_ec change_run(struct dsr_db *db, struct change *c)
{
  c->id[0] = '\0';
  if (!dsr_db_tx(db, "READ COMMITTED", change_body, c) && c->ec == DSR_OK)
    c->ec = DSR_E_DB_UNAVAILABLE;
  return c->ec;
}

enum dsr_ec dsr_customer_add(struct dsr_db *db, const struct dsr_webhook_opts *o,
                             const char *actor, const char *name, const char *tenant_ref,
                             const char *url, char id[40], char **api_key, char **whsec,
                             char *why, size_t whylen)
{
  enum dsr_ec ec = DSR_E_INTERNAL;
  unsigned char h[DSR_HASH_BYTES];
  char *key = NULL, *sec = NULL;
  unsigned char *sealed = NULL;
  size_t sl = 0;
  *api_key = *whsec = NULL;
  bool https = !strncmp(url, "https://", 8);
  bool http = !strncmp(url, "http://", 7);
  if (!https && !(http && (o->allow_http || dsr_webhook_is_demo(o, url)))) {
    snprintf(why, whylen, "the webhook URL must start with https:// (webhook_allow_http is off)");
    return DSR_E_FIELD_INVALID;
  }
  key = new_key(h);
  sec = dsr_whsec_new();
  if (!key || !sec || !dsr_seal(sec, strlen(sec), &sealed, &sl))
    goto cleanup;
  char now[24];
  now_text(now);
  const char *v[] = {name, tenant_ref, url, (const char *)sealed, (const char *)h, now};
  const int lens[] = {0, 0, 0, (int)sl, DSR_HASH_BYTES, 0};
  const int fmts[] = {0, 0, 0, 1, 1, 0};
  struct change c = {.st = DSR_STMT_CUSTOMER_INSERT, .n = 6, .v = v, .lens = lens, .fmts = fmts,
                     .actor = actor, .kind = "customer.added"};
  ec = change_run(db, &c);
  if (ec == DSR_E_NOT_FOUND) { /* ON CONFLICT DO NOTHING: no row */
    snprintf(why, whylen, "a customer with this name or tenant exists");
    ec = DSR_E_CONFLICT;
  }
  if (ec != DSR_OK)
    goto cleanup;
  dsr_strlcpy(id, c.id, 40);
  *api_key = key;
  *whsec = sec;
  key = sec = NULL;
cleanup:
  free(sealed);
  free_secret(key);
  free_secret(sec);
  return ec;
}

enum dsr_ec dsr_customer_rotate_key(struct dsr_db *db, const char *actor, const char *name,
                                    char **api_key)
{
  unsigned char h[DSR_HASH_BYTES];
  char *key = new_key(h);
  *api_key = NULL;
  if (!key)
    return DSR_E_INTERNAL;
  char now[24];
  now_text(now);
  const char *v[] = {name, (const char *)h, now};
  const int lens[] = {0, DSR_HASH_BYTES, 0};
  const int fmts[] = {0, 1, 0};
  struct change c = {.st = DSR_STMT_CUSTOMER_SET_KEY, .n = 3, .v = v, .lens = lens, .fmts = fmts,
                     .actor = actor, .kind = "customer.key_rotated"};
  enum dsr_ec ec = change_run(db, &c);
  if (ec == DSR_OK)
    *api_key = key;
  else
    free_secret(key);
  return ec;
}

enum dsr_ec dsr_customer_rotate_secret(struct dsr_db *db, const char *actor, const char *name,
                                       long grace_hours, char **whsec)
{
  enum dsr_ec ec = DSR_E_INTERNAL;
  char *sec = dsr_whsec_new();
  unsigned char *sealed = NULL;
  size_t sl = 0;
  *whsec = NULL;
  if (!sec || !dsr_seal(sec, strlen(sec), &sealed, &sl))
    goto cleanup;
  char now[24], grace[24];
  now_text(now);
  snprintf(grace, sizeof grace, "%ld", grace_hours);
  const char *v[] = {name, (const char *)sealed, now, grace};
  const int lens[] = {0, (int)sl, 0, 0};
  const int fmts[] = {0, 1, 0, 0};
  struct change c = {.st = DSR_STMT_CUSTOMER_SET_SECRET, .n = 4, .v = v, .lens = lens,
                     .fmts = fmts, .actor = actor, .kind = "customer.secret_rotated"};
  ec = change_run(db, &c);
  if (ec == DSR_OK) {
    *whsec = sec;
    sec = NULL;
  }
cleanup:
  free(sealed);
  free_secret(sec);
  return ec;
}

enum dsr_ec dsr_customer_enable(struct dsr_db *db, const char *name)
{
  char now[24];
  now_text(now);
  const char *v[] = {name, now};
  PGresult *r = dsr_db_exec(db, DSR_STMT_CUSTOMER_ENABLE, 2, v);
  enum dsr_ec ec = !dsr_db_ok(r) ? DSR_E_DB_UNAVAILABLE
                   : PQntuples(r) == 1 ? DSR_OK
                                       : DSR_E_NOT_FOUND;
  PQclear(r);
  return ec;
}

enum dsr_ec dsr_customer_auth(struct dsr_db *db, const char *api_key, char id[40])
{
  return dsr_key_auth(db, api_key, DSR_CUSTOMER_KEY_PREFIX, DSR_STMT_CUSTOMER_AUTH, id);
}

enum dsr_ec dsr_customer_whsecs(struct dsr_db *db, const char *name, char id[40], char **whsec,
                                char **prev)
{
  *whsec = *prev = NULL;
  char now[24];
  now_text(now);
  const char *v[] = {name, now};
  PGresult *r = dsr_db_exec(db, DSR_STMT_CUSTOMER_SECRETS_BY_NAME, 2, v);
  enum dsr_ec ec = !dsr_db_ok(r) ? DSR_E_DB_UNAVAILABLE
                   : PQntuples(r) != 1 ? DSR_E_NOT_FOUND
                                        : DSR_OK;
  for (int c = 1; ec == DSR_OK && c <= 2; c++) {
    if (PQgetisnull(r, 0, c))
      continue;
    size_t n = 0, pl = 0;
    unsigned char *raw = PQunescapeBytea((const unsigned char *)PQgetvalue(r, 0, c), &n);
    unsigned char *plain = NULL;
    if (!raw || !dsr_unseal(raw, n, &plain, &pl))
      ec = DSR_E_INTERNAL;
    PQfreemem(raw);
    *(c == 1 ? whsec : prev) = (char *)plain;
  }
  if (ec == DSR_OK)
    dsr_strlcpy(id, PQgetvalue(r, 0, 0), 40);
  PQclear(r);
  if (ec != DSR_OK) {
    free_secret(*whsec);
    free_secret(*prev);
    *whsec = *prev = NULL;
  }
  return ec;
}

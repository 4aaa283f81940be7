/** @file customers.c @brief Customers: endpoints, sealed whsec_ secrets, hashed API keys. */
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

enum dsr_ec dsr_customer_add(struct dsr_db *db, const struct dsr_webhook_opts *o,
                             const char *name, const char *tenant_ref, const char *url,
                             char id[40], char **api_key, char **whsec, char *why,
                             size_t whylen)
{
  enum dsr_ec ec = DSR_E_INTERNAL;
  unsigned char h[DSR_HASH_BYTES];
  char *key = NULL, *sec = NULL;
  unsigned char *sealed = NULL;
  size_t sl = 0;
  PGresult *r = NULL;
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
  r = dsr_db_exec_bin(db, DSR_STMT_CUSTOMER_INSERT, 6, v, lens, fmts);
  if (!dsr_db_ok(r)) {
    ec = DSR_E_DB_UNAVAILABLE;
    goto cleanup;
  }
  if (PQntuples(r) != 1) {
    snprintf(why, whylen, "a customer with this name or tenant exists");
    ec = DSR_E_CONFLICT;
    goto cleanup;
  }
  dsr_strlcpy(id, PQgetvalue(r, 0, 0), 40);
  *api_key = key;
  *whsec = sec;
  key = sec = NULL;
  ec = DSR_OK;
cleanup:
  PQclear(r);
  free(sealed);
  free_secret(key);
  free_secret(sec);
  return ec;
}

enum dsr_ec dsr_customer_rotate_key(struct dsr_db *db, const char *name, char **api_key)
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
  PGresult *r = dsr_db_exec_bin(db, DSR_STMT_CUSTOMER_SET_KEY, 3, v, lens, fmts);
  enum dsr_ec ec = !dsr_db_ok(r) ? DSR_E_DB_UNAVAILABLE
                   : PQntuples(r) == 1 ? DSR_OK
                                       : DSR_E_NOT_FOUND;
  PQclear(r);
  if (ec == DSR_OK)
    *api_key = key;
  else
    free_secret(key);
  return ec;
}

enum dsr_ec dsr_customer_rotate_secret(struct dsr_db *db, const char *name, long grace_hours,
                                       char **whsec)
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
  PGresult *r = dsr_db_exec_bin(db, DSR_STMT_CUSTOMER_SET_SECRET, 4, v, lens, fmts);
  ec = !dsr_db_ok(r) ? DSR_E_DB_UNAVAILABLE : PQntuples(r) == 1 ? DSR_OK : DSR_E_NOT_FOUND;
  PQclear(r);
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

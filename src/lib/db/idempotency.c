/** @file idempotency.c @brief Kept first answers to POSTs with an Idempotency-Key (idempotency.h). */
#include "config.h"
#include "dsr/idempotency.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool dsr_idem_key_ok(const char *k)
{
  size_t n = strlen(k);
  if (n == 0 || n > 255)
    return false;
  for (const unsigned char *p = (const unsigned char *)k; *p; p++)
    if (*p < 0x21 || *p > 0x7e)
      return false;
  return true;
}

bool dsr_idem_init(struct dsr_idem *out, const char *scope, const char *key, const char *what,
                   const json_t *body)
{
  memset(out, 0, sizeof *out);
  if (strlen(scope) >= sizeof out->scope)
    return false;
  dsr_strlcpy(out->scope, scope, sizeof out->scope);
  dsr_keyed_hash(DSR_KEY_IDEMPOTENCY, key, strlen(key), out->key_hash);
  char *canon = body ? json_dumps(body, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY)
                     : strdup("");
  char *all = canon && what ? dsr_asprintf("%s\n%s", what, canon) : NULL;
  const char *input = what ? all : canon;
  bool ok = input != NULL;
  if (ok)
    dsr_keyed_hash(DSR_KEY_IDEMPOTENCY, input, strlen(input), out->fingerprint);
  free(all);
  free(canon);
  return ok;
}

/* Binary parameters: the key hash (1) and, from @p n > 2, the fingerprint (2). */
static PGresult *exec_keyed(struct dsr_db *db, enum dsr_stmt st, int n, const char *const *v,
                            const int *extra_lens)
{
  int lens[8] = {0, DSR_HASH_BYTES, DSR_HASH_BYTES}, fmts[8] = {0, 1, 1};
  for (int i = 3; i < n; i++) {
    lens[i] = extra_lens ? extra_lens[i] : 0;
    fmts[i] = lens[i] > 0 ? 1 : 0;
  }
  return dsr_db_exec_bin(db, st, n, v, lens, fmts);
}

/* Reads the row of @p k: the answer, a mismatch, a reservation, or nothing. */
static enum dsr_idem_found read_row(PGresult *r, const struct dsr_idem *k, unsigned int *status,
                                    json_t **reply)
{
  if (PQntuples(r) != 1)
    return DSR_IDEM_NONE;
  size_t fl = 0, rl = 0, pl = 0;
  unsigned char *fp = PQunescapeBytea((const unsigned char *)PQgetvalue(r, 0, 0), &fl);
  unsigned char *sealed = PQunescapeBytea((const unsigned char *)PQgetvalue(r, 0, 2), &rl);
  unsigned char *plain = NULL;
  enum dsr_idem_found found = DSR_IDEM_FAILED;
  if (!fp || fl != DSR_HASH_BYTES || sodium_memcmp(fp, k->fingerprint, DSR_HASH_BYTES) != 0) {
    found = DSR_IDEM_MISMATCH;
  } else if (atoi(PQgetvalue(r, 0, 1)) == 0) {
    found = DSR_IDEM_BUSY;
  } else if (sealed && dsr_unseal(sealed, rl, &plain, &pl)) {
    *reply = json_loadb((const char *)plain, pl, JSON_DECODE_ANY, NULL);
    *status = (unsigned)atoi(PQgetvalue(r, 0, 1));
    found = *reply ? DSR_IDEM_REPLAY : DSR_IDEM_FAILED;
    sodium_memzero(plain, pl);
  }
  free(plain);
  PQfreemem(fp);
  PQfreemem(sealed);
  return found;
}

enum dsr_idem_found dsr_idem_lookup(struct dsr_db *db, const struct dsr_idem *k,
                                    unsigned int *status, json_t **reply, bool *retry)
{
  *retry = false;
  *reply = NULL;
  const char *v[] = {k->scope, (const char *)k->key_hash};
  PGresult *r = exec_keyed(db, DSR_STMT_IDEMPOTENCY_GET, 2, v, NULL);
  enum dsr_idem_found found = DSR_IDEM_FAILED;
  if (dsr_db_ok(r))
    found = read_row(r, k, status, reply);
  else
    *retry = dsr_db_is_retryable(r);
  PQclear(r);
  return found;
}

enum dsr_idem_found dsr_idem_reserve(struct dsr_db *db, const struct dsr_idem *k, time_t now,
                                     unsigned int *status, json_t **reply, bool *retry)
{
  char nows[24], stale[16];
  snprintf(nows, sizeof nows, "%lld", (long long)now);
  snprintf(stale, sizeof stale, "%d", DSR_IDEM_STALE_S);
  const char *v[] = {k->scope, (const char *)k->key_hash, (const char *)k->fingerprint, nows,
                     stale};
  PGresult *r = exec_keyed(db, DSR_STMT_IDEMPOTENCY_RESERVE, 5, v, NULL);
  *retry = false;
  *reply = NULL;
  if (!dsr_db_ok(r)) {
    *retry = dsr_db_is_retryable(r);
    PQclear(r);
    return DSR_IDEM_FAILED;
  }
  bool ours = PQntuples(r) == 1;
  PQclear(r);
  if (ours)
    return DSR_IDEM_NONE;
  enum dsr_idem_found found = dsr_idem_lookup(db, k, status, reply, retry);
  /* Gone in between (released after a failure): the caller may try again. */
  if (found == DSR_IDEM_NONE) {
    *retry = true;
    return DSR_IDEM_FAILED;
  }
  return found;
}

bool dsr_idem_store(struct dsr_db *db, const struct dsr_idem *k, unsigned int status,
                    const char *text, time_t now, bool *lost, bool *retry)
{
  *lost = false;
  *retry = false;
  unsigned char *sealed = NULL;
  size_t sl = 0;
  if (!dsr_seal(text, strlen(text), &sealed, &sl))
    return false;
  char st[12], nows[24];
  snprintf(st, sizeof st, "%u", status);
  snprintf(nows, sizeof nows, "%lld", (long long)now);
  const char *v[] = {k->scope, (const char *)k->key_hash, (const char *)k->fingerprint, st,
                     (const char *)sealed, nows};
  const int lens[] = {0, 0, 0, 0, (int)sl, 0};
  PGresult *r = exec_keyed(db, DSR_STMT_IDEMPOTENCY_PUT, 6, v, lens);
  free(sealed);
  bool ok = dsr_db_ok(r);
  if (ok)
    *lost = PQntuples(r) == 0;
  else
    *retry = dsr_db_is_retryable(r);
  PQclear(r);
  return ok;
}

void dsr_idem_release(struct dsr_db *db, const struct dsr_idem *k)
{
  const char *v[] = {k->scope, (const char *)k->key_hash};
  PQclear(exec_keyed(db, DSR_STMT_IDEMPOTENCY_RELEASE, 2, v, NULL));
}

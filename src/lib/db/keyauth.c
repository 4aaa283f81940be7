/** @file keyauth.c @brief Prefixed bearer keys looked up by keyed hash (see keyauth.h). */
#include "config.h"
#include "dsr/keyauth.h"
#include "dsr/crypto.h"

#include <string.h>

enum dsr_ec dsr_key_auth(struct dsr_db *db, const char *key, const char *prefix,
                         enum dsr_stmt st, char id[40])
{
  if (!key || strncmp(key, prefix, strlen(prefix)) != 0)
    return DSR_E_UNAUTHORIZED;
  unsigned char h[DSR_HASH_BYTES];
  dsr_keyed_hash(DSR_KEY_TOKEN, key, strlen(key), h);
  const char *v[] = {(const char *)h};
  const int lens[] = {DSR_HASH_BYTES};
  const int fmts[] = {1};
  PGresult *r = dsr_db_exec_bin(db, st, 1, v, lens, fmts);
  enum dsr_ec ec = DSR_E_UNAUTHORIZED;
  if (!dsr_db_ok(r))
    ec = DSR_E_DB_UNAVAILABLE;
  else if (PQntuples(r) == 1) {
    dsr_strlcpy(id, PQgetvalue(r, 0, 0), 40);
    ec = DSR_OK;
  }
  PQclear(r);
  return ec;
}

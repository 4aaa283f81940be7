/**
 * @file audit_seal.c
 * @brief Links committed audit entries into the hash chain.
 *
 * Order: a pass takes H = the oldest transaction id still running. Every entry
 * written by a transaction older than H is final (committed or rolled back), and
 * every entry not yet visible belongs to a transaction >= H, so it can only join
 * a later pass. A pass seals the unsealed entries below H in sequence order,
 * after the current head. Chain order is therefore well defined (the order of
 * sealing) and no entry can be skipped for good: once the transactions before it
 * end, the next pass takes it.
 */
#include "config.h"
#include "dsr/audit.h"
#include "dsr/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct pass {
  int limit;
  long long sealed;
  bool more;
};

static enum dsr_tx_status tx_fail(PGresult *r)
{
  bool retry = dsr_db_is_retryable(r);
  PQclear(r);
  return retry ? DSR_TX_RETRY : DSR_TX_ROLLBACK;
}

/* Reads the chain head: position and raw hash (zero hash for an empty chain). */
static enum dsr_tx_status read_head(struct dsr_db *db, long long *pos,
                                    unsigned char hash[DSR_AUDIT_HASH_BYTES])
{
  PGresult *r = dsr_db_exec(db, DSR_STMT_AUDIT_HEAD, 0, NULL);
  if (!dsr_db_ok(r))
    return tx_fail(r);
  *pos = 0;
  memset(hash, 0, DSR_AUDIT_HASH_BYTES);
  bool ok = true;
  if (PQntuples(r) == 1) {
    *pos = atoll(PQgetvalue(r, 0, 0));
    ok = dsr_audit_unhex(PQgetvalue(r, 0, 1), hash);
  }
  PQclear(r);
  return ok ? DSR_TX_COMMIT : DSR_TX_ROLLBACK;
}

static enum dsr_tx_status link_rows(struct dsr_db *db, PGresult *cand, long long pos,
                                    unsigned char prev[DSR_AUDIT_HASH_BYTES], long long *sealed)
{
  char now[24];
  snprintf(now, sizeof now, "%lld", (long long)dsr_now());
  for (int i = 0; i < PQntuples(cand); i++) {
    struct dsr_audit_entry e = {
        .pos = pos + 1 + i,
        .seq = atoll(PQgetvalue(cand, i, 0)),
        .at = PQgetvalue(cand, i, 1),
        .request_id = PQgetvalue(cand, i, 2),
        .kind = PQgetvalue(cand, i, 3),
        .actor = PQgetvalue(cand, i, 4),
        .data = PQgetvalue(cand, i, 5),
    };
    unsigned char h[DSR_AUDIT_HASH_BYTES];
    if (!dsr_audit_link_hash(prev, &e, h))
      return DSR_TX_ROLLBACK;
    char ps[24], ss[24], prev_hex[DSR_AUDIT_HEX_LEN], hex[DSR_AUDIT_HEX_LEN];
    snprintf(ps, sizeof ps, "%lld", e.pos);
    snprintf(ss, sizeof ss, "%lld", e.seq);
    dsr_audit_hex(prev, prev_hex);
    dsr_audit_hex(h, hex);
    const char *v[] = {ps, ss, prev_hex, hex, now};
    PGresult *r = dsr_db_exec(db, DSR_STMT_AUDIT_LINK_INSERT, 5, v);
    if (!dsr_db_ok(r))
      return tx_fail(r);
    PQclear(r);
    memcpy(prev, h, DSR_AUDIT_HASH_BYTES);
    (*sealed)++;
  }
  return DSR_TX_COMMIT;
}

static enum dsr_tx_status pass_body(struct dsr_db *db, void *arg)
{
  struct pass *p = arg;
  p->sealed = 0;
  p->more = false;
  PGresult *r = dsr_db_exec(db, DSR_STMT_AUDIT_SEAL_LOCK, 0, NULL);
  if (!dsr_db_ok(r))
    return tx_fail(r);
  bool locked = PQntuples(r) == 1 && PQgetvalue(r, 0, 0)[0] == 't';
  PQclear(r);
  if (!locked)
    return DSR_TX_COMMIT; /* another sealer is at work; it will take our entries */
  r = dsr_db_exec(db, DSR_STMT_AUDIT_SEAL_HORIZON, 0, NULL);
  if (!dsr_db_ok(r) || PQntuples(r) != 1)
    return tx_fail(r);
  char from[32], to[32];
  dsr_strlcpy(from, PQgetvalue(r, 0, 0), sizeof from);
  dsr_strlcpy(to, PQgetvalue(r, 0, 1), sizeof to);
  PQclear(r);
  long long pos;
  unsigned char prev[DSR_AUDIT_HASH_BYTES];
  enum dsr_tx_status st = read_head(db, &pos, prev);
  if (st != DSR_TX_COMMIT)
    return st;
  char lim[16];
  snprintf(lim, sizeof lim, "%d", p->limit);
  const char *cv[] = {from, to, lim};
  PGresult *cand = dsr_db_exec(db, DSR_STMT_AUDIT_SEAL_CANDIDATES, 3, cv);
  if (!dsr_db_ok(cand))
    return tx_fail(cand);
  int n = PQntuples(cand);
  st = link_rows(db, cand, pos, prev, &p->sealed);
  PQclear(cand);
  if (st != DSR_TX_COMMIT)
    return st;
  if (n < p->limit) {
    /* Everything below the horizon is sealed: later passes start there. */
    const char *av[] = {to};
    r = dsr_db_exec(db, DSR_STMT_AUDIT_SEAL_ADVANCE, 1, av);
    if (!dsr_db_ok(r))
      return tx_fail(r);
    PQclear(r);
  } else {
    p->more = true;
  }
  return DSR_TX_COMMIT;
}

bool dsr_audit_seal_pass(struct dsr_db *db, int limit, long long *sealed, bool *more)
{
  struct pass p = {.limit = limit > 0 ? limit : 1};
  bool ok = dsr_db_tx(db, "READ COMMITTED", pass_body, &p);
  *sealed = ok ? p.sealed : 0;
  *more = ok && p.more;
  if (ok && p.sealed > 0)
    DSR_DEBUG("audit.sealed", "links=%lld", p.sealed);
  return ok;
}

bool dsr_audit_seal_all(struct dsr_db *db, long long *sealed)
{
  *sealed = 0;
  bool more = true;
  while (more) {
    long long n = 0;
    if (!dsr_audit_seal_pass(db, 1000, &n, &more))
      return false;
    *sealed += n;
  }
  return true;
}

bool dsr_audit_head(struct dsr_db *db, long long *pos, char hex[DSR_AUDIT_HEX_LEN])
{
  unsigned char h[DSR_AUDIT_HASH_BYTES];
  if (read_head(db, pos, h) != DSR_TX_COMMIT)
    return false;
  dsr_audit_hex(h, hex);
  return true;
}

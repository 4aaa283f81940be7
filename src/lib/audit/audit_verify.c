/** @file audit_verify.c @brief Verifies the hash chain held in the database. */
#include "config.h"
#include "dsr/audit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PAGE 2000

/** Records the first broken link in @p v. */
static void broken(struct dsr_audit_verdict *v, long long pos, long long seq, const char *expected,
                   const char *found, const char *reason)
{
  v->ok = false;
  v->broken_pos = pos;
  v->broken_seq = seq;
  dsr_strlcpy(v->expected, expected, sizeof v->expected);
  dsr_strlcpy(v->found, found, sizeof v->found);
  dsr_strlcpy(v->reason, reason, sizeof v->reason);
}

/**
 * Checks one row of DSR_STMT_AUDIT_CHAIN_PAGE against the running hash @p prev
 * (updated on success). Returns false at the first broken link.
 */
static bool check_row(PGresult *r, int i, long long want_pos,
                      unsigned char prev[DSR_AUDIT_HASH_BYTES], struct dsr_audit_verdict *v)
{
  long long pos = atoll(PQgetvalue(r, i, 0));
  long long seq = atoll(PQgetvalue(r, i, 1));
  char prev_hex[DSR_AUDIT_HEX_LEN];
  dsr_audit_hex(prev, prev_hex);
  if (pos != want_pos) {
    char want[32], got[32];
    snprintf(want, sizeof want, "position %lld", want_pos);
    snprintf(got, sizeof got, "position %lld", pos);
    broken(v, want_pos, -1, want, got, "a link is missing from the chain");
    return false;
  }
  if (strcmp(PQgetvalue(r, i, 2), prev_hex) != 0) {
    broken(v, pos, seq, prev_hex, PQgetvalue(r, i, 2),
           "the link does not name the previous link's hash");
    return false;
  }
  if (PQgetvalue(r, i, 4)[0] != 't') {
    broken(v, pos, seq, PQgetvalue(r, i, 3), "(entry missing)",
           "the sealed entry is gone from dsr_audit_entries");
    return false;
  }
  struct dsr_audit_entry e = {.pos = pos, .seq = seq, .at = PQgetvalue(r, i, 5),
                              .request_id = PQgetvalue(r, i, 6), .kind = PQgetvalue(r, i, 7),
                              .actor = PQgetvalue(r, i, 8), .data = PQgetvalue(r, i, 9)};
  unsigned char h[DSR_AUDIT_HASH_BYTES];
  char hex[DSR_AUDIT_HEX_LEN];
  if (!dsr_audit_link_hash(prev, &e, h)) {
    broken(v, pos, seq, "", "", "out of memory");
    return false;
  }
  dsr_audit_hex(h, hex);
  if (strcmp(hex, PQgetvalue(r, i, 3)) != 0) {
    broken(v, pos, seq, PQgetvalue(r, i, 3), hex,
           "the entry does not hash to the hash the chain recorded");
    return false;
  }
  memcpy(prev, h, DSR_AUDIT_HASH_BYTES);
  return true;
}

static bool count_unsealed(struct dsr_db *db, struct dsr_audit_verdict *v, char *err,
                           size_t errlen)
{
  PGresult *r = dsr_db_exec(db, DSR_STMT_AUDIT_UNSEALED, 0, NULL);
  bool ok = dsr_db_ok(r) && PQntuples(r) == 1;
  if (ok) {
    v->unsealed = atoll(PQgetvalue(r, 0, 0));
    v->sealable = atoll(PQgetvalue(r, 0, 1));
    dsr_strlcpy(v->oldest_unsealed, PQgetvalue(r, 0, 2), sizeof v->oldest_unsealed);
  } else {
    snprintf(err, errlen, "cannot count unsealed entries: %s", PQresultErrorMessage(r));
  }
  PQclear(r);
  return ok;
}

bool dsr_audit_verify_db(struct dsr_db *db, struct dsr_audit_verdict *v, char *err, size_t errlen)
{
  memset(v, 0, sizeof *v);
  v->ok = true;
  v->broken_seq = -1;
  unsigned char prev[DSR_AUDIT_HASH_BYTES] = {0};
  long long last = 0;
  char after[24], upto[24] = "9223372036854775807", lim[16];
  snprintf(lim, sizeof lim, "%d", PAGE);
  for (;;) {
    snprintf(after, sizeof after, "%lld", last);
    const char *p[] = {after, upto, lim};
    PGresult *r = dsr_db_exec(db, DSR_STMT_AUDIT_CHAIN_PAGE, 3, p);
    if (!dsr_db_ok(r)) {
      snprintf(err, errlen, "cannot read the audit chain: %s", PQresultErrorMessage(r));
      PQclear(r);
      return false;
    }
    int n = PQntuples(r);
    for (int i = 0; i < n && v->ok; i++) {
      if (!check_row(r, i, last + 1, prev, v))
        break;
      last++;
      v->verified++;
    }
    PQclear(r);
    if (n < PAGE || !v->ok)
      break;
  }
  v->first_pos = v->verified > 0 || !v->ok ? 1 : 0;
  v->last_pos = last;
  dsr_audit_hex(prev, v->head);
  return count_unsealed(db, v, err, errlen);
}

/** @file audit_export.c @brief Writes a chain segment as JSON lines for offline verification. */
#include "config.h"
#include "dsr/audit.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PAGE 2000
#define DUMP_FLAGS (JSON_COMPACT | JSON_PRESERVE_ORDER)

static bool put_line(FILE *out, json_t *j)
{
  char *s = j ? json_dumps(j, DUMP_FLAGS) : NULL;
  bool ok = s && fputs(s, out) >= 0 && fputc('\n', out) != EOF;
  free(s);
  json_decref(j);
  return ok;
}

/* Hash recorded at position @p pos ("" when none; the zero hash for position 0). */
static bool hash_at(struct dsr_db *db, long long pos, char hex[DSR_AUDIT_HEX_LEN])
{
  if (pos <= 0) {
    unsigned char zero[DSR_AUDIT_HASH_BYTES] = {0};
    dsr_audit_hex(zero, hex);
    return true;
  }
  char ps[24];
  snprintf(ps, sizeof ps, "%lld", pos);
  const char *v[] = {ps};
  PGresult *r = dsr_db_exec(db, DSR_STMT_AUDIT_HASH_AT, 1, v);
  bool ok = dsr_db_ok(r) && PQntuples(r) == 1;
  if (ok)
    dsr_strlcpy(hex, PQgetvalue(r, 0, 0), DSR_AUDIT_HEX_LEN);
  PQclear(r);
  return ok;
}

static json_t *entry_line(PGresult *r, int i)
{
  bool present = PQgetvalue(r, i, 4)[0] == 't';
  const char *rid = PQgetvalue(r, i, 6);
  return json_pack("{s:I, s:I, s:s?, s:o, s:s?, s:s?, s:s?, s:s, s:s}", "pos",
                   (json_int_t)atoll(PQgetvalue(r, i, 0)), "seq",
                   (json_int_t)atoll(PQgetvalue(r, i, 1)), "at",
                   present ? PQgetvalue(r, i, 5) : NULL, "request_id",
                   present && *rid ? json_string(rid) : json_null(), "kind",
                   present ? PQgetvalue(r, i, 7) : NULL, "actor",
                   present ? PQgetvalue(r, i, 8) : NULL, "data",
                   present ? PQgetvalue(r, i, 9) : NULL, "prev_hash", PQgetvalue(r, i, 2), "hash",
                   PQgetvalue(r, i, 3));
}

static bool range(struct dsr_db *db, time_t from, time_t to, long long *first, long long *last,
                  char *err, size_t errlen)
{
  char f[24], t[24];
  snprintf(f, sizeof f, "%lld", (long long)from);
  snprintf(t, sizeof t, "%lld", (long long)to);
  const char *v[] = {f, t};
  PGresult *r = dsr_db_exec(db, DSR_STMT_AUDIT_RANGE, 2, v);
  bool ok = dsr_db_ok(r) && PQntuples(r) == 1;
  if (!ok)
    snprintf(err, errlen, "cannot read the audit chain: %s", PQresultErrorMessage(r));
  *first = ok && !PQgetisnull(r, 0, 0) ? atoll(PQgetvalue(r, 0, 0)) : 0;
  *last = ok && !PQgetisnull(r, 0, 1) ? atoll(PQgetvalue(r, 0, 1)) : -1;
  PQclear(r);
  return ok;
}

static json_t *header(time_t from, time_t to, long long first, long long last,
                      const char *anchor, const char *last_hash, long long head_pos,
                      const char *head)
{
  char f[21], t[21];
  dsr_time_rfc3339(from, f);
  dsr_time_rfc3339(to, t);
  long long count = last >= first ? last - first + 1 : 0;
  return json_pack("{s:s, s:s, s:s, s:I, s:{s:I, s:s}, s:{s:I, s:s}, s:{s:I, s:s}}", "format",
                   DSR_AUDIT_EXPORT_FORMAT, "from", f, "to", t, "count", (json_int_t)count,
                   "anchor", "pos", (json_int_t)(first - 1), "hash", anchor, "last", "pos",
                   (json_int_t)(count ? last : first - 1), "hash", last_hash, "head", "pos",
                   (json_int_t)head_pos, "hash", head);
}

bool dsr_audit_export(struct dsr_db *db, time_t from, time_t to, FILE *out, long long *count,
                      char *err, size_t errlen)
{
  *count = 0;
  long long first, last, head_pos;
  char anchor[DSR_AUDIT_HEX_LEN], last_hash[DSR_AUDIT_HEX_LEN], head[DSR_AUDIT_HEX_LEN];
  if (!range(db, from, to, &first, &last, err, errlen))
    return false;
  if (!dsr_audit_head(db, &head_pos, head)) {
    snprintf(err, errlen, "cannot read the audit chain head");
    return false;
  }
  if (last < first) { /* nothing recorded in the period: anchor at the head */
    first = head_pos + 1;
    last = head_pos;
  }
  if (!hash_at(db, first - 1, anchor) || !hash_at(db, last, last_hash)) {
    snprintf(err, errlen, "cannot read the anchor of the export");
    return false;
  }
  if (!put_line(out, header(from, to, first, last, anchor, last_hash, head_pos, head))) {
    snprintf(err, errlen, "cannot write the export");
    return false;
  }
  char after[24], upto[24], lim[16];
  snprintf(upto, sizeof upto, "%lld", last);
  snprintf(lim, sizeof lim, "%d", PAGE);
  long long at = first - 1;
  while (at < last) {
    snprintf(after, sizeof after, "%lld", at);
    const char *v[] = {after, upto, lim};
    PGresult *r = dsr_db_exec(db, DSR_STMT_AUDIT_CHAIN_PAGE, 3, v);
    bool ok = dsr_db_ok(r);
    int n = ok ? PQntuples(r) : 0;
    for (int i = 0; ok && i < n; i++) {
      ok = put_line(out, entry_line(r, i));
      at = atoll(PQgetvalue(r, i, 0));
      (*count)++;
    }
    PQclear(r);
    if (!ok) {
      snprintf(err, errlen, "cannot read or write the chain segment");
      return false;
    }
    if (n == 0)
      break;
  }
  return fflush(out) == 0;
}

/** @file audit_page.c @brief Pages of the sealed chain for the admin API (see audit.h). */
#include "config.h"
#include "dsr/audit.h"

#include <stdio.h>
#include <stdlib.h>

static json_t *entry(PGresult *r, int i)
{
  const char *rid = PQgetvalue(r, i, 3);
  return json_pack("{s:I, s:I, s:s, s:o, s:s, s:s, s:s, s:s, s:s, s:s}", "pos",
                   (json_int_t)atoll(PQgetvalue(r, i, 0)), "seq",
                   (json_int_t)atoll(PQgetvalue(r, i, 1)), "at", PQgetvalue(r, i, 2),
                   "request_id", *rid ? json_string(rid) : json_null(), "kind",
                   PQgetvalue(r, i, 4), "actor", PQgetvalue(r, i, 5), "data",
                   PQgetvalue(r, i, 6), "prev_hash", PQgetvalue(r, i, 7), "hash",
                   PQgetvalue(r, i, 8), "sealed_at", PQgetvalue(r, i, 9));
}

bool dsr_audit_page(struct dsr_db *db, long long after, int limit, json_t **out)
{
  long long head_pos = 0;
  char head[DSR_AUDIT_HEX_LEN];
  if (!dsr_audit_head(db, &head_pos, head))
    return false;
  char a[24], l[16];
  snprintf(a, sizeof a, "%lld", after);
  snprintf(l, sizeof l, "%d", limit);
  const char *v[] = {a, l};
  PGresult *r = dsr_db_exec(db, DSR_STMT_AUDIT_PAGE_API, 2, v);
  bool ok = dsr_db_ok(r);
  json_t *entries = ok ? json_array() : NULL;
  int n = ok ? PQntuples(r) : 0;
  for (int i = 0; entries && i < n; i++)
    if (json_array_append_new(entries, entry(r, i)) != 0)
      ok = false;
  long long last = n > 0 ? atoll(PQgetvalue(r, n - 1, 0)) : after;
  PQclear(r);
  if (!ok || !entries) {
    json_decref(entries);
    return false;
  }
  *out = json_pack("{s:{s:I, s:s}, s:o, s:o}", "head", "pos", (json_int_t)head_pos, "hash", head,
                   "entries", entries, "next_after",
                   n == limit && last < head_pos ? json_integer(last) : json_null());
  return *out != NULL;
}

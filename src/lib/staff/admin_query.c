/** @file admin_query.c @brief Staff queries: the request list and the request detail. */
#include "config.h"
#include "dsr/drp.h"
#include "dsr/admin.h"
#include "dsr/erasure.h"
#include "dsr/crypto.h"
#include "dsr/mask.h"
#include "dsr/page_cursor.h"
#include "dsr/validate.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* NULL for SQL NULL, otherwise the text. */
static const char *col(const PGresult *r, int row, int c)
{
  return PQgetisnull(r, row, c) ? NULL : PQgetvalue(r, row, c);
}

static json_t *jstr_or_null(const char *s)
{
  return s ? json_string(s) : json_null();
}

enum dsr_ec dsr_admin_list(struct dsr_db *db, const struct dsr_admin_filter *f, json_t **reply)
{
  char ts[40] = "", id[40] = "", now[24], limit[12];
  if (f->cursor && !dsr_cursor_decode(f->cursor, ts, id))
    return DSR_E_FIELD_INVALID;
  snprintf(now, sizeof now, "%lld", (long long)dsr_now());
  int lim = f->limit > 0 && f->limit <= 200 ? f->limit : 50;
  snprintf(limit, sizeof limit, "%d", lim + 1); /* one more tells whether a next page exists */
  const char *v[] = {now,     f->status,          f->type, f->queue, f->overdue,
                     f->cursor ? ts : NULL, f->cursor ? id : NULL, limit};
  PGresult *r = dsr_db_exec(db, DSR_STMT_ADMIN_LIST, 8, v);
  if (!dsr_db_ok(r)) {
    PQclear(r);
    return DSR_E_DB_UNAVAILABLE;
  }
  json_t *items = json_array();
  int rows = PQntuples(r);
  int shown = rows > lim ? lim : rows;
  for (int i = 0; i < shown; i++) {
    json_t *it = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:b, s:o, s:I}", "id",
                           PQgetvalue(r, i, 0), "type", PQgetvalue(r, i, 1), "jurisdiction",
                           PQgetvalue(r, i, 2), "status", PQgetvalue(r, i, 3), "received_at",
                           PQgetvalue(r, i, 4), "due_at", PQgetvalue(r, i, 5), "overdue",
                           PQgetvalue(r, i, 6)[0] == 't', "assigned_to",
                           PQgetvalue(r, i, 7)[0] ? json_string(PQgetvalue(r, i, 7))
                                                  : json_null(),
                           "parts", (json_int_t)atoll(PQgetvalue(r, i, 8)));
    json_array_append_new(items, it);
  }
  json_t *out = json_pack("{s:o}", "items", items);
  if (out && rows > lim) {
    char *next = dsr_cursor_encode(PQgetvalue(r, lim - 1, 9), PQgetvalue(r, lim - 1, 0));
    json_object_set_new(out, "next_cursor", jstr_or_null(next));
    free(next);
  }
  PQclear(r);
  if (!out)
    return DSR_E_INTERNAL;
  *reply = out;
  return DSR_OK;
}

static json_t *identities_masked(struct dsr_db *db, const char *id)
{
  const char *v[] = {id};
  PGresult *r = dsr_db_exec(db, DSR_STMT_IDENTITIES_GET, 1, v);
  if (!dsr_db_ok(r)) {
    PQclear(r);
    return NULL;
  }
  json_t *a = json_array();
  for (int i = 0; i < PQntuples(r); i++) {
    size_t n = 0, pl = 0;
    unsigned char *raw = PQunescapeBytea((const unsigned char *)PQgetvalue(r, i, 1), &n);
    unsigned char *plain = NULL;
    char masked[300] = "***";
    if (raw && dsr_unseal(raw, n, &plain, &pl)) {
      dsr_mask_identity(PQgetvalue(r, i, 0), (const char *)plain, masked, sizeof masked);
      sodium_memzero(plain, pl);
    }
    free(plain);
    PQfreemem(raw);
    json_array_append_new(a, json_pack("{s:s, s:s, s:b}", "kind", PQgetvalue(r, i, 0), "value",
                                       masked, "verified", PQgetvalue(r, i, 2)[0] == 't'));
  }
  PQclear(r);
  return a;
}

static json_t *parts_of(struct dsr_db *db, const char *id, const char *now)
{
  const char *v[] = {id, now};
  PGresult *r = dsr_db_exec(db, DSR_STMT_ADMIN_PARTS, 2, v);
  if (!dsr_db_ok(r)) {
    PQclear(r);
    return NULL;
  }
  json_t *a = json_array();
  json_t *receipts = dsr_erasure_receipts(db, id); /* erasure parts: their receipt */
  for (int i = 0; i < PQntuples(r); i++) {
    json_t *kinds = json_loads(PQgetvalue(r, i, 6), 0, NULL);
    json_t *p = json_pack(
        "{s:s, s:s, s:o, s:o, s:s, s:s, s:o, s:I, s:s, s:o, s:o, s:o, s:o, s:o, s:b}", "id",
        PQgetvalue(r, i, 0), "owner", PQgetvalue(r, i, 1), "customer_id",
        jstr_or_null(col(r, i, 2)), "customer", jstr_or_null(col(r, i, 3)), "state",
        PQgetvalue(r, i, 4), "approval", PQgetvalue(r, i, 5), "identity_kinds",
        kinds ? kinds : json_array(), "rows", (json_int_t)atoll(PQgetvalue(r, i, 7)), "due_at",
        PQgetvalue(r, i, 8), "decision", jstr_or_null(col(r, i, 9)), "reason_code",
        jstr_or_null(col(r, i, 10)), "forwarded_at", jstr_or_null(col(r, i, 11)),
        "escalated_at", jstr_or_null(col(r, i, 12)), "decided_at", jstr_or_null(col(r, i, 13)),
        "overdue", PQgetvalue(r, i, 14)[0] == 't');
    json_t *rc = json_object_get(receipts, PQgetvalue(r, i, 0));
    if (p && rc)
      json_object_set(p, "receipt", rc);
    json_array_append_new(a, p);
  }
  json_decref(receipts);
  PQclear(r);
  return a;
}

static json_t *timeline_of(struct dsr_db *db, const char *id)
{
  const char *v[] = {id};
  PGresult *r = dsr_db_exec(db, DSR_STMT_ADMIN_EVENTS, 1, v);
  if (!dsr_db_ok(r)) {
    PQclear(r);
    return NULL;
  }
  json_t *a = json_array();
  for (int i = 0; i < PQntuples(r); i++) {
    json_t *data = json_loads(PQgetvalue(r, i, 3), 0, NULL);
    json_array_append_new(a, json_pack("{s:s, s:s, s:s, s:o}", "at", PQgetvalue(r, i, 0), "kind",
                                       PQgetvalue(r, i, 1), "actor", PQgetvalue(r, i, 2), "data",
                                       data ? data : json_object()));
  }
  PQclear(r);
  return a;
}

enum dsr_ec dsr_admin_detail(struct dsr_db *db, const char *id, json_t **reply)
{
  const char *why;
  if (!dsr_valid_uuid(id, &why))
    return DSR_E_NOT_FOUND;
  char now[24];
  snprintf(now, sizeof now, "%lld", (long long)dsr_now());
  const char *v[] = {id, now};
  PGresult *r = dsr_db_exec(db, DSR_STMT_ADMIN_DETAIL, 2, v);
  if (!dsr_db_ok(r)) {
    PQclear(r);
    return DSR_E_DB_UNAVAILABLE;
  }
  if (PQntuples(r) != 1) {
    PQclear(r);
    return DSR_E_NOT_FOUND;
  }
  json_t *ids = identities_masked(db, id);
  json_t *parts = parts_of(db, id, now);
  json_t *timeline = timeline_of(db, id);
  json_t *out = NULL;
  if (ids && parts && timeline)
    out = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:o, s:o, s:o, s:o, s:o, s:o, "
                    "s:o, s:b, s:o, s:O, s:O, s:O}",
                    "id", PQgetvalue(r, 0, 0), "type", PQgetvalue(r, 0, 1), "jurisdiction",
                    PQgetvalue(r, 0, 2), "status", PQgetvalue(r, 0, 3), "language",
                    PQgetvalue(r, 0, 4), "received_at", PQgetvalue(r, 0, 5), "due_at",
                    PQgetvalue(r, 0, 6), "updated_at", PQgetvalue(r, 0, 7), "verified_at",
                    jstr_or_null(col(r, 0, 8)), "assigned_to", jstr_or_null(col(r, 0, 9)),
                    "extended_at", jstr_or_null(col(r, 0, 10)), "held_at",
                    jstr_or_null(col(r, 0, 11)), "deny_reason", jstr_or_null(col(r, 0, 12)),
                    "outcome", jstr_or_null(col(r, 0, 13)), "completed_at",
                    jstr_or_null(col(r, 0, 14)), "overdue", PQgetvalue(r, 0, 15)[0] == 't',
                    "duplicate_of", jstr_or_null(col(r, 0, 16)), "identities", ids, "parts",
                    parts, "timeline", timeline);
  json_decref(ids);
  json_decref(parts);
  json_decref(timeline);
  PQclear(r);
  if (!out)
    return DSR_E_INTERNAL;
  /* Filed by an authorized agent (DRP): which one, and its status callbacks; else null. */
  json_t *agent = dsr_drp_request_info(db, id);
  json_object_set_new(out, "agent", agent ? agent : json_null());
  *reply = out;
  return DSR_OK;
}

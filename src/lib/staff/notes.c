/**
 * @file notes.c
 * @brief The privacy team's internal notes on a request: plain text, sealed
 *        at rest (dsr_seal), each one recorded as a request.note event (the
 *        note's id only, never its text) in the same transaction, so it is in
 *        the audit trail. Never shown to requesters or customers.
 */
#include "config.h"
#include "dsr/admin.h"
#include "dsr/crypto.h"
#include "dsr/parts.h"
#include "dsr/util.h"
#include "dsr/validate.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct note_ctx {
  const char *request_id, *staff_id;
  const unsigned char *sealed;
  size_t sealed_len;
  enum dsr_ec ec;
};

static enum dsr_tx_status note_body(struct dsr_db *db, void *arg)
{
  struct note_ctx *c = arg;
  char now[24], actor[64];
  snprintf(now, sizeof now, "%lld", (long long)dsr_now());
  snprintf(actor, sizeof actor, "staff:%s", c->staff_id);
  const char *v[] = {c->request_id, c->staff_id, (const char *)c->sealed, now};
  const int lens[] = {0, 0, (int)c->sealed_len, 0}, fmts[] = {0, 0, 1, 0};
  PGresult *r = dsr_db_exec_bin(db, DSR_STMT_UI_NOTE_INSERT, 4, v, lens, fmts);
  if (!dsr_db_ok(r)) {
    bool retry = dsr_db_is_retryable(r);
    c->ec = retry ? DSR_OK : DSR_E_DB_UNAVAILABLE;
    PQclear(r);
    return retry ? DSR_TX_RETRY : DSR_TX_ROLLBACK;
  }
  if (PQntuples(r) != 1) {
    PQclear(r);
    c->ec = DSR_E_NOT_FOUND;
    return DSR_TX_ROLLBACK;
  }
  json_t *d = json_pack("{s:I}", "note_id", (json_int_t)atoll(PQgetvalue(r, 0, 0)));
  PQclear(r);
  return dsr_tx_event(db, c->request_id, "request.note", actor, d);
}

enum dsr_ec dsr_request_note_add(struct dsr_db *db, const char *request_id, const char *staff_id,
                                 const char *text)
{
  const char *why;
  if (!dsr_valid_uuid(request_id, &why))
    return DSR_E_NOT_FOUND;
  if (!text || !*text)
    return DSR_E_UNPROCESSABLE;
  struct note_ctx c = {.request_id = request_id, .staff_id = staff_id, .ec = DSR_OK};
  unsigned char *sealed = NULL;
  if (!dsr_seal(text, strlen(text), &sealed, &c.sealed_len))
    return DSR_E_INTERNAL;
  c.sealed = sealed;
  bool ok = dsr_db_tx(db, "READ COMMITTED", note_body, &c);
  free(sealed);
  if (ok)
    return DSR_OK;
  return c.ec != DSR_OK ? c.ec : DSR_E_DB_UNAVAILABLE;
}

json_t *dsr_request_notes(struct dsr_db *db, const char *request_id)
{
  const char *v[] = {request_id};
  PGresult *r = dsr_db_exec(db, DSR_STMT_UI_NOTES_OF, 1, v);
  if (!dsr_db_ok(r)) {
    PQclear(r);
    return NULL;
  }
  json_t *a = json_array();
  for (int i = 0; a && i < PQntuples(r); i++) {
    size_t n = 0, pl = 0;
    unsigned char *raw = PQunescapeBytea((const unsigned char *)PQgetvalue(r, i, 2), &n);
    unsigned char *plain = NULL;
    json_t *text = NULL;
    if (raw && dsr_unseal(raw, n, &plain, &pl)) {
      text = json_stringn((const char *)plain, pl);
      sodium_memzero(plain, pl);
    }
    free(plain);
    PQfreemem(raw);
    json_array_append_new(a, json_pack("{s:s, s:s, s:o}", "at", PQgetvalue(r, i, 0), "author",
                                       PQgetvalue(r, i, 1), "text",
                                       text ? text : json_string("(cannot be unsealed)")));
  }
  PQclear(r);
  return a;
}

/**
 * @file erasure_ids.c
 * @brief Identity hashes shared by suppression and holds, the enqueueing of
 *        erasure jobs when parts become approved, and the receipts that the
 *        admin API shows.
 */
#include "config.h"
#include "dsr/erasure.h"
#include "dsr/parts.h"
#include "dsr/planner.h"
#include "dsr/queue.h"
#include "dsr/validate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool dsr_identity_hash(enum dsr_id_kind kind, const char *value, unsigned char out[DSR_HASH_BYTES])
{
  char *norm = kind == DSR_ID_EMAIL   ? dsr_identity_normalize(DSR_NORM_LOWER, value)
               : kind == DSR_ID_PHONE ? dsr_identity_normalize(DSR_NORM_E164, value)
                                      : dsr_identity_normalize(DSR_NORM_EXACT, value);
  if (!norm)
    return false;
  char *in = dsr_asprintf("%s:%s", dsr_id_kind_name(kind), norm);
  free(norm);
  if (!in)
    return false;
  dsr_keyed_hash(DSR_KEY_IDENTITY, in, strlen(in), out);
  sodium_memzero(in, strlen(in));
  free(in);
  return true;
}

enum dsr_tx_status dsr_erasure_enqueue(struct dsr_db *db, const char *request_id,
                                       const char *part_id)
{
  const char *v[] = {request_id, part_id};
  PGresult *r = NULL;
  enum dsr_tx_status s = dsr_tx_exec(db, DSR_STMT_ERASURE_PARTS_TO_RUN, 2, v, &r);
  if (s != DSR_TX_COMMIT)
    return s;
  for (int i = 0; i < PQntuples(r) && s == DSR_TX_COMMIT; i++) {
    char key[64];
    snprintf(key, sizeof key, "erasure:%s", PQgetvalue(r, i, 0));
    json_t *payload = json_pack("{s:s}", "part_id", PQgetvalue(r, i, 0));
    struct dsr_job_opts o = {.dedupe_key = key};
    bool enqueued = false, retry = false;
    bool ok = payload && dsr_queue_enqueue(db, DSR_JOB_ERASURE, payload, &o, dsr_now(),
                                           &enqueued, &retry);
    json_decref(payload);
    if (!ok)
      s = retry ? DSR_TX_RETRY : DSR_TX_ROLLBACK;
  }
  PQclear(r);
  return s;
}

json_t *dsr_erasure_receipts(struct dsr_db *db, const char *request_id)
{
  const char *v[] = {request_id};
  PGresult *r = dsr_db_exec(db, DSR_STMT_ERASURE_RECEIPTS_OF_REQUEST, 1, v);
  if (!dsr_db_ok(r)) {
    PQclear(r);
    return NULL;
  }
  json_t *out = json_object();
  for (int i = 0; out && i < PQntuples(r); i++) {
    json_t *rc = PQgetisnull(r, i, 2) ? NULL : json_loads(PQgetvalue(r, i, 2), 0, NULL);
    if (!rc) /* still running: the state only */
      rc = json_pack("{s:s}", "state", PQgetvalue(r, i, 1));
    json_object_set_new(out, PQgetvalue(r, i, 0), rc);
  }
  PQclear(r);
  return out;
}

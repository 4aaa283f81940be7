/**
 * @file part_exec.c
 * @brief Running an approved part: dsr_part_execute_enqueue() is the one
 *        hook that approvals and customer decisions call for every request
 *        type (each enqueue picks only the parts of its own types), and
 *        dsr_rights_finish() closes a part run by the rights job (see rights.h).
 */
#include "config.h"
#include "dsr/erasure.h"
#include "dsr/export.h"
#include "dsr/parts.h"
#include "dsr/queue.h"
#include "dsr/rights.h"

#include <stdio.h>
#include <string.h>

enum dsr_tx_status dsr_part_execute_enqueue(struct dsr_db *db, const char *request_id,
                                            const char *part_id)
{
  /* Each enqueue picks only the parts of its own request types. */
  enum dsr_tx_status s = dsr_export_enqueue(db, request_id, part_id);
  if (s == DSR_TX_COMMIT)
    s = dsr_rights_enqueue(db, request_id, part_id);
  if (s == DSR_TX_COMMIT)
    s = dsr_erasure_enqueue(db, request_id, part_id);
  return s;
}

enum dsr_tx_status dsr_rights_enqueue(struct dsr_db *db, const char *request_id,
                                      const char *part_id)
{
  const char *v[] = {request_id, part_id};
  PGresult *r = NULL;
  enum dsr_tx_status s = dsr_tx_exec(db, DSR_STMT_RIGHTS_PARTS_TO_RUN, 2, v, &r);
  for (int i = 0; s == DSR_TX_COMMIT && i < PQntuples(r); i++) {
    char key[64];
    snprintf(key, sizeof key, "rights:%s", PQgetvalue(r, i, 0));
    json_t *payload = json_pack("{s:s}", "part_id", PQgetvalue(r, i, 0));
    struct dsr_job_opts o = {.dedupe_key = key};
    bool enqueued = false, retry = false;
    bool ok = payload && dsr_queue_enqueue(db, DSR_JOB_RIGHTS, payload, &o, dsr_now(), &enqueued,
                                           &retry);
    json_decref(payload);
    if (!ok)
      s = retry ? DSR_TX_RETRY : DSR_TX_ROLLBACK;
  }
  PQclear(r);
  return s;
}

struct finish_ctx {
  const char *part_id, *request_id, *kind;
  json_t *data;
  bool skipped;
};

static enum dsr_tx_status finish_body(struct dsr_db *db, void *arg)
{
  struct finish_ctx *c = arg;
  bool go = false;
  enum dsr_tx_status s = dsr_part_lock_runnable(db, c->part_id, &go);
  if (s != DSR_TX_COMMIT)
    return s;
  PGresult *r = NULL;
  c->skipped = !go;
  if (!go)
    return DSR_TX_COMMIT;
  char now[24];
  snprintf(now, sizeof now, "%lld", (long long)dsr_now());
  const char *pv[] = {c->part_id, "done", now};
  s = dsr_tx_exec(db, DSR_STMT_EXPORT_PART_SET_STATE, 3, pv, &r);
  if (s != DSR_TX_COMMIT)
    return s;
  PQclear(r);
  s = dsr_tx_event(db, c->request_id, c->kind, "system", json_incref(c->data));
  if (s != DSR_TX_COMMIT)
    return s;
  return dsr_request_settle(db, c->request_id, "system");
}

int dsr_rights_finish(struct dsr_db *db, const char *part_id, const char *request_id,
                      const char *event, json_t *data, char *err, size_t errlen)
{
  struct finish_ctx c = {.part_id = part_id, .request_id = request_id, .kind = event,
                         .data = data};
  bool ok = data && dsr_db_tx(db, "READ COMMITTED", finish_body, &c);
  json_decref(data);
  if (!ok) {
    snprintf(err, errlen, "recording the change failed");
    return DSR_JOB_RETRY;
  }
  return DSR_JOB_DONE;
}

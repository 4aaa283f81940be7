/** @file webhook_outbox.c @brief The transactional outbox: rows written with the state change. */
#include "config.h"
#include "dsr/crypto.h"
#include "dsr/queue.h"
#include "dsr/webhook.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A new webhook-id, "msg_" and 32 hex digits, the same on every attempt. */
static void new_msg_id(char out[40])
{
  unsigned char raw[16];
  randombytes_buf(raw, sizeof raw);
  char hex[33];
  sodium_bin2hex(hex, sizeof hex, raw, sizeof raw);
  snprintf(out, 40, "msg_%s", hex);
}

/* Seals @p text and runs @p st with @p v (the sealed body at @p body_at); enqueues delivery. */
static bool put_sealed(struct dsr_db *db, enum dsr_stmt st, const char *text, const char **v,
                       int n, int body_at, bool *retry)
{
  unsigned char *sealed = NULL;
  size_t sl = 0;
  if (!text || !dsr_seal(text, strlen(text), &sealed, &sl))
    return false;
  int lens[12] = {0}, fmts[12] = {0}; /* n <= 12 */
  v[body_at] = (const char *)sealed;
  lens[body_at] = (int)sl;
  fmts[body_at] = 1;
  PGresult *r = dsr_db_exec_bin(db, st, n, v, lens, fmts);
  bool ok = dsr_db_ok(r) && PQntuples(r) == 1;
  *retry = !ok && dsr_db_is_retryable(r);
  if (ok)
    ok = dsr_webhook_enqueue(db, PQgetvalue(r, 0, 0), 0, dsr_now(), retry);
  PQclear(r);
  free(sealed);
  return ok;
}

bool dsr_outbox_add_callback(struct dsr_db *db, const char *request_id, const char *url,
                             const json_t *body, bool *retry)
{
  *retry = false;
  char msg_id[40], now[24];
  new_msg_id(msg_id);
  snprintf(now, sizeof now, "%lld", (long long)dsr_now());
  char *text = json_dumps(body, JSON_COMPACT);
  const char *v[] = {msg_id, url, request_id, NULL, now};
  bool ok = put_sealed(db, DSR_STMT_WEBHOOK_CALLBACK_INSERT, text, v, 5, 3, retry);
  if (text) {
    sodium_memzero(text, strlen(text));
    free(text);
  }
  return ok;
}

bool dsr_outbox_add(struct dsr_db *db, const char *customer_id, const char *part_id,
                    const char *event, const json_t *data, bool *retry)
{
  *retry = false;
  char msg_id[40];
  new_msg_id(msg_id);
  char ts[21], now[24];
  dsr_time_rfc3339(dsr_now(), ts);
  snprintf(now, sizeof now, "%lld", (long long)dsr_now());
  json_t *payload = json_pack("{s:s, s:s, s:O}", "type", event, "timestamp", ts, "data", data);
  char *text = payload ? json_dumps(payload, JSON_COMPACT) : NULL;
  /* What the part's history shows (no personal data): its sequence, state and change. */
  char seq[24] = "";
  json_t *js = json_object_get(data, "sequence");
  if (json_is_integer(js))
    snprintf(seq, sizeof seq, "%lld", (long long)json_integer_value(js));
  const char *state = json_string_value(json_object_get(data, "status"));
  const char *change = json_string_value(json_object_get(data, "change"));
  if (!change)
    change = json_string_value(json_object_get(data, "outcome"));
  const char *v[] = {msg_id, customer_id, part_id, event, NULL, now,
                     seq[0] ? seq : NULL, state, change};
  bool ok = put_sealed(db, DSR_STMT_WEBHOOK_OUTBOX_INSERT, text, v, 9, 4, retry);
  if (text) {
    sodium_memzero(text, strlen(text));
    free(text);
  }
  json_decref(payload);
  return ok;
}

/* The job for attempt @p attempts + 1 of @p outbox_id, under dedupe key "webhook:<id>:<n><tail>". */
static bool enqueue_keyed(struct dsr_db *db, const char *outbox_id, int attempts, time_t run_at,
                          const char *tail, bool *retry)
{
  char key[96];
  snprintf(key, sizeof key, "webhook:%s:%d%s", outbox_id, attempts, tail);
  json_t *payload = json_pack("{s:I}", "outbox_id", (json_int_t)atoll(outbox_id));
  /* The outbox keeps its own schedule; the queue only retries a crashed run. */
  struct dsr_job_opts o = {.run_at = run_at, .dedupe_key = key, .max_attempts = 3};
  bool enqueued = false;
  bool ok = payload && dsr_queue_enqueue(db, DSR_JOB_WEBHOOK, payload, &o, dsr_now(), &enqueued,
                                         retry);
  json_decref(payload);
  return ok;
}

bool dsr_webhook_enqueue(struct dsr_db *db, const char *outbox_id, int attempts, time_t run_at,
                         bool *retry)
{
  return enqueue_keyed(db, outbox_id, attempts, run_at, "", retry);
}

bool dsr_webhook_enqueue_next(struct dsr_db *db, const char *part_id, const char *done_id,
                              bool *retry)
{
  *retry = false;
  const char *v[] = {part_id, done_id};
  PGresult *r = dsr_db_exec(db, DSR_STMT_WEBHOOK_OUTBOX_NEXT_OF_PART, 2, v);
  bool ok = dsr_db_ok(r);
  *retry = !ok && dsr_db_is_retryable(r);
  if (ok && PQntuples(r) == 1) {
    time_t due = (time_t)atoll(PQgetvalue(r, 0, 2)), now = dsr_now();
    char tail[40]; /* its own key: the held row's first job may still be queued or running */
    snprintf(tail, sizeof tail, ":after:%s", done_id);
    ok = enqueue_keyed(db, PQgetvalue(r, 0, 0), atoi(PQgetvalue(r, 0, 1)), due > now ? due : now,
                       tail, retry);
  }
  PQclear(r);
  return ok;
}

bool dsr_webhook_rearm(struct dsr_db *db, int *n)
{
  char now[24];
  snprintf(now, sizeof now, "%lld", (long long)dsr_now());
  const char *v[] = {now};
  PGresult *r = dsr_db_exec(db, DSR_STMT_WEBHOOK_OUTBOX_DUE, 1, v);
  bool ok = dsr_db_ok(r);
  *n = ok ? PQntuples(r) : 0;
  for (int i = 0; ok && i < PQntuples(r); i++) {
    bool retry = false;
    ok = dsr_webhook_enqueue(db, PQgetvalue(r, i, 0), atoi(PQgetvalue(r, i, 1)), dsr_now(),
                             &retry);
  }
  PQclear(r);
  return ok;
}

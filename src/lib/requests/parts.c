/**
 * @file parts.c
 * @brief A request's life after verification: enqueueing discovery, part
 *        notifications and request completion (see parts.h).
 */
#include "config.h"
#include "dsr/closing.h"
#include "dsr/events.h"
#include "dsr/parts.h"
#include "dsr/queue.h"
#include "dsr/webhook.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const dsr_deny_reasons[] = {
    "identity_not_verified", "manifestly_unfounded", "excessive",       "legal_obligation",
    "legal_claims",          "exemption_applies",    "not_applicable",  "duplicate",
    "third_party_rights",    NULL};

bool dsr_request_status_open(const char *s)
{
  return !strcmp(s, "received") || !strcmp(s, "pending_verification") ||
         !strcmp(s, "verified") || !strcmp(s, "in_progress") || !strcmp(s, "on_hold");
}

bool dsr_request_under_way(struct dsr_db *db, const char *id, bool *under_way)
{
  PGresult *r = dsr_db_exec(db, DSR_STMT_REQUEST_UNDER_WAY, 1, (const char *const[]){id});
  bool ok = dsr_db_ok(r) && PQntuples(r) == 1;
  *under_way = ok && PQgetvalue(r, 0, 0)[0] == 't';
  PQclear(r);
  return ok;
}

bool dsr_part_state_final(const char *state)
{
  return !strcmp(state, "done") || !strcmp(state, "denied");
}

enum dsr_tx_status dsr_tx_exec(struct dsr_db *db, enum dsr_stmt st, int n,
                               const char *const *v, PGresult **out)
{
  PGresult *r = dsr_db_exec(db, st, n, v);
  *out = NULL;
  if (!dsr_db_ok(r)) {
    bool retry = dsr_db_is_retryable(r);
    PQclear(r);
    return retry ? DSR_TX_RETRY : DSR_TX_ROLLBACK;
  }
  *out = r;
  return DSR_TX_COMMIT;
}

enum dsr_tx_status dsr_tx_event(struct dsr_db *db, const char *request_id, const char *kind,
                                const char *actor, json_t *data)
{
  bool retry = false;
  bool ok = data && dsr_event_record(db, request_id, kind, actor, data, &retry);
  json_decref(data);
  return ok ? DSR_TX_COMMIT : retry ? DSR_TX_RETRY : DSR_TX_ROLLBACK;
}

/* What a final part came to, for dsr.completed: fulfilled, handled, denied or withdrawn. */
static const char *part_outcome(const char *state, const char *decision, const char *reason)
{
  if (!strcmp(state, "denied"))
    return reason && !strcmp(reason, "withdrawn") ? "withdrawn" : "denied";
  return decision && !strcmp(decision, "handled") ? "handled" : "fulfilled";
}

/* Sends dsr.completed for every returned part (column 0) that was just marked as told. */
static enum dsr_tx_status notify_completed(struct dsr_db *db, enum dsr_stmt st, const char *key)
{
  char now[24];
  snprintf(now, sizeof now, "%lld", (long long)dsr_now());
  const char *v[] = {key, now};
  PGresult *r = NULL;
  enum dsr_tx_status s = dsr_tx_exec(db, st, 2, v, &r);
  for (int i = 0; s == DSR_TX_COMMIT && i < PQntuples(r); i++)
    s = dsr_part_notify(db, PQgetvalue(r, i, 0), "dsr.completed", NULL);
  PQclear(r);
  return s;
}

enum dsr_tx_status dsr_part_notify(struct dsr_db *db, const char *part_id, const char *event,
                                   const json_t *extra)
{
  const char *v[] = {part_id};
  PGresult *r = NULL;
  /* The part's row is locked from here on: its sequence numbers never repeat or swap. */
  enum dsr_tx_status s = dsr_tx_exec(db, DSR_STMT_PART_EVENT_NEXT, 1, v, &r);
  if (s != DSR_TX_COMMIT)
    return s;
  if (PQntuples(r) != 1) { /* a controller part: nobody to tell */
    PQclear(r);
    return DSR_TX_COMMIT;
  }
  const char *state = PQgetvalue(r, 0, 4);
  json_t *data = json_pack("{s:s, s:I, s:s, s:s, s:s, s:s}", "part_id", part_id, "sequence",
                           (json_int_t)atoll(PQgetvalue(r, 0, 5)), "status", state,
                           "request_type", PQgetvalue(r, 0, 1), "jurisdiction",
                           PQgetvalue(r, 0, 2), "due_at", PQgetvalue(r, 0, 3));
  if (data && extra)
    json_object_update(data, (json_t *)extra);
  if (data && !strcmp(event, "dsr.completed")) {
    const char *decision = PQgetisnull(r, 0, 6) ? NULL : PQgetvalue(r, 0, 6);
    const char *reason = PQgetisnull(r, 0, 7) ? NULL : PQgetvalue(r, 0, 7);
    json_object_set_new(data, "outcome", json_string(part_outcome(state, decision, reason)));
    if (!PQgetisnull(r, 0, 7))
      json_object_set_new(data, "reason", json_string(PQgetvalue(r, 0, 7)));
  } else if (data && !strcmp(event, "dsr.updated") && !json_object_get(data, "change")) {
    json_object_set_new(data, "change", json_string("status")); /* the schema wants one */
  }
  bool retry = false;
  bool ok = data && dsr_outbox_add(db, PQgetvalue(r, 0, 0), part_id, event, data, &retry);
  bool final = dsr_part_state_final(state);
  json_decref(data);
  PQclear(r);
  if (!ok)
    return retry ? DSR_TX_RETRY : DSR_TX_ROLLBACK;
  /* A change that ended the part is followed by its one dsr.completed. */
  if (final && strcmp(event, "dsr.completed") != 0)
    return notify_completed(db, DSR_STMT_PART_TO_COMPLETE, part_id);
  return DSR_TX_COMMIT;
}

enum dsr_tx_status dsr_request_settle(struct dsr_db *db, const char *request_id,
                                      const char *actor)
{
  const char *v[] = {request_id};
  PGresult *r = NULL;
  /* Every customer part that became final (done, handled, denied) hears so once. */
  enum dsr_tx_status s = notify_completed(db, DSR_STMT_PARTS_TO_COMPLETE, request_id);
  if (s == DSR_TX_COMMIT)
    s = dsr_tx_exec(db, DSR_STMT_REQUEST_OPEN_PARTS, 1, v, &r);
  if (s != DSR_TX_COMMIT)
    return s;
  long open = atol(PQgetvalue(r, 0, 0)), all = atol(PQgetvalue(r, 0, 1));
  long denied = atol(PQgetvalue(r, 0, 2));
  PQclear(r);
  if (all == 0 || open > 0)
    return DSR_TX_COMMIT;
  char now[24];
  snprintf(now, sizeof now, "%lld", (long long)dsr_now());
  const char *outcome = denied == all ? "denied" : "fulfilled";
  const char *cv[] = {request_id, outcome, NULL, now};
  s = dsr_tx_exec(db, DSR_STMT_REQUEST_COMPLETE, 4, cv, &r);
  if (s != DSR_TX_COMMIT)
    return s;
  bool changed = PQntuples(r) == 1;
  PQclear(r);
  if (!changed)
    return DSR_TX_COMMIT;
  s = dsr_tx_event(db, request_id, "request.completed", actor,
                   json_pack("{s:s, s:i}", "outcome", outcome, "parts", (int)all));
  return s == DSR_TX_COMMIT ? dsr_closing_enqueue(db, request_id) : s; /* the subject's answer */
}

enum dsr_tx_status dsr_part_lock_runnable(struct dsr_db *db, const char *part_id, bool *runnable)
{
  const char *v[] = {part_id};
  PGresult *r = NULL;
  *runnable = false;
  enum dsr_tx_status s = dsr_tx_exec(db, DSR_STMT_EXPORT_PART_LOCK, 1, v, &r);
  if (s != DSR_TX_COMMIT)
    return s;
  *runnable = PQntuples(r) == 1 && (!strcmp(PQgetvalue(r, 0, 0), "approved") ||
                                    !strcmp(PQgetvalue(r, 0, 0), "executing"));
  PQclear(r);
  return DSR_TX_COMMIT;
}

/* Queues discovery under @p key; a live job with the same key makes this a no-op. */
static bool enqueue_discovery(struct dsr_db *db, const char *request_id, const char *key,
                              bool *retry)
{
  json_t *payload = json_pack("{s:s}", "request_id", request_id);
  struct dsr_job_opts o = {.dedupe_key = key};
  bool enqueued = false;
  bool ok = payload && dsr_queue_enqueue(db, DSR_JOB_DISCOVERY, payload, &o, dsr_now(),
                                         &enqueued, retry);
  json_decref(payload);
  return ok;
}

bool dsr_discovery_enqueue(struct dsr_db *db, const char *request_id, bool *retry)
{
  char key[64];
  snprintf(key, sizeof key, "discovery:%s", request_id);
  return enqueue_discovery(db, request_id, key, retry);
}

bool dsr_discovery_enqueue_again(struct dsr_db *db, const char *request_id, const char *why,
                                 bool *retry)
{
  char key[96];
  snprintf(key, sizeof key, "discovery:%s:%.16s", request_id, why);
  return enqueue_discovery(db, request_id, key, retry);
}

/**
 * @file events.c
 * @brief Records timeline events (see events.h). The same statement appends the
 *        event to the audit trail (audit.h), so every event is in both or neither.
 */
#include "config.h"
#include "dsr/events.h"

#include <stdio.h>
#include <stdlib.h>

bool dsr_event_record(struct dsr_db *db, const char *request_id, const char *kind,
                      const char *actor, const json_t *data, bool *retry)
{
  char now[24];
  snprintf(now, sizeof now, "%lld", (long long)dsr_now());
  /* The canonical form of data (docs/audit-format.md): compact, keys sorted. */
  char *text = data ? json_dumps(data, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
  if (data && !text) {
    if (retry)
      *retry = false;
    return false; /* not an object or array, or out of memory */
  }
  const char *v[] = {request_id, now, kind, actor, text ? text : "{}"};
  PGresult *r = dsr_db_exec(db, DSR_STMT_AUDIT_APPEND, 5, v);
  bool ok = dsr_db_ok(r);
  if (retry)
    *retry = !ok && dsr_db_is_retryable(r);
  PQclear(r);
  free(text);
  return ok;
}

bool dsr_event_record_many(struct dsr_db *db, const char *kind, const char *actor,
                           const json_t *events, bool *retry)
{
  *retry = false;
  json_t *rows = json_array();
  bool ok = rows != NULL;
  size_t i;
  json_t *e;
  json_array_foreach(events, i, e) {
    /* The canonical form of data, as dsr_event_record() writes it. */
    char *text = ok ? json_dumps(json_object_get(e, "data"), JSON_COMPACT | JSON_SORT_KEYS)
                    : NULL;
    json_t *rid = json_object_get(e, "request_id");
    ok = text && json_array_append_new(rows, json_pack("{s:O, s:s}", "request_id",
                                                       rid ? rid : json_null(), "data",
                                                       text)) == 0;
    free(text);
  }
  char now[24];
  snprintf(now, sizeof now, "%lld", (long long)dsr_now());
  char *text = ok ? json_dumps(rows, JSON_COMPACT) : NULL;
  PGresult *r = NULL;
  if (text) {
    const char *v[] = {text, now, kind, actor};
    r = dsr_db_exec(db, DSR_STMT_AUDIT_APPEND_MANY, 4, v);
    ok = dsr_db_ok(r);
    *retry = !ok && dsr_db_is_retryable(r);
  } else {
    ok = false;
  }
  PQclear(r);
  free(text);
  json_decref(rows);
  return ok;
}

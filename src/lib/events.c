/** @file events.c @brief Records timeline events (see events.h). */
#include "config.h"
#include "dsr/events.h"

#include <stdio.h>
#include <stdlib.h>

bool dsr_event_record(struct dsr_db *db, const char *request_id, const char *kind,
                      const char *actor, const json_t *data, bool *retry)
{
  char now[24];
  snprintf(now, sizeof now, "%lld", (long long)dsr_now());
  char *text = data ? json_dumps(data, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
  const char *v[] = {request_id, now, kind, actor, text ? text : "{}"};
  PGresult *r = dsr_db_exec(db, DSR_STMT_EVENT_INSERT, 5, v);
  bool ok = dsr_db_ok(r);
  if (retry)
    *retry = !ok && dsr_db_is_retryable(r);
  PQclear(r);
  free(text);
  return ok;
}

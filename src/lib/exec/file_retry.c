/**
 * @file file_retry.c
 * @brief Residual files: listed for staff, and retried on demand
 *        (`dsrctl files retry`) through the same resolver as the executor.
 *        A file removed now becomes done; one that still cannot be removed
 *        stays residual with its new reason. No paths leave this file.
 */
#include "config.h"
#include "executor_int.h"
#include "dsr/events.h"
#include "dsr/log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

json_t *dsr_files_residual_of_request(struct dsr_db *db, const char *request_id)
{
  const char *v[] = {request_id};
  PGresult *r = dsr_db_exec(db, DSR_STMT_FILES_RESIDUAL_OF_REQUEST, 1, v);
  json_t *a = dsr_db_ok(r) ? json_array() : NULL;
  for (int i = 0; a && i < PQntuples(r); i++)
    json_array_append_new(
        a, json_pack("{s:I, s:s, s:s, s:i, s:s, s:s}", "id",
                     (json_int_t)atoll(PQgetvalue(r, i, 0)), "store", PQgetvalue(r, i, 1), "step",
                     PQgetvalue(r, i, 2), "attempts", atoi(PQgetvalue(r, i, 3)), "reason",
                     PQgetvalue(r, i, 4), "since", PQgetvalue(r, i, 5)));
  PQclear(r);
  return a;
}

/* Removes file @p value of store @p store; 0 when it is gone (or was), else an errno with
 * *reason (never a path). The directory is synced before it counts. */
static int remove_again(const struct dsr_policy *p, const char *store, const char *value,
                        const char **reason)
{
  struct dsr_fpath fp;
  enum dsr_fpath_status st = dsr_fpath_resolve(dsr_policy_store(p, store), value, &fp);
  if (st != DSR_FPATH_OK) {
    *reason = dsr_fpath_reason(st, 0);
    return EINVAL;
  }
  const char *name;
  int e = 0, fd = dsr_fpath_open_dir(&fp, &name, &e);
  if (fd < 0 && e == ENOENT)
    return 0;
  if (fd >= 0) {
    if (unlinkat(fd, name, 0) != 0 && errno != ENOENT)
      e = errno;
    else if (fsync(fd) != 0)
      e = errno;
    close(fd);
  }
  if (e != 0)
    *reason = dsr_fpath_reason(DSR_FPATH_OK, e);
  return e;
}

/* One retried file: its row updated and its event recorded in one transaction. */
struct retried {
  const char *id, *store, *request_id, *reason; /* reason NULL: removed */
  const char *now;
};

static enum dsr_tx_status retried_body(struct dsr_db *db, void *ctx)
{
  const struct retried *f = ctx;
  const char *v[] = {f->id, f->reason ? f->reason : f->now};
  PGresult *r = dsr_db_exec(db, f->reason ? DSR_STMT_FILES_RESIDUAL_FAILED
                                          : DSR_STMT_FILES_RESIDUAL_DONE, 2, v);
  enum dsr_tx_status s = dsr_db_ok(r) ? DSR_TX_COMMIT
                         : dsr_db_is_retryable(r) ? DSR_TX_RETRY : DSR_TX_ROLLBACK;
  PQclear(r);
  if (s != DSR_TX_COMMIT || !f->request_id)
    return s;
  json_t *data = json_pack("{s:I, s:s, s:b, s:s?}", "file_id", (json_int_t)atoll(f->id), "store",
                           f->store, "removed", f->reason == NULL, "reason", f->reason);
  bool retry = false;
  bool ok = data && dsr_event_record(db, f->request_id, "file.retried", "operator", data, &retry);
  json_decref(data);
  return ok ? DSR_TX_COMMIT : retry ? DSR_TX_RETRY : DSR_TX_ROLLBACK;
}

bool dsr_files_retry(struct dsr_db *db, const struct dsr_policy *p, const char *request_id,
                     long *removed, long *left, char *err, size_t errlen)
{
  char after[24] = "0", now[24];
  *removed = *left = 0;
  snprintf(now, sizeof now, "%lld", (long long)dsr_now());
  for (;;) {
    const char *v[] = {request_id, after};
    PGresult *r = dsr_db_exec(db, DSR_STMT_FILES_RESIDUAL_LIST, 2, v);
    if (!dsr_db_ok(r)) {
      PQclear(r);
      snprintf(err, errlen, "cannot read the residual files");
      return false;
    }
    int n = PQntuples(r);
    for (int i = 0; i < n; i++) {
      const char *reason = NULL;
      int e = remove_again(p, PQgetvalue(r, i, 1), PQgetvalue(r, i, 2), &reason);
      struct retried f = {.id = PQgetvalue(r, i, 0), .store = PQgetvalue(r, i, 1),
                          .request_id = PQgetisnull(r, i, 3) ? NULL : PQgetvalue(r, i, 3),
                          .reason = e ? reason : NULL, .now = now};
      if (!dsr_db_tx(db, "READ COMMITTED", retried_body, &f)) {
        PQclear(r);
        snprintf(err, errlen, "cannot record a retried file");
        return false;
      }
      if (e == 0)
        (*removed)++;
      else
        (*left)++;
      DSR_INFO("files.retried", "file_id=%s removed=%d errno=%d", f.id, e == 0, e);
    }
    if (n > 0)
      dsr_strlcpy(after, PQgetvalue(r, n - 1, 0), sizeof after);
    PQclear(r);
    if (n == 0)
      return true;
  }
}

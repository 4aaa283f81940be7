/**
 * @file executor_receipt.c
 * @brief The receipt of a run from its steps: per store and collection,
 *        rows per action and files, and the files left residual (ids,
 *        stores, steps, reasons); no personal data (names, counts, bases).
 */
#include "config.h"
#include "executor_int.h"
#include "dsr/parts.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void add(json_t *totals, const char *key, long long n)
{
  json_t *v = json_object_get(totals, key);
  json_object_set_new(totals, key, json_integer(json_integer_value(v) + n));
}

static json_t *entry(const char *store, const char *coll, const char *action, long long rows,
                     long long files, const char *basis)
{
  json_t *e = json_pack("{s:s, s:s, s:s, s:I, s:I}", "store", store, "collection", coll,
                        "action", action, "rows", (json_int_t)rows, "files", (json_int_t)files);
  if (e && basis)
    json_object_set_new(e, "basis", json_string(basis));
  return e;
}

json_t *dsr_exec_receipt_collections(struct dsr_db *db, const char *run_id, json_t *totals)
{
  const char *v[] = {run_id};
  PGresult *r = dsr_db_exec(db, DSR_STMT_EX_RECEIPT_STEPS, 1, v);
  PGresult *f = dsr_db_ok(r) ? dsr_db_exec(db, DSR_STMT_EX_FILES_COUNTS, 1, v) : NULL;
  json_t *a = NULL;
  if (!dsr_db_ok(r) || !dsr_db_ok(f))
    goto cleanup;
  a = json_array();
  static const char *const keys[] = {"rows_deleted", "rows_masked", "rows_redacted",
                                     "rows_retained", "rows_kept_referenced"};
  for (size_t i = 0; i < DSR_ARRAY_LEN(keys); i++)
    json_object_set_new(totals, keys[i], json_integer(0));
  for (int i = 0; a && i < PQntuples(r); i++) {
    const char *store = PQgetvalue(r, i, 0), *coll = PQgetvalue(r, i, 1);
    const char *action = PQgetvalue(r, i, 2);
    const char *basis = PQgetisnull(r, i, 3) ? NULL : PQgetvalue(r, i, 3);
    long long rows = atoll(PQgetvalue(r, i, 4)), kept = atoll(PQgetvalue(r, i, 5));
    long long files = atoll(PQgetvalue(r, i, 6));
    bool del = !strcmp(action, "delete");
    json_array_append_new(a, entry(store, coll, action, rows, files, del ? NULL : basis));
    add(totals, !strcmp(action, "delete")   ? "rows_deleted"
                : !strcmp(action, "mask")   ? "rows_masked"
                : !strcmp(action, "redact") ? "rows_redacted"
                                            : "rows_retained",
        rows);
    if (kept > 0) {
      /* rows other kept rows still reference stay, and say so; a delete that
       * masked them recorded that as its basis (DSR_EXEC_KEPT_MASKED) */
      bool masked = del && basis && !strcmp(basis, DSR_EXEC_KEPT_MASKED);
      json_array_append_new(a, entry(store, coll, masked ? "mask" : "retain", kept, 0,
                                     masked ? basis : "still referenced by rows that are kept"));
      add(totals, "rows_kept_referenced", kept);
      add(totals, masked ? "rows_masked" : "rows_retained", kept);
    }
  }
  json_object_set_new(totals, "files_removed", json_integer(atoll(PQgetvalue(f, 0, 0))));
  json_object_set_new(totals, "files_pending", json_integer(atoll(PQgetvalue(f, 0, 1))));
  long long residual = atoll(PQgetvalue(f, 0, 2));
  json_object_set_new(totals, "files_residual", json_integer(residual));
  if (residual > 0) { /* which ones and why: ids, stores, steps, reasons (no paths) */
    json_t *list = dsr_exec_files_residual(db, run_id);
    if (!list) {
      json_decref(a);
      a = NULL;
      goto cleanup;
    }
    json_object_set_new(totals, "residual_files", list);
  }
cleanup:
  PQclear(r);
  PQclear(f);
  return a;
}

json_t *dsr_exec_files_residual(struct dsr_db *db, const char *run_id)
{
  const char *v[] = {run_id};
  PGresult *r = dsr_db_exec(db, DSR_STMT_EX_FILES_RESIDUAL, 1, v);
  json_t *a = dsr_db_ok(r) ? json_array() : NULL;
  for (int i = 0; a && i < PQntuples(r); i++)
    json_array_append_new(a, json_pack("{s:I, s:s, s:s, s:i, s:s}", "id",
                                       (json_int_t)atoll(PQgetvalue(r, i, 0)), "store",
                                       PQgetvalue(r, i, 1), "step", PQgetvalue(r, i, 2),
                                       "attempts", atoi(PQgetvalue(r, i, 3)), "reason",
                                       PQgetvalue(r, i, 4)));
  PQclear(r);
  return a;
}

enum dsr_tx_status dsr_exec_run_finish(struct dsr_db *db, const char *run_id,
                                       const json_t *receipt, bool *first)
{
  char now[24];
  snprintf(now, sizeof now, "%lld", (long long)dsr_now());
  char *text = json_dumps(receipt, JSON_COMPACT | JSON_SORT_KEYS);
  const char *v[] = {run_id, text, now};
  PGresult *r = NULL;
  enum dsr_tx_status s = text ? dsr_tx_exec(db, DSR_STMT_EX_RUN_FINISH, 3, v, &r)
                              : DSR_TX_ROLLBACK;
  free(text);
  *first = s == DSR_TX_COMMIT && PQntuples(r) == 1;
  PQclear(r);
  return s;
}

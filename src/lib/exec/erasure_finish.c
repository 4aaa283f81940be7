/**
 * @file erasure_finish.c
 * @brief Suppression entries recorded before an erasure, and the final
 *        transaction of a part: receipt, event, part done, request settled.
 */
#include "config.h"
#include "erasure_int.h"
#include "dsr/media.h"
#include "dsr/parts.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool erasure_suppress(struct dsr_db *db, const struct dsr_policy *p, const char *request_id,
                      const struct dsr_subject *s, json_t *kinds_out)
{
  unsigned kinds = dsr_policy_suppression_kinds(p);
  const json_t *sec = dsr_policy_section(p, "suppression");
  const char *basis = json_string_value(json_object_get(sec, "basis"));
  bool on_erasure = false; /* the policy says which requests leave a suppression entry */
  size_t i;
  const json_t *e;
  json_array_foreach(json_object_get(sec, "on"), i, e)
    on_erasure = on_erasure || (json_is_string(e) && !strcmp(json_string_value(e), "erasure"));
  if (!on_erasure)
    return true;
  const char *given[DSR_ID_KIND_COUNT] = {s->email, s->phone, s->account_id};
  char now[24];
  snprintf(now, sizeof now, "%lld", (long long)dsr_now());
  for (int k = 0; k < DSR_ID_KIND_COUNT; k++) {
    unsigned char h[DSR_HASH_BYTES];
    if (!(kinds & (1u << k)) || !given[k] || !dsr_identity_hash((enum dsr_id_kind)k, given[k], h))
      continue;
    const char *v[] = {dsr_id_kind_name((enum dsr_id_kind)k), (const char *)h,
                       basis ? basis : "suppression", request_id, now};
    const int lens[] = {0, DSR_HASH_BYTES, 0, 0, 0}, fmts[] = {0, 1, 0, 0, 0};
    PGresult *r = dsr_db_exec_bin(db, DSR_STMT_SUPPRESSION_ADD, 5, v, lens, fmts);
    bool ok = dsr_db_ok(r);
    PQclear(r);
    if (!ok)
      return false;
    json_array_append_new(kinds_out, json_string(dsr_id_kind_name((enum dsr_id_kind)k)));
  }
  return true;
}

struct fin_ctx {
  const struct erasure_finish *f;
  bool finished;
};

static enum dsr_tx_status fin_body(struct dsr_db *db, void *arg)
{
  struct fin_ctx *c = arg;
  const struct erasure_finish *f = c->f;
  /* crypto-shredding: the subject's data keys go with the rest, in this transaction */
  long long destroyed = 0;
  if (!f->keys_kept_basis) {
    char *lit = dsr_ledger_ids_literal(f->ids);
    enum dsr_tx_status ks = lit ? dsr_data_keys_destroy(db, lit, f->tenant, f->other_tenants,
                                                        f->run_id, &destroyed)
                                : DSR_TX_ROLLBACK;
    free(lit);
    if (ks != DSR_TX_COMMIT)
      return ks;
  }
  json_t *totals = json_object();
  json_t *cols = totals ? dsr_exec_receipt_collections(db, f->run_id, totals) : NULL;
  char now[24], finished[32];
  time_t t = dsr_now();
  snprintf(now, sizeof now, "%lld", (long long)t);
  struct tm tm;
  gmtime_r(&t, &tm);
  strftime(finished, sizeof finished, "%Y-%m-%dT%H:%M:%SZ", &tm);
  if (!cols) {
    json_decref(totals);
    return DSR_TX_ROLLBACK;
  }
  json_t *rc = json_pack("{s:s, s:s, s:s, s:s, s:o}", "part_id", f->part_id, "run_id", f->run_id,
                         "started_at", f->started_at, "finished_at", finished, "collections",
                         cols);
  if (rc) {
    json_object_update(rc, totals);
    json_object_update(rc, f->extra);
    json_object_set_new(rc, "keys_destroyed", json_integer(destroyed));
    if (f->keys_kept_basis)
      json_object_set_new(rc, "keys_kept", json_string(f->keys_kept_basis));
  }
  json_decref(totals);
  char *text = rc ? json_dumps(rc, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
  const char *v[] = {f->run_id, text, now};
  PGresult *r = NULL;
  enum dsr_tx_status s = text ? dsr_tx_exec(db, DSR_STMT_EX_RUN_FINISH, 3, v, &r) : DSR_TX_ROLLBACK;
  free(text);
  if (s != DSR_TX_COMMIT || PQntuples(r) == 0) { /* done already: nothing to add */
    PQclear(r);
    json_decref(rc);
    return s;
  }
  PQclear(r);
  const char *pv[] = {f->part_id, now};
  s = dsr_tx_exec(db, DSR_STMT_ERASURE_PART_FINISH, 2, pv, &r);
  if (s != DSR_TX_COMMIT) {
    json_decref(rc);
    return s;
  }
  PQclear(r);
  /* the erasure ledger, replayed when a database backup is restored */
  json_t *ids = dsr_ledger_ids_json(f->ids);
  s = ids ? dsr_ledger_append(db, f->run_id, "erasure", 0, f->tenant, ids,
                              json_object_get(rc, "collections"))
          : DSR_TX_ROLLBACK;
  json_decref(ids);
  if (s == DSR_TX_COMMIT)
    s = dsr_backup_residual_events(db, f->request_id, json_object_get(rc, "backup_sets"));
  if (s != DSR_TX_COMMIT) {
    json_decref(rc);
    return s;
  }
  s = dsr_tx_event(db, f->request_id, "erasure.receipt", "system", rc);
  if (s == DSR_TX_COMMIT) {
    json_t *extra = json_pack("{s:s}", "change", "erased");
    s = dsr_part_notify(db, f->part_id, "dsr.updated", extra);
    json_decref(extra);
  }
  if (s == DSR_TX_COMMIT)
    s = dsr_request_settle(db, f->request_id, "system");
  c->finished = s == DSR_TX_COMMIT;
  return s;
}

bool erasure_finish(struct dsr_db *db, const struct erasure_finish *f)
{
  struct fin_ctx c = {.f = f};
  return dsr_db_tx(db, "READ COMMITTED", fin_body, &c);
}

/**
 * @file erasure.c
 * @brief Running an erasure part (see erasure.h): start (approved ->
 *        executing, the run opened, in one transaction), suppression, plan,
 *        holds, execution, files, finish.
 */
#include "config.h"
#include "erasure_int.h"
#include "executor_int.h"
#include "dsr/discovery.h"
#include "dsr/log.h"
#include "dsr/parts.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct start_ctx {
  const char *part_id;
  enum dsr_erasure_outcome outcome; /* NOTHING / HELD, or DONE meaning "go on" */
  char request_id[40], tenant_ref[128], run_id[40], started_at[32];
  bool has_tenant;
};

static enum dsr_tx_status start_body(struct dsr_db *db, void *arg)
{
  struct start_ctx *c = arg;
  const char *v[] = {c->part_id};
  PGresult *r = NULL;
  enum dsr_tx_status s = dsr_tx_exec(db, DSR_STMT_ERASURE_PART_LOCK, 1, v, &r);
  if (s != DSR_TX_COMMIT)
    return s;
  c->outcome = DSR_ERASURE_NOTHING;
  if (PQntuples(r) != 1) {
    PQclear(r);
    return DSR_TX_COMMIT;
  }
  char state[16];
  dsr_strlcpy(state, PQgetvalue(r, 0, 0), sizeof state);
  dsr_strlcpy(c->request_id, PQgetvalue(r, 0, 1), sizeof c->request_id);
  bool erasure = !strcmp(PQgetvalue(r, 0, 2), "erasure");
  bool on_hold = !strcmp(PQgetvalue(r, 0, 3), "on_hold");
  c->has_tenant = !PQgetisnull(r, 0, 4);
  dsr_strlcpy(c->tenant_ref, c->has_tenant ? PQgetvalue(r, 0, 4) : "", sizeof c->tenant_ref);
  PQclear(r);
  bool approved = !strcmp(state, "approved"), executing = !strcmp(state, "executing");
  if (!erasure || (!approved && !executing))
    return DSR_TX_COMMIT;
  if (on_hold) {
    c->outcome = DSR_ERASURE_HELD; /* the release enqueues it again */
    return DSR_TX_COMMIT;
  }
  char now[24];
  snprintf(now, sizeof now, "%lld", (long long)dsr_now());
  const char *sv[] = {c->part_id, now};
  if (approved) {
    s = dsr_tx_exec(db, DSR_STMT_ERASURE_PART_START, 2, sv, &r);
    if (s != DSR_TX_COMMIT)
      return s;
    PQclear(r);
  }
  s = dsr_tx_exec(db, DSR_STMT_ERASURE_RUN_OPEN, 2, sv, &r);
  if (s != DSR_TX_COMMIT)
    return s;
  dsr_strlcpy(c->run_id, PQgetvalue(r, 0, 0), sizeof c->run_id);
  dsr_strlcpy(c->started_at, PQgetvalue(r, 0, 1), sizeof c->started_at);
  bool run_done = !strcmp(PQgetvalue(r, 0, 2), "done");
  PQclear(r);
  if (run_done) /* finished, but the part was not marked: cannot happen in one transaction */
    return DSR_TX_COMMIT;
  c->outcome = DSR_ERASURE_DONE;
  if (!approved)
    return DSR_TX_COMMIT;
  return dsr_tx_event(db, c->request_id, "erasure.started", "system",
                      json_pack("{s:s, s:s}", "part_id", c->part_id, "run_id", c->run_id));
}

/* Holds the run's advisory lock on @p db's session; false when another worker has it. */
static bool run_lock(struct dsr_db *db, const char *run_id, bool lock)
{
  const char *v[] = {run_id};
  PGresult *r = dsr_db_exec(db, lock ? DSR_STMT_EX_RUN_TRY_LOCK : DSR_STMT_EX_RUN_UNLOCK, 1, v);
  bool ok = dsr_db_ok(r) && PQntuples(r) == 1 && PQgetvalue(r, 0, 0)[0] == 't';
  PQclear(r);
  return ok;
}

/* Whether request @p id is on hold now (a failed read counts as not: the next step asks again). */
static bool held_now(struct dsr_db *db, const char *id)
{
  const char *v[] = {id};
  PGresult *r = dsr_db_exec(db, DSR_STMT_ERASURE_REQUEST_STATUS, 1, v);
  bool held = dsr_db_ok(r) && PQntuples(r) == 1 && !strcmp(PQgetvalue(r, 0, 0), "on_hold");
  PQclear(r);
  return held;
}

/* The tenants of @p cust (column 0) as a text[] literal; caller frees. */
static char *tenants_literal(PGresult *cust)
{
  struct dsr_buf b = {0};
  bool ok = dsr_buf_puts(&b, "{");
  for (int i = 0; ok && i < PQntuples(cust); i++)
    ok = dsr_sql_array_add(&b, PQgetvalue(cust, i, 0), i == 0);
  if (!ok || !dsr_buf_puts(&b, "}")) {
    dsr_buf_free(&b);
    return NULL;
  }
  return dsr_buf_steal(&b);
}

/* The basis of a hold covering a crypto-shredded collection (its keys stay), or NULL. */
static const char *keys_kept(const struct dsr_policy *p, const struct erasure_holds *holds)
{
  for (size_t i = 0; i < dsr_policy_collection_count(p); i++) {
    const struct dsr_pcollection *c = dsr_policy_topo_at(p, i);
    if (c->crypto_shred && erasure_hold_covers(holds, c->name))
      return "legal hold";
  }
  return NULL;
}

static enum dsr_erasure_outcome execute(struct dsr_db *db, const struct dsr_policy *p,
                                        const struct start_ctx *sc, long batch_rows,
                                        long page_ms,
                                        const struct dsr_subject_values *sv, char *err,
                                        size_t errlen)
{
  enum dsr_erasure_outcome out = DSR_ERASURE_RETRY;
  struct dsr_subject subj = dsr_subject_of(sv);
  struct dsr_exec_subject es = {0};
  struct erasure_holds holds = {0};
  struct dsr_plan *plan = NULL;
  struct erasure_step *steps = NULL;
  size_t nsteps = 0;
  PGresult *cust = NULL;
  PGconn *store = NULL;
  char *others = NULL;
  json_t *extra = json_pack("{s:[], s:[]}", "suppression", "holds");
  if (!extra || !dsr_exec_subject_init_in(&es, &subj, dsr_policy_phone_region(p))) {
    snprintf(err, errlen, "out of memory");
    goto cleanup;
  }
  /* What must survive is recorded before anything is erased. */
  if (!erasure_suppress(db, p, sc->request_id, &subj, json_object_get(extra, "suppression"))) {
    snprintf(err, errlen, "cannot record the suppression entries");
    goto cleanup;
  }
  if (!erasure_holds_load(db, sc->request_id, &subj, &holds)) {
    snprintf(err, errlen, "cannot read legal holds");
    goto cleanup;
  }
  for (size_t i = 0; i < holds.n; i++)
    json_array_append_new(json_object_get(extra, "holds"),
                          json_pack("{s:s, s:O}", "basis", holds.v[i].basis, "collections",
                                    holds.v[i].collections));
  const char *dsn = dsr_policy_pg_dsn(p);
  store = dsn ? PQconnectdb(dsn) : NULL;
  if (!store || PQstatus(store) != CONNECTION_OK) {
    snprintf(err, errlen, "the policy's postgresql store is not reachable");
    goto cleanup;
  }
  PGresult *tb = PQexec(store, exec_fixed_sql(DSR_STMT_STORE_TEMP_BUFFERS));
  if (!dsr_db_ok(tb)) /* the default buffers then: slower, not wrong */
    DSR_WARN("erasure.temp_buffers_refused", "run=%s", sc->run_id);
  PQclear(tb);
  char perr[256];
  /* the subject's rows are computed once, on the session that runs the steps; a store that
   * refuses temporary tables gets the plan whose statements compute them each time */
  plan = dsr_plan_build_keyed(p, store, &subj, perr, sizeof perr);
  if (!plan) {
    DSR_WARN("erasure.keyed_plan_failed", "run=%s", sc->run_id);
    plan = dsr_plan_build(p, store, DSR_PLAN_ERASURE, &subj, perr, sizeof perr);
  }
  if (!plan) {
    snprintf(err, errlen, "planning failed");
    DSR_WARN("erasure.plan_failed", "run=%s", sc->run_id);
    goto cleanup;
  }
  const char *rv[] = {sc->request_id};
  cust = dsr_db_exec(db, DSR_STMT_ERASURE_CUSTOMER_TENANTS, 1, rv);
  if (!dsr_db_ok(cust) ||
      !erasure_steps_build(plan, sc->has_tenant ? sc->tenant_ref : NULL, cust, &holds, &steps,
                           &nsteps)) {
    snprintf(err, errlen, "cannot list the part's steps");
    goto cleanup;
  }
  struct dsr_exec ex = {.db = db, .store = store, .policy = p, .batch_rows = batch_rows,
                        .page_ms = page_ms,
                        .subject = &es, .mask_kept = true, .ledger = true};
  dsr_strlcpy(ex.run_id, sc->run_id, sizeof ex.run_id);
  /* a batch a crash left in flight may belong to a step the new plan no longer has */
  enum dsr_exec_result settled = dsr_exec_resolve_all(&ex, err, errlen);
  if (settled != DSR_EXEC_OK) {
    out = settled == DSR_EXEC_FAIL ? DSR_ERASURE_FAIL : DSR_ERASURE_RETRY;
    goto cleanup;
  }
  for (size_t i = 0; i < nsteps; i++) {
    if (held_now(db, sc->request_id)) { /* a hold placed while it runs stops it here */
      snprintf(err, errlen, "the request was put on hold");
      out = DSR_ERASURE_HELD;
      goto cleanup;
    }
    /* the order is the data map's (children first), the same on every resume */
    int ord = (int)(dsr_policy_collection_count(p) - steps[i].st.coll->topo_index) * 8 +
              (int)steps[i].st.verb;
    enum dsr_exec_result res = dsr_exec_step_run(&ex, &steps[i].st, ord, err, errlen);
    if (res != DSR_EXEC_OK) {
      out = res == DSR_EXEC_FAIL ? DSR_ERASURE_FAIL : DSR_ERASURE_RETRY;
      goto cleanup;
    }
  }
  long removed = 0, failed = 0;
  if (dsr_exec_files(&ex, &removed, &failed, err, errlen) != DSR_EXEC_OK)
    goto cleanup; /* retried: files are never forgotten */
  json_t *sets = dsr_backup_sets_receipt(db, p, sc->run_id, dsr_now());
  if (!sets || json_object_set_new(extra, "backup_sets", sets) != 0 ||
      !(others = tenants_literal(cust))) {
    snprintf(err, errlen, "cannot count the backup sets' files");
    goto cleanup;
  }
  struct dsr_ledger_ids ids;
  dsr_ledger_ids_of(&subj, &ids);
  struct erasure_finish fin = {.part_id = sc->part_id, .run_id = sc->run_id,
                               .request_id = sc->request_id, .started_at = sc->started_at,
                               .extra = extra, .ids = &ids,
                               .tenant = sc->has_tenant ? sc->tenant_ref : NULL,
                               .other_tenants = others,
                               .keys_kept_basis = keys_kept(p, &holds)};
  if (!erasure_finish(db, &fin)) {
    snprintf(err, errlen, "cannot record the receipt");
    goto cleanup;
  }
  DSR_INFO("erasure.done", "run=%s steps=%zu files_removed=%ld", sc->run_id, nsteps, removed);
  out = DSR_ERASURE_DONE;
cleanup:
  free(others);
  free(steps);
  PQclear(cust);
  dsr_plan_free(plan);
  if (store)
    PQfinish(store);
  erasure_holds_free(&holds);
  dsr_exec_subject_free(&es);
  json_decref(extra);
  return out;
}

enum dsr_erasure_outcome dsr_erasure_run(struct dsr_db *db, const struct dsr_policy *p,
                                         const char *part_id, long batch_rows, long page_ms,
                                         char *err, size_t errlen)
{
  struct start_ctx sc = {.part_id = part_id};
  if (!dsr_db_tx(db, "READ COMMITTED", start_body, &sc)) {
    snprintf(err, errlen, "cannot start the part");
    return DSR_ERASURE_RETRY;
  }
  if (sc.outcome != DSR_ERASURE_DONE)
    return sc.outcome;
  if (!run_lock(db, sc.run_id, true)) {
    snprintf(err, errlen, "another worker runs this part");
    return DSR_ERASURE_BUSY;
  }
  struct dsr_subject_values sv = {.unverified = 0};
  enum dsr_erasure_outcome out = DSR_ERASURE_RETRY;
  if (!dsr_subject_load(db, sc.request_id, &sv))
    snprintf(err, errlen, "cannot read the subject's identities");
  else
    out = execute(db, p, &sc, batch_rows, page_ms, &sv, err, errlen);
  dsr_subject_free(&sv);
  (void)run_lock(db, sc.run_id, false);
  return out;
}

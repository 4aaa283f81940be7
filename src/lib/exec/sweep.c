/**
 * @file sweep.c
 * @brief A retention sweep (see sweep.h): one at a time (advisory lock on
 *        dsrd's database), resumed with its cutoff after a crash, executed
 *        step by step by the executor, then dsrd's own data, then the
 *        receipt and its "sweep.receipt" event in one transaction.
 */
#include "config.h"
#include "executor_int.h"
#include "dsr/backup.h"
#include "dsr/config.h"
#include "dsr/discovery.h"
#include "dsr/export.h"
#include "dsr/log.h"
#include "dsr/parts.h"
#include "dsr/queue.h"
#include "dsr/sweep.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

bool dsr_sweep_schedule(struct dsr_db *db, long interval_s)
{
  if (interval_s < 1)
    interval_s = 1;
  time_t now = dsr_now();
  time_t slot = (now / interval_s + 1) * interval_s;
  char key[64];
  snprintf(key, sizeof key, "retention_sweep:%lld", (long long)slot);
  struct dsr_job_opts o = {.run_at = slot, .dedupe_key = key, .max_attempts = 3};
  bool enqueued = false, retry = false;
  json_t *payload = json_object();
  bool ok = payload && dsr_queue_enqueue(db, DSR_JOB_RETENTION_SWEEP, payload, &o, now,
                                         &enqueued, &retry);
  json_decref(payload);
  return ok;
}

static bool single(struct dsr_db *db, enum dsr_stmt st, int n, const char *const *v,
                   char *out, size_t outlen)
{
  PGresult *r = dsr_db_exec(db, st, n, v);
  bool ok = dsr_db_ok(r) && PQntuples(r) >= 1;
  if (ok && out)
    dsr_strlcpy(out, PQgetvalue(r, 0, 0), outlen);
  PQclear(r);
  return ok;
}

/* Counts what step @p st would remove now: rows into *rows, files into *files. */
static bool count_step(PGconn *store, const struct dsr_sweep_step *st, long long *rows,
                       long long *files)
{
  const char **vals = calloc(st->ncount_params + 1, sizeof *vals);
  PGresult *r = NULL;
  bool ok = false;
  if (!vals)
    goto cleanup;
  for (size_t k = 0; k < st->ncount_params; k++)
    vals[k] = st->count_params[k].value;
  r = PQexecParams(store, st->count_sql, (int)st->ncount_params, NULL, vals, NULL, NULL, 0);
  if (!dsr_db_ok(r) || PQntuples(r) != 1)
    goto cleanup;
  *rows = atoll(PQgetvalue(r, 0, 0));
  *files = atoll(PQgetvalue(r, 0, 1));
  ok = true;
cleanup:
  PQclear(r);
  free(vals);
  return ok;
}

/* The dry run: what each step would remove now. */
static bool dry_run(PGconn *store, const struct dsr_sweep_step *v, size_t n,
                    const struct dsr_sweep_opts *o, json_t **receipt, char *err, size_t errlen)
{
  json_t *cols = json_array();
  bool ok = cols != NULL;
  for (size_t i = 0; ok && i < n; i++) {
    long long rows = 0, files = 0;
    ok = count_step(store, &v[i], &rows, &files);
    if (!ok) {
      snprintf(err, errlen, "%s: the count failed", v[i].st.key);
      break;
    }
    if (o->progress)
      o->progress(o->progress_ctx, v[i].st.coll->name, rows, rows);
    json_array_append_new(cols, json_pack("{s:s, s:s, s:s, s:I, s:I}", "store",
                                          v[i].st.coll->store->name, "collection",
                                          v[i].st.coll->name, "action", "delete", "rows",
                                          (json_int_t)rows, "files", (json_int_t)files));
  }
  if (ok)
    ok = (*receipt = json_pack("{s:b, s:O}", "dry_run", 1, "collections", cols)) != NULL;
  json_decref(cols);
  return ok;
}

/* dsr_sweep_steps_guarded()'s question, asked of the store (@p ctx): does a validated foreign
 * key guard the with_parent reference of child @p c (false when it cannot tell)? */
static bool fk_guarded(void *ctx, const struct dsr_pcollection *c)
{
  PGconn *store = ctx;
  const struct dsr_preference *ref = c->retention.via;
  struct dsr_buf cc = {0}, pc = {0};
  bool ok = ref && ref->parent->store == c->store && dsr_buf_puts(&cc, "{") &&
            dsr_buf_puts(&pc, "{");
  for (size_t i = 0; ok && i < ref->ncolumns; i++)
    ok = dsr_sql_array_add(&cc, ref->columns[i], i == 0) &&
         dsr_sql_array_add(&pc, ref->parent_columns[i], i == 0);
  ok = ok && dsr_buf_puts(&cc, "}") && dsr_buf_puts(&pc, "}");
  PGresult *r = NULL;
  if (ok) {
    const char *v[] = {c->schema, c->table, ref->parent->schema, ref->parent->table,
                       cc.data, pc.data};
    r = PQexecParams(store, exec_fixed_sql(DSR_STMT_STORE_SWEEP_FK), 6, NULL, v, NULL, NULL, 0);
    ok = dsr_db_ok(r) && PQntuples(r) == 1 && atoll(PQgetvalue(r, 0, 0)) > 0;
  }
  PQclear(r);
  dsr_buf_free(&cc);
  dsr_buf_free(&pc);
  return ok;
}

/* Turns the executor's per-page calls into (done, total) of the current step. */
struct prog_adapter {
  const struct dsr_sweep_opts *o;
  const struct dsr_exec_step *st; /* the step whose total is known */
  long long base, remaining;      /* rows done when it started, rows left then */
};

static void on_page(void *ctx, const struct dsr_exec_step *st, long long done)
{
  struct prog_adapter *a = ctx;
  if (a->st != st) { /* first page of this step */
    a->st = st;
    a->base = done;
  }
  a->o->progress(a->o->progress_ctx, st->coll->name, done,
                 a->remaining >= 0 ? a->base + a->remaining : -1);
}

void dsr_sweep_opts_init(struct dsr_sweep_opts *o, const struct dsr_config *cfg)
{
  *o = (struct dsr_sweep_opts){.batch_rows = cfg->erasure_batch_rows, .own_data = true,
                               .outbox_days = cfg->outbox_retention_days,
                               .export_days = cfg->export_retention_days};
  /* only a directory that exists: packages are never marked destroyed when
   * their files may be elsewhere */
  struct stat sb;
  int n = cfg->export_dir
              ? snprintf(o->export_dir, sizeof o->export_dir, "%s", cfg->export_dir)
              : snprintf(o->export_dir, sizeof o->export_dir, "%s/exports", cfg->state_dir);
  if (n < 0 || (size_t)n >= sizeof o->export_dir || stat(o->export_dir, &sb) != 0 ||
      !S_ISDIR(sb.st_mode))
    o->export_dir[0] = '\0';
}

/* Destroys the packages whose link expired by @p as_of (file, key, event), as
 * their export_expire jobs would; *n counts them. */
static bool expired_exports(struct dsr_db *db, const struct dsr_sweep_opts *o, const char *as_of,
                            long long *n)
{
  *n = 0;
  if (!o->export_dir[0])
    return true;
  const char *v[] = {as_of};
  PGresult *r = dsr_db_exec(db, DSR_STMT_OWN_EXPORTS_EXPIRED, 1, v);
  bool ok = dsr_db_ok(r);
  struct dsr_export_opts eo = {.dir = o->export_dir};
  for (int i = 0; ok && i < PQntuples(r); i++) {
    char err[128];
    if (dsr_export_expire(db, &eo, PQgetvalue(r, i, 0), err, sizeof err) == DSR_JOB_DONE)
      (*n)++;
  }
  PQclear(r);
  return ok;
}

/* dsrd's own data past retention_of_dsr_data (else the configured periods); counts into @p out. */
static bool own_data(struct dsr_db *db, const struct dsr_policy *p, const struct dsr_sweep_opts *o,
                     time_t as_of, json_t *out)
{
  const json_t *sec = dsr_policy_section(p, "retention_of_dsr_data");
  char messages[32], exports[32];
  snprintf(messages, sizeof messages, "%ld days", o->outbox_days > 0 ? o->outbox_days : 90);
  snprintf(exports, sizeof exports, "%ld days", o->export_days > 0 ? o->export_days : 30);
  const struct {
    const char *name; /* in the receipt */
    const char *key;  /* of retention_of_dsr_data, or NULL */
    enum dsr_stmt st;
    const char *fallback;
  } rules[] = {
      {"closed_requests", "closed_requests", DSR_STMT_OWN_PURGE_REQUESTS, "3 years"},
      {"deliveries", "deliveries", DSR_STMT_OWN_PURGE_DELIVERIES, "90 days"},
      {"erasure_runs", "closed_requests", DSR_STMT_OWN_PURGE_RUNS, "3 years"},
      {"messages", "messages", DSR_STMT_OWN_PURGE_MESSAGES, messages},
      {"exports", NULL, DSR_STMT_OWN_PURGE_EXPORTS, exports},
  };
  char now[24], n[24];
  snprintf(now, sizeof now, "%lld", (long long)as_of);
  long long destroyed = 0;
  if (!expired_exports(db, o, now, &destroyed))
    return false;
  json_object_set_new(out, "expired_packages", json_integer(destroyed));
  for (size_t i = 0; i < DSR_ARRAY_LEN(rules); i++) {
    const char *period = rules[i].key ? json_string_value(json_object_get(sec, rules[i].key)) : NULL;
    const char *v[] = {now, period ? period : rules[i].fallback};
    if (!single(db, rules[i].st, 2, v, n, sizeof n))
      return false;
    json_object_set_new(out, rules[i].name, json_integer(atoll(n)));
  }
  return true;
}

struct fin_ctx {
  const char *run_id;
  time_t as_of;
  json_t *receipt; /* borrowed */
};

static enum dsr_tx_status fin_body(struct dsr_db *db, void *arg)
{
  struct fin_ctx *c = arg;
  bool first = false;
  enum dsr_tx_status s = dsr_exec_run_finish(db, c->run_id, c->receipt, &first);
  if (s != DSR_TX_COMMIT)
    return s;
  if (!first)
    return DSR_TX_COMMIT;
  /* the erasure ledger: a restored backup is swept again at this cutoff */
  s = dsr_ledger_append(db, c->run_id, "sweep", c->as_of, NULL, NULL,
                        json_object_get(c->receipt, "collections"));
  return s == DSR_TX_COMMIT
             ? dsr_tx_event(db, NULL, "sweep.receipt", "system", json_incref(c->receipt))
             : s;
}

static enum dsr_sweep_outcome locked(struct dsr_db *db, const struct dsr_policy *p,
                                     const struct dsr_sweep_opts *o, json_t **receipt,
                                     char *err, size_t errlen)
{
  enum dsr_sweep_outcome out = DSR_SWEEP_RETRY;
  struct dsr_sweep_step *steps = NULL;
  size_t n = 0;
  PGconn *store = NULL;
  json_t *rc = NULL;
  char run_id[40] = "", as_of_s[24] = "", started[32] = "", as_of_r[32] = "";
  time_t as_of = o->now ? o->now : dsr_now();
  PGresult *r = dsr_db_exec(db, DSR_STMT_SWEEP_RUN_RUNNING, 0, NULL);
  if (!dsr_db_ok(r)) {
    PQclear(r);
    snprintf(err, errlen, "cannot read sweeps");
    goto cleanup;
  }
  if (PQntuples(r) == 1 && !o->dry_run) { /* resume the interrupted sweep, same cutoff */
    dsr_strlcpy(run_id, PQgetvalue(r, 0, 0), sizeof run_id);
    as_of = (time_t)atoll(PQgetvalue(r, 0, 1));
  }
  PQclear(r);
  snprintf(as_of_s, sizeof as_of_s, "%lld", (long long)as_of);
  if (!run_id[0] && !o->dry_run) {
    char now[24];
    snprintf(now, sizeof now, "%lld", (long long)dsr_now());
    const char *v[] = {as_of_s, now};
    if (!single(db, DSR_STMT_SWEEP_RUN_NEW, 2, v, run_id, sizeof run_id)) {
      snprintf(err, errlen, "cannot open a sweep");
      goto cleanup;
    }
  }
  const char *dsn = dsr_policy_pg_dsn(p);
  store = dsn ? PQconnectdb(dsn) : NULL;
  if (!store || PQstatus(store) != CONNECTION_OK) {
    snprintf(err, errlen, "the policy's postgresql store is not reachable");
    goto cleanup;
  }
  if (!dsr_sweep_steps_guarded(p, as_of, fk_guarded, store, &steps, &n)) {
    snprintf(err, errlen, "out of memory");
    goto cleanup;
  }
  if (o->dry_run) {
    out = dry_run(store, steps, n, o, receipt, err, errlen) ? DSR_SWEEP_DONE : DSR_SWEEP_FAIL;
    goto cleanup;
  }
  struct prog_adapter pa = {.o = o, .remaining = -1};
  struct dsr_exec ex = {.db = db, .store = store, .policy = p, .batch_rows = o->batch_rows,
                        .progress = o->progress ? on_page : NULL, .progress_ctx = &pa};
  dsr_strlcpy(ex.run_id, run_id, sizeof ex.run_id);
  enum dsr_exec_result settled = dsr_exec_resolve_all(&ex, err, errlen);
  if (settled != DSR_EXEC_OK) {
    out = settled == DSR_EXEC_FAIL ? DSR_SWEEP_FAIL : DSR_SWEEP_RETRY;
    goto cleanup;
  }
  for (size_t i = 0; i < n; i++) {
    long long files = 0;
    pa.st = NULL; /* the bar's total: what is left of this step now */
    if (!o->progress || !o->progress_total ||
        !count_step(store, &steps[i], &pa.remaining, &files))
      pa.remaining = -1;
    enum dsr_exec_result res = dsr_exec_step_run(&ex, &steps[i].st, (int)i, err, errlen);
    if (res != DSR_EXEC_OK) {
      out = res == DSR_EXEC_FAIL ? DSR_SWEEP_FAIL : DSR_SWEEP_RETRY;
      goto cleanup;
    }
    if (o->progress) /* the step's end: done equals its total */
      o->progress(o->progress_ctx, steps[i].st.coll->name, -2, -2);
  }
  long removed = 0, failed = 0;
  if (dsr_exec_files(&ex, &removed, &failed, err, errlen) != DSR_EXEC_OK)
    goto cleanup;
  json_t *totals = json_object(), *own = json_object();
  json_t *cols = totals ? dsr_exec_receipt_collections(db, run_id, totals) : NULL;
  const char *sv[] = {run_id};
  PGresult *sr = dsr_db_exec(db, DSR_STMT_SWEEP_RUN_STARTED, 1, sv);
  if (dsr_db_ok(sr) && PQntuples(sr) == 1) {
    dsr_strlcpy(started, PQgetvalue(sr, 0, 0), sizeof started);
    dsr_strlcpy(as_of_r, PQgetvalue(sr, 0, 1), sizeof as_of_r);
  }
  PQclear(sr);
  if (!cols || !own || !started[0] || (o->own_data && !own_data(db, p, o, as_of, own))) {
    json_decref(totals);
    json_decref(own);
    json_decref(cols);
    snprintf(err, errlen, "cannot build the sweep receipt");
    goto cleanup;
  }
  rc = json_pack("{s:s, s:s, s:s, s:o, s:o}", "sweep_id", run_id, "started_at", started, "as_of",
                 as_of_r, "collections", cols, "dsrd_data", own);
  if (rc)
    json_object_update(rc, totals);
  json_decref(totals);
  struct fin_ctx fc = {.run_id = run_id, .as_of = as_of, .receipt = rc};
  if (!rc || !dsr_db_tx(db, "READ COMMITTED", fin_body, &fc)) {
    snprintf(err, errlen, "cannot record the sweep receipt");
    goto cleanup;
  }
  DSR_INFO("sweep.done", "sweep=%s steps=%zu files_removed=%ld", run_id, n, removed);
  *receipt = json_incref(rc);
  out = DSR_SWEEP_DONE;
cleanup:
  json_decref(rc);
  dsr_sweep_steps_free(steps, n);
  if (store)
    PQfinish(store);
  return out;
}

enum dsr_sweep_outcome dsr_sweep_run(struct dsr_db *db, const struct dsr_policy *p,
                                     const struct dsr_sweep_opts *o, json_t **receipt,
                                     char *err, size_t errlen)
{
  *receipt = NULL;
  char got[8] = "";
  if (!single(db, DSR_STMT_SWEEP_TRY_LOCK, 0, NULL, got, sizeof got)) {
    snprintf(err, errlen, "cannot reach dsrd's database");
    return DSR_SWEEP_RETRY;
  }
  if (got[0] != 't') {
    snprintf(err, errlen, "another retention sweep is running");
    return DSR_SWEEP_BUSY;
  }
  enum dsr_sweep_outcome out = locked(db, p, o, receipt, err, errlen);
  (void)single(db, DSR_STMT_SWEEP_UNLOCK, 0, NULL, NULL, 0);
  return out;
}

/**
 * @file executor.c
 * @brief Running one step, page by page, exactly once (see executor.h):
 *        page on the store, outcome pending in dsrd with the store's
 *        transaction id, store commit, outcome applied.
 */
#include "config.h"
#include "executor_int.h"
#include "dsr/log.h"

#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * Fault injection for the crash tests: with DSRD_FAILPOINT=NAME in the
 * environment, the process kills itself (SIGKILL, as an operator's kill -9
 * would) when a batch reaches point NAME for the DSRD_FAILPOINT_SKIP+1-th
 * time. Points: "pending" (outcome recorded, store not committed),
 * "committed" (store committed, outcome not applied) and "overlap" (a page's
 * rows changed in its open store transaction while the last page's outcome,
 * sent, may or may not be applied). Unset, it costs a getenv.
 */
static void failpoint(const char *name)
{
  static atomic_int seen;
  const char *fp = getenv("DSRD_FAILPOINT");
  if (!fp || strcmp(fp, name) != 0)
    return;
  const char *skip = getenv("DSRD_FAILPOINT_SKIP");
  if (atomic_fetch_add(&seen, 1) >= (skip ? atoi(skip) : 0))
    raise(SIGKILL);
}

/* Runs a fixed statement on the store; true when it succeeded. */
static bool store_fixed(PGconn *c, enum dsr_stmt st)
{
  PGresult *r = PQexec(c, exec_fixed_sql(st));
  bool ok = dsr_db_ok(r);
  PQclear(r);
  return ok;
}

/* Begins a page's store transaction with its page cost (DSR_STMT_STORE_PAGE_COST) and reads
 * its transaction id into @p xid (assigned now: the page writes anyway), in one round trip;
 * true when all three ran. */
static bool store_begin_page(PGconn *c, char *xid, size_t xidlen)
{
  char sql[512];
  snprintf(sql, sizeof sql, "%s; %s; %s", exec_fixed_sql(DSR_STMT_STORE_BEGIN),
           exec_fixed_sql(DSR_STMT_STORE_PAGE_COST), exec_fixed_sql(DSR_STMT_STORE_TXID));
  PGresult *r = PQexec(c, sql);
  bool ok = dsr_db_ok(r) && PQntuples(r) == 1;
  if (ok)
    dsr_strlcpy(xid, PQgetvalue(r, 0, 0), xidlen);
  PQclear(r);
  if (!ok && PQtransactionStatus(c) != PQTRANS_IDLE)
    (void)store_fixed(c, DSR_STMT_STORE_ROLLBACK);
  return ok;
}

/* ---- dsrd-side transactions ----------------------------------------------------- */

struct pend_tx {
  const struct dsr_exec *ex;
  const char *key; /* the step's */
  const char *xid, *cursor, *rows, *kept, *files, *now;
  const char *keys; /* the batch's keys for the erasure ledger, or NULL */
  /* the batch's files: store names and paths, parallel array literals, or NULL */
  const char *fstores, *fpaths;
  /* which of them were removed right after the store's commit (a parallel boolean array
   * literal; NULL: none, on a resume), so they enter the list done rather than due */
  const char *fgone;
  bool apply; /* resolve: apply (true) or drop (false) */
};

static enum dsr_tx_status run(struct dsr_db *db, enum dsr_stmt s, int n, const char *const *v,
                              int want_rows)
{
  PGresult *r = dsr_db_exec(db, s, n, v);
  enum dsr_tx_status st = DSR_TX_COMMIT;
  if (!dsr_db_ok(r))
    st = dsr_db_is_retryable(r) ? DSR_TX_RETRY : DSR_TX_ROLLBACK;
  else if (want_rows >= 0 && PQntuples(r) != want_rows)
    st = DSR_TX_ROLLBACK;
  PQclear(r);
  return st;
}

/* The batch's outcome, pending: one statement, so no transaction around it. */
static bool pend(struct pend_tx *p)
{
  const char *v[] = {p->ex->run_id, p->key,  p->xid,     p->cursor, p->rows,
                     p->kept,      p->files, p->keys,    p->fstores, p->fpaths};
  return run(p->ex->db, DSR_STMT_EX_STEP_PEND, 10, v, 1) == DSR_TX_COMMIT;
}

/* A batch left pending (a resume, see resolve); one applied right after its store's commit
 * takes DSR_STMT_EX_STEP_APPLY_FRESH instead. */
static enum dsr_tx_status resolve_body(struct dsr_db *db, void *arg)
{
  struct pend_tx *p = arg;
  const char *v[] = {p->ex->run_id, p->key, p->xid, p->now, p->fgone};
  /* an applied batch's keys go to the erasure ledger, and its files enter the list of file
   * deletions (done when already removed, else due), before the step forgets them */
  enum dsr_tx_status s = DSR_TX_COMMIT;
  if (p->apply)
    s = run(db, DSR_STMT_LEDGER_KEYS_APPEND, 3, v, -1);
  if (s == DSR_TX_COMMIT && p->apply)
    s = run(db, DSR_STMT_EX_FILES_PEND_DUE, 5, v, -1);
  if (s == DSR_TX_COMMIT)
    s = run(db, p->apply ? DSR_STMT_EX_STEP_APPLY : DSR_STMT_EX_STEP_DROP, 3, v, -1);
  if (s == DSR_TX_COMMIT)
    s = run(db, p->apply ? DSR_STMT_EX_FILES_DUE : DSR_STMT_EX_FILES_UNSTAGE, 2, v, -1);
  return s;
}

/* One statement in a transaction whose commit does not wait for the disk: for what a resume
 * does again when a crash of dsrd's cluster loses it (an applied batch stays pending, a
 * registration or a "done" is written again); a later commit that waits flushes it first. */
struct no_wait {
  enum dsr_stmt st;
  int n;
  const char *const *v;
  int want_rows;
};

static enum dsr_tx_status no_wait_body(struct dsr_db *db, void *arg)
{
  const struct no_wait *w = arg;
  enum dsr_tx_status s = run(db, DSR_STMT_EX_APPLY_NO_WAIT, 0, NULL, 1);
  return s == DSR_TX_COMMIT ? run(db, w->st, w->n, w->v, w->want_rows) : s;
}

static bool run_no_wait(struct dsr_db *db, enum dsr_stmt st, int n, const char *const *v,
                        int want_rows)
{
  struct no_wait w = {.st = st, .n = n, .v = v, .want_rows = want_rows};
  return dsr_db_tx(db, "READ COMMITTED", no_wait_body, &w);
}

/* Applies (committed) or drops (aborted) the pending outcome of transaction @p xid. */
static enum dsr_exec_result resolve(struct dsr_exec *ex, const char *key, const char *xid,
                                    char *err, size_t errlen)
{
  const char *v[] = {xid};
  PGresult *r = PQexecParams(ex->store, exec_fixed_sql(DSR_STMT_STORE_TXID_STATUS), 1, NULL, v,
                             NULL, NULL, 0);
  if (!dsr_db_ok(r) || PQntuples(r) != 1) {
    PQclear(r);
    snprintf(err, errlen, "%s: cannot ask the store about a batch in flight", key);
    return DSR_EXEC_RETRY;
  }
  /* NULL: too old to know, which only happens long after it ended; it committed, since
   * only committed batches are ever left pending that long by a live executor. */
  const char *state = PQgetisnull(r, 0, 0) ? "committed" : PQgetvalue(r, 0, 0);
  bool committed = !strcmp(state, "committed"), aborted = !strcmp(state, "aborted");
  PQclear(r);
  if (!committed && !aborted) {
    snprintf(err, errlen, "%s: a store transaction of this run is still finishing", key);
    return DSR_EXEC_RETRY;
  }
  char now[24];
  snprintf(now, sizeof now, "%lld", (long long)dsr_now());
  struct pend_tx p = {.ex = ex, .key = key, .xid = xid, .now = now, .apply = committed};
  if (!dsr_db_tx(ex->db, "READ COMMITTED", resolve_body, &p)) {
    snprintf(err, errlen, "%s: cannot record a finished batch", key);
    return DSR_EXEC_RETRY;
  }
  DSR_INFO("executor.resolved", "run=%s step=%s outcome=%s", ex->run_id, key,
           committed ? "applied" : "dropped");
  return DSR_EXEC_OK;
}

/* ---- one page on the store ------------------------------------------------------ */

struct page_out {
  long long rows, kept;
  struct dsr_buf cursor;
  /* files of deleted rows (and their backup copies): store names and paths, parallel array
   * literals without their closing braces until the page is complete */
  struct dsr_buf fstores, fpaths;
  long long nfiles;
  /* the same files as strings (owned), to unlink once the store has committed */
  char **fst, **fpa;
  size_t nf, capf;
};

static void page_out_free(struct page_out *o)
{
  dsr_buf_free(&o->cursor);
  dsr_buf_free(&o->fstores);
  dsr_buf_free(&o->fpaths);
  for (size_t i = 0; i < o->nf; i++) {
    free(o->fst[i]);
    free(o->fpa[i]);
  }
  free(o->fst);
  free(o->fpa);
}

/* Adds file @p path of store @p store to the page's files. */
static bool file_add(struct page_out *o, const char *store, const char *path)
{
  if (o->nf == o->capf) {
    size_t cap = o->capf ? o->capf * 2 : 64;
    char **ns = realloc(o->fst, cap * sizeof *ns);
    if (!ns)
      return false;
    o->fst = ns;
    char **np = realloc(o->fpa, cap * sizeof *np);
    if (!np)
      return false;
    o->fpa = np;
    o->capf = cap;
  }
  char *sd = strdup(store), *pd = strdup(path);
  if (!sd || !pd) {
    free(sd);
    free(pd);
    return false;
  }
  o->fst[o->nf] = sd;
  o->fpa[o->nf++] = pd;
  bool first = o->fpaths.len == 0;
  return (!first || (dsr_buf_puts(&o->fstores, "{") && dsr_buf_puts(&o->fpaths, "{"))) &&
         dsr_sql_array_add(&o->fstores, store, first) && dsr_sql_array_add(&o->fpaths, path, first);
}

/* Unlinks the page's files (its rows are gone: the store committed) and fills @p gone with
 * which were removed, a boolean array literal parallel to o->fpaths. False when it could not
 * (out of memory): then every file enters the list due, as on a resume. */
static bool unlink_page_files(const struct dsr_exec *ex, const struct page_out *o,
                              struct dsr_buf *gone)
{
  struct exunlink *un = calloc(o->nf + 1, sizeof *un);
  bool ok = un && exfiles_unlink(ex, o->nf, (const char *const *)o->fst,
                                 (const char *const *)o->fpa, un) &&
            dsr_buf_puts(gone, "{");
  for (size_t i = 0; ok && i < o->nf; i++)
    ok = dsr_buf_puts(gone, i ? (un[i].err ? ",f" : ",t") : (un[i].err ? "f" : "t"));
  free(un);
  return ok && dsr_buf_puts(gone, "}");
}

/* Stages file @p value of @p files in every copy of every file_set backup set of that store
 * (see excopies), at its path relative to the root it resolves to (dsr/filepath.h); a value
 * the resolver refuses has no copy to stage (its own removal reports it). */
static bool stage_copies(const struct dsr_exec *ex, const struct excopies *cp,
                         const struct dsr_pstore *files, const char *value, struct page_out *o)
{
  (void)ex;
  char path[4096];
  struct dsr_fpath fp;
  if (cp->n == 0 || dsr_fpath_resolve(files, value, &fp) != DSR_FPATH_OK)
    return true;
  const char *rel = fp.rel;
  for (size_t i = 0; i < cp->n; i++) {
    if (cp->v[i].set->of != files)
      continue;
    if ((size_t)snprintf(path, sizeof path, "%s/%s", cp->v[i].copy, rel) >= sizeof path)
      continue; /* cannot name it: such a path cannot exist under the set either */
    if (!file_add(o, cp->v[i].set->name, path))
      return false;
  }
  return true;
}

static bool page_delete(struct dsr_exec *ex, const struct dsr_exec_step *st, const char *keys,
                        int nkeys, struct page_out *o, char *err, size_t errlen)
{
  const struct dsr_pcollection *c = st->coll;
  char *sql = exsql_delete(ex->policy, c);
  struct excopies copies = {0};
  PGresult *r = NULL;
  bool ok = false;
  if (!sql || (c->nfiles > 0 && !excopies_list(ex->policy, &copies))) {
    snprintf(err, errlen, "out of memory");
    goto cleanup;
  }
  const char *v[] = {keys};
  r = PQexecParams(ex->store, sql, 1, NULL, v, NULL, NULL, 0);
  if (!dsr_db_ok(r)) {
    char why[256];
    dsr_db_error_text(r, why, sizeof why);
    snprintf(err, errlen, "%s: the store refused the delete (%s)", st->key, why);
    goto cleanup;
  }
  o->rows = PQntuples(r);
  o->kept = nkeys - o->rows;
  for (int i = 0; i < PQntuples(r); i++)
    for (size_t f = 0; f < c->nfiles; f++) {
      if (PQgetisnull(r, i, (int)f + 1))
        continue;
      if (!file_add(o, c->files[f].store->name, PQgetvalue(r, i, (int)f + 1)) ||
          !stage_copies(ex, &copies, c->files[f].store, PQgetvalue(r, i, (int)f + 1), o)) {
        snprintf(err, errlen, "out of memory");
        goto cleanup;
      }
      o->nfiles++;
    }
  if (o->fpaths.len > 0 && !(dsr_buf_puts(&o->fstores, "}") && dsr_buf_puts(&o->fpaths, "}"))) {
    snprintf(err, errlen, "out of memory");
    goto cleanup;
  }
  ok = true;
cleanup:
  excopies_free(&copies);
  PQclear(r);
  free(sql);
  return ok;
}

static void expage_free(struct expage *pg)
{
  size_t n = (size_t)pg->nrows * pg->ncols;
  for (size_t i = 0; pg->vals && i < n; i++) {
    if (pg->vals[i])
      memset(pg->vals[i], 0, strlen(pg->vals[i]));
    free(pg->vals[i]);
  }
  free(pg->vals);
}

static bool page_transform(struct dsr_exec *ex, const struct dsr_exec_step *st, const char *keys,
                           struct page_out *o, char *err, size_t errlen)
{
  const struct dsr_pcollection *c = st->coll;
  const char *cols[64];
  size_t n = excols(st, cols, DSR_ARRAY_LEN(cols));
  char *sel = exsql_select(c, cols, n), *upd = exsql_update(c, cols, n);
  struct expage pg = {0};
  struct dsr_buf *arr = calloc(n + 1, sizeof *arr);
  const char **vals = calloc(n + 1, sizeof *vals);
  bool *changed = NULL;
  PGresult *r = NULL;
  bool ok = false;
  if (!sel || !upd || !arr || !vals) {
    snprintf(err, errlen, "out of memory");
    goto cleanup;
  }
  const char *v[] = {keys};
  r = PQexecParams(ex->store, sel, 1, NULL, v, NULL, NULL, 0);
  if (!dsr_db_ok(r)) {
    char why[256];
    dsr_db_error_text(r, why, sizeof why);
    snprintf(err, errlen, "%s: the store refused the read (%s)", st->key, why);
    goto cleanup;
  }
  pg.nrows = PQntuples(r);
  pg.ncols = n + 1;
  pg.vals = calloc((size_t)pg.nrows * pg.ncols + 1, sizeof *pg.vals);
  changed = calloc((size_t)pg.nrows + 1, sizeof *changed);
  if (!pg.vals || !changed)
    goto oom;
  for (int i = 0; i < pg.nrows; i++)
    for (size_t k = 0; k < pg.ncols; k++)
      if (!PQgetisnull(r, i, (int)k) &&
          !(pg.vals[(size_t)i * pg.ncols + k] = strdup(PQgetvalue(r, i, (int)k))))
        goto oom;
  PQclear(r);
  r = NULL;
  if (!extransform(ex, st, &pg, changed))
    goto oom;
  for (int i = 0; i < pg.nrows; i++) {
    if (!changed[i])
      continue;
    for (size_t k = 0; k < pg.ncols; k++)
      if (!dsr_sql_array_add(&arr[k], pg.vals[(size_t)i * pg.ncols + k],
                           arr[k].len == 0 && dsr_buf_puts(&arr[k], "{")))
        goto oom;
    o->rows++;
  }
  if (o->rows > 0) {
    for (size_t k = 0; k < pg.ncols; k++) {
      if (!dsr_buf_puts(&arr[k], "}"))
        goto oom;
      vals[k] = arr[k].data;
    }
    r = PQexecParams(ex->store, upd, (int)pg.ncols, NULL, vals, NULL, NULL, 0);
    if (!dsr_db_ok(r)) {
      char why[256];
      dsr_db_error_text(r, why, sizeof why);
      snprintf(err, errlen, "%s: the store refused the update (%s)", st->key, why);
      goto cleanup;
    }
  }
  ok = true;
  goto cleanup;
oom:
  snprintf(err, errlen, "out of memory");
cleanup:
  PQclear(r);
  expage_free(&pg);
  for (size_t k = 0; arr && k < n + 1; k++) {
    if (arr[k].data)
      memset(arr[k].data, 0, arr[k].len);
    dsr_buf_free(&arr[k]);
  }
  free(arr);
  free(vals);
  free(changed);
  free(sel);
  free(upd);
  return ok;
}

/* True when a delete step masks the rows it keeps (see dsr_exec.mask_kept). */
static bool masks_kept(const struct dsr_exec *ex, const struct dsr_exec_step *st)
{
  return ex->mask_kept && st->verb == DSR_STEP_DELETE && st->coll->action == DSR_ACT_DELETE &&
         st->coll->nmasks > 0;
}

/* The rows of this page that the delete kept (still referenced) get the collection's masks. */
static bool page_mask_kept(struct dsr_exec *ex, const struct dsr_exec_step *st, const char *keys,
                           char *err, size_t errlen)
{
  struct dsr_exec_step ms = *st;
  struct page_out mo = {0};
  ms.verb = DSR_STEP_MASK;
  bool ok = page_transform(ex, &ms, keys, &mo, err, errlen);
  page_out_free(&mo);
  return ok;
}

/* PAGE_LAST: a page shorter than the batch, so the step has no more keys; PAGE_DONE: a full
 * page, there may be more. */
enum page_result { PAGE_DONE, PAGE_LAST, PAGE_EMPTY, PAGE_ERR };

/* Fills the page query's values: the plan's, with "cursor" and "limit" set. Caller frees. */
static const char **page_params(const struct dsr_exec *ex, const struct dsr_exec_step *st,
                                const char *cursor, const char *limit)
{
  (void)ex;
  const char **v = calloc(st->nparams + 1, sizeof *v);
  for (size_t i = 0; v && i < st->nparams; i++)
    v[i] = !strcmp(st->params[i].label, "cursor") ? cursor
           : !strcmp(st->params[i].label, "limit") ? limit
                                                   : st->params[i].value;
  return v;
}

/* The applied outcome of the page before, sent ahead (*applying): its answer, read before
 * anything else uses dsrd's database. False (with the reason) when it was not recorded. */
static bool applied(struct dsr_exec *ex, const struct dsr_exec_step *st, bool *applying,
                    char *err, size_t errlen)
{
  if (!*applying)
    return true;
  *applying = false;
  if (dsr_db_await_tx(ex->db, 2, 1) == DSR_TX_COMMIT)
    return true;
  snprintf(err, errlen, "%s: cannot record a committed batch (resumes)", st->key);
  return false;
}

/* One page; *page_rows: the rows it removed or changed; @p next_cursor (empty) receives the
 * step's cursor (left empty when it could not be copied). Once the store has committed, the
 * page's outcome is sent to dsrd's database without waiting (*applying): its answer is read
 * while the next page works on the store, before that page's outcome is recorded pending (a
 * step has one batch pending at most), or by the caller, applied(). A short page (PAGE_LAST)
 * also marks the step done, with its outcome. */
static enum page_result page(struct dsr_exec *ex, const struct dsr_exec_step *st,
                             const char *cursor, long batch, bool *applying,
                             enum dsr_exec_result *res, long long *page_rows, double *store_ms,
                             struct dsr_buf *next_cursor, char *err, size_t errlen)
{
  struct page_out o = {0};
  struct dsr_buf keys = {0}, gone = {0};
  PGresult *r = NULL;
  enum page_result pr = PAGE_ERR;
  bool in_tx = false;
  char limit[24], xid[32], rows[24], kept[24], nfiles[24], now[24];
  snprintf(limit, sizeof limit, "%ld", batch);
  const char **pv = page_params(ex, st, cursor, limit);
  double t0 = dsr_mono_ms();
  *res = DSR_EXEC_RETRY;
  if (!pv) {
    snprintf(err, errlen, "out of memory");
    goto cleanup;
  }
  if (!(in_tx = store_begin_page(ex->store, xid, sizeof xid))) {
    snprintf(err, errlen, "%s: cannot begin a store transaction", st->key);
    goto cleanup;
  }
  r = PQexecParams(ex->store, st->keys_sql, (int)st->nparams, NULL, pv, NULL, NULL, 0);
  if (!dsr_db_ok(r)) {
    char why[256];
    dsr_db_error_text(r, why, sizeof why);
    snprintf(err, errlen, "%s: the page query failed (%s)", st->key, why);
    *res = DSR_EXEC_FAIL;
    goto cleanup;
  }
  int nk = PQntuples(r);
  if (nk == 0) {
    pr = PAGE_EMPTY;
    goto cleanup;
  }
  bool ok = dsr_buf_puts(&keys, "{");
  for (int i = 0; ok && i < nk; i++)
    ok = dsr_sql_array_add(&keys, PQgetvalue(r, i, 0), i == 0);
  /* the cursor: the last key, or the page query's second column when it has one (a sweep
   * step paged by its parent's keys, dsr/sweep.h) */
  ok = ok && dsr_buf_puts(&keys, "}") &&
       dsr_buf_puts(&o.cursor, PQgetvalue(r, nk - 1, PQnfields(r) > 1 ? 1 : 0));
  PQclear(r);
  r = NULL;
  if (!ok) {
    snprintf(err, errlen, "out of memory");
    goto cleanup;
  }
  bool acted = st->verb == DSR_STEP_DELETE ? page_delete(ex, st, keys.data, nk, &o, err, errlen)
                                           : page_transform(ex, st, keys.data, &o, err, errlen);
  if (acted && o.kept > 0 && masks_kept(ex, st))
    acted = page_mask_kept(ex, st, keys.data, err, errlen);
  if (!acted) {
    *res = DSR_EXEC_FAIL;
    goto cleanup;
  }
  snprintf(rows, sizeof rows, "%lld", o.rows);
  snprintf(kept, sizeof kept, "%lld", o.kept);
  snprintf(nfiles, sizeof nfiles, "%lld", o.nfiles);
  snprintf(now, sizeof now, "%lld", (long long)dsr_now());
  struct pend_tx p = {.ex = ex, .key = st->key, .xid = xid, .cursor = o.cursor.data, .rows = rows,
                      .kept = kept, .files = nfiles, .now = now,
                      .keys = ex->ledger ? keys.data : NULL,
                      .fstores = o.fpaths.len ? o.fstores.data : NULL,
                      .fpaths = o.fpaths.len ? o.fpaths.data : NULL};
  if (*applying)
    failpoint("overlap"); /* this page's store transaction open, the last one's apply sent */
  if (!applied(ex, st, applying, err, errlen))
    goto cleanup;
  if (!pend(&p)) {
    snprintf(err, errlen, "%s: cannot record the batch before committing it", st->key);
    goto cleanup;
  }
  failpoint("pending");
  in_tx = false;
  if (!store_fixed(ex->store, DSR_STMT_STORE_COMMIT)) {
    /* unknown outcome: the next attempt asks txid_status() */
    snprintf(err, errlen, "%s: the store's commit did not answer", st->key);
    goto cleanup;
  }
  *store_ms = dsr_mono_ms() - t0; /* the store transaction's length: its row locks' */
  failpoint("committed");
  /* the batch's rows are gone: its files go now, and those removed enter the list done (a
   * crash before the outcome is applied lists them due, and they are unlinked again, missing) */
  if (o.nf > 0 && unlink_page_files(ex, &o, &gone))
    p.fgone = gone.data;
  /* applied in one statement, in a transaction whose commit does not wait for the disk,
   * sent now and answered later (applied()); a page shorter than the batch ends the step:
   * done with its outcome (a crash before that commit: the resume resolves the batch and
   * finds the next page empty) */
  bool last = nk < atol(limit);
  const char *av[] = {ex->run_id, st->key, xid, now, p.fgone, last ? "true" : "false"};
  const struct dsr_db_call apply[] = {{DSR_STMT_EX_APPLY_NO_WAIT, 0, NULL},
                                      {DSR_STMT_EX_STEP_APPLY_FRESH, 6, av}};
  if (!dsr_db_send_tx(ex->db, 2, apply)) {
    snprintf(err, errlen, "%s: cannot record a committed batch (resumes)", st->key);
    goto cleanup;
  }
  *applying = true;
  if (next_cursor && !dsr_buf_puts(next_cursor, o.cursor.data)) {
    dsr_buf_free(next_cursor); /* the caller reads the step's progress again */
    *next_cursor = (struct dsr_buf){0};
  }
  pr = last ? PAGE_LAST : PAGE_DONE;
  *page_rows = o.rows;
  *res = DSR_EXEC_OK;
cleanup:
  if (in_tx)
    (void)store_fixed(ex->store, DSR_STMT_STORE_ROLLBACK);
  PQclear(r);
  free(pv);
  dsr_buf_free(&keys);
  dsr_buf_free(&gone);
  page_out_free(&o);
  return pr;
}

/* ---- the step ------------------------------------------------------------------- */

static bool register_step(struct dsr_exec *ex, const struct dsr_exec_step *st, int ord)
{
  char sord[16], rows[24];
  snprintf(sord, sizeof sord, "%d", ord);
  snprintf(rows, sizeof rows, "%lld", st->verb == DSR_STEP_RETAIN ? st->retain_rows : 0);
  bool retain = st->verb == DSR_STEP_RETAIN;
  const char *v[] = {ex->run_id, st->key, sord, st->coll->store->name, st->coll->name,
                     dsr_step_verb_name(st->verb),
                     masks_kept(ex, st) ? DSR_EXEC_KEPT_MASKED : st->basis, rows,
                     retain ? "true" : "false"};
  return run_no_wait(ex->db, DSR_STMT_EX_STEP_REGISTER, 9, v, -1);
}

/* Marks the step done (its last page was full and the next one empty). */
static enum dsr_exec_result step_done(struct dsr_exec *ex, const struct dsr_exec_step *st,
                                      char *err, size_t errlen)
{
  const char *v[] = {ex->run_id, st->key};
  if (!run_no_wait(ex->db, DSR_STMT_EX_STEP_DONE, 2, v, -1)) {
    snprintf(err, errlen, "%s: cannot mark the step done", st->key);
    return DSR_EXEC_RETRY;
  }
  return DSR_EXEC_OK;
}

/* The next page's keys after a full page of @p batch keys whose store transaction took
 * @p store_ms: with a time target (ex->page_ms), the size that would have taken about that
 * long, at most twice and at least half the last, between the starting size and
 * DSR_EXEC_PAGE_GROWTH times it; without one, the starting size. */
static long next_batch(const struct dsr_exec *ex, long batch, double store_ms)
{
  long first = ex->batch_rows > 0 ? ex->batch_rows : DSR_EXEC_DEFAULT_BATCH;
  if (ex->page_ms <= 0)
    return first;
  double want = store_ms > 1.0 ? (double)batch * (double)ex->page_ms / store_ms : 2.0 * batch;
  long next = want >= 2.0 * batch ? 2 * batch : want <= batch / 2.0 ? batch / 2 : (long)want;
  long most = first * DSR_EXEC_PAGE_GROWTH;
  return next < first ? first : next > most ? most : next;
}

/* Runs pages from @p cursor (NULL: the first) on; @p known (empty) and @p rows: the step's
 * progress so far, read from dsrd. Each page applied here gives the next one its cursor and
 * rows without reading them back; only when a cursor could not be kept does the caller read
 * the step's progress again (*again). Every step (and every resume) starts at the starting
 * size, ex->batch_rows. */
static enum dsr_exec_result pages_from(struct dsr_exec *ex, const struct dsr_exec_step *st,
                                       const char *cursor, long long rows, bool *again,
                                       char *err, size_t errlen)
{
  struct dsr_buf known = {0};
  enum dsr_exec_result res = DSR_EXEC_OK;
  long batch = next_batch(ex, 0, 0);
  bool applying = false; /* the last page's outcome, sent, its answer not read yet */
  *again = false;
  for (;;) {
    struct dsr_buf next = {0};
    long long page_rows = 0;
    double store_ms = 0;
    if (ex->progress)
      ex->progress(ex->progress_ctx, st, rows);
    enum page_result pr = page(ex, st, cursor, batch, &applying, &res, &page_rows, &store_ms,
                               &next, err, errlen);
    dsr_buf_free(&known);
    known = next;
    rows += page_rows;
    /* leaving the loop: the last outcome sent is answered first (a failed page's reason,
     * when there is one, stays) */
    if ((pr != PAGE_DONE || known.len == 0) && applying) {
      char why[256];
      if (!applied(ex, st, &applying, why, sizeof why) && res == DSR_EXEC_OK) {
        snprintf(err, errlen, "%s", why);
        res = DSR_EXEC_RETRY;
        break;
      }
    }
    if (pr == PAGE_ERR)
      break;
    if (pr == PAGE_LAST) { /* marked done with its outcome */
      if (ex->progress)
        ex->progress(ex->progress_ctx, st, rows);
      break;
    }
    if (pr == PAGE_EMPTY) {
      res = step_done(ex, st, err, errlen);
      break;
    }
    if (known.len == 0) { /* out of memory for the cursor: read it back */
      *again = true;
      break;
    }
    cursor = known.data;
    batch = next_batch(ex, batch, store_ms);
  }
  dsr_buf_free(&known);
  return res;
}

enum dsr_exec_result dsr_exec_step_run(struct dsr_exec *ex, const struct dsr_exec_step *st,
                                       int ord, char *err, size_t errlen)
{
  if (!register_step(ex, st, ord)) {
    snprintf(err, errlen, "%s: cannot register the step", st->key);
    return DSR_EXEC_RETRY;
  }
  for (;;) {
    const char *v[] = {ex->run_id, st->key};
    PGresult *r = dsr_db_exec(ex->db, DSR_STMT_EX_STEP_GET, 2, v);
    if (!dsr_db_ok(r) || PQntuples(r) != 1) {
      PQclear(r);
      snprintf(err, errlen, "%s: cannot read the step's progress", st->key);
      return DSR_EXEC_RETRY;
    }
    char cursor[512], xid[32];
    bool has_cursor = !PQgetisnull(r, 0, 0), done = PQgetvalue(r, 0, 1)[0] == 't';
    bool pending = !PQgetisnull(r, 0, 2);
    long long rows = atoll(PQgetvalue(r, 0, 3));
    dsr_strlcpy(cursor, has_cursor ? PQgetvalue(r, 0, 0) : "", sizeof cursor);
    dsr_strlcpy(xid, pending ? PQgetvalue(r, 0, 2) : "", sizeof xid);
    PQclear(r);
    if (pending) {
      enum dsr_exec_result res = resolve(ex, st->key, xid, err, errlen);
      if (res != DSR_EXEC_OK)
        return res;
      continue;
    }
    if (done || st->verb == DSR_STEP_RETAIN)
      return DSR_EXEC_OK;
    bool again = false;
    enum dsr_exec_result res =
        pages_from(ex, st, has_cursor ? cursor : NULL, rows, &again, err, errlen);
    if (!again)
      return res;
  }
}

enum dsr_exec_result dsr_exec_resolve_all(struct dsr_exec *ex, char *err, size_t errlen)
{
  const char *v[] = {ex->run_id};
  PGresult *r = dsr_db_exec(ex->db, DSR_STMT_EX_RUN_PENDING, 1, v);
  if (!dsr_db_ok(r)) {
    PQclear(r);
    snprintf(err, errlen, "cannot read the run's batches in flight");
    return DSR_EXEC_RETRY;
  }
  enum dsr_exec_result res = DSR_EXEC_OK;
  for (int i = 0; i < PQntuples(r) && res == DSR_EXEC_OK; i++)
    res = resolve(ex, PQgetvalue(r, i, 0), PQgetvalue(r, i, 1), err, errlen);
  PQclear(r);
  return res;
}

/** @file queue.c @brief The PostgreSQL job queue (see queue.h). */
#include "config.h"
#include "dsr/queue.h"
#include "dsr/events.h"
#include "dsr/log.h"

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool dsr_queue_enqueue(struct dsr_db *db, const char *kind, const json_t *payload,
                       const struct dsr_job_opts *opts, time_t now, bool *enqueued, bool *retry)
{
  static const struct dsr_job_opts none = {0};
  if (!opts)
    opts = &none;
  *enqueued = false;
  *retry = false;
  char *text = payload ? json_dumps(payload, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
  char run_at[24], nows[24], attempts[16];
  snprintf(run_at, sizeof run_at, "%lld", (long long)(opts->run_at ? opts->run_at : now));
  snprintf(nows, sizeof nows, "%lld", (long long)now);
  snprintf(attempts, sizeof attempts, "%d",
           opts->max_attempts > 0 ? opts->max_attempts : DSR_QUEUE_DEFAULT_MAX_ATTEMPTS);
  bool ok = false;
  PGresult *r = NULL;
  if (payload && !text)
    goto cleanup;
  const char *v[] = {kind, text ? text : "{}", run_at, attempts, opts->dedupe_key, nows};
  r = dsr_db_exec(db, DSR_STMT_JOB_ENQUEUE, 6, v);
  if (!dsr_db_ok(r)) {
    *retry = dsr_db_is_retryable(r);
    goto cleanup;
  }
  *enqueued = PQntuples(r) == 1;
  PQclear(r);
  r = NULL;
  if (*enqueued) {
    const char *nv[] = {kind};
    r = dsr_db_exec(db, DSR_STMT_JOB_NOTIFY, 1, nv);
    if (!dsr_db_ok(r)) {
      *retry = dsr_db_is_retryable(r);
      goto cleanup;
    }
  }
  ok = true;
cleanup:
  PQclear(r);
  free(text);
  return ok;
}

void dsr_queue_jobs_free(struct dsr_job *jobs, size_t n)
{
  if (!jobs)
    return;
  for (size_t i = 0; i < n; i++)
    json_decref(jobs[i].payload);
  free(jobs);
}

/**
 * Postgres array literals of the registry's kinds, {"a","b"}, and of their
 * leases in seconds, {30,60}, in the same order. Caller frees both.
 */
static bool kinds_array(const struct dsr_job_kind *registry, char **kinds, char **leases)
{
  struct dsr_buf b = {0}, l = {0};
  bool ok = dsr_buf_puts(&b, "{") && dsr_buf_puts(&l, "{");
  for (const struct dsr_job_kind *k = registry; ok && k->kind; k++) {
    /* Kinds are compile-time identifiers; quoting keeps the literal well-formed anyway. */
    ok = dsr_buf_printf(&b, "%s\"%s\"", k == registry ? "" : ",", k->kind) &&
         dsr_buf_printf(&l, "%s%d", k == registry ? "" : ",", k->lease_s > 0 ? k->lease_s : 1);
  }
  ok = ok && dsr_buf_puts(&b, "}") && dsr_buf_puts(&l, "}");
  if (!ok) {
    dsr_buf_free(&b);
    dsr_buf_free(&l);
    return false;
  }
  *kinds = dsr_buf_steal(&b);
  *leases = dsr_buf_steal(&l);
  return true;
}

bool dsr_queue_claim(struct dsr_db *db, const struct dsr_job_kind *registry, const char *owner,
                     time_t now, int max, struct dsr_job **jobs, size_t *n)
{
  return dsr_queue_claim_from(db, registry, owner, now, max, NULL, jobs, n);
}

bool dsr_queue_claim_from(struct dsr_db *db, const struct dsr_job_kind *registry,
                          const char *owner, time_t now, int max, struct dsr_queue_pos *pos,
                          struct dsr_job **jobs, size_t *n)
{
  *jobs = NULL;
  *n = 0;
  char *kinds = NULL, *leases = NULL;
  bool have_kinds = kinds_array(registry, &kinds, &leases);
  char nows[24], maxs[16];
  snprintf(nows, sizeof nows, "%lld", (long long)now);
  snprintf(maxs, sizeof maxs, "%d", max > 0 ? max : 1);
  bool ok = false;
  PGresult *r = NULL;
  struct dsr_job *out = NULL;
  if (!have_kinds)
    goto cleanup;
  /*
   * Reaping settles jobs that are past help (lease gone, no attempts left; the
   * claim skips them anyway), so once per second of the caller's clock and
   * thread is enough: a busy worker saves a round trip per batch.
   */
  static _Thread_local time_t last_reap = (time_t)-1;
  if (now != last_reap) {
    const char *rv[] = {nows};
    r = dsr_db_exec(db, DSR_STMT_JOB_REAP, 1, rv);
    if (!dsr_db_ok(r))
      goto cleanup;
    PQclear(r);
    last_reap = now;
  }
  /* From the worker's position while its claims come back full, from the front otherwise
   * and once per second (queue.h, struct dsr_queue_pos). */
  char after_us[24], after_id[24];
  bool from_pos = pos && pos->set && pos->fresh_at == now;
  snprintf(after_us, sizeof after_us, "%" PRId64, from_pos ? pos->run_at_us : 0);
  snprintf(after_id, sizeof after_id, "%" PRId64, from_pos ? pos->id : 0);
  if (pos && !from_pos)
    pos->fresh_at = now;
  const char *v[] = {owner, nows, leases, maxs, kinds, from_pos ? after_us : NULL,
                     from_pos ? after_id : NULL};
  r = dsr_db_exec(db, DSR_STMT_JOB_CLAIM, 7, v);
  if (!dsr_db_ok(r))
    goto cleanup;
  int rows = PQntuples(r);
  if (pos) {
    bool full = rows >= (max > 0 ? max : 1);
    pos->set = false;
    for (int i = 0; full && i < rows; i++) {
      if (strcmp(PQgetvalue(r, i, 5), "t") != 0)
        continue; /* a lease taken over: not from the queued ones */
      int64_t us = strtoll(PQgetvalue(r, i, 6), NULL, 10);
      int64_t id = strtoll(PQgetvalue(r, i, 0), NULL, 10);
      if (!pos->set || us > pos->run_at_us || (us == pos->run_at_us && id > pos->id)) {
        pos->set = true;
        pos->run_at_us = us;
        pos->id = id;
      }
    }
  }
  if (rows > 0) {
    out = calloc((size_t)rows, sizeof *out);
    if (!out)
      goto cleanup;
  }
  for (int i = 0; i < rows; i++) {
    out[i].id = strtoll(PQgetvalue(r, i, 0), NULL, 10);
    dsr_strlcpy(out[i].kind, PQgetvalue(r, i, 1), sizeof out[i].kind);
    out[i].payload = json_loads(PQgetvalue(r, i, 2), 0, NULL);
    out[i].attempts = atoi(PQgetvalue(r, i, 3));
    out[i].max_attempts = atoi(PQgetvalue(r, i, 4));
    if (!out[i].payload)
      out[i].payload = json_object();
  }
  *jobs = out;
  *n = (size_t)rows;
  out = NULL;
  ok = true;
cleanup:
  dsr_queue_jobs_free(out, 0);
  PQclear(r);
  free(kinds);
  free(leases);
  return ok;
}

bool dsr_queue_heartbeat(struct dsr_db *db, const struct dsr_job_kind *registry,
                         const char *const *owners, size_t n, time_t now, long *renewed)
{
  *renewed = 0;
  char *kinds = NULL, *leases = NULL;
  struct dsr_buf o = {0};
  PGresult *r = NULL;
  bool ok = false;
  if (!kinds_array(registry, &kinds, &leases) || !dsr_buf_puts(&o, "{"))
    goto cleanup;
  for (size_t i = 0; i < n; i++) {
    /* Owners are "host:pid:index"; quoted and escaped all the same. */
    if (!dsr_buf_puts(&o, i ? ",\"" : "\""))
      goto cleanup;
    for (const char *p = owners[i]; *p; p++)
      if ((*p == '"' || *p == '\\') ? !dsr_buf_printf(&o, "\\%c", *p)
                                     : !dsr_buf_printf(&o, "%c", *p))
        goto cleanup;
    if (!dsr_buf_puts(&o, "\""))
      goto cleanup;
  }
  if (!dsr_buf_puts(&o, "}"))
    goto cleanup;
  char nows[24];
  snprintf(nows, sizeof nows, "%lld", (long long)now);
  const char *v[] = {o.data, nows, kinds, leases};
  r = dsr_db_exec(db, DSR_STMT_JOB_HEARTBEAT, 4, v);
  if (!dsr_db_ok(r))
    goto cleanup;
  *renewed = atol(PQcmdTuples(r));
  ok = true;
cleanup:
  PQclear(r);
  dsr_buf_free(&o);
  free(kinds);
  free(leases);
  return ok;
}

bool dsr_queue_done(struct dsr_db *db, const struct dsr_job *job, const char *owner)
{
  char id[24];
  snprintf(id, sizeof id, "%" PRId64, job->id);
  const char *v[] = {id, owner};
  PGresult *r = dsr_db_exec(db, DSR_STMT_JOB_DONE, 2, v);
  bool ok = dsr_db_ok(r) && atoi(PQcmdTuples(r)) == 1;
  PQclear(r);
  return ok;
}

long dsr_queue_backoff(int attempts, uint32_t rnd)
{
  if (attempts < 1)
    attempts = 1;
  long full = DSR_QUEUE_BACKOFF_CAP_S;
  if (attempts <= 20) {
    long b = (long)DSR_QUEUE_BACKOFF_BASE_S << (attempts - 1);
    if (b < full)
      full = b;
  }
  /* "Equal jitter": half fixed, half random, so colliding jobs spread out. */
  long half = full / 2;
  return half + (long)(rnd % (uint32_t)(full - half + 1));
}

bool dsr_queue_failed(struct dsr_db *db, const struct dsr_job *job, const char *owner,
                      const char *error, bool permanent, time_t now, bool *dead)
{
  *dead = false;
  char id[24], run_at[24], nows[24];
  snprintf(id, sizeof id, "%" PRId64, job->id);
  snprintf(run_at, sizeof run_at, "%lld",
           (long long)(now + dsr_queue_backoff(job->attempts, randombytes_random())));
  snprintf(nows, sizeof nows, "%lld", (long long)now);
  const char *v[] = {id, owner, run_at, error && *error ? error : "failed",
                     permanent ? "true" : "false", nows};
  PGresult *r = dsr_db_exec(db, DSR_STMT_JOB_RETRY, 6, v);
  bool ok = dsr_db_ok(r) && PQntuples(r) == 1;
  if (ok)
    *dead = !strcmp(PQgetvalue(r, 0, 0), "dead");
  PQclear(r);
  return ok;
}

static const struct dsr_job_kind *kind_of(const struct dsr_job_kind *registry, const char *kind)
{
  for (const struct dsr_job_kind *k = registry; k->kind; k++)
    if (!strcmp(k->kind, kind))
      return k;
  return NULL;
}

/*
 * Writes the ids of jobs @p from .. @p n - 1 (only those marked in @p pick, when
 * given) into @p b as an array literal; how many, or -1 when out of memory.
 */
static long job_ids(struct dsr_buf *b, const struct dsr_job *jobs, size_t from, size_t n,
                    const bool *pick)
{
  long k = 0;
  bool ok = dsr_buf_puts(b, "{");
  for (size_t i = from; ok && i < n; i++)
    if (!pick || pick[i])
      ok = dsr_buf_printf(b, "%s%" PRId64, k++ ? "," : "", jobs[i].id);
  return ok && dsr_buf_puts(b, "}") ? k : -1;
}

/**
 * Completes (deletes) the jobs of @p jobs marked in @p done with one statement,
 * so a batch costs one commit, not one per job. Jobs whose lease @p owner lost
 * meanwhile are left alone and logged.
 */
static void complete_done(struct dsr_db *db, const struct dsr_job *jobs, const bool *done,
                          size_t n, const char *owner)
{
  struct dsr_buf ids = {0};
  long want = job_ids(&ids, jobs, 0, n, done);
  if (want <= 0) {
    if (want < 0)
      DSR_WARN("job.complete_failed", "jobs=%zu error=\"out of memory\"", n);
    dsr_buf_free(&ids);
    return;
  }
  const char *v[] = {ids.data, owner};
  PGresult *r = dsr_db_exec(db, DSR_STMT_JOB_DONE_MANY, 2, v);
  if (!dsr_db_ok(r)) {
    /* Not completed: the jobs run again when their lease runs out (handlers are idempotent). */
    DSR_WARN("job.complete_failed", "jobs=%ld sqlstate=%s", want, dsr_db_sqlstate(r));
  } else {
    int rows = PQntuples(r);
    for (size_t i = 0; i < n; i++) {
      if (!done[i])
        continue;
      bool found = false;
      for (int k = 0; k < rows && !found; k++)
        found = strtoll(PQgetvalue(r, k, 0), NULL, 10) == jobs[i].id;
      if (found)
        DSR_DEBUG("job.done", "job=%" PRId64 " kind=%s attempt=%d", jobs[i].id, jobs[i].kind,
                  jobs[i].attempts);
      else
        DSR_WARN("job.lease_lost", "job=%" PRId64 " kind=%s", jobs[i].id, jobs[i].kind);
    }
  }
  PQclear(r);
  dsr_buf_free(&ids);
}

/*
 * Gives back the jobs of a batch marked in @p pick unrun, so that a long job
 * early in a big batch does not keep the rest from idle workers. Not released
 * (a failure, a lost lease): they run when their lease runs out, as after a
 * crash.
 */
static void release_unrun(struct dsr_db *db, const struct dsr_job *jobs, const bool *pick,
                          size_t n, const char *owner, time_t now)
{
  struct dsr_buf ids = {0};
  char when[24];
  snprintf(when, sizeof when, "%lld", (long long)now);
  long k = job_ids(&ids, jobs, 0, n, pick);
  bool ok = k >= 0;
  PGresult *r = NULL;
  if (ok && k > 0) {
    const char *v[] = {ids.data, owner, when};
    r = dsr_db_exec(db, DSR_STMT_JOB_RELEASE, 3, v);
    ok = dsr_db_ok(r);
  }
  if (!ok)
    DSR_WARN("job.release_failed", "jobs=%ld", k);
  else if (k > 0)
    DSR_DEBUG("job.released", "jobs=%ld", k);
  PQclear(r);
  dsr_buf_free(&ids);
}

/* Records what a handler reported for @p job: done later with the batch (*done), or failed now. */
static void settle(struct dsr_db *db, const struct dsr_job *job, enum dsr_job_result res,
                   const char *err, const char *owner, time_t now, bool *done)
{
  if (res == DSR_JOB_DONE) {
    if (done)
      *done = true; /* completed with the rest of the batch */
    else if (!dsr_queue_done(db, job, owner))
      DSR_WARN("job.lease_lost", "job=%" PRId64 " kind=%s", job->id, job->kind);
    return;
  }
  bool dead = false;
  if (!dsr_queue_failed(db, job, owner, err, res == DSR_JOB_FAIL, now, &dead))
    DSR_WARN("job.lease_lost", "job=%" PRId64 " kind=%s", job->id, job->kind);
  else
    dsr_log(dead ? DSR_LOG_ERROR : DSR_LOG_WARN, dead ? "job.dead" : "job.retry",
            "job=%" PRId64 " kind=%s attempt=%d error=\"%s\"", job->id, job->kind,
            job->attempts, err);
}

/*
 * Runs the jobs of kind @p k of the batch, from @p first on, that are not
 * handled yet, through its batch handler; marks those it ran handled. The
 * others stay unhandled and go back unrun with the rest of the batch.
 */
static void run_kind_batch(struct dsr_db *db, const struct dsr_job_kind *k, struct dsr_job *jobs,
                           size_t first, size_t n, bool *handled, bool *done, const char *owner,
                           time_t now, double deadline, void *ctx)
{
  const struct dsr_job **pick = calloc(n - first, sizeof *pick);
  size_t *at = calloc(n - first, sizeof *at);
  enum dsr_job_result *res = calloc(n - first, sizeof *res);
  size_t m = 0;
  for (size_t i = first; pick && at && res && i < n; i++)
    if (!handled[i] && !strcmp(jobs[i].kind, k->kind)) {
      at[m] = i;
      pick[m++] = &jobs[i];
    }
  char err[256] = "";
  size_t ran = m ? k->batch(db, pick, m, ctx, deadline, res, err, sizeof err) : 0;
  for (size_t t = 0; t < ran && t < m; t++) {
    handled[at[t]] = true;
    settle(db, &jobs[at[t]], res[t], err, owner, now, done ? &done[at[t]] : NULL);
  }
  free(pick);
  free(at);
  free(res);
}

int dsr_queue_run_batch(struct dsr_db *db, const struct dsr_job_kind *registry,
                        const char *owner, time_t now, int max, void *ctx)
{
  return dsr_queue_run_batch_from(db, registry, owner, now, max, ctx, NULL);
}

int dsr_queue_run_batch_from(struct dsr_db *db, const struct dsr_job_kind *registry,
                             const char *owner, time_t now, int max, void *ctx,
                             struct dsr_queue_pos *pos)
{
  struct dsr_job *jobs = NULL;
  size_t n = 0;
  if (!dsr_queue_claim_from(db, registry, owner, now, max, pos, &jobs, &n))
    return -1;
  bool *done = n ? calloc(n, sizeof *done) : NULL;
  bool *handled = n ? calloc(n, sizeof *handled) : NULL;
  double started = dsr_mono_ms();
  for (size_t i = 0; i < n; i++) {
    if (handled && handled[i])
      continue;
    if (i > 0 && dsr_mono_ms() - started > DSR_QUEUE_BATCH_BUDGET_MS)
      break;
    const struct dsr_job_kind *k = kind_of(registry, jobs[i].kind);
    if (k && k->batch && handled) {
      run_kind_batch(db, k, jobs, i, n, handled, done, owner, now,
                     started + DSR_QUEUE_BATCH_BUDGET_MS, ctx);
      if (handled[i])
        continue;
      break; /* out of memory: the rest of the batch goes back */
    }
    char err[256] = "";
    enum dsr_job_result res =
        k ? k->handler(db, &jobs[i], ctx, err, sizeof err) : DSR_JOB_FAIL;
    if (!k)
      snprintf(err, sizeof err, "no handler for kind %.60s", jobs[i].kind);
    if (handled)
      handled[i] = true;
    settle(db, &jobs[i], res, err, owner, now, done ? &done[i] : NULL);
  }
  if (handled) {
    for (size_t i = 0; i < n; i++)
      handled[i] = !handled[i]; /* from here on: the jobs not run, given back */
    release_unrun(db, jobs, handled, n, owner, now);
  }
  free(handled);
  if (done)
    complete_done(db, jobs, done, n, owner);
  free(done);
  dsr_queue_jobs_free(jobs, n);
  return (int)n;
}

long dsr_queue_next_due(struct dsr_db *db, time_t now)
{
  PGresult *r = dsr_db_exec(db, DSR_STMT_JOB_NEXT_RUN, 0, NULL);
  long out = -1;
  if (dsr_db_ok(r) && PQntuples(r) == 1 && !PQgetisnull(r, 0, 0)) {
    long long t = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
    out = t <= (long long)now ? 0 : (long)(t - (long long)now);
  }
  PQclear(r);
  return out;
}

struct requeue_ctx {
  const char *ids, *kind, *actor, *now;
  bool single;
  long n;
};

static enum dsr_tx_status requeue_body(struct dsr_db *db, void *arg)
{
  struct requeue_ctx *c = arg;
  const char *v[] = {c->ids, c->kind, c->now};
  PGresult *r = dsr_db_exec(db, DSR_STMT_JOB_REQUEUE_DEAD, 3, v);
  json_t *kinds = json_object();
  enum dsr_tx_status st = DSR_TX_ROLLBACK;
  c->n = 0;
  if (!dsr_db_ok(r)) {
    st = dsr_db_is_retryable(r) ? DSR_TX_RETRY : DSR_TX_ROLLBACK;
    goto cleanup;
  }
  c->n = PQntuples(r);
  if (c->n == 0 || !kinds) {
    st = kinds ? DSR_TX_COMMIT : DSR_TX_ROLLBACK;
    goto cleanup;
  }
  for (int i = 0; i < PQntuples(r); i++) {
    const char *k = PQgetvalue(r, i, 1);
    json_int_t before = json_integer_value(json_object_get(kinds, k));
    json_object_set_new(kinds, k, json_integer(before + 1));
  }
  const char *k;
  json_t *count;
  json_object_foreach(kinds, k, count) {
    PGresult *nr = dsr_db_exec(db, DSR_STMT_JOB_NOTIFY, 1, (const char *const[]){k});
    bool ok = dsr_db_ok(nr);
    bool retry = !ok && dsr_db_is_retryable(nr);
    PQclear(nr);
    if (!ok) {
      st = retry ? DSR_TX_RETRY : DSR_TX_ROLLBACK;
      goto cleanup;
    }
  }
  json_t *data = json_pack("{s:I, s:O}", "count", (json_int_t)c->n, "kinds", kinds);
  if (data && c->single)
    json_object_set_new(data, "job_id", json_integer(strtoll(c->ids, NULL, 10)));
  bool retry = false;
  bool ok = data && dsr_event_record(db, NULL, "jobs.requeued", c->actor, data, &retry);
  json_decref(data);
  st = ok ? DSR_TX_COMMIT : retry ? DSR_TX_RETRY : DSR_TX_ROLLBACK;
cleanup:
  json_decref(kinds);
  PQclear(r);
  return st;
}

bool dsr_queue_requeue_dead(struct dsr_db *db, int64_t id, const char *kind, const char *actor,
                            time_t now, long *n)
{
  char ids[24], nows[24];
  snprintf(ids, sizeof ids, "%" PRId64, id > 0 ? id : 0);
  snprintf(nows, sizeof nows, "%lld", (long long)now);
  struct requeue_ctx c = {.ids = ids, .kind = kind, .actor = actor, .now = nows,
                          .single = id > 0};
  bool ok = dsr_db_tx(db, "READ COMMITTED", requeue_body, &c);
  *n = ok ? c.n : 0;
  return ok;
}

bool dsr_queue_listen(struct dsr_db *db)
{
  PGresult *r = PQexec(db->conn, "LISTEN dsr_jobs");
  bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
  PQclear(r);
  return ok;
}

/* Drains pending notifications; true if there was one. */
static bool drain(PGconn *c)
{
  bool any = false;
  PGnotify *n;
  PQconsumeInput(c);
  while ((n = PQnotifies(c)) != NULL) {
    any = true;
    PQfreemem(n);
  }
  return any;
}

bool dsr_queue_wait(struct dsr_db *db, int wake_fd, int timeout_ms)
{
  if (drain(db->conn))
    return true;
  struct pollfd p[2] = {{.fd = PQsocket(db->conn), .events = POLLIN},
                        {.fd = wake_fd, .events = POLLIN}};
  int rc = poll(p, wake_fd >= 0 ? 2 : 1, timeout_ms);
  if (rc <= 0)
    return false;
  if (wake_fd >= 0 && (p[1].revents & POLLIN))
    return true;
  return drain(db->conn) || (p[0].revents & (POLLHUP | POLLERR));
}

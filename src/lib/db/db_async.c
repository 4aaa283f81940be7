/** @file db_async.c @brief See db_async.h. */
#include "config.h"
#include "dsr/db_async.h"
#include "dsr/log.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

/** A statement handed over; owns copies of its parameters. */
struct item {
  enum dsr_stmt st;
  int n;
  char *params[DSR_DBQ_MAX_PARAMS];
  dsr_dbq_done done;
  void *arg;
  struct item *next;
};

/** One of the runner's connections and the batch it runs, if any. */
struct qconn {
  struct dsr_db *db;         /* a dsr_db_wrap()ped connection (its own prepared flags), or NULL */
  struct item *head, *tail;  /* the batch's statements still without a result, in order */
  PGresult *res;             /* head's result, kept until libpq says it is complete */
  bool syncing;              /* the batch's Sync is not answered yet */
  bool flushing;             /* libpq holds output the socket has not taken yet */
};

struct dsr_dbq {
  struct dsr_db_pool *pool; /* whose database, and connects logged as its own */
  unsigned int nconns;
  struct qconn *conns;
  int wake; /* eventfd: something was handed over while a connection was free, or stop */
  pthread_t thread;
  pthread_mutex_t lock;
  struct item *head, *tail; /* waiting for a free connection; under lock */
  bool stopping;            /* under lock */
  bool joined;              /* dsr_dbq_stop() has run; under lock */
  bool asleep;              /* the runner waits in poll() with a free connection; under lock */
};

static void item_free(struct item *it)
{
  for (int i = 0; i < it->n; i++)
    free(it->params[i]);
  free(it);
}

/* Calls @p it back with @p res (handed over) and frees it. */
static void finish(struct item *it, PGresult *res)
{
  it->done(res, it->arg);
  item_free(it);
}

/* Calls back every statement of @p list with NULL. */
static void finish_all(struct item *list)
{
  while (list) {
    struct item *next = list->next;
    finish(list, NULL);
    list = next;
  }
}

static bool conn_busy(const struct qconn *c)
{
  return c->head || c->syncing;
}

/* Closes @p c's connection; its batch's statements that have no result are called back with
 * NULL. */
static void conn_fail(struct qconn *c)
{
  PQclear(c->res);
  c->res = NULL;
  struct item *left = c->head;
  c->head = c->tail = NULL;
  c->syncing = c->flushing = false;
  if (c->db) {
    PQfinish(c->db->conn);
    dsr_db_unwrap(c->db);
    c->db = NULL;
  }
  finish_all(left);
}

/*
 * Makes @p c ready for @p batch: connected, every statement of it prepared
 * (libpq prepares only outside pipeline mode, so the connection leaves it for
 * that, once per statement), in pipeline and non-blocking mode.
 */
static bool conn_ready(struct dsr_dbq *q, struct qconn *c, const struct item *batch)
{
  if (c->db && PQstatus(c->db->conn) != CONNECTION_OK)
    conn_fail(c);
  if (!c->db) {
    PGconn *pc = dsr_db_pool_connect(q->pool);
    c->db = pc ? dsr_db_wrap(pc) : NULL;
    if (pc && !c->db)
      PQfinish(pc);
    if (!c->db)
      return false;
  }
  PGconn *pc = c->db->conn;
  for (const struct item *it = batch; it; it = it->next) {
    if (dsr_db_is_prepared(c->db, it->st))
      continue;
    if (PQpipelineStatus(pc) != PQ_PIPELINE_OFF && !PQexitPipelineMode(pc))
      return false;
    if (PQsetnonblocking(pc, 0) != 0 || !dsr_db_prepared(c->db, it->st))
      return false;
  }
  if (PQpipelineStatus(pc) == PQ_PIPELINE_OFF &&
      (PQsetnonblocking(pc, 1) != 0 || !PQenterPipelineMode(pc)))
    return false;
  return true;
}

/* Sends @p batch on @p c as one pipeline ending in one Sync; on failure its statements are
 * called back with NULL. */
static void conn_send(struct dsr_dbq *q, struct qconn *c, struct item *batch)
{
  if (!conn_ready(q, c, batch)) {
    if (c->db)
      DSR_WARN("db.async_failed", "error=\"%.200s\"", PQerrorMessage(c->db->conn));
    conn_fail(c);
    finish_all(batch);
    return;
  }
  PGconn *pc = c->db->conn;
  c->head = batch;
  for (struct item *it = batch; it; it = it->next) {
    c->tail = it;
    if (!PQsendQueryPrepared(pc, dsr_stmt_name(it->st), it->n, (const char *const *)it->params,
                             NULL, NULL, 0))
      goto fail;
  }
  if (!PQpipelineSync(pc))
    goto fail;
  c->syncing = true;
  int f = PQflush(pc);
  if (f < 0)
    goto fail;
  c->flushing = f > 0;
  return;
fail:
  DSR_WARN("db.async_failed", "error=\"%.200s\"", PQerrorMessage(pc));
  conn_fail(c);
}

/* Reads what @p c's server sent and calls back each statement whose result is complete. */
static void conn_read(struct qconn *c)
{
  PGconn *pc = c->db->conn;
  if (!PQconsumeInput(pc)) {
    DSR_WARN("db.async_failed", "error=\"%.200s\"", PQerrorMessage(pc));
    conn_fail(c);
    return;
  }
  while (conn_busy(c) && !PQisBusy(pc)) {
    PGresult *r = PQgetResult(pc);
    if (!r) {
      if (!c->res)
        break; /* nothing more to read for now */
      /* the head's result is complete */
      struct item *it = c->head;
      c->head = it->next;
      if (!c->head)
        c->tail = NULL;
      PGresult *res = c->res;
      c->res = NULL;
      finish(it, res);
    } else if (PQresultStatus(r) == PGRES_PIPELINE_SYNC) {
      PQclear(r);
      c->syncing = false;
      /* every statement before the Sync has had its result: anything left never will */
      PQclear(c->res);
      c->res = NULL;
      struct item *left = c->head;
      c->head = c->tail = NULL;
      finish_all(left);
    } else if (!c->head || c->res) {
      PQclear(r); /* one result per statement: keep the first */
    } else {
      c->res = r;
    }
  }
  if (PQstatus(pc) != CONNECTION_OK)
    conn_fail(c);
  else if (!conn_busy(c) && !PQisBusy(pc))
    PQclear(PQgetResult(pc)); /* NULL: lets libpq settle into idle after the Sync */
}

/* Takes up to DSR_DBQ_BATCH waiting statements, oldest first, or NULL; under lock. */
static struct item *take(struct dsr_dbq *q)
{
  struct item *first = q->head, *last = NULL;
  unsigned int n = 0;
  for (struct item *it = q->head; it && n < DSR_DBQ_BATCH; it = it->next, n++)
    last = it;
  if (!last)
    return NULL;
  q->head = last->next;
  if (!q->head)
    q->tail = NULL;
  last->next = NULL;
  return first;
}

/* The runner's last act (stopping, or poll() failed): every statement handed over gets its call. */
static void drain(struct dsr_dbq *q)
{
  for (unsigned int i = 0; i < q->nconns; i++)
    conn_fail(&q->conns[i]);
  pthread_mutex_lock(&q->lock);
  q->stopping = true;
  struct item *left = q->head;
  q->head = q->tail = NULL;
  pthread_mutex_unlock(&q->lock);
  finish_all(left);
}

static void *run(void *arg)
{
  struct dsr_dbq *q = arg;
  struct pollfd *fds = calloc(q->nconns + 1, sizeof *fds);
  struct qconn **polled = calloc(q->nconns, sizeof *polled);
  for (;;) {
    /* each free connection takes what waits (a batch forms while the connections are busy) */
    unsigned int busy = 0;
    for (unsigned int i = 0; i < q->nconns; i++) {
      struct qconn *c = &q->conns[i];
      if (!conn_busy(c)) {
        pthread_mutex_lock(&q->lock);
        struct item *batch = take(q);
        pthread_mutex_unlock(&q->lock);
        if (batch)
          conn_send(q, c, batch);
      }
      busy += conn_busy(c);
    }
    pthread_mutex_lock(&q->lock);
    bool done = q->stopping && !q->head && busy == 0;
    bool more = q->head && busy < q->nconns;
    /* a submit need not wake us while every connection is busy: we look again when one is free */
    q->asleep = !done && !more && busy < q->nconns;
    pthread_mutex_unlock(&q->lock);
    if (done || !fds || !polled)
      break;
    if (more)
      continue;
    nfds_t n = 0;
    fds[n++] = (struct pollfd){.fd = q->wake, .events = POLLIN};
    for (unsigned int i = 0; i < q->nconns; i++) {
      struct qconn *c = &q->conns[i];
      if (!conn_busy(c))
        continue;
      polled[n - 1] = c;
      fds[n++] = (struct pollfd){.fd = PQsocket(c->db->conn),
                                 .events = (short)(POLLIN | (c->flushing ? POLLOUT : 0))};
    }
    if (poll(fds, n, -1) < 0 && errno != EINTR) {
      DSR_ERROR("db.async_poll_failed", "errno=%d", errno);
      break;
    }
    pthread_mutex_lock(&q->lock);
    q->asleep = false;
    pthread_mutex_unlock(&q->lock);
    if (fds[0].revents) {
      uint64_t v;
      ssize_t rd = read(q->wake, &v, sizeof v);
      (void)rd;
    }
    for (nfds_t i = 1; i < n; i++) {
      struct qconn *c = polled[i - 1];
      if (!fds[i].revents || !c->db)
        continue;
      if (c->flushing && (fds[i].revents & POLLOUT)) {
        int f = PQflush(c->db->conn);
        if (f < 0) {
          conn_fail(c);
          continue;
        }
        c->flushing = f > 0;
      }
      if (fds[i].revents & (POLLIN | POLLERR | POLLHUP))
        conn_read(c);
    }
  }
  drain(q);
  free(fds);
  free(polled);
  return NULL;
}

struct dsr_dbq *dsr_dbq_start(struct dsr_db_pool *pool, unsigned int nconns)
{
  struct dsr_dbq *q = calloc(1, sizeof *q);
  if (!q)
    return NULL;
  q->pool = pool;
  q->nconns = nconns ? nconns : 1;
  q->conns = calloc(q->nconns, sizeof *q->conns);
  q->wake = eventfd(0, EFD_CLOEXEC);
  if (!q->conns || q->wake < 0)
    goto fail;
  pthread_mutex_init(&q->lock, NULL);
  if (pthread_create(&q->thread, NULL, run, q) != 0) {
    pthread_mutex_destroy(&q->lock);
    goto fail;
  }
  return q;
fail:
  if (q->wake >= 0)
    close(q->wake);
  free(q->conns);
  free(q);
  return NULL;
}

static void wake(struct dsr_dbq *q)
{
  uint64_t one = 1;
  ssize_t w = write(q->wake, &one, sizeof one);
  (void)w;
}

void dsr_dbq_stop(struct dsr_dbq *q)
{
  if (!q)
    return;
  pthread_mutex_lock(&q->lock);
  bool joined = q->joined;
  q->stopping = true;
  q->joined = true;
  pthread_mutex_unlock(&q->lock);
  if (joined)
    return;
  wake(q);
  pthread_join(q->thread, NULL);
}

void dsr_dbq_free(struct dsr_dbq *q)
{
  if (!q)
    return;
  dsr_dbq_stop(q);
  pthread_mutex_destroy(&q->lock);
  close(q->wake);
  free(q->conns);
  free(q);
}

bool dsr_dbq_submit(struct dsr_dbq *q, enum dsr_stmt st, int n, const char *const *params,
                    dsr_dbq_done done, void *arg)
{
  if (n < 0 || n > DSR_DBQ_MAX_PARAMS)
    return false;
  struct item *it = calloc(1, sizeof *it);
  if (!it)
    return false;
  *it = (struct item){.st = st, .done = done, .arg = arg};
  for (; it->n < n; it->n++)
    if (params[it->n] && !(it->params[it->n] = strdup(params[it->n]))) {
      item_free(it);
      return false;
    }
  pthread_mutex_lock(&q->lock);
  bool ok = !q->stopping, asleep = q->asleep;
  if (ok) {
    if (q->tail)
      q->tail->next = it;
    else
      q->head = it;
    q->tail = it;
    q->asleep = false; /* one wake-up is enough for everything handed over until it runs */
  }
  pthread_mutex_unlock(&q->lock);
  if (!ok)
    item_free(it);
  else if (asleep)
    wake(q);
  return ok;
}

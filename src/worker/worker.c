/** @file worker.c @brief dsrd's worker threads (see worker.h). */
#include "config.h"
#include "worker.h"
#include "dsr/log.h"

#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

/* Jobs per claim: cheap jobs share commits; a long one gives the rest back (queue.h). */
#define BATCH 64
#define IDLE_MAX_MS 5000 /* a crashed peer's lease is noticed at the latest this late */

struct dsr_workers {
  char *conninfo;
  const struct dsr_worker_env *env;
  int wake_fd;
  atomic_bool stop;
  pthread_t *threads;
  int started;
  struct dsr_job_kind *registry; /* the timed registry with leases cut to job_lease_max */
  char **owners;                 /* lease owner name of each thread */
  int n;
  pthread_t heartbeat;
  bool heartbeat_started;
};

struct thread_arg {
  struct dsr_workers *w;
  int index;
};

/* Connects and LISTENs, retrying every second until it works or the workers stop. */
static struct dsr_db *connect_db(struct dsr_workers *w)
{
  char err[256];
  while (!atomic_load(&w->stop)) {
    PGconn *conn = dsr_db_connect(w->conninfo, err, sizeof err);
    struct dsr_db *db = conn ? dsr_db_wrap(conn) : NULL;
    if (db && dsr_queue_listen(db))
      return db;
    dsr_db_unwrap(db);
    if (conn)
      PQfinish(conn);
    DSR_WARN("worker.db_unavailable", "retry_ms=1000");
    struct pollfd p = {.fd = w->wake_fd, .events = POLLIN};
    (void)poll(&p, 1, 1000);
  }
  return NULL;
}

static void disconnect_db(struct dsr_db *db)
{
  if (!db)
    return;
  PGconn *conn = db->conn;
  dsr_db_unwrap(db);
  PQfinish(conn);
}

static void *run(void *arg)
{
  struct thread_arg *ta = arg;
  struct dsr_workers *w = ta->w;
  const char *owner = w->owners[ta->index];
  free(ta);
  struct dsr_db *db = connect_db(w);
  struct dsr_queue_pos pos = {0}; /* where this thread's last full claim ended */
  while (db && !atomic_load(&w->stop)) {
    int ran = dsr_queue_run_batch_from(db, w->registry, owner, dsr_now(), BATCH,
                                       (void *)w->env, &pos);
    if (ran < 0 && PQstatus(db->conn) != CONNECTION_OK) {
      disconnect_db(db);
      db = connect_db(w);
      continue;
    }
    if (ran == BATCH)
      continue;
    long due = dsr_queue_next_due(db, dsr_now());
    int timeout = IDLE_MAX_MS;
    if (due >= 0 && due * 1000 < IDLE_MAX_MS)
      timeout = due == 0 ? 1000 : (int)(due * 1000);
    (void)dsr_queue_wait(db, w->wake_fd, timeout);
  }
  disconnect_db(db);
  return NULL;
}

/*
 * The heartbeat: every third of the shortest lease, renews the leases of the
 * jobs this process's workers hold, so a long job keeps its lease while its
 * worker lives, and a dead worker's jobs are free one lease after it died.
 */
static void *beat(void *arg)
{
  struct dsr_workers *w = arg;
  int shortest = 3600;
  for (const struct dsr_job_kind *k = w->registry; k->kind; k++)
    if (k->lease_s < shortest)
      shortest = k->lease_s;
  int period_ms = shortest * 1000 / 3;
  if (period_ms < 500)
    period_ms = 500;
  struct dsr_db *db = connect_db(w);
  while (db && !atomic_load(&w->stop)) {
    long renewed = 0;
    if (!dsr_queue_heartbeat(db, w->registry, (const char *const *)w->owners, (size_t)w->n,
                             dsr_now(), &renewed)) {
      DSR_WARN("worker.heartbeat_failed", "retry_ms=%d", period_ms);
      if (PQstatus(db->conn) != CONNECTION_OK) {
        disconnect_db(db);
        db = connect_db(w);
        continue;
      }
    } else if (renewed > 0) {
      DSR_DEBUG("worker.heartbeat", "jobs=%ld", renewed);
    }
    struct pollfd p = {.fd = w->wake_fd, .events = POLLIN};
    (void)poll(&p, 1, period_ms);
  }
  disconnect_db(db);
  return NULL;
}

struct dsr_workers *dsr_workers_start(const char *conninfo, int n,
                                      const struct dsr_worker_env *env, char *err,
                                      size_t errlen)
{
  struct dsr_workers *w = calloc(1, sizeof *w);
  if (!w) {
    snprintf(err, errlen, "out of memory");
    return NULL;
  }
  w->env = env;
  w->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  w->conninfo = strdup(conninfo);
  w->threads = calloc((size_t)(n > 0 ? n : 1), sizeof *w->threads);
  w->owners = calloc((size_t)(n > 0 ? n : 1), sizeof *w->owners);
  /* the registry with every run timed for /metrics (job_timing.c), leases cut below */
  const struct dsr_job_kind *reg = dsr_job_registry_timed();
  size_t kinds = 0;
  while (reg[kinds].kind)
    kinds++;
  w->registry = calloc(kinds + 1, sizeof *w->registry);
  atomic_init(&w->stop, false);
  bool ok = w->wake_fd >= 0 && w->conninfo && w->threads && w->owners && w->registry;
  long cap = env && env->cfg && env->cfg->job_lease_max > 0 ? env->cfg->job_lease_max : 3600;
  for (size_t i = 0; ok && i < kinds; i++) {
    w->registry[i] = reg[i];
    if (w->registry[i].lease_s > cap)
      w->registry[i].lease_s = (int)cap;
  }
  char host[64] = "host";
  gethostname(host, sizeof host - 1);
  for (int i = 0; ok && i < n; i++) {
    w->owners[i] = dsr_asprintf("%.40s:%ld:%d", host, (long)getpid(), i);
    ok = w->owners[i] != NULL;
    w->n = i + 1;
  }
  if (!ok) {
    snprintf(err, errlen, "cannot set up worker threads");
    dsr_workers_stop(w);
    return NULL;
  }
  for (int i = 0; i < n; i++) {
    struct thread_arg *ta = malloc(sizeof *ta);
    if (ta)
      *ta = (struct thread_arg){w, i};
    if (!ta || pthread_create(&w->threads[i], NULL, run, ta) != 0) {
      free(ta);
      snprintf(err, errlen, "cannot start worker thread %d", i);
      dsr_workers_stop(w);
      return NULL;
    }
    w->started++;
  }
  if (n > 0) {
    if (pthread_create(&w->heartbeat, NULL, beat, w) != 0) {
      snprintf(err, errlen, "cannot start the heartbeat thread");
      dsr_workers_stop(w);
      return NULL;
    }
    w->heartbeat_started = true;
  }
  DSR_INFO("worker.started", "threads=%d lease_max=%ld", n, cap);
  return w;
}

void dsr_workers_stop(struct dsr_workers *w)
{
  if (!w)
    return;
  atomic_store(&w->stop, true);
  if (w->wake_fd >= 0) {
    uint64_t one = 1;
    /* A semaphore-less eventfd stays readable once written: every thread sees it. */
    if (write(w->wake_fd, &one, sizeof one) < 0)
      DSR_WARN("worker.wake_failed", NULL);
  }
  for (int i = 0; i < w->started; i++)
    pthread_join(w->threads[i], NULL);
  if (w->heartbeat_started)
    pthread_join(w->heartbeat, NULL);
  for (int i = 0; w->owners && i < w->n; i++)
    free(w->owners[i]);
  free(w->owners);
  free(w->registry);
  if (w->wake_fd >= 0)
    close(w->wake_fd);
  free(w->threads);
  free(w->conninfo);
  free(w);
}

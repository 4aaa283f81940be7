/** @file audit_sealer.c @brief dsrd's background sealer thread (see audit.h). */
#include "config.h"
#include "dsr/audit.h"
#include "dsr/log.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

struct dsr_audit_sealer {
  struct dsr_db_pool *pool;
  long interval_ms;
  pthread_t thread;
  pthread_mutex_t lock;
  pthread_cond_t wake;
  bool stopping;
};

static void seal_once(struct dsr_audit_sealer *s)
{
  struct dsr_db *db = dsr_db_acquire(s->pool);
  if (!db)
    return;
  long long n = 0;
  if (!dsr_audit_seal_all(db, &n))
    DSR_WARN("audit.seal_failed", "msg=\"will retry\"");
  dsr_db_release(db);
}

static void *run(void *arg)
{
  struct dsr_audit_sealer *s = arg;
  pthread_mutex_lock(&s->lock);
  while (!s->stopping) {
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += s->interval_ms / 1000;
    until.tv_nsec += (s->interval_ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
      until.tv_sec++;
      until.tv_nsec -= 1000000000L;
    }
    int rc = 0;
    while (!s->stopping && rc != ETIMEDOUT)
      rc = pthread_cond_timedwait(&s->wake, &s->lock, &until);
    pthread_mutex_unlock(&s->lock);
    seal_once(s); /* also once more on the way out, so a clean stop leaves nothing unsealed */
    pthread_mutex_lock(&s->lock);
  }
  pthread_mutex_unlock(&s->lock);
  return NULL;
}

struct dsr_audit_sealer *dsr_audit_sealer_start(struct dsr_db_pool *pool, long interval_ms)
{
  struct dsr_audit_sealer *s = calloc(1, sizeof *s);
  if (!s)
    return NULL;
  s->pool = pool;
  s->interval_ms = interval_ms > 0 ? interval_ms : 1000;
  pthread_mutex_init(&s->lock, NULL);
  pthread_cond_init(&s->wake, NULL);
  if (pthread_create(&s->thread, NULL, run, s) != 0) {
    pthread_mutex_destroy(&s->lock);
    pthread_cond_destroy(&s->wake);
    free(s);
    return NULL;
  }
  return s;
}

void dsr_audit_sealer_stop(struct dsr_audit_sealer *s)
{
  if (!s)
    return;
  pthread_mutex_lock(&s->lock);
  s->stopping = true;
  pthread_cond_signal(&s->wake);
  pthread_mutex_unlock(&s->lock);
  pthread_join(s->thread, NULL);
  pthread_mutex_destroy(&s->lock);
  pthread_cond_destroy(&s->wake);
  free(s);
}

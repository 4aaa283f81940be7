/**
 * @file queue_workers.c
 * @brief bench helper: runs dsrd's own worker threads (src/worker/worker.c on
 *        libdsr's queue) with a registry of one no-op job kind, for a fixed
 *        time, then stops them the way dsrd does on SIGTERM.
 *
 * usage: queue_workers CONNINFO WORKERS SECONDS
 * Prints the number of jobs the handler ran. The jobs themselves are queued
 * by bench/run (kind "bench_noop"); bench/run counts what left the queue.
 */
#include "config.h"
#include "worker.h"
#include "dsr/crypto.h"
#include "dsr/log.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static atomic_long ran;

static enum dsr_job_result noop(struct dsr_db *db, const struct dsr_job *job, void *ctx,
                                char *err, size_t errlen)
{
  atomic_fetch_add(&ran, 1);
  return DSR_JOB_DONE;
}

/* The registry worker.c runs: this replaces dsrd's (src/worker/jobs.c). */
const struct dsr_job_kind dsr_job_registry[] = {
    {"bench_noop", noop, 60, NULL},
    {NULL, NULL, 0, NULL},
};

int main(int argc, char **argv)
{
  if (argc != 4) {
    fprintf(stderr, "usage: queue_workers CONNINFO WORKERS SECONDS\n");
    return 2;
  }
  int n = atoi(argv[2]);
  int secs = atoi(argv[3]);
  if (n < 1 || n > 64 || secs < 1 || secs > 600) {
    fprintf(stderr, "queue_workers: WORKERS 1..64, SECONDS 1..600\n");
    return 2;
  }
  dsr_log_set_level(DSR_LOG_WARN);
  struct dsr_config cfg = {0};
  struct dsr_worker_env env = {.cfg = &cfg, .policy = NULL};
  char err[256];
  struct dsr_workers *w = dsr_workers_start(argv[1], n, &env, err, sizeof err);
  if (!w) {
    fprintf(stderr, "queue_workers: %s\n", err);
    return 1;
  }
  struct timespec ts = {secs, 0};
  while (nanosleep(&ts, &ts) != 0)
    ;
  dsr_workers_stop(w);
  printf("%ld\n", atomic_load(&ran));
  return 0;
}

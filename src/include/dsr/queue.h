/**
 * @file queue.h
 * @brief The PostgreSQL-backed job queue (DESIGN.md section 5).
 *
 * A job is a row of dsr_jobs: a kind, a JSON payload (ids only, never
 * personal data), when it may run, how often it was tried. Producers enqueue
 * inside their own transaction, so a job exists exactly when the state change
 * that caused it committed; the same transaction NOTIFYs channel "dsr_jobs"
 * (delivered at commit) to wake workers. Workers claim runnable jobs in
 * batches with FOR UPDATE SKIP LOCKED, each under a lease: a worker that dies
 * leaves a lease that runs out, and the next claim takes the job over. A
 * failed job is retried with exponential back-off plus jitter (capped); after
 * max_attempts it is "dead" and stays for an operator. Handlers must be
 * idempotent: a job may run again after a crash between its work and its
 * completion. Completion and failure are fenced by the lease owner, so a
 * worker whose lease was taken over cannot complete the job a second time.
 *
 * Clock: every function takes @p now (epoch seconds) from the caller, so tests
 * move time instead of sleeping; dsrd passes dsr_now().
 */
#ifndef DSR_QUEUE_H
#define DSR_QUEUE_H

#include <jansson.h>
#include <stdint.h>
#include "dsr/db.h"

#define DSR_QUEUE_DEFAULT_MAX_ATTEMPTS 8
#define DSR_QUEUE_BACKOFF_BASE_S 10   /**< first retry after about 10 s */
#define DSR_QUEUE_BACKOFF_CAP_S 3600  /**< never wait longer than an hour between tries */

/** A claimed job. Owned by the caller of dsr_queue_claim(); free with dsr_queue_jobs_free(). */
struct dsr_job {
  int64_t id;
  char kind[64];
  json_t *payload;   /**< owned */
  int attempts;      /**< including the current one */
  int max_attempts;
};

/** What a handler reports. */
enum dsr_job_result {
  DSR_JOB_DONE,  /**< finished (or nothing left to do): the row is deleted */
  DSR_JOB_RETRY, /**< transient failure: try again after back-off, dead after max_attempts */
  DSR_JOB_FAIL,  /**< permanent failure: dead now */
};

/**
 * A job handler. Runs outside any transaction on @p db (it opens its own);
 * @p ctx is the worker's context (dsrd passes its app); on failure it writes a
 * short reason (no personal data) into @p err.
 */
typedef enum dsr_job_result (*dsr_job_handler)(struct dsr_db *db, const struct dsr_job *job,
                                               void *ctx, char *err, size_t errlen);

/**
 * A handler of several jobs of one kind at once (optional; see
 * dsr_queue_run_batch()), so that they can share statements and commits. Runs
 * jobs[0], jobs[1] ... in that order and stops before starting one once
 * dsr_mono_ms() passes @p deadline_ms (it runs at least the first); sets
 * res[i] for each job it ran and returns how many that is. A failure's reason
 * (one for the call, no personal data) goes into @p err.
 */
typedef size_t (*dsr_job_batch_handler)(struct dsr_db *db, const struct dsr_job *const *jobs,
                                        size_t n, void *ctx, double deadline_ms,
                                        enum dsr_job_result *res, char *err, size_t errlen);

/** One row of a registry of job kinds (see src/worker/jobs.c). */
struct dsr_job_kind {
  const char *kind;        /**< "send_message", "expire_request" ... */
  dsr_job_handler handler;
  int lease_s;             /**< lease of a claimed job, seconds; renewed by the heartbeat */
  dsr_job_batch_handler batch; /**< NULL: one job at a time through @p handler */
};

/** Options of one enqueue. Zero values mean: now, default attempts, no dedupe key. */
struct dsr_job_opts {
  time_t run_at;              /**< 0: @p now */
  int max_attempts;           /**< 0: DSR_QUEUE_DEFAULT_MAX_ATTEMPTS */
  const char *dedupe_key;     /**< NULL: none; else at most one live job holds this key */
};

/**
 * Enqueues a job inside the caller's open transaction and NOTIFYs the
 * workers (the notification is delivered when that transaction commits).
 * @p payload is borrowed. *enqueued is false when a live job with the same
 * dedupe key exists (not an error). On failure *retry tells whether the
 * caller's transaction should be retried (serialization failure, deadlock).
 */
DSR_MUST_USE bool dsr_queue_enqueue(struct dsr_db *db, const char *kind, const json_t *payload,
                                    const struct dsr_job_opts *opts, time_t now, bool *enqueued,
                                    bool *retry);

/**
 * Claims up to @p max runnable jobs of the kinds in @p registry for
 * @p owner, each leased for its own kind's lease_s.
 * Also marks running jobs whose lease ran out with no attempts left as dead.
 * On success *jobs (caller frees with dsr_queue_jobs_free) holds *n jobs.
 */
DSR_MUST_USE bool dsr_queue_claim(struct dsr_db *db, const struct dsr_job_kind *registry,
                                  const char *owner, time_t now, int max, struct dsr_job **jobs,
                                  size_t *n);

/**
 * Where one worker's last full claim of queued jobs ended, (run_at, id), so
 * that its next claim starts there instead of walking, from the front of the
 * index, the entries of every job claimed since the last vacuum (with a
 * backlog of a million jobs, 5 ms per claim after 100,000 of them). Kept only
 * while claims come back full: a short claim, and the first claim of every
 * second of @p now, start from the front again, so a job that appears behind
 * the position (released unrun, committed late with an earlier run_at or id)
 * waits at most a second longer. Zero it before first use.
 */
struct dsr_queue_pos {
  bool set;
  int64_t run_at_us; /**< epoch microseconds of the last queued job claimed */
  int64_t id;
  time_t fresh_at;   /**< the @p now of the last claim from the front */
};

/** dsr_queue_claim() starting at @p pos (may be NULL: from the front), which it updates. */
DSR_MUST_USE bool dsr_queue_claim_from(struct dsr_db *db, const struct dsr_job_kind *registry,
                                       const char *owner, time_t now, int max,
                                       struct dsr_queue_pos *pos, struct dsr_job **jobs,
                                       size_t *n);
void dsr_queue_jobs_free(struct dsr_job *jobs, size_t n);

/**
 * Renews the leases of the running jobs held by any of @p owners (@p n of
 * them), each to @p now plus its kind's lease_s in @p registry: the heartbeat
 * that keeps a long job from being taken over while its worker lives. A job
 * whose lease another worker has taken is not touched. *renewed: how many.
 */
DSR_MUST_USE bool dsr_queue_heartbeat(struct dsr_db *db, const struct dsr_job_kind *registry,
                                      const char *const *owners, size_t n, time_t now,
                                      long *renewed);

/** Completes (deletes) a job. False when @p owner no longer holds its lease. */
DSR_MUST_USE bool dsr_queue_done(struct dsr_db *db, const struct dsr_job *job, const char *owner);

/**
 * Records a failed run: requeued at now + back-off, or dead when @p permanent
 * or attempts are exhausted. *dead tells which. False when @p owner no longer
 * holds the lease (the failure is then ignored).
 */
DSR_MUST_USE bool dsr_queue_failed(struct dsr_db *db, const struct dsr_job *job,
                                   const char *owner, const char *error, bool permanent,
                                   time_t now, bool *dead);

/**
 * Back-off before try number @p attempts + 1: base * 2^(attempts-1), capped,
 * of which the upper half is jitter chosen by @p rnd (uniform 32-bit random).
 */
long dsr_queue_backoff(int attempts, uint32_t rnd);

/** Milliseconds a batch may run before it gives back the jobs it has not started. */
#define DSR_QUEUE_BATCH_BUDGET_MS 200

/**
 * Claims one batch and runs it: each job through its kind's handler. A failed
 * job is requeued or marked dead at once; the jobs that succeeded are
 * completed together at the end of the batch, in one statement (one commit per
 * batch, not per job; should the worker die before that, they run again when
 * the lease runs out, which idempotent handlers allow). Once the batch has run
 * for DSR_QUEUE_BATCH_BUDGET_MS, the jobs not yet started go back to the queue
 * (attempt not counted) and the other workers are woken: big batches for cheap
 * jobs, no job stuck behind a long one for longer than that one job. The jobs
 * of a kind with a batch handler run together, through it, when the first of
 * them comes up (under the same budget). Returns how many jobs were claimed
 * (run or given back), or -1 when the database failed.
 */
int dsr_queue_run_batch(struct dsr_db *db, const struct dsr_job_kind *registry,
                        const char *owner, time_t now, int max, void *ctx);

/** dsr_queue_run_batch() whose claim starts at the worker's @p pos (dsr_queue_claim_from()). */
int dsr_queue_run_batch_from(struct dsr_db *db, const struct dsr_job_kind *registry,
                             const char *owner, time_t now, int max, void *ctx,
                             struct dsr_queue_pos *pos);

/**
 * Seconds from @p now until the next queued job becomes runnable or lease
 * runs out (0 when one is due, -1 when the queue is empty or on error).
 */
long dsr_queue_next_due(struct dsr_db *db, time_t now);

/**
 * Puts dead jobs back in the queue with their attempts reset: job @p id, or
 * every dead job when @p id is 0, of @p kind when not NULL. A dead job whose
 * dedupe key a queued or running job holds stays dead (and of several dead
 * jobs with one key, only the newest goes back). One transaction: the jobs,
 * one "jobs.requeued" event by @p actor (count and kinds, no payloads), and a
 * notification that wakes the workers. *n is how many went back (0 is not an
 * error); false only when the database failed.
 */
DSR_MUST_USE bool dsr_queue_requeue_dead(struct dsr_db *db, int64_t id, const char *kind,
                                         const char *actor, time_t now, long *n);

/** Starts listening for "dsr_jobs" notifications on @p db's connection. */
DSR_MUST_USE bool dsr_queue_listen(struct dsr_db *db);

/**
 * Waits up to @p timeout_ms for a notification on @p db (after
 * dsr_queue_listen) or for @p wake_fd (may be -1) to become readable.
 * Returns true when woken by a notification or @p wake_fd, false on timeout.
 */
bool dsr_queue_wait(struct dsr_db *db, int wake_fd, int timeout_ms);

#endif

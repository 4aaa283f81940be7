/**
 * @file db_async.h
 * @brief Single statements run for many callers by one thread on a few
 *        connections of its own, in libpq's pipeline mode. A caller hands
 *        over a statement and a callback and goes on. When one of the
 *        thread's connections is free, everything handed over meanwhile
 *        (up to DSR_DBQ_BATCH statements) goes out on it as one pipeline
 *        ending in one Sync: one round trip, one wake-up of the server's
 *        backend and one implicit transaction for the whole batch. Batches
 *        form by themselves under load (whatever waited while the
 *        connections were busy), never by waiting. The HTTP threads use it
 *        for the hottest read (a subject's status; bench/README.md).
 */
#ifndef DSR_DB_ASYNC_H
#define DSR_DB_ASYNC_H

#include "dsr/db.h"

struct dsr_dbq;

/** The most parameters a statement handed over may have. */
#define DSR_DBQ_MAX_PARAMS 4
/** The most statements sent as one pipeline. */
#define DSR_DBQ_BATCH 64

/**
 * Called once per statement handed over, on the runner's thread: @p res is the
 * statement's result (the callee's to PQclear()), or NULL when it could not run
 * (no connection, connection lost, shutting down). Must not block.
 */
typedef void (*dsr_dbq_done)(PGresult *res, void *arg);

/**
 * Starts the runner with @p nconns connections of its own to @p pool's database
 * (opened when needed, by dsr_db_pool_connect(); @p pool outlives the runner).
 * NULL on failure.
 */
struct dsr_dbq *dsr_dbq_start(struct dsr_db_pool *pool, unsigned int nconns);
/**
 * Lets every statement handed over finish (each callback is called) and stops
 * the thread; from then on dsr_dbq_submit() refuses. Idempotent.
 */
void dsr_dbq_stop(struct dsr_dbq *q);
/** Stops @p q if need be and frees it. */
void dsr_dbq_free(struct dsr_dbq *q);
/**
 * Hands over @p st with @p n text parameters (copied). True: @p done will be
 * called exactly once. False (out of memory, stopping, too many parameters):
 * it will not be.
 */
DSR_MUST_USE bool dsr_dbq_submit(struct dsr_dbq *q, enum dsr_stmt st, int n,
                                 const char *const *params, dsr_dbq_done done, void *arg);

#endif

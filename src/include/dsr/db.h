/**
 * @file db.h
 * @brief The db layer. All SQL lives in db_statements.c as named prepared
 *        statements, prepared on every pooled connection when it opens.
 *        Callers pass text parameters only; nothing builds SQL from input.
 */
#ifndef DSR_DB_H
#define DSR_DB_H

#include <libpq-fe.h>
#include "dsr/util.h"

/* X-macro: (enum name, SQL). Parameters are $1..$n, all sent as text. */
#include "dsr/db_statements.h"

enum dsr_stmt {
#define DSR_X_STMT(e, sql) e,
  DSR_STATEMENTS(DSR_X_STMT)
#undef DSR_X_STMT
  DSR_STMT_COUNT
};

struct dsr_db_pool;

/** A pooled connection, valid between acquire and release. */
struct dsr_db {
  PGconn *conn;
  struct dsr_db_pool *pool;
};

/** Opens @p size connections lazily to @p conninfo. Caller frees with dsr_db_pool_free(). */
struct dsr_db_pool *dsr_db_pool_new(const char *conninfo, unsigned int size);
void dsr_db_pool_free(struct dsr_db_pool *pool);
/**
 * A connection to @p pool's database outside its slots, set up and logged as the
 * pool's own are (one db.connect_failed line per outage); the caller PQfinish()es
 * it. NULL if the database cannot be reached.
 */
PGconn *dsr_db_pool_connect(struct dsr_db_pool *pool);
/** Blocks until a connection is free; NULL if the database cannot be reached. */
struct dsr_db *dsr_db_acquire(struct dsr_db_pool *pool);
/** The pool's size, connections handed out now, and threads waiting for one (for /metrics). */
void dsr_db_pool_stats(struct dsr_db_pool *pool, unsigned int *size, unsigned int *in_use,
                       unsigned int *waiting);
/** Returns the connection; a broken one is closed and reopened on next use. */
void dsr_db_release(struct dsr_db *db);

/** Opens one unpooled connection with every statement prepared (CLI). Caller PQfinish()es. */
PGconn *dsr_db_connect(const char *conninfo, char *err, size_t errlen);
/** Wraps a connection from dsr_db_connect() so dsr_db_exec() can use it; free with dsr_db_unwrap(). */
struct dsr_db *dsr_db_wrap(PGconn *conn);
/** Frees the wrapper only; the caller still owns and PQfinish()es the connection. */
void dsr_db_unwrap(struct dsr_db *db);
/** Prepares every registered statement on @p conn. */
DSR_MUST_USE bool dsr_db_prepare_all(PGconn *conn, char *err, size_t errlen);

/** Whether @p st is prepared on @p db's connection. */
bool dsr_db_is_prepared(struct dsr_db *db, enum dsr_stmt st);
/** Prepares @p st on @p db's connection unless it is already (logged when it fails). */
DSR_MUST_USE bool dsr_db_prepared(struct dsr_db *db, enum dsr_stmt st);

/**
 * Runs statement @p st with @p n text parameters (NULL = SQL NULL).
 * Returns the result (caller PQclear()s); NULL only on allocation failure.
 */
PGresult *dsr_db_exec(struct dsr_db *db, enum dsr_stmt st, int n, const char *const *params);
/** Same, with binary-safe parameters: lengths/formats as in PQexecPrepared. */
PGresult *dsr_db_exec_bin(struct dsr_db *db, enum dsr_stmt st, int n, const char *const *params,
                          const int *lengths, const int *formats);
/** True for PGRES_COMMAND_OK / PGRES_TUPLES_OK. */
bool dsr_db_ok(const PGresult *res);
/** SQLSTATE of a failed result, or "" */
const char *dsr_db_sqlstate(const PGresult *res);
/**
 * "SQLSTATE X: PostgreSQL's message" for errors about the schema or a statement
 * (classes 42, 0A, 08P01: they name identifiers, not values), "SQLSTATE X"
 * alone for the others, which may quote a row's data. Safe for logs and jobs.
 */
void dsr_db_error_text(const PGresult *res, char *out, size_t outlen);

/** Outcome of a transaction body. */
enum dsr_tx_status { DSR_TX_COMMIT, DSR_TX_ROLLBACK, DSR_TX_RETRY };

/**
 * Runs @p body inside BEGIN ... COMMIT at @p isolation ("READ COMMITTED",
 * "REPEATABLE READ" or "SERIALIZABLE"). Serialization failures and deadlocks
 * (40001, 40P01), at the body's statements or at COMMIT, roll back and run
 * the body again, up to 8 times with growing jittered back-off. The body
 * returns DSR_TX_RETRY to ask for the same. Returns true if committed.
 */
DSR_MUST_USE bool dsr_db_tx(struct dsr_db *db, const char *isolation,
                            enum dsr_tx_status (*body)(struct dsr_db *db, void *ctx), void *ctx);

/** One statement of dsr_db_send_tx(): @p v (n text parameters) is copied when it is sent. */
struct dsr_db_call {
  enum dsr_stmt st;
  int n;
  const char *const *v;
};

/**
 * Sends BEGIN (READ COMMITTED), statements @p calls[0..n) and COMMIT in one
 * round trip without waiting for their answers (libpq's pipeline mode), so
 * the caller can work elsewhere meanwhile. dsr_db_await_tx() must follow
 * before anything else uses @p db. False when it could not be sent (nothing
 * is pending then; whatever reached the server was rolled back).
 */
DSR_MUST_USE bool dsr_db_send_tx(struct dsr_db *db, size_t n, const struct dsr_db_call *calls);
/**
 * Reads the answers of what dsr_db_send_tx() sent (@p n statements) and
 * leaves pipeline mode: DSR_TX_COMMIT when every statement ran, the COMMIT
 * too, and the last statement returned @p want_rows rows (-1: any);
 * DSR_TX_RETRY for a serialization failure or deadlock (rolled back: the
 * caller decides); DSR_TX_ROLLBACK otherwise (rolled back, except when only
 * the row count differed: then it committed, having done nothing it should).
 */
enum dsr_tx_status dsr_db_await_tx(struct dsr_db *db, size_t n, int want_rows);

/** True when @p res failed with a retryable SQLSTATE (40001, 40P01). */
bool dsr_db_is_retryable(const PGresult *res);
/**
 * True when @p res (NULL: no result) failed because the database is gone or
 * going (connection lost, shut down, restarting, out of connections): the
 * caller answers 503, not 500.
 */
bool dsr_db_is_unavailable(const struct dsr_db *db, const PGresult *res);

/** Name of a statement ("dsr_request_insert"...). */
const char *dsr_stmt_name(enum dsr_stmt st);

#endif

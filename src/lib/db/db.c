/** @file db.c @brief Connection pool, lazily prepared named statements, transactions. */
#include "config.h"
#include "dsr/db.h"
#include "dsr/log.h"

#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const struct {
  const char *name;
  const char *sql;
} statements[] = {
#define DSR_X_STMT(e, sql) {#e, sql},
    DSR_STATEMENTS(DSR_X_STMT)
#undef DSR_X_STMT
};

/** One pooled slot: the connection plus which statements it has prepared. */
struct slot {
  struct dsr_db db;
  bool busy;
  bool prepared[DSR_STMT_COUNT];
};

struct dsr_db_pool {
  char *conninfo;
  unsigned int size;
  struct slot *slots;
  pthread_mutex_t lock;
  pthread_cond_t freed;
  unsigned int waiting; /* threads blocked in dsr_db_acquire() (for /metrics) */
  /* An outage is logged once, then once a minute with a count, and its end once. */
  bool down;
  double down_logged_ms;
  long down_failures;
  double down_since_ms;
};

#define OUTAGE_LOG_EVERY_MS 60000.0

/* A connection opened outside a pool keeps its prepared flags here. */
struct lone {
  struct dsr_db db;
  bool prepared[DSR_STMT_COUNT];
};

const char *dsr_stmt_name(enum dsr_stmt st)
{
  return (unsigned)st < DSR_STMT_COUNT ? statements[st].name : "?";
}

struct dsr_db_pool *dsr_db_pool_new(const char *conninfo, unsigned int size)
{
  struct dsr_db_pool *p = calloc(1, sizeof *p);
  if (!p)
    return NULL;
  p->conninfo = strdup(conninfo);
  p->slots = calloc(size, sizeof *p->slots);
  if (!p->conninfo || !p->slots) {
    free(p->conninfo);
    free(p->slots);
    free(p);
    return NULL;
  }
  p->size = size;
  for (unsigned i = 0; i < size; i++)
    p->slots[i].db.pool = p;
  pthread_mutex_init(&p->lock, NULL);
  pthread_cond_init(&p->freed, NULL);
  return p;
}

void dsr_db_pool_free(struct dsr_db_pool *p)
{
  if (!p)
    return;
  for (unsigned i = 0; i < p->size; i++)
    if (p->slots[i].db.conn)
      PQfinish(p->slots[i].db.conn);
  pthread_mutex_destroy(&p->lock);
  pthread_cond_destroy(&p->freed);
  free(p->slots);
  free(p->conninfo);
  free(p);
}

static struct slot *slot_of(struct dsr_db *db)
{
  return (struct slot *)db; /* db is the first member of struct slot */
}

static bool *prepared_flags(struct dsr_db *db)
{
  return db->pool ? slot_of(db)->prepared : ((struct lone *)db)->prepared;
}

/*
 * Logs a failed connect of pool @p p: the first of an outage, then at most one
 * line a minute with the failures since (not one per request: 34,301 lines in
 * the review's outage).
 */
static void connect_failed(struct dsr_db_pool *p, const char *error)
{
  double now = dsr_mono_ms();
  bool log = false;
  long failures = 0;
  pthread_mutex_lock(&p->lock);
  p->down_failures++;
  if (!p->down || now - p->down_logged_ms >= OUTAGE_LOG_EVERY_MS) {
    if (!p->down)
      p->down_since_ms = now;
    p->down = true;
    p->down_logged_ms = now;
    failures = p->down_failures;
    log = true;
  }
  pthread_mutex_unlock(&p->lock);
  /* libpq's message can echo the host but never row data: safe to log. */
  if (log)
    DSR_WARN("db.connect_failed", "failures=%ld error=\"%.200s\"", failures, error);
}

static void connect_worked(struct dsr_db_pool *p)
{
  pthread_mutex_lock(&p->lock);
  bool was_down = p->down;
  long failures = p->down_failures;
  double since = p->down_since_ms;
  p->down = false;
  p->down_failures = 0;
  pthread_mutex_unlock(&p->lock);
  if (was_down)
    DSR_WARN("db.reconnected", "failures=%ld down_ms=%.0f", failures, dsr_mono_ms() - since);
}

static PGconn *open_conn(struct dsr_db_pool *p)
{
  PGconn *c = PQconnectdb(p->conninfo);
  if (PQstatus(c) != CONNECTION_OK) {
    connect_failed(p, PQerrorMessage(c));
    PQfinish(c);
    return NULL;
  }
  connect_worked(p);
  PGresult *r = PQexec(c, "SET application_name = 'dsrd'; SET TIME ZONE 'UTC'");
  PQclear(r);
  return c;
}

PGconn *dsr_db_pool_connect(struct dsr_db_pool *p)
{
  return open_conn(p);
}

struct dsr_db *dsr_db_acquire(struct dsr_db_pool *p)
{
  pthread_mutex_lock(&p->lock);
  struct slot *s = NULL;
  for (;;) {
    for (unsigned i = 0; i < p->size; i++)
      if (!p->slots[i].busy) {
        s = &p->slots[i];
        break;
      }
    if (s)
      break;
    p->waiting++;
    pthread_cond_wait(&p->freed, &p->lock);
    p->waiting--;
  }
  s->busy = true;
  pthread_mutex_unlock(&p->lock);
  if (s->db.conn && PQstatus(s->db.conn) != CONNECTION_OK) {
    PQfinish(s->db.conn);
    s->db.conn = NULL;
  }
  if (!s->db.conn) {
    memset(s->prepared, 0, sizeof s->prepared);
    s->db.conn = open_conn(p);
    if (!s->db.conn) {
      dsr_db_release(&s->db);
      return NULL;
    }
  }
  return &s->db;
}

void dsr_db_pool_stats(struct dsr_db_pool *p, unsigned int *size, unsigned int *in_use,
                       unsigned int *waiting)
{
  pthread_mutex_lock(&p->lock);
  *size = p->size;
  *in_use = 0;
  for (unsigned i = 0; i < p->size; i++)
    *in_use += p->slots[i].busy;
  *waiting = p->waiting;
  pthread_mutex_unlock(&p->lock);
}

void dsr_db_release(struct dsr_db *db)
{
  if (!db)
    return;
  struct dsr_db_pool *p = db->pool;
  struct slot *s = slot_of(db);
  if (s->db.conn && PQtransactionStatus(s->db.conn) != PQTRANS_IDLE) {
    /* A handler left a transaction open: never hand that state to the next user. */
    PGresult *r = PQexec(s->db.conn, "ROLLBACK");
    PQclear(r);
  }
  pthread_mutex_lock(&p->lock);
  s->busy = false;
  pthread_cond_signal(&p->freed);
  pthread_mutex_unlock(&p->lock);
}

PGconn *dsr_db_connect(const char *conninfo, char *err, size_t errlen)
{
  PGconn *c = PQconnectdb(conninfo);
  if (PQstatus(c) != CONNECTION_OK) {
    snprintf(err, errlen, "cannot connect to the database: %s", PQerrorMessage(c));
    PQfinish(c);
    return NULL;
  }
  PGresult *r = PQexec(c, "SET TIME ZONE 'UTC'");
  PQclear(r);
  return c;
}

struct dsr_db *dsr_db_wrap(PGconn *conn)
{
  struct lone *l = calloc(1, sizeof *l);
  if (!l)
    return NULL;
  l->db.conn = conn;
  return &l->db;
}

void dsr_db_unwrap(struct dsr_db *db)
{
  free((struct lone *)db);
}

bool dsr_db_prepare_all(PGconn *conn, char *err, size_t errlen)
{
  for (unsigned i = 0; i < DSR_STMT_COUNT; i++) {
    PGresult *r = PQprepare(conn, statements[i].name, statements[i].sql, 0, NULL);
    bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    if (!ok)
      snprintf(err, errlen, "prepare %s: %s", statements[i].name, PQresultErrorMessage(r));
    PQclear(r);
    if (!ok)
      return false;
  }
  return true;
}

bool dsr_db_is_prepared(struct dsr_db *db, enum dsr_stmt st)
{
  return prepared_flags(db)[st];
}

bool dsr_db_prepared(struct dsr_db *db, enum dsr_stmt st)
{
  bool *flags = prepared_flags(db);
  if (flags[st])
    return true;
  PGresult *r = PQprepare(db->conn, statements[st].name, statements[st].sql, 0, NULL);
  bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
  if (!ok)
    DSR_ERROR("db.prepare_failed", "stmt=%s error=\"%.200s\"", statements[st].name,
              PQresultErrorMessage(r));
  PQclear(r);
  flags[st] = ok;
  return ok;
}

PGresult *dsr_db_exec_bin(struct dsr_db *db, enum dsr_stmt st, int n, const char *const *params,
                          const int *lengths, const int *formats)
{
  if (!dsr_db_prepared(db, st))
    return PQmakeEmptyPGresult(db->conn, PGRES_FATAL_ERROR);
  PGresult *r = PQexecPrepared(db->conn, statements[st].name, n, params, lengths, formats, 0);
  if (!dsr_db_ok(r) && !dsr_db_is_retryable(r))
    DSR_WARN("db.statement_failed", "stmt=%s sqlstate=%s", statements[st].name,
             dsr_db_sqlstate(r));
  return r;
}

PGresult *dsr_db_exec(struct dsr_db *db, enum dsr_stmt st, int n, const char *const *params)
{
  return dsr_db_exec_bin(db, st, n, params, NULL, NULL);
}

bool dsr_db_ok(const PGresult *res)
{
  ExecStatusType s = PQresultStatus(res);
  return s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK;
}

const char *dsr_db_sqlstate(const PGresult *res)
{
  const char *s = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
  return s ? s : "";
}

void dsr_db_error_text(const PGresult *res, char *out, size_t outlen)
{
  const char *state = dsr_db_sqlstate(res);
  const char *msg = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
  /* Schema errors name identifiers from the policy; data errors (22, 23, ...) may quote
   * a row's values, so only their SQLSTATE is told. */
  bool about_schema = !strncmp(state, "42", 2) || !strncmp(state, "0A", 2) ||
                      !strcmp(state, "08P01");
  if (msg && about_schema)
    snprintf(out, outlen, "SQLSTATE %s: %s", state, msg);
  else
    snprintf(out, outlen, "SQLSTATE %s", *state ? state : "unknown");
}

bool dsr_db_is_unavailable(const struct dsr_db *db, const PGresult *res)
{
  if (!db || !db->conn || PQstatus(db->conn) != CONNECTION_OK || !res)
    return true;
  const char *s = dsr_db_sqlstate(res);
  /* No SQLSTATE on a failed result: libpq's own (the connection broke). */
  if (!*s)
    return PQresultStatus(res) == PGRES_FATAL_ERROR;
  /* connection exceptions, shutdowns and crashes, too many connections, recovery */
  return !strncmp(s, "08", 2) || !strncmp(s, "57P", 3) || !strcmp(s, "53300") ||
         !strcmp(s, "25006");
}

bool dsr_db_is_retryable(const PGresult *res)
{
  const char *s = dsr_db_sqlstate(res);
  return !strcmp(s, "40001") || !strcmp(s, "40P01");
}

static bool simple(PGconn *c, const char *sql, bool *retryable)
{
  PGresult *r = PQexec(c, sql);
  bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
  /* COMMIT of an aborted transaction "succeeds" with the tag ROLLBACK. */
  if (ok && !strcmp(sql, "COMMIT") && strcmp(PQcmdStatus(r), "COMMIT") != 0)
    ok = false;
  if (retryable)
    *retryable = dsr_db_is_retryable(r);
  PQclear(r);
  return ok;
}

static void backoff(int attempt)
{
  /* 2, 4, 8 ... ms plus up to the same again of jitter, so colliding writers spread out. */
  long base = 1L << (attempt + 1);
  long ms = base + (long)randombytes_uniform((uint32_t)base + 1);
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

bool dsr_db_tx(struct dsr_db *db, const char *isolation,
               enum dsr_tx_status (*body)(struct dsr_db *db, void *ctx), void *ctx)
{
  char begin[80];
  snprintf(begin, sizeof begin, "BEGIN ISOLATION LEVEL %s", isolation);
  for (int attempt = 0; attempt < 8; attempt++) {
    if (!simple(db->conn, begin, NULL))
      return false;
    enum dsr_tx_status st = body(db, ctx);
    if (st == DSR_TX_COMMIT) {
      bool retry = false;
      if (simple(db->conn, "COMMIT", &retry))
        return true;
      if (!retry)
        return false;
    } else {
      (void)simple(db->conn, "ROLLBACK", NULL);
      if (st == DSR_TX_ROLLBACK)
        return false;
    }
    DSR_DEBUG("db.tx_retry", "attempt=%d", attempt + 1);
    backoff(attempt);
  }
  DSR_WARN("db.tx_gave_up", "attempts=8");
  return false;
}

/* ---- one transaction sent ahead (pipeline mode) ------------------------------------------- */

bool dsr_db_send_tx(struct dsr_db *db, size_t n, const struct dsr_db_call *calls)
{
  for (size_t i = 0; i < n; i++) /* PQprepare waits for its answer: before the pipeline */
    if (!dsr_db_prepared(db, calls[i].st))
      return false;
  if (!PQenterPipelineMode(db->conn))
    return false;
  bool ok = PQsendQueryParams(db->conn, "BEGIN ISOLATION LEVEL READ COMMITTED", 0, NULL, NULL,
                              NULL, NULL, 0) == 1;
  for (size_t i = 0; ok && i < n; i++) /* libpq copies the parameters into its buffer here */
    ok = PQsendQueryPrepared(db->conn, statements[calls[i].st].name, calls[i].n, calls[i].v,
                             NULL, NULL, 0) == 1;
  ok = ok && PQsendQueryParams(db->conn, "COMMIT", 0, NULL, NULL, NULL, NULL, 0) == 1;
  /* the sync ends the pipeline, whatever was queued before it; the answers are read (and a
   * failed send reported) by dsr_db_await_tx() */
  bool synced = PQpipelineSync(db->conn) == 1;
  if (!synced) {
    (void)PQexitPipelineMode(db->conn);
    return false;
  }
  if (!ok)
    (void)dsr_db_await_tx(db, n, -1);
  return ok;
}

enum dsr_tx_status dsr_db_await_tx(struct dsr_db *db, size_t n, int want_rows)
{
  enum dsr_tx_status st = DSR_TX_COMMIT;
  size_t seen = 0; /* results read: BEGIN, the n statements, COMMIT */
  bool last_null = false;
  for (;;) {
    PGresult *r = PQgetResult(db->conn);
    if (!r) { /* between two statements' results; twice in a row: nothing more comes */
      if (last_null || PQstatus(db->conn) != CONNECTION_OK) {
        st = DSR_TX_ROLLBACK;
        break;
      }
      last_null = true;
      continue;
    }
    last_null = false;
    ExecStatusType s = PQresultStatus(r);
    if (s == PGRES_PIPELINE_SYNC) {
      PQclear(r);
      break;
    }
    if (s != PGRES_COMMAND_OK && s != PGRES_TUPLES_OK) {
      if (st == DSR_TX_COMMIT)
        st = dsr_db_is_retryable(r) ? DSR_TX_RETRY : DSR_TX_ROLLBACK;
      if (s != PGRES_PIPELINE_ABORTED)
        DSR_WARN("db.statement_failed", "stmt=pipelined sqlstate=%s", dsr_db_sqlstate(r));
    } else if (seen == n && want_rows >= 0 && PQntuples(r) != want_rows) {
      st = DSR_TX_ROLLBACK; /* the last statement: committed, but it did not do its work */
    }
    seen++;
    PQclear(r);
  }
  if (seen != n + 2 && st == DSR_TX_COMMIT)
    st = DSR_TX_ROLLBACK;
  if (!PQexitPipelineMode(db->conn))
    DSR_WARN("db.pipeline_stuck", "status=%d", (int)PQstatus(db->conn));
  if (PQtransactionStatus(db->conn) != PQTRANS_IDLE) /* a failed statement left it aborted */
    (void)simple(db->conn, "ROLLBACK", NULL);
  return st;
}

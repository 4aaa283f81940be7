/**
 * @file sample_load.c
 * @brief Loads the sample platform into its own database: the schema
 *        (sample/schema.sql, compiled in), every table through
 *        COPY ... FROM STDIN (PQputCopyData), then indexes and foreign keys,
 *        all in one transaction. The SQL here is fixed text (the fixture's own
 *        DDL and table names), never built from input.
 */
#include "config.h"
#include "sample_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <pthread.h>

static double mono_ms(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

static bool exec_ok(PGconn *c, const char *sql, const char *what, char *err, size_t errlen)
{
  PGresult *r = PQexec(c, sql);
  ExecStatusType st = PQresultStatus(r);
  bool ok = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;
  if (!ok)
    snprintf(err, errlen, "%s: %s", what, r ? PQresultErrorMessage(r) : PQerrorMessage(c));
  PQclear(r);
  return ok;
}

/** True when the one-value query @p sql answers 't'. */
static bool query_true(PGconn *c, const char *sql, bool *out, char *err, size_t errlen)
{
  PGresult *r = PQexec(c, sql);
  bool ok = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1;
  if (ok)
    *out = !strcmp(PQgetvalue(r, 0, 0), "t");
  else
    snprintf(err, errlen, "%s", r ? PQresultErrorMessage(r) : PQerrorMessage(c));
  PQclear(r);
  return ok;
}

bool dsr_sample_prepare_db(PGconn *c, bool reset, char *err, size_t errlen)
{
  bool is_dsrd = false, has_platform = false;
  /* DROP ... CASCADE would list every table as a NOTICE. */
  if (!exec_ok(c, "SET client_min_messages = warning", "settings", err, errlen))
    return false;
  if (!query_true(c, "SELECT to_regclass('public.dsr_schema_migrations') IS NOT NULL", &is_dsrd,
                  err, errlen))
    return false;
  if (is_dsrd) {
    snprintf(err, errlen, "this database belongs to dsrd (it has dsr_schema_migrations); "
                          "the sample platform needs a database of its own");
    return false;
  }
  if (reset && !exec_ok(c, "DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public",
                        "reset", err, errlen))
    return false;
  if (!query_true(c, "SELECT to_regclass('public.calls') IS NOT NULL", &has_platform, err, errlen))
    return false;
  if (has_platform) {
    snprintf(err, errlen, "the database already holds a sample platform; use --reset to replace it");
    return false;
  }
  return true;
}

/*
 * Two lanes. Lane 0 runs on the caller's connection and thread, lane 1 on a
 * second connection in a thread of its own. The tables are split so that
 * both lanes carry about the same volume, and the media tables (recordings,
 * voicemails: the only passes that touch the generator's file counters) are
 * both in lane 0. The generator is otherwise read-only while tables are
 * emitted, so the two lanes can share it.
 */
#define LANES 2

struct lane {
  int id;
  PGconn *c;
  struct dsr_sample *g;
  const struct dsr_sample_progress *p;
  pthread_mutex_t *mu;
  struct dsr_sample_counts *counts;
  size_t ntables;
  size_t tables[32];
  size_t ntab;
  char **stmts; /* borrowed, for the SQL phase */
  size_t nstmts;
  size_t cur;   /* table being copied */
  bool ok;
  char err[1024];
};

/* Which lane loads each table: the big child tables are spread over both. */
static int lane_of(const char *table)
{
  static const char *const lane1[] = {"contacts", "transcripts", "ai_summaries", "messages",
                                      "consents", "web_sessions", "payments"};
  for (size_t i = 0; i < DSR_ARRAY_LEN(lane1); i++)
    if (!strcmp(lane1[i], table))
      return 1;
  return 0;
}

static bool copy_write(void *ctx, const char *data, size_t len)
{
  struct lane *l = ctx;
  while (len > 0) {
    int chunk = len > (1u << 30) ? (1 << 30) : (int)len;
    if (PQputCopyData(l->c, data, chunk) != 1)
      return false;
    data += chunk;
    len -= (size_t)chunk;
  }
  return true;
}

static void copy_progress(void *ctx, double fraction)
{
  struct lane *l = ctx;
  size_t n;
  const struct dsr_sample_table *t = dsr_sample_tables(&n);
  if (l->id != 0 || !l->p || !l->p->table_progress)
    return;
  pthread_mutex_lock(l->mu);
  l->p->table_progress(l->p->ctx, l->cur, n, t[l->cur].name, fraction);
  pthread_mutex_unlock(l->mu);
}

/** Ends a COPY: sends the end (or an abort message) and reads its result. */
static bool copy_finish(PGconn *c, bool abort_it, const char *table, char *err, size_t errlen)
{
  bool ok = PQputCopyEnd(c, abort_it ? "generation failed" : NULL) == 1;
  PGresult *r;
  while ((r = PQgetResult(c)) != NULL) {
    if (PQresultStatus(r) != PGRES_COMMAND_OK) {
      if (ok && !abort_it)
        snprintf(err, errlen, "COPY %s: %s", table, PQresultErrorMessage(r));
      ok = false;
    }
    PQclear(r);
  }
  return ok && !abort_it;
}

/** Copies the lane's tables in one transaction (TRUNCATE + COPY FREEZE). */
static void *lane_copy(void *arg)
{
  struct lane *l = arg;
  size_t n;
  const struct dsr_sample_table *tables = dsr_sample_tables(&n);
  bool in_tx = false;
  l->ok = false;
  if (!exec_ok(l->c, "BEGIN", "begin", l->err, sizeof l->err))
    goto cleanup;
  in_tx = true;
  for (size_t k = 0; k < l->ntab; k++) {
    size_t t = l->tables[k];
    char sql[1024];
    l->cur = t;
    double t0 = mono_ms();
    /* FREEZE needs the table created or truncated in this transaction. */
    snprintf(sql, sizeof sql, "TRUNCATE %s", tables[t].name);
    if (!exec_ok(l->c, sql, tables[t].name, l->err, sizeof l->err))
      goto cleanup;
    snprintf(sql, sizeof sql, "COPY %s (%s) FROM STDIN WITH (FREEZE)", tables[t].name,
             tables[t].columns);
    PGresult *r = PQexec(l->c, sql);
    if (PQresultStatus(r) != PGRES_COPY_IN) {
      snprintf(l->err, sizeof l->err, "COPY %s: %s", tables[t].name,
               r ? PQresultErrorMessage(r) : PQerrorMessage(l->c));
      PQclear(r);
      goto cleanup;
    }
    PQclear(r);
    struct dsr_sample_sink sink = {copy_write, copy_progress, l};
    char gen_err[512] = "";
    long rows = dsr_sample_emit(l->g, t, &sink, gen_err, sizeof gen_err);
    if (!copy_finish(l->c, rows < 0, tables[t].name, l->err, sizeof l->err)) {
      if (rows < 0)
        snprintf(l->err, sizeof l->err, "%s", gen_err);
      goto cleanup;
    }
    l->counts->rows[t] = rows;
    if (l->p && l->p->table_done) {
      pthread_mutex_lock(l->mu);
      l->p->table_done(l->p->ctx, t, n, tables[t].name, rows, mono_ms() - t0);
      pthread_mutex_unlock(l->mu);
    }
  }
  if (!exec_ok(l->c, "COMMIT", "commit", l->err, sizeof l->err))
    goto cleanup;
  in_tx = false;
  l->ok = true;
cleanup:
  if (in_tx) {
    PGresult *r = PQexec(l->c, "ROLLBACK");
    PQclear(r);
  }
  return NULL;
}

/** Runs the lane's statements one by one (autocommit). */
static void *lane_sql(void *arg)
{
  struct lane *l = arg;
  l->ok = true;
  for (size_t i = 0; i < l->nstmts && l->ok; i++)
    l->ok = exec_ok(l->c, l->stmts[i], "post-load", l->err, sizeof l->err);
  return NULL;
}

/** Runs @p fn on every lane, lane 0 in this thread; false with the first error. */
static bool run_lanes(struct lane *lanes, void *(*fn)(void *), char *err, size_t errlen)
{
  pthread_t th;
  bool threaded = pthread_create(&th, NULL, fn, &lanes[1]) == 0;
  fn(&lanes[0]);
  if (threaded)
    pthread_join(th, NULL);
  else
    fn(&lanes[1]);
  for (int i = 0; i < LANES; i++)
    if (!lanes[i].ok) {
      snprintf(err, errlen, "%s", lanes[i].err);
      return false;
    }
  return true;
}

static void phase(const struct dsr_sample_progress *p, const char *what)
{
  if (p && p->phase)
    p->phase(p->ctx, what);
}

/**
 * Splits the post-load part of the schema into statements (one per line there)
 * and deals them to the lanes: every foreign key to lane 0, so that no two
 * statements that lock two tables run at once; indexes alternate.
 */
static bool deal_statements(const char *text, struct lane *lanes, char ***all, size_t *nall)
{
  size_t cap = 256, n = 0;
  char **v = calloc(cap, sizeof *v);
  bool ok = v != NULL;
  size_t idx = 0;
  for (const char *line = text; ok && *line;) {
    const char *nl = strchr(line, '\n');
    size_t len = nl ? (size_t)(nl - line) : strlen(line);
    if (len > 0 && strncmp(line, "--", 2) != 0) {
      if (n == cap) {
        ok = false;
        break;
      }
      v[n] = strndup(line, len);
      ok = v[n] != NULL;
      if (!ok)
        break;
      int lane = strncmp(line, "ALTER TABLE", 11) == 0 ? 0 : (int)(idx++ % LANES);
      struct lane *l = &lanes[lane];
      l->stmts[l->nstmts++] = v[n];
      n++;
    }
    line += len + (nl ? 1 : 0);
  }
  *all = v;
  *nall = n;
  return ok;
}

bool dsr_sample_load(PGconn *c, const char *conninfo, struct dsr_sample *g,
                     const struct dsr_sample_progress *p, struct dsr_sample_counts *counts,
                     char *err, size_t errlen)
{
  const char *schema = dsr_sample_schema[0].text;
  const char *split = strstr(schema, DSR_SAMPLE_SCHEMA_SPLIT);
  size_t ntables = 0;
  const struct dsr_sample_table *tables = dsr_sample_tables(&ntables);
  char *before = NULL;
  char **stmts = NULL;
  size_t nstmts = 0;
  pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
  struct lane lanes[LANES];
  char *lane_stmts[LANES][256];
  bool ok = false;
  memset(counts, 0, sizeof *counts);
  memset(lanes, 0, sizeof lanes);
  for (int i = 0; i < LANES; i++) {
    lanes[i].id = i;
    lanes[i].g = g;
    lanes[i].p = p;
    lanes[i].mu = &mu;
    lanes[i].counts = counts;
    lanes[i].stmts = lane_stmts[i];
  }
  lanes[0].c = c;
  if (!split || ntables > DSR_ARRAY_LEN(counts->rows)) {
    snprintf(err, errlen, "the compiled-in schema has no post-load marker");
    goto cleanup;
  }
  before = strndup(schema, (size_t)(split - schema));
  if (!before) {
    snprintf(err, errlen, "out of memory");
    goto cleanup;
  }
  lanes[1].c = PQconnectdb(conninfo);
  if (PQstatus(lanes[1].c) != CONNECTION_OK) {
    snprintf(err, errlen, "second connection: %s", PQerrorMessage(lanes[1].c));
    goto cleanup;
  }
  phase(p, "creating tables");
  if (!exec_ok(c, before, "schema", err, errlen))
    goto cleanup;
  for (size_t t = 0; t < ntables; t++) {
    struct lane *l = &lanes[lane_of(tables[t].name)];
    l->tables[l->ntab++] = t;
  }
  if (!run_lanes(lanes, lane_copy, err, errlen))
    goto cleanup;
  counts->ntables = ntables;
  phase(p, "setting id sequences");
  for (size_t t = 0; t < ntables; t++) {
    if (!tables[t].identity)
      continue;
    char sql[512];
    snprintf(sql, sizeof sql,
             "SELECT setval(pg_get_serial_sequence('%s', 'id'), COALESCE(max(id), 1), "
             "max(id) IS NOT NULL) FROM %s",
             tables[t].name, tables[t].name);
    if (!exec_ok(c, sql, tables[t].name, err, errlen))
      goto cleanup;
  }
  phase(p, "creating indexes and foreign keys");
  for (int i = 0; i < LANES; i++)
    if (!exec_ok(lanes[i].c, "SET maintenance_work_mem = '256MB'", "settings", err, errlen))
      goto cleanup;
  if (!deal_statements(split, lanes, &stmts, &nstmts)) {
    snprintf(err, errlen, "out of memory");
    goto cleanup;
  }
  if (!run_lanes(lanes, lane_sql, err, errlen))
    goto cleanup;
  phase(p, "analyzing");
  if (!exec_ok(c, "ANALYZE", "analyze", err, errlen))
    goto cleanup;
  ok = true;
cleanup:
  if (lanes[1].c)
    PQfinish(lanes[1].c);
  for (size_t i = 0; i < nstmts; i++)
    free(stmts[i]);
  free(stmts);
  free(before);
  return ok;
}

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

struct copy_ctx {
  PGconn *c;
  const struct dsr_sample_progress *p;
};

static bool copy_write(void *ctx, const char *data, size_t len)
{
  struct copy_ctx *cc = ctx;
  while (len > 0) {
    int chunk = len > (1u << 30) ? (1 << 30) : (int)len;
    if (PQputCopyData(cc->c, data, chunk) != 1)
      return false;
    data += chunk;
    len -= (size_t)chunk;
  }
  return true;
}

static void copy_progress(void *ctx, double fraction)
{
  struct copy_ctx *cc = ctx;
  if (cc->p && cc->p->table_progress)
    cc->p->table_progress(cc->p->ctx, fraction);
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

static void phase(const struct dsr_sample_progress *p, const char *what)
{
  if (p && p->phase)
    p->phase(p->ctx, what);
}

bool dsr_sample_load(PGconn *c, struct dsr_sample *g, const struct dsr_sample_progress *p,
                     struct dsr_sample_counts *counts, char *err, size_t errlen)
{
  const char *schema = dsr_sample_schema[0].text;
  const char *split = strstr(schema, DSR_SAMPLE_SCHEMA_SPLIT);
  size_t ntables = 0;
  const struct dsr_sample_table *tables = dsr_sample_tables(&ntables);
  char *before = NULL;
  bool in_tx = false, ok = false;
  memset(counts, 0, sizeof *counts);
  if (!split || ntables > DSR_ARRAY_LEN(counts->rows)) {
    snprintf(err, errlen, "the compiled-in schema has no post-load marker");
    goto cleanup;
  }
  before = strndup(schema, (size_t)(split - schema));
  if (!before) {
    snprintf(err, errlen, "out of memory");
    goto cleanup;
  }
  if (!exec_ok(c, "BEGIN", "begin", err, errlen))
    goto cleanup;
  in_tx = true;
  phase(p, "creating tables");
  if (!exec_ok(c, before, "schema", err, errlen))
    goto cleanup;
  for (size_t t = 0; t < ntables; t++) {
    char sql[1024];
    snprintf(sql, sizeof sql, "COPY %s (%s) FROM STDIN WITH (FREEZE)", tables[t].name,
             tables[t].columns);
    if (p && p->table_start)
      p->table_start(p->ctx, t, ntables, tables[t].name);
    double t0 = mono_ms();
    PGresult *r = PQexec(c, sql);
    if (PQresultStatus(r) != PGRES_COPY_IN) {
      snprintf(err, errlen, "COPY %s: %s", tables[t].name,
               r ? PQresultErrorMessage(r) : PQerrorMessage(c));
      PQclear(r);
      goto cleanup;
    }
    PQclear(r);
    struct copy_ctx cc = {c, p};
    struct dsr_sample_sink sink = {copy_write, copy_progress, &cc};
    char gen_err[512] = "";
    long rows = dsr_sample_emit(g, t, &sink, gen_err, sizeof gen_err);
    if (!copy_finish(c, rows < 0, tables[t].name, err, errlen)) {
      if (rows < 0)
        snprintf(err, errlen, "%s", gen_err);
      goto cleanup;
    }
    counts->rows[t] = rows;
    if (p && p->table_done)
      p->table_done(p->ctx, tables[t].name, rows, mono_ms() - t0);
  }
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
  if (!exec_ok(c, split, "indexes", err, errlen))
    goto cleanup;
  if (!exec_ok(c, "COMMIT", "commit", err, errlen))
    goto cleanup;
  in_tx = false;
  phase(p, "analyzing");
  if (!exec_ok(c, "ANALYZE", "analyze", err, errlen))
    goto cleanup;
  ok = true;
cleanup:
  if (in_tx) {
    PGresult *r = PQexec(c, "ROLLBACK");
    PQclear(r);
  }
  free(before);
  return ok;
}

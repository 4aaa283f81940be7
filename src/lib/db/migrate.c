/** @file migrate.c @brief Applies the compiled-in migrations in order. */
#include "config.h"
#include "dsr/migrate.h"
#include "dsr/db.h"
#include "dsr/embedded.h"
#include "dsr/log.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Bootstrap DDL cannot be a prepared statement (PREPARE takes DML only). */
static const char bootstrap_sql[] =
    "CREATE TABLE IF NOT EXISTS dsr_schema_migrations ("
    " version integer PRIMARY KEY, name text NOT NULL, checksum text NOT NULL,"
    " applied_at timestamptz NOT NULL)";
/* Any constant works; it only has to be the same in every dsrd process. */
static const char lock_sql[] = "SELECT pg_advisory_lock(727203100)";
static const char unlock_sql[] = "SELECT pg_advisory_unlock(727203100)";

int dsr_migrations_count(void)
{
  int n = 0;
  while (dsr_migrations[n].name)
    n++;
  return n;
}

static void checksum(const char *text, char out[65])
{
  unsigned char h[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(h, (const unsigned char *)text, strlen(text));
  sodium_bin2hex(out, 65, h, sizeof h);
}

static bool exec_ok(PGconn *c, const char *sql, char *err, size_t errlen, const char *what)
{
  PGresult *r = PQexec(c, sql);
  bool ok = PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK;
  if (!ok)
    snprintf(err, errlen, "%s: %s", what, PQresultErrorMessage(r));
  PQclear(r);
  return ok;
}

static bool apply_one(struct dsr_db *db, int version, const struct dsr_embedded_file *m,
                      const char *sum, char *err, size_t errlen)
{
  PGconn *c = db->conn;
  if (!exec_ok(c, "BEGIN", err, errlen, m->name))
    return false;
  bool ok = exec_ok(c, m->text, err, errlen, m->name);
  if (ok) {
    char v[16];
    snprintf(v, sizeof v, "%d", version);
    const char *params[] = {v, m->name, sum};
    PGresult *r = dsr_db_exec(db, DSR_STMT_MIGRATION_RECORD, 3, params);
    ok = dsr_db_ok(r);
    if (!ok)
      snprintf(err, errlen, "%s: recording it failed: %s", m->name, PQresultErrorMessage(r));
    PQclear(r);
  }
  if (ok)
    ok = exec_ok(c, "COMMIT", err, errlen, m->name);
  else
    (void)exec_ok(c, "ROLLBACK", err + strlen(err), 0, m->name);
  return ok;
}

bool dsr_migrate(PGconn *conn, int *applied, char *err, size_t errlen)
{
  *applied = 0;
  struct dsr_db *db = dsr_db_wrap(conn);
  PGresult *r = NULL;
  bool locked = false, ok = false;
  if (!db) {
    snprintf(err, errlen, "out of memory");
    return false;
  }
  if (!exec_ok(conn, lock_sql, err, errlen, "migration lock"))
    goto cleanup;
  locked = true;
  /* IF NOT EXISTS would print a NOTICE on every run: only warnings matter here. */
  if (!exec_ok(conn, "SET client_min_messages = warning", err, errlen, "migration setup") ||
      !exec_ok(conn, bootstrap_sql, err, errlen, "migration table"))
    goto cleanup;
  r = dsr_db_exec(db, DSR_STMT_MIGRATION_APPLIED, 0, NULL);
  if (!dsr_db_ok(r)) {
    snprintf(err, errlen, "reading applied migrations: %s", PQresultErrorMessage(r));
    goto cleanup;
  }
  for (int i = 0; dsr_migrations[i].name; i++) {
    const struct dsr_embedded_file *m = &dsr_migrations[i];
    int version = atoi(m->name);
    char sum[65];
    checksum(m->text, sum);
    const char *recorded = NULL;
    for (int row = 0; row < PQntuples(r); row++)
      if (atoi(PQgetvalue(r, row, 0)) == version)
        recorded = PQgetvalue(r, row, 2);
    if (recorded) {
      if (strcmp(recorded, sum) != 0)
        DSR_WARN("migrate.changed", "migration=%s msg=\"file differs from the applied version\"",
                 m->name);
      continue;
    }
    if (!apply_one(db, version, m, sum, err, errlen))
      goto cleanup;
    DSR_INFO("migrate.applied", "migration=%s", m->name);
    (*applied)++;
  }
  ok = true;
cleanup:
  PQclear(r);
  if (locked) {
    char ignored[8];
    (void)exec_ok(conn, unlock_sql, ignored, sizeof ignored, "unlock");
  }
  dsr_db_unwrap(db);
  return ok;
}

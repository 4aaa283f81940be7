/**
 * @file rectify.c
 * @brief Rectification: the corrections a request carries (checked and
 *        stored at intake, requests/corrections.c); staff approve or
 *        reject each; an approved part applies the approved ones in its
 *        scope and records, per correction and part, the rows changed and
 *        keyed hashes of the values before and after (never the values).
 */
#include "config.h"
#include "dsr/discovery.h"
#include "dsr/log.h"
#include "dsr/parts.h"
#include "dsr/queue.h"
#include "dsr/rights.h"
#include "rights_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct decide_ctx {
  const char *request_id, *idx, *decision, *actor;
  enum dsr_ec ec;
};

static enum dsr_tx_status decide_body(struct dsr_db *db, void *arg)
{
  struct decide_ctx *c = arg;
  c->ec = DSR_OK;
  char now[24];
  snprintf(now, sizeof now, "%lld", (long long)dsr_now());
  const char *state = !strcmp(c->decision, "approve") ? "approved" : "rejected";
  const char *v[] = {c->request_id, c->idx, state, c->actor, now};
  PGresult *r = NULL;
  enum dsr_tx_status s = dsr_tx_exec(db, DSR_STMT_CORRECTION_DECIDE, 5, v, &r);
  if (s != DSR_TX_COMMIT)
    return s;
  bool changed = PQntuples(r) == 1;
  PQclear(r);
  if (!changed) {
    const char *ev[] = {c->request_id, c->idx};
    s = dsr_tx_exec(db, DSR_STMT_CORRECTION_EXISTS, 2, ev, &r);
    if (s != DSR_TX_COMMIT)
      return s;
    c->ec = PQntuples(r) == 1 ? DSR_E_CONFLICT : DSR_E_NOT_FOUND;
    PQclear(r);
    return DSR_TX_ROLLBACK;
  }
  s = dsr_tx_event(db, c->request_id, "correction.decided", c->actor,
                   json_pack("{s:i, s:s}", "index", atoi(c->idx), "decision", state));
  if (s != DSR_TX_COMMIT)
    return s;
  return dsr_part_execute_enqueue(db, c->request_id, NULL); /* approved parts may go on now */
}

enum dsr_ec dsr_correction_decide(struct dsr_db *db, const char *request_id, int idx,
                                  const char *decision, const char *actor)
{
  char is[16];
  snprintf(is, sizeof is, "%d", idx);
  struct decide_ctx c = {.request_id = request_id, .idx = is, .decision = decision,
                         .actor = actor};
  if (dsr_db_tx(db, "READ COMMITTED", decide_body, &c))
    return DSR_OK;
  return c.ec != DSR_OK ? c.ec : DSR_E_DB_UNAVAILABLE;
}

/* Keyed hash (DSR_KEY_IDENTITY) of the old values, sorted by the query, NUL-separated. */
static void hash_values(PGresult *r, unsigned char out[DSR_HASH_BYTES])
{
  crypto_generichash_state st;
  unsigned char key[DSR_HASH_BYTES];
  dsr_keyed_hash(DSR_KEY_IDENTITY, "rectification", 13, key);
  crypto_generichash_init(&st, key, sizeof key, DSR_HASH_BYTES);
  for (int i = 0; i < PQntuples(r); i++) {
    const char *v = PQgetisnull(r, i, 0) ? "\x01null" : PQgetvalue(r, i, 0);
    crypto_generichash_update(&st, (const unsigned char *)v, strlen(v) + 1);
  }
  crypto_generichash_final(&st, out, DSR_HASH_BYTES);
  sodium_memzero(key, sizeof key);
}

/* Applies one approved correction on the platform; *rows and the hashes on success. */
static bool apply_one(PGconn *conn, const struct dsr_pcollection *c, const char *column,
                      const char *value, const struct scope *sc, long long *rows,
                      unsigned char before[DSR_HASH_BYTES], unsigned char after[DSR_HASH_BYTES])
{
  struct q q = {0};
  *rows = 0;
  char alias[32];
  q_puts(&q, "WITH old AS (SELECT ");
  for (size_t i = 0; i < c->nkey; i++) { /* every column of the key, as k0, k1 ... */
    snprintf(alias, sizeof alias, " AS k%zu, ", i);
    q_puts(&q, "x.");
    q_ident(&q, c->key[i]);
    q_puts(&q, alias);
  }
  q_puts(&q, "x.");
  q_ident(&q, column);
  q_puts(&q, "::text AS v FROM ");
  q_ident(&q, c->schema);
  q_puts(&q, ".");
  q_ident(&q, c->table);
  q_puts(&q, " x WHERE ");
  bool any = q_identity(&q, c, sc);
  q_tenant(&q, c, sc);
  q_puts(&q, " FOR UPDATE) UPDATE ");
  q_ident(&q, c->schema);
  q_puts(&q, ".");
  q_ident(&q, c->table);
  q_puts(&q, " x SET ");
  q_ident(&q, column);
  q_puts(&q, " = ");
  q_param(&q, value, dsr_pcollection_column_type(c, column));
  q_puts(&q, " FROM old WHERE ");
  for (size_t i = 0; i < c->nkey; i++) {
    snprintf(alias, sizeof alias, " = old.k%zu", i);
    q_puts(&q, i ? " AND x." : "x.");
    q_ident(&q, c->key[i]);
    q_puts(&q, alias);
  }
  q_puts(&q, " RETURNING old.v ORDER BY 1");
  bool ok = !q.oom;
  if (ok && any) {
    /* RETURNING cannot sort: read the old values sorted through a wrapping CTE */
    struct dsr_buf w = {0};
    char *sql = q.sql.data;
    char *ret = strstr(sql, " RETURNING old.v ORDER BY 1");
    if (ret)
      *ret = '\0';
    ok = dsr_buf_printf(&w, "WITH u AS (%s RETURNING old.v) SELECT v FROM u ORDER BY 1", sql);
    PGresult *r = ok ? PQexecParams(conn, w.data, q.n, NULL, (const char *const *)q.vals, NULL,
                                    NULL, 0)
                     : NULL;
    ok = r && PQresultStatus(r) == PGRES_TUPLES_OK;
    if (ok) {
      *rows = PQntuples(r);
      hash_values(r, before);
    }
    PQclear(r);
    dsr_buf_free(&w);
  } else if (ok) {
    PGresult *r = PQmakeEmptyPGresult(NULL, PGRES_TUPLES_OK);
    hash_values(r, before);
    PQclear(r);
  }
  if (ok) {
    crypto_generichash_state st;
    unsigned char key[DSR_HASH_BYTES];
    dsr_keyed_hash(DSR_KEY_IDENTITY, "rectification", 13, key);
    crypto_generichash_init(&st, key, sizeof key, DSR_HASH_BYTES);
    crypto_generichash_update(&st, (const unsigned char *)value, strlen(value) + 1);
    crypto_generichash_final(&st, after, DSR_HASH_BYTES);
    sodium_memzero(key, sizeof key);
  }
  q_free(&q);
  return ok;
}

int dsr_rectify_run(struct dsr_db *db, const struct dsr_policy *p, const char *part_id,
                    const char *request_id, const char *tenant, char *err, size_t errlen)
{
  struct dsr_subject_values subj;
  PGconn *conn = NULL;
  PGresult *cr = NULL;
  char *claimed = NULL;
  int rc = DSR_JOB_RETRY;
  const char *dsn = p ? dsr_policy_pg_dsn(p) : NULL;
  if (!dsn) {
    snprintf(err, errlen, "no policy with a postgresql store: corrections cannot be applied");
    return DSR_JOB_FAIL;
  }
  const char *v[] = {request_id, part_id};
  cr = dsr_db_exec(db, DSR_STMT_CORRECTIONS_FOR_PART, 2, v);
  if (!dsr_db_ok(cr)) {
    PQclear(cr);
    snprintf(err, errlen, "database unavailable");
    return DSR_JOB_RETRY;
  }
  for (int i = 0; i < PQntuples(cr); i++)
    if (!strcmp(PQgetvalue(cr, i, 4), "pending")) {
      PQclear(cr);
      return DSR_JOB_DONE; /* staff decide first; each decision enqueues this again */
    }
  if (!dsr_subject_load(db, request_id, &subj)) {
    PQclear(cr);
    snprintf(err, errlen, "cannot read the subject's identities");
    return DSR_JOB_RETRY;
  }
  PGresult *r = dsr_db_exec(db, DSR_STMT_RIGHTS_CLAIMED, 0, NULL);
  if (dsr_db_ok(r) && PQntuples(r) == 1)
    claimed = strdup(PQgetvalue(r, 0, 0));
  PQclear(r);
  conn = claimed ? PQconnectdb(dsn) : NULL;
  if (!conn || PQstatus(conn) != CONNECTION_OK) {
    snprintf(err, errlen, "the policy's postgresql store is not reachable");
    goto cleanup;
  }
  struct dsr_subject s = dsr_subject_of(&subj);
  char now[24];
  snprintf(now, sizeof now, "%lld", (long long)dsr_now());
  struct scope sc = {.subj = &s, .tenant = tenant, .claimed = claimed, .now = now,
                     .phone_region = dsr_policy_phone_region(p)};
  long long total = 0;
  int applied = 0;
  for (int i = 0; i < PQntuples(cr); i++) {
    if (strcmp(PQgetvalue(cr, i, 4), "approved") != 0)
      continue;
    const struct dsr_pcollection *c = dsr_policy_collection(p, PQgetvalue(cr, i, 1));
    const char *col = PQgetvalue(cr, i, 2);
    if (!c || !dsr_pcollection_column_type(c, col))
      continue; /* the policy changed since: nothing to apply */
    size_t n = 0, pl = 0;
    unsigned char *raw = PQunescapeBytea((const unsigned char *)PQgetvalue(cr, i, 3), &n);
    unsigned char *plain = NULL;
    bool ok = raw && dsr_unseal(raw, n, &plain, &pl);
    PQfreemem(raw);
    long long rows = 0;
    unsigned char before[DSR_HASH_BYTES], after[DSR_HASH_BYTES];
    bool skip = c->owner == DSR_OWNER_CONTROLLER && tenant;
    if (ok && !skip) {
      PQclear(PQexec(conn, "BEGIN"));
      ok = apply_one(conn, c, col, (const char *)plain, &sc, &rows, before, after);
      /* platform first: a crash before dsrd records it re-applies the same value */
      PGresult *cm = PQexec(conn, ok ? "COMMIT" : "ROLLBACK");
      ok = ok && PQresultStatus(cm) == PGRES_COMMAND_OK;
      PQclear(cm);
      char rs[24];
      snprintf(rs, sizeof rs, "%lld", rows);
      const char *av[] = {PQgetvalue(cr, i, 0), part_id, rs, (const char *)before,
                          (const char *)after, now};
      const int lens[] = {0, 0, 0, DSR_HASH_BYTES, DSR_HASH_BYTES, 0};
      const int fmts[] = {0, 0, 0, 1, 1, 0};
      PGresult *ar = ok ? dsr_db_exec_bin(db, DSR_STMT_CORRECTION_APPLIED, 6, av, lens, fmts)
                        : NULL;
      ok = ok && dsr_db_ok(ar);
      PQclear(ar);
    }
    if (plain) {
      sodium_memzero(plain, pl);
      free(plain);
    }
    if (!ok) {
      snprintf(err, errlen, "applying a correction to %s failed", c->name);
      goto cleanup;
    }
    total += rows;
    applied += !skip;
  }
  rc = dsr_rights_finish(db, part_id, request_id, "rectification.applied",
                         json_pack("{s:s, s:i, s:I}", "part_id", part_id, "corrections", applied,
                                   "rows", (json_int_t)total),
                         err, errlen);
  DSR_INFO("rectification.applied", "part=%s corrections=%d rows=%lld", part_id, applied, total);
cleanup:
  if (conn)
    PQfinish(conn);
  PQclear(cr);
  free(claimed);
  dsr_subject_free(&subj);
  return rc;
}

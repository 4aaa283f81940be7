/**
 * @file ctl_policy.c
 * @brief dsrctl policy lint FILE [--live] and dsrctl policy explain: check a
 *        policy file (and, with --live, the live schema of its stores), and
 *        print the access or erasure plan of a subject without changing
 *        anything.
 */
#include "config.h"
#include "ctl.h"
#include "dsr/db.h"
#include "dsr/filepath.h"
#include "dsr/planner.h"
#include "dsr/sqlbuild.h"
#include "dsr/sweep.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const struct {
  enum dsr_stmt st;
  const char *sql;
} fixed_sql[] = {
#define DSR_X_POLICY(e, sql) {e, sql},
    DSR_STMTS_POLICY(DSR_X_POLICY)
#undef DSR_X_POLICY
};

static PGresult *exec_fixed(PGconn *c, enum dsr_stmt st, int n, const char *const *params)
{
  for (size_t i = 0; i < DSR_ARRAY_LEN(fixed_sql); i++)
    if (fixed_sql[i].st == st)
      return PQexecParams(c, fixed_sql[i].sql, n, NULL, params, NULL, NULL, 0);
  return NULL;
}

/** Connection string of a postgresql store, or NULL when not configured. */
static const char *store_dsn(const struct dsr_pstore *s)
{
  if (s->dsn)
    return s->dsn;
  const char *v = s->dsn_env ? getenv(s->dsn_env) : NULL;
  return v && *v ? v : NULL;
}

/* Canonical spelling of a type for comparison (format_type() output). */
static const char *canon_type(const char *t)
{
  static const char *const map[][2] = {
      {"int8", "bigint"},       {"int4", "integer"},          {"int", "integer"},
      {"int2", "smallint"},     {"bool", "boolean"},          {"float8", "double precision"},
      {"float4", "real"},       {"timestamptz", "timestamp with time zone"},
      {"timestamp", "timestamp without time zone"},           {"varchar", "character varying"},
      {"int8[]", "bigint[]"},   {"int4[]", "integer[]"},      {"bool[]", "boolean[]"}};
  for (size_t i = 0; i < DSR_ARRAY_LEN(map); i++)
    if (!strcmp(t, map[i][0]))
      return map[i][1];
  return t;
}

static bool same_type(const char *declared, const char *live)
{
  if (!strcmp(canon_type(declared), live))
    return true;
  /* "varchar(20)" vs "character varying(20)" */
  if (!strncmp(declared, "varchar(", 8) && !strncmp(live, "character varying(", 18))
    return !strcmp(declared + 7, live + 17);
  return false;
}

/* Checks one collection against the live schema; returns the number of errors. */

/*
 * Column names as a text[] literal for a catalog query (@p lit), as the reader
 * wrote them (@p shown: "a, b") and quoted for a statement to run (@p quoted).
 */
static bool names_literal(const char *const *cols, size_t n, struct dsr_buf *lit,
                          struct dsr_buf *shown, struct dsr_buf *quoted)
{
  bool ok = dsr_buf_puts(lit, "{") && dsr_buf_puts(shown, "") && dsr_buf_puts(quoted, "");
  for (size_t i = 0; ok && i < n; i++)
    ok = dsr_sql_array_add(lit, cols[i], i == 0) &&
         dsr_buf_printf(shown, "%s%s", i ? ", " : "", cols[i]) &&
         dsr_buf_puts(quoted, i ? ", " : "") && dsr_sql_ident(quoted, cols[i]);
  return ok && dsr_buf_puts(lit, "}");
}
static int live_collection(PGconn *conn, const struct dsr_policy *p,
                           const struct dsr_pcollection *c, int *warnings)
{
  const char *pr[3] = {c->schema, c->table, NULL};
  int errors = 0;
  PGresult *r = exec_fixed(conn, DSR_STMT_POLICY_COLUMNS, 2, pr);
  if (PQresultStatus(r) != PGRES_TUPLES_OK) {
    printf("%s: collections.%s: cannot read the catalog: %s", dsr_policy_path(p), c->name,
           PQresultErrorMessage(r));
    PQclear(r);
    return 1;
  }
  if (PQntuples(r) == 0) {
    printf("%s: collections.%s: error: table %s.%s does not exist in store \"%s\" (expected the "
           "table of this collection)\n", dsr_policy_path(p), c->name, c->schema, c->table,
           c->store->name);
    PQclear(r);
    return 1;
  }
  for (size_t i = 0; i < c->ncolumns; i++) {
    const char *live = NULL;
    for (int row = 0; row < PQntuples(r); row++)
      if (!strcmp(PQgetvalue(r, row, 0), c->columns[i].name))
        live = PQgetvalue(r, row, 1);
    if (!live) {
      printf("%s: collections.%s.columns.%s: error: no column %s in table %s.%s (expected an "
             "existing column)\n", dsr_policy_path(p), c->name, c->columns[i].name,
             c->columns[i].name, c->schema, c->table);
      errors++;
    } else if (!same_type(c->columns[i].type, live)) {
      printf("%s: collections.%s.columns.%s: error: declared \"%s\" but the column is \"%s\" "
             "(expected the live type)\n", dsr_policy_path(p), c->name, c->columns[i].name,
             c->columns[i].type, live);
      errors++;
    }
  }
  PQclear(r);
  struct dsr_buf keys = {0}, shown = {0}, quoted = {0};
  bool ok = names_literal(c->key, c->nkey, &keys, &shown, &quoted);
  const char *pk[3] = {c->schema, c->table, keys.data};
  PGresult *ru = ok ? exec_fixed(conn, DSR_STMT_POLICY_KEY_UNIQUE, 3, pk) : NULL;
  if (PQresultStatus(ru) == PGRES_TUPLES_OK && atol(PQgetvalue(ru, 0, 0)) == 0) {
    printf("%s: collections.%s.primary_key: error: no unique index on %s.%s (%s) (expected the "
           "declared key to be unique: erasure and sweeps address rows by it)\n",
           dsr_policy_path(p), c->name, c->schema, c->table, shown.data);
    errors++;
  }
  PQclear(ru);
  for (size_t k = 0; ok && k < c->nreferences; k++) {
    const struct dsr_preference *ref = &c->references[k];
    dsr_buf_free(&keys);
    dsr_buf_free(&shown);
    dsr_buf_free(&quoted);
    if (!(ok = names_literal(ref->columns, ref->ncolumns, &keys, &shown, &quoted)))
      break;
    const char *pi[3] = {c->schema, c->table, keys.data};
    PGresult *ri = exec_fixed(conn, DSR_STMT_POLICY_COLUMN_INDEXED, 3, pi);
    if (PQresultStatus(ri) == PGRES_TUPLES_OK && atol(PQgetvalue(ri, 0, 0)) == 0) {
      struct dsr_buf stmt = {0};
      bool sok = dsr_buf_puts(&stmt, "CREATE INDEX ON ") && dsr_sql_ident(&stmt, c->schema) &&
                 dsr_buf_puts(&stmt, ".") && dsr_sql_ident(&stmt, c->table) &&
                 dsr_buf_printf(&stmt, " (%s);", quoted.data);
      printf("%s: collections.%s.references[%zu]: warning: no index on reference column%s %s "
             "(erasure scans the table); run: %s\n", dsr_policy_path(p), c->name, k,
             ref->ncolumns > 1 ? "s" : "", shown.data, sok ? stmt.data : "?");
      dsr_buf_free(&stmt);
      (*warnings)++;
    }
    PQclear(ri);
  }
  if (!ok) {
    printf("%s: collections.%s: error: out of memory\n", dsr_policy_path(p), c->name);
    errors++;
  }
  dsr_buf_free(&keys);
  dsr_buf_free(&shown);
  dsr_buf_free(&quoted);
  return errors;
}

/*
 * PREPAREs one generated statement on the live store and checks that it takes
 * exactly the @p nparams parameters dsrd binds; prints PostgreSQL's own
 * message on failure. Returns the number of errors (0 or 1).
 */
static int live_prepare(PGconn *conn, const struct dsr_policy *p, const char *coll,
                        const char *what, const char *sql, size_t nparams)
{
  if (!sql)
    return 0;
  PGresult *r = PQprepare(conn, "dsr_lint", sql, 0, NULL);
  int errors = 0;
  if (PQresultStatus(r) != PGRES_COMMAND_OK) {
    printf("%s: collections.%s: error: the %s statement does not prepare: %s", dsr_policy_path(p),
           coll, what, PQresultErrorMessage(r));
    errors = 1;
  } else {
    PGresult *d = PQdescribePrepared(conn, "dsr_lint");
    if (PQresultStatus(d) == PGRES_COMMAND_OK && (size_t)PQnparams(d) != nparams) {
      printf("%s: collections.%s: error: the %s statement uses %d parameters but dsrd binds %zu\n",
             dsr_policy_path(p), coll, what, PQnparams(d), nparams);
      errors = 1;
    }
    PQclear(d);
    PQclear(PQexec(conn, "DEALLOCATE dsr_lint"));
  }
  PQclear(r);
  return errors;
}

/*
 * Every statement the planner, the executor's page queries, the sweep and
 * the exporter would generate for this policy, prepared against the live
 * store, so that what would fail at run time fails here.
 */
static int live_statements(PGconn *conn, const struct dsr_policy *p)
{
  int errors = 0;
  struct dsr_sweep_step *sw = NULL;
  size_t nsw = 0;
  if (!dsr_sweep_steps(p, 0, &sw, &nsw)) {
    printf("%s: error: out of memory building the sweep\n", dsr_policy_path(p));
    return 1;
  }
  for (size_t i = 0; i < nsw; i++) {
    const char *name = sw[i].st.coll->name;
    errors += live_prepare(conn, p, name, "retention sweep's page", sw[i].keys_sql,
                           sw[i].nparams);
    errors += live_prepare(conn, p, name, "retention sweep's count", sw[i].count_sql,
                           sw[i].ncount_params);
  }
  dsr_sweep_steps_free(sw, nsw);
  /* A subject of every kind, found nowhere: the plans still hold every statement shape. */
  const struct dsr_subject probe = {"lint.probe@example.invalid", "+10000000000", "0"};
  for (int k = 0; k < 2; k++) {
    char err[512] = "";
    enum dsr_plan_kind kind = k ? DSR_PLAN_ERASURE : DSR_PLAN_ACCESS;
    const char *kname = k ? "erasure" : "access";
    struct dsr_plan *plan = dsr_plan_build(p, conn, kind, &probe, err, sizeof err);
    if (!plan) {
      printf("%s: error: the %s plan fails on the live store: %s\n", dsr_policy_path(p), kname,
             err);
      errors++;
      continue;
    }
    for (size_t i = 0; i < plan->nparts; i++)
      for (size_t j = 0; j < plan->parts[i].nsteps; j++) {
        const struct dsr_plan_step *st = &plan->parts[i].steps[j];
        char what[64];
        snprintf(what, sizeof what, "%s step's", kname);
        errors += live_prepare(conn, p, st->coll->name, what, st->sql, st->nparams);
        snprintf(what, sizeof what, "%s page", kname);
        errors += live_prepare(conn, p, st->coll->name, what, st->keys_sql, st->nkeys_params);
      }
    if (!k)
      errors += live_prepare(conn, p, "(all)", "export", plan->export_sql, plan->nexport_params);
    dsr_plan_free(plan);
  }
  return errors;
}

/* Resolves a sample of each files column of @p c (dsr/filepath.h); returns the number of
 * columns with values outside every root of their store (refused at run time). */
static int live_files(PGconn *conn, const struct dsr_policy *p, const struct dsr_pcollection *c)
{
  int errors = 0;
  for (size_t f = 0; f < c->nfiles; f++) {
    char *sql = dsr_sql_files_sample(c, c->files[f].column);
    const char *v[] = {"1000"};
    PGresult *r = sql ? PQexecParams(conn, sql, 1, NULL, v, NULL, NULL, 0) : NULL;
    free(sql);
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
      PQclear(r);
      continue; /* the column check above reports a missing table or column */
    }
    long refused = 0;
    const char *first_key = NULL, *why = NULL;
    for (int i = 0; i < PQntuples(r); i++) {
      struct dsr_fpath fp;
      enum dsr_fpath_status st = dsr_fpath_resolve(c->files[f].store, PQgetvalue(r, i, 1), &fp);
      if (st == DSR_FPATH_OK || st == DSR_FPATH_NO_ROOT)
        continue;
      if (refused++ == 0) {
        first_key = PQgetvalue(r, i, 0);
        why = dsr_fpath_reason(st, 0);
      }
    }
    if (refused > 0) {
      /* keys only: a path may name the subject */
      printf("%s: collections.%s.files[%zu]: error: %ld of %d sampled values are refused (%s; "
             "first in the row with key %s) (expected paths under a root of store \"%s\", or "
             "object keys its prefixes map)\n",
             dsr_policy_path(p), c->name, f, refused, PQntuples(r), why, first_key,
             c->files[f].store->name);
      errors++;
    }
    PQclear(r);
  }
  return errors;
}

static int lint(int argc, char **argv)
{
  const char *file = NULL;
  bool live = false;
  for (int i = 2; i < argc; i++) {
    if (!strcmp(argv[i], "--live"))
      live = true;
    else if (argv[i][0] != '-' && !file)
      file = argv[i];
    else {
      ctl_error("policy lint: unknown argument %s (usage: dsrctl policy lint FILE [--live])", argv[i]);
      return 2;
    }
  }
  if (!file) {
    ctl_error("policy lint: missing FILE (usage: dsrctl policy lint FILE [--live])");
    return 2;
  }
  struct dsr_diags d = {0};
  struct dsr_policy *p = dsr_policy_check(file, &d);
  for (size_t i = 0; i < d.n; i++)
    printf("%s%s\n", d.v[i].text, d.v[i].level == DSR_DIAG_WARNING ? " [warning]" : "");
  int errors = (int)d.errors, warnings = (int)d.warnings;
  dsr_diags_free(&d);
  if (p && live) {
    for (size_t s = 0; s < dsr_policy_store_count(p); s++) {
      const struct dsr_pstore *st = dsr_policy_store_at(p, s);
      if (st->type != DSR_STORE_POSTGRESQL)
        continue;
      const char *dsn = store_dsn(st);
      PGconn *conn = dsn ? PQconnectdb(dsn) : NULL;
      if (!conn || PQstatus(conn) != CONNECTION_OK) {
        printf("%s: stores.%s: error: store not reachable (expected %s)\n", file, st->name,
               st->dsn_env ? "its environment variable to hold a working DSN" : "a working DSN");
        errors++;
        PQfinish(conn);
        continue;
      }
      int schema_errors = 0;
      for (size_t i = 0; i < dsr_policy_collection_count(p); i++) {
        const struct dsr_pcollection *c = dsr_policy_topo_at(p, i);
        if (c->store == st) {
          schema_errors += live_collection(conn, p, c, &warnings);
          errors += live_files(conn, p, c);
        }
      }
      /* Statements are prepared once the tables and columns they name exist. */
      errors += schema_errors ? schema_errors : live_statements(conn, p);
      PQfinish(conn);
    }
  }
  printf("%s: %d error%s, %d warning%s\n", file, errors, errors == 1 ? "" : "s", warnings,
         warnings == 1 ? "" : "s");
  dsr_policy_free(p);
  return errors ? 1 : 0;
}

static int explain(int argc, char **argv)
{
  const char *file = NULL;
  struct dsr_subject subj = {0};
  bool json = false, access = false, sql = false;
  for (int i = 2; i < argc; i++) {
    const char **slot = !strcmp(argv[i], "--policy")       ? &file
                        : !strcmp(argv[i], "--email")      ? &subj.email
                        : !strcmp(argv[i], "--phone")      ? &subj.phone
                        : !strcmp(argv[i], "--account-id") ? &subj.account_id
                                                           : NULL;
    if (slot && i + 1 < argc) {
      *slot = argv[++i];
    } else if (!strcmp(argv[i], "--json")) {
      json = true;
    } else if (!strcmp(argv[i], "--access")) {
      access = true;
    } else if (!strcmp(argv[i], "--sql")) {
      sql = true;
    } else {
      ctl_error("policy explain: bad argument %s (usage: dsrctl policy explain --policy FILE "
                "[--email X] [--phone Y] [--account-id Z] [--access] [--json] [--sql])", argv[i]);
      return 2;
    }
  }
  if (!file || (!subj.email && !subj.phone && !subj.account_id)) {
    ctl_error("policy explain: need --policy FILE and at least one of --email, --phone, --account-id");
    return 2;
  }
  char err[1024];
  int rc = 1;
  PGconn *conn = NULL;
  struct dsr_plan *plan = NULL;
  struct dsr_policy *p = dsr_policy_load(file, err, sizeof err);
  if (!p) {
    ctl_error("%s", err);
    goto cleanup;
  }
  const struct dsr_pstore *st = NULL;
  for (size_t i = 0; i < dsr_policy_store_count(p) && !st; i++)
    if (dsr_policy_store_at(p, i)->type == DSR_STORE_POSTGRESQL)
      st = dsr_policy_store_at(p, i);
  const char *dsn = st ? store_dsn(st) : NULL;
  if (!dsn) {
    ctl_error("store \"%s\" has no DSN (set %s)", st ? st->name : "?",
              st && st->dsn_env ? st->dsn_env : "its dsn");
    goto cleanup;
  }
  conn = PQconnectdb(dsn);
  if (PQstatus(conn) != CONNECTION_OK) {
    ctl_error("store \"%s\" not reachable: %s", st->name, PQerrorMessage(conn));
    goto cleanup;
  }
  plan = dsr_plan_build(p, conn, access ? DSR_PLAN_ACCESS : DSR_PLAN_ERASURE, &subj, err, sizeof err);
  if (!plan) {
    ctl_error("%s", err);
    goto cleanup;
  }
  /* A preview takes every identity it is given as verified; it says which those were. */
  const char *kinds[] = {"email", "phone", "account_id"};
  const char *vals[] = {subj.email, subj.phone, subj.account_id};
  if (json) {
    json_t *j = dsr_plan_to_json(plan), *used = json_object();
    for (size_t i = 0; used && i < DSR_ARRAY_LEN(kinds); i++)
      if (vals[i])
        json_object_set_new(used, kinds[i], json_string(vals[i]));
    if (j && used)
      json_object_set_new(j, "identities_used", json_incref(used));
    json_decref(used);
    char *s = j ? json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
    if (s)
      puts(s);
    free(s);
    json_decref(j);
  } else {
    printf("identities used:");
    for (size_t i = 0; i < DSR_ARRAY_LEN(kinds); i++)
      if (vals[i])
        printf(" %s %s", kinds[i], vals[i]);
    printf(" (a preview takes each as verified; a request uses only its verified ones)\n");
    dsr_plan_print(plan, stdout, sql);
  }
  rc = 0;
cleanup:
  dsr_plan_free(plan);
  PQfinish(conn);
  dsr_policy_free(p);
  return rc;
}

int ctl_policy(const struct dsr_config *cfg, int argc, char **argv)
{
  (void)cfg;
  if (argc >= 2 && !strcmp(argv[1], "lint"))
    return lint(argc, argv);
  if (argc >= 2 && !strcmp(argv[1], "explain"))
    return explain(argc, argv);
  ctl_error("policy: usage: dsrctl policy lint FILE [--live] | dsrctl policy explain --policy FILE "
            "[--email X] [--phone Y] [--account-id Z] [--access] [--json] [--sql]");
  return 2;
}

/**
 * @file backup_db.c
 * @brief Database backups of a platform store (pg_dump -Fc) and their
 *        restore (pg_restore into an empty database), followed by the replay
 *        of the erasure ledger through the executor (see backup.h).
 */
#include "config.h"
#include "executor_int.h"
#include "dsr/backup.h"
#include "dsr/log.h"
#include "dsr/parts.h"
#include "dsr/sqlbuild.h"
#include "dsr/sweep.h"

#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

/* Runs @p argv (a PostgreSQL program) and waits; true when it exited 0. */
static bool run_program(char *const argv[], char *err, size_t errlen)
{
  pid_t pid;
  int rc = posix_spawn(&pid, argv[0], NULL, NULL, argv, environ);
  if (rc != 0) {
    snprintf(err, errlen, "cannot run %s: %s", argv[0], strerror(rc));
    return false;
  }
  int st = 0;
  while (waitpid(pid, &st, 0) < 0)
    if (errno != EINTR) {
      snprintf(err, errlen, "cannot wait for %s: %s", argv[0], strerror(errno));
      return false;
    }
  if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
    snprintf(err, errlen, "%s failed (%s %d)", argv[0], WIFEXITED(st) ? "exit" : "signal",
             WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
    return false;
  }
  return true;
}

/* BLAKE2b-256 of file @p path in hex, and its size. */
static bool hash_file(const char *path, char hex[2 * DSR_HASH_BYTES + 1], long long *size,
                      char *err, size_t errlen)
{
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
    return false;
  }
  crypto_generichash_state st;
  crypto_generichash_init(&st, NULL, 0, DSR_HASH_BYTES);
  unsigned char buf[65536], h[DSR_HASH_BYTES];
  ssize_t n;
  *size = 0;
  while ((n = read(fd, buf, sizeof buf)) != 0) {
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0) {
      snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
      close(fd);
      return false;
    }
    crypto_generichash_update(&st, buf, (size_t)n);
    *size += n;
  }
  close(fd);
  crypto_generichash_final(&st, h, sizeof h);
  sodium_bin2hex(hex, 2 * DSR_HASH_BYTES + 1, h, sizeof h);
  return true;
}

static const char *store_dsn(const struct dsr_pstore *s)
{
  if (s->dsn)
    return s->dsn;
  const char *v = s->dsn_env ? getenv(s->dsn_env) : NULL;
  return v && *v ? v : NULL;
}

/* The postgresql store @p name of @p p and its DSN, or NULL with a message. */
static const struct dsr_pstore *pg_store(const struct dsr_policy *p, const char *name,
                                         const char **dsn, char *err, size_t errlen)
{
  const struct dsr_pstore *s = name ? dsr_policy_store(p, name) : NULL;
  if (!s || s->type != DSR_STORE_POSTGRESQL) {
    snprintf(err, errlen, "no postgresql store \"%s\" in the policy", name ? name : "");
    return NULL;
  }
  if (!(*dsn = store_dsn(s))) {
    snprintf(err, errlen, "store \"%s\" has no DSN here (set %s)", name,
             s->dsn_env ? s->dsn_env : "its dsn");
    return NULL;
  }
  return s;
}

struct created_ctx {
  const char *store, *hash, *size, *started, *finished;
  struct dsr_backup_info *info;
};

static enum dsr_tx_status created_body(struct dsr_db *db, void *arg)
{
  struct created_ctx *c = arg;
  const char *v[] = {c->store, c->hash, c->size, c->started, c->finished};
  PGresult *r = NULL;
  enum dsr_tx_status s = dsr_tx_exec(db, DSR_STMT_BACKUP_RECORD, 5, v, &r);
  if (s != DSR_TX_COMMIT)
    return s;
  dsr_strlcpy(c->info->id, PQgetvalue(r, 0, 0), sizeof c->info->id);
  dsr_strlcpy(c->info->started_at, PQgetvalue(r, 0, 1), sizeof c->info->started_at);
  PQclear(r);
  return dsr_tx_event(db, NULL, "backup.created", "system",
                      json_pack("{s:s, s:s, s:I}", "backup_id", c->info->id, "store", c->store,
                                "size_bytes", (json_int_t)c->info->size));
}

bool dsr_backup_create(struct dsr_db *db, const struct dsr_policy *p, const char *store,
                       const char *out_path, const char *pg_bindir,
                       struct dsr_backup_info *info, char *err, size_t errlen)
{
  const char *dsn = NULL;
  memset(info, 0, sizeof *info);
  if (!pg_store(p, store, &dsn, err, errlen))
    return false;
  int fd = open(out_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    snprintf(err, errlen, "cannot create %s: %s", out_path, strerror(errno));
    return false;
  }
  close(fd);
  char prog[4200], started[24], finished[24], size[24];
  snprintf(prog, sizeof prog, "%s/pg_dump", pg_bindir);
  snprintf(started, sizeof started, "%lld", (long long)dsr_now());
  char *argv[] = {prog, "--format=custom", "--no-owner", "--file", (char *)out_path,
                  "--dbname", (char *)dsn, NULL};
  if (!run_program(argv, err, errlen) ||
      !hash_file(out_path, info->hash, &info->size, err, errlen)) {
    (void)unlink(out_path);
    return false;
  }
  snprintf(finished, sizeof finished, "%lld", (long long)dsr_now());
  snprintf(size, sizeof size, "%lld", info->size);
  struct created_ctx c = {store, info->hash, size, started, finished, info};
  if (!dsr_db_tx(db, "READ COMMITTED", created_body, &c)) {
    snprintf(err, errlen, "cannot record the backup");
    return false;
  }
  DSR_INFO("backup.created", "backup=%s store=%s bytes=%lld", info->id, store, info->size);
  return true;
}

void dsr_restore_report_free(struct dsr_restore_report *r)
{
  json_decref(r->collections);
  json_decref(r->totals);
  memset(r, 0, sizeof *r);
}

/* ---- replay --------------------------------------------------------------------- */

/* The page query over the keys an erasure step recorded: the next of them in key order. */
static char *replay_keys_sql(const struct dsr_pcollection *c)
{
  struct psql s = {0};
  psql_puts(&s, "SELECT ");
  psql_key_text(&s, "x", c);
  psql_puts(&s, " FROM ");
  psql_table(&s, c);
  psql_puts(&s, " x WHERE ");
  psql_key_in(&s, "x", c, 1);
  psql_puts(&s, " AND ($2::text IS NULL OR ");
  psql_key_after(&s, "x", c, 2);
  psql_puts(&s, ") ORDER BY ");
  psql_key_cols(&s, "x", c);
  psql_puts(&s, " LIMIT $3::integer");
  char *sql = s.oom ? NULL : dsr_buf_steal(&s.sql);
  psql_free(&s);
  return sql;
}

static enum dsr_step_verb verb_of(const char *action)
{
  return !strcmp(action, "delete") ? DSR_STEP_DELETE
         : !strcmp(action, "mask") ? DSR_STEP_MASK
                                   : DSR_STEP_REDACT;
}

struct replay {
  struct dsr_exec ex;
  const struct dsr_policy *p;
  const struct dsr_pstore *store;
  char *err;
  size_t errlen;
};

/* Replays erasure entry @p seq (run @p run_id) by the keys it erased. */
static bool replay_erasure(struct replay *rp, long long seq, const char *run_id,
                           const char *identities)
{
  struct dsr_ledger_ids ids;
  struct dsr_exec_subject subj = {0};
  json_t *ij = json_loads(identities, 0, NULL);
  bool ok = ij && dsr_ledger_ids_parse(ij, &ids);
  json_decref(ij);
  if (!ok) {
    snprintf(rp->err, rp->errlen, "ledger entry %lld: malformed identities", seq);
    return false;
  }
  size_t bin = 0;
  subj.has_phone_hash = ids.has[DSR_ID_PHONE] &&
                        sodium_hex2bin(subj.phone_hash, sizeof subj.phone_hash,
                                       ids.hex[DSR_ID_PHONE], 64, NULL, &bin, NULL) == 0;
  subj.has_email_hash = ids.has[DSR_ID_EMAIL] &&
                        sodium_hex2bin(subj.email_hash, sizeof subj.email_hash,
                                       ids.hex[DSR_ID_EMAIL], 64, NULL, &bin, NULL) == 0;
  const char *region = dsr_policy_phone_region(rp->p);
  if (region)
    snprintf(subj.phone_region, sizeof subj.phone_region, "%s", region);
  rp->ex.subject = &subj;
  rp->ex.mask_kept = true; /* as the erasure did: kept rows lose the masked fields */
  const char *v[] = {run_id, rp->store->name};
  PGresult *r = dsr_db_exec(rp->ex.db, DSR_STMT_LEDGER_STEPS, 2, v);
  if (!dsr_db_ok(r)) {
    PQclear(r);
    snprintf(rp->err, rp->errlen, "ledger entry %lld: cannot read its keys", seq);
    return false;
  }
  for (int i = 0; ok && i < PQntuples(r); i++) {
    const struct dsr_pcollection *c = dsr_policy_collection(rp->p, PQgetvalue(r, i, 1));
    if (!c || c->store != rp->store) {
      DSR_WARN("backup.replay_skipped", "entry=%lld reason=collection_not_in_policy", seq);
      continue;
    }
    char *sql = replay_keys_sql(c);
    struct dsr_plan_param params[] = {{.label = "keys", .value = PQgetvalue(r, i, 4)},
                                      {.label = "cursor"},
                                      {.label = "limit"}};
    struct dsr_exec_step st = {.coll = c, .verb = verb_of(PQgetvalue(r, i, 2)), .keys_sql = sql,
                               .params = params, .nparams = 3};
    snprintf(st.key, sizeof st.key, "ledger-%lld:%s", seq, PQgetvalue(r, i, 0));
    ok = sql && dsr_exec_step_run(&rp->ex, &st, (int)(seq * 1000 + i), rp->err, rp->errlen) ==
                    DSR_EXEC_OK;
    if (!sql)
      snprintf(rp->err, rp->errlen, "out of memory");
    free(sql);
  }
  PQclear(r);
  rp->ex.subject = NULL;
  rp->ex.mask_kept = false;
  return ok;
}

/* Replays sweep entry @p seq by its rules at its cutoff. */
static bool replay_sweep(struct replay *rp, long long seq, time_t as_of)
{
  struct dsr_sweep_step *steps = NULL;
  size_t n = 0;
  if (!dsr_sweep_steps(rp->p, as_of, &steps, &n)) {
    snprintf(rp->err, rp->errlen, "out of memory");
    return false;
  }
  bool ok = true;
  for (size_t i = 0; ok && i < n; i++) {
    if (steps[i].st.coll->store != rp->store)
      continue;
    struct dsr_exec_step st = steps[i].st;
    if ((size_t)snprintf(st.key, sizeof st.key, "sweep-%lld:%s", seq, steps[i].st.key) >=
        sizeof st.key) {
      snprintf(rp->err, rp->errlen, "a sweep step's name is too long to replay");
      ok = false;
      break;
    }
    ok = dsr_exec_step_run(&rp->ex, &st, (int)(seq * 1000 + (long long)i), rp->err,
                           rp->errlen) == DSR_EXEC_OK;
  }
  dsr_sweep_steps_free(steps, n);
  return ok;
}

struct restored_ctx {
  const char *run_id;
  json_t *receipt; /* borrowed */
};

static enum dsr_tx_status restored_body(struct dsr_db *db, void *arg)
{
  struct restored_ctx *c = arg;
  bool first = false;
  enum dsr_tx_status s = dsr_exec_run_finish(db, c->run_id, c->receipt, &first);
  return s == DSR_TX_COMMIT && first
             ? dsr_tx_event(db, NULL, "backup.restored", "system", json_incref(c->receipt))
             : s;
}

/* Checks that @p c is an empty database. */
static bool empty_db(PGconn *c, char *err, size_t errlen)
{
  PGresult *r = PQexec(c, exec_fixed_sql(DSR_STMT_STORE_RELATIONS));
  bool ok = dsr_db_ok(r) && PQntuples(r) == 1;
  if (!ok)
    snprintf(err, errlen, "cannot inspect the target database");
  else if (atoll(PQgetvalue(r, 0, 0)) != 0) {
    snprintf(err, errlen, "the target database is not empty (%s relations); restore into a new "
                          "database (createdb NAME)", PQgetvalue(r, 0, 0));
    ok = false;
  }
  PQclear(r);
  return ok;
}

bool dsr_backup_restore(struct dsr_db *db, const struct dsr_policy *p, const char *from,
                        const char *into_conninfo, const char *pg_bindir, long batch_rows,
                        struct dsr_restore_report *out, char *err, size_t errlen)
{
  char hash[2 * DSR_HASH_BYTES + 1], store_name[128], prog[4200], run_id[40] = "";
  long long size = 0;
  PGresult *r = NULL;
  PGconn *target = NULL;
  json_t *receipt = NULL;
  bool ok = false;
  memset(out, 0, sizeof *out);
  if (!hash_file(from, hash, &size, err, errlen))
    return false;
  const char *hv[] = {hash};
  r = dsr_db_exec(db, DSR_STMT_BACKUP_FIND, 1, hv);
  if (!dsr_db_ok(r) || PQntuples(r) != 1) {
    if (dsr_db_ok(r))
      snprintf(err, errlen, "%s is not a backup recorded by dsrctl backup create (unknown "
                            "content hash)", from);
    else
      snprintf(err, errlen, "cannot read the recorded backups");
    goto cleanup;
  }
  dsr_strlcpy(out->backup_id, PQgetvalue(r, 0, 0), sizeof out->backup_id);
  dsr_strlcpy(store_name, PQgetvalue(r, 0, 1), sizeof store_name);
  dsr_strlcpy(out->backup_started_at, PQgetvalue(r, 0, 2), sizeof out->backup_started_at);
  PQclear(r);
  r = NULL;
  const char *dsn = NULL;
  const struct dsr_pstore *store = pg_store(p, store_name, &dsn, err, errlen);
  if (!store)
    goto cleanup;
  target = PQconnectdb(into_conninfo);
  if (PQstatus(target) != CONNECTION_OK) {
    snprintf(err, errlen, "cannot connect to the target database (create it first: createdb)");
    goto cleanup;
  }
  if (!empty_db(target, err, errlen))
    goto cleanup;
  snprintf(prog, sizeof prog, "%s/pg_restore", pg_bindir);
  char *argv[] = {prog, "--no-owner", "--no-privileges", "--exit-on-error", "--dbname",
                  (char *)into_conninfo, (char *)from, NULL};
  if (!run_program(argv, err, errlen))
    goto cleanup;
  /* the replay: a run of its own through the executor */
  char now[24];
  snprintf(now, sizeof now, "%lld", (long long)dsr_now());
  const char *nv[] = {now};
  r = dsr_db_exec(db, DSR_STMT_REPLAY_RUN_NEW, 1, nv);
  if (!dsr_db_ok(r) || PQntuples(r) != 1) {
    snprintf(err, errlen, "cannot open the replay");
    goto cleanup;
  }
  dsr_strlcpy(run_id, PQgetvalue(r, 0, 0), sizeof run_id);
  PQclear(r);
  struct replay rp = {.ex = {.db = db, .store = target, .policy = p, .batch_rows = batch_rows},
                      .p = p, .store = store, .err = err, .errlen = errlen};
  dsr_strlcpy(rp.ex.run_id, run_id, sizeof rp.ex.run_id);
  const char *lv[] = {out->backup_id};
  r = dsr_db_exec(db, DSR_STMT_LEDGER_SINCE, 1, lv);
  if (!dsr_db_ok(r)) {
    snprintf(err, errlen, "cannot read the erasure ledger");
    goto cleanup;
  }
  for (int i = 0; i < PQntuples(r); i++) {
    long long seq = atoll(PQgetvalue(r, i, 0));
    bool sweep = !strcmp(PQgetvalue(r, i, 2), "sweep");
    bool done = sweep ? replay_sweep(&rp, seq, (time_t)atoll(PQgetvalue(r, i, 3)))
                      : replay_erasure(&rp, seq, PQgetvalue(r, i, 1), PQgetvalue(r, i, 4));
    if (!done)
      goto cleanup;
    if (sweep)
      out->entries_sweep++;
    else
      out->entries_erasure++;
  }
  PQclear(r);
  r = NULL;
  long removed = 0, failed = 0;
  if (dsr_exec_files(&rp.ex, &removed, &failed, err, errlen) != DSR_EXEC_OK)
    goto cleanup;
  out->totals = json_object();
  out->collections = out->totals ? dsr_exec_receipt_collections(db, run_id, out->totals) : NULL;
  receipt = out->collections
                ? json_pack("{s:s, s:s, s:s, s:s, s:I, s:I, s:O, s:O}", "replay_id", run_id,
                            "backup_id", out->backup_id, "store", store_name,
                            "backup_started_at", out->backup_started_at, "ledger_erasures",
                            (json_int_t)out->entries_erasure, "ledger_sweeps",
                            (json_int_t)out->entries_sweep, "collections", out->collections,
                            "totals", out->totals)
                : NULL;
  struct restored_ctx rc = {run_id, receipt};
  if (!receipt || !dsr_db_tx(db, "READ COMMITTED", restored_body, &rc)) {
    snprintf(err, errlen, "cannot record the restore");
    goto cleanup;
  }
  DSR_INFO("backup.restored", "backup=%s replay=%s erasures=%ld sweeps=%ld", out->backup_id,
           run_id, out->entries_erasure, out->entries_sweep);
  ok = true;
cleanup:
  json_decref(receipt);
  PQclear(r);
  if (target)
    PQfinish(target);
  if (!ok) {
    json_decref(out->collections);
    json_decref(out->totals);
    out->collections = out->totals = NULL;
  }
  return ok;
}

/**
 * @file ctl_backup.c
 * @brief Erasure that reaches backups, from the command line:
 *        dsrctl backup create --store NAME [--out FILE] [--policy FILE]
 *        dsrctl backup restore --from FILE --into DB [--policy FILE] [--json]
 *        dsrctl key rotate | key status
 *        dsrctl media get FILE [--out FILE]
 */
#include "config.h"
#include "ctl.h"
#include "dsr/backup.h"
#include "dsr/media.h"
#include "dsr/policy.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* The value of option @p name at argv[*i] ("--name VALUE"); advances *i. */
static const char *opt(int argc, char **argv, int *i, const char *name)
{
  if (strcmp(argv[*i], name) != 0 || *i + 1 >= argc)
    return NULL;
  return argv[++*i];
}

/*
 * A conninfo for database @p into: itself when it is a conninfo or URI, else
 * the store's connection with dbname replaced. Caller frees.
 */
static char *target_conninfo(const struct dsr_policy *p, const char *store, const char *into)
{
  if (strchr(into, '=') || strstr(into, "://"))
    return strdup(into);
  const struct dsr_pstore *s = dsr_policy_store(p, store);
  const char *dsn = s ? s->dsn : NULL;
  if (s && !dsn && s->dsn_env)
    dsn = getenv(s->dsn_env);
  PQconninfoOption *o = dsn ? PQconninfoParse(dsn, NULL) : NULL;
  struct dsr_buf b = {0};
  bool ok = dsr_buf_puts(&b, "");
  for (PQconninfoOption *k = o; ok && k && k->keyword; k++) {
    const char *v = !strcmp(k->keyword, "dbname") ? into : k->val;
    if (!v)
      continue;
    ok = dsr_buf_printf(&b, "%s%s='", b.len ? " " : "", k->keyword);
    for (const char *c = v; ok && *c; c++)
      ok = dsr_buf_printf(&b, "%s%c", *c == '\'' || *c == '\\' ? "\\" : "", *c);
    ok = ok && dsr_buf_puts(&b, "'");
  }
  if (o)
    PQconninfoFree(o);
  if (!ok || !o) {
    dsr_buf_free(&b);
    return dsr_asprintf("dbname='%s'", into);
  }
  return dsr_buf_steal(&b);
}

static void print_restore(const struct dsr_restore_report *r)
{
  printf("restored backup %s (taken %s); replayed %ld erasure(s) and %ld sweep(s) recorded "
         "since\n", r->backup_id, r->backup_started_at, r->entries_erasure, r->entries_sweep);
  printf("%-24s %-8s %10s %8s\n", "re-erased", "action", "rows", "files");
  size_t i;
  const json_t *c;
  json_array_foreach(r->collections, i, c)
    printf("%-24s %-8s %10lld %8lld\n", json_string_value(json_object_get(c, "collection")),
           json_string_value(json_object_get(c, "action")),
           (long long)json_integer_value(json_object_get(c, "rows")),
           (long long)json_integer_value(json_object_get(c, "files")));
  printf("total: %lld rows deleted, %lld masked, %lld redacted, %lld files removed\n",
         (long long)json_integer_value(json_object_get(r->totals, "rows_deleted")),
         (long long)json_integer_value(json_object_get(r->totals, "rows_masked")),
         (long long)json_integer_value(json_object_get(r->totals, "rows_redacted")),
         (long long)json_integer_value(json_object_get(r->totals, "files_removed")));
}

static int backup_create(const struct dsr_config *cfg, struct dsr_policy *p, const char *store,
                         const char *out)
{
  char def[256], err[1024];
  const struct dsr_pstore *ps = dsr_policy_store(p, store);
  if (!ps || ps->type != DSR_STORE_POSTGRESQL) {
    ctl_error("backup create: no postgresql store \"%s\" in the policy", store);
    return 2;
  }
  if (!out) {
    char ts[32];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(ts, sizeof ts, "%Y%m%dT%H%M%SZ", &tm);
    snprintf(def, sizeof def, "%s-%s.dump", store, ts);
    out = def;
  }
  struct ctl_session s;
  if (!ctl_session_open(cfg, &s))
    return 1;
  struct dsr_backup_info info;
  int rc = 1;
  if (!dsr_backup_create(s.db, p, store, out, cfg->pg_bindir, &info, err, sizeof err)) {
    ctl_error("backup create: %s", err);
  } else {
    printf("backup %s of store %s: %s (%lld bytes), taken %s\n", info.id, store, out, info.size,
           info.started_at);
    rc = 0;
  }
  ctl_session_close(&s);
  return rc;
}

static int backup_restore(const struct dsr_config *cfg, struct dsr_policy *p, const char *from,
                          const char *into, bool json)
{
  char err[1024];
  if (access(from, R_OK) != 0) {
    ctl_error("backup restore: cannot read %s", from);
    return 1;
  }
  struct ctl_session s;
  if (!ctl_session_open(cfg, &s))
    return 1;
  struct dsr_restore_report rep;
  int rc = 1;
  /* the store is known from the backup's record; any postgresql store gives the server */
  const char *store = NULL;
  for (size_t i = 0; !store && i < dsr_policy_store_count(p); i++)
    if (dsr_policy_store_at(p, i)->type == DSR_STORE_POSTGRESQL)
      store = dsr_policy_store_at(p, i)->name;
  char *target = target_conninfo(p, store ? store : "", into);
  if (!target) {
    ctl_error("out of memory");
  } else if (!dsr_backup_restore(s.db, p, from, target, cfg->pg_bindir, cfg->erasure_batch_rows,
                                 &rep, err, sizeof err)) {
    ctl_error("backup restore: %s", err);
  } else {
    if (json) {
      json_t *o = json_pack("{s:s, s:s, s:I, s:I, s:O, s:O}", "backup_id", rep.backup_id,
                            "backup_started_at", rep.backup_started_at, "ledger_erasures",
                            (json_int_t)rep.entries_erasure, "ledger_sweeps",
                            (json_int_t)rep.entries_sweep, "collections", rep.collections,
                            "totals", rep.totals);
      char *text = o ? json_dumps(o, JSON_INDENT(2) | JSON_SORT_KEYS) : NULL;
      if (text)
        puts(text);
      free(text);
      json_decref(o);
    } else {
      print_restore(&rep);
    }
    dsr_restore_report_free(&rep);
    rc = 0;
  }
  free(target);
  ctl_session_close(&s);
  return rc;
}

int ctl_backup(const struct dsr_config *cfg, int argc, char **argv)
{
  const char *verb = argc > 1 ? argv[1] : "";
  const char *store = NULL, *out = NULL, *from = NULL, *into = NULL, *file = cfg->policy_file;
  bool json = false;
  for (int i = 2; i < argc; i++) {
    const char *v;
    if ((v = opt(argc, argv, &i, "--store")))
      store = v;
    else if ((v = opt(argc, argv, &i, "--out")))
      out = v;
    else if ((v = opt(argc, argv, &i, "--from")))
      from = v;
    else if ((v = opt(argc, argv, &i, "--into")))
      into = v;
    else if ((v = opt(argc, argv, &i, "--policy")))
      file = v;
    else if (!strcmp(argv[i], "--json"))
      json = true;
    else {
      ctl_error("backup: bad argument %s", argv[i]);
      return 2;
    }
  }
  bool create = !strcmp(verb, "create"), restore = !strcmp(verb, "restore");
  if ((!create && !restore) || (create && !store) || (restore && (!from || !into))) {
    ctl_error("usage: dsrctl backup create --store NAME [--out FILE] [--policy FILE] | "
              "backup restore --from FILE --into DB [--policy FILE] [--json]");
    return 2;
  }
  int rc = 1;
  struct dsr_policy *p = ctl_policy_open(file, "backup", &rc);
  if (!p)
    return rc;
  rc = create ? backup_create(cfg, p, store, out) : backup_restore(cfg, p, from, into, json);
  dsr_policy_free(p);
  return rc;
}

int ctl_key(const struct dsr_config *cfg, int argc, char **argv)
{
  const char *verb = argc > 1 ? argv[1] : "";
  bool rotate = !strcmp(verb, "rotate"), status = !strcmp(verb, "status");
  if ((!rotate && !status) || argc > 2) {
    ctl_error("usage: dsrctl key rotate | key status");
    return 2;
  }
  if (!cfg->master_key_file) {
    ctl_error("key: no master_key_file is configured (dsrd.conf(5))");
    return 2;
  }
  struct ctl_session s;
  if (!ctl_session_open(cfg, &s))
    return 1;
  char err[1024];
  int rc = 1;
  if (rotate) {
    int version = 0;
    long long n = 0;
    if (!dsr_keys_rotate(s.db, cfg->master_key_file, &version, &n, err, sizeof err))
      ctl_error("key rotate: %s (run it again to finish)", err);
    else {
      printf("master key version %d: %lld data key(s) rewrapped\n", version, n);
      rc = 0;
    }
  } else {
    struct dsr_keyring kr;
    PGresult *r = NULL;
    if (!dsr_keyring_load(cfg->master_key_file, &kr, err, sizeof err)) {
      ctl_error("key status: %s", err);
    } else if (!dsr_db_ok(r = dsr_db_exec(s.db, DSR_STMT_DKEY_VERSIONS, 0, NULL))) {
      ctl_error("key status: cannot read data keys");
    } else {
      printf("master_key_file: versions");
      for (int i = 0; i < kr.n; i++)
        printf(" %d%s", kr.v[i].version, kr.v[i].version == kr.current ? " (current)" : "");
      printf("\n%-8s %10s %10s\n", "version", "live", "destroyed");
      for (int i = 0; i < PQntuples(r); i++)
        printf("%-8s %10s %10s\n", PQgetvalue(r, i, 0), PQgetvalue(r, i, 1),
               PQgetvalue(r, i, 2));
      rc = 0;
    }
    PQclear(r);
    dsr_keyring_wipe(&kr);
  }
  ctl_session_close(&s);
  return rc;
}

int ctl_media(const struct dsr_config *cfg, int argc, char **argv)
{
  const char *in = NULL, *out = NULL;
  bool get = argc > 1 && !strcmp(argv[1], "get");
  for (int i = 2; get && i < argc; i++) {
    const char *v;
    if ((v = opt(argc, argv, &i, "--out")))
      out = v;
    else if (!in && argv[i][0] != '-')
      in = argv[i];
    else
      get = false;
  }
  if (!get || !in) {
    ctl_error("usage: dsrctl media get FILE [--out FILE]");
    return 2;
  }
  char err[1024];
  struct dsr_keyring kr;
  if (!dsr_keyring_load(cfg->master_key_file, &kr, err, sizeof err)) {
    ctl_error("media get: %s", err);
    return 1;
  }
  struct ctl_session s;
  int rc = 1, fd = STDOUT_FILENO;
  char tmp[4200] = "";
  if (!ctl_session_open(cfg, &s)) {
    dsr_keyring_wipe(&kr);
    return 1;
  }
  if (out) {
    snprintf(tmp, sizeof tmp, "%s.part", out);
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  }
  if (fd < 0) {
    ctl_error("media get: cannot create %s", tmp);
  } else {
    enum dsr_media_result res = dsr_media_get(s.db, &kr, in, fd, err, sizeof err);
    if (out && close(fd) != 0 && res == DSR_MEDIA_OK)
      res = DSR_MEDIA_ERROR;
    if (res != DSR_MEDIA_OK)
      ctl_error("media get: %s: %s", in, err);
    else if (out && rename(tmp, out) != 0)
      ctl_error("media get: cannot write %s", out);
    else
      rc = 0;
    if (rc != 0 && out)
      (void)unlink(tmp);
    if (res == DSR_MEDIA_SHREDDED)
      rc = 3;
  }
  dsr_keyring_wipe(&kr);
  ctl_session_close(&s);
  return rc;
}

/** @file it_db.c @brief Fresh, migrated databases in the shared test cluster (see suites.h). */
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>
#include "suites.h"
#include "dsr/db.h"
#include "dsr/migrate.h"
#include "dsr/pgembed.h"
#include "dsr/util.h"

char *it_fresh_db(const char *name)
{
  char err[1024];
  H_REQUIRE(dsr_pgembed_ensure_db(it_pg.embed, name, err, sizeof err), "%s", err);
  char *conninfo = dsr_pgembed_conninfo(it_pg.embed, name);
  H_REQUIRE1(conninfo != NULL);
  PGconn *c = dsr_db_connect(conninfo, err, sizeof err);
  H_REQUIRE(c != NULL, "%s", err);
  int applied = 0;
  H_REQUIRE(dsr_migrate(c, &applied, err, sizeof err), "%s", err);
  PQfinish(c);
  return conninfo;
}

struct dsr_db *it_connect(const char *conninfo)
{
  char err[1024];
  PGconn *c = dsr_db_connect(conninfo, err, sizeof err);
  H_REQUIRE(c != NULL, "%s", err);
  struct dsr_db *db = dsr_db_wrap(c);
  H_REQUIRE1(db != NULL);
  return db;
}

void it_disconnect(struct dsr_db *db)
{
  PQfinish(db->conn);
  dsr_db_unwrap(db);
}

int it_run(const char *const *argv, const char *out_path)
{
  char *prog = h_program(argv[0]);
  pid_t pid = fork();
  H_REQUIRE1(pid >= 0);
  if (pid == 0) {
    if (out_path && !freopen(out_path, "w", stdout))
      _exit(126);
    execv(prog, (char *const *)argv);
    _exit(127);
  }
  free(prog);
  int st = 0;
  H_REQUIRE1(waitpid(pid, &st, 0) == pid);
  return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

char *it_dsrctl(const char *args, int *rc)
{
  char *prog = h_program("dsrctl");
  char cmd[4096];
  snprintf(cmd, sizeof cmd, "cd '%s' && '%s' %s", getenv("DSR_TOP_SRCDIR"), prog, args);
  free(prog);
  FILE *f = popen(cmd, "r");
  H_REQUIRE1(f != NULL);
  struct dsr_buf b = {0};
  char chunk[4096];
  size_t n;
  H_REQUIRE1(dsr_buf_puts(&b, ""));
  while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
    H_REQUIRE1(dsr_buf_append(&b, chunk, n));
  int st = pclose(f);
  *rc = WIFEXITED(st) ? WEXITSTATUS(st) : 128;
  return dsr_buf_steal(&b);
}

char *it_load_platform(const char *name, const char *dir, const char *schemas)
{
  char err[512];
  H_REQUIRE(dsr_pgembed_ensure_db(it_pg.embed, name, err, sizeof err), "%s", err);
  char *conninfo = dsr_pgembed_conninfo(it_pg.embed, name);
  H_REQUIRE1(conninfo != NULL);
  char *drop = NULL;
  H_REQUIRE1(asprintf(&drop, "SET client_min_messages = warning; %s", schemas) > 0);
  PQclear(h_sql(conninfo, drop));
  free(drop);
  const char *files[] = {"schema.sql", "data.sql"};
  for (size_t i = 0; i < 2; i++) {
    char path[512];
    snprintf(path, sizeof path, "%s/%s/%s", getenv("DSR_TOP_SRCDIR"), dir, files[i]);
    char *sql = h_slurp(path, NULL);
    PQclear(h_sql(conninfo, sql));
    free(sql);
  }
  return conninfo;
}

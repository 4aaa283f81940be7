/** @file it_db.c @brief Fresh, migrated databases in the shared test cluster (see suites.h). */
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>
#include "suites.h"
#include "dsr/db.h"
#include "dsr/migrate.h"
#include "dsr/pgembed.h"

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

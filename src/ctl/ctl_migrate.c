/** @file ctl_migrate.c @brief dsrctl migrate: apply or list schema migrations. */
#include "config.h"
#include "ctl.h"
#include "dsr/db.h"
#include "dsr/dbsetup.h"
#include "dsr/embedded.h"
#include "dsr/migrate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int list_status(PGconn *c)
{
  struct dsr_db *db = dsr_db_wrap(c);
  PGresult *r = db ? dsr_db_exec(db, DSR_STMT_MIGRATION_APPLIED, 0, NULL) : NULL;
  int rc = 1;
  if (!r || !dsr_db_ok(r)) {
    ctl_error("cannot read dsr_schema_migrations (never migrated?)");
    goto cleanup;
  }
  for (int i = 0; dsr_migrations[i].name; i++) {
    bool applied = false;
    for (int row = 0; row < PQntuples(r); row++)
      if (atoi(PQgetvalue(r, row, 0)) == atoi(dsr_migrations[i].name))
        applied = true;
    printf("%-8s %s\n", applied ? "applied" : "pending", dsr_migrations[i].name);
  }
  rc = 0;
cleanup:
  PQclear(r);
  dsr_db_unwrap(db);
  return rc;
}

int ctl_migrate(const struct dsr_config *cfg, int argc, char **argv)
{
  bool status = false;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--status")) {
      status = true;
    } else {
      ctl_error("migrate: unknown argument %s (usage: dsrctl migrate [--status])", argv[i]);
      return 2;
    }
  }
  struct ctl_session s;
  if (!ctl_session_open_plain(cfg, &s))
    return 1;
  char err[1024];
  int rc = 1;
  PGconn *c = s.conn;
  if (status) {
    rc = list_status(c);
    goto cleanup;
  }
  int applied = 0;
  if (!dsr_migrate(c, &applied, err, sizeof err)) {
    ctl_error("%s", err);
    goto cleanup;
  }
  printf("applied %d migration%s; %d known\n", applied, applied == 1 ? "" : "s",
         dsr_migrations_count());
  rc = 0;
cleanup:
  ctl_session_close(&s);
  return rc;
}

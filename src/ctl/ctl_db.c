/** @file ctl_db.c @brief One database connection for a dsrctl command. */
#include "config.h"
#include "ctl.h"

#include <stdlib.h>
#include <string.h>

bool ctl_db_open(const struct dsr_config *cfg, struct ctl_db *out)
{
  char err[1024];
  memset(out, 0, sizeof *out);
  if (!dsr_dbsetup_open(cfg, false, &out->setup, err, sizeof err)) {
    ctl_error("%s", err);
    return false;
  }
  out->conn = dsr_db_connect(out->setup.conninfo, err, sizeof err);
  out->db = out->conn ? dsr_db_wrap(out->conn) : NULL;
  if (!out->db) {
    ctl_error("%s", out->conn ? "out of memory" : err);
    ctl_db_close(out);
    return false;
  }
  return true;
}

void ctl_db_close(struct ctl_db *d)
{
  dsr_db_unwrap(d->db);
  d->db = NULL;
  if (d->conn)
    PQfinish(d->conn);
  d->conn = NULL;
  dsr_dbsetup_close(&d->setup);
}

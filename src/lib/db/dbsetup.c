/** @file dbsetup.c @brief Picks the configured or the embedded database and migrates it. */
#include "config.h"
#include "dsr/dbsetup.h"
#include "dsr/db.h"
#include "dsr/log.h"
#include "dsr/migrate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool dsr_dbsetup_open(const struct dsr_config *cfg, bool migrate, struct dsr_dbsetup *out,
                      char *err, size_t errlen)
{
  memset(out, 0, sizeof *out);
  if (cfg->database_url) {
    out->conninfo = strdup(cfg->database_url);
  } else {
    out->pg = dsr_pgembed_acquire(cfg, err, errlen);
    if (!out->pg)
      return false;
    if (!dsr_pgembed_ensure_db(out->pg, "dsrd", err, errlen)) {
      dsr_dbsetup_close(out);
      return false;
    }
    out->conninfo = dsr_pgembed_conninfo(out->pg, "dsrd");
  }
  if (!out->conninfo) {
    snprintf(err, errlen, "out of memory");
    dsr_dbsetup_close(out);
    return false;
  }
  if (!migrate)
    return true;
  PGconn *c = dsr_db_connect(out->conninfo, err, errlen);
  int applied = 0;
  bool ok = c && dsr_migrate(c, &applied, err, errlen);
  PQfinish(c);
  if (!ok) {
    dsr_dbsetup_close(out);
    return false;
  }
  DSR_INFO("migrate.done", "applied=%d known=%d", applied, dsr_migrations_count());
  return true;
}

void dsr_dbsetup_close(struct dsr_dbsetup *s)
{
  free(s->conninfo);
  s->conninfo = NULL;
  dsr_pgembed_release(s->pg);
  s->pg = NULL;
}

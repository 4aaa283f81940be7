/**
 * @file dbsetup.h
 * @brief Where the database is: database_url when set, otherwise the embedded
 *        cluster (started or joined). Shared by dsrd and dsrctl.
 */
#ifndef DSR_DBSETUP_H
#define DSR_DBSETUP_H

#include "dsr/config.h"
#include "dsr/pgembed.h"

struct dsr_dbsetup {
  struct dsr_pgembed *pg; /**< NULL when database_url is used */
  char *conninfo;         /**< owned */
};

/** Resolves the database; with @p migrate, applies pending migrations. */
DSR_MUST_USE bool dsr_dbsetup_open(const struct dsr_config *cfg, bool migrate,
                                   struct dsr_dbsetup *out, char *err, size_t errlen);
/** Frees the conninfo and leaves the embedded cluster (the last user stops it). */
void dsr_dbsetup_close(struct dsr_dbsetup *s);

#endif

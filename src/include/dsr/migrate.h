/**
 * @file migrate.h
 * @brief Schema migrations: migrations/NNNN_name.sql, compiled into the
 *        programs, applied in order, once each, each in its own transaction,
 *        recorded with a checksum in dsr_schema_migrations. A session
 *        advisory lock keeps concurrent starters from racing.
 */
#ifndef DSR_MIGRATE_H
#define DSR_MIGRATE_H

#include <libpq-fe.h>
#include "dsr/util.h"

/** Applies what is pending; *applied counts them. Errors name the migration. */
DSR_MUST_USE bool dsr_migrate(PGconn *conn, int *applied, char *err, size_t errlen);
/** Number of migrations compiled in. */
int dsr_migrations_count(void);

#endif

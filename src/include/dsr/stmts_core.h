/** @file stmts_core.h @brief Statements of the db layer itself (health, migrations). */
#ifndef DSR_STMTS_CORE_H
#define DSR_STMTS_CORE_H

#define DSR_STMTS_CORE(X)                                                        \
  X(DSR_STMT_PING, "SELECT 1")                                                   \
  X(DSR_STMT_MIGRATION_APPLIED,                                                  \
    "SELECT version, name, checksum FROM dsr_schema_migrations ORDER BY version") \
  X(DSR_STMT_MIGRATION_RECORD,                                                   \
    "INSERT INTO dsr_schema_migrations (version, name, checksum, applied_at)"   \
    " VALUES ($1::integer, $2, $3, now())")

#endif

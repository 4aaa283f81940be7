/**
 * @file stmts_policy.h
 * @brief Fixed statements of the policy module: catalog queries of
 *        `dsrctl policy lint --live` and the read-only transaction of the
 *        planner. They also run, unprepared, on platform store connections.
 *        Plan statements are generated from the data map (planner_sql.c).
 */
#ifndef DSR_STMTS_POLICY_H
#define DSR_STMTS_POLICY_H

/* For this transaction, a random page costs about what a sequential one does (a lower
 * setting of the store stays): statements that probe indexes for a few rows, or a batch of
 * keys, then use them rather than read whole tables. */
#define DSR_SQL_LOCAL_PAGE_COST                                                      \
  "SELECT set_config('random_page_cost',"                                            \
  " least(current_setting('random_page_cost')::float8, 1.1)::text, true)"

#define DSR_STMTS_POLICY(X)                                                          \
  X(DSR_STMT_POLICY_COLUMNS,                                                         \
    "SELECT a.attname::text, format_type(a.atttypid, a.atttypmod)"                   \
    " FROM pg_catalog.pg_attribute a JOIN pg_catalog.pg_class c ON c.oid = a.attrelid" \
    " JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"                      \
    " WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind IN ('r', 'p', 'v', 'm')" \
    " AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum")                    \
  X(DSR_STMT_POLICY_TABLE_EXISTS,                                                    \
    "SELECT count(*) FROM pg_catalog.pg_class c"                                     \
    " JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"                      \
    " WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind IN ('r', 'p', 'v', 'm')") \
  X(DSR_STMT_POLICY_COLUMN_INDEXED,                                                  \
    "SELECT count(*) FROM pg_catalog.pg_index i"                                     \
    " JOIN pg_catalog.pg_class c ON c.oid = i.indrelid"                              \
    " JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"                      \
    " WHERE n.nspname = $1 AND c.relname = $2"                                       \
    " AND i.indnkeyatts >= cardinality($3::text[])"                                  \
    " AND (SELECT count(*) FROM generate_series(0, cardinality($3::text[]) - 1) g"   \
    "  JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum = i.indkey[g]" \
    "  WHERE a.attname = ANY($3::text[])) = cardinality($3::text[])")                \
  /* A unique index (or the primary key) on columns $3 (text[]) or some of them, with no \
   * expression and no predicate: the declared key is a key. */                     \
  X(DSR_STMT_POLICY_KEY_UNIQUE,                                                      \
    "SELECT count(*) FROM pg_catalog.pg_index i"                                     \
    " JOIN pg_catalog.pg_class c ON c.oid = i.indrelid"                              \
    " JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"                      \
    " WHERE n.nspname = $1 AND c.relname = $2 AND i.indisunique AND i.indpred IS NULL" \
    " AND (SELECT count(*) FROM generate_series(0, i.indnkeyatts - 1) g"             \
    "  JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum = i.indkey[g]" \
    "  WHERE a.attname = ANY($3::text[])) = i.indnkeyatts")                          \
  X(DSR_STMT_POLICY_BEGIN_READ_ONLY,                                                 \
    "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")                               \
  X(DSR_STMT_POLICY_ROLLBACK, "ROLLBACK")                                            \
  /* A keyed plan (dsr_plan_build_keyed): its session's tables of the subject's rows \
   * are written, and kept, in the transaction of its counts. */                   \
  X(DSR_STMT_POLICY_BEGIN_KEYED, "BEGIN ISOLATION LEVEL REPEATABLE READ")            \
  X(DSR_STMT_POLICY_COMMIT, "COMMIT")                                                \
  /* no NOTICE for a table that "DROP ... IF EXISTS" does not find */               \
  X(DSR_STMT_POLICY_QUIET, "SET LOCAL client_min_messages = warning")               \
  /* A keyed plan reads a subject's rows, a few per table, through hot indexes: a random \
   * page costs about what a sequential one does (a lower setting of the store stays) */ \
  X(DSR_STMT_POLICY_PAGE_COST, DSR_SQL_LOCAL_PAGE_COST)                              \
  /* the keyed tables' statistics from a sample of 3,000 rows each instead of 30,000: the \
   * planner needs their sizes and rough spreads; a large subject's wide rows made the  \
   * default ANALYZE a second or more of its erasure (CPU per column of the sample)     */ \
  X(DSR_STMT_POLICY_KEYED_STATS, "SET LOCAL default_statistics_target = 10")        \
  /* a table's row estimate, NULL before its first ANALYZE (psql_or_hash_kb()) */    \
  X(DSR_STMT_POLICY_TABLE_ROWS,                                                      \
    "SELECT CASE WHEN c.reltuples < 0 THEN NULL ELSE c.reltuples::float8 END"        \
    " FROM pg_catalog.pg_class c WHERE c.oid = pg_catalog.to_regclass($1)")           \
  /* a keyed plan's session keeps its tables in memory up to $1 (the store's setting when \
   * larger), settable only before the session's first temporary table */             \
  X(DSR_STMT_POLICY_TEMP_BUFFERS,                                                    \
    "SELECT CASE WHEN pg_catalog.pg_my_temp_schema() = 0"                            \
    " AND pg_catalog.pg_size_bytes(pg_catalog.current_setting('temp_buffers'))"      \
    " < pg_catalog.pg_size_bytes($1) THEN pg_catalog.set_config('temp_buffers', $1, false) END") \
  /* the memory of one statement's hashes, set for it and put back after it */       \
  X(DSR_STMT_POLICY_WORK_MEM_SHOW, "SELECT pg_catalog.current_setting('work_mem')")  \
  X(DSR_STMT_POLICY_WORK_MEM_SET, "SELECT pg_catalog.set_config('work_mem', $1, true)")

#endif

/**
 * @file stmts_backups.h
 * @brief dsrd-side statements of erasure that reaches backups: the
 *        erasure ledger, database backups and their restore, per-subject data
 *        keys of crypto-shredded media. $now parameters are epoch seconds
 *        from dsr_now(); hashes and wrapped keys travel as hex.
 */
#ifndef DSR_STMTS_BACKUPS_H
#define DSR_STMTS_BACKUPS_H

#define DSR_BNOW(n) "to_timestamp($" #n "::bigint)"

/* Fixed statements that also run, unprepared, on the database being restored. */
#define DSR_STMTS_BACKUPS_STORE(X)                                                               \
  X(DSR_STMT_STORE_RELATIONS,                                                                    \
    "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"             \
    " WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')"                              \
    " AND n.nspname NOT LIKE 'pg\\_%' AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')")

#define DSR_STMTS_BACKUPS(X)                                                                     \
  DSR_STMTS_BACKUPS_STORE(X)                                                                     \
  /* --- the erasure ledger ----------------------------------------------------------- */      \
  X(DSR_STMT_LEDGER_KEYS_APPEND,                                                                 \
    "INSERT INTO dsr_erasure_ledger_keys (run_id, step_key, ord, store, collection, action,"     \
    " keys) SELECT s.run_id, s.step_key, s.ord, s.store, s.collection, s.action,"                \
    " s.pend_keys::text[] FROM dsr_erasure_steps s WHERE s.run_id = $1::uuid"                    \
    " AND s.step_key = $2 AND s.pend_xid = $3::bigint AND s.pend_keys IS NOT NULL"               \
    " AND s.action <> 'retain'")                                                                 \
  X(DSR_STMT_LEDGER_APPEND,                                                                      \
    "INSERT INTO dsr_erasure_ledger (run_id, kind, recorded_at, as_of, tenant, identities,"      \
    " collections) VALUES ($1::uuid, $2, " DSR_BNOW(3) ", to_timestamp($4::bigint), $5,"         \
    " $6::jsonb, $7::text[]) ON CONFLICT (run_id) DO NOTHING")                                   \
  X(DSR_STMT_LEDGER_SINCE,                                                                       \
    "SELECT l.seq, l.run_id, l.kind, extract(epoch FROM l.as_of)::bigint, l.identities::text"    \
    " FROM dsr_erasure_ledger l, dsr_backups b WHERE b.id = $1::uuid"                            \
    " AND l.recorded_at >= b.started_at ORDER BY l.seq")                                         \
  X(DSR_STMT_LEDGER_STEPS,                                                                       \
    "SELECT l.step_key, l.collection, l.action, min(l.ord), array_agg(k ORDER BY k)::text"       \
    " FROM dsr_erasure_ledger_keys l, unnest(l.keys) k WHERE l.run_id = $1::uuid"                \
    " AND l.store = $2 GROUP BY 1, 2, 3 ORDER BY 4, 1")                                          \
  X(DSR_STMT_BACKUP_COPY_COUNTS,                                                                 \
    "SELECT store, split_part(path, '/', 1), count(*) FILTER (WHERE state = 'done'),"             \
    " count(*) FILTER (WHERE state <> 'done') FROM dsr_file_deletions"                           \
    " WHERE run_id = $1::uuid AND store = ANY($2::text[]) GROUP BY 1, 2 ORDER BY 1, 2")         \
  /* --- database backups ------------------------------------------------------------- */      \
  X(DSR_STMT_BACKUP_RECORD,                                                                      \
    "INSERT INTO dsr_backups (store, file_hash, size_bytes, started_at, finished_at)"            \
    " VALUES ($1, $2, $3::bigint, " DSR_BNOW(4) ", " DSR_BNOW(5) ")"                              \
    " ON CONFLICT (file_hash) DO UPDATE SET file_hash = EXCLUDED.file_hash"                      \
    " RETURNING id, dsr_rfc3339(started_at)")                                                    \
  X(DSR_STMT_BACKUP_FIND,                                                                        \
    "SELECT id, store, dsr_rfc3339(started_at) FROM dsr_backups WHERE file_hash = $1")          \
  X(DSR_STMT_REPLAY_RUN_NEW,                                                                     \
    "INSERT INTO dsr_erasure_runs (kind, as_of, started_at)"                                     \
    " VALUES ('replay', " DSR_BNOW(1) ", " DSR_BNOW(1) ") RETURNING id")                         \
  /* --- data keys of crypto-shredded media ------------------------------------------- */      \
  X(DSR_STMT_DKEY_FIND,                                                                          \
    "SELECT id FROM dsr_data_keys WHERE identity_kind = $1 AND identity_hash = decode($2, 'hex')" \
    " AND scope = $3 AND destroyed_at IS NULL")                                                  \
  X(DSR_STMT_DKEY_INSERT,                                                                        \
    "INSERT INTO dsr_data_keys (id, identity_kind, identity_hash, scope, wrapped, key_version,"  \
    " created_at) VALUES ($1::uuid, $2, decode($3, 'hex'), $4, decode($5, 'hex'), $6::integer,"  \
    " " DSR_BNOW(7) ") ON CONFLICT (identity_kind, identity_hash, scope)"                        \
    " WHERE destroyed_at IS NULL DO NOTHING RETURNING id")                                       \
  X(DSR_STMT_DKEY_GET,                                                                           \
    "SELECT coalesce(encode(wrapped, 'hex'), ''), key_version, destroyed_at IS NOT NULL"         \
    " FROM dsr_data_keys WHERE id = $1::uuid")                                                   \
  X(DSR_STMT_DKEY_DESTROY,                                                                       \
    "WITH d AS (UPDATE dsr_data_keys SET wrapped = NULL, destroyed_at = " DSR_BNOW(4) ","        \
    " destroyed_run = $5::uuid WHERE destroyed_at IS NULL AND identity_hash = ANY(ARRAY("        \
    "SELECT decode(h, 'hex') FROM unnest($1::text[]) h)) AND CASE WHEN $2::text IS NOT NULL"     \
    " THEN scope = $2 ELSE NOT (scope = ANY($3::text[])) END RETURNING 1)"                       \
    " SELECT count(*) FROM d")                                                                   \
  X(DSR_STMT_DKEY_OLD_BATCH,                                                                     \
    "SELECT id, encode(wrapped, 'hex'), key_version FROM dsr_data_keys"                          \
    " WHERE destroyed_at IS NULL AND key_version <> $1::integer ORDER BY id LIMIT 500"           \
    " FOR UPDATE SKIP LOCKED")                                                                   \
  X(DSR_STMT_DKEY_REWRAP,                                                                        \
    "UPDATE dsr_data_keys d SET wrapped = decode(u.w, 'hex'), key_version = $3::integer"         \
    " FROM unnest($1::uuid[], $2::text[]) u(id, w) WHERE d.id = u.id"                            \
    " AND d.destroyed_at IS NULL")                                                               \
  X(DSR_STMT_DKEY_VERSIONS,                                                                      \
    "SELECT key_version, count(*) FILTER (WHERE destroyed_at IS NULL),"                          \
    " count(*) FILTER (WHERE destroyed_at IS NOT NULL) FROM dsr_data_keys GROUP BY 1"            \
    " ORDER BY 1")

#endif

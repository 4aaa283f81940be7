/**
 * @file stmts_erasure.h
 * @brief dsrd-side statements of the executor, erasure parts, suppression,
 *        holds, retention sweeps and dsrd's own retention. The statements run
 *        on the platform's stores are generated from the data map (planner,
 *        executor_sql.c), never here. $now parameters are epoch seconds from
 *        dsr_now().
 */
#ifndef DSR_STMTS_ERASURE_H
#define DSR_STMTS_ERASURE_H

#define DSR_ENOW(n) "to_timestamp($" #n "::bigint)"

#define DSR_STMTS_ERASURE(X)                                                                     \
  /* --- fixed statements that also run, unprepared, on store connections ------------ */      \
  X(DSR_STMT_STORE_BEGIN, "BEGIN ISOLATION LEVEL READ COMMITTED")                               \
  /* a page's statements work on a batch of keys: its "still referenced" checks probe the   \
   * children's indexes per key instead of hashing whole children (dsr/stmts_policy.h) */   \
  X(DSR_STMT_STORE_PAGE_COST, DSR_SQL_LOCAL_PAGE_COST)                                          \
  X(DSR_STMT_STORE_COMMIT, "COMMIT")                                                             \
  X(DSR_STMT_STORE_ROLLBACK, "ROLLBACK")                                                         \
  X(DSR_STMT_STORE_TXID, "SELECT txid_current()")                                               \
  /* an erasure's store session, before its keyed plan: the tables of a large subject's rows   \
   * stay in the session's memory (up to 64 MB; a higher setting of the store stays) instead   \
   * of going through 8 MB of local buffers (set before the session's first temporary table) */ \
  X(DSR_STMT_STORE_TEMP_BUFFERS,                                                                 \
    "SELECT set_config('temp_buffers', (greatest(pg_size_bytes(current_setting('temp_buffers')),"\
    " 67108864) / 1024)::text || 'kB', false)")                                                  \
  X(DSR_STMT_STORE_TXID_STATUS, "SELECT txid_status($1::bigint)")                               \
  /* a validated foreign key of table $1.$2 to $3.$4 on exactly the column pairs $5[i] -> $6[i] \
   * (text[]): a retention sweep then finds that child's rows from its parent's (sweep.c)    */ \
  X(DSR_STMT_STORE_SWEEP_FK,                                                                     \
    "SELECT count(*) FROM pg_catalog.pg_constraint k"                                            \
    " JOIN pg_catalog.pg_class c ON c.oid = k.conrelid"                                          \
    " JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"                                  \
    " JOIN pg_catalog.pg_class p ON p.oid = k.confrelid"                                         \
    " JOIN pg_catalog.pg_namespace pn ON pn.oid = p.relnamespace"                                \
    " WHERE k.contype = 'f' AND k.convalidated AND n.nspname = $1 AND c.relname = $2"            \
    " AND pn.nspname = $3 AND p.relname = $4"                                                    \
    " AND cardinality(k.conkey) = cardinality($5::text[])"                                       \
    " AND NOT EXISTS (SELECT 1 FROM unnest($5::text[], $6::text[]) v(cc, pc)"                    \
    "  WHERE NOT EXISTS (SELECT 1 FROM unnest(k.conkey, k.confkey) u(ck, pk)"                    \
    "   JOIN pg_catalog.pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = u.ck"           \
    "   JOIN pg_catalog.pg_attribute b ON b.attrelid = k.confrelid AND b.attnum = u.pk"          \
    "   WHERE a.attname = v.cc AND b.attname = v.pc))")                                          \
  /* --- steps and their pending batch ------------------------------------------------ */      \
  X(DSR_STMT_EX_STEP_REGISTER,                                                                   \
    "INSERT INTO dsr_erasure_steps (run_id, step_key, ord, store, collection, action, basis,"    \
    " rows, done) VALUES ($1::uuid, $2, $3::integer, $4, $5, $6, $7, $8::bigint, $9::boolean)"   \
    " ON CONFLICT DO NOTHING")                                                                   \
  X(DSR_STMT_EX_STEP_GET,                                                                        \
    "SELECT cursor_key, done, pend_xid, rows FROM dsr_erasure_steps"                             \
    " WHERE run_id = $1::uuid AND step_key = $2")                                                \
  X(DSR_STMT_EX_RUN_PENDING,                                                                     \
    "SELECT step_key, pend_xid FROM dsr_erasure_steps WHERE run_id = $1::uuid"                   \
    " AND pend_xid IS NOT NULL ORDER BY ord, step_key")                                          \
  X(DSR_STMT_EX_STEP_PEND,                                                                       \
    "UPDATE dsr_erasure_steps SET pend_xid = $3::bigint, pend_cursor = $4, pend_rows ="          \
    " $5::bigint, pend_kept = $6::bigint, pend_files = $7::bigint, pend_keys = $8,"             \
    " pend_fstores = $9::text[], pend_fpaths = $10::text[]"                                      \
    " WHERE run_id = $1::uuid AND step_key = $2 AND pend_xid IS NULL RETURNING 1")               \
  X(DSR_STMT_EX_STEP_APPLY,                                                                      \
    "UPDATE dsr_erasure_steps SET cursor_key = pend_cursor, rows = rows + pend_rows,"            \
    " kept = kept + pend_kept, files = files + pend_files, pend_xid = NULL, pend_cursor = NULL,"  \
    " pend_rows = NULL, pend_kept = NULL, pend_files = NULL, pend_keys = NULL,"                  \
    " pend_fstores = NULL, pend_fpaths = NULL"                                                   \
    " WHERE run_id = $1::uuid AND step_key = $2 AND pend_xid = $3::bigint")                      \
  /* a batch applied right after its store's commit, in one autocommit statement (one round  \
   * trip, one commit): its keys to the erasure ledger (when recorded), its files to the list  \
   * (done when $5 says removed, else due), the step's counters; $6: its page was short, so   \
   * the step is done too. The CTEs read the pending values from the statement's snapshot.   */ \
  X(DSR_STMT_EX_STEP_APPLY_FRESH,                                                                \
    "WITH s AS (SELECT run_id, step_key, ord, store, collection, action, pend_keys,"             \
    " pend_fstores, pend_fpaths FROM dsr_erasure_steps WHERE run_id = $1::uuid"                  \
    " AND step_key = $2 AND pend_xid = $3::bigint),"                                             \
    " l AS (INSERT INTO dsr_erasure_ledger_keys (run_id, step_key, ord, store, collection,"       \
    " action, keys) SELECT run_id, step_key, ord, store, collection, action, pend_keys::text[]"  \
    " FROM s WHERE pend_keys IS NOT NULL AND action <> 'retain'),"                               \
    " f AS (INSERT INTO dsr_file_deletions (run_id, step_key, store, path, state, created_at,"    \
    " done_at) SELECT s.run_id, s.step_key, f.store, f.path,"                                    \
    " CASE WHEN f.gone THEN 'done' ELSE 'due' END, " DSR_ENOW(4) ","                             \
    " CASE WHEN f.gone THEN " DSR_ENOW(4) " END"                                                 \
    " FROM s, unnest(s.pend_fstores, s.pend_fpaths, $5::boolean[]) AS f(store, path, gone)"      \
    " ON CONFLICT DO NOTHING)"                                                                   \
    " UPDATE dsr_erasure_steps SET cursor_key = pend_cursor, rows = rows + pend_rows,"           \
    " kept = kept + pend_kept, files = files + pend_files, pend_xid = NULL, pend_cursor = NULL,"  \
    " pend_rows = NULL, pend_kept = NULL, pend_files = NULL, pend_keys = NULL,"                  \
    " pend_fstores = NULL, pend_fpaths = NULL, done = done OR $6::boolean"                       \
    " WHERE run_id = $1::uuid AND step_key = $2 AND pend_xid = $3::bigint RETURNING 1")          \
  /* the transaction's commit does not wait for the disk (an applied batch, a step's         \
   * registration or "done"): if a crash of the cluster loses it, the batch is still pending   \
   * and its resume applies it again (files due, unlinked again), the step is registered or    \
   * found empty again; any later commit that waits flushes it first (one WAL)              */ \
  X(DSR_STMT_EX_APPLY_NO_WAIT, "SELECT set_config('synchronous_commit', 'off', true)")           \
  X(DSR_STMT_EX_STEP_DROP,                                                                       \
    "UPDATE dsr_erasure_steps SET pend_xid = NULL, pend_cursor = NULL, pend_rows = NULL,"        \
    " pend_kept = NULL, pend_files = NULL, pend_keys = NULL, pend_fstores = NULL,"               \
    " pend_fpaths = NULL"                                                                        \
    " WHERE run_id = $1::uuid AND step_key = $2 AND pend_xid = $3::bigint")                      \
  X(DSR_STMT_EX_STEP_DONE,                                                                       \
    "UPDATE dsr_erasure_steps SET done = true"                                                   \
    " WHERE run_id = $1::uuid AND step_key = $2 AND pend_xid IS NULL")                           \
  /* --- pending file deletions ------------------------------------------------------- */      \
  /* an applied batch's files (pend_fstores/pend_fpaths) enter the list in one statement: done \
   * when $5 (parallel booleans, or NULL) says they were removed already, else due */           \
  X(DSR_STMT_EX_FILES_PEND_DUE,                                                                  \
    "INSERT INTO dsr_file_deletions (run_id, step_key, store, path, state, created_at, done_at)" \
    " SELECT s.run_id, s.step_key, f.store, f.path, CASE WHEN f.gone THEN 'done' ELSE 'due' END,"\
    " " DSR_ENOW(4) ", CASE WHEN f.gone THEN " DSR_ENOW(4) " END FROM dsr_erasure_steps s,"      \
    " unnest(s.pend_fstores, s.pend_fpaths, $5::boolean[]) AS f(store, path, gone)"              \
    " WHERE s.run_id = $1::uuid AND s.step_key = $2 AND s.pend_xid = $3::bigint"                 \
    " ON CONFLICT DO NOTHING")                                                                   \
  /* 'staged' rows only exist for batches left in flight before migration 0085 */              \
  X(DSR_STMT_EX_FILES_DUE,                                                                       \
    "UPDATE dsr_file_deletions SET state = 'due'"                                                \
    " WHERE run_id = $1::uuid AND step_key = $2 AND state = 'staged'")                           \
  X(DSR_STMT_EX_FILES_UNSTAGE,                                                                   \
    "DELETE FROM dsr_file_deletions WHERE run_id = $1::uuid AND step_key = $2"                   \
    " AND state = 'staged'")                                                                     \
  /* due files whose back-off ($3: now) has passed */                                         \
  X(DSR_STMT_EX_FILES_LIST_DUE,                                                                  \
    "SELECT id, store, path FROM dsr_file_deletions WHERE run_id = $1::uuid AND state = 'due'"   \
    " AND id > $2::bigint AND (next_attempt_at IS NULL OR next_attempt_at <= " DSR_ENOW(3) ")"   \
    " ORDER BY id LIMIT 1000")                                                                   \
  X(DSR_STMT_EX_FILES_MARK_DONE,                                                                 \
    "UPDATE dsr_file_deletions SET state = 'done', done_at = " DSR_ENOW(2)                       \
    " WHERE id = ANY($1::bigint[]) AND state = 'due'")                                           \
  /* one failed attempt ($2 reason) at $3: retried after $6 s doubled per attempt, unless $4 \
   * attempts are spent or $5 (a refusal) says it never can be; then residual */            \
  X(DSR_STMT_EX_FILES_MARK_FAILED,                                                               \
    "UPDATE dsr_file_deletions SET attempts = attempts + 1, last_error = $2,"                    \
    " next_attempt_at = " DSR_ENOW(3) " + make_interval(secs => $6::integer"                    \
    " * power(2, least(attempts, 16))), state = CASE WHEN $5::boolean OR attempts + 1 >="       \
    " $4::integer THEN 'residual' ELSE state END WHERE id = $1::bigint AND state = 'due'"        \
    " RETURNING state")                                                                          \
  X(DSR_STMT_EX_FILES_WAITING,                                                                   \
    "SELECT count(*) FROM dsr_file_deletions WHERE run_id = $1::uuid AND state = 'due'")         \
  X(DSR_STMT_EX_FILES_COUNTS,                                                                    \
    "SELECT count(*) FILTER (WHERE state = 'done'),"                                             \
    " count(*) FILTER (WHERE state NOT IN ('done', 'residual')),"                                \
    " count(*) FILTER (WHERE state = 'residual')"                                                \
    " FROM dsr_file_deletions WHERE run_id = $1::uuid")                                          \
  /* residual files: ids, stores, steps, reasons (never paths: they may name the subject) */   \
  X(DSR_STMT_EX_FILES_RESIDUAL,                                                                  \
    "SELECT id, store, step_key, attempts, coalesce(last_error, '')"                             \
    " FROM dsr_file_deletions WHERE run_id = $1::uuid AND state = 'residual'"                    \
    " ORDER BY id LIMIT 1000")                                                                   \
  /* `dsrctl files retry`: residual files, of one request ($1) or all, after id $2 */          \
  X(DSR_STMT_FILES_RESIDUAL_LIST,                                                                \
    "SELECT f.id, f.store, f.path, p.request_id FROM dsr_file_deletions f"                       \
    " JOIN dsr_erasure_runs r ON r.id = f.run_id LEFT JOIN dsr_parts p ON p.id = r.part_id"      \
    " WHERE f.state = 'residual' AND ($1::uuid IS NULL OR p.request_id = $1::uuid)"              \
    " AND f.id > $2::bigint ORDER BY f.id LIMIT 500")                                            \
  X(DSR_STMT_FILES_RESIDUAL_DONE,                                                                \
    "UPDATE dsr_file_deletions SET state = 'done', done_at = " DSR_ENOW(2) ","                   \
    " attempts = attempts + 1 WHERE id = $1::bigint AND state = 'residual'")                     \
  X(DSR_STMT_FILES_RESIDUAL_FAILED,                                                              \
    "UPDATE dsr_file_deletions SET attempts = attempts + 1, last_error = $2"                     \
    " WHERE id = $1::bigint AND state = 'residual'")                                             \
  /* the request page: residual files of a request's parts */                                  \
  X(DSR_STMT_FILES_RESIDUAL_OF_REQUEST,                                                          \
    "SELECT f.id, f.store, f.step_key, f.attempts, coalesce(f.last_error, ''),"                  \
    " dsr_rfc3339(f.created_at) FROM dsr_file_deletions f"                                       \
    " JOIN dsr_erasure_runs r ON r.id = f.run_id JOIN dsr_parts p ON p.id = r.part_id"           \
    " WHERE p.request_id = $1::uuid AND f.state = 'residual' ORDER BY f.id LIMIT 200")           \
  X(DSR_STMT_EX_RECEIPT_STEPS,                                                                   \
    "SELECT store, collection, action, basis, sum(rows)::bigint, sum(kept)::bigint,"             \
    " sum(files)::bigint FROM dsr_erasure_steps WHERE run_id = $1::uuid"                         \
    " GROUP BY 1, 2, 3, 4 ORDER BY min(ord), 3")                                                 \
  X(DSR_STMT_EX_RUN_FINISH,                                                                      \
    "UPDATE dsr_erasure_runs SET state = 'done', finished_at = " DSR_ENOW(3) ","                 \
    " receipt = $2::jsonb WHERE id = $1::uuid AND state = 'running' RETURNING id")               \
  X(DSR_STMT_EX_RUN_TRY_LOCK, "SELECT pg_try_advisory_lock(hashtext($1))")                     \
  X(DSR_STMT_EX_RUN_UNLOCK, "SELECT pg_advisory_unlock(hashtext($1))")                          \
  /* --- erasure parts ---------------------------------------------------------------- */      \
  X(DSR_STMT_ERASURE_PART_LOCK,                                                                  \
    "SELECT p.state, p.request_id, r.type, r.status, c.tenant_ref"                               \
    " FROM dsr_parts p JOIN dsr_requests r ON r.id = p.request_id"                               \
    " LEFT JOIN dsr_customers c ON c.id = p.customer_id WHERE p.id = $1::uuid FOR UPDATE OF p")  \
  X(DSR_STMT_ERASURE_PART_START,                                                                 \
    "UPDATE dsr_parts SET state = 'executing', updated_at = " DSR_ENOW(2)                        \
    " WHERE id = $1::uuid AND state = 'approved' RETURNING id")                                  \
  X(DSR_STMT_ERASURE_RUN_OPEN,                                                                   \
    "INSERT INTO dsr_erasure_runs (kind, part_id, as_of, started_at)"                            \
    " VALUES ('erasure', $1::uuid, " DSR_ENOW(2) ", " DSR_ENOW(2) ")"                            \
    " ON CONFLICT (part_id) DO UPDATE SET part_id = EXCLUDED.part_id"                            \
    " RETURNING id, dsr_rfc3339(started_at), state")                                             \
  X(DSR_STMT_ERASURE_PART_FINISH,                                                                \
    "UPDATE dsr_parts SET state = 'done', updated_at = " DSR_ENOW(2)                             \
    " WHERE id = $1::uuid AND state = 'executing' RETURNING request_id")                         \
  X(DSR_STMT_ERASURE_CUSTOMER_TENANTS,                                                           \
    "SELECT c.tenant_ref FROM dsr_parts p JOIN dsr_customers c ON c.id = p.customer_id"          \
    " WHERE p.request_id = $1::uuid")                                                            \
  X(DSR_STMT_ERASURE_PARTS_TO_RUN,                                                               \
    "SELECT p.id FROM dsr_parts p JOIN dsr_requests r ON r.id = p.request_id"                    \
    " WHERE p.request_id = $1::uuid AND r.type = 'erasure' AND r.status <> 'on_hold'"            \
    " AND ($2::uuid IS NULL OR p.id = $2::uuid) AND p.state IN ('approved', 'executing')")      \
  X(DSR_STMT_ERASURE_RECEIPTS_OF_REQUEST,                                                        \
    "SELECT e.part_id, e.state, e.receipt::text FROM dsr_erasure_runs e"                         \
    " JOIN dsr_parts p ON p.id = e.part_id WHERE p.request_id = $1::uuid")                       \
  X(DSR_STMT_ERASURE_REQUEST_STATUS, "SELECT status FROM dsr_requests WHERE id = $1::uuid")    \
  /* --- suppression and holds -------------------------------------------------------- */      \
  X(DSR_STMT_SUPPRESSION_ADD,                                                                    \
    "INSERT INTO dsr_suppressions (kind, hash, basis, source, request_id, created_at)"           \
    " VALUES ($1, $2, $3, 'erasure', $4::uuid, " DSR_ENOW(5) ") ON CONFLICT DO NOTHING")          \
  X(DSR_STMT_SUPPRESSION_CHECK,                                                                  \
    "SELECT basis, dsr_rfc3339(created_at) FROM dsr_suppressions WHERE kind = $1 AND hash = $2") \
  X(DSR_STMT_HOLDS_ACTIVE,                                                                       \
    "SELECT id, coalesce(array_to_json(collections)::text, 'null'), basis FROM dsr_holds"        \
    " WHERE released_at IS NULL AND (request_id = $1::uuid"                                      \
    " OR (identity_kind = 'email' AND identity_hash = $2)"                                       \
    " OR (identity_kind = 'phone' AND identity_hash = $3)"                                       \
    " OR (identity_kind = 'account_id' AND identity_hash = $4)) ORDER BY created_at, id")        \
  X(DSR_STMT_HOLD_ADD,                                                                           \
    "INSERT INTO dsr_holds (request_id, identity_kind, identity_hash, collections, basis,"       \
    " created_at) VALUES ($1::uuid, $2, $3, $4::text[], $5, " DSR_ENOW(6) ") RETURNING id")      \
  X(DSR_STMT_HOLD_RELEASE,                                                                       \
    "UPDATE dsr_holds SET released_at = " DSR_ENOW(2) " WHERE id = $1::uuid"                     \
    " AND released_at IS NULL RETURNING id, request_id")                                         \
  X(DSR_STMT_HOLD_LIST,                                                                          \
    "SELECT id, coalesce(request_id::text, ''), coalesce(identity_kind, ''),"                    \
    " coalesce(array_to_string(collections, ','), '*'), basis, dsr_rfc3339(created_at)"          \
    " FROM dsr_holds WHERE released_at IS NULL ORDER BY created_at, id")                         \
  /* --- retention sweeps ------------------------------------------------------------- */      \
  X(DSR_STMT_SWEEP_TRY_LOCK, "SELECT pg_try_advisory_lock(hashtext('dsrd.retention_sweep'))")   \
  X(DSR_STMT_SWEEP_UNLOCK, "SELECT pg_advisory_unlock(hashtext('dsrd.retention_sweep'))")       \
  X(DSR_STMT_SWEEP_RUN_RUNNING,                                                                  \
    "SELECT id, extract(epoch FROM as_of)::bigint FROM dsr_erasure_runs"                         \
    " WHERE kind = 'sweep' AND state = 'running' ORDER BY started_at, id LIMIT 1")               \
  X(DSR_STMT_SWEEP_RUN_NEW,                                                                      \
    "INSERT INTO dsr_erasure_runs (kind, as_of, started_at)"                                     \
    " VALUES ('sweep', " DSR_ENOW(1) ", " DSR_ENOW(2) ") RETURNING id")                          \
  X(DSR_STMT_SWEEP_RUN_STARTED,                                                                  \
    "SELECT dsr_rfc3339(started_at), dsr_rfc3339(as_of) FROM dsr_erasure_runs WHERE id = $1::uuid") \
  /* --- dsrd's own data -------------------------------------------------------------- */      \
  X(DSR_STMT_OWN_PURGE_REQUESTS,                                                                 \
    "WITH d AS (DELETE FROM dsr_requests r WHERE r.status IN ('completed', 'denied',"            \
    " 'withdrawn', 'expired') AND coalesce(r.completed_at, r.updated_at) < " DSR_ENOW(1)         \
    " - $2::interval AND NOT EXISTS (SELECT 1 FROM dsr_requests x WHERE x.duplicate_of = r.id)"  \
    " AND NOT EXISTS (SELECT 1 FROM dsr_holds h WHERE h.request_id = r.id"                       \
    " AND h.released_at IS NULL) RETURNING 1) SELECT count(*) FROM d")                           \
  X(DSR_STMT_OWN_PURGE_DELIVERIES,                                                               \
    "WITH d AS (DELETE FROM dsr_webhook_outbox WHERE state IN ('delivered', 'failed',"           \
    " 'cancelled') AND created_at < " DSR_ENOW(1) " - $2::interval RETURNING 1)"                 \
    " SELECT count(*) FROM d")                                                                   \
  X(DSR_STMT_OWN_PURGE_RUNS,                                                                     \
    "WITH d AS (DELETE FROM dsr_erasure_runs WHERE state = 'done' AND finished_at < "            \
    DSR_ENOW(1) " - $2::interval RETURNING 1) SELECT count(*) FROM d")                           \
  /* messages to subjects: sent, failed, or never sent in all that time */                      \
  X(DSR_STMT_OWN_PURGE_MESSAGES,                                                                 \
    "WITH d AS (DELETE FROM dsr_outbox WHERE coalesce(sent_at, created_at) < " DSR_ENOW(1)       \
    " - $2::interval RETURNING 1) SELECT count(*) FROM d")                                       \
  X(DSR_STMT_OWN_EXPORTS_EXPIRED,                                                                \
    "SELECT id FROM dsr_exports WHERE state = 'ready' AND expires_at <= " DSR_ENOW(1)            \
    " ORDER BY expires_at")                                                                      \
  /* the record of a package destroyed long enough ago */                                       \
  X(DSR_STMT_OWN_PURGE_EXPORTS,                                                                  \
    "WITH d AS (DELETE FROM dsr_exports WHERE state = 'destroyed' AND destroyed_at < "           \
    DSR_ENOW(1) " - $2::interval RETURNING 1) SELECT count(*) FROM d")

#endif

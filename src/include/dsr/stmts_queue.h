/** @file stmts_queue.h @brief Statements of the job queue (queue.c). */
#ifndef DSR_STMTS_QUEUE_H
#define DSR_STMTS_QUEUE_H

/*
 * $now parameters are epoch seconds from the caller's clock (dsr_now() or a
 * test's), so lease expiry and back-off can be tested without sleeping.
 */
#define DSR_STMTS_QUEUE(X)                                                                      \
  X(DSR_STMT_JOB_ENQUEUE,                                                                       \
    "INSERT INTO dsr_jobs (kind, payload, run_at, max_attempts, dedupe_key, created_at,"       \
    " updated_at) VALUES ($1, $2::jsonb, to_timestamp($3::bigint), $4::integer, $5,"           \
    " to_timestamp($6::bigint), to_timestamp($6::bigint))"                                      \
    " ON CONFLICT (dedupe_key) WHERE dedupe_key IS NOT NULL AND state IN ('queued', 'running')" \
    " DO NOTHING RETURNING id")                                                                 \
  X(DSR_STMT_JOB_NOTIFY, "SELECT pg_notify('dsr_jobs', $1)")                                    \
  X(DSR_STMT_JOB_REAP,                                                                          \
    "UPDATE dsr_jobs SET state = 'dead', lease_owner = NULL, lease_expires_at = NULL,"         \
    " last_error = coalesce(last_error, 'lease expired') || ' (attempts exhausted)',"          \
    " updated_at = to_timestamp($1::bigint)"                                                    \
    " WHERE state = 'running' AND lease_expires_at < to_timestamp($1::bigint)"                  \
    " AND attempts >= max_attempts")                                                            \
  /* Two index scans, never a scan of the whole backlog: jobs whose lease ran out         */ \
  /* (dsr_jobs_leases), then runnable queued jobs in (run_at, id) order after the worker's */ \
  /* position $6 (epoch microseconds), $7 (NULL: from the front; dsr_jobs_queued).         */ \
  /* Commits without waiting for the WAL flush: a claim lost in a crash of the server      */ \
  /* leaves its jobs queued, to run again (at least once, as after any crash); a handler   */ \
  /* that commits anything flushes the claim with it. Column 5: from the queued ones.      */ \
  X(DSR_STMT_JOB_CLAIM,                                                                         \
    "WITH expired AS (SELECT id FROM dsr_jobs WHERE state = 'running' AND lease_expires_at <"  \
    " to_timestamp($2::bigint) AND attempts < max_attempts AND kind = ANY($5::text[])"          \
    " ORDER BY lease_expires_at LIMIT $4::integer FOR UPDATE SKIP LOCKED),"                     \
    " queued AS (SELECT id FROM dsr_jobs WHERE state = 'queued' AND run_at <="                  \
    " to_timestamp($2::bigint) AND (run_at, id) > (coalesce(timestamptz 'epoch' + $6::bigint"   \
    " * interval '1 microsecond', '-infinity'), coalesce($7::bigint, 0))"                       \
    " AND attempts < max_attempts AND kind = ANY($5::text[])"                                   \
    " ORDER BY run_at, id LIMIT $4::integer FOR UPDATE SKIP LOCKED),"                           \
    " c AS (SELECT id, false AS q FROM expired UNION ALL SELECT id, true FROM queued"           \
    " LIMIT $4::integer)"                                                                       \
    " UPDATE dsr_jobs j SET state = 'running', lease_owner = $1,"                               \
    " lease_expires_at = to_timestamp($2::bigint) + make_interval(secs => (SELECT u.l FROM"     \
    " unnest($5::text[], $3::integer[]) u(k, l) WHERE u.k = j.kind LIMIT 1)),"                 \
    " attempts = j.attempts + 1, updated_at = to_timestamp($2::bigint)"                         \
    " FROM c WHERE j.id = c.id"                                                                 \
    " AND (SELECT set_config('synchronous_commit', 'off', true)) IS NOT NULL"                   \
    " RETURNING j.id, j.kind, j.payload::text, j.attempts, j.max_attempts, c.q,"                \
    " (extract(epoch FROM j.run_at) * 1000000)::bigint")                                         \
  /* The heartbeat of a process's workers: renews the leases of the jobs they hold */ \
  /* ($1 owners), each by its kind's lease ($3 kinds, $4 leases). It skips a job    */ \
  /* whose row is locked: its worker is completing, releasing or retrying it, and   */ \
  /* waiting for that row while holding others deadlocked a batch's completion      */ \
  /* (which locks its jobs in another order).                                       */ \
  X(DSR_STMT_JOB_HEARTBEAT,                                                                     \
    "UPDATE dsr_jobs j SET lease_expires_at = to_timestamp($2::bigint) + make_interval(secs =>" \
    " s.l) FROM (SELECT h.id, u.l FROM dsr_jobs h JOIN unnest($3::text[], $4::integer[])"      \
    " u(k, l) ON h.kind = u.k WHERE h.state = 'running' AND h.lease_owner = ANY($1::text[])"   \
    " FOR UPDATE OF h SKIP LOCKED) s WHERE j.id = s.id")                                        \
  X(DSR_STMT_JOB_DONE, "DELETE FROM dsr_jobs WHERE id = $1::bigint AND lease_owner = $2"       \
                       " AND state = 'running'")                                                \
  /* A batch's completion need not wait for the WAL flush either: lost in a crash of the  */ \
  /* server, its jobs run again when their lease runs out, as when the worker dies before */ \
  /* completing them; every handler is idempotent for that reason (queue.h), and the      */ \
  /* handlers' own commits are synchronous.                                               */ \
  X(DSR_STMT_JOB_DONE_MANY,                                                                     \
    "DELETE FROM dsr_jobs WHERE id = ANY($1::bigint[]) AND lease_owner = $2"                   \
    " AND state = 'running' AND (SELECT set_config('synchronous_commit', 'off', true))"       \
    " IS NOT NULL RETURNING id")                                                                \
  /* A batch past its time budget gives back the jobs it has not started, in one    */ \
  /* statement that also wakes the other workers (their attempt was never used).      */ \
  X(DSR_STMT_JOB_RELEASE,                                                                       \
    "WITH r AS (UPDATE dsr_jobs SET state = 'queued', lease_owner = NULL,"                    \
    " lease_expires_at = NULL, attempts = attempts - 1, updated_at = to_timestamp($3::bigint)" \
    " WHERE id = ANY($1::bigint[]) AND lease_owner = $2 AND state = 'running' RETURNING kind)" \
    " SELECT pg_notify('dsr_jobs', k) FROM (SELECT DISTINCT kind AS k FROM r) s")             \
  X(DSR_STMT_JOB_RETRY,                                                                         \
    "UPDATE dsr_jobs SET state = CASE WHEN attempts >= max_attempts OR $5::boolean"            \
    " THEN 'dead' ELSE 'queued' END, run_at = to_timestamp($3::bigint),"                       \
    " last_error = left($4, 500), lease_owner = NULL, lease_expires_at = NULL,"               \
    " updated_at = to_timestamp($6::bigint)"                                                    \
    " WHERE id = $1::bigint AND lease_owner = $2 AND state = 'running' RETURNING state")        \
  X(DSR_STMT_JOB_NEXT_RUN,                                                                      \
    "SELECT extract(epoch FROM min(t))::bigint FROM (SELECT min(run_at) t FROM dsr_jobs"       \
    " WHERE state = 'queued' UNION ALL SELECT min(lease_expires_at) FROM dsr_jobs"             \
    " WHERE state = 'running') s")                                                              \
  /* Dead jobs back to the queue: job $1 (0: all) of kind $2 (NULL: any). One per dedupe  */ \
  /* key, and none whose key a live job holds (the unique index would refuse it).          */ \
  X(DSR_STMT_JOB_REQUEUE_DEAD,                                                                  \
    "WITH pick AS (SELECT DISTINCT ON (coalesce(d.dedupe_key, d.id::text)) d.id"               \
    " FROM dsr_jobs d WHERE d.state = 'dead' AND ($1::bigint = 0 OR d.id = $1::bigint)"       \
    " AND ($2::text IS NULL OR d.kind = $2) AND NOT EXISTS (SELECT 1 FROM dsr_jobs l"          \
    " WHERE l.dedupe_key = d.dedupe_key AND l.state IN ('queued', 'running'))"                 \
    " ORDER BY coalesce(d.dedupe_key, d.id::text), d.id DESC)"                                 \
    " UPDATE dsr_jobs j SET state = 'queued', attempts = 0, run_at = to_timestamp($3::bigint),"\
    " lease_owner = NULL, lease_expires_at = NULL, updated_at = to_timestamp($3::bigint)"     \
    " FROM pick WHERE j.id = pick.id AND j.state = 'dead' RETURNING j.id, j.kind")            \
  X(DSR_STMT_JOB_LIST,                                                                          \
    "SELECT id, kind, state, attempts, max_attempts, dsr_rfc3339(run_at),"                     \
    " coalesce(last_error, '') FROM dsr_jobs WHERE (NOT $1::boolean OR state = 'dead')"       \
    " AND ($2::text IS NULL OR kind = $2) ORDER BY id LIMIT $3::integer")

#endif

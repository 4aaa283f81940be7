-- pgbench reference for the job queue: what a worker must do at the least to
-- run no-op jobs under leases, per batch of 64 (what dsrd's workers claim at
-- once): claim them with the statement dsrd's workers run (FOR UPDATE SKIP
-- LOCKED, with a lease, committed without waiting for the WAL flush), then
-- complete the batch with one DELETE (also not waiting for the flush). Each
-- statement commits on its own, as dsrd's do. dsrd's claims start after the
-- position where the worker's previous full claim ended (and from the front
-- once a second); pgbench keeps no position between transactions, so the
-- reference always claims from the front (position NULL), the same statement.
-- :now comes from pgbench -D; the lease owner is per client.
WITH expired AS (SELECT id FROM dsr_jobs WHERE state = 'running' AND lease_expires_at < to_timestamp(:now::bigint) AND attempts < max_attempts AND kind = ANY('{bench_noop}'::text[]) ORDER BY lease_expires_at LIMIT 64 FOR UPDATE SKIP LOCKED), queued AS (SELECT id FROM dsr_jobs WHERE state = 'queued' AND run_at <= to_timestamp(:now::bigint) AND (run_at, id) > (coalesce(timestamptz 'epoch' + NULL::bigint * interval '1 microsecond', '-infinity'), coalesce(NULL::bigint, 0)) AND attempts < max_attempts AND kind = ANY('{bench_noop}'::text[]) ORDER BY run_at, id LIMIT 64 FOR UPDATE SKIP LOCKED), c AS (SELECT id, false AS q FROM expired UNION ALL SELECT id, true FROM queued LIMIT 64) UPDATE dsr_jobs j SET state = 'running', lease_owner = 'bench:' || :client_id::text, lease_expires_at = to_timestamp(:now::bigint) + make_interval(secs => 60), attempts = j.attempts + 1, updated_at = to_timestamp(:now::bigint) FROM c WHERE j.id = c.id AND (SELECT set_config('synchronous_commit', 'off', true)) IS NOT NULL RETURNING j.id, j.kind, j.payload::text, j.attempts, j.max_attempts, c.q, (extract(epoch FROM j.run_at) * 1000000)::bigint;
DELETE FROM dsr_jobs WHERE lease_owner = 'bench:' || :client_id::text AND state = 'running' AND (SELECT set_config('synchronous_commit', 'off', true)) IS NOT NULL;

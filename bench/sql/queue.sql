-- pgbench reference for the job queue: what a worker must do at the least to
-- run no-op jobs under leases, per batch of 64 (what dsrd's workers claim at
-- once): claim them with the statement dsrd's workers run (FOR UPDATE SKIP LOCKED, with a lease), then complete the
-- batch with one DELETE. Each statement commits on its own, as dsrd's do.
-- :now comes from pgbench -D; the lease owner is per client.
WITH expired AS (SELECT id FROM dsr_jobs WHERE state = 'running' AND lease_expires_at < to_timestamp(:now::bigint) AND attempts < max_attempts AND kind = ANY('{bench_noop}'::text[]) ORDER BY lease_expires_at LIMIT 64 FOR UPDATE SKIP LOCKED), queued AS (SELECT id FROM dsr_jobs WHERE state = 'queued' AND run_at <= to_timestamp(:now::bigint) AND attempts < max_attempts AND kind = ANY('{bench_noop}'::text[]) ORDER BY run_at LIMIT 64 FOR UPDATE SKIP LOCKED), c AS (SELECT id FROM expired UNION ALL SELECT id FROM queued LIMIT 64) UPDATE dsr_jobs j SET state = 'running', lease_owner = 'bench:' || :client_id::text, lease_expires_at = to_timestamp(:now::bigint) + make_interval(secs => 60), attempts = j.attempts + 1, updated_at = to_timestamp(:now::bigint) FROM c WHERE j.id = c.id RETURNING j.id, j.kind, j.payload::text, j.attempts, j.max_attempts;
DELETE FROM dsr_jobs WHERE lease_owner = 'bench:' || :client_id::text AND state = 'running';

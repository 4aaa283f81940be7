-- Gives the requests prepared for the status-read figure predictable ids,
-- md5('bench' || i)::uuid, so that the pgbench reference can pick one from an
-- integer. Runs once, before anything is measured, on the throwaway cluster.
-- Input: bench_status(i, old_id) filled by bench/run.
BEGIN;
-- The children's foreign keys are re-pointed in the same transaction.
SET LOCAL session_replication_role = replica;
UPDATE dsr_requests r SET id = md5('bench' || b.i::text)::uuid
  FROM bench_status b WHERE r.id = b.old_id;
UPDATE dsr_identities x SET request_id = md5('bench' || b.i::text)::uuid
  FROM bench_status b WHERE x.request_id = b.old_id;
UPDATE dsr_events x SET request_id = md5('bench' || b.i::text)::uuid
  FROM bench_status b WHERE x.request_id = b.old_id;
COMMIT;
DROP TABLE bench_status;
VACUUM ANALYZE dsr_requests;
VACUUM ANALYZE dsr_identities;
VACUUM ANALYZE dsr_events;

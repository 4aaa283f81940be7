-- The job queue (DESIGN.md section 5): every long or retried step is a row here.
-- Payloads carry ids and counts only, never personal data. Workers claim rows with
-- FOR UPDATE SKIP LOCKED and hold a lease; a lease that runs out (a crashed worker)
-- makes the job claimable again. Finished jobs are deleted; dead ones are kept for
-- operators to inspect and requeue.

CREATE TABLE dsr_jobs (
  id               bigserial PRIMARY KEY,
  kind             text NOT NULL,
  payload          jsonb NOT NULL DEFAULT '{}',
  state            text NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'running', 'dead')),
  run_at           timestamptz NOT NULL,
  attempts         integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
  max_attempts     integer NOT NULL CHECK (max_attempts >= 1),
  lease_owner      text,
  lease_expires_at timestamptz,
  last_error       text,
  dedupe_key       text,
  created_at       timestamptz NOT NULL,
  updated_at       timestamptz NOT NULL
);
-- What a claim scans: runnable queued jobs and running jobs whose lease ran out.
CREATE INDEX dsr_jobs_runnable ON dsr_jobs (run_at) WHERE state = 'queued';
CREATE INDEX dsr_jobs_leases ON dsr_jobs (lease_expires_at) WHERE state = 'running';
-- At most one live job per dedupe key; once it finishes the key may be used again.
CREATE UNIQUE INDEX dsr_jobs_dedupe ON dsr_jobs (dedupe_key)
  WHERE dedupe_key IS NOT NULL AND state IN ('queued', 'running');

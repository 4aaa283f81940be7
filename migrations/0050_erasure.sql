-- Erasure and retention sweeps (issue 6): the executor's runs and their
-- per-step progress, the durable list of pending file deletions, the
-- suppression list that outlives an erasure, and legal holds.
-- Nothing here holds personal data: keys of platform rows, relative media
-- paths, counts, keyed hashes.

-- One execution: an erasure part, or a retention sweep.
CREATE TABLE dsr_erasure_runs (
  id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  kind         text NOT NULL CHECK (kind IN ('erasure', 'sweep')),
  part_id      uuid UNIQUE REFERENCES dsr_parts (id) ON DELETE SET NULL,
  state        text NOT NULL DEFAULT 'running' CHECK (state IN ('running', 'done')),
  as_of        timestamptz NOT NULL,      -- sweeps: the cutoff clock, fixed for resumes
  started_at   timestamptz NOT NULL,
  finished_at  timestamptz,
  receipt      jsonb                       -- the receipt, once done (no personal data)
);
CREATE INDEX dsr_erasure_runs_kind ON dsr_erasure_runs (kind, state, started_at);

-- Progress of one step (collection, action) of a run. A batch runs in the
-- store's own transaction; its outcome is first recorded here as pending
-- (with the store's transaction id), then applied once the store committed,
-- so a crash at any point is resolved by asking the store txid_status().
CREATE TABLE dsr_erasure_steps (
  run_id       uuid NOT NULL REFERENCES dsr_erasure_runs (id) ON DELETE CASCADE,
  step_key     text NOT NULL,              -- "collection/verb[/mentions]"
  ord          integer NOT NULL,           -- execution order (children first)
  store        text NOT NULL,
  collection   text NOT NULL,
  action       text NOT NULL CHECK (action IN ('delete', 'mask', 'redact', 'retain')),
  basis        text,                       -- retain: the legal basis or the hold
  cursor_key   text,                       -- last primary key done (keyset order)
  done         boolean NOT NULL DEFAULT false,
  rows         bigint NOT NULL DEFAULT 0,  -- deleted / masked / redacted / retained
  kept         bigint NOT NULL DEFAULT 0,  -- delete: still referenced, so kept
  files        bigint NOT NULL DEFAULT 0,  -- files listed for deletion
  pend_xid     bigint,                     -- store transaction of the batch in flight
  pend_cursor  text,
  pend_rows    bigint,
  pend_kept    bigint,
  pend_files   bigint,
  PRIMARY KEY (run_id, step_key)
);

-- Files to remove once the rows pointing to them are gone. 'staged' rows
-- belong to a batch in flight; 'due' ones may be unlinked; 'done' ones were.
CREATE TABLE dsr_file_deletions (
  id          bigserial PRIMARY KEY,
  run_id      uuid NOT NULL REFERENCES dsr_erasure_runs (id) ON DELETE CASCADE,
  step_key    text NOT NULL,
  store       text NOT NULL,
  path        text NOT NULL,               -- relative to the store's root
  state       text NOT NULL DEFAULT 'staged' CHECK (state IN ('staged', 'due', 'done')),
  attempts    integer NOT NULL DEFAULT 0,
  last_error  text,
  created_at  timestamptz NOT NULL,
  done_at     timestamptz,
  UNIQUE (run_id, store, path)
);
CREATE INDEX dsr_file_deletions_due ON dsr_file_deletions (run_id, state);

-- What survives an erasure so that an opt-out keeps being honoured: keyed
-- hashes (DSR_KEY_IDENTITY over "kind:normalized value"), never identities.
CREATE TABLE dsr_suppressions (
  kind        text NOT NULL CHECK (kind IN ('email', 'phone', 'account_id')),
  hash        bytea NOT NULL CHECK (octet_length(hash) = 32),
  basis       text NOT NULL,
  source      text NOT NULL,               -- 'erasure'
  request_id  uuid,                        -- no foreign key: it outlives the request
  created_at  timestamptz NOT NULL,
  PRIMARY KEY (kind, hash)
);

-- Legal holds: on a request, or on a subject (keyed identity hash), over
-- some collections (NULL: everything). An active hold keeps what it covers.
CREATE TABLE dsr_holds (
  id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  request_id    uuid REFERENCES dsr_requests (id) ON DELETE CASCADE,
  identity_kind text CHECK (identity_kind IN ('email', 'phone', 'account_id')),
  identity_hash bytea CHECK (octet_length(identity_hash) = 32),
  collections   text[],
  basis         text NOT NULL,
  created_at    timestamptz NOT NULL,
  released_at   timestamptz,
  CHECK (request_id IS NOT NULL OR (identity_kind IS NOT NULL AND identity_hash IS NOT NULL))
);
CREATE INDEX dsr_holds_request ON dsr_holds (request_id) WHERE released_at IS NULL;
CREATE INDEX dsr_holds_identity ON dsr_holds (identity_hash) WHERE released_at IS NULL;

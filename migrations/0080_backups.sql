-- Erasure that reaches backups (issue 7): the erasure ledger replayed when a
-- database backup is restored, the database backups dsrctl took, and the
-- per-subject data keys of crypto-shredded media.
-- Nothing here holds personal data: keyed identity hashes, collection names,
-- primary keys of erased platform rows (see dsrctl(1), BACKUPS), times,
-- counts, and data keys wrapped by a master key that is never stored here.

-- Replays of the ledger into a restored database run through the executor
-- like erasures and sweeps.
ALTER TABLE dsr_erasure_runs DROP CONSTRAINT dsr_erasure_runs_kind_check;
ALTER TABLE dsr_erasure_runs ADD CONSTRAINT dsr_erasure_runs_kind_check
  CHECK (kind IN ('erasure', 'sweep', 'replay'));
-- The keys of the batch in flight (a text[] literal), appended to the ledger
-- when the batch is applied.
ALTER TABLE dsr_erasure_steps ADD COLUMN pend_keys text;

-- One entry per finished erasure part or sweep, in order. An erasure names
-- the subject by keyed hashes (DSR_KEY_IDENTITY over "kind:normalized"); its
-- erased rows are in dsr_erasure_ledger_keys. A sweep is replayed by its
-- rules at its cutoff (as_of).
CREATE TABLE dsr_erasure_ledger (
  seq          bigserial PRIMARY KEY,
  run_id       uuid NOT NULL UNIQUE,      -- no foreign key: it outlives the run
  kind         text NOT NULL CHECK (kind IN ('erasure', 'sweep')),
  recorded_at  timestamptz NOT NULL,
  as_of        timestamptz,               -- sweeps: the cutoff
  tenant       text,                      -- erasures: the part's tenant (NULL: controller)
  identities   jsonb NOT NULL DEFAULT '[]', -- [{"kind", "hash": hex}]
  collections  text[] NOT NULL DEFAULT '{}'
);
CREATE INDEX dsr_erasure_ledger_time ON dsr_erasure_ledger (recorded_at);

-- The primary keys an erasure deleted, masked or redacted, per step and
-- batch, appended in the transaction that applies the batch.
CREATE TABLE dsr_erasure_ledger_keys (
  id          bigserial PRIMARY KEY,
  run_id      uuid NOT NULL,
  step_key    text NOT NULL,
  ord         integer NOT NULL,
  store       text NOT NULL,
  collection  text NOT NULL,
  action      text NOT NULL CHECK (action IN ('delete', 'mask', 'redact')),
  keys        text[] NOT NULL
);
CREATE INDEX dsr_erasure_ledger_keys_run ON dsr_erasure_ledger_keys (run_id);

-- Append-only: nothing updates or deletes ledger entries.
CREATE FUNCTION dsr_ledger_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'the erasure ledger is append-only' USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER dsr_erasure_ledger_append_only BEFORE UPDATE OR DELETE ON dsr_erasure_ledger
  FOR EACH ROW EXECUTE FUNCTION dsr_ledger_append_only();
CREATE TRIGGER dsr_erasure_ledger_keys_append_only BEFORE UPDATE OR DELETE
  ON dsr_erasure_ledger_keys FOR EACH ROW EXECUTE FUNCTION dsr_ledger_append_only();

-- Database backups taken by `dsrctl backup create`: found again at restore
-- by the BLAKE2b hash of the file, whatever it is called by then.
CREATE TABLE dsr_backups (
  id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  store        text NOT NULL,
  file_hash    text NOT NULL UNIQUE,      -- hex BLAKE2b-256 of the dump file
  size_bytes   bigint NOT NULL,
  started_at   timestamptz NOT NULL,      -- entries recorded from here on are replayed
  finished_at  timestamptz NOT NULL
);

-- Per-subject data keys of crypto-shredded media: only wrapped (XChaCha20-
-- Poly1305 under master key version key_version), per identity hash and
-- scope (the tenant whose media they encrypt). Erasure clears wrapped.
CREATE TABLE dsr_data_keys (
  id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  identity_kind  text NOT NULL CHECK (identity_kind IN ('email', 'phone', 'account_id')),
  identity_hash  bytea NOT NULL CHECK (octet_length(identity_hash) = 32),
  scope          text NOT NULL DEFAULT '',
  wrapped        bytea,
  key_version    integer NOT NULL,
  created_at     timestamptz NOT NULL,
  destroyed_at   timestamptz,
  destroyed_run  uuid,
  CHECK ((wrapped IS NULL) = (destroyed_at IS NOT NULL))
);
CREATE UNIQUE INDEX dsr_data_keys_live ON dsr_data_keys (identity_kind, identity_hash, scope)
  WHERE destroyed_at IS NULL;
CREATE INDEX dsr_data_keys_hash ON dsr_data_keys (identity_hash) WHERE destroyed_at IS NULL;
CREATE INDEX dsr_data_keys_version ON dsr_data_keys (key_version) WHERE destroyed_at IS NULL;

-- Access and portability packages (issue 8). The package file is encrypted
-- (secretstream) with a random key kept here only sealed; the download token
-- is kept only as a keyed hash. Destroying a package removes its file and
-- its key.
CREATE TABLE dsr_exports (
  id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  request_id     uuid NOT NULL REFERENCES dsr_requests (id) ON DELETE CASCADE,
  part_id        uuid NOT NULL UNIQUE REFERENCES dsr_parts (id) ON DELETE CASCADE,
  kind           text NOT NULL CHECK (kind IN ('access', 'portability')),
  state          text NOT NULL DEFAULT 'ready' CHECK (state IN ('ready', 'destroyed')),
  file_name      text NOT NULL,          -- relative to export_dir
  key_sealed     bytea,                  -- NULL once destroyed
  token_hash     bytea NOT NULL UNIQUE,
  plain_bytes    bigint NOT NULL,
  row_count      bigint NOT NULL,
  file_count     bigint NOT NULL,
  downloads      integer NOT NULL DEFAULT 0,
  max_downloads  integer NOT NULL,
  created_at     timestamptz NOT NULL,
  expires_at     timestamptz NOT NULL,
  destroyed_at   timestamptz
);
CREATE INDEX dsr_exports_request ON dsr_exports (request_id);
CREATE INDEX dsr_exports_expiry ON dsr_exports (expires_at) WHERE state = 'ready';

-- Restriction of processing (issue 8): a registry of restricted subjects,
-- kept only as keyed identity hashes, checked by the platform's services with
-- a service key. Lifting a restriction keeps the row (who, when, why sealed).
CREATE TABLE dsr_service_keys (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  name        text NOT NULL UNIQUE,
  key_hash    bytea NOT NULL UNIQUE,
  created_at  timestamptz NOT NULL,
  revoked_at  timestamptz
);

CREATE TABLE dsr_restrictions (
  id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  request_id        uuid NOT NULL REFERENCES dsr_requests (id) ON DELETE CASCADE,
  part_id           uuid REFERENCES dsr_parts (id) ON DELETE SET NULL,
  identity_hash     bytea NOT NULL,
  scope             text,                 -- NULL: everywhere; else the tenant it applies in
  created_at        timestamptz NOT NULL,
  lifted_at         timestamptz,
  lifted_by         text,
  lift_reason_sealed bytea
);
CREATE UNIQUE INDEX dsr_restrictions_part_identity ON dsr_restrictions (part_id, identity_hash);
CREATE INDEX dsr_restrictions_active ON dsr_restrictions (identity_hash) WHERE lifted_at IS NULL;
CREATE INDEX dsr_restrictions_request ON dsr_restrictions (request_id);

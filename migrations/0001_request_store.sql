-- The request store: requests, their identities and their timeline.
-- Identities are kept only as a keyed hash (for lookup) and a sealed value
-- (libsodium secretbox); status tokens only as keyed hashes.

CREATE FUNCTION dsr_rfc3339(t timestamptz) RETURNS text
  LANGUAGE sql IMMUTABLE PARALLEL SAFE
  AS $$ SELECT to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') $$;

CREATE TABLE dsr_requests (
  id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  type              text NOT NULL CHECK (type IN ('access', 'portability', 'erasure', 'rectification',
                      'restriction', 'objection', 'withdraw_consent', 'opt_out')),
  jurisdiction      text NOT NULL,
  status            text NOT NULL CHECK (status IN ('received', 'pending_verification', 'verified',
                      'in_progress', 'completed', 'denied', 'withdrawn', 'expired', 'on_hold')),
  language          text NOT NULL DEFAULT 'en',
  details_sealed    bytea,
  status_token_hash bytea NOT NULL,
  received_at       timestamptz NOT NULL,
  due_at            timestamptz NOT NULL,
  updated_at        timestamptz NOT NULL,
  duplicate_of      uuid REFERENCES dsr_requests (id)
);
CREATE INDEX dsr_requests_status_due ON dsr_requests (status, due_at);
CREATE INDEX dsr_requests_duplicate_of ON dsr_requests (duplicate_of);

CREATE TABLE dsr_identities (
  id           bigserial PRIMARY KEY,
  request_id   uuid NOT NULL REFERENCES dsr_requests (id) ON DELETE CASCADE,
  kind         text NOT NULL CHECK (kind IN ('email', 'phone', 'account_id', 'name')),
  lookup_hash  bytea NOT NULL,
  value_sealed bytea NOT NULL,
  verified_at  timestamptz,
  UNIQUE (request_id, kind)
);
CREATE INDEX dsr_identities_lookup ON dsr_identities (lookup_hash);

-- The request's timeline (what staff see). Carries no personal data.
CREATE TABLE dsr_events (
  id         bigserial PRIMARY KEY,
  request_id uuid REFERENCES dsr_requests (id) ON DELETE CASCADE,
  at         timestamptz NOT NULL,
  kind       text NOT NULL,
  actor      text NOT NULL,
  data       jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX dsr_events_request ON dsr_events (request_id, id);

-- First answers to POSTs carrying an Idempotency-Key. The answer may hold a
-- bearer token, so it is sealed; the key itself is stored as a keyed hash.
CREATE TABLE dsr_idempotency (
  scope           text NOT NULL,
  key_hash        bytea NOT NULL,
  fingerprint     bytea NOT NULL,
  status          integer NOT NULL,
  response_sealed bytea NOT NULL,
  created_at      timestamptz NOT NULL,
  PRIMARY KEY (scope, key_hash)
);
CREATE INDEX dsr_idempotency_created ON dsr_idempotency (created_at);

-- Discovery and routing: customers (the platform's tenants) and their webhook
-- endpoints, the parts a request is split into, the webhook outbox with its
-- per-attempt delivery log, and staff users with API tokens.
-- Secrets are sealed (dsr_seal); API keys and tokens are kept only as keyed hashes.

CREATE TABLE dsr_customers (
  id                      uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  name                    text NOT NULL UNIQUE,
  tenant_ref              text NOT NULL UNIQUE, -- the tenant column value in platform data
  webhook_url             text NOT NULL,
  secret_sealed           bytea NOT NULL,       -- "whsec_..." sealed
  prev_secret_sealed      bytea,                -- the secret before the last rotation
  prev_secret_expires_at  timestamptz,          -- ... still signed with until then
  api_key_hash            bytea NOT NULL UNIQUE,
  status                  text NOT NULL DEFAULT 'enabled' CHECK (status IN ('enabled', 'disabled')),
  disabled_reason         text,
  created_at              timestamptz NOT NULL,
  updated_at              timestamptz NOT NULL
);

CREATE TABLE dsr_staff_users (
  id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  name       text NOT NULL UNIQUE,
  role       text NOT NULL CHECK (role IN ('admin', 'triager', 'approver', 'auditor')),
  status     text NOT NULL DEFAULT 'enabled' CHECK (status IN ('enabled', 'disabled')),
  created_at timestamptz NOT NULL
);

CREATE TABLE dsr_staff_tokens (
  id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  user_id      uuid NOT NULL REFERENCES dsr_staff_users (id) ON DELETE CASCADE,
  token_hash   bytea NOT NULL UNIQUE,
  created_at   timestamptz NOT NULL,
  revoked_at   timestamptz
);
CREATE INDEX dsr_staff_tokens_user ON dsr_staff_tokens (user_id);

ALTER TABLE dsr_requests
  ADD COLUMN IF NOT EXISTS verified_at timestamptz, -- verification may add it first
  ADD COLUMN manual_note_sealed   bytea,
  ADD COLUMN assigned_to          uuid REFERENCES dsr_staff_users (id),
  ADD COLUMN extended_at          timestamptz,
  ADD COLUMN extension_reason_sealed bytea,
  ADD COLUMN held_at              timestamptz,
  ADD COLUMN held_from            text,
  ADD COLUMN deny_reason          text,
  ADD COLUMN outcome              text,
  ADD COLUMN outcome_message      text,
  ADD COLUMN completed_at         timestamptz,
  ADD COLUMN due_reminded_at      timestamptz,
  ADD COLUMN overdue              boolean NOT NULL DEFAULT false;
CREATE INDEX dsr_requests_received ON dsr_requests (received_at DESC, id DESC);
CREATE INDEX dsr_requests_assigned ON dsr_requests (assigned_to);

CREATE TABLE dsr_parts (
  id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  request_id     uuid NOT NULL REFERENCES dsr_requests (id) ON DELETE CASCADE,
  owner_kind     text NOT NULL CHECK (owner_kind IN ('controller', 'customer')),
  customer_id    uuid REFERENCES dsr_customers (id),
  state          text NOT NULL CHECK (state IN ('pending', 'forwarded', 'approved', 'executing',
                   'done', 'denied', 'escalated')),
  approval       text NOT NULL CHECK (approval IN ('staff', 'auto')),
  identity_kinds text[] NOT NULL DEFAULT '{}',
  row_count      bigint NOT NULL DEFAULT 0,
  due_at         timestamptz NOT NULL,
  decision       text CHECK (decision IN ('fulfill', 'deny', 'handled')),
  reason_code    text,
  created_at     timestamptz NOT NULL,
  updated_at     timestamptz NOT NULL,
  forwarded_at   timestamptz,
  reminded_at    timestamptz,
  escalated_at   timestamptz,
  decided_at     timestamptz,
  CHECK ((owner_kind = 'controller') = (customer_id IS NULL))
);
-- One part per owner: discovery may run twice after a crash and must not split twice.
CREATE UNIQUE INDEX dsr_parts_owner ON dsr_parts (request_id,
  COALESCE(customer_id, '00000000-0000-0000-0000-000000000000'::uuid));
CREATE INDEX dsr_parts_customer ON dsr_parts (customer_id, state);
CREATE INDEX dsr_parts_state ON dsr_parts (state, forwarded_at);

-- The transactional outbox: written in the same transaction as the change it reports.
CREATE TABLE dsr_webhook_outbox (
  id              bigserial PRIMARY KEY,
  webhook_id      text NOT NULL UNIQUE,     -- "msg_<uuid>", the same on every attempt
  customer_id     uuid NOT NULL REFERENCES dsr_customers (id),
  part_id         uuid REFERENCES dsr_parts (id) ON DELETE CASCADE,
  event           text NOT NULL CHECK (event IN ('dsr.forwarded', 'dsr.updated', 'dsr.completed')),
  body_sealed     bytea NOT NULL,           -- the payload may carry the subject's identities
  state           text NOT NULL DEFAULT 'pending'
                    CHECK (state IN ('pending', 'delivered', 'failed', 'cancelled')),
  attempts        integer NOT NULL DEFAULT 0,
  created_at      timestamptz NOT NULL,
  next_attempt_at timestamptz NOT NULL,
  delivered_at    timestamptz
);
CREATE INDEX dsr_webhook_outbox_due ON dsr_webhook_outbox (next_attempt_at) WHERE state = 'pending';
CREATE INDEX dsr_webhook_outbox_customer ON dsr_webhook_outbox (customer_id, state);

-- One row per delivery attempt: when, the HTTP status (NULL when none), how long, what failed.
CREATE TABLE dsr_webhook_attempts (
  id          bigserial PRIMARY KEY,
  outbox_id   bigint NOT NULL REFERENCES dsr_webhook_outbox (id) ON DELETE CASCADE,
  attempt     integer NOT NULL,
  at          timestamptz NOT NULL,
  status_code integer,
  duration_ms integer NOT NULL,
  error       text
);
CREATE INDEX dsr_webhook_attempts_outbox ON dsr_webhook_attempts (outbox_id, attempt);

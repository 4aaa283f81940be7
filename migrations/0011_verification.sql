-- Identity verification and the outbox of messages to subjects.
-- Codes and link tokens are kept only as keyed hashes (BLAKE2b under the
-- token key); the messages that carry them are sealed (secretbox) while they
-- wait in the outbox and erased once sent.

ALTER TABLE dsr_requests
  ADD COLUMN close_reason text,
  ADD COLUMN verified_at  timestamptz,
  ADD COLUMN expires_at   timestamptz; -- unverified requests expire at this time

-- One row per request and channel that was offered or used.
CREATE TABLE dsr_verifications (
  request_id   uuid NOT NULL REFERENCES dsr_requests (id) ON DELETE CASCADE,
  channel      text NOT NULL CHECK (channel IN ('email', 'sms', 'account', 'agent', 'manual')),
  code_hash    bytea,            -- keyed hash of request id, channel and code
  link_hash    bytea,            -- keyed hash of the one-click link token (email)
  expires_at   timestamptz,      -- of the current code and link
  attempts     integer NOT NULL DEFAULT 0,
  max_attempts integer NOT NULL DEFAULT 5,
  sent_at      timestamptz,      -- last time a code went out (resend cool-down)
  sends        integer NOT NULL DEFAULT 0,
  used_at      timestamptz,      -- the current code was used
  verified_at  timestamptz,
  verified_by  text,             -- "subject", "staff:<id>"
  PRIMARY KEY (request_id, channel)
);
CREATE INDEX dsr_verifications_link ON dsr_verifications (link_hash) WHERE link_hash IS NOT NULL;

-- Messages to subjects, written in the same transaction as the change that
-- causes them and sent by the send_message job.
CREATE TABLE dsr_outbox (
  id          bigserial PRIMARY KEY,
  request_id  uuid REFERENCES dsr_requests (id) ON DELETE CASCADE,
  channel     text NOT NULL CHECK (channel IN ('email', 'sms')),
  template    text NOT NULL,
  status      text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed')),
  body_sealed bytea,             -- recipient, subject and bodies; NULL once sent
  attempts    integer NOT NULL DEFAULT 0,
  last_error  text,
  created_at  timestamptz NOT NULL,
  sent_at     timestamptz
);
CREATE INDEX dsr_outbox_request ON dsr_outbox (request_id);
CREATE INDEX dsr_requests_type_received ON dsr_requests (type, received_at);

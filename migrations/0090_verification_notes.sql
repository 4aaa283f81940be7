-- Identities of a verified request that staff verified by hand later, one row
-- each: who, when, and the note (it may describe the person, so sealed). The
-- request's own manual verification keeps its note on dsr_requests.
CREATE TABLE dsr_verification_notes (
  id            bigserial PRIMARY KEY,
  request_id    uuid NOT NULL REFERENCES dsr_requests (id) ON DELETE CASCADE,
  identity_kind text NOT NULL CHECK (identity_kind IN ('email', 'phone', 'account_id')),
  actor         text NOT NULL,
  at            timestamptz NOT NULL,
  note_sealed   bytea NOT NULL
);
CREATE INDEX dsr_verification_notes_request ON dsr_verification_notes (request_id);

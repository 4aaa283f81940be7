-- Internal notes of the privacy team on a request (issue 20): plain text,
-- never shown to the requester or customers. A note may describe the person,
-- so its text is sealed at rest; who wrote it and when are kept in clear. Each
-- note is also an event of the request (request.note, no text) in the audit
-- trail.
CREATE TABLE dsr_request_notes (
  id          bigserial PRIMARY KEY,
  request_id  uuid NOT NULL REFERENCES dsr_requests (id) ON DELETE CASCADE,
  author_id   uuid NOT NULL REFERENCES dsr_staff_users (id),
  at          timestamptz NOT NULL,
  body_sealed bytea NOT NULL
);
CREATE INDEX dsr_request_notes_request ON dsr_request_notes (request_id, id);

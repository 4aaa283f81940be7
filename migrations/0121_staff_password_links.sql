-- One-time links to set a staff password (issue 20): an invitation from the
-- staff UI, or a reset by an admin. Only a keyed hash of the link's token is
-- kept; a link works once, until it expires.
CREATE TABLE dsr_staff_password_links (
  token_hash bytea PRIMARY KEY,
  user_id    uuid NOT NULL REFERENCES dsr_staff_users (id) ON DELETE CASCADE,
  purpose    text NOT NULL CHECK (purpose IN ('invite', 'reset')),
  created_by uuid REFERENCES dsr_staff_users (id),
  created_at timestamptz NOT NULL,
  expires_at timestamptz NOT NULL,
  used_at    timestamptz
);
CREATE INDEX dsr_staff_password_links_user ON dsr_staff_password_links (user_id);

-- Staff UI: password logins on the staff users of 0020, and browser sessions.
-- Passwords are argon2id strings (crypto_pwhash_str); sessions are stored only
-- as keyed hashes of their 256-bit ids.
ALTER TABLE dsr_staff_users
  ADD COLUMN email               text UNIQUE,
  ADD COLUMN display_name        text,
  ADD COLUMN password_hash       text,
  ADD COLUMN password_changed_at timestamptz,
  ADD COLUMN failed_logins       integer NOT NULL DEFAULT 0,
  ADD COLUMN locked_until        timestamptz;

CREATE TABLE dsr_ui_sessions (
  id_hash      bytea PRIMARY KEY,
  user_id      uuid NOT NULL REFERENCES dsr_staff_users (id) ON DELETE CASCADE,
  created_at   timestamptz NOT NULL,
  last_seen_at timestamptz NOT NULL
);
CREATE INDEX dsr_ui_sessions_user ON dsr_ui_sessions (user_id);

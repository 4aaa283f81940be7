-- Login failures of email addresses that are no staff account (issue 17, M3):
-- they lock exactly as an account does, so a lockout tells nothing about
-- which addresses are accounts. Only a keyed hash of the address is kept.
CREATE TABLE dsr_login_failures (
  email_hash    text PRIMARY KEY,
  failed_logins integer NOT NULL DEFAULT 0,
  locked_until  timestamptz,
  updated_at    timestamptz NOT NULL
);

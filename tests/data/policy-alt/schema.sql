-- An alternate platform for the planner tests: other schemas, tables and
-- column names than the sample platform; a chain of four references
-- (session -> engagement, clip -> session, clip_text -> clip,
-- clip_tag -> clip_text) and two identity columns of one kind in one table
-- (acct.member.login_mail and alt_mail).
CREATE SCHEMA hd;
CREATE SCHEMA acct;
CREATE TABLE acct.member (
  member_no   bigint PRIMARY KEY,
  login_mail  text NOT NULL,
  alt_mail    text,
  phone_e164  text,
  display     text NOT NULL,
  closed_on   timestamptz
);
CREATE TABLE acct.charge (
  charge_no   bigint PRIMARY KEY,
  member_no   bigint NOT NULL REFERENCES acct.member,
  cents       bigint NOT NULL,
  booked_at   timestamptz NOT NULL
);
CREATE INDEX ON acct.charge (member_no);
CREATE TABLE acct.audit_trail (
  entry_no    bigint PRIMARY KEY,
  member_no   bigint REFERENCES acct.member,
  remote_addr text,
  happened_at timestamptz NOT NULL
);
-- deliberately no index on acct.audit_trail (member_no): lint --live warns
CREATE TABLE hd.org_prefs (
  org_ref         integer PRIMARY KEY,
  keep_clips_days integer
);
CREATE TABLE hd.engagement (
  eng_id          bigint PRIMARY KEY,
  org_ref         integer NOT NULL,
  contact_msisdn  text NOT NULL,
  contact_mail    text,
  opened          timestamptz NOT NULL
);
CREATE INDEX ON hd.engagement (contact_msisdn);
CREATE TABLE hd.session (
  sess_id     bigint PRIMARY KEY,
  eng_ref     bigint NOT NULL REFERENCES hd.engagement,
  org_ref     integer NOT NULL,
  agent_note  text
);
CREATE INDEX ON hd.session (eng_ref);
CREATE TABLE hd.clip (
  clip_id     bigint PRIMARY KEY,
  sess_ref    bigint NOT NULL REFERENCES hd.session,
  blob_uri    text,
  made        timestamptz NOT NULL
);
CREATE INDEX ON hd.clip (sess_ref);
CREATE TABLE hd.clip_text (
  text_id     bigint PRIMARY KEY,
  clip_ref    bigint NOT NULL REFERENCES hd.clip,
  body        text NOT NULL
);
CREATE INDEX ON hd.clip_text (clip_ref);
CREATE TABLE hd.clip_tag (
  tag_id      bigint PRIMARY KEY,
  text_ref    bigint NOT NULL REFERENCES hd.clip_text,
  label       text NOT NULL
);
CREATE INDEX ON hd.clip_tag (text_ref);

-- CallTrack: a mobile call-tracking service for sales teams, written as a
-- second test platform that shares nothing with the sample: customer
-- organisations, their agents' accounts (the platform's own data, each
-- belonging to an organisation), the agents' handsets, a call log
-- partitioned by id range with soft-deleted rows and the number a call was
-- forwarded to (another party's), notes on calls, tags on notes (keyed by
-- note and tag) with comments (keyed by note, tag and number, referring to
-- their tag by two columns), voicemails left on handsets (audio files:
-- paths relative to the audio store's root, absolute under it, or object keys
-- mapped by a prefix), and leads.
-- A call's tenant comes from its handset, the handset's from its agent's
-- account: a chain through a controller collection.
CREATE SCHEMA ct;
CREATE TABLE ct.org (
  org_id          integer PRIMARY KEY,
  org_name        text NOT NULL,
  keep_calls_days integer
);
CREATE TABLE ct.agent (
  agent_id    bigint PRIMARY KEY,
  org_id      integer NOT NULL REFERENCES ct.org,
  login_email text NOT NULL,
  mobile      text,
  closed_at   timestamptz,
  profile     jsonb NOT NULL DEFAULT '{}'  -- {"phones": [...]}: more numbers of the agent
);
CREATE INDEX ON ct.agent (lower(login_email));
CREATE INDEX ON ct.agent (org_id);
CREATE TABLE ct.handset (
  handset_id  bigint PRIMARY KEY,
  agent_id    bigint NOT NULL REFERENCES ct.agent,
  imei        text NOT NULL,
  sim_number  text
);
CREATE INDEX ON ct.handset (agent_id);
CREATE TABLE ct.call_log (
  call_id     bigint NOT NULL,
  handset_id  bigint NOT NULL REFERENCES ct.handset,
  counterpart text NOT NULL,
  direction   text NOT NULL,
  started     timestamptz NOT NULL,
  deleted_at  timestamptz,
  forwarded_to text,            -- another party's number: where the call was passed on
  conferenced text[],           -- other parties' numbers brought into the call
  PRIMARY KEY (call_id)
) PARTITION BY RANGE (call_id);
CREATE TABLE ct.call_log_a PARTITION OF ct.call_log FOR VALUES FROM (0) TO (1000);
CREATE TABLE ct.call_log_b PARTITION OF ct.call_log FOR VALUES FROM (1000) TO (2000);
CREATE INDEX ON ct.call_log (handset_id);
CREATE INDEX ON ct.call_log (counterpart);
CREATE TABLE ct.call_note (
  note_id  bigint PRIMARY KEY,
  call_id  bigint NOT NULL REFERENCES ct.call_log,
  body     text NOT NULL
);
CREATE INDEX ON ct.call_note (call_id);
CREATE TABLE ct.call_tag (
  note_id  bigint NOT NULL REFERENCES ct.call_note,
  tag      text NOT NULL,
  tagged   timestamptz NOT NULL,
  PRIMARY KEY (note_id, tag)
);
CREATE TABLE ct.tag_comment (
  note_id  bigint NOT NULL,
  tag      text NOT NULL,
  seq      integer NOT NULL,
  body     text NOT NULL,
  PRIMARY KEY (note_id, tag, seq),
  FOREIGN KEY (note_id, tag) REFERENCES ct.call_tag
);
CREATE TABLE ct.voicemail (
  vm_id      bigint PRIMARY KEY,
  handset_id bigint NOT NULL REFERENCES ct.handset,
  caller     text NOT NULL,
  audio      text,
  left_at    timestamptz NOT NULL
);
CREATE INDEX ON ct.voicemail (handset_id);
CREATE INDEX ON ct.voicemail (caller);
CREATE TABLE ct.lead (
  lead_id    bigint PRIMARY KEY,
  org_id     integer NOT NULL REFERENCES ct.org,
  phone      text NOT NULL,
  email      text,
  alt_phones text[] NOT NULL DEFAULT '{}',
  meta       jsonb NOT NULL DEFAULT '{}'   -- {"referrals": [{"name", "phone"}]}: other people
);
CREATE INDEX ON ct.lead (phone);
CREATE INDEX ON ct.lead (org_id);

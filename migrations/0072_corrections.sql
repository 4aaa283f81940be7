-- Rectification (issue 8): the corrections a request carries (values sealed),
-- staff's field-level decisions, and what applying each did per part: rows
-- changed and keyed hashes of the values before and after, never the values.
CREATE TABLE dsr_corrections (
  id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  request_id    uuid NOT NULL REFERENCES dsr_requests (id) ON DELETE CASCADE,
  idx           integer NOT NULL,
  collection    text NOT NULL,
  field         text NOT NULL,
  value_sealed  bytea,                 -- NULL once applied everywhere or rejected
  state         text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'approved', 'rejected')),
  decided_by    text,
  decided_at    timestamptz,
  created_at    timestamptz NOT NULL,
  UNIQUE (request_id, idx)
);

CREATE TABLE dsr_correction_applications (
  correction_id uuid NOT NULL REFERENCES dsr_corrections (id) ON DELETE CASCADE,
  part_id       uuid NOT NULL REFERENCES dsr_parts (id) ON DELETE CASCADE,
  rows          bigint NOT NULL,
  before_hash   bytea NOT NULL,
  after_hash    bytea NOT NULL,
  applied_at    timestamptz NOT NULL,
  PRIMARY KEY (correction_id, part_id)
);

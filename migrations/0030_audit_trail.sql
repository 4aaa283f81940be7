-- The tamper-evident audit trail (docs/audit-format.md).
--
-- dsr_audit_entries: every event recorded through dsr_event_record(), appended
--   cheaply (a sequence number, no lock) in the writer's own transaction.
-- dsr_audit_chain: the hash chain. One sealer at a time (advisory lock) links
--   committed entries into it, each link = BLAKE2b-256(prev hash || canonical
--   entry). Chain positions are gapless and each link must name the hash of
--   the one before, so the chain cannot fork.
-- Both tables are append-only: UPDATE, DELETE and TRUNCATE raise.

CREATE TABLE dsr_audit_entries (
  seq        bigserial PRIMARY KEY,
  xid        xid8 NOT NULL DEFAULT pg_current_xact_id(),
  at         timestamptz NOT NULL,
  request_id uuid,            -- no foreign key: the trail outlives the request
  kind       text NOT NULL,
  actor      text NOT NULL,
  data       text NOT NULL    -- canonical JSON text, exactly the bytes that are hashed
);
CREATE INDEX dsr_audit_entries_xid ON dsr_audit_entries (xid);
CREATE INDEX dsr_audit_entries_kind_at ON dsr_audit_entries (kind, at);
CREATE INDEX dsr_audit_entries_request ON dsr_audit_entries (request_id, seq);

CREATE TABLE dsr_audit_chain (
  pos       bigint PRIMARY KEY CHECK (pos >= 1),
  seq       bigint NOT NULL UNIQUE,  -- the entry (no foreign key: a deleted entry must show as a break)
  prev_hash bytea NOT NULL CHECK (octet_length(prev_hash) = 32),
  hash      bytea NOT NULL CHECK (octet_length(hash) = 32),
  sealed_at timestamptz NOT NULL
);

-- Where the sealer starts looking (an optimisation only: verification never
-- trusts it). Every entry with xid < horizon is sealed.
CREATE TABLE dsr_audit_sealer (
  id      integer PRIMARY KEY CHECK (id = 1),
  horizon xid8 NOT NULL
);
INSERT INTO dsr_audit_sealer (id, horizon) VALUES (1, '0'::xid8);

CREATE FUNCTION dsr_audit_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'the audit trail is append-only: % on % refused', TG_OP, TG_TABLE_NAME
    USING ERRCODE = 'insufficient_privilege';
END $$;

CREATE TRIGGER dsr_audit_entries_append_only BEFORE UPDATE OR DELETE ON dsr_audit_entries
  FOR EACH ROW EXECUTE FUNCTION dsr_audit_refuse();
CREATE TRIGGER dsr_audit_entries_no_truncate BEFORE TRUNCATE ON dsr_audit_entries
  FOR EACH STATEMENT EXECUTE FUNCTION dsr_audit_refuse();
CREATE TRIGGER dsr_audit_chain_append_only BEFORE UPDATE OR DELETE ON dsr_audit_chain
  FOR EACH ROW EXECUTE FUNCTION dsr_audit_refuse();
CREATE TRIGGER dsr_audit_chain_no_truncate BEFORE TRUNCATE ON dsr_audit_chain
  FOR EACH STATEMENT EXECUTE FUNCTION dsr_audit_refuse();

-- A link must extend the head: next position, naming the head's hash.
CREATE FUNCTION dsr_audit_chain_link() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  head_hash bytea;
BEGIN
  IF NEW.pos = 1 THEN
    IF NEW.prev_hash <> '\x0000000000000000000000000000000000000000000000000000000000000000'::bytea THEN
      RAISE EXCEPTION 'audit chain: position 1 must start from the zero hash';
    END IF;
    RETURN NEW;
  END IF;
  SELECT hash INTO head_hash FROM dsr_audit_chain WHERE pos = NEW.pos - 1;
  IF head_hash IS NULL OR head_hash <> NEW.prev_hash THEN
    RAISE EXCEPTION 'audit chain: position % does not extend position %', NEW.pos, NEW.pos - 1;
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER dsr_audit_chain_extends BEFORE INSERT ON dsr_audit_chain
  FOR EACH ROW EXECUTE FUNCTION dsr_audit_chain_link();

-- Deployments where dsrd connects as a role that does not own the tables
-- grant it SELECT and INSERT only (docs/audit-format.md); nobody else gets more.
REVOKE UPDATE, DELETE, TRUNCATE ON dsr_audit_entries, dsr_audit_chain FROM PUBLIC;

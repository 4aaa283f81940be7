-- The Data Rights Protocol 1.0 (issue 18): authorized agents' pair-wise
-- tokens (keyed hashes only, one live token per agent), the requests an agent
-- filed (which agent, its own id for the request, where to send status
-- callbacks) and the signed bodies seen, so that a body is never taken twice
-- before it expires. Owned by src/lib/drp.
CREATE TABLE dsr_drp_tokens (
  agent_id    text PRIMARY KEY,
  token_hash  bytea NOT NULL UNIQUE,
  created_at  timestamptz NOT NULL
);

CREATE TABLE dsr_drp_requests (
  request_id        uuid PRIMARY KEY REFERENCES dsr_requests (id) ON DELETE CASCADE,
  agent_id          text NOT NULL,
  agent_request_id  text,
  exercise          text NOT NULL,
  regime            text,
  status_callback   text,
  last_status       text,
  created_at        timestamptz NOT NULL
);
CREATE INDEX dsr_drp_requests_agent ON dsr_drp_requests (agent_id, created_at DESC);

CREATE TABLE dsr_drp_seen (
  body_hash   bytea PRIMARY KEY,
  expires_at  timestamptz NOT NULL
);
CREATE INDEX dsr_drp_seen_expires ON dsr_drp_seen (expires_at);

-- Webhook events a receiver can order and a customer can rebuild from the API:
-- a per-part sequence number (dsr_parts.event_seq, the last one given), the
-- part's state and the change each outbox row reported (kept in clear: no
-- personal data; the sealed body stays as it was), and when the part's
-- dsr.completed was written, so every final part sends exactly one.

ALTER TABLE dsr_parts
  ADD COLUMN event_seq             integer NOT NULL DEFAULT 0,
  ADD COLUMN completed_notified_at timestamptz;

ALTER TABLE dsr_webhook_outbox
  ADD COLUMN seq        integer,
  ADD COLUMN part_state text,
  ADD COLUMN change     text;

CREATE INDEX dsr_webhook_outbox_part ON dsr_webhook_outbox (part_id, seq);

-- Parts already final in closed requests got (or never needed) their last event.
UPDATE dsr_parts p SET completed_notified_at = p.updated_at
  FROM dsr_requests r
 WHERE r.id = p.request_id AND p.state IN ('done', 'denied')
   AND r.status IN ('completed', 'denied', 'withdrawn', 'expired');

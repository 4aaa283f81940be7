-- DRP status callbacks (issue 18, section 2.03) go through the webhook outbox,
-- its retries and its SSRF guard: a row is either a customer's webhook
-- (customer_id) or an agent's callback (callback_url and request_id, no
-- customer, no signature: DRP callbacks carry the Exercise Status as is).
ALTER TABLE dsr_webhook_outbox
  ALTER COLUMN customer_id DROP NOT NULL,
  ADD COLUMN callback_url text,
  ADD COLUMN request_id uuid REFERENCES dsr_requests (id) ON DELETE CASCADE,
  DROP CONSTRAINT dsr_webhook_outbox_event_check,
  ADD CONSTRAINT dsr_webhook_outbox_event_check
    CHECK (event IN ('dsr.forwarded', 'dsr.updated', 'dsr.completed', 'drp.status')),
  ADD CONSTRAINT dsr_webhook_outbox_target_check
    CHECK ((customer_id IS NULL) = (callback_url IS NOT NULL));
CREATE INDEX dsr_webhook_outbox_request ON dsr_webhook_outbox (request_id)
  WHERE request_id IS NOT NULL;

-- What the last callback of a DRP request said (state, outcome, due date), so that a
-- sweep sends one for every change and never the same twice.
ALTER TABLE dsr_drp_requests ADD COLUMN callback_key text;

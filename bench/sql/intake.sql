-- pgbench reference for POST /v1/requests: the statements dsrd runs for one
-- request with an email and a phone, in one READ COMMITTED transaction, one
-- round trip each, in dsrd's order, with values of the same types and sizes
-- (read from dsrd's statement log):
--   the request; two identities (32-byte keyed lookup hash, sealed value:
--   24-byte nonce + 16-byte MAC + the value); then per verification channel
--   (email: code and link hashes; sms: code hash) the verification row, the
--   sealed message in the outbox (about 1,640 bytes for the email, 200 for the
--   SMS), its send_message job, the NOTIFY that wakes a worker and the
--   "message.queued" event with its audit-trail entry (one statement, as in
--   dsrd); the expire_request job (with its dedupe key) and its NOTIFY; the
--   verification deadline; the "request.received" event.
-- :now (epoch seconds) comes from pgbench -D, as dsrd passes dsr_now().
-- The audit chain's links are written later by dsrd's audit sealer, outside
-- the request; they are not part of this transaction in either side.
\set n random(1, 2000000000)
BEGIN ISOLATION LEVEL READ COMMITTED;
INSERT INTO dsr_requests (type, jurisdiction, status, language, details_sealed, status_token_hash, received_at, due_at, updated_at) VALUES ('erasure', 'gdpr', 'pending_verification', 'en', NULL, sha256(('token' || :n::text)::bytea), to_timestamp(:now::bigint), to_timestamp(:now::bigint) + '1 month'::interval, to_timestamp(:now::bigint)) RETURNING id AS req_id, status, dsr_rfc3339(received_at), dsr_rfc3339(due_at) \gset
INSERT INTO dsr_identities (request_id, kind, lookup_hash, value_sealed) VALUES (:req_id::uuid, 'email', sha256(('email-bench' || :n::text || '@example.com')::bytea), sha256(('seal' || :n::text)::bytea) || '\x0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c'::bytea);
INSERT INTO dsr_identities (request_id, kind, lookup_hash, value_sealed) VALUES (:req_id::uuid, 'phone', sha256(('phone-+4915' || :n::text)::bytea), sha256(('seal' || :n::text)::bytea) || '\x0102030405060708090a0b0c0d0e0f1011121314151617'::bytea);
INSERT INTO dsr_verifications (request_id, channel, code_hash, link_hash, expires_at, max_attempts, sent_at, sends) VALUES (:req_id::uuid, 'email', sha256(('code-e' || :n::text)::bytea), sha256(('link' || :n::text)::bytea), to_timestamp(:now::bigint) + '00:10:00'::interval, 5, to_timestamp(:now::bigint), 1) RETURNING dsr_rfc3339(expires_at);
INSERT INTO dsr_outbox (request_id, channel, template, body_sealed, created_at) VALUES (:req_id::uuid, 'email', 'code', decode(repeat(md5('e' || :n::text), 102), 'hex') || '\x0102030405060708'::bytea, to_timestamp(:now::bigint)) RETURNING id AS email_outbox \gset
INSERT INTO dsr_jobs (kind, payload, run_at, max_attempts, dedupe_key, created_at, updated_at) VALUES ('send_message', ('{"outbox_id": ' || :email_outbox::text || '}')::jsonb, to_timestamp(:now::bigint), 10, NULL, to_timestamp(:now::bigint), to_timestamp(:now::bigint)) ON CONFLICT (dedupe_key) WHERE dedupe_key IS NOT NULL AND state IN ('queued', 'running') DO NOTHING RETURNING id;
SELECT pg_notify('dsr_jobs', 'send_message');
WITH e AS (INSERT INTO dsr_events (request_id, at, kind, actor, data) VALUES (:req_id::uuid, to_timestamp(:now::bigint), 'message.queued', 'system', '{"channel":"email","template":"code"}'::text::jsonb) RETURNING request_id, at, kind, actor) INSERT INTO dsr_audit_entries (at, request_id, kind, actor, data) SELECT at, request_id, kind, actor, '{"channel":"email","template":"code"}'::text FROM e;
INSERT INTO dsr_verifications (request_id, channel, code_hash, link_hash, expires_at, max_attempts, sent_at, sends) VALUES (:req_id::uuid, 'sms', sha256(('code-s' || :n::text)::bytea), NULL, to_timestamp(:now::bigint) + '00:10:00'::interval, 5, to_timestamp(:now::bigint), 1) RETURNING dsr_rfc3339(expires_at);
INSERT INTO dsr_outbox (request_id, channel, template, body_sealed, created_at) VALUES (:req_id::uuid, 'sms', 'code', decode(repeat(md5('s' || :n::text), 12), 'hex') || '\x0102030405060708'::bytea, to_timestamp(:now::bigint)) RETURNING id AS sms_outbox \gset
INSERT INTO dsr_jobs (kind, payload, run_at, max_attempts, dedupe_key, created_at, updated_at) VALUES ('send_message', ('{"outbox_id": ' || :sms_outbox::text || '}')::jsonb, to_timestamp(:now::bigint), 10, NULL, to_timestamp(:now::bigint), to_timestamp(:now::bigint)) ON CONFLICT (dedupe_key) WHERE dedupe_key IS NOT NULL AND state IN ('queued', 'running') DO NOTHING RETURNING id;
SELECT pg_notify('dsr_jobs', 'send_message');
WITH e AS (INSERT INTO dsr_events (request_id, at, kind, actor, data) VALUES (:req_id::uuid, to_timestamp(:now::bigint), 'message.queued', 'system', '{"channel":"sms","template":"code"}'::text::jsonb) RETURNING request_id, at, kind, actor) INSERT INTO dsr_audit_entries (at, request_id, kind, actor, data) SELECT at, request_id, kind, actor, '{"channel":"sms","template":"code"}'::text FROM e;
INSERT INTO dsr_jobs (kind, payload, run_at, max_attempts, dedupe_key, created_at, updated_at) VALUES ('expire_request', ('{"request_id": "' || :req_id::text || '"}')::jsonb, to_timestamp(:now::bigint) + '7 days'::interval, 8, 'expire:' || :req_id::text, to_timestamp(:now::bigint), to_timestamp(:now::bigint)) ON CONFLICT (dedupe_key) WHERE dedupe_key IS NOT NULL AND state IN ('queued', 'running') DO NOTHING RETURNING id;
SELECT pg_notify('dsr_jobs', 'expire_request');
UPDATE dsr_requests SET expires_at = to_timestamp(:now::bigint) + '7 days'::interval WHERE id = :req_id::uuid RETURNING extract(epoch FROM expires_at)::bigint;
WITH e AS (INSERT INTO dsr_events (request_id, at, kind, actor, data) VALUES (:req_id::uuid, to_timestamp(:now::bigint), 'request.received', 'subject', '{"jurisdiction":"gdpr","type":"erasure"}'::text::jsonb) RETURNING request_id, at, kind, actor) INSERT INTO dsr_audit_entries (at, request_id, kind, actor, data) SELECT at, request_id, kind, actor, '{"jurisdiction":"gdpr","type":"erasure"}'::text FROM e;
COMMIT;

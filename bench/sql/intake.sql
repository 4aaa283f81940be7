-- pgbench reference for POST /v1/requests: the statements dsrd runs for one
-- request with an email and a phone, in one READ COMMITTED transaction, one
-- round trip each (the timeline event and its audit-trail entry are one
-- statement, as in dsrd), with values of the same types and sizes:
--   status_token_hash, lookup_hash: 32-byte keyed hashes (sha256 here);
--   value_sealed: secretbox of the value = 24-byte nonce + 16-byte MAC + value
--   (about 60 bytes for the email, 54 for the phone).
-- :now (epoch seconds) comes from pgbench -D, as dsrd passes dsr_now().
\set n random(1, 2000000000)
BEGIN ISOLATION LEVEL READ COMMITTED;
INSERT INTO dsr_requests (type, jurisdiction, status, language, details_sealed, status_token_hash, received_at, due_at, updated_at) VALUES ('erasure', 'gdpr', 'pending_verification', 'en', NULL, sha256(('token' || :n::text)::bytea), to_timestamp(:now::bigint), to_timestamp(:now::bigint) + '1 month'::interval, to_timestamp(:now::bigint)) RETURNING id AS req_id, status, dsr_rfc3339(received_at), dsr_rfc3339(due_at) \gset
INSERT INTO dsr_identities (request_id, kind, lookup_hash, value_sealed) VALUES (:req_id::uuid, 'email', sha256(('email-bench' || :n::text || '@example.com')::bytea), sha256(('seal' || :n::text)::bytea) || '\x0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c'::bytea);
INSERT INTO dsr_identities (request_id, kind, lookup_hash, value_sealed) VALUES (:req_id::uuid, 'phone', sha256(('phone-+4915' || :n::text)::bytea), sha256(('seal' || :n::text)::bytea) || '\x0102030405060708090a0b0c0d0e0f1011121314151617'::bytea);
WITH e AS (INSERT INTO dsr_events (request_id, at, kind, actor, data) VALUES (:req_id::uuid, to_timestamp(:now::bigint), 'request.received', 'subject', '{"jurisdiction":"gdpr","type":"erasure"}'::text::jsonb) RETURNING request_id, at, kind, actor) INSERT INTO dsr_audit_entries (at, request_id, kind, actor, data) SELECT at, request_id, kind, actor, '{"jurisdiction":"gdpr","type":"erasure"}'::text FROM e;
COMMIT;

-- pgbench reference for GET /v1/requests/{id}: the one statement dsrd runs,
-- outside an explicit transaction, for one of the prepared requests picked at
-- random. bench/run gives the prepared requests the ids md5('bench' || i) so
-- the script can name one from an integer (md5 of a short string costs well
-- under a microsecond; the ids stay randomly spread over the index, like
-- gen_random_uuid()). :nids comes from pgbench -D.
\set i random(1, :nids)
SELECT id, type, jurisdiction, status, dsr_rfc3339(received_at), dsr_rfc3339(due_at), dsr_rfc3339(updated_at), status_token_hash, outcome, outcome_message, dsr_rfc3339(extended_at), extension_reason_sealed FROM dsr_requests WHERE id = md5('bench' || :i::text)::uuid;

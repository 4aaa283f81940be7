/** @file stmts_requests.h @brief Statements of the request store. */
#ifndef DSR_STMTS_REQUESTS_H
#define DSR_STMTS_REQUESTS_H

/* $now parameters are epoch seconds from dsr_now(), so tests can move the clock. */
#define DSR_STMTS_REQUESTS(X)                                                                   \
  X(DSR_STMT_REQUEST_INSERT,                                                                    \
    "INSERT INTO dsr_requests (type, jurisdiction, status, language, details_sealed,"          \
    " status_token_hash, received_at, due_at, updated_at)"                                     \
    " VALUES ($1, $2, 'pending_verification', $3, $4, $5, to_timestamp($6::bigint),"           \
    " to_timestamp($6::bigint) + $7::interval, to_timestamp($6::bigint))"                       \
    " RETURNING id, status, dsr_rfc3339(received_at), dsr_rfc3339(due_at)")                     \
  X(DSR_STMT_IDENTITY_INSERT,                                                                   \
    "INSERT INTO dsr_identities (request_id, kind, lookup_hash, value_sealed)"                  \
    " VALUES ($1::uuid, $2, $3, $4)")                                                           \
  X(DSR_STMT_EVENT_INSERT,                                                                      \
    "INSERT INTO dsr_events (request_id, at, kind, actor, data)"                                \
    " VALUES ($1::uuid, to_timestamp($2::bigint), $3, $4, $5::jsonb)")                          \
  /* Columns 8-11 are routing's part of the status view (dsr_request_status_extra()):       */ \
  /* one statement per status read, not two.                                               */ \
  X(DSR_STMT_REQUEST_GET,                                                                       \
    "SELECT id, type, jurisdiction, status, dsr_rfc3339(received_at), dsr_rfc3339(due_at),"    \
    " dsr_rfc3339(updated_at), status_token_hash, duplicate_of, close_reason, outcome,"        \
    " outcome_message, dsr_rfc3339(extended_at), extension_reason_sealed"                     \
    " FROM dsr_requests WHERE id = $1::uuid")                                                   \
  /* The closing notice (closing.c): the request locked, and whether it was told already. */ \
  X(DSR_STMT_CLOSING_REQUEST,                                                                   \
    "SELECT status, type, jurisdiction, outcome, outcome_message, close_reason,"               \
    " EXISTS (SELECT 1 FROM dsr_events e WHERE e.request_id = r.id"                            \
    " AND e.kind = 'subject.answered')"                                                         \
    " FROM dsr_requests r WHERE id = $1::uuid FOR UPDATE")                                      \
  /* The receipts of a request's erasure runs (exec's table, read only). */                   \
  X(DSR_STMT_CLOSING_RECEIPTS,                                                                  \
    "SELECT r.receipt::text FROM dsr_erasure_runs r JOIN dsr_parts p ON p.id = r.part_id"     \
    " WHERE p.request_id = $1::uuid AND r.state = 'done' AND r.receipt IS NOT NULL"            \
    " ORDER BY r.started_at")                                                                   \
  /* What the subject wrote ("details"), sealed; for the staff who handle the request. */     \
  X(DSR_STMT_REQUEST_DETAILS,                                                                   \
    "SELECT details_sealed FROM dsr_requests WHERE id = $1::uuid AND details_sealed IS NOT NULL") \
  X(DSR_STMT_IDEMPOTENCY_GET,                                                                   \
    "SELECT fingerprint, status, response_sealed FROM dsr_idempotency"                         \
    " WHERE scope = $1 AND key_hash = $2")                                                      \
  /* Stores an answer: a new row, or the completion of this key's reservation (status 0). */ \
  X(DSR_STMT_IDEMPOTENCY_PUT,                                                                   \
    "INSERT INTO dsr_idempotency (scope, key_hash, fingerprint, status, response_sealed,"      \
    " created_at) VALUES ($1, $2, $3, $4::integer, $5, to_timestamp($6::bigint))"               \
    " ON CONFLICT (scope, key_hash) DO UPDATE SET status = EXCLUDED.status,"                   \
    " response_sealed = EXCLUDED.response_sealed WHERE dsr_idempotency.status = 0"             \
    " AND dsr_idempotency.fingerprint = EXCLUDED.fingerprint RETURNING 1")                     \
  /* Reserves a key (status 0, no answer yet); takes over a reservation older than $5 s.   */ \
  X(DSR_STMT_IDEMPOTENCY_RESERVE,                                                               \
    "INSERT INTO dsr_idempotency (scope, key_hash, fingerprint, status, response_sealed,"      \
    " created_at) VALUES ($1, $2, $3, 0, '\\x'::bytea, to_timestamp($4::bigint))"             \
    " ON CONFLICT (scope, key_hash) DO UPDATE SET created_at = EXCLUDED.created_at"            \
    " WHERE dsr_idempotency.status = 0 AND dsr_idempotency.fingerprint = EXCLUDED.fingerprint" \
    " AND dsr_idempotency.created_at < EXCLUDED.created_at - make_interval(secs => $5::integer)"\
    " RETURNING 1")                                                                             \
  X(DSR_STMT_IDEMPOTENCY_RELEASE,                                                               \
    "DELETE FROM dsr_idempotency WHERE scope = $1 AND key_hash = $2 AND status = 0")

#endif

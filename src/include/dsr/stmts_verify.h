/** @file stmts_verify.h @brief Statements of verification, the outbox and the subject's actions. */
#ifndef DSR_STMTS_VERIFY_H
#define DSR_STMTS_VERIFY_H

/* $now parameters are epoch seconds from dsr_now(). Durations are interval strings. */
#define DSR_STMTS_VERIFY(X)                                                                     \
  X(DSR_STMT_VERIFY_INSERT,                                                                     \
    "INSERT INTO dsr_verifications (request_id, channel, code_hash, link_hash, expires_at,"    \
    " max_attempts, sent_at, sends) VALUES ($1::uuid, $2, $3, $4,"                              \
    " to_timestamp($5::bigint) + $6::interval, $7::integer, to_timestamp($5::bigint), 1)"      \
    " RETURNING dsr_rfc3339(expires_at)")                                                       \
  X(DSR_STMT_VERIFY_REQUEST_LOCK,                                                               \
    "SELECT status, type, jurisdiction, language, coalesce(expires_at <="                      \
    " to_timestamp($2::bigint), false), status_token_hash, dsr_rfc3339(due_at)"                 \
    " FROM dsr_requests WHERE id = $1::uuid FOR UPDATE")                                        \
  X(DSR_STMT_VERIFY_STATUS_TOKEN,                                                               \
    "SELECT status_token_hash FROM dsr_requests WHERE id = $1::uuid")                           \
  X(DSR_STMT_VERIFY_GET,                                                                        \
    "SELECT code_hash, link_hash, coalesce(expires_at <= to_timestamp($3::bigint), true),"     \
    " attempts, max_attempts, used_at IS NOT NULL, verified_at IS NOT NULL,"                    \
    " greatest(0, ceil(extract(epoch FROM sent_at + $4::interval"                               \
    " - to_timestamp($3::bigint))))::bigint"                                                    \
    " FROM dsr_verifications WHERE request_id = $1::uuid AND channel = $2")                     \
  X(DSR_STMT_VERIFY_WRONG,                                                                      \
    "UPDATE dsr_verifications SET attempts = attempts + 1"                                     \
    " WHERE request_id = $1::uuid AND channel = $2 RETURNING attempts, max_attempts")           \
  X(DSR_STMT_VERIFY_USED,                                                                       \
    "UPDATE dsr_verifications SET used_at = to_timestamp($3::bigint),"                          \
    " verified_at = coalesce(verified_at, to_timestamp($3::bigint)), verified_by = $4"         \
    " WHERE request_id = $1::uuid AND channel = $2")                                            \
  X(DSR_STMT_VERIFY_MARK,                                                                       \
    "INSERT INTO dsr_verifications (request_id, channel, verified_at, used_at, verified_by)"   \
    " VALUES ($1::uuid, $2, to_timestamp($3::bigint), to_timestamp($3::bigint), $4)"            \
    " ON CONFLICT (request_id, channel) DO UPDATE SET verified_at ="                           \
    " coalesce(dsr_verifications.verified_at, EXCLUDED.verified_at),"                          \
    " verified_by = coalesce(dsr_verifications.verified_by, EXCLUDED.verified_by)")            \
  X(DSR_STMT_VERIFY_CHANNELS,                                                                   \
    "SELECT channel, verified_at IS NOT NULL FROM dsr_verifications"                           \
    " WHERE request_id = $1::uuid ORDER BY channel")                                            \
  X(DSR_STMT_VERIFY_RESEND,                                                                     \
    "UPDATE dsr_verifications SET code_hash = $3, link_hash = $4,"                              \
    " expires_at = to_timestamp($5::bigint) + $6::interval, sent_at = to_timestamp($5::bigint)," \
    " sends = sends + 1, used_at = NULL, attempts = 0"                                         \
    " WHERE request_id = $1::uuid AND channel = $2"                                             \
    " RETURNING dsr_rfc3339(expires_at)")                                                       \
  X(DSR_STMT_IDENTITY_VERIFIED,                                                                 \
    "UPDATE dsr_identities SET verified_at = to_timestamp($3::bigint)"                          \
    " WHERE request_id = $1::uuid AND kind = $2 AND verified_at IS NULL RETURNING kind")        \
  X(DSR_STMT_IDENTITIES_VERIFY_ALL,                                                             \
    "UPDATE dsr_identities SET verified_at = to_timestamp($2::bigint)"                          \
    " WHERE request_id = $1::uuid AND kind IN ('email', 'phone', 'account_id')"                 \
    " AND verified_at IS NULL RETURNING kind")                                                  \
  X(DSR_STMT_REQUEST_NOTICE_INFO,                                                               \
    "SELECT type, language, dsr_rfc3339(due_at), jurisdiction FROM dsr_requests"              \
    " WHERE id = $1::uuid")         \
  X(DSR_STMT_IDENTITY_GET,                                                                      \
    "SELECT value_sealed, lookup_hash FROM dsr_identities"                                     \
    " WHERE request_id = $1::uuid AND kind = $2")                                               \
  X(DSR_STMT_REQUEST_SET_EXPIRY,                                                                \
    "UPDATE dsr_requests SET expires_at = to_timestamp($2::bigint) + $3::interval"             \
    " WHERE id = $1::uuid RETURNING extract(epoch FROM expires_at)::bigint")                    \
  X(DSR_STMT_REQUEST_SET_VERIFIED,                                                              \
    "UPDATE dsr_requests SET status = 'verified', verified_at = to_timestamp($2::bigint),"      \
    " updated_at = to_timestamp($2::bigint) WHERE id = $1::uuid"                               \
    " AND status IN ('received', 'pending_verification')")                                      \
  X(DSR_STMT_VERIFY_IDENTITY_NOTE,                                                              \
    "INSERT INTO dsr_verification_notes (request_id, identity_kind, actor, at, note_sealed)"   \
    " VALUES ($1::uuid, $2, $3, to_timestamp($4::bigint), $5)")                                 \
  X(DSR_STMT_IDENTITY_STATE,                                                                    \
    "SELECT verified_at IS NOT NULL FROM dsr_identities WHERE request_id = $1::uuid AND kind = $2") \
  X(DSR_STMT_VERIFY_MANUAL_NOTE,                                                                \
    "UPDATE dsr_requests SET manual_note_sealed = $2, updated_at = to_timestamp($3::bigint)"   \
    " WHERE id = $1::uuid")                                                                     \
  X(DSR_STMT_REQUEST_FIND_DUPLICATE,                                                            \
    "SELECT o.id FROM dsr_requests o JOIN dsr_identities oi ON oi.request_id = o.id"           \
    " JOIN dsr_identities ni ON ni.lookup_hash = oi.lookup_hash AND ni.kind = oi.kind"         \
    " AND ni.request_id = $1::uuid AND ni.verified_at IS NOT NULL"                              \
    " WHERE o.id <> $1::uuid AND o.type = $2 AND o.duplicate_of IS NULL"                        \
    " AND o.status IN ('verified', 'in_progress', 'on_hold', 'completed')"                     \
    " AND o.received_at >= to_timestamp($3::bigint) - $4::interval"                            \
    " AND NOT EXISTS (SELECT 1 FROM dsr_identities n2 WHERE n2.request_id = $1::uuid"           \
    " AND n2.verified_at IS NOT NULL AND NOT EXISTS (SELECT 1 FROM dsr_identities o2"           \
    " WHERE o2.request_id = o.id AND o2.kind = n2.kind AND o2.lookup_hash = n2.lookup_hash"     \
    " AND o2.verified_at IS NOT NULL))"                                                         \
    " ORDER BY o.received_at, o.id LIMIT 1")                                                    \
  X(DSR_STMT_REQUEST_MARK_DUPLICATE,                                                            \
    "UPDATE dsr_requests SET duplicate_of = $2::uuid, status = 'denied',"                      \
    " close_reason = 'duplicate', updated_at = to_timestamp($3::bigint) WHERE id = $1::uuid")  \
  X(DSR_STMT_REQUEST_WITHDRAW,                                                                  \
    "UPDATE dsr_requests SET status = 'withdrawn', close_reason = 'withdrawn_by_subject',"     \
    " updated_at = to_timestamp($2::bigint) WHERE id = $1::uuid AND status IN"                 \
    " ('received', 'pending_verification', 'verified', 'in_progress', 'on_hold')"              \
    " AND NOT EXISTS (SELECT 1 FROM dsr_parts p WHERE p.request_id = $1::uuid"                 \
    " AND p.state IN ('executing', 'done'))")                                                   \
  /* What a withdrawal leaves of the parts not yet carried out: closed, so no job runs them  */ \
  /* and their customers hear it (dsr.completed, outcome "withdrawn").                      */ \
  X(DSR_STMT_PARTS_WITHDRAW,                                                                    \
    "UPDATE dsr_parts SET state = 'denied', reason_code = 'withdrawn',"                        \
    " updated_at = to_timestamp($2::bigint) WHERE request_id = $1::uuid"                       \
    " AND state NOT IN ('done', 'denied', 'executing')")                                       \
  X(DSR_STMT_REQUEST_EXPIRE,                                                                    \
    "UPDATE dsr_requests SET status = 'expired', close_reason = 'never_verified',"             \
    " updated_at = to_timestamp($2::bigint) WHERE id = $1::uuid"                               \
    " AND status = 'pending_verification' RETURNING type, language")                            \
  X(DSR_STMT_OUTBOX_INSERT,                                                                     \
    "INSERT INTO dsr_outbox (request_id, channel, template, body_sealed, created_at)"          \
    " VALUES ($1::uuid, $2, $3, $4, to_timestamp($5::bigint)) RETURNING id")                    \
  X(DSR_STMT_OUTBOX_GET,                                                                        \
    "SELECT channel, status, body_sealed, request_id, template FROM dsr_outbox"                \
    " WHERE id = $1::bigint")                                                                   \
  X(DSR_STMT_OUTBOX_SENT,                                                                       \
    "UPDATE dsr_outbox SET status = 'sent', sent_at = to_timestamp($2::bigint),"               \
    " body_sealed = NULL, attempts = attempts + 1 WHERE id = $1::bigint AND status = 'pending'" \
    " RETURNING request_id, channel, template")                                                 \
  X(DSR_STMT_OUTBOX_TRY_FAILED,                                                                 \
    "UPDATE dsr_outbox SET attempts = attempts + 1, last_error = left($2, 300),"               \
    " status = CASE WHEN $3::boolean THEN 'failed' ELSE status END,"                          \
    " body_sealed = CASE WHEN $3::boolean THEN NULL ELSE body_sealed END"                      \
    " WHERE id = $1::bigint AND status = 'pending'")

#endif

/**
 * @file stmts_rights.h
 * @brief Statements of restriction, service keys and the rights job.
 *        $now parameters are epoch seconds from dsr_now().
 */
#ifndef DSR_STMTS_RIGHTS_H
#define DSR_STMTS_RIGHTS_H

#define DSR_RNOW(n) "to_timestamp($" #n "::bigint)"

#define DSR_STMTS_RIGHTS(X)                                                                      \
  X(DSR_STMT_SERVICE_KEY_INSERT,                                                                 \
    "INSERT INTO dsr_service_keys (name, key_hash, created_at) VALUES ($1, $2, " DSR_RNOW(3)     \
    ") RETURNING id")                                                                            \
  X(DSR_STMT_SERVICE_AUTH,                                                                       \
    "SELECT id FROM dsr_service_keys WHERE key_hash = $1 AND revoked_at IS NULL")                \
  X(DSR_STMT_RIGHTS_PARTS_TO_RUN,                                                                \
    "SELECT p.id FROM dsr_parts p JOIN dsr_requests r ON r.id = p.request_id"                    \
    " WHERE p.request_id = $1::uuid AND ($2::uuid IS NULL OR p.id = $2::uuid)"                   \
    " AND r.type IN ('restriction', 'objection', 'withdraw_consent', 'opt_out',"              \
    " 'rectification')"                                                                          \
    " AND r.status <> 'on_hold' AND p.state IN ('approved', 'executing')")                       \
  X(DSR_STMT_RIGHTS_CLAIMED,                                                                     \
    "SELECT coalesce(array_agg(tenant_ref ORDER BY tenant_ref), '{}')::text FROM dsr_customers") \
  X(DSR_STMT_CORRECTION_INSERT,                                                                  \
    "INSERT INTO dsr_corrections (request_id, idx, collection, field, value_sealed, created_at)"  \
    " VALUES ($1::uuid, $2::integer, $3, $4, $5, " DSR_RNOW(6) ")")                               \
  X(DSR_STMT_CORRECTION_DECIDE,                                                                    \
    "UPDATE dsr_corrections SET state = $3, decided_by = $4, decided_at = " DSR_RNOW(5) ","       \
    " value_sealed = CASE WHEN $3 = 'rejected' THEN NULL ELSE value_sealed END"                  \
    " WHERE request_id = $1::uuid AND idx = $2::integer AND state = 'pending' RETURNING id")     \
  X(DSR_STMT_CORRECTION_EXISTS,                                                                    \
    "SELECT state FROM dsr_corrections WHERE request_id = $1::uuid AND idx = $2::integer")       \
  /* Discovery: a rectification that carries no correction goes to staff, never auto. */      \
  X(DSR_STMT_CORRECTIONS_COUNT,                                                                  \
    "SELECT count(*) FROM dsr_corrections WHERE request_id = $1::uuid")                          \
  X(DSR_STMT_CORRECTIONS_FOR_PART,                                                                 \
    "SELECT c.id, c.collection, c.field, c.value_sealed, c.state FROM dsr_corrections c"         \
    " WHERE c.request_id = $1::uuid AND NOT EXISTS (SELECT 1 FROM dsr_correction_applications a" \
    " WHERE a.correction_id = c.id AND a.part_id = $2::uuid) ORDER BY c.idx")                    \
  X(DSR_STMT_CORRECTION_APPLIED,                                                                   \
    "INSERT INTO dsr_correction_applications (correction_id, part_id, rows, before_hash,"        \
    " after_hash, applied_at) VALUES ($1::uuid, $2::uuid, $3::bigint, $4, $5, " DSR_RNOW(6) ")"  \
    " ON CONFLICT DO NOTHING")                                                                   \
  X(DSR_STMT_RESTRICTION_INSERT,                                                                 \
    "INSERT INTO dsr_restrictions (request_id, part_id, identity_hash, scope, created_at)"       \
    " VALUES ($1::uuid, $2::uuid, $3, $4, " DSR_RNOW(5) ") ON CONFLICT DO NOTHING RETURNING id") \
  X(DSR_STMT_RESTRICTION_CHECK,                                                                  \
    "SELECT count(*), extract(epoch FROM min(created_at))::bigint FROM dsr_restrictions"         \
    " WHERE identity_hash = $1 AND lifted_at IS NULL AND (scope IS NULL OR scope = $2)")         \
  X(DSR_STMT_RESTRICTION_LIFT,                                                                   \
    "UPDATE dsr_restrictions SET lifted_at = " DSR_RNOW(2) ", lifted_by = $3,"                   \
    " lift_reason_sealed = $4 WHERE request_id = $1::uuid AND lifted_at IS NULL RETURNING id")

#endif

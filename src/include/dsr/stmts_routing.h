/**
 * @file stmts_routing.h
 * @brief Statements of discovery and routing: customers, staff, parts, the
 *        webhook outbox, admin actions, sweeps. $now parameters are epoch
 *        seconds from dsr_now(), so tests can move the clock.
 */
#ifndef DSR_STMTS_ROUTING_H
#define DSR_STMTS_ROUTING_H

#include "dsr/page_cursor.h"

#define DSR_OPEN_STATUSES "('received','pending_verification','verified','in_progress','on_hold')"
#define DSR_NOW(n) "to_timestamp($" #n "::bigint)"

/* What a delivery claim reads ($1: now), before its WHERE clause. */
#define DSR_OUTBOX_CLAIM_FROM                                                                    \
  "SELECT o.id, o.webhook_id, o.body_sealed, o.attempts, COALESCE(c.id::text, ''),"            \
  " COALESCE(o.callback_url, c.webhook_url), c.secret_sealed,"                                   \
  " CASE WHEN c.prev_secret_expires_at > " DSR_NOW(1) " THEN c.prev_secret_sealed END,"         \
  " COALESCE(p.request_id::text, o.request_id::text, ''), COALESCE(o.part_id::text, ''),"       \
  " o.event FROM dsr_webhook_outbox o LEFT JOIN dsr_customers c ON c.id = o.customer_id"        \
  " LEFT JOIN dsr_parts p ON p.id = o.part_id"

/* A row may be sent: its customer's endpoint is enabled, or it is a DRP callback (no customer). */
/* The end of a claim whose rows are CTE c: leases them until $n and returns them, the
 * statement's commit not waiting for the WAL flush (set_config(..., true) lasts until the
 * end of the statement's own transaction). */
#define DSR_OUTBOX_LEASE(n)                                                                      \
  " l AS (UPDATE dsr_webhook_outbox u SET next_attempt_at = " DSR_NOW(n) " FROM c"              \
  " WHERE u.id = c.id) SELECT * FROM c"                                                          \
  " WHERE (SELECT set_config('synchronous_commit', 'off', true)) IS NOT NULL"

#define DSR_OUTBOX_SENDABLE " (c.status = 'enabled' OR o.customer_id IS NULL)"

/* A part's events go out in sequence: not while an earlier one of the same part is still
 * pending (being retried); one delivered or given up ('failed') lets the next one go.
 * One probe of dsr_webhook_outbox_part (part_id, seq) per candidate row. */
#define DSR_OUTBOX_IN_TURN                                                                       \
  " NOT EXISTS (SELECT 1 FROM dsr_webhook_outbox e WHERE e.part_id = o.part_id"                 \
  " AND e.seq < o.seq AND e.state = 'pending')"

#define DSR_STMTS_ROUTING(X)                                                                     \
  /* --- staff ------------------------------------------------------------------------- */     \
  X(DSR_STMT_STAFF_USER_UPSERT,                                                                  \
    "INSERT INTO dsr_staff_users (name, role, created_at) VALUES ($1, $2, " DSR_NOW(3) ")"        \
    " ON CONFLICT (name) DO UPDATE SET name = EXCLUDED.name RETURNING id, role")                 \
  X(DSR_STMT_STAFF_TOKEN_INSERT,                                                                 \
    "INSERT INTO dsr_staff_tokens (user_id, token_hash, created_at)"                             \
    " VALUES ($1::uuid, $2, " DSR_NOW(3) ")")                                                    \
  X(DSR_STMT_STAFF_AUTH,                                                                         \
    "SELECT u.id, u.role FROM dsr_staff_tokens t JOIN dsr_staff_users u ON u.id = t.user_id"     \
    " WHERE t.token_hash = $1 AND t.revoked_at IS NULL AND u.status = 'enabled'")                \
  X(DSR_STMT_STAFF_FIND,                                                                         \
    "SELECT id FROM dsr_staff_users WHERE (id::text = $1 OR name = $1) AND status = 'enabled'")  \
  /* --- customers --------------------------------------------------------------------- */     \
  X(DSR_STMT_CUSTOMER_INSERT,                                                                    \
    "INSERT INTO dsr_customers (name, tenant_ref, webhook_url, secret_sealed, api_key_hash,"     \
    " created_at, updated_at) VALUES ($1, $2, $3, $4, $5, " DSR_NOW(6) ", " DSR_NOW(6) ")"       \
    " ON CONFLICT DO NOTHING RETURNING id")                                                      \
  X(DSR_STMT_CUSTOMER_SET_KEY,                                                                   \
    "UPDATE dsr_customers SET api_key_hash = $2, updated_at = " DSR_NOW(3)                       \
    " WHERE name = $1 RETURNING id")                                                             \
  X(DSR_STMT_CUSTOMER_SET_SECRET,                                                                \
    "UPDATE dsr_customers SET prev_secret_sealed = secret_sealed, prev_secret_expires_at = "     \
    DSR_NOW(3) " + make_interval(hours => $4::integer), secret_sealed = $2,"                     \
    " updated_at = " DSR_NOW(3) " WHERE name = $1 RETURNING id")                                 \
  X(DSR_STMT_CUSTOMER_ENABLE,                                                                    \
    "UPDATE dsr_customers SET status = 'enabled', disabled_reason = NULL, updated_at = "         \
    DSR_NOW(2) " WHERE name = $1 RETURNING id")                                                  \
  X(DSR_STMT_CUSTOMER_DISABLE,                                                                   \
    "UPDATE dsr_customers SET status = 'disabled', disabled_reason = $2, updated_at = "          \
    DSR_NOW(3) " WHERE id = $1::uuid AND status = 'enabled' RETURNING id")                       \
  X(DSR_STMT_CUSTOMER_AUTH, "SELECT id FROM dsr_customers WHERE api_key_hash = $1")              \
  X(DSR_STMT_CUSTOMER_SECRETS_BY_NAME,                                                           \
    "SELECT id, secret_sealed, CASE WHEN prev_secret_expires_at > " DSR_NOW(2)                   \
    " THEN prev_secret_sealed END FROM dsr_customers WHERE name = $1")                           \
  X(DSR_STMT_CUSTOMER_BY_TENANT, "SELECT id, status FROM dsr_customers WHERE tenant_ref = $1")   \
  /* --- outbox and deliveries --------------------------------------------------------- */     \
  X(DSR_STMT_WEBHOOK_OUTBOX_INSERT,                                                              \
    "INSERT INTO dsr_webhook_outbox (webhook_id, customer_id, part_id, event, body_sealed,"      \
    " created_at, next_attempt_at, seq, part_state, change) VALUES ($1, $2::uuid, $3::uuid, $4," \
    " $5, " DSR_NOW(6) ", " DSR_NOW(6) ", $7::integer, $8, $9) RETURNING id")                    \
  /* A DRP status callback (src/lib/drp): to an agent's URL, for a request, no customer. */      \
  X(DSR_STMT_WEBHOOK_CALLBACK_INSERT,                                                                    \
    "INSERT INTO dsr_webhook_outbox (webhook_id, callback_url, request_id, event, body_sealed,"   \
    " created_at, next_attempt_at) VALUES ($1, $2, $3::uuid, 'drp.status', $4, " DSR_NOW(5)      \
    ", " DSR_NOW(5) ") RETURNING id")                                                            \
  X(DSR_STMT_WEBHOOK_OUTBOX_DUE,                                                                         \
    "SELECT o.id, o.attempts FROM dsr_webhook_outbox o LEFT JOIN dsr_customers c"                \
    " ON c.id = o.customer_id WHERE o.state = 'pending' AND o.next_attempt_at <= " DSR_NOW(1)    \
    " AND" DSR_OUTBOX_SENDABLE " AND" DSR_OUTBOX_IN_TURN " ORDER BY o.next_attempt_at LIMIT 500")  \
  /* Two statements, not one with "$2 IS NULL OR o.id = $2": once a prepared statement    */   \
  /* goes generic, that form walks every pending row to find one id (bench/README.md).     */   \
  /* Each claims and leases (next attempt $2, or $3 below) in one statement that commits     */ \
  /* without waiting for the WAL flush: lost in a crash of the server, the rows are simply    */ \
  /* still due, and the attempts' own commit (synchronous) flushes the lease anyway.          */ \
  X(DSR_STMT_WEBHOOK_OUTBOX_CLAIM,                                                                       \
    "WITH c AS (" DSR_OUTBOX_CLAIM_FROM " WHERE o.state = 'pending' AND o.next_attempt_at <= "  \
    DSR_NOW(1) " AND" DSR_OUTBOX_SENDABLE " AND" DSR_OUTBOX_IN_TURN                              \
    " ORDER BY o.next_attempt_at, o.id LIMIT 1 FOR UPDATE OF o SKIP LOCKED)," DSR_OUTBOX_LEASE(2)) \
  /* Rows $2 (the ids of a batch of delivery jobs) that are due, leased until $3. */            \
  X(DSR_STMT_WEBHOOK_OUTBOX_CLAIM_MANY,                                                                  \
    "WITH c AS (" DSR_OUTBOX_CLAIM_FROM " WHERE o.id = ANY($2::bigint[]) AND o.state = 'pending'" \
    " AND o.next_attempt_at <= " DSR_NOW(1) " AND" DSR_OUTBOX_SENDABLE " AND" DSR_OUTBOX_IN_TURN \
    " FOR UPDATE OF o SKIP LOCKED)," DSR_OUTBOX_LEASE(3))                                         \
  /* Rows $1 claimed but not attempted (a batch past its time budget): due again at $2. */      \
  X(DSR_STMT_WEBHOOK_OUTBOX_UNLEASE,                                                             \
    "UPDATE dsr_webhook_outbox SET next_attempt_at = " DSR_NOW(2) " WHERE id = ANY($1::bigint[])" \
    " AND state = 'pending'")                                                                    \
  /* The part's next event in turn, once row $2 of part $1 is delivered or given up. */         \
  X(DSR_STMT_WEBHOOK_OUTBOX_NEXT_OF_PART,                                                        \
    "SELECT id, attempts, extract(epoch FROM next_attempt_at)::bigint FROM dsr_webhook_outbox"   \
    " WHERE part_id = $1::uuid AND state = 'pending' AND id <> $2::bigint ORDER BY seq LIMIT 1") \
  X(DSR_STMT_WEBHOOK_OUTBOX_FINISH,                                                                      \
    "UPDATE dsr_webhook_outbox SET state = $2, attempts = $3::integer, next_attempt_at = "       \
    DSR_NOW(4) ", delivered_at = CASE WHEN $2 = 'delivered' THEN " DSR_NOW(5) " END"             \
    " WHERE id = $1::bigint")                                                                    \
  X(DSR_STMT_ATTEMPT_INSERT,                                                                     \
    "INSERT INTO dsr_webhook_attempts (outbox_id, attempt, at, status_code, duration_ms, error)" \
    " VALUES ($1::bigint, $2::integer, " DSR_NOW(3) ", $4::integer, $5::integer, $6)")           \
  /* Attempts that were delivered, $1 a JSON array of {id, attempt, code, ms}: per row what */ \
  /* ATTEMPT_INSERT and OUTBOX_FINISH ('delivered') write, in one statement.                 */ \
  X(DSR_STMT_WEBHOOK_DELIVERED_MANY,                                                            \
    "WITH d AS (SELECT * FROM json_to_recordset($1::json) AS d(id bigint, attempt integer,"     \
    " code integer, ms integer)),"                                                              \
    " a AS (INSERT INTO dsr_webhook_attempts (outbox_id, attempt, at, status_code, duration_ms," \
    " error) SELECT id, attempt, " DSR_NOW(2) ", code, ms, NULL FROM d)"                         \
    " UPDATE dsr_webhook_outbox o SET state = 'delivered', attempts = d.attempt,"               \
    " next_attempt_at = " DSR_NOW(2) ", delivered_at = " DSR_NOW(2) " FROM d WHERE o.id = d.id") \
  /* --- requests and parts ------------------------------------------------------------ */     \
  X(DSR_STMT_REQUEST_ROUTING_GET,                                                                \
    "SELECT id, type, jurisdiction, status FROM dsr_requests WHERE id = $1::uuid")               \
  X(DSR_STMT_REQUEST_LOCK,                                                                       \
    "SELECT id, type, jurisdiction, status, extract(epoch FROM received_at)::bigint,"            \
    " extended_at IS NOT NULL, extract(epoch FROM held_at)::bigint, dsr_rfc3339(due_at)"         \
    " FROM dsr_requests WHERE id = $1::uuid FOR UPDATE")                                         \
  X(DSR_STMT_IDENTITIES_GET,                                                                     \
    "SELECT kind, value_sealed, verified_at IS NOT NULL FROM dsr_identities"                     \
    " WHERE request_id = $1::uuid ORDER BY kind")                                                \
  X(DSR_STMT_PART_INSERT,                                                                        \
    "INSERT INTO dsr_parts (request_id, owner_kind, customer_id, state, approval,"               \
    " identity_kinds, row_count, due_at, created_at, updated_at, forwarded_at)"                  \
    " SELECT $1::uuid, $2, $3::uuid, $4, $5, $6::text[], $7::bigint, r.due_at, " DSR_NOW(8)      \
    ", " DSR_NOW(8) ", CASE WHEN $4 = 'forwarded' THEN " DSR_NOW(8) " END"                       \
    " FROM dsr_requests r WHERE r.id = $1::uuid"                                                 \
    " ON CONFLICT DO NOTHING RETURNING id, dsr_rfc3339(due_at)")                                 \
  /* Discovery run again: a part not final yet learns the identity kinds $4 it lacked. */       \
  X(DSR_STMT_PART_WIDEN,                                                                         \
    "UPDATE dsr_parts SET identity_kinds = ARRAY(SELECT DISTINCT k FROM"                          \
    " unnest(identity_kinds || $4::text[]) k ORDER BY k), updated_at = " DSR_NOW(5)              \
    " WHERE request_id = $1::uuid AND owner_kind = $2"                                           \
    " AND customer_id IS NOT DISTINCT FROM $3::uuid AND state NOT IN ('done', 'denied')"         \
    " AND NOT identity_kinds @> $4::text[] RETURNING id")                                        \
  X(DSR_STMT_REQUEST_SET_STATUS,                                                                 \
    "UPDATE dsr_requests SET status = $2, updated_at = " DSR_NOW(3) " WHERE id = $1::uuid")      \
  X(DSR_STMT_REQUEST_COMPLETE,                                                                   \
    "UPDATE dsr_requests SET status = 'completed', outcome = $2, outcome_message = $3,"          \
    " completed_at = " DSR_NOW(4) ", updated_at = " DSR_NOW(4)                                   \
    " WHERE id = $1::uuid AND status IN ('verified', 'in_progress') RETURNING id")               \
  /* Whether a part of the request is being or was carried out (then it cannot be withdrawn). */ \
  X(DSR_STMT_REQUEST_UNDER_WAY,                                                                  \
    "SELECT EXISTS (SELECT 1 FROM dsr_parts WHERE request_id = $1::uuid"                         \
    " AND state IN ('executing', 'done'))")                                                      \
  X(DSR_STMT_REQUEST_OPEN_PARTS,                                                                 \
    "SELECT count(*) FILTER (WHERE state NOT IN ('done', 'denied')), count(*),"                  \
    " count(*) FILTER (WHERE state = 'denied') FROM dsr_parts WHERE request_id = $1::uuid")      \
  X(DSR_STMT_PARTS_TO_COMPLETE,                                                                  \
    "UPDATE dsr_parts SET completed_notified_at = " DSR_NOW(2) " WHERE request_id = $1::uuid"    \
    " AND customer_id IS NOT NULL AND state IN ('done', 'denied')"                               \
    " AND completed_notified_at IS NULL RETURNING id")                                           \
  X(DSR_STMT_PART_TO_COMPLETE,                                                                   \
    "UPDATE dsr_parts SET completed_notified_at = " DSR_NOW(2) " WHERE id = $1::uuid"            \
    " AND customer_id IS NOT NULL AND state IN ('done', 'denied')"                               \
    " AND completed_notified_at IS NULL RETURNING id")                                           \
  X(DSR_STMT_PART_EVENT_NEXT,                                                                    \
    "UPDATE dsr_parts p SET event_seq = p.event_seq + 1 FROM dsr_requests r"                     \
    " WHERE p.id = $1::uuid AND p.customer_id IS NOT NULL AND r.id = p.request_id"               \
    " RETURNING p.customer_id, r.type, r.jurisdiction, dsr_rfc3339(p.due_at), p.state,"          \
    " p.event_seq, p.decision, p.reason_code")                                                   \
  /* --- customer API ------------------------------------------------------------------ */     \
  X(DSR_STMT_CUSTOMER_PARTS,                                                                     \
    "SELECT p.id, r.type, r.jurisdiction, p.state, dsr_rfc3339(p.due_at),"                       \
    " dsr_rfc3339(p.forwarded_at), p.decision, dsr_rfc3339(p.decided_at), p.request_id,"         \
    " p.identity_kinds, p.event_seq, p.reason_code, dsr_rfc3339(p.updated_at), "                 \
    DSR_CURSOR_TS("p.created_at")                                                                 \
    " FROM dsr_parts p JOIN dsr_requests r ON r.id = p.request_id"                               \
    " WHERE p.customer_id = $1::uuid AND ($2::text IS NULL OR p.state = $2)"                     \
    " AND ($3::uuid IS NULL OR p.id = $3::uuid)"                                                 \
    " AND ($4::timestamptz IS NULL OR (p.created_at, p.id) < ($4::timestamptz, $5::uuid))"       \
    " ORDER BY p.created_at DESC, p.id DESC LIMIT $6::integer")                                  \
  X(DSR_STMT_CUSTOMER_PART_HISTORY,                                                              \
    "SELECT seq, event, part_state, change, dsr_rfc3339(created_at), state"                      \
    " FROM dsr_webhook_outbox WHERE part_id = $1::uuid AND customer_id = $2::uuid"               \
    " ORDER BY seq NULLS FIRST, id")                                                             \
  X(DSR_STMT_PART_LOCK_FOR_CUSTOMER,                                                             \
    "SELECT p.id, p.request_id, p.state FROM dsr_parts p"                                        \
    " WHERE p.id = $1::uuid AND p.customer_id = $2::uuid FOR UPDATE")                            \
  X(DSR_STMT_PART_DECIDE,                                                                        \
    "UPDATE dsr_parts SET state = $2, decision = $3, reason_code = $4, decided_at = "            \
    DSR_NOW(5) ", updated_at = " DSR_NOW(5) " WHERE id = $1::uuid")                              \
  /* --- admin actions ----------------------------------------------------------------- */     \
  X(DSR_STMT_PARTS_APPROVE,                                                                      \
    "UPDATE dsr_parts SET state = 'approved', updated_at = " DSR_NOW(3)                          \
    " WHERE request_id = $1::uuid AND ($2::uuid IS NULL OR id = $2::uuid)"                       \
    " AND state IN ('pending', 'escalated') RETURNING id")                                       \
  X(DSR_STMT_PARTS_DENY,                                                                         \
    "UPDATE dsr_parts SET state = 'denied', reason_code = $3, updated_at = " DSR_NOW(4)          \
    " WHERE request_id = $1::uuid AND ($2::uuid IS NULL OR id = $2::uuid)"                       \
    " AND state NOT IN ('done', 'denied', 'executing') RETURNING id")                            \
  X(DSR_STMT_REQUEST_DENY,                                                                       \
    "UPDATE dsr_requests SET status = 'denied', deny_reason = $2, outcome = 'denied',"           \
    " completed_at = " DSR_NOW(3) ", updated_at = " DSR_NOW(3) " WHERE id = $1::uuid")           \
  X(DSR_STMT_REQUEST_EXTENSION_CHECK,                                                            \
    "SELECT " DSR_NOW(2) " <= received_at + $3::interval, $4::interval > '0'::interval"          \
    " FROM dsr_requests WHERE id = $1::uuid")                                                    \
  X(DSR_STMT_REQUEST_EXTEND,                                                                     \
    "UPDATE dsr_requests SET due_at = due_at + $2::interval, extended_at = " DSR_NOW(4) ","      \
    " extension_reason_sealed = $3, overdue = false, due_reminded_at = NULL, updated_at = "      \
    DSR_NOW(4) " WHERE id = $1::uuid AND extended_at IS NULL RETURNING dsr_rfc3339(due_at)")     \
  X(DSR_STMT_PARTS_SYNC_DUE,                                                                     \
    "UPDATE dsr_parts p SET due_at = r.due_at, updated_at = " DSR_NOW(2)                         \
    " FROM dsr_requests r WHERE r.id = p.request_id AND p.request_id = $1::uuid"                 \
    " AND p.state NOT IN ('done', 'denied') RETURNING p.id")                                     \
  X(DSR_STMT_REQUEST_HOLD,                                                                       \
    "UPDATE dsr_requests SET held_from = status, status = 'on_hold', held_at = " DSR_NOW(2) ","  \
    " updated_at = " DSR_NOW(2) " WHERE id = $1::uuid AND status IN ('received',"                \
    " 'pending_verification', 'verified', 'in_progress') RETURNING held_from")                   \
  X(DSR_STMT_REQUEST_RELEASE,                                                                    \
    "UPDATE dsr_requests SET status = held_from, due_at = CASE WHEN $2::boolean THEN due_at +"   \
    " (" DSR_NOW(3) " - held_at) ELSE due_at END, held_at = NULL, held_from = NULL,"             \
    " updated_at = " DSR_NOW(3) " WHERE id = $1::uuid AND status = 'on_hold'"                    \
    " RETURNING status, dsr_rfc3339(due_at)")                                                    \
  X(DSR_STMT_REQUEST_ASSIGN,                                                                     \
    "UPDATE dsr_requests SET assigned_to = $2::uuid, updated_at = " DSR_NOW(3)                   \
    " WHERE id = $1::uuid")                                                                      \
  /* --- admin queries ----------------------------------------------------------------- */     \
  X(DSR_STMT_ADMIN_LIST,                                                                         \
    "SELECT r.id, r.type, r.jurisdiction, r.status, dsr_rfc3339(r.received_at),"                 \
    " dsr_rfc3339(r.due_at), (r.due_at <= " DSR_NOW(1) " AND r.status IN " DSR_OPEN_STATUSES ")," \
    " COALESCE(r.assigned_to::text, ''),"                                                        \
    " (SELECT count(*) FROM dsr_parts p WHERE p.request_id = r.id), "                            \
    DSR_CURSOR_TS("r.received_at")                                                                \
    " FROM dsr_requests r"                                                                       \
    " WHERE ($2::text IS NULL OR r.status = $2) AND ($3::text IS NULL OR r.type = $3)"           \
    " AND ($4::text IS NULL OR EXISTS (SELECT 1 FROM dsr_parts p WHERE p.request_id = r.id AND"  \
    "  (($4 = 'controller' AND p.state IN ('pending', 'escalated'))"                             \
    "   OR ($4 = 'escalated' AND p.state = 'escalated')"                                         \
    "   OR ($4 = 'customer' AND p.state = 'forwarded'))))"                                       \
    " AND ($5::boolean IS NULL OR (r.due_at <= " DSR_NOW(1) " AND r.status IN "                  \
    DSR_OPEN_STATUSES ") = $5)"                                                                  \
    " AND ($6::timestamptz IS NULL OR (r.received_at, r.id) < ($6::timestamptz, $7::uuid))"      \
    " ORDER BY r.received_at DESC, r.id DESC LIMIT $8::integer")                                 \
  X(DSR_STMT_ADMIN_DETAIL,                                                                       \
    "SELECT id, type, jurisdiction, status, language, dsr_rfc3339(received_at),"                 \
    " dsr_rfc3339(due_at), dsr_rfc3339(updated_at), dsr_rfc3339(verified_at),"                   \
    " assigned_to::text, dsr_rfc3339(extended_at), dsr_rfc3339(held_at), deny_reason, outcome,"  \
    " dsr_rfc3339(completed_at), (due_at <= " DSR_NOW(2) " AND status IN " DSR_OPEN_STATUSES     \
    "), duplicate_of::text FROM dsr_requests WHERE id = $1::uuid")                               \
  X(DSR_STMT_ADMIN_PARTS,                                                                        \
    "SELECT p.id, p.owner_kind, p.customer_id::text, c.name, p.state, p.approval,"               \
    " array_to_json(p.identity_kinds)::text, p.row_count, dsr_rfc3339(p.due_at), p.decision,"    \
    " p.reason_code, dsr_rfc3339(p.forwarded_at), dsr_rfc3339(p.escalated_at),"                  \
    " dsr_rfc3339(p.decided_at), (p.due_at <= " DSR_NOW(2) " AND p.state NOT IN ('done',"        \
    " 'denied')) FROM dsr_parts p LEFT JOIN dsr_customers c ON c.id = p.customer_id"             \
    " WHERE p.request_id = $1::uuid ORDER BY p.owner_kind, p.created_at, p.id")                  \
  X(DSR_STMT_ADMIN_EVENTS,                                                                       \
    "SELECT dsr_rfc3339(at), kind, actor, data::text FROM dsr_events"                            \
    " WHERE request_id = $1::uuid ORDER BY id")                                                  \
  /* --- sweeps ------------------------------------------------------------------------ */     \
  X(DSR_STMT_SWEEP_REMIND_PARTS,                                                                 \
    "UPDATE dsr_parts SET reminded_at = " DSR_NOW(1) ", updated_at = " DSR_NOW(1)                \
    " WHERE state = 'forwarded' AND reminded_at IS NULL"                                         \
    " AND forwarded_at + $2::interval <= " DSR_NOW(1) " RETURNING id, request_id")               \
  X(DSR_STMT_SWEEP_ESCALATE,                                                                     \
    "UPDATE dsr_parts SET state = 'escalated', escalated_at = " DSR_NOW(1) ", updated_at = "     \
    DSR_NOW(1) " WHERE state = 'forwarded' AND forwarded_at + $2::interval <= " DSR_NOW(1)       \
    " RETURNING id, request_id, customer_id")                                                    \
  X(DSR_STMT_SWEEP_DUE_SOON,                                                                     \
    "UPDATE dsr_requests SET due_reminded_at = " DSR_NOW(1)                                      \
    " WHERE status IN ('verified', 'in_progress') AND due_reminded_at IS NULL"                   \
    " AND due_at > " DSR_NOW(1) " AND due_at - make_interval(days => $2::integer) <= "           \
    DSR_NOW(1) " RETURNING id, dsr_rfc3339(due_at)")                                             \
  X(DSR_STMT_SWEEP_OVERDUE,                                                                      \
    "UPDATE dsr_requests SET overdue = true WHERE NOT overdue AND due_at <= " DSR_NOW(1)         \
    " AND status IN ('received', 'pending_verification', 'verified', 'in_progress')"             \
    " RETURNING id, dsr_rfc3339(due_at)")

#endif

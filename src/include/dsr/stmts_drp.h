/** @file stmts_drp.h @brief Statements of the Data Rights Protocol (src/lib/drp). */
#ifndef DSR_STMTS_DRP_H
#define DSR_STMTS_DRP_H

/* $now parameters are epoch seconds from dsr_now(). Token and body hashes are binary. */
#define DSR_STMTS_DRP(X)                                                                        \
  /* One live token per agent: a new key setup replaces the earlier token. */                  \
  X(DSR_STMT_DRP_TOKEN_PUT,                                                                     \
    "INSERT INTO dsr_drp_tokens (agent_id, token_hash, created_at)"                            \
    " VALUES ($1, $2, to_timestamp($3::bigint)) ON CONFLICT (agent_id) DO UPDATE"              \
    " SET token_hash = EXCLUDED.token_hash, created_at = EXCLUDED.created_at")                 \
  X(DSR_STMT_DRP_TOKEN_AGENT,                                                                   \
    "SELECT agent_id FROM dsr_drp_tokens WHERE token_hash = $1")                                \
  X(DSR_STMT_DRP_SEEN_PRUNE,                                                                    \
    "DELETE FROM dsr_drp_seen WHERE expires_at < to_timestamp($1::bigint)")                     \
  /* No row back: this signed body was taken before (a replay). */                             \
  X(DSR_STMT_DRP_SEEN_PUT,                                                                      \
    "INSERT INTO dsr_drp_seen (body_hash, expires_at) VALUES ($1, to_timestamp($2::bigint))"   \
    " ON CONFLICT (body_hash) DO NOTHING RETURNING 1")                                          \
  X(DSR_STMT_DRP_REQUEST_INSERT,                                                                \
    "INSERT INTO dsr_drp_requests (request_id, agent_id, agent_request_id, exercise, regime,"  \
    " status_callback, created_at) VALUES ($1::uuid, $2, $3, $4, $5, $6,"                       \
    " to_timestamp($7::bigint))")                                                               \
  /* Requests whose state changed since their last callback ($1: one request, or NULL);  */  \
  /* the states that are all "in_progress" to an agent count as one (no repeated callback). */\
  X(DSR_STMT_DRP_CALLBACKS_DUE,                                                                 \
    "SELECT d.request_id, d.status_callback, k.key FROM dsr_drp_requests d"                    \
    " JOIN dsr_requests r ON r.id = d.request_id, LATERAL (SELECT CASE WHEN r.status IN"        \
    " ('verified', 'in_progress', 'on_hold') THEN 'in_progress' ELSE r.status END || '|' ||"    \
    " coalesce(r.outcome, '') || '|' || coalesce(r.deny_reason, '') || '|' ||"                  \
    " dsr_rfc3339(r.due_at)) k (key) WHERE d.status_callback IS NOT NULL"                       \
    " AND d.callback_key IS DISTINCT FROM k.key AND ($1::uuid IS NULL OR d.request_id = $1::uuid)"\
    " ORDER BY d.created_at LIMIT 200 FOR UPDATE OF d SKIP LOCKED")                             \
  X(DSR_STMT_DRP_CALLBACK_KEY,                                                                  \
    "UPDATE dsr_drp_requests SET callback_key = $2 WHERE request_id = $1::uuid")                \
  X(DSR_STMT_DRP_CALLBACKS_OF,                                                                  \
    "SELECT o.state, o.attempts, dsr_rfc3339(o.created_at), dsr_rfc3339(o.delivered_at),"      \
    " (SELECT a.status_code FROM dsr_webhook_attempts a WHERE a.outbox_id = o.id"               \
    " ORDER BY a.attempt DESC LIMIT 1) FROM dsr_webhook_outbox o"                               \
    " WHERE o.request_id = $1::uuid AND o.callback_url IS NOT NULL ORDER BY o.id")              \
  X(DSR_STMT_DRP_REQUEST_STATUS,                                                                \
    "SELECT d.agent_id, d.agent_request_id, r.status, dsr_rfc3339(r.received_at),"             \
    " dsr_rfc3339(r.due_at), r.close_reason, r.deny_reason, r.outcome,"                        \
    " dsr_rfc3339(r.extended_at), r.extension_reason_sealed, d.exercise, d.regime,"            \
    " d.status_callback FROM dsr_drp_requests d JOIN dsr_requests r ON r.id = d.request_id"    \
    " WHERE d.request_id = $1::uuid")

#endif

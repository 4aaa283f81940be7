/**
 * @file stmts_ops.h
 * @brief Statements behind GET /metrics (issue 21): counts by state, read at
 *        most every metrics_cache_seconds per process. $1 is the time now
 *        (epoch seconds from dsr_now()). Counts only: no personal data.
 */
#ifndef DSR_STMTS_OPS_H
#define DSR_STMTS_OPS_H

/* Statuses of a request that is still open (not completed, denied, withdrawn or expired). */
#define DSR_OPS_OPEN "('received', 'pending_verification', 'verified', 'in_progress', 'on_hold')"
#define DSR_OPS_NOW "to_timestamp($1::bigint)"

#define DSR_STMTS_OPS(X)                                                                         \
  X(DSR_STMT_METRICS_REQUESTS,                                                                   \
    "SELECT status, type, jurisdiction, count(*) FROM dsr_requests GROUP BY 1, 2, 3"             \
    " ORDER BY 1, 2, 3")                                                                         \
  X(DSR_STMT_METRICS_DEADLINES,                                                                  \
    "SELECT count(*) FILTER (WHERE status IN " DSR_OPS_OPEN "),"                                 \
    " count(*) FILTER (WHERE status IN " DSR_OPS_OPEN " AND due_at >= " DSR_OPS_NOW              \
    " AND due_at < " DSR_OPS_NOW " + interval '7 days'),"                                        \
    " count(*) FILTER (WHERE status IN " DSR_OPS_OPEN " AND due_at < " DSR_OPS_NOW ")"          \
    " FROM dsr_requests")                                                                        \
  X(DSR_STMT_METRICS_VERIFICATIONS,                                                              \
    "SELECT channel, CASE WHEN verified_at IS NOT NULL THEN 'verified'"                          \
    " WHEN attempts >= max_attempts THEN 'locked'"                                               \
    " WHEN expires_at IS NOT NULL AND expires_at < " DSR_OPS_NOW " THEN 'expired'"               \
    " ELSE 'pending' END AS outcome, count(*) FROM dsr_verifications GROUP BY 1, 2 ORDER BY 1, 2") \
  X(DSR_STMT_METRICS_PARTS,                                                                      \
    "SELECT owner_kind, state, count(*) FROM dsr_parts GROUP BY 1, 2 ORDER BY 1, 2")             \
  X(DSR_STMT_METRICS_JOBS,                                                                       \
    "SELECT kind, state, count(*), count(*) FILTER (WHERE state = 'queued' AND run_at <= "       \
    DSR_OPS_NOW ") FROM dsr_jobs GROUP BY 1, 2 ORDER BY 1, 2")                                   \
  X(DSR_STMT_METRICS_WEBHOOK_OUTBOX,                                                             \
    "SELECT state, count(*) FROM dsr_webhook_outbox GROUP BY 1 ORDER BY 1")                      \
  X(DSR_STMT_METRICS_WEBHOOK_ATTEMPTS,                                                           \
    "SELECT CASE WHEN status_code BETWEEN 200 AND 299 THEN 'success'"                            \
    " WHEN status_code IS NOT NULL THEN 'http_error' ELSE 'transport_error' END,"                \
    " count(*), coalesce(sum(duration_ms), 0),"                                                  \
    " count(*) FILTER (WHERE duration_ms <= 50), count(*) FILTER (WHERE duration_ms <= 100),"   \
    " count(*) FILTER (WHERE duration_ms <= 250), count(*) FILTER (WHERE duration_ms <= 500),"  \
    " count(*) FILTER (WHERE duration_ms <= 1000), count(*) FILTER (WHERE duration_ms <= 2500),"\
    " count(*) FILTER (WHERE duration_ms <= 5000), count(*) FILTER (WHERE duration_ms <= 10000),"\
    " count(*) FILTER (WHERE duration_ms <= 30000)"                                              \
    " FROM dsr_webhook_attempts GROUP BY 1 ORDER BY 1")                                          \
  X(DSR_STMT_METRICS_ENDPOINTS_DISABLED,                                                         \
    "SELECT count(*) FROM dsr_customers WHERE status = 'disabled'")                              \
  X(DSR_STMT_METRICS_AUDIT,                                                                      \
    "SELECT coalesce((SELECT max(pos) FROM dsr_audit_chain), 0),"                                \
    " count(*), coalesce(extract(epoch FROM " DSR_OPS_NOW " - min(e.at)), 0)::bigint"            \
    " FROM dsr_audit_entries e WHERE e.xid >= (SELECT horizon FROM dsr_audit_sealer WHERE id = 1)" \
    " AND NOT EXISTS (SELECT 1 FROM dsr_audit_chain c WHERE c.seq = e.seq)")

#endif

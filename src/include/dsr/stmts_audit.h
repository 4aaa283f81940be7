/** @file stmts_audit.h @brief Statements of the audit trail and the compliance report. */
#ifndef DSR_STMTS_AUDIT_H
#define DSR_STMTS_AUDIT_H

/*
 * Appending: one statement writes the timeline row and the audit entry. The
 * data parameter is the canonical JSON text (hashed as stored).
 * Sealing: see audit_seal.c; positions are assigned by the one sealer holding
 * the advisory lock 727203130.
 */
#define DSR_STMTS_AUDIT(X)                                                                      \
  X(DSR_STMT_AUDIT_APPEND,                                                                      \
    "WITH e AS (INSERT INTO dsr_events (request_id, at, kind, actor, data)"                    \
    " VALUES ($1::uuid, to_timestamp($2::bigint), $3, $4, $5::text::jsonb)"                    \
    " RETURNING request_id, at, kind, actor)"                                                   \
    " INSERT INTO dsr_audit_entries (at, request_id, kind, actor, data)"                       \
    " SELECT at, request_id, kind, actor, $5::text FROM e")                                     \
  /* AUDIT_APPEND for each element of $1, a JSON array of {request_id, data} (data: the    */ \
  /* canonical text), at $2, kind $3, actor $4: a batch's events in one statement.          */ \
  X(DSR_STMT_AUDIT_APPEND_MANY,                                                                 \
    "WITH d AS (SELECT * FROM json_to_recordset($1::json) AS d(request_id uuid, data text)),"  \
    " e AS (INSERT INTO dsr_events (request_id, at, kind, actor, data) SELECT request_id,"      \
    " to_timestamp($2::bigint), $3, $4, data::jsonb FROM d)"                                    \
    " INSERT INTO dsr_audit_entries (at, request_id, kind, actor, data)"                        \
    " SELECT to_timestamp($2::bigint), request_id, $3, $4, data FROM d")                        \
  X(DSR_STMT_AUDIT_SEAL_LOCK, "SELECT pg_try_advisory_xact_lock(727203130)")                   \
  X(DSR_STMT_AUDIT_SEAL_HORIZON,                                                                \
    "SELECT horizon::text, pg_snapshot_xmin(pg_current_snapshot())::text"                      \
    " FROM dsr_audit_sealer WHERE id = 1")                                                      \
  X(DSR_STMT_AUDIT_HEAD,                                                                        \
    "SELECT pos, encode(hash, 'hex') FROM dsr_audit_chain ORDER BY pos DESC LIMIT 1")          \
  X(DSR_STMT_AUDIT_SEAL_CANDIDATES,                                                             \
    "SELECT e.seq, dsr_rfc3339(e.at), e.request_id, e.kind, e.actor, e.data"                   \
    " FROM dsr_audit_entries e WHERE e.xid >= $1::xid8 AND e.xid < $2::xid8"                   \
    " AND NOT EXISTS (SELECT 1 FROM dsr_audit_chain c WHERE c.seq = e.seq)"                    \
    " ORDER BY e.seq LIMIT $3::integer")                                                        \
  X(DSR_STMT_AUDIT_LINK_INSERT,                                                                 \
    "INSERT INTO dsr_audit_chain (pos, seq, prev_hash, hash, sealed_at)"                       \
    " VALUES ($1::bigint, $2::bigint, decode($3, 'hex'), decode($4, 'hex'),"                   \
    " to_timestamp($5::bigint))")                                                               \
  X(DSR_STMT_AUDIT_SEAL_ADVANCE,                                                                \
    "UPDATE dsr_audit_sealer SET horizon = $1::xid8 WHERE id = 1 AND horizon < $1::xid8")      \
  X(DSR_STMT_AUDIT_CHAIN_PAGE,                                                                  \
    "SELECT c.pos, c.seq, encode(c.prev_hash, 'hex'), encode(c.hash, 'hex'),"                  \
    " e.seq IS NOT NULL, dsr_rfc3339(e.at), e.request_id, e.kind, e.actor, e.data"             \
    " FROM dsr_audit_chain c LEFT JOIN dsr_audit_entries e ON e.seq = c.seq"                   \
    " WHERE c.pos > $1::bigint AND c.pos <= $2::bigint ORDER BY c.pos LIMIT $3::integer")      \
  X(DSR_STMT_AUDIT_UNSEALED,                                                                    \
    "SELECT count(*),"                                                                          \
    " count(*) FILTER (WHERE e.xid < pg_snapshot_xmin(pg_current_snapshot())),"                \
    " coalesce(dsr_rfc3339(min(e.at)), '')"                                                     \
    " FROM dsr_audit_entries e"                                                                 \
    " WHERE NOT EXISTS (SELECT 1 FROM dsr_audit_chain c WHERE c.seq = e.seq)")                 \
  X(DSR_STMT_AUDIT_RANGE,                                                                       \
    "SELECT min(c.pos), max(c.pos) FROM dsr_audit_chain c"                                     \
    " JOIN dsr_audit_entries e ON e.seq = c.seq"                                                \
    " WHERE e.at >= to_timestamp($1::bigint) AND e.at < to_timestamp($2::bigint)")             \
  X(DSR_STMT_AUDIT_HASH_AT,                                                                     \
    "SELECT encode(hash, 'hex') FROM dsr_audit_chain WHERE pos = $1::bigint")                  \
  X(DSR_STMT_AUDIT_PAGE_API,                                                                    \
    "SELECT c.pos, c.seq, dsr_rfc3339(e.at), e.request_id, e.kind, e.actor, e.data,"           \
    " encode(c.prev_hash, 'hex'), encode(c.hash, 'hex'), dsr_rfc3339(c.sealed_at)"             \
    " FROM dsr_audit_chain c JOIN dsr_audit_entries e ON e.seq = c.seq"                        \
    " WHERE c.pos > $1::bigint ORDER BY c.pos LIMIT $2::integer")                              \
  DSR_STMTS_REPORT(X)

/* The compliance report ($1 from, $2 to, $3 now: epoch seconds). Event kinds and
 * data fields are the contract in docs/audit-format.md. */
#define DSR_REPORT_PERIOD(col) " " col " >= to_timestamp($1::bigint) AND " col " < to_timestamp($2::bigint)"
#define DSR_STMTS_REPORT(X)                                                                     \
  X(DSR_STMT_REPORT_RECEIVED,                                                                   \
    "SELECT r.type, r.jurisdiction, r.status, coalesce(v.channels, 'unverified'),"              \
    " extract(epoch FROM r.received_at)::bigint FROM dsr_requests r"                            \
    /* every channel that verified it: a request verified by email and SMS counts under both */ \
    " LEFT JOIN LATERAL (SELECT string_agg(DISTINCT x.c, ',' ORDER BY x.c) AS channels"         \
    " FROM dsr_audit_entries e CROSS JOIN LATERAL (SELECT e.data::jsonb->>'channel' UNION ALL"  \
    " SELECT jsonb_array_elements_text(CASE WHEN jsonb_typeof(e.data::jsonb->'channels')"       \
    " = 'array' THEN e.data::jsonb->'channels' ELSE '[]'::jsonb END)) x(c)"                     \
    " WHERE e.request_id = r.id AND e.kind IN ('verification.succeeded', 'request.verified')"   \
    " AND x.c IS NOT NULL AND x.c <> '') v ON true"                                             \
    " WHERE" DSR_REPORT_PERIOD("r.received_at") " AND $3::bigint IS NOT NULL"                   \
    " ORDER BY r.received_at")                                                                  \
  X(DSR_STMT_REPORT_RESPONDED,                                                                  \
    "SELECT c.kind, extract(epoch FROM r.received_at)::bigint,"                                 \
    " extract(epoch FROM r.due_at)::bigint, extract(epoch FROM c.at)::bigint"                   \
    " FROM (SELECT DISTINCT ON (request_id) request_id, at, kind FROM dsr_audit_entries"        \
    " WHERE kind IN ('request.completed', 'request.denied') AND request_id IS NOT NULL"        \
    " ORDER BY request_id, seq) c JOIN dsr_requests r ON r.id = c.request_id"                  \
    " WHERE" DSR_REPORT_PERIOD("c.at") " AND $3::bigint IS NOT NULL ORDER BY c.at")           \
  X(DSR_STMT_REPORT_REASONS,                                                                    \
    "SELECT coalesce(nullif(data::jsonb->>'reason', ''), 'unspecified'), count(*)"             \
    " FROM dsr_audit_entries WHERE kind = $4 AND" DSR_REPORT_PERIOD("at")                      \
    " AND $3::bigint IS NOT NULL GROUP BY 1 ORDER BY 1")                                        \
  X(DSR_STMT_REPORT_EXTENSIONS,                                                                 \
    /* the reason staff gave is kept sealed with the request (the event has none) */            \
    "SELECT nullif(e.data::jsonb->>'reason', ''), r.extension_reason_sealed"                    \
    " FROM dsr_audit_entries e LEFT JOIN dsr_requests r ON r.id = e.request_id"                 \
    " WHERE e.kind = 'request.extended' AND" DSR_REPORT_PERIOD("e.at")                          \
    " AND $3::bigint IS NOT NULL")                                                              \
  X(DSR_STMT_REPORT_BACKLOG,                                                                    \
    "SELECT count(*), count(*) FILTER (WHERE due_at < to_timestamp($3::bigint))"               \
    " FROM dsr_requests WHERE status IN ('received', 'pending_verification', 'verified',"     \
    " 'in_progress', 'on_hold') AND received_at < to_timestamp($2::bigint)"                     \
    " AND $1::bigint IS NOT NULL")                                                              \
  X(DSR_STMT_REPORT_CUSTOMERS,                                                                  \
    "SELECT f.data::jsonb->>'customer_id', count(*),"                                           \
    " percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM d.at - f.at)),"           \
    " count(*) FILTER (WHERE d.at IS NULL), count(*) FILTER (WHERE x.at IS NOT NULL)"          \
    " FROM dsr_audit_entries f"                                                                 \
    " LEFT JOIN LATERAL (SELECT e.at FROM dsr_audit_entries e WHERE e.kind = 'part.decided'"  \
    " AND e.request_id = f.request_id AND e.data::jsonb->>'part_id' = f.data::jsonb->>'part_id'" \
    " AND e.at <= to_timestamp($3::bigint) ORDER BY e.seq LIMIT 1) d ON true"                   \
    " LEFT JOIN LATERAL (SELECT e.at FROM dsr_audit_entries e WHERE e.kind = 'part.escalated'" \
    " AND e.request_id = f.request_id AND e.data::jsonb->>'part_id' = f.data::jsonb->>'part_id'" \
    " AND e.at <= to_timestamp($3::bigint) ORDER BY e.seq LIMIT 1) x ON true"                   \
    " WHERE f.kind IN ('part.forwarded', 'part.created')"                                      \
    " AND f.data::jsonb->>'customer_id' IS NOT NULL AND"                                        \
    DSR_REPORT_PERIOD("f.at") " GROUP BY 1 ORDER BY 1")                                         \
  X(DSR_STMT_REPORT_RECEIPTS,                                                                   \
    "SELECT (c->>'store') || '.' || (c->>'collection'), coalesce(c->>'action', 'unspecified'),"\
    " sum(CASE WHEN jsonb_typeof(c->'rows') = 'number' THEN (c->>'rows')::numeric ELSE 0 END)::bigint," \
    " sum(CASE WHEN jsonb_typeof(c->'files') = 'number' THEN (c->>'files')::numeric ELSE 0 END)::bigint" \
    " FROM dsr_audit_entries e, jsonb_array_elements(CASE WHEN jsonb_typeof(e.data::jsonb->"  \
    "'collections') = 'array' THEN e.data::jsonb->'collections' ELSE '[]'::jsonb END) c"       \
    " WHERE e.kind = $4 AND c->>'store' IS NOT NULL AND c->>'collection' IS NOT NULL AND"      \
    DSR_REPORT_PERIOD("e.at") " AND $3::bigint IS NOT NULL GROUP BY 1, 2 ORDER BY 1, 2")       \
  X(DSR_STMT_REPORT_KIND_COUNT,                                                                 \
    "SELECT count(*) FROM dsr_audit_entries WHERE kind = $4 AND" DSR_REPORT_PERIOD("at")       \
    " AND $3::bigint IS NOT NULL")                                                              \
  X(DSR_STMT_REPORT_BACKUPS,                                                                    \
    "SELECT DISTINCT ON (data::jsonb->>'backup_set') data::jsonb->>'backup_set',"              \
    " coalesce(data::jsonb->>'mechanism', ''), coalesce(data::jsonb->>'residual_until', ''),"  \
    " dsr_rfc3339(at) FROM dsr_audit_entries WHERE kind = 'backup.residual_window'"            \
    " AND data::jsonb->>'backup_set' IS NOT NULL AND at < to_timestamp($2::bigint)"            \
    " AND $1::bigint IS NOT NULL AND $3::bigint IS NOT NULL ORDER BY 1, seq DESC")

#endif

/** @file stmts_ui.h @brief Statements of the staff UI: accounts, sessions, the queue page. */
#ifndef DSR_STMTS_UI_H
#define DSR_STMTS_UI_H

#define DSR_UI_NOW(n) "to_timestamp($" #n "::bigint)"
/* Failed-login count and lock after one more failure of row T: $2 max, $3 now, $4 lockout. */
#define DSR_UI_FAILS(T)                                                                        \
  "(CASE WHEN " #T ".locked_until <= " DSR_UI_NOW(3) " THEN 1 ELSE " #T ".failed_logins + 1 END)"
#define DSR_UI_LOCK(T)                                                                         \
  "(CASE WHEN " DSR_UI_FAILS(T) " >= $2::integer THEN " DSR_UI_NOW(3)                          \
  " + make_interval(secs => $4::integer) WHEN " #T ".locked_until <= " DSR_UI_NOW(3)           \
  " THEN NULL ELSE " #T ".locked_until END)"
#define DSR_UI_OPEN "('received', 'pending_verification', 'verified', 'in_progress', 'on_hold')"

#define DSR_STMTS_UI(X)                                                                         \
  X(DSR_STMT_UI_USER_ADD,                                                                       \
    "INSERT INTO dsr_staff_users (name, email, display_name, role, password_hash,"              \
    " password_changed_at, created_at) VALUES ($1, $1, $2, $3, $4, " DSR_UI_NOW(5) ", "        \
    DSR_UI_NOW(5) ") ON CONFLICT DO NOTHING RETURNING id")                                      \
  X(DSR_STMT_UI_USER_PASSWD,                                                                    \
    "UPDATE dsr_staff_users SET password_hash = $2, password_changed_at = " DSR_UI_NOW(3)      \
    ", failed_logins = 0, locked_until = NULL WHERE email = $1 RETURNING id")                   \
  X(DSR_STMT_UI_SESSIONS_DROP_USER, "DELETE FROM dsr_ui_sessions WHERE user_id = $1::uuid")    \
  X(DSR_STMT_UI_USER_BY_EMAIL,                                                                  \
    "SELECT id, role, password_hash, status,"                                                   \
    " COALESCE(extract(epoch FROM locked_until)::bigint, 0)"                                    \
    " FROM dsr_staff_users WHERE email = $1")                                                   \
  /* A lock that has ended starts the count again (this failure is the first). */              \
  X(DSR_STMT_UI_LOGIN_FAILED,                                                                   \
    "UPDATE dsr_staff_users SET failed_logins = " DSR_UI_FAILS(dsr_staff_users) ","            \
    " locked_until = " DSR_UI_LOCK(dsr_staff_users)                                             \
    " WHERE id = $1::uuid"                                                                      \
    " RETURNING COALESCE(extract(epoch FROM locked_until)::bigint, 0)")                         \
  /* Unknown addresses ($1 their keyed hash) lock the same way (dsr_login_failures). */        \
  X(DSR_STMT_UI_GHOST_LOCK,                                                                     \
    "SELECT COALESCE(extract(epoch FROM locked_until)::bigint, 0) FROM dsr_login_failures"      \
    " WHERE email_hash = $1")                                                                   \
  X(DSR_STMT_UI_GHOST_FAILED,                                                                   \
    "INSERT INTO dsr_login_failures (email_hash, failed_logins,"                                \
    " locked_until, updated_at) VALUES ($1, 1, CASE WHEN 1 >= $2::integer THEN "               \
    DSR_UI_NOW(3) " + make_interval(secs => $4::integer) END, " DSR_UI_NOW(3) ")"              \
    " ON CONFLICT (email_hash) DO UPDATE SET failed_logins = "                                  \
    DSR_UI_FAILS(dsr_login_failures) ", locked_until = " DSR_UI_LOCK(dsr_login_failures)       \
    ", updated_at = " DSR_UI_NOW(3))                                                            \
  X(DSR_STMT_UI_LOGIN_OK,                                                                       \
    "UPDATE dsr_staff_users SET failed_logins = 0, locked_until = NULL WHERE id = $1::uuid")   \
  X(DSR_STMT_UI_SESSION_INSERT,                                                                 \
    "INSERT INTO dsr_ui_sessions (id_hash, user_id, created_at, last_seen_at)"                  \
    " VALUES ($1, $2::uuid, " DSR_UI_NOW(3) ", " DSR_UI_NOW(3) ")")                             \
  X(DSR_STMT_UI_SESSION_GET,                                                                    \
    "SELECT u.id, u.role, COALESCE(u.display_name, u.name), extract(epoch FROM s.created_at)::bigint," \
    " extract(epoch FROM s.last_seen_at)::bigint FROM dsr_ui_sessions s"                        \
    " JOIN dsr_staff_users u ON u.id = s.user_id"                                               \
    " WHERE s.id_hash = $1 AND u.status = 'enabled'")                                           \
  X(DSR_STMT_UI_SESSION_TOUCH,                                                                  \
    "UPDATE dsr_ui_sessions SET last_seen_at = " DSR_UI_NOW(2) " WHERE id_hash = $1")           \
  X(DSR_STMT_UI_SESSION_DELETE, "DELETE FROM dsr_ui_sessions WHERE id_hash = $1")              \
  X(DSR_STMT_UI_COUNTS,                                                                         \
    "SELECT status, count(*) FROM dsr_requests GROUP BY status ORDER BY status")               \
  X(DSR_STMT_UI_DUE,                                                                            \
    "SELECT count(*) FILTER (WHERE due_at > " DSR_UI_NOW(1) " AND due_at <= " DSR_UI_NOW(1)    \
    " + interval '7 days'), count(*) FILTER (WHERE due_at <= " DSR_UI_NOW(1) ")"               \
    " FROM dsr_requests WHERE status IN " DSR_UI_OPEN)                                          \
  X(DSR_STMT_UI_QUEUE,                                                                          \
    "SELECT r.id, r.type, r.jurisdiction, r.status, dsr_rfc3339(r.received_at),"                \
    " dsr_rfc3339(r.due_at), (r.due_at <= " DSR_UI_NOW(1) " AND r.status IN " DSR_UI_OPEN "),"   \
    " COALESCE(a.display_name, a.name, ''),"                                                    \
    " (SELECT count(*) FROM dsr_parts p WHERE p.request_id = r.id)"                             \
    " FROM dsr_requests r LEFT JOIN dsr_staff_users a ON a.id = r.assigned_to"                  \
    " WHERE ($2::text IS NULL OR r.status = $2) AND ($3::text IS NULL OR r.type = $3)"          \
    " AND ($4::text IS NULL OR r.jurisdiction = $4)"                                            \
    " AND ($5::text IS NULL OR EXISTS (SELECT 1 FROM dsr_parts p WHERE p.request_id = r.id AND" \
    "  (($5 = 'controller' AND p.state IN ('pending', 'escalated'))"                            \
    "   OR ($5 = 'escalated' AND p.state = 'escalated')"                                        \
    "   OR ($5 = 'customer' AND p.state = 'forwarded'))))"                                      \
    " ORDER BY CASE WHEN $6 = 'due' THEN r.due_at END ASC,"                                     \
    " CASE WHEN $6 = 'oldest' THEN r.received_at END ASC,"                                      \
    " r.received_at DESC, r.id DESC LIMIT $7::integer OFFSET $8::integer")                      \
  X(DSR_STMT_UI_CUSTOMERS,                                                                      \
    "SELECT c.id, c.name, c.webhook_url, c.status,"                                             \
    " count(o.id) FILTER (WHERE o.state = 'delivered'),"                                         \
    " count(o.id) FILTER (WHERE o.state = 'pending'),"                                           \
    " count(o.id) FILTER (WHERE o.state = 'failed'),"                                            \
    " COALESCE(dsr_rfc3339(max(o.delivered_at)), '')"                                            \
    " FROM dsr_customers c LEFT JOIN dsr_webhook_outbox o ON o.customer_id = c.id"              \
    " GROUP BY c.id ORDER BY c.name")                                                           \
  X(DSR_STMT_UI_PART_DELIVERIES,                                                                \
    "SELECT o.part_id::text, o.event, o.state, o.attempts, dsr_rfc3339(a.at), a.status_code,"   \
    " COALESCE(a.error, '') FROM dsr_webhook_outbox o JOIN dsr_parts p ON p.id = o.part_id"      \
    " LEFT JOIN dsr_webhook_attempts a ON a.outbox_id = o.id"                                   \
    " WHERE p.request_id = $1::uuid ORDER BY o.id, a.attempt")

#endif

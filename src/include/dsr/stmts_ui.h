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
  /* Rows of other addresses unlocked and untouched for a day go on the way (the table    */ \
  /* would otherwise keep every address anyone ever tried).                                */ \
  X(DSR_STMT_UI_GHOST_FAILED,                                                                   \
    "WITH stale AS (DELETE FROM dsr_login_failures WHERE email_hash <> $1 AND updated_at < "    \
    DSR_UI_NOW(3) " - interval '1 day' AND (locked_until IS NULL OR locked_until <= "           \
    DSR_UI_NOW(3) "))"                                                                          \
    " INSERT INTO dsr_login_failures (email_hash, failed_logins,"                               \
    " locked_until, updated_at) VALUES ($1, 1, CASE WHEN 1 >= $2::integer THEN "               \
    DSR_UI_NOW(3) " + make_interval(secs => $4::integer) END, " DSR_UI_NOW(3) ")"              \
    " ON CONFLICT (email_hash) DO UPDATE SET failed_logins = "                                  \
    DSR_UI_FAILS(dsr_login_failures) ", locked_until = " DSR_UI_LOCK(dsr_login_failures)       \
    ", updated_at = " DSR_UI_NOW(3))                                                            \
  X(DSR_STMT_UI_LOGIN_OK,                                                                       \
    "UPDATE dsr_staff_users SET failed_logins = 0, locked_until = NULL WHERE id = $1::uuid")   \
  /* Each sign-in also drops sessions past the longest idle (1 day) or absolute (7 days)   */ \
  /* limit dsrd.conf allows: they can never be used again, whatever the settings.          */ \
  X(DSR_STMT_UI_SESSION_INSERT,                                                                 \
    "WITH dead AS (DELETE FROM dsr_ui_sessions WHERE last_seen_at < " DSR_UI_NOW(3)              \
    " - interval '1 day' OR created_at < " DSR_UI_NOW(3) " - interval '7 days')"                \
    " INSERT INTO dsr_ui_sessions (id_hash, user_id, created_at, last_seen_at)"                 \
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
  /* The queue page: $1 now, $2 status or 'needs_action', $3 type, $4 jurisdiction, $5 queue,  \
     $6 sort, $7 limit, $8 offset, $9 id prefix, $10 identity lookup hash (bytea), $11 'true' \
     shows requests still waiting for verification, $12 assignee ('none' or a staff id),       \
     $13 customer id, $14 'any' or an agent id (requests an authorized agent filed, DRP).     \
     Columns 9..12: days left, due soon, the subject's masked-to-be identity. */              \
  X(DSR_STMT_UI_QUEUE,                                                                          \
    "SELECT r.id, r.type, r.jurisdiction, r.status, dsr_rfc3339(r.received_at),"                \
    " dsr_rfc3339(r.due_at), (r.due_at <= " DSR_UI_NOW(1) " AND r.status IN " DSR_UI_OPEN "),"   \
    " COALESCE(a.display_name, a.name, ''),"                                                    \
    " (SELECT count(*) FROM dsr_parts p WHERE p.request_id = r.id),"                            \
    " ceil(extract(epoch FROM r.due_at - " DSR_UI_NOW(1) ") / 86400)::bigint,"                  \
    " (r.status IN " DSR_UI_OPEN " AND r.due_at > " DSR_UI_NOW(1) " AND r.due_at <= "           \
    DSR_UI_NOW(1) " + interval '7 days'), s.kind, s.value_sealed"                               \
    " FROM dsr_requests r LEFT JOIN dsr_staff_users a ON a.id = r.assigned_to"                  \
    " LEFT JOIN LATERAL (SELECT i.kind, i.value_sealed FROM dsr_identities i"                   \
    "  WHERE i.request_id = r.id AND i.kind IN ('email', 'phone') ORDER BY i.kind LIMIT 1) s"    \
    "  ON true"                                                                                 \
    " WHERE ($2::text IS NULL OR r.status = $2 OR ($2 = 'needs_action' AND r.status IN "        \
    DSR_UI_OPEN " AND (r.due_at <= " DSR_UI_NOW(1) " OR EXISTS (SELECT 1 FROM dsr_parts p"      \
    "  WHERE p.request_id = r.id AND p.state IN ('pending', 'escalated')))))"                    \
    " AND ($3::text IS NULL OR r.type = $3)"                                                    \
    " AND ($4::text IS NULL OR r.jurisdiction = $4)"                                            \
    " AND ($5::text IS NULL OR EXISTS (SELECT 1 FROM dsr_parts p WHERE p.request_id = r.id AND" \
    "  (($5 = 'controller' AND p.state IN ('pending', 'escalated'))"                            \
    "   OR ($5 = 'escalated' AND p.state = 'escalated')"                                        \
    "   OR ($5 = 'customer' AND p.state = 'forwarded'))))"                                      \
    " AND ($9::text IS NULL OR r.id::text LIKE $9 || '%')"                                      \
    " AND ($10::bytea IS NULL OR EXISTS (SELECT 1 FROM dsr_identities i"                        \
    "  WHERE i.request_id = r.id AND i.lookup_hash = $10))"                                     \
    " AND ($11 = 'true' OR r.status NOT IN ('received', 'pending_verification'))"               \
    " AND ($12::text IS NULL OR ($12 = 'none' AND r.assigned_to IS NULL)"                       \
    "  OR r.assigned_to::text = $12)"                                                           \
    " AND ($13::text IS NULL OR EXISTS (SELECT 1 FROM dsr_parts p WHERE p.request_id = r.id"    \
    "  AND p.customer_id::text = $13))"                                                         \
    " AND ($14::text IS NULL OR EXISTS (SELECT 1 FROM dsr_drp_requests d"                       \
    "  WHERE d.request_id = r.id AND ($14 = 'any' OR d.agent_id = $14)))"                      \
    " ORDER BY CASE WHEN $6 = 'due' THEN r.due_at END ASC,"                                     \
    " CASE WHEN $6 = 'oldest' THEN r.received_at END ASC,"                                      \
    " r.received_at DESC, r.id DESC LIMIT $7::integer OFFSET $8::integer")                      \
  /* Requests hidden from the default view: still waiting for verification. */                 \
  X(DSR_STMT_UI_PENDING_COUNT,                                                                  \
    "SELECT count(*) FROM dsr_requests WHERE status IN ('received', 'pending_verification')")  \
  /* Staff a request can be assigned to (the assign lists and the assignee filter). */         \
  X(DSR_STMT_UI_STAFF_LIST,                                                                     \
    "SELECT id::text, COALESCE(display_name, name), role FROM dsr_staff_users"                  \
    " WHERE status = 'enabled' ORDER BY COALESCE(display_name, name), id")                      \
  /* Names the timeline's actors and ids stand for ("staff:<id>", "customer:<id>"). */        \
  X(DSR_STMT_UI_ACTOR_NAMES,                                                                    \
    "SELECT 'staff:' || id::text, COALESCE(display_name, name) FROM dsr_staff_users"            \
    " UNION ALL SELECT 'customer:' || id::text, name FROM dsr_customers")                       \
  /* Internal notes on a request: $1 request, $2 author, $3 sealed text, $4 now. */           \
  X(DSR_STMT_UI_NOTE_INSERT,                                                                    \
    "INSERT INTO dsr_request_notes (request_id, author_id, at, body_sealed)"                    \
    " SELECT $1::uuid, $2::uuid, " DSR_UI_NOW(4) ", $3 WHERE EXISTS (SELECT 1 FROM"             \
    " dsr_requests WHERE id = $1::uuid) RETURNING id")                                          \
  X(DSR_STMT_UI_NOTES_OF,                                                                       \
    "SELECT dsr_rfc3339(n.at), COALESCE(u.display_name, u.name), n.body_sealed"                 \
    " FROM dsr_request_notes n JOIN dsr_staff_users u ON u.id = n.author_id"                    \
    " WHERE n.request_id = $1::uuid ORDER BY n.id")                                             \
  /* --- customers managed in the staff UI (staff/customer_admin.c) --------------------- */ \
  X(DSR_STMT_UI_CUSTOMER_GET,                                                                   \
    "SELECT id::text, name, tenant_ref, webhook_url, status, COALESCE(disabled_reason, ''),"    \
    " dsr_rfc3339(created_at) FROM dsr_customers WHERE id::text = $1")                          \
  X(DSR_STMT_UI_CUSTOMER_SET_URL,                                                               \
    "UPDATE dsr_customers SET webhook_url = $2, updated_at = " DSR_UI_NOW(3)                    \
    " WHERE id::text = $1 RETURNING id")                                                        \
  X(DSR_STMT_UI_CUSTOMER_SET_STATUS,                                                            \
    "UPDATE dsr_customers SET status = $2, disabled_reason = CASE WHEN $2 = 'disabled'"         \
    " THEN 'disabled by staff' END, updated_at = " DSR_UI_NOW(3)                                \
    " WHERE id::text = $1 AND status <> $2 RETURNING id")                                       \
  /* Failed messages (a 410, retries used up) to send again: $3 one outbox id or NULL. */     \
  X(DSR_STMT_UI_OUTBOX_REPLAY,                                                                  \
    "UPDATE dsr_webhook_outbox SET state = 'pending', attempts = 0, next_attempt_at = "         \
    DSR_UI_NOW(2) " WHERE customer_id::text = $1 AND state = 'failed'"                          \
    " AND ($3::bigint IS NULL OR id = $3::bigint) RETURNING id")                                \
  /* A customer's messages, newest first: $2 state, $3 event filters; the last attempt. */    \
  X(DSR_STMT_UI_OUTBOX_OF,                                                                      \
    "SELECT o.id, o.webhook_id, o.event, o.state, o.attempts, dsr_rfc3339(o.created_at),"       \
    " COALESCE(dsr_rfc3339(o.delivered_at), ''), COALESCE(a.status_code::text, ''),"            \
    " COALESCE(a.error, ''), COALESCE(p.request_id::text, '')"                                  \
    " FROM dsr_webhook_outbox o LEFT JOIN dsr_parts p ON p.id = o.part_id"                      \
    " LEFT JOIN LATERAL (SELECT status_code, error FROM dsr_webhook_attempts w"                 \
    "  WHERE w.outbox_id = o.id ORDER BY w.attempt DESC, w.id DESC LIMIT 1) a ON true"          \
    " WHERE o.customer_id::text = $1 AND ($2::text IS NULL OR o.state = $2)"                    \
    " AND ($3::text IS NULL OR o.event = $3) ORDER BY o.id DESC LIMIT 200")                     \
  X(DSR_STMT_UI_CUSTOMER_OPEN_PARTS,                                                            \
    "SELECT customer_id::text, count(*) FROM dsr_parts WHERE customer_id IS NOT NULL"           \
    " AND state NOT IN ('done', 'denied') GROUP BY customer_id")                                \
  /* --- staff accounts managed in the staff UI (staff/staff_admin.c) ------------------- */ \
  X(DSR_STMT_UI_STAFF_ACCOUNTS,                                                                 \
    "SELECT u.id::text, COALESCE(u.display_name, u.name), COALESCE(u.email, ''), u.role,"       \
    " u.status, u.password_hash IS NOT NULL, (SELECT count(*) FROM dsr_ui_sessions s"           \
    " WHERE s.user_id = u.id), dsr_rfc3339(u.created_at) FROM dsr_staff_users u"                \
    " WHERE u.email IS NOT NULL ORDER BY COALESCE(u.display_name, u.name), u.id")               \
  X(DSR_STMT_UI_STAFF_INVITE,                                                                   \
    "INSERT INTO dsr_staff_users (name, email, display_name, role, created_at)"                 \
    " VALUES ($1, $1, $2, $3, " DSR_UI_NOW(4) ") ON CONFLICT DO NOTHING RETURNING id")          \
  X(DSR_STMT_UI_STAFF_SET_ROLE,                                                                 \
    "UPDATE dsr_staff_users SET role = $2 WHERE id::text = $1 AND role <> $2 RETURNING id")    \
  X(DSR_STMT_UI_STAFF_SET_STATUS,                                                               \
    "UPDATE dsr_staff_users SET status = $2 WHERE id::text = $1 AND status <> $2 RETURNING id") \
  /* A reset: no password until the link is used; $2 now. */                                  \
  X(DSR_STMT_UI_STAFF_CLEAR_PASSWORD,                                                           \
    "UPDATE dsr_staff_users SET password_hash = NULL, password_changed_at = " DSR_UI_NOW(2)     \
    " WHERE id::text = $1 AND email IS NOT NULL RETURNING id")                                  \
  X(DSR_STMT_UI_LINK_INSERT,                                                                    \
    "INSERT INTO dsr_staff_password_links (token_hash, user_id, purpose, created_by,"           \
    " created_at, expires_at) VALUES ($1, $2::uuid, $3, $4::uuid, " DSR_UI_NOW(5) ", "          \
    DSR_UI_NOW(5) " + make_interval(hours => $6::integer))")                                    \
  X(DSR_STMT_UI_LINK_GET,                                                                       \
    "SELECT l.user_id::text, u.email, COALESCE(u.display_name, u.name) FROM"                    \
    " dsr_staff_password_links l JOIN dsr_staff_users u ON u.id = l.user_id WHERE"              \
    " l.token_hash = $1 AND l.used_at IS NULL AND l.expires_at > " DSR_UI_NOW(2)                \
    " AND u.status = 'enabled'")                                                                \
  X(DSR_STMT_UI_LINK_USE,                                                                       \
    "UPDATE dsr_staff_password_links SET used_at = " DSR_UI_NOW(2) " WHERE token_hash = $1"     \
    " AND used_at IS NULL AND expires_at > " DSR_UI_NOW(2) " RETURNING user_id::text")          \
  X(DSR_STMT_UI_LINKS_DROP_USER,                                                                \
    "UPDATE dsr_staff_password_links SET used_at = " DSR_UI_NOW(2) " WHERE user_id::text = $1"  \
    " AND used_at IS NULL")                                                                     \
  X(DSR_STMT_UI_SESSIONS_OF,                                                                    \
    "SELECT substr(encode(id_hash, 'hex'), 1, 16), dsr_rfc3339(created_at),"                    \
    " dsr_rfc3339(last_seen_at) FROM dsr_ui_sessions WHERE user_id::text = $1"                  \
    " ORDER BY last_seen_at DESC")                                                              \
  /* $2: one session's handle (the first 16 hex digits of its hash), or NULL for all. */      \
  X(DSR_STMT_UI_SESSIONS_END,                                                                   \
    "DELETE FROM dsr_ui_sessions WHERE user_id::text = $1 AND ($2::text IS NULL OR"             \
    " substr(encode(id_hash, 'hex'), 1, 16) = $2) RETURNING user_id")                           \
  X(DSR_STMT_UI_CUSTOMER_NAMES,                                                                 \
    "SELECT id::text, name FROM dsr_customers ORDER BY name, id")                               \
  X(DSR_STMT_UI_CUSTOMERS,                                                                      \
    "SELECT c.id, c.name, c.webhook_url, c.status,"                                             \
    " count(o.id) FILTER (WHERE o.state = 'delivered'),"                                         \
    " count(o.id) FILTER (WHERE o.state = 'pending'),"                                           \
    " count(o.id) FILTER (WHERE o.state = 'failed'),"                                            \
    " COALESCE(dsr_rfc3339(max(o.delivered_at)), ''), c.tenant_ref"                              \
    " FROM dsr_customers c LEFT JOIN dsr_webhook_outbox o ON o.customer_id = c.id"              \
    " GROUP BY c.id ORDER BY c.name")                                                           \
  X(DSR_STMT_UI_PART_DELIVERIES,                                                                \
    "SELECT o.part_id::text, o.event, o.state, o.attempts, dsr_rfc3339(a.at), a.status_code,"   \
    " COALESCE(a.error, '') FROM dsr_webhook_outbox o JOIN dsr_parts p ON p.id = o.part_id"      \
    " LEFT JOIN dsr_webhook_attempts a ON a.outbox_id = o.id"                                   \
    " WHERE p.request_id = $1::uuid ORDER BY o.id, a.attempt")

#endif

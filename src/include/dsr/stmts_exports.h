/**
 * @file stmts_exports.h
 * @brief Statements of access and portability packages. $now
 *        parameters are epoch seconds from dsr_now().
 */
#ifndef DSR_STMTS_EXPORTS_H
#define DSR_STMTS_EXPORTS_H

#define DSR_XNOW(n) "to_timestamp($" #n "::bigint)"

#define DSR_STMTS_EXPORTS(X)                                                                     \
  X(DSR_STMT_EXPORT_PARTS_TO_RUN,                                                                \
    "SELECT p.id FROM dsr_parts p JOIN dsr_requests r ON r.id = p.request_id"                    \
    " WHERE p.request_id = $1::uuid AND ($2::uuid IS NULL OR p.id = $2::uuid)"                   \
    " AND r.type IN ('access', 'portability') AND r.status <> 'on_hold'"                         \
    " AND p.state IN ('approved', 'executing')")                                                 \
  X(DSR_STMT_EXPORT_PART_GET,                                                                    \
    "SELECT p.request_id, r.type, p.state, p.owner_kind, c.tenant_ref, r.language, r.status,"    \
    " r.jurisdiction"                                                                            \
    " FROM dsr_parts p JOIN dsr_requests r ON r.id = p.request_id"                               \
    " LEFT JOIN dsr_customers c ON c.id = p.customer_id WHERE p.id = $1::uuid")                  \
  X(DSR_STMT_EXPORT_PART_LOCK,                                                                   \
    "SELECT p.state FROM dsr_parts p WHERE p.id = $1::uuid FOR UPDATE")                          \
  X(DSR_STMT_EXPORT_PART_SET_STATE,                                                              \
    "UPDATE dsr_parts SET state = $2, updated_at = " DSR_XNOW(3) " WHERE id = $1::uuid")         \
  X(DSR_STMT_EXPORT_TENANT_CLAIMED,                                                              \
    "SELECT 1 FROM dsr_customers WHERE tenant_ref = $1")                                         \
  X(DSR_STMT_EXPORT_BY_PART,                                                                     \
    "SELECT id FROM dsr_exports WHERE part_id = $1::uuid")                                       \
  X(DSR_STMT_EXPORT_INSERT,                                                                      \
    "INSERT INTO dsr_exports (id, request_id, part_id, kind, file_name, key_sealed, token_hash," \
    " plain_bytes, row_count, file_count, max_downloads, created_at, expires_at)"                \
    " VALUES ($1::uuid, $2::uuid, $3::uuid, $4, $5, $6, $7, $8::bigint, $9::bigint,"             \
    " $10::bigint, $11::integer, " DSR_XNOW(12) ", " DSR_XNOW(13) ")")                           \
  X(DSR_STMT_EXPORT_LOCK,                                                                        \
    "SELECT request_id, state, file_name, key_sealed, token_hash, plain_bytes, downloads,"       \
    " max_downloads, expires_at <= " DSR_XNOW(2) " FROM dsr_exports WHERE id = $1::uuid"         \
    " FOR UPDATE")                                                                               \
  /* The download page: what the link holder may see (no lock, nothing counted). */           \
  X(DSR_STMT_EXPORT_INFO,                                                                        \
    "SELECT request_id, kind, state, token_hash, plain_bytes, downloads, max_downloads,"         \
    " extract(epoch FROM expires_at)::bigint, expires_at <= " DSR_XNOW(2) ", row_count,"         \
    " file_count FROM dsr_exports WHERE id = $1::uuid")                                          \
  /* The status page: a request's packages, oldest first. */                                    \
  X(DSR_STMT_EXPORT_FOR_REQUEST,                                                                 \
    "SELECT id, kind, state, plain_bytes, downloads, max_downloads,"                            \
    " extract(epoch FROM expires_at)::bigint, expires_at <= " DSR_XNOW(2) ", row_count,"         \
    " file_count FROM dsr_exports WHERE request_id = $1::uuid ORDER BY created_at, id")          \
  X(DSR_STMT_EXPORT_COUNT_DOWNLOAD,                                                              \
    "UPDATE dsr_exports SET downloads = downloads + 1 WHERE id = $1::uuid RETURNING downloads")  \
  X(DSR_STMT_EXPORT_DESTROY,                                                                     \
    "UPDATE dsr_exports SET state = 'destroyed', key_sealed = NULL, destroyed_at = "             \
    DSR_XNOW(2) " WHERE id = $1::uuid")

#endif

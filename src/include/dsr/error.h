/**
 * @file error.h
 * @brief The one registry of error codes. Each code has a stable machine
 *        name, an HTTP status and a title; replies and CLI messages use it.
 */
#ifndef DSR_ERROR_H
#define DSR_ERROR_H

/* X-macro: (enum name, machine code, HTTP status, title). Append only: codes are a contract. */
#define DSR_ERROR_CODES(X)                                                                    \
  X(DSR_OK, "ok", 200, "OK")                                                                  \
  X(DSR_E_INVALID_JSON, "invalid_json", 400, "The request body is not valid JSON")           \
  X(DSR_E_INVALID_UTF8, "invalid_utf8", 400, "The request is not valid UTF-8")               \
  X(DSR_E_FIELD_MISSING, "field_missing", 400, "A required field is missing")                \
  X(DSR_E_FIELD_TYPE, "field_type", 400, "A field has the wrong type")                       \
  X(DSR_E_FIELD_INVALID, "field_invalid", 400, "A field has an invalid value")               \
  X(DSR_E_FIELD_UNKNOWN, "field_unknown", 400, "The request has a field that is not allowed") \
  X(DSR_E_BAD_REQUEST, "bad_request", 400, "The request is malformed")                       \
  X(DSR_E_BAD_PATH, "bad_path", 400, "The request path is malformed")                        \
  X(DSR_E_BAD_HEADER, "bad_header", 400, "A request header is invalid")                      \
  X(DSR_E_UNAUTHORIZED, "unauthorized", 401, "Authentication is required")                   \
  X(DSR_E_FORBIDDEN, "forbidden", 403, "This action is not allowed for your role")           \
  X(DSR_E_NOT_FOUND, "not_found", 404, "No such resource")                                   \
  X(DSR_E_METHOD_NOT_ALLOWED, "method_not_allowed", 405, "Method not allowed on this path")  \
  X(DSR_E_CONFLICT, "conflict", 409, "The request conflicts with the current state")         \
  X(DSR_E_IDEMPOTENCY_MISMATCH, "idempotency_key_reused", 422,                                \
    "The Idempotency-Key was used with a different request")                                  \
  X(DSR_E_GONE, "gone", 410, "The resource is no longer available")                          \
  X(DSR_E_BODY_TOO_LARGE, "body_too_large", 413, "The request body is too large")           \
  X(DSR_E_UNSUPPORTED_MEDIA, "unsupported_media_type", 415, "The body must be application/json") \
  X(DSR_E_UNPROCESSABLE, "unprocessable", 422, "The request cannot be processed")            \
  X(DSR_E_RATE_LIMITED, "rate_limited", 429, "Too many requests")                            \
  X(DSR_E_HEADERS_TOO_LARGE, "headers_too_large", 431, "The request headers are too large")  \
  X(DSR_E_INTERNAL, "internal", 500, "Internal error")                                       \
  X(DSR_E_DB_UNAVAILABLE, "db_unavailable", 503, "The database is unavailable")              \
  X(DSR_E_CODE_WRONG, "verification_failed", 422, "The code or token is not right")         \
  X(DSR_E_VERIFY_LOCKED, "verification_locked", 429,                                        \
    "Too many wrong codes: verification on this channel is locked")                          \
  X(DSR_E_CODE_EXPIRED, "code_expired", 410, "The code has expired; ask for a new one")     \
  X(DSR_E_CODE_USED, "code_used", 410, "The code was already used")                         \
  X(DSR_E_REQUEST_EXPIRED, "request_expired", 410,                                          \
    "The request expired before it was verified")                                            \
  X(DSR_E_REQUEST_CLOSED, "request_closed", 409, "The request is already closed")           \
  X(DSR_E_RESEND_TOO_SOON, "resend_too_soon", 429, "Wait before asking for a new code")     \
  X(DSR_E_CHANNEL_UNAVAILABLE, "channel_unavailable", 422,                                  \
    "The request cannot be verified this way")                                               \
  X(DSR_E_RIGHT_NOT_OFFERED, "right_not_offered", 422,                                      \
    "The jurisdiction does not offer this right")                                            \
  X(DSR_E_CSRF, "csrf_failed", 403, "The form is stale; reload the page and try again") \
  X(DSR_E_NO_POLICY, "no_policy", 409, "No policy file is configured")                       \
  X(DSR_E_STORE_UNAVAILABLE, "store_unavailable", 503, "A data store of the policy is unavailable") \
  X(DSR_E_EXPORT_EXPIRED, "export_expired", 410, "The download link has expired")             \
  X(DSR_E_EXPORT_USED_UP, "export_used_up", 410, "The download link has been used up")        \
  X(DSR_E_RANGE_NOT_SATISFIABLE, "range_not_satisfiable", 416,                                 \
    "The requested range is not within the package")                                           \
  X(DSR_E_NOT_VERIFIED_YET, "not_verified_yet", 409,                                           \
    "The requester is not verified yet")                                                       \
  X(DSR_E_WITHDRAW_TOO_LATE, "withdraw_too_late", 409,                                         \
    "The request is already being carried out and can no longer be withdrawn")

enum dsr_ec {
#define DSR_X_ENUM(e, code, status, title) e,
  DSR_ERROR_CODES(DSR_X_ENUM)
#undef DSR_X_ENUM
  DSR_EC_COUNT
};

/** Machine code, e.g. "field_missing". Never NULL. */
const char *dsr_ec_code(enum dsr_ec ec);
/** HTTP status of the code. */
unsigned int dsr_ec_status(enum dsr_ec ec);
/** Human title. Never NULL. */
const char *dsr_ec_title(enum dsr_ec ec);

#endif

/**
 * @file httpd.h
 * @brief The HTTP side of dsrd: the app context, the per-request state the
 *        dispatcher hands to handlers, the routing table and replies.
 *
 * Ownership: the dispatcher allocates one struct dsr_hreq per connection
 * request and frees it (with its body and parsed JSON) when libmicrohttpd
 * reports the request completed. Handlers borrow everything in it.
 */
#ifndef DSRD_HTTPD_H
#define DSRD_HTTPD_H

#include <jansson.h>
#include <microhttpd.h>

#include "dsr/config.h"
#include "dsr/db.h"
#include "dsr/error.h"
#include "dsr/idempotency.h"
#include "dsr/jspec.h"
#include "dsr/policy.h"
#include "dsr/ratelimit.h"
#include "dsr/verify.h"
#include "dsr/drp.h"

/** Rate limits the dispatcher and handlers apply (ratelimit.h), indexes into dsr_app.rl. */
enum dsr_rate {
  DSR_RATE_NONE,
  DSR_RATE_INTAKE_ADDRESS,  /**< per route: new requests from one client address */
  DSR_RATE_VERIFY_ADDRESS,  /**< per route: verification attempts from one address */
  DSR_RATE_INTAKE_IDENTITY, /**< in the intake code: per email, phone or account */
  DSR_RATE_VERIFY_REQUEST,  /**< in the verification handlers: per request id */
  DSR_RATE_LOGIN_ADDRESS,   /**< per route: staff UI login attempts from one address */
  DSR_RATE_COUNT
};
#include "dsr/staff.h"

/** Process-wide state shared by all handler threads (read-only after start). */
struct dsr_app {
  const struct dsr_config *cfg;
  struct dsr_db_pool *pool;
  const struct dsr_policy *policy; /**< NULL: built-in defaults (docs/policy-sections.md) */
  struct dsr_ratelimit *rl[DSR_RATE_COUNT]; /**< NULL entries: no limit */
  struct dsr_verify_env venv;               /**< policy and the public base URL for links */
  struct dsr_conn_guard *guard;             /**< deadlines on slow clients, or NULL */
  const struct dsr_drp_directory *drp_dir;  /**< DRP authorized agents, or NULL */
  const struct dsr_route *routes;           /**< the routing table (main.c: dsr_routes) */
  struct dsr_dbq *dbq; /**< runs status reads while the HTTP thread goes on, or NULL (the pool) */
};

#define DSR_MAX_PATH_ARGS 4

/**
 * Who may call a route. The dispatcher authenticates and checks roles before
 * any handler runs: STAFF takes a staff API token, CUSTOMER a customer API
 * key, both as "Authorization: Bearer"; UI takes the staff UI session cookie
 * and then applies the same role checks as STAFF (a GET without a session is
 * sent to the login page, anything else answers 401). STAFF also takes the UI
 * session cookie when no bearer token is sent; then every method but GET and
 * HEAD needs the CSRF token in DSR_CSRF_HEADER (403 csrf_failed otherwise).
 */
enum dsr_auth {
  DSR_AUTH_NONE,
  DSR_AUTH_STATUS_TOKEN,
  DSR_AUTH_STAFF,
  DSR_AUTH_CUSTOMER,
  DSR_AUTH_UI,     /**< a staff UI session cookie (same roles as staff tokens) */
  DSR_AUTH_SERVICE, /**< a platform service key ("dsrsvc_...", dsrctl service-key create) */
  DSR_AUTH_AGENT    /**< a DRP authorized agent's pair-wise token (POST /v1/agent/{agent-id}) */
};

/** Roles allowed when the body's role field has this value (e.g. action "deny"). */
struct dsr_role_rule {
  const char *value;
  unsigned roles; /**< enum dsr_role bits */
};

struct dsr_hreq;
typedef enum MHD_Result (*dsr_handler)(struct dsr_hreq *r);

/** One row of the routing table. */
struct dsr_route {
  const char *method;             /**< "GET", "POST", "DELETE" */
  const char *pattern;            /**< "/v1/requests/{id}"; {name} captures a segment */
  dsr_handler handler;
  enum dsr_auth auth;
  const struct dsr_jspec *body;   /**< JSON body spec; NULL means the route takes no body */
  /**
   * HTML form spec (application/x-www-form-urlencoded): the dispatcher decodes
   * the fields into a JSON object of strings (empty fields dropped), checks
   * the double-submit CSRF token (field "csrf" = cookie "dsr_csrf", 403
   * otherwise), validates the rest against this spec and then ALWAYS calls the
   * handler: on invalid input with r->input_invalid set and r->input_err
   * filled, so the page can show the form again with the message.
   */
  const struct dsr_jspec *form;
  enum dsr_rate rate;             /**< per-address limit checked before anything else */
  bool html;                      /**< errors answer as an HTML page, not problem+json */
  unsigned roles;                 /**< DSR_AUTH_STAFF: enum dsr_role bits allowed on the route */
  const char *role_field;         /**< body field that narrows the roles further, or NULL */
  const struct dsr_role_rule *role_rules; /**< per value of role_field; {NULL} ends */
  /**
   * A Data Rights Protocol route: the pattern starts with "/drp", which stands
   * for the configured drp_base_path (dsr_routes_drp_base()); errors answer in
   * DRP's own shape {"code", "message", "fatal"} instead of problem+json.
   */
  bool drp;
  /**
   * The body is text/plain (DRP's base64 signed messages), handed to the
   * handler raw in r->body; a DELETE may come without a Content-Type.
   */
  bool text;
};

/** Per-request state, built by the dispatcher. */
struct dsr_hreq {
  struct MHD_Connection *conn;
  struct dsr_app *app;
  const struct dsr_route *route;
  char method[32];
  char path[1024];
  const char *args[DSR_MAX_PATH_ARGS]; /**< captured segments, pointing into argbuf */
  char argbuf[1024];
  struct dsr_buf body;                 /**< raw upload */
  json_t *json;                        /**< parsed and validated body, or NULL */
  const char *bearer;                  /**< token from Authorization: Bearer, or NULL */
  char staff_id[40];                   /**< DSR_AUTH_STAFF: the authenticated staff user */
  enum dsr_role role;                  /**< ... and their role */
  char staff_name[128];                /**< DSR_AUTH_UI: the user's display name */
  const char *session;                 /**< DSR_AUTH_UI: the session cookie (borrowed) */
  char customer_id[40];                /**< DSR_AUTH_CUSTOMER: the authenticated customer */
  char service_id[40];                 /**< DSR_AUTH_SERVICE: the authenticated service key */
  char agent_id[80];                   /**< DSR_AUTH_AGENT: the authenticated DRP agent */
  char rid[33];                        /**< request id (hex), echoed as X-Request-Id */
  double started_ms;
  unsigned int status;                 /**< status of the queued reply, for the log */
  bool too_large;                      /**< body over max_body_bytes: drop it, answer 413 */
  size_t discarded;
  bool replied;
  bool observed;                       /**< counted in /metrics (when the reply was queued) */
  bool input_invalid;                  /**< form routes: the body failed its spec */
  struct dsr_jspec_error input_err;    /**< ... and why */
  char client[64];                     /**< client address (for rate limits only; never logged) */
  char set_cookie[3][512];             /**< Set-Cookie values queued for the reply */
  int ncookies;
  long retry_after;                    /**< > 0: the reply carries Retry-After */
  bool by_session;                     /**< DSR_AUTH_STAFF: signed in by the UI session cookie */
  bool idem_pending;                   /**< an Idempotency-Key reserved for this request ... */
  struct dsr_idem idem;                /**< ... this one: the reply is kept under it */
  bool started;                        /**< the dispatcher has seen this request */
  bool query_too_long;                 /**< more query parameters than we read (dsr_uri_seen) */
  bool ui_expired;                     /**< a staff UI form POST without a live session */
  /* A read handed over to app->dbq: the connection is suspended until it is answered. */
  enum { DSR_HANDED_NONE, DSR_HANDED_WAITING, DSR_HANDED_ANSWERED } handed;
  PGresult *handed_res; /**< ... its result once answered (owned; NULL: it could not run) */
};

/**
 * MHD_OPTION_URI_LOG_CALLBACK (@p cls the app): called with the request line's
 * target before libmicrohttpd splits the query. Allocates the request's state;
 * a query of more parameters than dsrd reads is cut before libmicrohttpd
 * stores them (thousands exhaust the connection's memory and leave the client
 * without an answer) and answered 414 by the dispatcher.
 */
void *dsr_uri_seen(void *cls, const char *uri, struct MHD_Connection *conn);

/** "Authorization: Bearer <token>" of @p conn (token68 characters only), or NULL; borrowed. */
const char *dsr_bearer_of(struct MHD_Connection *conn);

/**
 * The routing table (routes.c), terminated by a row with method NULL. Named
 * only by main.c and the tests; everything else reaches it through
 * struct dsr_app, so no handler depends back on the table that lists it.
 */
extern const struct dsr_route dsr_routes[];

/**
 * Finds the route of @p table for @p method and @p path. On a match fills @p args (borrowing
 * into @p argbuf) and returns the route. Otherwise NULL with *path_known set when
 * the path exists under another method (405).
 */
const struct dsr_route *dsr_route_match(const struct dsr_route *table, const char *method,
                                        const char *path, const char *args[DSR_MAX_PATH_ARGS],
                                        char *argbuf, size_t argbuf_len, bool *path_known);
/**
 * Sets the path the DRP routes live under (drp_base_path, e.g. "/drp" or
 * "/privacy/drp"); called once before the server starts. @p base is borrowed.
 */
void dsr_routes_drp_base(const char *base);
/** Writes the methods @p table allows on @p path ("GET, POST") into @p out. */
void dsr_route_allowed(const struct dsr_route *table, const char *path, char *out,
                       size_t outlen);
/** Rejects traversal, empty or dot segments, control and non-ASCII bytes. */
bool dsr_path_safe(const char *path);

/**
 * The usual end of a handler: a problem for @p ec (no detail, no field) or
 * 200 with @p body. Releases @p body either way.
 */
enum MHD_Result dsr_reply_outcome(struct dsr_hreq *r, enum dsr_ec ec, json_t *body);
/** Replies again with an answer kept for an Idempotency-Key (a problem when @p status >= 400). */
enum MHD_Result dsr_reply_kept(struct dsr_hreq *r, unsigned int status, json_t *body);
/** Replies with a JSON body (takes a reference to @p body). */
enum MHD_Result dsr_reply_json(struct dsr_hreq *r, unsigned int status, json_t *body);
/** As dsr_reply_json(), with the body already written (@p text is freed; NULL: out of memory). */
enum MHD_Result dsr_reply_json_text(struct dsr_hreq *r, unsigned int status, char *text);
/**
 * Replies with a non-JSON document (CSV, HTML report) of type @p ctype; takes
 * ownership of @p text (malloc'd; NULL closes the connection).
 */
enum MHD_Result dsr_reply_document(struct dsr_hreq *r, unsigned int status, char *text,
                                   const char *ctype);
/** Replies with an RFC 9457 problem; @p field (JSON pointer) and @p detail may be NULL. */
enum MHD_Result dsr_reply_problem(struct dsr_hreq *r, enum dsr_ec ec, const char *detail,
                                  const char *field);
/**
 * Replies with a problem carrying extra members @p extra (stolen; may be
 * NULL), e.g. {"attempts_left": 3}; on HTML routes renders the error page.
 */
enum MHD_Result dsr_reply_problem_x(struct dsr_hreq *r, enum dsr_ec ec, const char *detail,
                                    const char *field, json_t *extra);
/**
 * Renders template @p name ("page_form.html") with @p ctx (borrowed; the
 * dispatcher adds "org", "lang", "csrf" when absent) and replies text/html
 * with the page security headers (strict CSP, no framing, no referrer).
 */
enum MHD_Result dsr_reply_html(struct dsr_hreq *r, unsigned int status, const char *name,
                               json_t *ctx);
/**
 * Replies with a prepared response @p resp (streamed downloads, ranges),
 * adding the common headers and @p ctype; takes ownership of @p resp. A
 * Cache-Control header already on @p resp replaces the default no-store.
 */
enum MHD_Result dsr_reply_stream(struct dsr_hreq *r, unsigned int status,
                                 struct MHD_Response *resp, const char *ctype);
/** 303 See Other to the local path @p location. */
enum MHD_Result dsr_reply_redirect(struct dsr_hreq *r, const char *location);
/** Serves template @p name as a static asset of type @p ctype (cacheable). */
enum MHD_Result dsr_reply_asset(struct dsr_hreq *r, const char *name, const char *ctype);
/** Queues a Set-Cookie header for the reply (false when too many or too long). */
DSR_MUST_USE bool dsr_reply_cookie(struct dsr_hreq *r, const char *cookie);
/**
 * The page's CSRF token: the dsr_csrf cookie when it is well formed, else a
 * new one that is set as a cookie with the reply. Written into @p out (>= 48).
 */
void dsr_csrf_token(struct dsr_hreq *r, char *out, size_t outlen);
/**
 * Applies limit @p which to @p key; on excess queues Retry-After and returns
 * false (the caller then replies DSR_E_RATE_LIMITED).
 */
DSR_MUST_USE bool dsr_rate_ok(struct dsr_hreq *r, enum dsr_rate which, const char *key);

/** Builds the problem document (caller decrefs). Exposed for tests. */
json_t *dsr_problem_json(enum dsr_ec ec, const char *detail, const char *field);

/**
 * Authenticates @p r for its route's auth kind and checks the route's roles
 * (auth.c). Returns true when the request may go on; otherwise a problem has
 * been queued and *ret holds the result to return to libmicrohttpd.
 */
bool dsr_dispatch_auth(struct dsr_hreq *r, enum MHD_Result *ret);
/** Name of the staff UI session cookie. */
#define DSR_UI_COOKIE "dsr_ui"
/** Header with the CSRF token (the dsr_csrf cookie's value) for cookie-authenticated API calls. */
#define DSR_CSRF_HEADER "X-CSRF-Token"
/** Checks the route's role_rules against the parsed body (auth.c); same contract. */
bool dsr_dispatch_role_rules(struct dsr_hreq *r, enum MHD_Result *ret);
/** True when role @p role may use a route with @p route's role rules for @p value. */
bool dsr_role_allowed(const struct dsr_route *route, enum dsr_role role, const char *value);

/**
 * Keeps the answer (@p status, JSON @p text) of a request whose
 * Idempotency-Key the dispatcher reserved, or drops the reservation on a 5xx
 * (reply.c; called by the reply functions). It takes a pool connection:
 * handlers release theirs before they reply, as they all do.
 */
void dsr_reply_idem_finish(struct dsr_hreq *r, unsigned int status, const char *text);

/**
 * Counts @p r in /metrics once (reply.c): when its answer is queued, or when the connection
 * ends without one (status 0).
 */
void dsr_reply_observe(struct dsr_hreq *r);

/** The libmicrohttpd callbacks (dispatch.c). */
enum MHD_Result dsr_dispatch(void *cls, struct MHD_Connection *conn, const char *url,
                             const char *method, const char *version, const char *upload_data,
                             size_t *upload_data_size, void **con_cls);
void dsr_dispatch_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                            enum MHD_RequestTerminationCode toe);

/* Handlers, one file per resource. */
enum MHD_Result dsrd_requests_create(struct dsr_hreq *r);
enum MHD_Result dsrd_requests_get(struct dsr_hreq *r);
enum MHD_Result dsrd_healthz(struct dsr_hreq *r);
enum MHD_Result dsrd_exports_get(struct dsr_hreq *r);
/** GET /downloads/{id}?token=: the page of a mailed download link (nothing counted). */
enum MHD_Result dsrd_download_page(struct dsr_hreq *r);
/** POST /downloads/{id} {token}: the package (counted), from the page's button. */
enum MHD_Result dsrd_download_post(struct dsr_hreq *r);
extern const struct dsr_jspec dsrd_download_form[];
/** Streams package @p export_id when it belongs to request @p request_id (checked by the caller). */
enum MHD_Result dsrd_export_serve_for_request(struct dsr_hreq *r, const char *export_id,
                                              const char *request_id);
/**
 * The packages of request @p request_id as the status page offers them
 * (size, expiry in @p lang, downloads left); a new array, or NULL on a
 * database error.
 */
json_t *dsrd_export_offers(struct dsr_db *db, const char *request_id, const char *lang);
/**
 * The language of a public page: @p request_lang when it is one we write in,
 * else the best of the browser's Accept-Language, else "en". Static string.
 */
const char *dsrd_page_lang(struct dsr_hreq *r, const char *request_lang);
enum MHD_Result dsrd_page_download_post(struct dsr_hreq *r);
extern const struct dsr_jspec dsrd_page_download_form[];
enum MHD_Result dsrd_restrictions_check(struct dsr_hreq *r);
enum MHD_Result dsrd_restrictions_lift(struct dsr_hreq *r);
extern const struct dsr_jspec dsrd_restriction_lift_spec[];
enum MHD_Result dsrd_corrections_decide(struct dsr_hreq *r);
extern const struct dsr_jspec dsrd_correction_decide_spec[];
enum MHD_Result dsrd_readyz(struct dsr_hreq *r);
/** GET /metrics: Prometheus text format, for metrics_allow addresses or metrics_token (ops). */
enum MHD_Result dsrd_metrics(struct dsr_hreq *r);
/** GET /openapi.json: docs/openapi.json as compiled in. */
enum MHD_Result dsrd_openapi(struct dsr_hreq *r);
/** GET /errors/{code}: the page an error's type URI points at. */
enum MHD_Result dsrd_error_page(struct dsr_hreq *r);
enum MHD_Result dsrd_verify(struct dsr_hreq *r);
enum MHD_Result dsrd_resend(struct dsr_hreq *r);
enum MHD_Result dsrd_withdraw(struct dsr_hreq *r);
enum MHD_Result dsrd_page_form(struct dsr_hreq *r);
enum MHD_Result dsrd_page_create(struct dsr_hreq *r);
enum MHD_Result dsrd_page_verify(struct dsr_hreq *r);
enum MHD_Result dsrd_page_verify_post(struct dsr_hreq *r);
enum MHD_Result dsrd_page_resend(struct dsr_hreq *r);
enum MHD_Result dsrd_page_status(struct dsr_hreq *r);
enum MHD_Result dsrd_page_withdraw(struct dsr_hreq *r);
enum MHD_Result dsrd_page_css(struct dsr_hreq *r);
enum MHD_Result dsrd_page_icon(struct dsr_hreq *r);

/**
 * Intake shared by the API and the form: per-identity rate limits, the
 * jurisdiction from the policy, then dsr_request_create(). @p body is the
 * validated request object. On DSR_OK reply and status are the answer.
 */
enum dsr_ec dsrd_intake(struct dsr_hreq *r, const json_t *body, json_t **reply,
                        unsigned int *status, const char **field);
/** Maps a verification outcome to the reply (problem with attempts_left / Retry-After). */
enum MHD_Result dsrd_verify_reply(struct dsr_hreq *r, const char *id,
                                  const struct dsr_verify_outcome *o);

/** Body specs referenced by the routing table. */
extern const struct dsr_jspec dsrd_request_create_spec[];
extern const struct dsr_jspec dsrd_verify_spec[];
extern const struct dsr_jspec dsrd_resend_spec[];
extern const struct dsr_jspec dsrd_page_create_form[];
extern const struct dsr_jspec dsrd_page_verify_form[];
extern const struct dsr_jspec dsrd_page_resend_form[];
extern const struct dsr_jspec dsrd_page_empty_form[];
extern const struct dsr_jspec dsrd_page_withdraw_form[];
enum MHD_Result dsrd_admin_audit(struct dsr_hreq *r);
enum MHD_Result dsrd_admin_report(struct dsr_hreq *r);
enum MHD_Result dsrd_admin_requests_list(struct dsr_hreq *r);
enum MHD_Result dsrd_admin_requests_get(struct dsr_hreq *r);
enum MHD_Result dsrd_admin_requests_act(struct dsr_hreq *r);
enum MHD_Result dsrd_admin_requests_withdraw(struct dsr_hreq *r);
enum MHD_Result dsrd_admin_requests_plan(struct dsr_hreq *r);
enum MHD_Result dsrd_customer_parts_list(struct dsr_hreq *r);
enum MHD_Result dsrd_customer_part_get(struct dsr_hreq *r);
enum MHD_Result dsrd_demo_webhook(struct dsr_hreq *r);
extern const struct dsr_jspec dsrd_demo_webhook_spec[];
enum MHD_Result dsrd_customer_decision(struct dsr_hreq *r);
extern const struct dsr_jspec dsrd_admin_action_spec[];
extern const struct dsr_jspec dsrd_admin_withdraw_spec[];
extern const struct dsr_jspec dsrd_customer_decision_spec[];
/* Authorized agents: the Data Rights Protocol 1.0 (dsrd_drp.c). */
enum MHD_Result dsrd_drp_pair(struct dsr_hreq *r);
enum MHD_Result dsrd_drp_agent(struct dsr_hreq *r);
enum MHD_Result dsrd_drp_exercise(struct dsr_hreq *r);
enum MHD_Result dsrd_drp_status(struct dsr_hreq *r);
enum MHD_Result dsrd_drp_revoke(struct dsr_hreq *r);
/**
 * After a state change of request @p id made over HTTP (staff actions, the subject's
 * verification or withdrawal): its DRP status callback now, if an agent filed it and asked
 * for callbacks (the routing sweep catches what workers change, and any failure here).
 */
void dsrd_drp_changed(struct dsr_hreq *r, struct dsr_db *db, const char *id);
/** Adds the agent's name from the DRP directory to a request detail's "agent" (staff views). */
void dsrd_drp_name_agent(const struct dsr_hreq *r, json_t *detail);
/* The staff UI (one file per page group: dsrd_ui_*.c). */
enum MHD_Result dsrd_ui_login_page(struct dsr_hreq *r);
enum MHD_Result dsrd_ui_login(struct dsr_hreq *r);
enum MHD_Result dsrd_ui_logout(struct dsr_hreq *r);
enum MHD_Result dsrd_ui_home(struct dsr_hreq *r);
enum MHD_Result dsrd_ui_queue(struct dsr_hreq *r);
enum MHD_Result dsrd_ui_request(struct dsr_hreq *r);
enum MHD_Result dsrd_ui_plan(struct dsr_hreq *r);
enum MHD_Result dsrd_ui_act(struct dsr_hreq *r);
enum MHD_Result dsrd_ui_queue_csv(struct dsr_hreq *r);
enum MHD_Result dsrd_ui_note(struct dsr_hreq *r);
enum MHD_Result dsrd_ui_bulk(struct dsr_hreq *r);
enum MHD_Result dsrd_ui_customers(struct dsr_hreq *r);
enum MHD_Result dsrd_ui_rotate(struct dsr_hreq *r);
enum MHD_Result dsrd_ui_customer_add(struct dsr_hreq *r);
enum MHD_Result dsrd_ui_customer(struct dsr_hreq *r);
enum MHD_Result dsrd_ui_customer_change(struct dsr_hreq *r);
enum MHD_Result dsrd_ui_staff(struct dsr_hreq *r);
enum MHD_Result dsrd_ui_staff_invite(struct dsr_hreq *r);
enum MHD_Result dsrd_ui_staff_change(struct dsr_hreq *r);
enum MHD_Result dsrd_ui_password_page(struct dsr_hreq *r);
enum MHD_Result dsrd_ui_password_set(struct dsr_hreq *r);
enum MHD_Result dsrd_ui_report(struct dsr_hreq *r);
enum MHD_Result dsrd_ui_report_view(struct dsr_hreq *r);
enum MHD_Result dsrd_ui_inbox(struct dsr_hreq *r);
enum MHD_Result dsrd_ui_css(struct dsr_hreq *r);
extern const struct dsr_jspec dsrd_ui_login_form[];
extern const struct dsr_jspec dsrd_ui_action_form[];
extern const struct dsr_jspec dsrd_ui_bulk_form[];
extern const struct dsr_jspec dsrd_ui_note_form[];
extern const struct dsr_jspec dsrd_ui_rotate_form[];
extern const struct dsr_jspec dsrd_ui_customer_add_form[];
extern const struct dsr_jspec dsrd_ui_customer_endpoint_form[];
extern const struct dsr_jspec dsrd_ui_customer_status_form[];
extern const struct dsr_jspec dsrd_ui_customer_replay_form[];
extern const struct dsr_jspec dsrd_ui_staff_invite_form[];
extern const struct dsr_jspec dsrd_ui_staff_role_form[];
extern const struct dsr_jspec dsrd_ui_staff_status_form[];
extern const struct dsr_jspec dsrd_ui_staff_sessions_form[];
extern const struct dsr_jspec dsrd_ui_password_form[];
/**
 * Renders staff page @p name with @p ctx (borrowed) plus the signed-in user,
 * the navigation allowed to their role and the CSRF token (dsrd_ui_common.c).
 */
enum MHD_Result dsrd_ui_page(struct dsr_hreq *r, unsigned int status, const char *name,
                             json_t *ctx);
/** Appends "name=value&" to @p b with the value percent-encoded (RFC 3986 unreserved kept). */
DSR_MUST_USE bool dsrd_url_param(struct dsr_buf *b, const char *name, const char *value);
/** True for a local staff UI path to come back to ("/ui/...", no "//", no scheme). */
bool dsrd_ui_local_path(const char *s, const char **why);
/**
 * A staff form posted after its session ended (dispatch.c, instead of the
 * route's handler): the sign-in page (401) that brings the user back to the
 * form's page, carrying the posted fields (when the form came from our page)
 * so they can be sent again once signed in (dsrd_ui_login.c).
 */
enum MHD_Result dsrd_ui_expired(struct dsr_hreq *r);
/** True when the signed-in user may POST @p path with role field value @p value. */
bool dsrd_ui_may(const struct dsr_hreq *r, const char *method, const char *path,
                 const char *value);
/** Which roles may take which admin action (routes.c). */
extern const struct dsr_role_rule dsrd_admin_action_roles[];

#endif

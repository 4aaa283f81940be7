/**
 * @file auth.c
 * @brief Authentication and role checks for the dispatcher: staff API tokens
 *        and customer API keys (both bearer tokens, looked up by keyed hash),
 *        the route's allowed roles, and per-value role rules on a body field
 *        (which admin action may be taken by which role), and the bearer
 *        token of a request. Staff UI routes authenticate by session cookie
 *        and then go through the very same role checks as staff API tokens.
 *        Staff API routes take that session too when no token is sent, with
 *        the UI's double-submit CSRF token (as a header) required on anything
 *        that may change state.
 */
#include "config.h"
#include "httpd.h"
#include "dsr/customers.h"
#include "dsr/log.h"
#include "dsr/ui_auth.h"
#include "forms.h"
#include "dsr/rights.h"

#include <string.h>
#include <strings.h>

/* The staff UI session named by the cookie; fills r->staff_id, role and name. */
static enum dsr_ec ui_session(struct dsr_hreq *r, struct dsr_db *db)
{
  r->session = MHD_lookup_connection_value(r->conn, MHD_COOKIE_KIND, DSR_UI_COOKIE);
  if (!r->session)
    return DSR_E_UNAUTHORIZED;
  const struct dsr_session_limits l = {.idle = r->app->cfg->ui_session_idle,
                                       .absolute = r->app->cfg->ui_session_absolute};
  struct dsr_session_user u;
  enum dsr_ec ec = dsr_ui_session_get(db, &l, r->session, dsr_now(), &u);
  if (ec == DSR_OK) {
    dsr_strlcpy(r->staff_id, u.user_id, sizeof r->staff_id);
    dsr_strlcpy(r->staff_name, u.name, sizeof r->staff_name);
    r->role = u.role;
  }
  return ec;
}

/* Appends one query argument of the page to come back to. */
static enum MHD_Result add_arg(void *cls, enum MHD_ValueKind kind, const char *key,
                               const char *value)
{
  (void)kind;
  return dsrd_url_param(cls, key, value ? value : "") ? MHD_YES : MHD_NO;
}

/* A page of the staff UI without a live session: to the sign-in page, and back here after. */
static enum MHD_Result back_after_login(struct dsr_hreq *r)
{
  if (!strcmp(r->path, "/ui/") &&
      MHD_get_connection_values(r->conn, MHD_GET_ARGUMENT_KIND, NULL, NULL) == 0)
    return dsr_reply_redirect(r, "/ui/login");
  struct dsr_buf here = {0}, to = {0};
  bool ok = dsr_buf_puts(&here, r->path) && dsr_buf_puts(&here, "?");
  ok = ok && MHD_get_connection_values(r->conn, MHD_GET_ARGUMENT_KIND, add_arg, &here) >= 0;
  if (ok)
    here.data[here.len - 1] = '\0'; /* the last "&" or "?" */
  ok = ok && dsr_buf_puts(&to, "/ui/login?") && dsrd_url_param(&to, "next", here.data);
  if (ok)
    to.data[to.len - 1] = '\0';
  enum MHD_Result ret = dsr_reply_redirect(r, ok ? to.data : "/ui/login");
  dsr_buf_free(&here);
  dsr_buf_free(&to);
  return ret;
}

bool dsr_dispatch_auth(struct dsr_hreq *r, enum MHD_Result *ret)
{
  if (r->route->auth == DSR_AUTH_STATUS_TOKEN)
    return true; /* checked by the handler against the request it names */
  struct dsr_db *db = dsr_db_acquire(r->app->pool);
  if (!db) {
    *ret = dsr_reply_problem(r, DSR_E_DB_UNAVAILABLE, NULL, NULL);
    return false;
  }
  enum dsr_ec ec;
  r->by_session = r->route->auth == DSR_AUTH_STAFF && !r->bearer;
  if (r->route->auth == DSR_AUTH_UI || r->by_session)
    ec = ui_session(r, db);
  else if (r->route->auth == DSR_AUTH_STAFF)
    ec = dsr_staff_auth(db, r->bearer, r->staff_id, &r->role);
  else if (r->route->auth == DSR_AUTH_SERVICE)
    ec = dsr_service_auth(db, r->bearer, r->service_id);
  else if (r->route->auth == DSR_AUTH_AGENT)
    ec = dsr_drp_token_agent(db, r->bearer, r->agent_id, sizeof r->agent_id);
  else
    ec = dsr_customer_auth(db, r->bearer, r->customer_id);
  dsr_db_release(db);
  if (ec == DSR_E_UNAUTHORIZED && r->route->auth == DSR_AUTH_UI && !strcmp(r->route->method, "GET")) {
    *ret = back_after_login(r);
    return false;
  }
  if (ec == DSR_E_UNAUTHORIZED && r->route->auth == DSR_AUTH_UI && r->route->form) {
    r->ui_expired = true; /* the body is read, then dsrd_ui_expired() answers (dispatch.c) */
    return true;
  }
  if (ec != DSR_OK) {
    const char *why = r->route->auth == DSR_AUTH_UI || r->by_session
                          ? "your session has ended; sign in again"
                          : "unknown or revoked token";
    *ret = dsr_reply_problem(r, ec, ec == DSR_E_UNAUTHORIZED ? why : NULL, NULL);
    return false;
  }
  bool staff = r->route->auth == DSR_AUTH_STAFF || r->route->auth == DSR_AUTH_UI;
  if (staff && !(r->route->roles & (unsigned)r->role)) {
    DSR_INFO("auth.forbidden", "rid=%s staff=%s role=%s route=%s", r->rid, r->staff_id,
             dsr_role_name(r->role), r->route->pattern);
    *ret = dsr_reply_problem(r, DSR_E_FORBIDDEN, NULL, NULL);
    return false;
  }
  /* A browser sends the cookie by itself: a state change must also prove it read the page. */
  bool safe = !strcmp(r->method, "GET") || !strcmp(r->method, "HEAD");
  if (r->by_session && !safe &&
      !dsr_csrf_check(r, MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND,
                                                     DSR_CSRF_HEADER))) {
    DSR_INFO("auth.csrf_failed", "rid=%s staff=%s route=%s", r->rid, r->staff_id,
             r->route->pattern);
    *ret = dsr_reply_problem(r, DSR_E_CSRF,
                             "with the session cookie, send the dsr_csrf cookie's value as "
                             DSR_CSRF_HEADER,
                             NULL);
    return false;
  }
  return true;
}

/** Reads "Authorization: Bearer <token>" (token68 characters only). */
const char *dsr_bearer_of(struct MHD_Connection *conn)
{
  const char *h = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
  if (!h || strncasecmp(h, "Bearer ", 7) != 0)
    return NULL;
  const char *t = h + 7;
  size_t n = strlen(t);
  if (n == 0 || n > 512 || strspn(t, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                     "0123456789-._~+/=") != n)
    return NULL;
  return t;
}

bool dsr_dispatch_role_rules(struct dsr_hreq *r, enum MHD_Result *ret)
{
  if ((r->route->auth != DSR_AUTH_STAFF && r->route->auth != DSR_AUTH_UI) ||
      !r->route->role_field)
    return true;
  const char *value = json_string_value(json_object_get(r->json, r->route->role_field));
  if (dsr_role_allowed(r->route, r->role, value))
    return true;
  DSR_INFO("auth.forbidden", "rid=%s staff=%s role=%s route=%s", r->rid, r->staff_id,
           dsr_role_name(r->role), r->route->pattern);
  *ret = dsr_reply_problem(r, DSR_E_FORBIDDEN, NULL, NULL);
  return false;
}

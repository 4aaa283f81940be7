/**
 * @file dsrd_ui_login.c
 * @brief Staff UI sign-in and sign-out: GET/POST /ui/login, POST /ui/logout,
 *        GET /ui (to the queue). Attempts are limited per address by the
 *        route and per account by a lockout in the database; a session id
 *        goes out once as an HttpOnly, SameSite=Strict cookie (Secure when
 *        base_url is https) and is kept only as a keyed hash.
 */
#include "config.h"
#include "httpd.h"
#include "forms.h"
#include "dsr/log.h"
#include "dsr/ui_auth.h"
#include "dsr/validate.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

const struct dsr_jspec dsrd_ui_login_form[] = {
    {.name = "email", .type = DSR_JT_STRING, .required = true, .max_len = 254},
    {.name = "password", .type = DSR_JT_STRING, .required = true, .max_len = DSR_PASSWORD_MAX},
    {0},
};

static enum MHD_Result login_page(struct dsr_hreq *r, unsigned status, const char *email,
                                  const char *error)
{
  json_t *ctx = json_pack("{s:s}", "title", "Sign in");
  if (ctx && email)
    json_object_set_new(ctx, "email", json_string(email));
  if (ctx && error)
    json_object_set_new(ctx, "error", json_string(error));
  enum MHD_Result ret = dsr_reply_html(r, status, "ui_login.html", ctx);
  json_decref(ctx);
  return ret;
}

enum MHD_Result dsrd_ui_login_page(struct dsr_hreq *r)
{
  return login_page(r, 200, NULL, NULL);
}

enum MHD_Result dsrd_ui_home(struct dsr_hreq *r)
{
  return dsr_reply_redirect(r, "/ui/");
}

static bool secure_cookies(const struct dsr_hreq *r)
{
  const char *base = r->app->cfg->base_url;
  return base && !strncmp(base, "https:", 6);
}

enum MHD_Result dsrd_ui_login(struct dsr_hreq *r)
{
  const char *email = dsr_json_str(r->json, "email");
  const char *password = dsr_json_str(r->json, "password");
  if (r->input_invalid || !email || !password)
    return login_page(r, 400, email, "Enter your email address and your password.");
  struct dsr_db *db = dsr_db_acquire(r->app->pool);
  if (!db)
    return dsr_reply_problem(r, DSR_E_DB_UNAVAILABLE, NULL, NULL);
  const struct dsr_login_rules rules = {.max_failures = r->app->cfg->ui_login_max_failures,
                                        .lockout = r->app->cfg->ui_login_lockout};
  char user_id[40] = "";
  enum dsr_role role = DSR_ROLE_AUDITOR;
  long wait = 0;
  time_t now = dsr_now();
  enum dsr_ec ec = dsr_ui_login(db, &rules, email, password, now, user_id, &role, &wait);
  char *token = NULL;
  if (ec == DSR_OK)
    ec = dsr_ui_session_start(db, user_id, now, &token);
  dsr_db_release(db);
  enum MHD_Result ret;
  if (ec == DSR_E_UNAUTHORIZED) {
    DSR_INFO("ui.login_failed", "rid=%s", r->rid);
    ret = login_page(r, 401, email, "The email address or the password is wrong.");
  } else if (ec == DSR_E_RATE_LIMITED) {
    DSR_INFO("ui.login_locked", "rid=%s wait=%ld", r->rid, wait);
    r->retry_after = wait > 0 ? wait : 1;
    ret = login_page(r, 429, email,
                     "Too many wrong passwords: this account is locked for a while. "
                     "Try again later.");
  } else if (ec != DSR_OK) {
    ret = dsr_reply_problem(r, ec, NULL, NULL);
  } else {
    char cookie[256];
    snprintf(cookie, sizeof cookie, DSR_UI_COOKIE "=%s; Path=/; HttpOnly; SameSite=Strict%s",
             token, secure_cookies(r) ? "; Secure" : "");
    DSR_INFO("ui.login", "rid=%s staff=%s role=%s", r->rid, user_id, dsr_role_name(role));
    dsr_csrf_session_cookie(r, token); /* the CSRF token from now on is bound to the session */
    ret = dsr_reply_cookie(r, cookie) ? dsr_reply_redirect(r, "/ui/")
                                      : dsr_reply_problem(r, DSR_E_INTERNAL, NULL, NULL);
    sodium_memzero(cookie, sizeof cookie);
  }
  if (token) {
    sodium_memzero(token, strlen(token));
    free(token);
  }
  return ret;
}

enum MHD_Result dsrd_ui_logout(struct dsr_hreq *r)
{
  struct dsr_db *db = dsr_db_acquire(r->app->pool);
  if (!db)
    return dsr_reply_problem(r, DSR_E_DB_UNAVAILABLE, NULL, NULL);
  enum dsr_ec ec = dsr_ui_session_end(db, r->session);
  dsr_db_release(db);
  if (ec != DSR_OK)
    return dsr_reply_problem(r, ec, NULL, NULL);
  DSR_INFO("ui.logout", "rid=%s staff=%s", r->rid, r->staff_id);
  char cookie[160];
  snprintf(cookie, sizeof cookie, DSR_UI_COOKIE "=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0%s",
           secure_cookies(r) ? "; Secure" : "");
  return dsr_reply_cookie(r, cookie) ? dsr_reply_redirect(r, "/ui/login")
                                     : dsr_reply_problem(r, DSR_E_INTERNAL, NULL, NULL);
}

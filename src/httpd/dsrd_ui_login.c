/**
 * @file dsrd_ui_login.c
 * @brief Staff UI sign-in and sign-out: GET/POST /ui/login, POST /ui/logout,
 *        GET /ui (to the queue). Attempts are limited per address by the
 *        route and per account by a lockout in the database; a session id
 *        goes out once as an HttpOnly, SameSite=Strict cookie (Secure when
 *        base_url is https) and is kept only as a keyed hash. A page asked
 *        for without a session comes back after sign-in ("next"); a form
 *        posted after the session ended is kept ("resume", "resume_to") and
 *        offered to be sent again once signed in (dsrd_ui_expired).
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

#define RESUME_MAX 8000

const struct dsr_jspec dsrd_ui_login_form[] = {
    {.name = "email", .type = DSR_JT_STRING, .required = true, .max_len = 254},
    {.name = "password", .type = DSR_JT_STRING, .required = true, .max_len = DSR_PASSWORD_MAX},
    {.name = "next", .type = DSR_JT_STRING, .max_len = 1000, .validate = dsrd_ui_local_path},
    {.name = "resume", .type = DSR_JT_STRING, .max_len = RESUME_MAX, .validate = dsr_valid_text},
    {.name = "resume_to", .type = DSR_JT_STRING, .max_len = 200, .validate = dsrd_ui_local_path},
    {0},
};

/* Where to go back to, and the kept form (all optional; borrowed). */
struct comeback {
  const char *next, *resume, *resume_to;
  bool expired;
};

static enum MHD_Result login_page(struct dsr_hreq *r, unsigned status, const char *email,
                                  const char *error, const struct comeback *cb)
{
  json_t *ctx = json_pack("{s:s}", "title", "Sign in");
  if (ctx && email)
    json_object_set_new(ctx, "email", json_string(email));
  if (ctx && error)
    json_object_set_new(ctx, "error", json_string(error));
  if (ctx && cb) {
    if (cb->next)
      json_object_set_new(ctx, "next", json_string(cb->next));
    if (cb->resume && cb->resume_to) {
      json_object_set_new(ctx, "resume", json_string(cb->resume));
      json_object_set_new(ctx, "resume_to", json_string(cb->resume_to));
    }
    json_object_set_new(ctx, "expired", json_boolean(cb->expired));
  }
  enum MHD_Result ret = dsr_reply_html(r, status, "ui_login.html", ctx);
  json_decref(ctx);
  return ret;
}

enum MHD_Result dsrd_ui_login_page(struct dsr_hreq *r)
{
  const char *next = MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, "next");
  const char *why;
  struct comeback cb = {.next = next && dsrd_ui_local_path(next, &why) ? next : NULL};
  return login_page(r, 200, NULL, NULL, &cb);
}

/* The page a form at @p path lives on: its request page, or the list it came from. */
static void page_of_form(const char *path, char *out, size_t outlen)
{
  const char *last = strrchr(path, '/');
  if (!strncmp(path, "/ui/requests/", 13) && last && last > path + 13 &&
      (!strcmp(last, "/actions") || !strcmp(last, "/notes"))) {
    snprintf(out, outlen, "%.*s", (int)(last - path), path);
    return;
  }
  if (!strncmp(path, "/ui/customers", 13)) {
    dsr_strlcpy(out, "/ui/customers", outlen);
    return;
  }
  if (!strncmp(path, "/ui/staff", 9)) {
    dsr_strlcpy(out, "/ui/staff", outlen);
    return;
  }
  dsr_strlcpy(out, "/ui/", outlen);
}

enum MHD_Result dsrd_ui_expired(struct dsr_hreq *r)
{
  char next[256];
  page_of_form(r->path, next, sizeof next);
  struct comeback cb = {.next = next, .expired = true};
  /* Only a form that came from our own page is kept (its token is the old session's). */
  bool ours = strcmp(r->path, "/ui/logout") != 0 && dsr_csrf_check(r, dsr_json_str(r->json, "csrf"));
  struct dsr_buf kept = {0};
  bool ok = true;
  if (ours) {
    const char *key;
    json_t *v;
    json_object_foreach(r->json, key, v)
      if (strcmp(key, "csrf") != 0 && json_is_string(v))
        ok = ok && dsrd_url_param(&kept, key, json_string_value(v));
  }
  const char *why;
  if (ours && ok && kept.len > 0 && kept.len <= RESUME_MAX && dsrd_ui_local_path(r->path, &why)) {
    kept.data[kept.len - 1] = '\0';
    cb.resume = kept.data;
    cb.resume_to = r->path;
  }
  DSR_INFO("ui.session_expired_form", "rid=%s route=%s kept=%d", r->rid, r->route->pattern,
           cb.resume != NULL);
  enum MHD_Result ret =
      login_page(r, 401, NULL,
                 cb.resume ? "Your session has ended. Sign in again: your form is kept and you "
                             "can send it again."
                           : "Your session has ended. Sign in again.",
                 &cb);
  dsr_buf_free(&kept);
  return ret;
}

/* After sign-in with a kept form: the form again, to send with the new session. */
static enum MHD_Result resume_page(struct dsr_hreq *r, const char *token, const char *resume,
                                   const char *to)
{
  const char *why = NULL;
  json_t *fields = dsr_form_decode(resume, strlen(resume), &why);
  json_t *list = json_array();
  const char *key;
  json_t *v;
  json_object_foreach(fields, key, v)
    if (strcmp(key, "csrf") != 0)
      json_array_append_new(list, json_pack("{s:s, s:s}", "name", key, "value",
                                            json_string_value(v) ? json_string_value(v) : ""));
  json_decref(fields);
  char back[256];
  page_of_form(to, back, sizeof back);
  json_t *ctx = json_pack("{s:s, s:s, s:s, s:o}", "title", "Send your form again", "to", to,
                          "back", back, "fields", list);
  char csrf[64];
  if (ctx && dsr_csrf_of_session(token, csrf, sizeof csrf)) /* the new session's token */
    json_object_set_new(ctx, "csrf", json_string(csrf));
  enum MHD_Result ret = ctx ? dsr_reply_html(r, 200, "ui_resume.html", ctx)
                            : dsr_reply_problem(r, DSR_E_INTERNAL, NULL, NULL);
  json_decref(ctx);
  return ret;
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
  struct comeback cb = {.next = dsr_json_str(r->json, "next"),
                       .resume = dsr_json_str(r->json, "resume"),
                       .resume_to = dsr_json_str(r->json, "resume_to")};
  if (r->input_invalid || !email || !password)
    return login_page(r, 400, email, "Enter your email address and your password.", &cb);
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
    ret = login_page(r, 401, email, "The email address or the password is wrong.", &cb);
  } else if (ec == DSR_E_RATE_LIMITED) {
    DSR_INFO("ui.login_locked", "rid=%s wait=%ld", r->rid, wait);
    r->retry_after = wait > 0 ? wait : 1;
    ret = login_page(r, 429, email,
                     "Too many wrong passwords: this account is locked for a while. "
                     "Try again later.",
                     &cb);
  } else if (ec != DSR_OK) {
    ret = dsr_reply_problem(r, ec, NULL, NULL);
  } else {
    char cookie[256];
    snprintf(cookie, sizeof cookie, DSR_UI_COOKIE "=%s; Path=/; HttpOnly; SameSite=Strict%s",
             token, secure_cookies(r) ? "; Secure" : "");
    DSR_INFO("ui.login", "rid=%s staff=%s role=%s", r->rid, user_id, dsr_role_name(role));
    dsr_csrf_session_cookie(r, token); /* the CSRF token from now on is bound to the session */
    if (!dsr_reply_cookie(r, cookie))
      ret = dsr_reply_problem(r, DSR_E_INTERNAL, NULL, NULL);
    else if (cb.resume && cb.resume_to)
      ret = resume_page(r, token, cb.resume, cb.resume_to);
    else
      ret = dsr_reply_redirect(r, cb.next ? cb.next : "/ui/");
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

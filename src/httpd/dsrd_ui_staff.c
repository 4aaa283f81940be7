/**
 * @file dsrd_ui_staff.c
 * @brief Staff accounts in the staff UI (admins): GET /ui/staff lists the
 *        accounts and their sessions; POST /ui/staff/invite makes an account
 *        and shows its one-time set-password link once; POST
 *        /ui/staff/{id}/role, /status, /reset and /sessions change the role,
 *        disable or enable, reset (a new link, sessions ended) and end
 *        sessions. GET and POST /ui/password/{token} (no session: the link is
 *        the proof) set the password once. Every change is audited
 *        (staff.* events, staff/staff_admin.c). An admin cannot disable or
 *        demote themselves, so an admin always remains.
 */
#include "config.h"
#include "httpd.h"
#include "dsr/log.h"
#include "dsr/staff_admin.h"
#include "dsr/ui_auth.h"
#include "dsr/validate.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const roles[] = {"admin", "triager", "approver", "auditor", NULL};
static const char *const statuses[] = {"enabled", "disabled", NULL};

static bool valid_email(const char *s, const char **why)
{
  *why = "is not an email address";
  const char *at = strchr(s, '@');
  return at && at > s && strchr(at + 1, '.') && !strpbrk(s, " <>\"'") && dsr_valid_text(s, why);
}

static bool valid_handle(const char *s, const char **why)
{
  *why = "is not a session";
  if (strlen(s) != 16)
    return false;
  for (; *s; s++)
    if (!strchr("0123456789abcdef", *s))
      return false;
  return true;
}

const struct dsr_jspec dsrd_ui_staff_invite_form[] = {
    {.name = "email", .type = DSR_JT_STRING, .required = true, .max_len = 254,
     .validate = valid_email},
    {.name = "name", .type = DSR_JT_STRING, .max_len = 128, .validate = dsr_valid_text},
    {.name = "role", .type = DSR_JT_STRING, .required = true, .max_len = 16, .one_of = roles},
    {0},
};
const struct dsr_jspec dsrd_ui_staff_role_form[] = {
    {.name = "role", .type = DSR_JT_STRING, .required = true, .max_len = 16, .one_of = roles},
    {0},
};
const struct dsr_jspec dsrd_ui_staff_status_form[] = {
    {.name = "status", .type = DSR_JT_STRING, .required = true, .max_len = 8, .one_of = statuses},
    {0},
};
const struct dsr_jspec dsrd_ui_staff_sessions_form[] = {
    {.name = "session", .type = DSR_JT_STRING, .max_len = 16, .validate = valid_handle},
    {0},
};
const struct dsr_jspec dsrd_ui_password_form[] = {
    {.name = "password", .type = DSR_JT_STRING, .required = true, .max_len = DSR_PASSWORD_MAX},
    {.name = "password2", .type = DSR_JT_STRING, .required = true, .max_len = DSR_PASSWORD_MAX},
    {0},
};

/* The absolute set-password link of @p token (caller frees). */
static char *link_of(const struct dsr_hreq *r, const char *token)
{
  const char *base = r->app->cfg->base_url;
  const char *host = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "Host");
  if (base)
    return dsr_asprintf("%s/ui/password/%s", base, token);
  return dsr_asprintf("http://%s/ui/password/%s", host ? host : "localhost", token);
}

static enum MHD_Result staff_page(struct dsr_hreq *r, unsigned status, json_t *shown,
                                  const char *notice, const char *error)
{
  struct dsr_db *db = dsr_db_acquire(r->app->pool);
  if (!db) {
    json_decref(shown);
    return dsr_reply_problem(r, DSR_E_DB_UNAVAILABLE, NULL, NULL);
  }
  json_t *accounts = dsr_staff_accounts(db);
  dsr_db_release(db);
  if (!accounts) {
    json_decref(shown);
    return dsr_reply_problem(r, DSR_E_DB_UNAVAILABLE, NULL, NULL);
  }
  size_t i;
  json_t *a;
  json_array_foreach(accounts, i, a)
  {
    const char *role = json_string_value(json_object_get(a, "role"));
    json_t *opts = json_array();
    for (const char *const *p = roles; *p; p++)
      json_array_append_new(opts, json_pack("{s:s, s:b}", "value", *p, "selected",
                                            role && !strcmp(role, *p)));
    json_object_set_new(a, "roles", opts);
    json_object_set_new(a, "me", json_boolean(!strcmp(json_string_value(json_object_get(a, "id")),
                                                      r->staff_id)));
    json_object_set_new(a, "enabled", json_boolean(!strcmp(
                                          json_string_value(json_object_get(a, "status")),
                                          "enabled")));
  }
  json_t *role_list = json_array();
  for (const char *const *p = roles; *p; p++)
    json_array_append_new(role_list, json_string(*p));
  json_t *ctx = json_pack("{s:s, s:s, s:o, s:o}", "title", "Staff", "nav", "/ui/staff",
                          "accounts", accounts, "all_roles", role_list);
  if (ctx && shown)
    json_object_set(ctx, "shown", shown);
  if (ctx && notice)
    json_object_set_new(ctx, "notice", json_string(notice));
  if (ctx && error)
    json_object_set_new(ctx, "error", json_string(error));
  json_decref(shown);
  enum MHD_Result ret = ctx ? dsrd_ui_page(r, status, "ui_staff.html", ctx)
                            : dsr_reply_problem(r, DSR_E_INTERNAL, NULL, NULL);
  json_decref(ctx);
  return ret;
}

static const struct {
  const char *done, *notice;
} staff_notes[] = {
    {"role", "The role is changed."},
    {"enabled", "The account is enabled."},
    {"disabled", "The account is disabled and its sessions ended."},
    {"sessions", "The session(s) ended."},
};

enum MHD_Result dsrd_ui_staff(struct dsr_hreq *r)
{
  const char *done = MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, "done");
  const char *notice = NULL;
  for (size_t i = 0; done && i < DSR_ARRAY_LEN(staff_notes); i++)
    if (!strcmp(done, staff_notes[i].done))
      notice = staff_notes[i].notice;
  return staff_page(r, 200, NULL, notice, NULL);
}

/* The page showing a new set-password link once (the token is wiped and freed). */
static enum MHD_Result show_link(struct dsr_hreq *r, const char *who, const char *what,
                                 char *token)
{
  char *link = link_of(r, token);
  sodium_memzero(token, strlen(token));
  free(token);
  json_t *shown = json_pack("{s:s, s:s, s:s}", "who", who, "what", what, "link", link ? link : "");
  if (link) {
    sodium_memzero(link, strlen(link));
    free(link);
  }
  return staff_page(r, 200, shown, NULL, NULL);
}

enum MHD_Result dsrd_ui_staff_invite(struct dsr_hreq *r)
{
  if (r->input_invalid)
    return staff_page(r, 400, NULL, NULL, r->input_err.detail);
  const char *email = dsr_json_str(r->json, "email");
  enum dsr_role role;
  if (!dsr_role_parse(dsr_json_str(r->json, "role"), &role))
    return staff_page(r, 400, NULL, NULL, "Choose a role.");
  struct dsr_db *db = dsr_db_acquire(r->app->pool);
  if (!db)
    return dsr_reply_problem(r, DSR_E_DB_UNAVAILABLE, NULL, NULL);
  char *token = NULL;
  enum dsr_ec ec =
      dsr_staff_invite(db, r->staff_id, email, dsr_json_str(r->json, "name"), role, &token);
  dsr_db_release(db);
  if (ec == DSR_E_CONFLICT)
    return staff_page(r, 409, NULL, NULL, "This address has an account already.");
  if (ec != DSR_OK)
    return dsr_reply_problem(r, ec, NULL, NULL);
  DSR_INFO("ui.staff_invited", "rid=%s staff=%s role=%s", r->rid, r->staff_id,
           dsr_role_name(role));
  return show_link(r, email, "invitation", token);
}

enum MHD_Result dsrd_ui_staff_change(struct dsr_hreq *r)
{
  if (r->input_invalid)
    return staff_page(r, 400, NULL, NULL, r->input_err.detail);
  const char *last = strrchr(r->path, '/');
  const char *id = r->args[0];
  bool self = !strcmp(id, r->staff_id);
  struct dsr_db *db = dsr_db_acquire(r->app->pool);
  if (!db)
    return dsr_reply_problem(r, DSR_E_DB_UNAVAILABLE, NULL, NULL);
  enum dsr_ec ec = DSR_OK;
  const char *done = "sessions", *refusal = NULL;
  char *token = NULL;
  int n = 0;
  if (!strcmp(last, "/role")) {
    enum dsr_role role = DSR_ROLE_AUDITOR;
    bool parsed = dsr_role_parse(dsr_json_str(r->json, "role"), &role);
    if (self && (!parsed || role != DSR_ROLE_ADMIN))
      refusal = "You cannot take the admin role from yourself: another admin can.";
    else
      ec = dsr_staff_set_role(db, r->staff_id, id, role);
    done = "role";
  } else if (!strcmp(last, "/status")) {
    bool on = !strcmp(dsr_json_str(r->json, "status"), "enabled");
    if (self && !on)
      refusal = "You cannot disable your own account: another admin can.";
    else
      ec = dsr_staff_set_enabled(db, r->staff_id, id, on);
    done = on ? "enabled" : "disabled";
  } else if (!strcmp(last, "/reset")) {
    ec = dsr_staff_reset(db, r->staff_id, id, &token);
    done = "reset";
  } else {
    ec = dsr_staff_end_sessions(db, r->staff_id, id, dsr_json_str(r->json, "session"), &n);
  }
  dsr_db_release(db);
  if (refusal)
    return staff_page(r, 409, NULL, NULL, refusal);
  if (ec == DSR_E_CONFLICT)
    return staff_page(r, 409, NULL, NULL, "Nothing changed: the account is so already.");
  if (ec != DSR_OK)
    return dsr_reply_problem(r, ec, NULL, NULL);
  DSR_INFO("ui.staff_changed", "rid=%s staff=%s change=%s n=%d", r->rid, r->staff_id, done, n);
  if (token)
    return show_link(r, "the account", "reset", token);
  char location[128];
  snprintf(location, sizeof location, "/ui/staff?done=%s", done);
  return dsr_reply_redirect(r, location);
}

static enum MHD_Result password_page(struct dsr_hreq *r, unsigned status, const char *email,
                                     const char *error)
{
  json_t *ctx = json_pack("{s:s, s:s}", "title", "Set your password", "token", r->args[0]);
  if (ctx && email)
    json_object_set_new(ctx, "email", json_string(email));
  if (ctx && error)
    json_object_set_new(ctx, "error", json_string(error));
  enum MHD_Result ret = ctx ? dsr_reply_html(r, status, "ui_password.html", ctx)
                            : dsr_reply_problem(r, DSR_E_INTERNAL, NULL, NULL);
  json_decref(ctx);
  return ret;
}

enum MHD_Result dsrd_ui_password_page(struct dsr_hreq *r)
{
  struct dsr_db *db = dsr_db_acquire(r->app->pool);
  if (!db)
    return dsr_reply_problem(r, DSR_E_DB_UNAVAILABLE, NULL, NULL);
  char email[256];
  enum dsr_ec ec = strlen(r->args[0]) > 100 ? DSR_E_NOT_FOUND
                                            : dsr_staff_link_check(db, r->args[0], email);
  dsr_db_release(db);
  if (ec == DSR_E_NOT_FOUND)
    return password_page(r, 410, NULL,
                         "This link does not work: it was used already, has expired, or the "
                         "account is disabled. Ask an admin for a new one.");
  if (ec != DSR_OK)
    return dsr_reply_problem(r, ec, NULL, NULL);
  return password_page(r, 200, email, NULL);
}

enum MHD_Result dsrd_ui_password_set(struct dsr_hreq *r)
{
  const char *p1 = dsr_json_str(r->json, "password"), *p2 = dsr_json_str(r->json, "password2");
  if (r->input_invalid || !p1 || !p2 || strcmp(p1, p2) != 0)
    return password_page(r, 400, NULL, "Type the same password twice.");
  struct dsr_db *db = dsr_db_acquire(r->app->pool);
  if (!db)
    return dsr_reply_problem(r, DSR_E_DB_UNAVAILABLE, NULL, NULL);
  enum dsr_ec ec = strlen(r->args[0]) > 100 ? DSR_E_NOT_FOUND
                                            : dsr_staff_link_use(db, r->args[0], p1);
  dsr_db_release(db);
  if (ec == DSR_E_FIELD_INVALID)
    return password_page(r, 400, NULL, "The password needs at least 12 characters.");
  if (ec == DSR_E_NOT_FOUND)
    return password_page(r, 410, NULL, "This link does not work any more. Ask an admin for a new one.");
  if (ec != DSR_OK)
    return dsr_reply_problem(r, ec, NULL, NULL);
  DSR_INFO("ui.password_set", "rid=%s", r->rid);
  return dsr_reply_redirect(r, "/ui/login");
}

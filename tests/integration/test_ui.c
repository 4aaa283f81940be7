/**
 * @file test_ui.c
 * @brief Staff UI accounts and sessions against a real PostgreSQL, with the
 *        clock passed in: login, per-account lockout and its end, password
 *        change ending sessions, idle and absolute session expiry, logout,
 *        and that only keyed hashes of session ids are stored.
 */
#include "config.h"
#include "suites.h"
#include "dsr/crypto.h"
#include "dsr/db.h"
#include "dsr/staff.h"
#include "dsr/staff_admin.h"
#include "dsr/ui_auth.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *pw = "a sufficiently long password";

static void init_key(void)
{
  unsigned char key[32];
  memset(key, 0x5a, sizeof key);
  dsr_crypto_init_with_key(key);
}

START_TEST(login_lockout_and_password_change)
{
  init_key();
  char *ci = it_fresh_db("ui_login");
  struct dsr_db *db = it_connect(ci);
  char id[40], id2[40];
  ck_assert_int_eq(dsr_ui_user_add(db, "lee@example.org", "Lee", DSR_ROLE_APPROVER, pw, id), DSR_OK);
  ck_assert_int_eq(dsr_ui_user_add(db, "lee@example.org", NULL, DSR_ROLE_ADMIN, pw, id2), DSR_E_CONFLICT);
  ck_assert_int_eq(dsr_ui_user_add(db, "short@example.org", NULL, DSR_ROLE_ADMIN, "short", id2),
                   DSR_E_FIELD_INVALID);
  /* The clear password is nowhere in the table. */
  ck_assert_int_eq(h_sql_long(ci, "SELECT count(*) FROM dsr_staff_users WHERE password_hash LIKE '$argon2id$%'"
                                  " AND position('sufficiently' in password_hash) = 0"), 1);

  const struct dsr_login_rules rules = {.max_failures = 3, .lockout = 600};
  time_t t = 1900000000;
  char uid[40];
  enum dsr_role role;
  long wait;
  ck_assert_int_eq(dsr_ui_login(db, &rules, "lee@example.org", pw, t, uid, &role, &wait), DSR_OK);
  ck_assert_str_eq(uid, id);
  ck_assert_int_eq(role, DSR_ROLE_APPROVER);
  ck_assert_int_eq(dsr_ui_login(db, &rules, "nobody@example.org", pw, t, uid, &role, &wait),
                   DSR_E_UNAUTHORIZED);
  /* Two failures, then a success resets the count. */
  for (int i = 0; i < 2; i++)
    ck_assert_int_eq(dsr_ui_login(db, &rules, "lee@example.org", "wrong wrong wrong", t, uid, &role, &wait),
                     DSR_E_UNAUTHORIZED);
  ck_assert_int_eq(dsr_ui_login(db, &rules, "lee@example.org", pw, t, uid, &role, &wait), DSR_OK);
  /* Three in a row lock the account, even for the right password. */
  for (int i = 0; i < 3; i++)
    ck_assert_int_eq(dsr_ui_login(db, &rules, "lee@example.org", "wrong wrong wrong", t, uid, &role, &wait),
                     DSR_E_UNAUTHORIZED);
  ck_assert_int_eq(dsr_ui_login(db, &rules, "lee@example.org", pw, t + 10, uid, &role, &wait),
                   DSR_E_RATE_LIMITED);
  ck_assert_int_eq(wait, 590);
  /* The lock ends with its time. */
  ck_assert_int_eq(dsr_ui_login(db, &rules, "lee@example.org", pw, t + 600, uid, &role, &wait), DSR_OK);

  /* A new password works at once, the old one no more, and the user's sessions end. */
  const struct dsr_session_limits l = {.idle = 1800, .absolute = 43200};
  char *tok = NULL;
  ck_assert_int_eq(dsr_ui_session_start(db, id, t, &tok), DSR_OK);
  struct dsr_session_user u;
  ck_assert_int_eq(dsr_ui_session_get(db, &l, tok, t + 1, &u), DSR_OK);
  ck_assert_int_eq(dsr_ui_user_passwd(db, "lee@example.org", "another long password"), DSR_OK);
  ck_assert_int_eq(dsr_ui_session_get(db, &l, tok, t + 2, &u), DSR_E_UNAUTHORIZED);
  ck_assert_int_eq(dsr_ui_login(db, &rules, "lee@example.org", pw, t + 700, uid, &role, &wait),
                   DSR_E_UNAUTHORIZED);
  ck_assert_int_eq(dsr_ui_login(db, &rules, "lee@example.org", "another long password", t + 700, uid,
                                &role, &wait), DSR_OK);
  ck_assert_int_eq(dsr_ui_user_passwd(db, "nobody@example.org", "another long password"),
                   DSR_E_NOT_FOUND);
  free(tok);
  it_disconnect(db);
  free(ci);
}
END_TEST

START_TEST(sessions_expire_idle_and_absolute_and_end_on_logout)
{
  init_key();
  char *ci = it_fresh_db("ui_sessions");
  struct dsr_db *db = it_connect(ci);
  char id[40];
  ck_assert_int_eq(dsr_ui_user_add(db, "kim@example.org", "Kim", DSR_ROLE_AUDITOR, pw, id), DSR_OK);
  const struct dsr_session_limits l = {.idle = 100, .absolute = 1000};
  time_t t = 1900000000;
  struct dsr_session_user u;

  /* Idle: each request restarts the idle clock. */
  char *a = NULL;
  ck_assert_int_eq(dsr_ui_session_start(db, id, t, &a), DSR_OK);
  ck_assert_uint_eq(strlen(a), 43);
  ck_assert_int_eq(dsr_ui_session_get(db, &l, a, t + 99, &u), DSR_OK);
  ck_assert_str_eq(u.user_id, id);
  ck_assert_str_eq(u.name, "Kim");
  ck_assert_int_eq(u.role, DSR_ROLE_AUDITOR);
  ck_assert_int_eq(dsr_ui_session_get(db, &l, a, t + 198, &u), DSR_OK);
  ck_assert_int_eq(dsr_ui_session_get(db, &l, a, t + 298, &u), DSR_E_UNAUTHORIZED);
  /* An expired session is deleted: going back in time does not revive it. */
  ck_assert_int_eq(dsr_ui_session_get(db, &l, a, t + 1, &u), DSR_E_UNAUTHORIZED);

  /* Absolute: busy all along, it still ends. */
  char *b = NULL;
  ck_assert_int_eq(dsr_ui_session_start(db, id, t, &b), DSR_OK);
  for (time_t now = t + 90; now < t + 1000; now += 90)
    ck_assert_int_eq(dsr_ui_session_get(db, &l, b, now, &u), DSR_OK);
  ck_assert_int_eq(dsr_ui_session_get(db, &l, b, t + 1000, &u), DSR_E_UNAUTHORIZED);

  /* Logout. */
  char *c = NULL;
  ck_assert_int_eq(dsr_ui_session_start(db, id, t, &c), DSR_OK);
  ck_assert_int_eq(dsr_ui_session_end(db, c), DSR_OK);
  ck_assert_int_eq(dsr_ui_session_get(db, &l, c, t + 1, &u), DSR_E_UNAUTHORIZED);
  ck_assert_int_eq(dsr_ui_session_get(db, &l, "not-a-session", t + 1, &u), DSR_E_UNAUTHORIZED);

  /* Only keyed hashes are stored: no stored id equals a token or its plain hash. */
  char *d = NULL;
  ck_assert_int_eq(dsr_ui_session_start(db, id, t, &d), DSR_OK);
  ck_assert_int_eq(h_sql_long(ci, "SELECT count(*) FROM dsr_ui_sessions WHERE length(id_hash) = 32"), 1);
  char sql[256];
  snprintf(sql, sizeof sql, "SELECT count(*) FROM dsr_ui_sessions WHERE id_hash = convert_to('%s', 'UTF8')"
                            " OR id_hash = sha256(convert_to('%s', 'UTF8'))", d, d);
  ck_assert_int_eq(h_sql_long(ci, sql), 0);
  free(a);
  free(b);
  free(c);
  free(d);
  it_disconnect(db);
  free(ci);
}
END_TEST

/* --- the pages over HTTP, against the shared dsrd (so also under ASan) ------------- */

/* The value of cookie @p name set by @p r into @p out (43 characters), or "". */
static void set_cookie(const struct h_resp *r, const char *name, char *out, size_t outlen)
{
  char needle[64];
  snprintf(needle, sizeof needle, "Set-Cookie: %s=", name);
  const char *p = strstr(r->headers, needle);
  out[0] = '\0';
  if (p)
    snprintf(out, outlen, "%.*s", (int)strcspn(p + strlen(needle), ";\r\n"), p + strlen(needle));
}

struct ui_client {
  char csrf[64];
  char session[64];
  char cookie[200];
};

static void ui_login(struct ui_client *c, const char *email)
{
  struct h_resp r = {0};
  h_http(&it_dsrd, "GET", "/ui/login", NULL, NULL, &r);
  ck_assert_int_eq(r.status, 200);
  set_cookie(&r, "dsr_csrf", c->csrf, sizeof c->csrf);
  ck_assert_uint_eq(strlen(c->csrf), 43);
  ck_assert_ptr_nonnull(strstr(r.body, c->csrf)); /* the hidden field carries it */
  h_resp_free(&r);
  char cookie[128], body[400];
  snprintf(cookie, sizeof cookie, "Cookie: dsr_csrf=%s", c->csrf);
  snprintf(body, sizeof body, "csrf=%s&email=%s&password=a+sufficiently+long+password", c->csrf,
           email);
  const char *h[] = {"Content-Type: application/x-www-form-urlencoded", cookie, NULL};
  h_http(&it_dsrd, "POST", "/ui/login", h, body, &r);
  ck_assert_msg(r.status == 303, "login: %ld %s", r.status, r.body);
  ck_assert_ptr_nonnull(strstr(r.headers, "Location: /ui/"));
  ck_assert_ptr_nonnull(strstr(r.headers, "; Path=/; HttpOnly; SameSite=Strict"));
  set_cookie(&r, "dsr_ui", c->session, sizeof c->session);
  ck_assert_uint_eq(strlen(c->session), 43);
  /* Signing in binds a new CSRF token to the session (issue 17, L5). */
  char before[64];
  snprintf(before, sizeof before, "%s", c->csrf);
  set_cookie(&r, "dsr_csrf", c->csrf, sizeof c->csrf);
  ck_assert_uint_eq(strlen(c->csrf), 43);
  ck_assert_str_ne(c->csrf, before);
  h_resp_free(&r);
  snprintf(c->cookie, sizeof c->cookie, "Cookie: dsr_csrf=%s; dsr_ui=%s", c->csrf, c->session);
}

static long ui_get(const struct ui_client *c, const char *path, struct h_resp *r)
{
  const char *h[] = {c->cookie, NULL};
  h_http(&it_dsrd, "GET", path, h, NULL, r);
  return r->status;
}

static long ui_post(const struct ui_client *c, const char *path, const char *form)
{
  const char *h[] = {"Content-Type: application/x-www-form-urlencoded", c->cookie, NULL};
  struct h_resp r = {0};
  h_http(&it_dsrd, "POST", path, h, form, &r);
  long st = r.status;
  h_resp_free(&r);
  return st;
}

/* The shared dsrd's database, with its key loaded here (to add users). it_disconnect() frees. */
static struct dsr_db *daemon_db(void)
{
  char key[400], err[256];
  snprintf(key, sizeof key, "%s/secret.key", it_dsrd.state_dir);
  ck_assert_msg(dsr_crypto_init(key, err, sizeof err), "%s", err);
  return it_connect(it_pg.conninfo);
}

START_TEST(pages_sessions_roles_and_csrf_over_http)
{
  struct dsr_db *db = daemon_db();
  char id[40];
  ck_assert_int_eq(dsr_ui_user_add(db, "ida@example.org", "Ida", DSR_ROLE_AUDITOR, pw, id), DSR_OK);
  ck_assert_int_eq(dsr_ui_user_add(db, "tia@example.org", "Tia", DSR_ROLE_TRIAGER, pw, id), DSR_OK);
  it_disconnect(db);

  /* A request waiting for verification. */
  struct h_resp r = {0};
  const char *jh[] = {"Content-Type: application/json", NULL};
  h_http(&it_dsrd, "POST", "/v1/requests", jh,
         "{\"type\":\"erasure\",\"subject\":{\"email\":\"ui.http@example.org\"}}", &r);
  ck_assert_int_eq(r.status, 202);
  json_t *created = h_resp_json(&r);
  char rid[40], path[128], actions[160];
  snprintf(rid, sizeof rid, "%s", json_string_value(json_object_get(created, "id")));
  json_decref(created);
  h_resp_free(&r);
  snprintf(path, sizeof path, "/ui/requests/%s", rid);
  snprintf(actions, sizeof actions, "/ui/requests/%s/actions", rid);

  /* No session: pages lead to the login page, forms answer 401. */
  h_http(&it_dsrd, "GET", "/ui/", NULL, NULL, &r);
  ck_assert_int_eq(r.status, 303);
  ck_assert_ptr_nonnull(strstr(r.headers, "Location: /ui/login"));
  h_resp_free(&r);

  /* The auditor reads, but may not act, rotate or see the (demo-only) inbox. */
  struct ui_client aud;
  ui_login(&aud, "ida%40example.org");
  ck_assert_int_eq(ui_get(&aud, "/ui/", &r), 200);
  ck_assert_ptr_nonnull(strstr(r.body, "<h1>Request queue</h1>"));
  ck_assert_ptr_nonnull(strstr(r.headers, "X-Frame-Options: DENY"));
  h_resp_free(&r);
  ck_assert_int_eq(ui_get(&aud, path, &r), 200);
  ck_assert_ptr_null(strstr(r.body, "name=\"action\""));
  ck_assert_ptr_nonnull(strstr(r.body, "pending_verification"));
  h_resp_free(&r);
  ck_assert_int_eq(ui_get(&aud, "/ui/report", &r), 200);
  h_resp_free(&r);
  /* The report view: a way back and its downloads, which the session may fetch. */
  ck_assert_int_eq(ui_get(&aud, "/ui/report/view?from=2026-03-01&to=2026-04-01", &r), 200);
  ck_assert_ptr_nonnull(strstr(r.body, "href=\"/ui/report\""));
  const char *dl = strstr(r.body, "/v1/admin/reports/compliance?from=2026-03-01T00:00:00Z"
                                  "&amp;to=2026-04-01T00:00:00Z&amp;format=csv");
  ck_assert_ptr_nonnull(dl);
  ck_assert_ptr_nonnull(strstr(r.body, "format=json\" download>JSON"));
  ck_assert_ptr_nonnull(strstr(r.body, "format=html\" download>HTML"));
  h_resp_free(&r);
  ck_assert_int_eq(ui_get(&aud, "/v1/admin/reports/compliance?from=2026-03-01T00:00:00Z"
                                "&to=2026-04-01T00:00:00Z&format=csv", &r), 200);
  ck_assert_ptr_nonnull(strstr(r.body, "section,item,field,value"));
  h_resp_free(&r);
  /* A bad date: the page says which field, and keeps what was typed in both. */
  ck_assert_int_eq(ui_get(&aud, "/ui/report/view?from=2026-03-01&to=2026-13-45", &r), 400);
  ck_assert_ptr_nonnull(strstr(r.body, "To is not a date"));
  ck_assert_ptr_nonnull(strstr(r.body, "value=\"2026-03-01\""));
  ck_assert_ptr_nonnull(strstr(r.body, "value=\"2026-13-45\""));
  h_resp_free(&r);
  ck_assert_int_eq(ui_get(&aud, "/ui/report/view?from=yesterday&to=2026-04-01", &r), 400);
  ck_assert_ptr_nonnull(strstr(r.body, "From is not a date"));
  ck_assert_ptr_nonnull(strstr(r.body, "value=\"yesterday\""));
  h_resp_free(&r);
  ck_assert_int_eq(ui_get(&aud, "/ui/inbox", &r), 404);
  h_resp_free(&r);
  ck_assert_int_eq(ui_get(&aud, "/ui/?status=bogus", &r), 400);
  h_resp_free(&r);
  char form[300];
  snprintf(form, sizeof form, "csrf=%s&action=verify&note=called+back", aud.csrf);
  ck_assert_int_eq(ui_post(&aud, actions, form), 403);
  snprintf(form, sizeof form, "csrf=%s&customer=Nobody", aud.csrf);
  ck_assert_int_eq(ui_post(&aud, "/ui/customers/rotate", form), 403);

  /* The triager verifies by hand; without the CSRF token nothing happens. */
  struct ui_client tri;
  ui_login(&tri, "tia%40example.org");
  ck_assert_int_eq(ui_get(&tri, "/ui/report", &r), 403);
  h_resp_free(&r);
  ck_assert_int_eq(ui_post(&tri, actions, "action=verify&note=called+back"), 403);
  snprintf(form, sizeof form, "csrf=%s&action=approve", tri.csrf);
  ck_assert_int_eq(ui_post(&tri, actions, form), 403);
  snprintf(form, sizeof form, "csrf=%s&action=verify&note=called+back+on+the+number+we+hold", tri.csrf);
  ck_assert_int_eq(ui_post(&tri, actions, form), 303);
  ck_assert_int_eq(ui_get(&tri, path, &r), 200);
  ck_assert_ptr_nonnull(strstr(r.body, "Verified at"));
  ck_assert_ptr_null(strstr(r.body, "ui.http@example.org")); /* masked */
  h_resp_free(&r);
  /* An action outside the role rules is refused before any handler runs. */
  snprintf(form, sizeof form, "csrf=%s&action=fly", tri.csrf);
  ck_assert_int_eq(ui_post(&tri, actions, form), 403); /* no role rule: allowed to nobody */

  /* Logout ends the session for good. */
  snprintf(form, sizeof form, "csrf=%s", tri.csrf);
  ck_assert_int_eq(ui_post(&tri, "/ui/logout", form), 303);
  ck_assert_int_eq(ui_get(&tri, "/ui/", &r), 303);
  h_resp_free(&r);
  snprintf(form, sizeof form, "csrf=%s&action=hold", tri.csrf);
  ck_assert_int_eq(ui_post(&tri, actions, form), 401);
  /* The auditor's session is untouched. */
  ck_assert_int_eq(ui_get(&aud, "/ui/customers", &r), 200);
  h_resp_free(&r);
}
END_TEST

/* One JSON call to the admin API with @p c's cookies, @p csrf header (or none) and bearer. */
static long api_call(const struct ui_client *c, const char *method, const char *path,
                     const char *csrf, const char *bearer, const char *body, json_t **out)
{
  char ch[100], auth[200];
  snprintf(ch, sizeof ch, "X-CSRF-Token: %s", csrf ? csrf : "");
  snprintf(auth, sizeof auth, "Authorization: Bearer %s", bearer ? bearer : "");
  const char *extra[] = {c ? c->cookie : NULL, csrf ? ch : NULL, bearer ? auth : NULL};
  return h_json_call(&it_dsrd, method, path, extra, 3, body, out);
}

static const char *code_of(json_t *j)
{
  return json_string_value(json_object_get(j, "code"));
}

/* The admin JSON API takes the UI session cookie; unsafe methods then need the CSRF header. */
START_TEST(admin_api_takes_the_ui_session_with_csrf)
{
  struct dsr_db *db = daemon_db();
  char id[40];
  ck_assert_int_eq(dsr_ui_user_add(db, "api.tom@example.org", "ApiTom", DSR_ROLE_TRIAGER, pw, id),
                   DSR_OK);
  ck_assert_int_eq(dsr_ui_user_add(db, "api.ann@example.org", "ApiAnn", DSR_ROLE_AUDITOR, pw, id),
                   DSR_OK);
  char *token = NULL;
  ck_assert_int_eq(dsr_staff_token_create(db, "operator:test", "api-triager", DSR_ROLE_TRIAGER,
                                          &token, id),
                   DSR_OK);
  it_disconnect(db);

  json_t *j = NULL;
  ck_assert_int_eq(api_call(NULL, "POST", "/v1/requests", NULL, NULL,
                            "{\"type\":\"erasure\",\"subject\":{\"email\":"
                            "\"api.cookie@example.org\"}}", &j), 202);
  char rid[40], path[128], actions[160];
  snprintf(rid, sizeof rid, "%s", json_string_value(json_object_get(j, "id")));
  json_decref(j);
  snprintf(path, sizeof path, "/v1/admin/requests/%s", rid);
  snprintf(actions, sizeof actions, "/v1/admin/requests/%s/actions", rid);
  const char *verify = "{\"action\":\"verify\",\"note\":\"called back\"}";

  /* Neither token nor session: 401, and the message names both ways in. */
  ck_assert_int_eq(api_call(NULL, "GET", "/v1/admin/requests", NULL, NULL, NULL, &j), 401);
  ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(j, "detail")), "staff UI"));
  json_decref(j);

  struct ui_client tom, ann;
  ui_login(&tom, "api.tom%40example.org");
  ui_login(&ann, "api.ann%40example.org");
  /* Reads with the cookie alone. */
  ck_assert_int_eq(api_call(&tom, "GET", "/v1/admin/requests", NULL, NULL, NULL, NULL), 200);
  ck_assert_int_eq(api_call(&tom, "GET", path, NULL, NULL, NULL, &j), 200);
  ck_assert_str_eq(json_string_value(json_object_get(j, "status")), "pending_verification");
  json_decref(j);
  /* A POST by cookie without the CSRF header, or with another token, changes nothing: 403. */
  ck_assert_int_eq(api_call(&tom, "POST", actions, NULL, NULL, verify, &j), 403);
  ck_assert_str_eq(code_of(j), "csrf_failed");
  json_decref(j);
  ck_assert_int_eq(api_call(&tom, "POST", actions, ann.csrf, NULL, verify, &j), 403);
  ck_assert_str_eq(code_of(j), "csrf_failed");
  json_decref(j);
  ck_assert_int_eq(api_call(&tom, "POST", actions, "short", NULL, verify, NULL), 403);
  ck_assert_int_eq(api_call(&tom, "GET", path, NULL, NULL, NULL, &j), 200);
  ck_assert_str_eq(json_string_value(json_object_get(j, "status")), "pending_verification");
  json_decref(j);
  /* The role rules apply to a session as to a token: an auditor may not act, even with CSRF. */
  ck_assert_int_eq(api_call(&ann, "POST", actions, ann.csrf, NULL, verify, &j), 403);
  ck_assert_str_eq(code_of(j), "forbidden");
  json_decref(j);
  /* With the header the triager verifies; the timeline names the session's user. */
  ck_assert_int_eq(api_call(&tom, "POST", actions, tom.csrf, NULL, verify, &j), 200);
  ck_assert_str_eq(json_string_value(json_object_get(j, "status")), "verified");
  json_decref(j);
  char sql[300];
  snprintf(sql, sizeof sql,
           "SELECT count(*) FROM dsr_events e JOIN dsr_staff_users u ON e.actor = 'staff:' || u.id"
           " WHERE e.request_id = '%s' AND e.kind = 'verification.manual' AND u.display_name = 'ApiTom'", rid);
  ck_assert_int_eq(h_sql_long(it_pg.conninfo, sql), 1);
  /* A bearer token wins over a cookie and needs no CSRF header (browsers never add it). */
  ck_assert_int_eq(api_call(&ann, "POST", actions, NULL, token, "{\"action\":\"hold\"}", &j),
                   200);
  json_decref(j);
  /* A forged or ended session is 401, not a redirect. */
  struct ui_client forged = tom;
  snprintf(forged.cookie, sizeof forged.cookie, "Cookie: dsr_csrf=%s; dsr_ui=%s", tom.csrf,
           "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
  ck_assert_int_eq(api_call(&forged, "GET", "/v1/admin/requests", NULL, NULL, NULL, &j), 401);
  ck_assert_str_eq(code_of(j), "unauthorized");
  json_decref(j);
  char form[100];
  snprintf(form, sizeof form, "csrf=%s", tom.csrf);
  ck_assert_int_eq(ui_post(&tom, "/ui/logout", form), 303);
  ck_assert_int_eq(api_call(&tom, "GET", "/v1/admin/requests", NULL, NULL, NULL, NULL), 401);
  free(token);
}
END_TEST

/* Makes every insert of an event of kind @p kind fail (NULL: none does): a crash between
 * a change and its audit entry, as the database sees it. */
static void events_fail(const char *kind)
{
  char sql[600];
  if (!kind) {
    PQclear(h_sql(it_pg.conninfo, "DROP TRIGGER it_events_fail ON dsr_events"));
    return;
  }
  snprintf(sql, sizeof sql,
           "CREATE OR REPLACE FUNCTION it_events_fail() RETURNS trigger LANGUAGE plpgsql AS"
           " $$BEGIN IF NEW.kind = '%s' THEN RAISE EXCEPTION 'audit down'; END IF;"
           " RETURN NEW; END$$", kind);
  PQclear(h_sql(it_pg.conninfo, sql));
  PQclear(h_sql(it_pg.conninfo, "CREATE OR REPLACE TRIGGER it_events_fail BEFORE INSERT ON"
                                " dsr_events FOR EACH ROW EXECUTE FUNCTION it_events_fail()"));
}

/* A customer added or rotated, a password set from a link: the change and its audit entry
 * commit together, so a failure between them leaves neither. */
START_TEST(admin_changes_and_their_audit_entries_commit_together)
{
  struct dsr_db *db = daemon_db();
  char admin_id[40];
  ck_assert_int_eq(dsr_ui_user_add(db, "ada.tx@example.org", "Ada", DSR_ROLE_ADMIN, pw, admin_id),
                   DSR_OK);
  struct ui_client adm;
  ui_login(&adm, "ada.tx%40example.org");
  char form[400];
  snprintf(form, sizeof form, "csrf=%s&name=Atomic+Calls&tenant=ws-atomic&webhook_url="
                              "https%%3A%%2F%%2Fhooks.example.org%%2Fdsr", adm.csrf);
  events_fail("customer.added");
  ck_assert_int_ge(ui_post(&adm, "/ui/customers/add", form), 500);
  ck_assert_int_eq(h_sql_long(it_pg.conninfo, "SELECT count(*) FROM dsr_customers WHERE name ="
                                              " 'Atomic Calls'"), 0);
  events_fail(NULL);
  ck_assert_int_eq(ui_post(&adm, "/ui/customers/add", form), 200);
  char sql[400];
  snprintf(sql, sizeof sql, "SELECT count(*) FROM dsr_customers c JOIN dsr_events e ON"
                            " e.data->>'customer_id' = c.id::text WHERE c.name = 'Atomic Calls'"
                            " AND e.kind = 'customer.added' AND e.actor = 'staff:%s'", admin_id);
  ck_assert_int_eq(h_sql_long(it_pg.conninfo, sql), 1);

  /* A rotation whose event cannot be written leaves the old key and secret in place. */
  const char *keys = "SELECT count(*) FROM dsr_customers WHERE name = 'Atomic Calls' AND"
                     " api_key_hash = (SELECT api_key_hash FROM it_keep)";
  PQclear(h_sql(it_pg.conninfo, "CREATE TABLE it_keep AS SELECT api_key_hash, secret_sealed FROM"
                                " dsr_customers WHERE name = 'Atomic Calls'"));
  snprintf(form, sizeof form, "csrf=%s&customer=Atomic+Calls&what=key", adm.csrf);
  events_fail("customer.key_rotated");
  ck_assert_int_ge(ui_post(&adm, "/ui/customers/rotate", form), 500);
  ck_assert_int_eq(h_sql_long(it_pg.conninfo, keys), 1);
  snprintf(form, sizeof form, "csrf=%s&customer=Atomic+Calls&what=secret", adm.csrf);
  events_fail("customer.secret_rotated");
  ck_assert_int_ge(ui_post(&adm, "/ui/customers/rotate", form), 500);
  ck_assert_int_eq(h_sql_long(it_pg.conninfo,
                              "SELECT count(*) FROM dsr_customers WHERE name = 'Atomic Calls' AND"
                              " secret_sealed = (SELECT secret_sealed FROM it_keep)"
                              " AND prev_secret_sealed IS NULL"), 1);
  events_fail(NULL);
  ck_assert_int_eq(ui_post(&adm, "/ui/customers/rotate", form), 200);
  snprintf(form, sizeof form, "csrf=%s&customer=Atomic+Calls&what=key", adm.csrf);
  ck_assert_int_eq(ui_post(&adm, "/ui/customers/rotate", form), 200);
  ck_assert_int_eq(h_sql_long(it_pg.conninfo, keys), 0);
  PQclear(h_sql(it_pg.conninfo, "DROP TABLE it_keep"));
  snprintf(sql, sizeof sql, "SELECT count(*) FROM dsr_events WHERE kind IN"
                            " ('customer.key_rotated', 'customer.secret_rotated') AND actor ="
                            " 'staff:%s'", admin_id);
  ck_assert_int_eq(h_sql_long(it_pg.conninfo, sql), 2);

  /* A set-password link: used, password set and recorded, or none of it. */
  char *token = NULL;
  ck_assert_int_eq(dsr_staff_invite(db, admin_id, "new.tx@example.org", "Nia", DSR_ROLE_TRIAGER,
                                    &token),
                   DSR_OK);
  events_fail("staff.password_set");
  ck_assert_int_ne(dsr_staff_link_use(db, token, pw), DSR_OK);
  char email[256];
  ck_assert_int_eq(dsr_staff_link_check(db, token, email), DSR_OK); /* still unused */
  ck_assert_int_eq(h_sql_long(it_pg.conninfo, "SELECT count(*) FROM dsr_staff_users WHERE email ="
                                              " 'new.tx@example.org' AND password_hash IS NULL"),
                   1);
  events_fail(NULL);
  ck_assert_int_eq(dsr_staff_link_use(db, token, pw), DSR_OK);
  ck_assert_int_eq(dsr_staff_link_check(db, token, email), DSR_E_NOT_FOUND);
  ck_assert_int_eq(h_sql_long(it_pg.conninfo, "SELECT count(*) FROM dsr_events e JOIN"
                                              " dsr_staff_users u ON e.data->>'staff_id' ="
                                              " u.id::text WHERE e.kind = 'staff.password_set'"
                                              " AND u.email = 'new.tx@example.org'"),
                   1);
  free(token);
  it_disconnect(db);
}
END_TEST

Suite *suite_ui(void)
{
  Suite *s = suite_create("ui");
  TCase *tc = tcase_create("accounts");
  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, login_lockout_and_password_change);
  tcase_add_test(tc, sessions_expire_idle_and_absolute_and_end_on_logout);
  tcase_add_test(tc, pages_sessions_roles_and_csrf_over_http);
  tcase_add_test(tc, admin_api_takes_the_ui_session_with_csrf);
  tcase_add_test(tc, admin_changes_and_their_audit_entries_commit_together);
  suite_add_tcase(s, tc);
  return s;
}

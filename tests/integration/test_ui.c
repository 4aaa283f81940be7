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
#include "dsr/ui_auth.h"

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

Suite *suite_ui(void)
{
  Suite *s = suite_create("ui");
  TCase *tc = tcase_create("accounts");
  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, login_lockout_and_password_change);
  tcase_add_test(tc, sessions_expire_idle_and_absolute_and_end_on_logout);
  suite_add_tcase(s, tc);
  return s;
}

/** @file test_ui.c @brief Staff UI: password hash cost, session expiry, CSRF, the role matrix, the inbox parser. */
#include "config.h"
#include "suites.h"
#include "httpd.h"
#include "forms.h"
#include "dsr/ui_auth.h"
#include "dsr/ui_inbox.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

START_TEST(password_hash_is_argon2id_with_enough_cost)
{
  /* The floor the issue sets: m >= 19 MiB, t >= 2. */
  ck_assert(DSR_PWHASH_MEMLIMIT >= 19ULL * 1024 * 1024);
  ck_assert(DSR_PWHASH_OPSLIMIT >= 2);
  char h[crypto_pwhash_STRBYTES];
  ck_assert(dsr_password_hash("correct horse battery", h, sizeof h));
  ck_assert_msg(!strncmp(h, "$argon2id$v=19$", 15), "%s", h);
  /* The parameters encoded in the string itself. */
  unsigned long m = 0, t = 0, p = 0;
  ck_assert_int_eq(sscanf(h + 15, "m=%lu,t=%lu,p=%lu", &m, &t, &p), 3);
  ck_assert_uint_ge(m * 1024, 19UL * 1024 * 1024);
  ck_assert_uint_ge(t, 2);
  ck_assert_int_eq(crypto_pwhash_str_needs_rehash(h, DSR_PWHASH_OPSLIMIT,
                                                  (size_t)DSR_PWHASH_MEMLIMIT), 0);
  ck_assert(dsr_password_verify(h, "correct horse battery"));
  ck_assert(!dsr_password_verify(h, "correct horse batterY"));
  ck_assert(!dsr_password_verify("$argon2i$v=19$garbage", "correct horse battery"));
  ck_assert(!dsr_password_verify(NULL, "x"));
  /* Salted: the same password hashes differently. */
  char h2[crypto_pwhash_STRBYTES];
  ck_assert(dsr_password_hash("correct horse battery", h2, sizeof h2));
  ck_assert_str_ne(h, h2);
  /* Too short is refused before hashing. */
  ck_assert(!dsr_password_hash("short", h2, sizeof h2));
}
END_TEST

START_TEST(session_idle_and_absolute_expiry)
{
  const struct dsr_session_limits l = {.idle = 1800, .absolute = 43200};
  time_t t0 = 1800000000;
  ck_assert(dsr_session_alive(&l, t0, t0, t0));
  ck_assert(dsr_session_alive(&l, t0, t0, t0 + 1799));
  ck_assert(!dsr_session_alive(&l, t0, t0, t0 + 1800)); /* idle */
  /* Kept busy, it still ends at the absolute limit. */
  ck_assert(dsr_session_alive(&l, t0, t0 + 43000, t0 + 43199));
  ck_assert(!dsr_session_alive(&l, t0, t0 + 43199, t0 + 43200));
  /* A clock before the session's start is not trusted. */
  ck_assert(!dsr_session_alive(&l, t0, t0, t0 - 1));
}
END_TEST

START_TEST(csrf_tokens_must_match_and_be_well_formed)
{
  const char *a = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
  const char *b = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB";
  ck_assert_uint_eq(strlen(a), 43);
  ck_assert(dsr_csrf_match(a, a));
  ck_assert(!dsr_csrf_match(a, b));
  ck_assert(!dsr_csrf_match(a, NULL));
  ck_assert(!dsr_csrf_match(NULL, a));
  ck_assert(!dsr_csrf_match(NULL, NULL));
  ck_assert(!dsr_csrf_match("forged", "forged"));
  ck_assert(!dsr_csrf_match("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="));
}
END_TEST

#define A DSR_ROLE_ADMIN
#define T DSR_ROLE_TRIAGER
#define P DSR_ROLE_APPROVER
#define U DSR_ROLE_AUDITOR

/* The expected matrix: every staff UI route and, for the action form, every action. */
static const struct {
  const char *method, *path, *value;
  unsigned allowed;
} matrix[] = {
    {"GET", "/ui/", NULL, A | T | P | U},
    {"GET", "/ui/requests/x", NULL, A | T | P | U},
    {"GET", "/ui/requests/x/plan", NULL, A | T | P | U},
    {"GET", "/ui/customers", NULL, A | T | P | U},
    {"GET", "/ui/inbox", NULL, A | T | P | U},
    {"GET", "/ui/report", NULL, A | U},
    {"GET", "/ui/report/view", NULL, A | U},
    {"POST", "/ui/logout", NULL, A | T | P | U},
    {"POST", "/ui/customers/rotate", NULL, A},
    {"POST", "/ui/requests/x/actions", "verify", A | T},
    {"POST", "/ui/requests/x/actions", "assign", A | T},
    {"POST", "/ui/requests/x/actions", "hold", A | T},
    {"POST", "/ui/requests/x/actions", "release", A | T},
    {"POST", "/ui/requests/x/actions", "approve", A | P},
    {"POST", "/ui/requests/x/actions", "deny", A | P},
    {"POST", "/ui/requests/x/actions", "extend", A | P},
    {"POST", "/ui/requests/x/actions", "delete_everything", 0},
    {"POST", "/ui/requests/x/actions", NULL, 0},
};

START_TEST(role_matrix_of_every_ui_route)
{
  const enum dsr_role roles[] = {A, T, P, U};
  for (size_t i = 0; i < sizeof matrix / sizeof matrix[0]; i++) {
    const char *args[DSR_MAX_PATH_ARGS];
    char argbuf[256];
    bool known;
    const struct dsr_route *rt =
        dsr_route_match(matrix[i].method, matrix[i].path, args, argbuf, sizeof argbuf, &known);
    ck_assert_msg(rt != NULL, "%s %s", matrix[i].method, matrix[i].path);
    ck_assert_msg(rt->auth == DSR_AUTH_UI, "%s needs a session", matrix[i].path);
    ck_assert_msg(rt->html, "%s answers errors as pages", matrix[i].path);
    for (size_t k = 0; k < 4; k++) {
      bool want = (matrix[i].allowed & (unsigned)roles[k]) != 0;
      ck_assert_msg(dsr_role_allowed(rt, roles[k], matrix[i].value) == want,
                    "%s %s %s as %s: want %d", matrix[i].method, matrix[i].path,
                    matrix[i].value ? matrix[i].value : "-", dsr_role_name(roles[k]), want);
    }
  }
  /* Every /ui/ route is in the matrix, or is one of the public sign-in routes. */
  for (const struct dsr_route *rt = dsr_routes; rt->method; rt++) {
    if (strncmp(rt->pattern, "/ui", 3) != 0)
      continue;
    bool public_route = !strcmp(rt->pattern, "/ui/login") || !strcmp(rt->pattern, "/ui");
    if (public_route) {
      ck_assert(rt->auth == DSR_AUTH_NONE);
      ck_assert(strcmp(rt->method, "POST") != 0 || rt->form != NULL); /* CSRF-checked */
      continue;
    }
    ck_assert_msg(rt->auth == DSR_AUTH_UI, "%s %s", rt->method, rt->pattern);
    ck_assert_msg(strcmp(rt->method, "POST") != 0 || rt->form != NULL,
                  "POST %s must be a CSRF-checked form", rt->pattern);
    bool listed = false;
    for (size_t i = 0; i < sizeof matrix / sizeof matrix[0]; i++) {
      const char *args[DSR_MAX_PATH_ARGS];
      char argbuf[256];
      bool known;
      listed = listed || dsr_route_match(matrix[i].method, matrix[i].path, args, argbuf,
                                         sizeof argbuf, &known) == rt;
    }
    ck_assert_msg(listed, "%s %s is missing from the role matrix", rt->method, rt->pattern);
  }
}
END_TEST

START_TEST(mail_parse_reads_what_the_maildir_transport_writes)
{
  /* "Your code" / "Code: 123456\n" in base64, as dsr_mail_compose() writes them. */
  const char *raw = "From: privacy@localhost\r\nTo: ana@example.com\r\n"
                    "Subject: =?UTF-8?B?WW91ciBjb2Rl?=\r\nDate: Sun, 22 Nov 2026 10:00:00 +0000\r\n"
                    "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
                    "Content-Transfer-Encoding: base64\r\n\r\nQ29kZTogMTIzNDU2Cg==\r\n";
  json_t *m = NULL;
  ck_assert(dsr_mail_parse(raw, &m));
  ck_assert_str_eq(json_string_value(json_object_get(m, "to")), "ana@example.com");
  ck_assert_str_eq(json_string_value(json_object_get(m, "subject")), "Your code");
  ck_assert_str_eq(json_string_value(json_object_get(m, "text")), "Code: 123456\n");
  json_decref(m);
  m = NULL;
  ck_assert(!dsr_mail_parse("To: x@example.com\r\n\r\nplain", &m));
  ck_assert_ptr_null(m);
  json_t *none = dsr_maildir_list("/nonexistent/dsrd-test-maildir", 10);
  ck_assert_ptr_nonnull(none);
  ck_assert_uint_eq(json_array_size(none), 0);
  json_decref(none);
}
END_TEST

Suite *suite_ui(void)
{
  Suite *s = suite_create("ui");
  TCase *tc = tcase_create("ui");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, password_hash_is_argon2id_with_enough_cost);
  tcase_add_test(tc, session_idle_and_absolute_expiry);
  tcase_add_test(tc, csrf_tokens_must_match_and_be_well_formed);
  tcase_add_test(tc, role_matrix_of_every_ui_route);
  tcase_add_test(tc, mail_parse_reads_what_the_maildir_transport_writes);
  suite_add_tcase(s, tc);
  return s;
}

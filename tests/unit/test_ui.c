/**
 * @file test_ui.c
 * @brief Staff UI: password hash cost, session expiry, CSRF, the role matrix, the inbox
 *        parser, the queue's search text, the timeline in words, local return paths.
 */
#include "config.h"
#include "suites.h"
#include "httpd.h"
#include "forms.h"
#include "dsr/admin.h"
#include "dsr/crypto.h"
#include "dsr/ui_auth.h"
#include "dsr/ui_inbox.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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
    {"GET", "/ui/queue.csv", NULL, A | T | P | U},
    {"POST", "/ui/bulk", "assign", A | T},
    {"POST", "/ui/bulk", "approve", A | P},
    {"POST", "/ui/bulk", "deny", A | P},
    {"POST", "/ui/bulk", "extend", 0},
    {"POST", "/ui/requests/x/notes", NULL, A | T | P},
    {"POST", "/ui/customers/add", NULL, A},
    {"GET", "/ui/customers/x", NULL, A | T | P | U},
    {"POST", "/ui/customers/x/endpoint", NULL, A},
    {"POST", "/ui/customers/x/status", NULL, A},
    {"POST", "/ui/customers/x/replay", NULL, A},
    {"GET", "/ui/staff", NULL, A},
    {"POST", "/ui/staff/invite", NULL, A},
    {"POST", "/ui/staff/x/role", NULL, A},
    {"POST", "/ui/staff/x/status", NULL, A},
    {"POST", "/ui/staff/x/reset", NULL, A},
    {"POST", "/ui/staff/x/sessions", NULL, A},
};

START_TEST(role_matrix_of_every_ui_route)
{
  const enum dsr_role roles[] = {A, T, P, U};
  for (size_t i = 0; i < sizeof matrix / sizeof matrix[0]; i++) {
    const char *args[DSR_MAX_PATH_ARGS];
    char argbuf[256];
    bool known;
    const struct dsr_route *rt =
        dsr_route_match(dsr_routes, matrix[i].method, matrix[i].path, args, argbuf,
                        sizeof argbuf, &known);
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
    bool public_route = !strcmp(rt->pattern, "/ui/login") || !strcmp(rt->pattern, "/ui") ||
                        !strcmp(rt->pattern, "/ui/password/{token}");
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
      listed = listed || dsr_route_match(dsr_routes, matrix[i].method, matrix[i].path, args,
                                         argbuf, sizeof argbuf, &known) == rt;
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

/* The keyed hash intake stores for @p kind and normalised @p value. */
static void lookup_hash(const char *kind, const char *value, unsigned char h[DSR_HASH_BYTES])
{
  char in[128];
  snprintf(in, sizeof in, "%s:%s", kind, value);
  dsr_keyed_hash(DSR_KEY_IDENTITY, in, strlen(in), h);
}

START_TEST(queue_search_reads_ids_emails_and_phones)
{
  char dir[] = "/tmp/dsr-key-XXXXXX", path[64], err[256];
  ck_assert_ptr_nonnull(mkdtemp(dir));
  snprintf(path, sizeof path, "%s/secret.key", dir);
  ck_assert_msg(dsr_crypto_init(path, err, sizeof err), "%s", err);
  char prefix[40];
  unsigned char h[DSR_HASH_BYTES], want[DSR_HASH_BYTES];
  ck_assert_int_eq(dsr_queue_search_parse("", prefix, h), DSR_QS_NONE);
  ck_assert_int_eq(dsr_queue_search_parse("7E32F24-2278", prefix, h), DSR_QS_ID);
  ck_assert_str_eq(prefix, "7e32f24-2278");
  ck_assert_int_eq(dsr_queue_search_parse("abc", prefix, h), DSR_QS_INVALID); /* too short */
  ck_assert_int_eq(dsr_queue_search_parse("Sam.UI@Example.org", prefix, h), DSR_QS_IDENTITY);
  lookup_hash("email", "sam.ui@example.org", want);
  ck_assert_mem_eq(h, want, DSR_HASH_BYTES);
  lookup_hash("phone", "+442079460999", want);
  ck_assert_int_eq(dsr_queue_search_parse("+44 20 7946 0999", prefix, h), DSR_QS_IDENTITY);
  ck_assert_mem_eq(h, want, DSR_HASH_BYTES);
  ck_assert_int_eq(dsr_queue_search_parse("0044-20-7946-0999", prefix, h), DSR_QS_IDENTITY);
  ck_assert_mem_eq(h, want, DSR_HASH_BYTES);
  ck_assert_int_eq(dsr_queue_search_parse("hello", prefix, h), DSR_QS_INVALID);
  ck_assert_int_eq(dsr_queue_search_parse("020 7946 0999", prefix, h), DSR_QS_INVALID);
  unlink(path);
  rmdir(dir);
}
END_TEST

static char *words(const char *json, const char *type)
{
  json_t *ev = json_loads(json, 0, NULL);
  json_t *names = json_pack("{s:s, s:s}", "staff:5cef", "Dana", "customer:c1", "Acme Calls");
  char *s = dsr_timeline_sentence(ev, type, names);
  json_decref(ev);
  json_decref(names);
  return s;
}

START_TEST(timeline_in_words_with_names)
{
  const struct {
    const char *event, *want;
  } cases[] = {
      {"{\"kind\": \"part.approved\", \"actor\": \"staff:5cef\", \"data\": {}}",
       "Dana approved the erasure"},
      {"{\"kind\": \"webhook.delivered\", \"actor\": \"system\", \"data\": {\"event\":"
       " \"dsr.forwarded\", \"customer_id\": \"c1\", \"attempts\": 2}}",
       "Webhook dsr.forwarded to Acme Calls delivered after 2 attempt(s)"},
      {"{\"kind\": \"request.assigned\", \"actor\": \"staff:5cef\", \"data\":"
       " {\"staff_id\": \"0000\"}}",
       "Dana assigned the request to A staff member"},
      {"{\"kind\": \"part.decided\", \"actor\": \"customer:c1\", \"data\":"
       " {\"decision\": \"handled\"}}",
       "Acme Calls answered its part: handled"},
      {"{\"kind\": \"request.denied\", \"actor\": \"staff:5cef\", \"data\": {}}",
       "Dana denied the request (?)"},
      {"{\"kind\": \"brand.new\", \"actor\": \"subject\", \"data\": {}}",
       "brand.new (The subject)"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    char *s = words(cases[i].event, "erasure");
    ck_assert_ptr_nonnull(s);
    ck_assert_str_eq(s, cases[i].want);
    ck_assert(strstr(s, "5cef") == NULL); /* never the id */
    free(s);
  }
}
END_TEST

START_TEST(return_paths_stay_in_the_staff_ui)
{
  const char *why;
  ck_assert(dsrd_ui_local_path("/ui/requests/7e32?done=note", &why));
  ck_assert(dsrd_ui_local_path("/ui/?q=a%40b.org&sort=due", &why));
  ck_assert(!dsrd_ui_local_path("//evil.example/ui/", &why));
  ck_assert(!dsrd_ui_local_path("/ui//evil.example", &why));
  ck_assert(!dsrd_ui_local_path("https://evil.example/ui/", &why));
  ck_assert(!dsrd_ui_local_path("/requests/new", &why));
  ck_assert(!dsrd_ui_local_path("/ui/\"onmouseover=x", &why));
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
  tcase_add_test(tc, queue_search_reads_ids_emails_and_phones);
  tcase_add_test(tc, timeline_in_words_with_names);
  tcase_add_test(tc, return_paths_stay_in_the_staff_ui);
  suite_add_tcase(s, tc);
  return s;
}

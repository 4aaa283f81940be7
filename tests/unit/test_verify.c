/**
 * @file test_verify.c
 * @brief Verification building blocks without a database: policy rules,
 *        intervals, account assertions, token buckets, form decoding and
 *        mail composition.
 */
#include <check.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "dsr/crypto.h"
#include "dsr/ratelimit.h"
#include "dsr/transport.h"
#include "dsr/verify.h"
#include "forms.h"

static struct dsr_policy *policy_from(const char *text)
{
  char path[] = "/tmp/dsr-policy-XXXXXX";
  int fd = mkstemp(path);
  ck_assert(fd >= 0);
  ck_assert(write(fd, text, strlen(text)) == (ssize_t)strlen(text));
  close(fd);
  char err[256];
  struct dsr_policy *p = dsr_policy_load(path, err, sizeof err);
  unlink(path);
  ck_assert_msg(p != NULL, "%s", err);
  return p;
}

START_TEST(rules_first_match_and_defaults)
{
  unsigned m[DSR_MAX_ALTERNATIVES];
  size_t n = dsr_verify_requirements(NULL, "erasure", "gdpr", m);
  ck_assert_uint_eq(n, 3);
  ck_assert(dsr_verify_satisfied(m, n, DSR_CH_SMS));
  ck_assert(!dsr_verify_satisfied(m, n, 0));
  struct dsr_policy *p = policy_from(
      "{\"verification\":{\"max_attempts\":3,\"code_ttl\":\"5 minutes\",\"rules\":["
      "{\"types\":[\"access\",\"portability\"],\"jurisdictions\":[\"*\"],"
      "\"require\":[[\"email\",\"sms\"]]},"
      "{\"types\":[\"*\"],\"jurisdictions\":[\"ccpa\"],\"require\":[[\"account\"]]},"
      "{\"types\":[\"*\"],\"jurisdictions\":[\"*\"],\"require\":[[\"email\"],[\"sms\"]]}]},"
      "\"jurisdictions\":{\"quebec\":{\"name\":\"Quebec Law 25\",\"deadline\":\"30 days\","
      "\"rights\":[\"access\",\"erasure\"],\"duplicate_window\":\"10 days\"},"
      "\"ccpa\":{\"name\":\"CCPA\",\"deadline\":\"45 days\",\"rights\":[\"access\",\"erasure\"]}}}");
  n = dsr_verify_requirements(p, "access", "gdpr", m);
  ck_assert_uint_eq(n, 1);
  ck_assert(!dsr_verify_satisfied(m, n, DSR_CH_EMAIL));
  ck_assert(dsr_verify_satisfied(m, n, DSR_CH_EMAIL | DSR_CH_SMS));
  ck_assert(dsr_verify_satisfied(m, n, DSR_CH_MANUAL)); /* staff always suffices */
  n = dsr_verify_requirements(p, "erasure", "ccpa", m);
  ck_assert(dsr_verify_satisfied(m, n, DSR_CH_ACCOUNT));
  ck_assert(!dsr_verify_satisfied(m, n, DSR_CH_EMAIL));
  n = dsr_verify_requirements(p, "erasure", "gdpr", m);
  ck_assert(dsr_verify_satisfied(m, n, DSR_CH_EMAIL));
  struct dsr_verify_settings s;
  dsr_verify_settings_get(p, &s);
  ck_assert_int_eq(s.max_attempts, 3);
  ck_assert_str_eq(s.code_ttl, "5 minutes");
  ck_assert_str_eq(s.request_expiry, "7 days");
  struct dsr_jur_view j;
  ck_assert(dsr_jur_view_get(p, "quebec", &j));
  ck_assert_str_eq(j.deadline, "30 days");
  ck_assert_str_eq(j.duplicate_window, "10 days");
  ck_assert(dsr_jur_offers(&j, "erasure"));
  ck_assert(!dsr_jur_offers(&j, "opt_out"));
  ck_assert(!dsr_jur_view_get(p, "gdpr", &j)); /* the policy's table replaces the built-in */
  ck_assert(dsr_jur_view_get(NULL, "gdpr", &j));
  ck_assert_str_eq(j.deadline, "1 month");
  dsr_policy_free(p);
}
END_TEST

/* verification.before_verification: the default, a list, "deny_unverifiable" and "*". */
START_TEST(staff_actions_before_verification)
{
  static const char *const dflt[] = {"verify", "withdraw", "assign"};
  for (size_t i = 0; i < sizeof dflt / sizeof *dflt; i++)
    ck_assert_msg(dsr_verify_allows_before(NULL, dflt[i], NULL), "%s", dflt[i]);
  ck_assert(!dsr_verify_allows_before(NULL, "extend", NULL));
  ck_assert(!dsr_verify_allows_before(NULL, "hold", NULL));
  ck_assert(!dsr_verify_allows_before(NULL, "approve", NULL));
  ck_assert(!dsr_verify_allows_before(NULL, "deny", "excessive"));
  ck_assert(!dsr_verify_allows_before(NULL, "deny", NULL));
  ck_assert(dsr_verify_allows_before(NULL, "deny", "identity_not_verified"));
  ck_assert(!dsr_verify_allows_before(NULL, NULL, NULL));
  struct dsr_policy *p =
      policy_from("{\"verification\":{\"before_verification\":[\"extend\",\"deny\"]}}");
  ck_assert(dsr_verify_allows_before(p, "extend", NULL));
  ck_assert(dsr_verify_allows_before(p, "deny", "excessive"));
  ck_assert(!dsr_verify_allows_before(p, "verify", NULL));
  ck_assert(!dsr_verify_allows_before(p, "assign", NULL));
  ck_assert(!dsr_verify_allows_before(p, "withdraw", NULL));
  dsr_policy_free(p);
  p = policy_from("{\"verification\":{\"before_verification\":[]}}");
  ck_assert(!dsr_verify_allows_before(p, "verify", NULL)); /* an empty list: nothing */
  ck_assert(!dsr_verify_allows_before(p, "deny", "identity_not_verified"));
  dsr_policy_free(p);
  p = policy_from("{\"verification\":{\"before_verification\":[\"*\"]}}");
  ck_assert(dsr_verify_allows_before(p, "hold", NULL));
  ck_assert(dsr_verify_allows_before(p, "deny", "excessive"));
  dsr_policy_free(p);
}
END_TEST

START_TEST(intervals)
{
  ck_assert_int_eq(dsr_interval_seconds("10 minutes"), 600);
  ck_assert_int_eq(dsr_interval_seconds("60 seconds"), 60);
  ck_assert_int_eq(dsr_interval_seconds("1 hour"), 3600);
  ck_assert_int_eq(dsr_interval_seconds("7 days"), 604800);
  ck_assert_int_eq(dsr_interval_seconds("1 month"), -1);
  ck_assert_int_eq(dsr_interval_seconds("soon"), -1);
}
END_TEST

START_TEST(account_assertions)
{
  const unsigned char key[] = "platform-shared-key-of-32-bytes!";
  size_t kl = sizeof key - 1;
  const char *rid = "11111111-2222-4333-8444-555555555555";
  char *t = dsr_assertion_make(key, kl, "acct-7", rid, 1000);
  struct dsr_assertion a;
  ck_assert(dsr_assertion_check(t, key, kl, rid, 1100, 300, &a));
  ck_assert_str_eq(a.sub, "acct-7");
  ck_assert_ptr_null(a.email); /* vouches for nothing else */
  ck_assert_ptr_null(a.phone);
  dsr_assertion_clear(&a);
  ck_assert(!dsr_assertion_check(t, key, kl, rid, 1400, 300, &a));  /* too old */
  ck_assert(!dsr_assertion_check(t, key, kl, rid, 900, 300, &a));   /* from the future */
  ck_assert(!dsr_assertion_check(t, key, kl, "11111111-2222-4333-8444-555555555556", 1100, 300,
                                 &a));                              /* another request */
  ck_assert(!dsr_assertion_check(t, (const unsigned char *)"other", 5, rid, 1100, 300, &a));
  char *tampered = strdup(t);
  tampered[5] = tampered[5] == 'A' ? 'B' : 'A';
  ck_assert(!dsr_assertion_check(tampered, key, kl, rid, 1100, 300, &a));
  ck_assert(!dsr_assertion_check("v1.", key, kl, rid, 1100, 300, &a));
  ck_assert(!dsr_assertion_check("v1.a.b.c", key, kl, rid, 1100, 300, &a));
  ck_assert(!dsr_assertion_check("v2.abc.def", key, kl, rid, 1100, 300, &a));
  ck_assert_ptr_null(a.sub);
  /* The login system may vouch for the account's email and phone too, signed with the rest. */
  char *v = dsr_assertion_make_vouching(key, kl, "acct-7", "a@example.org", "+15550001234", rid,
                                        1000);
  ck_assert(dsr_assertion_check(v, key, kl, rid, 1100, 300, &a));
  ck_assert_str_eq(a.email, "a@example.org");
  ck_assert_str_eq(a.phone, "+15550001234");
  dsr_assertion_clear(&a);
  ck_assert_ptr_null(a.email);
  free(v);
  free(tampered);
  free(t);
}
END_TEST

START_TEST(token_buckets)
{
  struct dsr_ratelimit *rl = dsr_ratelimit_new(3, 64);
  long wait = 0;
  for (int i = 0; i < 3; i++)
    ck_assert(dsr_ratelimit_take(rl, "a", 1, 0, &wait));
  ck_assert(!dsr_ratelimit_take(rl, "a", 1, 0, &wait));
  ck_assert_int_eq(wait, 1200); /* 3 per hour: one token every 20 minutes */
  ck_assert(dsr_ratelimit_take(rl, "b", 1, 0, &wait)); /* other keys are separate */
  ck_assert(!dsr_ratelimit_take(rl, "a", 1, 1199000, &wait));
  ck_assert(dsr_ratelimit_take(rl, "a", 1, 1200000, &wait));
  /* a full table reuses the stalest bucket instead of failing */
  for (int i = 0; i < 1000; i++) {
    char k[16];
    snprintf(k, sizeof k, "k%d", i);
    ck_assert(dsr_ratelimit_take(rl, k, strlen(k), 2000000 + i, &wait));
  }
  dsr_ratelimit_free(rl);
}
END_TEST

START_TEST(form_decoding)
{
  const char *why = NULL;
  const char *body = "type=erasure&email=ana%40example.com&details=a+b%26c&phone=&csrf=x";
  json_t *f = dsr_form_decode(body, strlen(body), &why);
  ck_assert_ptr_nonnull(f);
  ck_assert_str_eq(json_string_value(json_object_get(f, "email")), "ana@example.com");
  ck_assert_str_eq(json_string_value(json_object_get(f, "details")), "a b&c");
  ck_assert_ptr_null(json_object_get(f, "phone")); /* empty means absent */
  json_decref(f);
  const char *bad[] = {"a=%4", "a=%zz", "a=1&a=2", "a=%ff%fe", "=value"};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    why = NULL;
    ck_assert_msg(dsr_form_decode(bad[i], strlen(bad[i]), &why) == NULL, "%s", bad[i]);
    ck_assert_ptr_nonnull(why);
  }
  f = dsr_form_decode("", 0, &why);
  ck_assert_uint_eq(json_object_size(f), 0);
  json_decref(f);
}
END_TEST

START_TEST(mail_composition)
{
  struct dsr_message m = {.channel = "email", .to = "a@example.org\r\nBcc: evil@example.org",
                          .subject = "Hi\r\nX-Injected: 1 – ü", .text = "code 123456\n",
                          .html = "<p>code</p>"};
  char *mail = dsr_mail_compose("Privacy <privacy@callorbit.example>", &m, 0);
  ck_assert_ptr_nonnull(mail);
  ck_assert(strstr(mail, "\r\nBcc:") == NULL);
  ck_assert(strstr(mail, "\r\nX-Injected") == NULL);
  ck_assert(strstr(mail, "Subject: =?UTF-8?B?") != NULL);
  ck_assert(strstr(mail, "Date: Thu, 01 Jan 1970 00:00:00 +0000\r\n") != NULL);
  ck_assert(strstr(mail, "@callorbit.example>\r\n") != NULL); /* Message-ID domain */
  ck_assert(strstr(mail, "multipart/alternative") != NULL);
  ck_assert(strstr(mail, "Content-Type: text/html; charset=utf-8") != NULL);
  ck_assert(strstr(mail, "Y29kZSAxMjM0NTYK") != NULL); /* base64 of the text body */
  ck_assert(strstr(mail, "123456") == NULL);
  free(mail);
  m.html = NULL;
  mail = dsr_mail_compose("privacy@localhost", &m, 0);
  ck_assert(strstr(mail, "multipart") == NULL);
  ck_assert(strstr(mail, "Content-Transfer-Encoding: base64") != NULL);
  free(mail);
}
END_TEST

START_TEST(channel_names)
{
  ck_assert_uint_eq(dsr_channel_bit("email"), DSR_CH_EMAIL);
  ck_assert_uint_eq(dsr_channel_bit("manual"), DSR_CH_MANUAL);
  ck_assert_uint_eq(dsr_channel_bit("pigeon"), 0);
  ck_assert_str_eq(dsr_channel_name(DSR_CH_SMS), "sms");
  ck_assert_ptr_null(dsr_channel_name(DSR_CH_SMS | DSR_CH_EMAIL));
}
END_TEST

#include "suites.h"

/* The diagnostics of dsrctl policy lint for @p text, joined by newlines (caller frees). */
static char *lint(const char *text)
{
  char path[] = "/tmp/dsr-policy-XXXXXX";
  int fd = mkstemp(path);
  ck_assert(fd >= 0);
  ck_assert(write(fd, text, strlen(text)) == (ssize_t)strlen(text));
  close(fd);
  struct dsr_diags d = {0};
  struct dsr_policy *p = dsr_policy_check(path, &d);
  unlink(path);
  size_t cap = 16;
  for (size_t i = 0; i < d.n; i++)
    cap += strlen(d.v[i].text) + 1;
  char *out = calloc(1, cap);
  ck_assert_ptr_nonnull(out);
  for (size_t i = 0; i < d.n; i++) {
    strncat(out, d.v[i].text, cap - strlen(out) - 1);
    strncat(out, "\n", cap - strlen(out) - 1);
  }
  dsr_policy_free(p);
  dsr_diags_free(&d);
  return out;
}

#define PARTIAL_RULE(types, req, partial)                                                     \
  "{\"verification\":{\"rules\":[{\"types\":" types ",\"jurisdictions\":[\"*\"],"          \
  "\"require\":" req ",\"partial\":\"" partial "\"}]}}"

/* "partial": "verified_identities": when a request with fewer channels is answered, and lint. */
START_TEST(partial_answer_rule)
{
  struct dsr_policy *p = policy_from(
      "{\"verification\":{\"rules\":["
      "{\"types\":[\"access\"],\"jurisdictions\":[\"*\"],\"require\":[[\"email\",\"sms\"]],"
      "\"partial\":\"verified_identities\"},"
      "{\"types\":[\"portability\"],\"jurisdictions\":[\"*\"],\"require\":[[\"email\",\"sms\"]]}]}}");
  unsigned m[DSR_MAX_ALTERNATIVES];
  size_t n = dsr_verify_requirements(p, "access", "gdpr", m);
  ck_assert(dsr_verify_partial_allowed(p, "access", "gdpr"));
  ck_assert(!dsr_verify_partial_allowed(p, "portability", "gdpr")); /* its rule says nothing */
  ck_assert(!dsr_verify_partial_allowed(p, "erasure", "gdpr"));
  ck_assert(!dsr_verify_partial_allowed(NULL, "access", "gdpr"));
  /* only an email given: it alone starts a partial answer */
  ck_assert(dsr_verify_possible(m, n, DSR_CH_EMAIL, true));
  ck_assert(!dsr_verify_possible(m, n, DSR_CH_EMAIL, false));
  ck_assert(dsr_verify_partial_ok(m, n, DSR_CH_EMAIL, DSR_CH_EMAIL));
  ck_assert(!dsr_verify_partial_ok(m, n, DSR_CH_EMAIL, 0));
  /* both given: both are waited for */
  ck_assert(!dsr_verify_partial_ok(m, n, DSR_CH_EMAIL | DSR_CH_SMS, DSR_CH_EMAIL));
  ck_assert(dsr_verify_partial_ok(m, n, DSR_CH_EMAIL | DSR_CH_SMS, DSR_CH_EMAIL | DSR_CH_SMS));
  /* the form no longer says the phone is needed for access */
  ck_assert(!dsr_verify_needs(p, "access", "gdpr", DSR_CH_SMS));
  ck_assert(dsr_verify_needs(p, "portability", "gdpr", DSR_CH_SMS));
  dsr_policy_free(p);
  char *d = lint(PARTIAL_RULE("[\"access\",\"portability\"]", "[[\"email\",\"sms\"]]",
                              "verified_identities"));
  ck_assert_msg(d[0] == '\0', "%s", d);
  free(d);
  d = lint(PARTIAL_RULE("[\"access\"]", "[[\"email\",\"sms\"]]", "everything"));
  ck_assert_msg(strstr(d, "verification.rules[0].partial: unknown value \"everything\" "
                          "(expected verified_identities)") != NULL, "%s", d);
  free(d);
  d = lint(PARTIAL_RULE("[\"access\",\"erasure\"]", "[[\"email\",\"sms\"]]",
                        "verified_identities"));
  ck_assert_msg(strstr(d, "a partial answer is only for access and portability, and this rule "
                          "also covers \"erasure\"") != NULL, "%s", d);
  free(d);
  d = lint(PARTIAL_RULE("[\"access\"]", "[[\"email\"],[\"sms\"]]", "verified_identities"));
  ck_assert_msg(strstr(d, "has no effect") != NULL, "%s", d);
  free(d);
}
END_TEST

Suite *suite_verify_unit(void)
{
  Suite *s = suite_create("verify");
  TCase *tc = tcase_create("parts");
  tcase_add_test(tc, rules_first_match_and_defaults);
  tcase_add_test(tc, partial_answer_rule);
  tcase_add_test(tc, staff_actions_before_verification);
  tcase_add_test(tc, intervals);
  tcase_add_test(tc, account_assertions);
  tcase_add_test(tc, token_buckets);
  tcase_add_test(tc, form_decoding);
  tcase_add_test(tc, mail_composition);
  tcase_add_test(tc, channel_names);
  suite_add_tcase(s, tc);
  return s;
}

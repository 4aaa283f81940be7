/**
 * @file test_routing.c
 * @brief Routing pieces that need no database: webhook signatures (the
 *        Standard Webhooks example vector), secrets, the SSRF guard, retry
 *        schedule, identity masking, routing policy lookups, and the staff
 *        role matrix of every admin action.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "suites.h"
#include "httpd.h"
#include "dsr/admin.h"
#include "dsr/mask.h"
#include "dsr/routing_policy.h"
#include "dsr/webhook.h"

/* The example of the Standard Webhooks specification. */
#define SPEC_SECRET "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
#define SPEC_ID "msg_p5jXN8AQM9LWM0D4loKWxJek"
#define SPEC_TS 1614265330LL
#define SPEC_BODY "{\"test\": 2432232314}"
#define SPEC_SIG "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="

START_TEST(signature_matches_spec_vector)
{
  ck_assert_int_ge(sodium_init(), 0);
  char *sig = dsr_webhook_sign(SPEC_SECRET, SPEC_ID, SPEC_TS, SPEC_BODY, strlen(SPEC_BODY));
  ck_assert_ptr_nonnull(sig);
  ck_assert_str_eq(sig, SPEC_SIG);
  free(sig);
  ck_assert(dsr_webhook_verify(SPEC_SECRET, SPEC_ID, SPEC_TS, SPEC_BODY, strlen(SPEC_BODY),
                               SPEC_SIG));
  /* Two signatures (rotation): either may match. */
  ck_assert(dsr_webhook_verify(SPEC_SECRET, SPEC_ID, SPEC_TS, SPEC_BODY, strlen(SPEC_BODY),
                               "v1,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA= " SPEC_SIG));
  /* Anything changed fails. */
  ck_assert(!dsr_webhook_verify(SPEC_SECRET, SPEC_ID, SPEC_TS + 1, SPEC_BODY, strlen(SPEC_BODY),
                                SPEC_SIG));
  ck_assert(!dsr_webhook_verify(SPEC_SECRET, "msg_other", SPEC_TS, SPEC_BODY, strlen(SPEC_BODY),
                                SPEC_SIG));
  ck_assert(!dsr_webhook_verify(SPEC_SECRET, SPEC_ID, SPEC_TS, "{\"test\": 1}", 11, SPEC_SIG));
  ck_assert(!dsr_webhook_verify(SPEC_SECRET, SPEC_ID, SPEC_TS, SPEC_BODY, strlen(SPEC_BODY),
                                "v2,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="));
  ck_assert(!dsr_webhook_verify(SPEC_SECRET, SPEC_ID, SPEC_TS, SPEC_BODY, strlen(SPEC_BODY), ""));
  ck_assert_ptr_null(dsr_webhook_sign("whsec_***not base64***", SPEC_ID, SPEC_TS, "x", 1));
}
END_TEST

START_TEST(new_secrets_are_whsec_base64_of_32_bytes)
{
  ck_assert_int_ge(sodium_init(), 0);
  char *a = dsr_whsec_new(), *b = dsr_whsec_new();
  ck_assert_ptr_nonnull(a);
  ck_assert_str_ne(a, b);
  ck_assert(strncmp(a, "whsec_", 6) == 0);
  unsigned char raw[64];
  size_t n = 0;
  ck_assert_int_eq(sodium_base642bin(raw, sizeof raw, a + 6, strlen(a + 6), NULL, &n, NULL,
                                     sodium_base64_VARIANT_ORIGINAL),
                   0);
  ck_assert_uint_eq(n, 32);
  char *sig = dsr_webhook_sign(a, "msg_1", 1, "{}", 2);
  ck_assert(dsr_webhook_verify(a, "msg_1", 1, "{}", 2, sig));
  ck_assert(!dsr_webhook_verify(b, "msg_1", 1, "{}", 2, sig));
  free(sig);
  free(a);
  free(b);
}
END_TEST

static bool private4(const char *ip)
{
  struct sockaddr_in a = {.sin_family = AF_INET};
  ck_assert_int_eq(inet_pton(AF_INET, ip, &a.sin_addr), 1);
  return dsr_addr_is_private(&a);
}

static bool private6(const char *ip)
{
  struct sockaddr_in6 a = {.sin6_family = AF_INET6};
  ck_assert_int_eq(inet_pton(AF_INET6, ip, &a.sin6_addr), 1);
  return dsr_addr_is_private(&a);
}

START_TEST(private_ranges_are_recognised)
{
  static const char *const priv4[] = {"127.0.0.1", "10.1.2.3", "172.16.0.1", "172.31.255.254",
                                      "192.168.1.1", "169.254.169.254", "100.64.0.1",
                                      "0.0.0.0", "224.0.0.1", "255.255.255.255"};
  static const char *const pub4[] = {"93.184.216.34", "8.8.8.8", "172.32.0.1", "100.128.0.1",
                                     "11.0.0.1"};
  static const char *const priv6[] = {"::1", "::", "fe80::1", "fc00::1", "fd12:3456::1",
                                      "::ffff:127.0.0.1", "::ffff:10.0.0.1", "ff02::1",
                                      "64:ff9b::a00:1"};
  static const char *const pub6[] = {"2606:4700::1111", "2a00:1450:4001::1",
                                     "::ffff:93.184.216.34"};
  for (size_t i = 0; i < DSR_ARRAY_LEN(priv4); i++)
    ck_assert_msg(private4(priv4[i]), "%s should be private", priv4[i]);
  for (size_t i = 0; i < DSR_ARRAY_LEN(pub4); i++)
    ck_assert_msg(!private4(pub4[i]), "%s should be public", pub4[i]);
  for (size_t i = 0; i < DSR_ARRAY_LEN(priv6); i++)
    ck_assert_msg(private6(priv6[i]), "%s should be private", priv6[i]);
  for (size_t i = 0; i < DSR_ARRAY_LEN(pub6); i++)
    ck_assert_msg(!private6(pub6[i]), "%s should be public", pub6[i]);
}
END_TEST

START_TEST(url_guard_scheme_credentials_and_addresses)
{
  struct dsr_webhook_opts strict = {.timeout_s = 15}, loose = {.allow_http = true,
                                                               .allow_private = true};
  char pin[300], why[160];
  /* Only literal addresses here: no resolver needed. */
  ck_assert(!dsr_webhook_url_check(&strict, "http://93.184.216.34/hook", pin, sizeof pin, why,
                                   sizeof why));
  ck_assert(strstr(why, "https") != NULL);
  ck_assert(!dsr_webhook_url_check(&strict, "https://127.0.0.1/hook", pin, sizeof pin, why,
                                   sizeof why));
  ck_assert(strstr(why, "private") != NULL);
  ck_assert(!dsr_webhook_url_check(&strict, "https://169.254.169.254/latest/meta-data", pin,
                                   sizeof pin, why, sizeof why));
  ck_assert(!dsr_webhook_url_check(&strict, "https://[::1]:8443/", pin, sizeof pin, why,
                                   sizeof why));
  ck_assert(!dsr_webhook_url_check(&strict, "https://u:p@93.184.216.34/", pin, sizeof pin, why,
                                   sizeof why));
  ck_assert(strstr(why, "credentials") != NULL);
  ck_assert(!dsr_webhook_url_check(&loose, "ftp://127.0.0.1/", pin, sizeof pin, why, sizeof why));
  ck_assert(!dsr_webhook_url_check(&loose, "not a url", pin, sizeof pin, why, sizeof why));
  ck_assert(dsr_webhook_url_check(&strict, "https://93.184.216.34/hook", pin, sizeof pin, why,
                                  sizeof why));
  ck_assert_str_eq(pin, "93.184.216.34:443:93.184.216.34");
  ck_assert(dsr_webhook_url_check(&loose, "http://127.0.0.1:8099/x", pin, sizeof pin, why,
                                  sizeof why));
  ck_assert_str_eq(pin, "127.0.0.1:8099:127.0.0.1");
  ck_assert(dsr_webhook_url_check(&loose, "https://[::1]:8443/", pin, sizeof pin, why,
                                  sizeof why));
  ck_assert_str_eq(pin, "::1:8443:[::1]");
}
END_TEST

START_TEST(retry_schedule_spans_about_three_days)
{
  long total = 0, prev = 0;
  for (int a = 1; a < DSR_WEBHOOK_MAX_ATTEMPTS; a++) {
    long w = dsr_webhook_backoff_s(a);
    ck_assert_int_gt(w, 0);
    ck_assert_msg(w * 11 >= prev * 9, "attempt %d waits much less than the one before", a);
    prev = w;
    total += w;
  }
  ck_assert_int_ge(total, 60L * 3600);
  ck_assert_int_le(total, 84L * 3600);
  /* jitter: repeated draws for the same attempt do not all agree */
  bool differ = false;
  long first = dsr_webhook_backoff_s(5);
  for (int i = 0; i < 20; i++)
    differ = differ || dsr_webhook_backoff_s(5) != first;
  ck_assert(differ);
}
END_TEST

START_TEST(identities_are_masked)
{
  char out[128];
  dsr_mask_identity("email", "ana.silva@example.com", out, sizeof out);
  ck_assert_str_eq(out, "a***@e***.com");
  dsr_mask_identity("phone", "+4915112345678", out, sizeof out);
  ck_assert_str_eq(out, "+49*********78");
  dsr_mask_identity("phone", "+4930123478", out, sizeof out);
  ck_assert_str_eq(out, "+49******78");
  dsr_mask_identity("account_id", "acct-991", out, sizeof out);
  ck_assert_str_eq(out, "a***");
  dsr_mask_identity("name", "\xc3\x89mile", out, sizeof out);
  ck_assert_str_eq(out, "****"); /* never half a UTF-8 sequence */
  dsr_mask_identity("email", "broken", out, sizeof out);
  ck_assert_str_eq(out, "***");
}
END_TEST

static struct dsr_policy *load_policy(const char *rel)
{
  const char *top = getenv("DSR_TOP_SRCDIR");
  char path[1024], err[512];
  snprintf(path, sizeof path, "%s/%s", top ? top : ".", rel);
  struct dsr_policy *p = dsr_policy_load(path, err, sizeof err);
  ck_assert_msg(p != NULL, "%s", err);
  return p;
}

START_TEST(policy_approval_and_jurisdiction_rules)
{
  /* A shipped policy with every section routing reads. */
  struct dsr_policy *p = load_policy("policies/callorbit.json");
  ck_assert_str_eq(dsr_rp_approval(p, "erasure", "gdpr"), "staff");
  ck_assert_str_eq(dsr_rp_approval(p, "portability", "ccpa"), "staff");
  ck_assert_str_eq(dsr_rp_approval(p, "opt_out", "gdpr"), "auto"); /* first match wins */
  ck_assert_str_eq(dsr_rp_decision_timeout(p), "10 days");
  ck_assert_str_eq(dsr_rp_reminder_after(p), "5 days");
  struct dsr_jur_rules jr;
  ck_assert(dsr_rp_jurisdiction(p, "gdpr", &jr));
  ck_assert_str_eq(jr.extension, "2 months");
  ck_assert_str_eq(jr.extension_notice_within, "1 month");
  ck_assert(jr.hold_pauses_clock);
  ck_assert_str_eq(jr.no_data_message, "We searched all systems and hold no personal data about you.");
  ck_assert(dsr_rp_jurisdiction(p, "ccpa", &jr));
  ck_assert(!jr.hold_pauses_clock);
  ck_assert(!dsr_rp_jurisdiction(p, "lgpd", &jr)); /* the policy's table replaces the built-in */
  dsr_policy_free(p);
  /* A policy without those sections: the documented defaults. */
  p = load_policy("tests/data/policy-alt/policy.json");
  ck_assert_str_eq(dsr_rp_approval(p, "opt_out", "gdpr"), "staff");
  ck_assert_str_eq(dsr_rp_decision_timeout(p), "10 days");
  ck_assert(dsr_rp_jurisdiction(p, "lgpd", &jr));
  ck_assert_str_eq(jr.deadline, "15 days");
  ck_assert_str_eq(jr.extension, "0 days");
  ck_assert(dsr_rp_jurisdiction(p, "ccpa", &jr));
  ck_assert_str_eq(jr.extension, "45 days");
  ck_assert(!jr.hold_pauses_clock);
  dsr_policy_free(p);
  ck_assert_str_eq(dsr_rp_approval(NULL, "access", "gdpr"), "staff");
}
END_TEST

/* The role matrix of DESIGN.md section 8, as the routing table must implement it. */
START_TEST(role_matrix_for_every_admin_action)
{
  static const struct {
    const char *action;
    bool admin, triager, approver, auditor;
  } want[] = {
      {"verify", true, true, false, false},   {"assign", true, true, false, false},
      {"hold", true, true, false, false},     {"release", true, true, false, false},
      {"approve", true, false, true, false},  {"deny", true, false, true, false},
      {"extend", true, false, true, false},   {"withdraw", true, true, true, false},
  };
  const char *args[DSR_MAX_PATH_ARGS];
  char buf[256];
  bool known;
  const struct dsr_route *act = dsr_route_match(dsr_routes, 
      "POST", "/v1/admin/requests/00000000-0000-4000-8000-000000000000/actions", args, buf,
      sizeof buf, &known);
  ck_assert_ptr_nonnull(act);
  ck_assert_int_eq(act->auth, DSR_AUTH_STAFF);
  size_t n = 0;
  for (const char *const *a = dsr_admin_actions; *a; a++, n++) {
    bool found = false;
    for (size_t i = 0; i < DSR_ARRAY_LEN(want); i++) {
      if (strcmp(want[i].action, *a) != 0)
        continue;
      found = true;
      ck_assert_int_eq(dsr_role_allowed(act, DSR_ROLE_ADMIN, *a), want[i].admin);
      ck_assert_int_eq(dsr_role_allowed(act, DSR_ROLE_TRIAGER, *a), want[i].triager);
      ck_assert_int_eq(dsr_role_allowed(act, DSR_ROLE_APPROVER, *a), want[i].approver);
      ck_assert_int_eq(dsr_role_allowed(act, DSR_ROLE_AUDITOR, *a), want[i].auditor);
    }
    ck_assert_msg(found, "action %s has no expectation", *a);
  }
  ck_assert_uint_eq(n, DSR_ARRAY_LEN(want));
  ck_assert(!dsr_role_allowed(act, DSR_ROLE_ADMIN, "unknown"));
  /* Reads are open to every staff role, auditors included. */
  const struct dsr_route *list =
      dsr_route_match(dsr_routes, "GET", "/v1/admin/requests", args, buf, sizeof buf, &known);
  ck_assert_ptr_nonnull(list);
  ck_assert(dsr_role_allowed(list, DSR_ROLE_AUDITOR, NULL));
  ck_assert(dsr_role_allowed(list, DSR_ROLE_TRIAGER, NULL));
  const struct dsr_route *cust =
      dsr_route_match(dsr_routes, "GET", "/v1/customer/requests", args, buf, sizeof buf, &known);
  ck_assert_ptr_nonnull(cust);
  ck_assert_int_eq(cust->auth, DSR_AUTH_CUSTOMER);
}
END_TEST

Suite *suite_routing(void)
{
  Suite *s = suite_create("routing");
  TCase *tc = tcase_create("pure");
  tcase_add_test(tc, signature_matches_spec_vector);
  tcase_add_test(tc, new_secrets_are_whsec_base64_of_32_bytes);
  tcase_add_test(tc, private_ranges_are_recognised);
  tcase_add_test(tc, url_guard_scheme_credentials_and_addresses);
  tcase_add_test(tc, retry_schedule_spans_about_three_days);
  tcase_add_test(tc, identities_are_masked);
  tcase_add_test(tc, policy_approval_and_jurisdiction_rules);
  tcase_add_test(tc, role_matrix_for_every_admin_action);
  suite_add_tcase(s, tc);
  return s;
}

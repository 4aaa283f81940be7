/**
 * @file test_erasure.c
 * @brief The executor's pure parts: redaction of the subject's own
 *        identifiers with a policy's pcre2 patterns, keyed pseudonyms,
 *        identity hashes, and the statements of a retention sweep.
 */
#include <stdlib.h>
#include <string.h>
#include "suites.h"
#include "dsr/crypto.h"
#include "dsr/erasure.h"
#include "dsr/executor.h"
#include "dsr/policy.h"
#include "dsr/sweep.h"

static struct dsr_policy *pol;
static struct dsr_exec_subject subj;

static void setup(void)
{
  char path[512], err[512];
  snprintf(path, sizeof path, "%s/policies/callorbit.json", getenv("DSR_TOP_SRCDIR"));
  pol = dsr_policy_load(path, err, sizeof err);
  ck_assert_msg(pol != NULL, "%s", err);
  struct dsr_subject s = {.email = "Erin.Subject@Example.org", .phone = "+1 (555) 010-0777"};
  ck_assert(dsr_exec_subject_init(&subj, &s));
}

static void teardown(void)
{
  dsr_exec_subject_free(&subj);
  dsr_policy_free(pol);
}

/* Redacts @p in with the policy's pattern @p name; returns a static copy. */
static const char *redact(const char *name, const char *in, bool *changed)
{
  static char out[1024];
  char *r = dsr_redact_text(dsr_policy_pattern(pol, name), &subj, in, changed);
  ck_assert_ptr_nonnull(r);
  dsr_strlcpy(out, r, sizeof out);
  free(r);
  return out;
}

START_TEST(only_the_subjects_number_is_redacted)
{
  bool ch;
  ck_assert_str_eq(redact("phone", "Call me on +1 555 010 0777 please.", &ch),
                   "Call me on [phone removed] please.");
  ck_assert(ch);
  ck_assert_str_eq(redact("phone", "+15550100777", &ch), "[phone removed]");
  ck_assert_str_eq(redact("phone", "(+1-555-010-0777) or +1 555 010 0778", &ch),
                   "([phone removed]) or +1 555 010 0778");
  /* two numbers the pattern sees as one run: only the subject's part goes */
  ck_assert_str_eq(redact("phone", "+1 555 010 0778 +1 555 010 0777", &ch),
                   "+1 555 010 0778 [phone removed]");
  /* someone else's number that contains the subject's digits is not theirs */
  ck_assert_str_eq(redact("phone", "dial 915550100777 now", &ch), "dial 915550100777 now");
  ck_assert(!ch);
  ck_assert_str_eq(redact("phone", "+1555010077", &ch), "+1555010077");
  ck_assert(!ch);
  ck_assert_str_eq(redact("phone", "", &ch), "");
}
END_TEST

START_TEST(only_the_subjects_email_is_redacted)
{
  bool ch;
  ck_assert_str_eq(redact("email", "mail ERIN.subject@example.ORG or erin@example.org", &ch),
                   "mail [email removed] or erin@example.org");
  ck_assert(ch);
  ck_assert_str_eq(redact("email", "xerin.subject@example.org", &ch), "xerin.subject@example.org");
  ck_assert(!ch);
  struct dsr_exec_subject none = {0};
  char *r = dsr_redact_text(dsr_policy_pattern(pol, "email"), &none, "a@b.org", &ch);
  ck_assert_str_eq(r, "a@b.org"); /* no email known: nothing to redact */
  free(r);
}
END_TEST

START_TEST(identity_hashes_normalize)
{
  static const unsigned char key[32] = {1};
  dsr_crypto_init_with_key(key);
  unsigned char a[DSR_HASH_BYTES], b[DSR_HASH_BYTES], c[DSR_HASH_BYTES];
  ck_assert(dsr_identity_hash(DSR_ID_PHONE, "+1 (555) 010-0777", a));
  ck_assert(dsr_identity_hash(DSR_ID_PHONE, "+15550100777", b));
  ck_assert_mem_eq(a, b, DSR_HASH_BYTES);
  ck_assert(dsr_identity_hash(DSR_ID_EMAIL, "A@B.org", a));
  ck_assert(dsr_identity_hash(DSR_ID_EMAIL, "a@b.org", b));
  ck_assert_mem_eq(a, b, DSR_HASH_BYTES);
  ck_assert(dsr_identity_hash(DSR_ID_ACCOUNT, "a@b.org", c)); /* kinds never collide */
  ck_assert(memcmp(b, c, DSR_HASH_BYTES) != 0);
  ck_assert(!dsr_identity_hash(DSR_ID_PHONE, "  ", a));
  /* pseudonyms: keyed, deterministic, and not the identity hash */
  dsr_keyed_hmac(DSR_KEY_PSEUDONYM, "x", 1, a);
  dsr_keyed_hmac(DSR_KEY_PSEUDONYM, "x", 1, b);
  ck_assert_mem_eq(a, b, DSR_HASH_BYTES);
  dsr_keyed_hash(DSR_KEY_PSEUDONYM, "x", 1, c);
  ck_assert(memcmp(a, c, DSR_HASH_BYTES) != 0);
}
END_TEST

START_TEST(sweep_statements_follow_the_rules)
{
  struct dsr_sweep_step *v = NULL;
  size_t n = 0;
  ck_assert(dsr_sweep_steps(pol, 1767225600, &v, &n));
  const char *order[16];
  size_t k = 0;
  for (size_t i = 0; i < n && k < 16; i++)
    order[k++] = v[i].st.coll->name;
  /* children first: transcripts (with their recording) before recordings */
  long tr = -1, rec = -1;
  for (size_t i = 0; i < k; i++) {
    if (!strcmp(order[i], "transcripts"))
      tr = (long)i;
    if (!strcmp(order[i], "recordings"))
      rec = (long)i;
  }
  ck_assert(tr >= 0 && rec > tr);
  const struct dsr_sweep_step *r = &v[rec];
  /* per-tenant period from the settings, clamped to the policy's bounds */
  ck_assert(strstr(r->keys_sql, "\"workspace_settings\"") != NULL);
  ck_assert(strstr(r->keys_sql, "least(greatest(") != NULL);
  ck_assert(strstr(r->keys_sql, "ORDER BY a0.\"id\" LIMIT") != NULL);
  bool asof = false;
  for (size_t i = 0; i < r->nparams; i++)
    asof |= !strcmp(r->params[i].label, "as_of") && !strcmp(r->params[i].value, "1767225600");
  ck_assert(asof);
  /* nothing is built from values: no digits of the cutoff in the text */
  ck_assert(strstr(r->keys_sql, "1767225600") == NULL);
  /* collections kept indefinitely, or without a rule, are not swept */
  for (size_t i = 0; i < n; i++)
    ck_assert(v[i].st.coll->retention.rule != DSR_RET_INDEFINITE &&
              v[i].st.coll->retention.rule != DSR_RET_NONE);
  dsr_sweep_steps_free(v, n);
}
END_TEST

Suite *suite_erasure(void)
{
  Suite *s = suite_create("erasure");
  TCase *tc = tcase_create("erasure");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, only_the_subjects_number_is_redacted);
  tcase_add_test(tc, only_the_subjects_email_is_redacted);
  tcase_add_test(tc, identity_hashes_normalize);
  tcase_add_test(tc, sweep_statements_follow_the_rules);
  suite_add_tcase(s, tc);
  return s;
}

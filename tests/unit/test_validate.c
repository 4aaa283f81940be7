/** @file test_validate.c @brief Identity validators. */
#include <stdlib.h>
#include "suites.h"
#include "dsr/validate.h"

static const char *const good_emails[] = {"a@b.example", "first.last+tag@sub.domain.org",
                                          "x_y@example.co"};
static const char *const bad_emails[] = {"", "plain", "@example.com", "a@", "a@b", "a..b@example.com",
                                         "a b@example.com", "a@-example.com", "a@example.c"};
static const char *const good_phones[] = {"+4915112345678", "+14155550123", "+919812345678"};
static const char *const bad_phones[] = {"4915112345678", "+0123456789", "+12", "+1234567890123456",
                                         "+49 151 1234", "+49-151-12345678"};

START_TEST(emails)
{
  const char *why = NULL;
  for (size_t i = 0; i < sizeof good_emails / sizeof *good_emails; i++)
    ck_assert_msg(dsr_valid_email(good_emails[i], &why), "rejected %s", good_emails[i]);
  for (size_t i = 0; i < sizeof bad_emails / sizeof *bad_emails; i++) {
    why = NULL;
    ck_assert_msg(!dsr_valid_email(bad_emails[i], &why), "accepted %s", bad_emails[i]);
    ck_assert_ptr_nonnull(why);
  }
}
END_TEST

START_TEST(phones)
{
  const char *why = NULL;
  for (size_t i = 0; i < sizeof good_phones / sizeof *good_phones; i++)
    ck_assert_msg(dsr_valid_phone(good_phones[i], &why), "rejected %s", good_phones[i]);
  for (size_t i = 0; i < sizeof bad_phones / sizeof *bad_phones; i++)
    ck_assert_msg(!dsr_valid_phone(bad_phones[i], &why), "accepted %s", bad_phones[i]);
}
END_TEST

START_TEST(other_values)
{
  const char *why;
  ck_assert(dsr_valid_language("en", &why));
  ck_assert(dsr_valid_language("pt-BR", &why));
  ck_assert(!dsr_valid_language("english!", &why));
  ck_assert(dsr_valid_uuid("0b6f1b0c-8d0e-4c39-9b8a-3f7a3c1e2d4f", &why));
  ck_assert(!dsr_valid_uuid("0B6F1B0C-8D0E-4C39-9B8A-3F7A3C1E2D4F-x", &why));
  ck_assert(!dsr_valid_uuid("../../etc/passwd", &why));
  ck_assert(dsr_valid_account_id("acct_42", &why));
  ck_assert(!dsr_valid_account_id("acct 42", &why));
  ck_assert(dsr_valid_text("Ana Lu\xc3\xadsa", &why));
  ck_assert(!dsr_valid_text("bell\x07", &why));
  char *n = dsr_normalize_email("Ana@Example.COM");
  ck_assert_str_eq(n, "ana@example.com");
  free(n);
}
END_TEST

Suite *suite_validate(void)
{
  Suite *s = suite_create("validate");
  TCase *tc = tcase_create("identities");
  tcase_add_test(tc, emails);
  tcase_add_test(tc, phones);
  tcase_add_test(tc, other_values);
  suite_add_tcase(s, tc);
  return s;
}

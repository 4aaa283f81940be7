/**
 * @file test_hardening.c
 * @brief Parsers and validators hardened after the outside review (issue 17),
 *        and regression inputs found by fuzzing (tests/fuzz/).
 */
#include "config.h"
#include "suites.h"
#include "dsr/admin.h"
#include "dsr/validate.h"

#include <check.h>
#include <string.h>

/* L2: PCRE2's "$" also matched before a final newline. */
START_TEST(validators_refuse_a_trailing_newline)
{
  const char *why;
  ck_assert(dsr_valid_email("a@example.com", &why));
  ck_assert(!dsr_valid_email("a@example.com\n", &why));
  ck_assert(dsr_valid_phone("+4915112345678", &why));
  ck_assert(!dsr_valid_phone("+4915112345678\n", &why));
  ck_assert(dsr_valid_account_id("acct-42", &why));
  ck_assert(!dsr_valid_account_id("acct-42\n", &why));
  ck_assert(dsr_valid_language("pt-BR", &why));
  ck_assert(!dsr_valid_language("pt-BR\n", &why));
  ck_assert(dsr_valid_uuid("00000000-0000-4000-8000-000000000000", &why));
  ck_assert(!dsr_valid_uuid("00000000-0000-4000-8000-000000000000\n", &why));
}
END_TEST

Suite *suite_hardening_unit(void)
{
  Suite *s = suite_create("hardening");
  TCase *tc = tcase_create("parsers");
  tcase_add_test(tc, validators_refuse_a_trailing_newline);
  suite_add_tcase(s, tc);
  return s;
}

/** @file test_errors.c @brief The error registry and the problem+json shape. */
#include <string.h>
#include "suites.h"
#include "httpd.h"

START_TEST(registry_is_consistent)
{
  for (int ec = 1; ec < DSR_EC_COUNT; ec++) {
    unsigned st = dsr_ec_status((enum dsr_ec)ec);
    ck_assert_msg(st >= 400 && st < 600, "%s has status %u", dsr_ec_code((enum dsr_ec)ec), st);
    ck_assert(strlen(dsr_ec_title((enum dsr_ec)ec)) > 0);
    for (int other = 1; other < ec; other++)
      ck_assert_msg(strcmp(dsr_ec_code((enum dsr_ec)ec), dsr_ec_code((enum dsr_ec)other)) != 0,
                    "duplicate code %s", dsr_ec_code((enum dsr_ec)ec));
  }
  ck_assert_str_eq(dsr_ec_code((enum dsr_ec)9999), "internal");
  ck_assert_uint_eq(dsr_ec_status((enum dsr_ec)9999), 500);
}
END_TEST

START_TEST(problem_document)
{
  json_t *p = dsr_problem_json(DSR_E_FIELD_MISSING, "/type is required", "/type");
  ck_assert_str_eq(json_string_value(json_object_get(p, "code")), "field_missing");
  ck_assert_int_eq(json_integer_value(json_object_get(p, "status")), 400);
  ck_assert_str_eq(json_string_value(json_object_get(p, "detail")), "/type is required");
  ck_assert_str_eq(json_string_value(json_object_get(p, "field")), "/type");
  ck_assert(strstr(json_string_value(json_object_get(p, "type")), "field_missing") != NULL);
  ck_assert_ptr_nonnull(json_object_get(p, "title"));
  json_decref(p);
  p = dsr_problem_json(DSR_E_NOT_FOUND, NULL, NULL);
  ck_assert_ptr_null(json_object_get(p, "field"));
  ck_assert_str_eq(json_string_value(json_object_get(p, "detail")), dsr_ec_title(DSR_E_NOT_FOUND));
  json_decref(p);
}
END_TEST

Suite *suite_errors(void)
{
  Suite *s = suite_create("errors");
  TCase *tc = tcase_create("registry");
  tcase_add_test(tc, registry_is_consistent);
  tcase_add_test(tc, problem_document);
  suite_add_tcase(s, tc);
  return s;
}

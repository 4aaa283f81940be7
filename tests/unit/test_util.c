/** @file test_util.c @brief Buffer, string, time and UTF-8 helpers. */
#include <string.h>
#include <stdlib.h>
#include "suites.h"
#include "dsr/util.h"

START_TEST(buf_grows_and_terminates)
{
  struct dsr_buf b = {0};
  for (int i = 0; i < 1000; i++)
    ck_assert(dsr_buf_printf(&b, "%d,", i));
  ck_assert_uint_eq(b.len, strlen(b.data));
  ck_assert(strncmp(b.data, "0,1,2,", 6) == 0);
  ck_assert(strcmp(b.data + b.len - 4, "999,") == 0);
  char *s = dsr_buf_steal(&b);
  ck_assert_ptr_null(b.data);
  ck_assert_uint_eq(b.len, 0);
  free(s);
}
END_TEST

START_TEST(strlcpy_truncates)
{
  char out[4];
  ck_assert(!dsr_strlcpy(out, "abcdef", sizeof out));
  ck_assert_str_eq(out, "abc");
  ck_assert(dsr_strlcpy(out, "ab", sizeof out));
  ck_assert_str_eq(out, "ab");
}
END_TEST

START_TEST(rfc3339_and_fake_clock)
{
  char ts[21];
  dsr_time_rfc3339(0, ts);
  ck_assert_str_eq(ts, "1970-01-01T00:00:00Z");
  dsr_set_fake_now(1800000000);
  ck_assert_int_eq(dsr_now(), 1800000000);
  dsr_time_rfc3339(dsr_now(), ts);
  ck_assert_str_eq(ts, "2027-01-15T08:00:00Z");
  dsr_set_fake_now(0);
  ck_assert_int_ne(dsr_now(), 1800000000);
}
END_TEST

START_TEST(utf8_validation)
{
  ck_assert(dsr_utf8_valid("plain", 5));
  ck_assert(dsr_utf8_valid("caf\xc3\xa9", 5));
  ck_assert(dsr_utf8_valid("\xf0\x9f\x93\x9e", 4));
  ck_assert(!dsr_utf8_valid("\xc3", 1));             /* truncated */
  ck_assert(!dsr_utf8_valid("\xc0\xaf", 2));         /* overlong "/" */
  ck_assert(!dsr_utf8_valid("\xed\xa0\x80", 3));     /* surrogate */
  ck_assert(!dsr_utf8_valid("\xff", 1));
  ck_assert(!dsr_utf8_valid("a\0b", 3));             /* NUL */
  ck_assert(!dsr_utf8_valid("\xf4\x90\x80\x80", 4)); /* > U+10FFFF */
}
END_TEST

Suite *suite_util(void)
{
  Suite *s = suite_create("util");
  TCase *tc = tcase_create("core");
  tcase_add_test(tc, buf_grows_and_terminates);
  tcase_add_test(tc, strlcpy_truncates);
  tcase_add_test(tc, rfc3339_and_fake_clock);
  tcase_add_test(tc, utf8_validation);
  suite_add_tcase(s, tc);
  return s;
}

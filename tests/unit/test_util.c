/** @file test_util.c @brief Buffer, string, time and UTF-8 helpers. */
#include <fcntl.h>
#include <jansson.h>
#include <string.h>
#include <stdlib.h>
#include <unistd.h>
#include "suites.h"
#include "dsr/log.h"
#include "dsr/requests.h"
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

/* Strings as jansson writes them, so replies written either way read the same. */
START_TEST(json_string_as_jansson)
{
  static const char *const cases[] = {
      "",
      "plain",
      "quote \" backslash \\ slash /",
      "\b\f\n\r\t",
      "\x01\x02\x1f\x7f",
      "caf\xc3\xa9 \xe2\x80\xa8 \xf0\x9f\x99\x82",
      "2026-12-07T06:46:33Z",
  };
  for (size_t i = 0; i < DSR_ARRAY_LEN(cases); i++) {
    json_t *j = json_string(cases[i]);
    ck_assert_ptr_nonnull(j);
    char *want = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
    struct dsr_buf b = {0};
    ck_assert(dsr_buf_puts(&b, "x"));
    ck_assert(dsr_buf_json_string(&b, cases[i], strlen(cases[i])));
    ck_assert_str_eq(b.data + 1, want);
    ck_assert_uint_eq(b.len, strlen(b.data));
    dsr_buf_free(&b);
    free(want);
    json_decref(j);
  }
}
END_TEST

/* The status view written as text is the same bytes as its json_t dumped. */
START_TEST(status_view_text_as_json)
{
  struct dsr_status_view v = {0};
  ck_assert(dsr_status_view_add(&v, "id", "7c0e", 4));
  ck_assert(dsr_status_view_add(&v, "status", "in_progress", 11));
  ck_assert(!dsr_status_view_add(&v, "outcome", "\xff", 1)); /* not UTF-8: left out */
  ck_assert(dsr_status_view_add(&v, "message", "a \"b\"\nc", 7));
  ck_assert(dsr_status_view_add(&v, "extension", NULL, 0));
  ck_assert(dsr_status_view_add(&v, "extended_at", "2027-01-15T08:00:00Z", 20));
  ck_assert(dsr_status_view_add(&v, "reason", "backups\t", 8));
  ck_assert(dsr_status_view_add(&v, NULL, NULL, 0));
  json_t *j = dsr_status_view_json(&v);
  ck_assert_ptr_nonnull(j);
  ck_assert_ptr_null(json_object_get(j, "outcome"));
  ck_assert_str_eq(json_string_value(json_object_get(json_object_get(j, "extension"), "reason")),
                   "backups\t");
  char *want = json_dumps(j, JSON_COMPACT);
  char *text = dsr_status_view_text(&v);
  ck_assert_str_eq(text, want);
  ck_assert_str_eq(text, "{\"id\":\"7c0e\",\"status\":\"in_progress\",\"message\":"
                         "\"a \\\"b\\\"\\nc\",\"extension\":{\"extended_at\":"
                         "\"2027-01-15T08:00:00Z\",\"reason\":\"backups\\t\"}}");
  free(text);
  free(want);
  json_decref(j);
  /* full: the seventeenth field does not fit */
  dsr_status_view_clear(&v);
  for (int i = 0; i < DSR_STATUS_VIEW_FIELDS; i++)
    ck_assert(dsr_status_view_add(&v, "k", "v", 1));
  ck_assert(!dsr_status_view_add(&v, "k", "v", 1));
  dsr_status_view_clear(&v);
}
END_TEST

/* What stderr (a temporary file here) holds so far. */
static char *stderr_text(int fd)
{
  off_t n = lseek(fd, 0, SEEK_END);
  ck_assert(n >= 0);
  char *s = calloc(1, (size_t)n + 1);
  ck_assert(s != NULL && pread(fd, s, (size_t)n, 0) == n);
  return s;
}

/* Access lines wait for the next line, a flush, a full buffer; in order, never lost. */
START_TEST(log_later_keeps_order)
{
  char path[] = "/tmp/dsr-log-XXXXXX";
  int fd = mkstemp(path);
  ck_assert(fd >= 0);
  unlink(path);
  int saved = dup(STDERR_FILENO);
  ck_assert(saved >= 0 && dup2(fd, STDERR_FILENO) == STDERR_FILENO);
  dsr_log_flush();
  dsr_log_later(DSR_LOG_INFO, "t.access", "n=%d", 1);
  char *s = stderr_text(fd);
  ck_assert_str_eq(s, ""); /* held */
  free(s);
  dsr_log(DSR_LOG_WARN, "t.warn", "n=%d", 2); /* goes out at once, after what was held */
  s = stderr_text(fd);
  char *a = strstr(s, "event=t.access n=1\n"), *w = strstr(s, "event=t.warn n=2\n");
  ck_assert(a != NULL && w != NULL && a < w);
  free(s);
  dsr_log_later(DSR_LOG_INFO, "t.access", "n=%d", 3);
  dsr_log_later(DSR_LOG_DEBUG, "t.access", "n=%d", 4); /* below the level: never */
  dsr_log_flush();
  s = stderr_text(fd);
  ck_assert_ptr_nonnull(strstr(s, "event=t.access n=3\n"));
  ck_assert_ptr_null(strstr(s, "n=4"));
  free(s);
  /* more than the buffer holds: nothing is dropped */
  for (int i = 0; i < 200; i++)
    dsr_log_later(DSR_LOG_INFO, "t.many", "n=%d", i);
  dsr_log_flush();
  s = stderr_text(fd);
  int lines = 0;
  for (const char *p = s; (p = strstr(p, "event=t.many")) != NULL; p++)
    lines++;
  ck_assert_int_eq(lines, 200);
  ck_assert_ptr_nonnull(strstr(s, "event=t.many n=199\n"));
  free(s);
  ck_assert(dup2(saved, STDERR_FILENO) == STDERR_FILENO);
  close(saved);
  close(fd);
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
  tcase_add_test(tc, json_string_as_jansson);
  tcase_add_test(tc, status_view_text_as_json);
  tcase_add_test(tc, log_later_keeps_order);
  suite_add_tcase(s, tc);
  return s;
}

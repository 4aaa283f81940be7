/**
 * @file test_export.c
 * @brief Package files: secretstream round trip across chunk boundaries,
 *        skipping (Range), tamper and truncation detection, wrong key.
 */
#include "config.h"
#include "suites.h"
#include "dsr/export.h"
#include "dsr/policy.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void tmp_path(char *out, size_t n)
{
  snprintf(out, n, "/tmp/dsr-export-unit-%ld-%u.dsrx", (long)getpid(), randombytes_random());
}

static unsigned char *pattern(size_t n)
{
  unsigned char *p = malloc(n);
  ck_assert_ptr_nonnull(p);
  for (size_t i = 0; i < n; i++)
    p[i] = (unsigned char)(i * 31 + i / 7);
  return p;
}

static void write_pkg(const char *path, const unsigned char *key, const unsigned char *data,
                      size_t n)
{
  struct dsr_xsink s;
  ck_assert(dsr_xsink_open(&s, path, key));
  size_t off = 0, step = 1000;
  while (off < n) { /* odd-sized writes across chunk boundaries */
    size_t take = n - off < step ? n - off : step;
    ck_assert(dsr_xsink_write(&s, data + off, take));
    off += take;
    step = step * 3 + 1;
  }
  ck_assert_uint_eq(s.plain_bytes, n);
  ck_assert(dsr_xsink_close(&s, false));
}

static bool read_all(const char *path, const unsigned char *key, uint64_t skip,
                     unsigned char *out, size_t cap, size_t *got)
{
  struct dsr_xsource s;
  bool ok = dsr_xsource_open(&s, path, key) && dsr_xsource_skip(&s, skip);
  *got = 0;
  ssize_t r = 0;
  while (ok && (r = dsr_xsource_read(&s, out + *got, cap - *got)) > 0)
    *got += (size_t)r;
  ok = ok && r == 0;
  dsr_xsource_close(&s);
  return ok;
}

START_TEST(round_trip_and_skip)
{
  size_t sizes[] = {0, 1, DSR_XCHUNK - 1, DSR_XCHUNK, DSR_XCHUNK + 1, 3 * DSR_XCHUNK + 17};
  unsigned char key[DSR_XKEY_BYTES];
  crypto_secretstream_xchacha20poly1305_keygen(key);
  for (size_t k = 0; k < DSR_ARRAY_LEN(sizes); k++) {
    size_t n = sizes[k];
    char path[128];
    tmp_path(path, sizeof path);
    unsigned char *data = pattern(n + 1);
    write_pkg(path, key, data, n);
    unsigned char *back = malloc(n + 1);
    size_t got = 0;
    ck_assert(read_all(path, key, 0, back, n + 1, &got));
    ck_assert_uint_eq(got, n);
    ck_assert(n == 0 || memcmp(back, data, n) == 0);
    if (n > 10) {
      ck_assert(read_all(path, key, n - 10, back, n + 1, &got));
      ck_assert_uint_eq(got, 10);
      ck_assert(memcmp(back, data + n - 10, 10) == 0);
    }
    /* the file never holds the plaintext */
    size_t flen = 0;
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    unsigned char *raw = malloc(n + 4096);
    flen = fread(raw, 1, n + 4096, f);
    fclose(f);
    ck_assert_uint_gt(flen, n);
    if (n >= 64)
      ck_assert_ptr_null(memmem(raw, flen, data + n / 2, 32));
    free(raw);
    unlink(path);
    free(data);
    free(back);
  }
}
END_TEST

START_TEST(tamper_truncation_and_wrong_key_fail)
{
  unsigned char key[DSR_XKEY_BYTES], other[DSR_XKEY_BYTES];
  crypto_secretstream_xchacha20poly1305_keygen(key);
  crypto_secretstream_xchacha20poly1305_keygen(other);
  size_t n = 2 * DSR_XCHUNK + 5;
  unsigned char *data = pattern(n);
  unsigned char *back = malloc(n + 1);
  size_t got;
  char path[128];
  tmp_path(path, sizeof path);
  write_pkg(path, key, data, n);
  ck_assert(!read_all(path, other, 0, back, n + 1, &got));
  /* flip one byte in the second chunk */
  int fd = open(path, O_RDWR);
  ck_assert_int_ge(fd, 0);
  off_t at = 24 + DSR_XCHUNK + 17 + 100;
  unsigned char b;
  ck_assert_int_eq(pread(fd, &b, 1, at), 1);
  b ^= 1;
  ck_assert_int_eq(pwrite(fd, &b, 1, at), 1);
  b ^= 1;
  ck_assert(!read_all(path, key, 0, back, n + 1, &got));
  ck_assert_int_eq(pwrite(fd, &b, 1, at), 1);
  ck_assert(read_all(path, key, 0, back, n + 1, &got));
  /* drop the final chunk: a truncated package is refused */
  ck_assert_int_eq(ftruncate(fd, 24 + 2 * (DSR_XCHUNK + 17)), 0);
  close(fd);
  ck_assert(!read_all(path, key, 0, back, n + 1, &got));
  unlink(path);
  free(data);
  free(back);
}
END_TEST

/* callorbit.json with its "choices" replaced by @p choices; the diagnostics as one string. */
static char *lint_choices(const char *choices)
{
  char src[600];
  snprintf(src, sizeof src, "%s/policies/callorbit.json", getenv("DSR_TOP_SRCDIR"));
  json_error_t je;
  json_t *doc = json_load_file(src, JSON_PRESERVE_ORDER, &je);
  ck_assert_ptr_nonnull(doc);
  json_object_set_new(doc, "choices", json_loads(choices, 0, &je));
  char path[128];
  snprintf(path, sizeof path, "/tmp/dsr-choices-%ld.json", (long)getpid());
  ck_assert_int_eq(json_dump_file(doc, path, JSON_INDENT(2) | JSON_PRESERVE_ORDER), 0);
  json_decref(doc);
  struct dsr_diags d = {0};
  struct dsr_policy *p = dsr_policy_check(path, &d);
  struct dsr_buf b = {0};
  ck_assert(dsr_buf_puts(&b, ""));
  for (size_t i = 0; i < d.n; i++)
    ck_assert(dsr_buf_printf(&b, "%s\n", d.v[i].text));
  ck_assert((p == NULL) == (d.errors > 0));
  dsr_policy_free(p);
  dsr_diags_free(&d);
  unlink(path);
  return dsr_buf_steal(&b);
}

START_TEST(choices_are_validated)
{
  char *ok = lint_choices("{\"opt_out\": [{\"collection\": \"suppressions\", \"action\": "
                          "\"insert\", \"values\": {\"phone\": \"identity:phone\"}}]}");
  ck_assert_str_eq(ok, "");
  free(ok);
  struct {
    const char *choices, *want;
  } bad[] = {
      {"{\"erasure\": []}", "unknown request type"},
      {"{\"opt_out\": [{\"collection\": \"nope\", \"action\": \"update\", \"set\": {}}]}",
       "unknown collection"},
      {"{\"opt_out\": [{\"collection\": \"consents\", \"action\": \"update\", \"set\": "
       "{\"colour\": \"now\"}}]}",
       "not a declared column"},
      {"{\"opt_out\": [{\"collection\": \"consents\", \"action\": \"update\", \"set\": "
       "{\"source\": \"yesterday\"}}]}",
       "bad value"},
      {"{\"opt_out\": [{\"collection\": \"consents\", \"action\": \"upsert\"}]}",
       "unknown action"},
      {"{\"opt_out\": [{\"collection\": \"consents\", \"action\": \"insert\"}]}",
       "missing \"values\""},
  };
  for (size_t i = 0; i < DSR_ARRAY_LEN(bad); i++) {
    char *out = lint_choices(bad[i].choices);
    ck_assert_msg(strstr(out, bad[i].want) != NULL, "%s: %s", bad[i].choices, out);
    ck_assert_msg(strstr(out, "/choices") || strstr(out, "choices"), "%s", out);
    free(out);
  }
}
END_TEST

Suite *suite_export(void)
{
  Suite *s = suite_create("export");
  TCase *t = tcase_create("crypt");
  tcase_add_test(t, round_trip_and_skip);
  tcase_add_test(t, tamper_truncation_and_wrong_key_fail);
  suite_add_tcase(s, t);
  TCase *c = tcase_create("choices");
  tcase_add_test(c, choices_are_validated);
  suite_add_tcase(s, c);
  return s;
}

/**
 * @file test_sample.c
 * @brief The sample generator without a database: its PRNG, its WAV files,
 *        the determinism of every table's COPY text, and option checks.
 */
#include <stdlib.h>
#include <string.h>
#include "dsr/sample.h"
#include "suites.h"

/** A sink that hashes what it gets (FNV-1a) and counts lines. */
struct hsink {
  uint64_t h;
  size_t bytes, lines;
  char first[512];
};

static bool h_write(void *ctx, const char *data, size_t len)
{
  struct hsink *s = ctx;
  if (s->bytes == 0) {
    size_t n = len < sizeof s->first - 1 ? len : sizeof s->first - 1;
    memcpy(s->first, data, n);
    s->first[n] = '\0';
  }
  for (size_t i = 0; i < len; i++) {
    s->h = (s->h ^ (unsigned char)data[i]) * UINT64_C(1099511628211);
    s->lines += data[i] == '\n';
  }
  s->bytes += len;
  return true;
}

static struct dsr_sample_opts opts(uint64_t seed)
{
  struct dsr_sample_opts o;
  memset(&o, 0, sizeof o);
  o.seed = seed;
  o.subjects = 300;
  o.calls_per_subject = 4;
  o.now = 1767225600; /* 2026-01-01 */
  return o;
}

/** Hashes every table of a generation into @p out (one per table). */
static size_t hash_all(const struct dsr_sample_opts *o, uint64_t *out, long *rows)
{
  char err[256];
  struct dsr_sample *g = dsr_sample_new(o, err, sizeof err);
  ck_assert_msg(g != NULL, "%s", err);
  size_t n;
  const struct dsr_sample_table *t = dsr_sample_tables(&n);
  for (size_t i = 0; i < n; i++) {
    struct hsink s = {.h = UINT64_C(1469598103934665603)};
    struct dsr_sample_sink sink = {h_write, NULL, &s};
    long r = dsr_sample_emit(g, i, &sink, err, sizeof err);
    ck_assert_msg(r >= 0, "%s: %s", t[i].name, err);
    ck_assert_msg((size_t)r == s.lines, "%s: %ld rows but %zu lines", t[i].name, r, s.lines);
    out[i] = s.h;
    rows[i] = r;
  }
  dsr_sample_free(g);
  return n;
}

START_TEST(prng_is_keyed_and_deterministic)
{
  struct dsr_sample_rng a, b, c;
  dsr_sample_rng_init(&a, 42, 1, 7);
  dsr_sample_rng_init(&b, 42, 1, 7);
  dsr_sample_rng_init(&c, 42, 1, 8);
  int same_as_c = 0;
  for (int i = 0; i < 100; i++) {
    uint64_t x = dsr_sample_rng_next(&a);
    ck_assert_uint_eq(x, dsr_sample_rng_next(&b));
    same_as_c += x == dsr_sample_rng_next(&c);
  }
  ck_assert_int_eq(same_as_c, 0);
  /* below() stays in range and reaches both ends */
  bool lo = false, hi = false;
  for (int i = 0; i < 1000; i++) {
    uint64_t v = dsr_sample_rng_below(&a, 5);
    ck_assert_uint_lt(v, 5);
    lo |= v == 0;
    hi |= v == 4;
  }
  ck_assert(lo && hi);
}
END_TEST

static uint32_t rd32(const unsigned char *p)
{
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

START_TEST(wav_header_is_valid_pcm)
{
  uint32_t samples = 3000;
  size_t size = dsr_sample_wav_size(samples);
  ck_assert_uint_eq(size, 44 + 6000);
  unsigned char *w = malloc(size);
  dsr_sample_wav_render(w, samples, 8000, 440);
  ck_assert(memcmp(w, "RIFF", 4) == 0 && memcmp(w + 8, "WAVEfmt ", 8) == 0);
  ck_assert_uint_eq(rd32(w + 4), size - 8);
  ck_assert_uint_eq(rd32(w + 16), 16);
  ck_assert_uint_eq(w[20] | w[21] << 8, 1);   /* PCM */
  ck_assert_uint_eq(w[22] | w[23] << 8, 1);   /* mono */
  ck_assert_uint_eq(rd32(w + 24), 8000);
  ck_assert_uint_eq(rd32(w + 28), 16000);
  ck_assert_uint_eq(w[34] | w[35] << 8, 16);
  ck_assert(memcmp(w + 36, "data", 4) == 0);
  ck_assert_uint_eq(rd32(w + 40), 6000);
  /* a tone, not silence: samples in the middle swing both ways */
  int pos = 0, neg = 0;
  for (size_t i = 1000; i < 2000; i++) {
    int16_t v = (int16_t)(w[44 + 2 * i] | w[45 + 2 * i] << 8);
    pos += v > 1000;
    neg += v < -1000;
  }
  ck_assert_int_gt(pos, 100);
  ck_assert_int_gt(neg, 100);
  free(w);
}
END_TEST

START_TEST(same_seed_same_bytes_other_seed_other_bytes)
{
  uint64_t h1[32], h2[32], h3[32];
  long r1[32], r2[32], r3[32];
  struct dsr_sample_opts o = opts(7);
  size_t n = hash_all(&o, h1, r1);
  hash_all(&o, h2, r2);
  o = opts(8);
  hash_all(&o, h3, r3);
  size_t differ = 0;
  for (size_t i = 0; i < n; i++) {
    ck_assert_uint_eq(h1[i], h2[i]);
    ck_assert_int_eq(r1[i], r2[i]);
    differ += h1[i] != h3[i];
  }
  /* plans is fixed; every table with random content differs */
  ck_assert_uint_ge(differ, n - 1);
}
END_TEST

START_TEST(designated_subject_has_its_calls)
{
  struct dsr_sample_opts o = opts(3);
  o.ndesignated = 1;
  o.designated[0] = (struct dsr_sample_designated){"subject@example.com", "+15550100001", "Sam Subject",
                                                    3, 1000, true};
  char err[256];
  struct dsr_sample *g = dsr_sample_new(&o, err, sizeof err);
  ck_assert_msg(g != NULL, "%s", err);
  json_t *s = dsr_sample_subjects_json(g);
  json_t *d = json_array_get(s, 0);
  ck_assert_str_eq(json_string_value(json_object_get(d, "label")), "designated-1");
  ck_assert_int_eq(json_integer_value(json_object_get(d, "calls")), 1000);
  ck_assert_uint_eq(json_array_size(json_object_get(d, "caller_workspace_ids")), 3);
  ck_assert(json_integer_value(json_object_get(d, "user_id")) > 0);
  json_decref(s);
  dsr_sample_free(g);
}
END_TEST

START_TEST(bad_options_are_refused)
{
  char err[256];
  struct dsr_sample_opts o = opts(1);
  o.subjects = 0;
  ck_assert(dsr_sample_new(&o, err, sizeof err) == NULL);
  ck_assert(strstr(err, "--subjects") != NULL);
  o = opts(1);
  o.ndesignated = 1;
  o.designated[0] = (struct dsr_sample_designated){"a@example.com", "12345", NULL, 3, 1, false};
  ck_assert(dsr_sample_new(&o, err, sizeof err) == NULL);
  ck_assert(strstr(err, "E.164") != NULL);
  o.designated[0].phone = "+15550100002";
  o.designated[0].workspaces = 50; /* 300 subjects give 6 workspaces */
  ck_assert(dsr_sample_new(&o, err, sizeof err) == NULL);
  ck_assert(strstr(err, "--subject-workspaces") != NULL);
  o = opts(1);
  o.backup_sets = 2; /* without media */
  ck_assert(dsr_sample_new(&o, err, sizeof err) == NULL);
}
END_TEST

Suite *suite_sample(void)
{
  Suite *s = suite_create("sample");
  TCase *tc = tcase_create("generator");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, prng_is_keyed_and_deterministic);
  tcase_add_test(tc, wav_header_is_valid_pcm);
  tcase_add_test(tc, same_seed_same_bytes_other_seed_other_bytes);
  tcase_add_test(tc, designated_subject_has_its_calls);
  tcase_add_test(tc, bad_options_are_refused);
  suite_add_tcase(s, tc);
  return s;
}

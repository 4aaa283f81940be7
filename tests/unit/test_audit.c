/**
 * @file test_audit.c
 * @brief The audit chain's canonical form and hashes (the expected values were
 *        computed independently with Python's hashlib.blake2b, see
 *        docs/audit-format.md), offline verification of exports, time parsing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "suites.h"
#include "dsr/audit.h"
#include "dsr/timeparse.h"

static const struct dsr_audit_entry e1 = {1, 7, "2026-03-02T10:00:00Z",
                                          "0b7e0b0e-8d7a-4f7e-9a51-3f1f2c1d4e5f",
                                          "request.received", "subject",
                                          "{\"jurisdiction\":\"gdpr\",\"type\":\"erasure\"}"};
static const struct dsr_audit_entry e2 = {2, 9, "2026-03-02T10:05:00Z", "", "sweep.receipt",
                                          "system", "{\"collections\":[]}"};
#define H1 "19ba5d263b357d4b4431c4e019c752147fa9cfbfe418cb0d65a17694af39fca3"
#define H2 "8e2e1581d5de40a62d086545a9e09858806ed93e89cbc56d2535b8c86204f7e4"
#define ZERO "0000000000000000000000000000000000000000000000000000000000000000"

START_TEST(canonical_form_is_netstrings)
{
  struct dsr_buf b = {0};
  ck_assert(dsr_audit_canonical(&e1, &b));
  ck_assert_str_eq(b.data, "12:dsr-audit-v1,1:1,1:7,20:2026-03-02T10:00:00Z,"
                           "36:0b7e0b0e-8d7a-4f7e-9a51-3f1f2c1d4e5f,16:request.received,"
                           "7:subject,40:{\"jurisdiction\":\"gdpr\",\"type\":\"erasure\"},");
  dsr_buf_free(&b);
}
END_TEST

START_TEST(link_hashes_match_an_independent_implementation)
{
  unsigned char zero[DSR_AUDIT_HASH_BYTES] = {0}, h1[DSR_AUDIT_HASH_BYTES],
                h2[DSR_AUDIT_HASH_BYTES];
  char hex[DSR_AUDIT_HEX_LEN];
  ck_assert(dsr_audit_link_hash(zero, &e1, h1));
  dsr_audit_hex(h1, hex);
  ck_assert_str_eq(hex, H1);
  ck_assert(dsr_audit_link_hash(h1, &e2, h2));
  dsr_audit_hex(h2, hex);
  ck_assert_str_eq(hex, H2);
  /* Any field change changes the hash; so does the previous link. */
  struct dsr_audit_entry x = e1;
  x.actor = "staff:1";
  ck_assert(dsr_audit_link_hash(zero, &x, h2));
  ck_assert(memcmp(h1, h2, sizeof h1) != 0);
  ck_assert(dsr_audit_link_hash(h1, &e1, h2));
  ck_assert(memcmp(h1, h2, sizeof h1) != 0);
}
END_TEST

START_TEST(unhex_is_strict)
{
  unsigned char h[DSR_AUDIT_HASH_BYTES];
  ck_assert(dsr_audit_unhex(H1, h));
  ck_assert(!dsr_audit_unhex("19BA5D263B357D4B4431C4E019C752147FA9CFBFE418CB0D65A17694AF39FCA3", h));
  ck_assert(!dsr_audit_unhex("19ba", h));
  ck_assert(!dsr_audit_unhex(NULL, h));
}
END_TEST

/** Writes an export of e1, e2 with the given hashes and returns it open for reading. */
static FILE *export_file(const char *data1, const char *hash2, int count)
{
  FILE *f = tmpfile();
  ck_assert_ptr_nonnull(f);
  fprintf(f,
          "{\"format\":\"dsr-audit-export-v1\",\"from\":\"2026-03-01T00:00:00Z\","
          "\"to\":\"2026-04-01T00:00:00Z\",\"count\":%d,\"anchor\":{\"pos\":0,\"hash\":\"" ZERO
          "\"},\"last\":{\"pos\":2,\"hash\":\"" H2 "\"},\"head\":{\"pos\":2,\"hash\":\"" H2
          "\"}}\n",
          count);
  fprintf(f,
          "{\"pos\":1,\"seq\":7,\"at\":\"2026-03-02T10:00:00Z\",\"request_id\":"
          "\"0b7e0b0e-8d7a-4f7e-9a51-3f1f2c1d4e5f\",\"kind\":\"request.received\",\"actor\":"
          "\"subject\",\"data\":\"%s\",\"prev_hash\":\"" ZERO "\",\"hash\":\"" H1 "\"}\n",
          data1);
  fprintf(f,
          "{\"pos\":2,\"seq\":9,\"at\":\"2026-03-02T10:05:00Z\",\"request_id\":null,\"kind\":"
          "\"sweep.receipt\",\"actor\":\"system\",\"data\":\"{\\\"collections\\\":[]}\","
          "\"prev_hash\":\"" H1 "\",\"hash\":\"%s\"}\n",
          hash2);
  rewind(f);
  return f;
}

START_TEST(offline_verification)
{
  const char *good = "{\\\"jurisdiction\\\":\\\"gdpr\\\",\\\"type\\\":\\\"erasure\\\"}";
  struct dsr_audit_verdict v;
  char err[200];
  FILE *f = export_file(good, H2, 2);
  ck_assert(dsr_audit_verify_file(f, &v, err, sizeof err));
  fclose(f);
  ck_assert_msg(v.ok, "%s", v.reason);
  ck_assert_int_eq(v.verified, 2);
  ck_assert_str_eq(v.head, H2);

  /* One altered field: the first link breaks, named with both hashes. */
  f = export_file("{\\\"jurisdiction\\\":\\\"ccpa\\\",\\\"type\\\":\\\"erasure\\\"}", H2, 2);
  ck_assert(dsr_audit_verify_file(f, &v, err, sizeof err));
  fclose(f);
  ck_assert(!v.ok);
  ck_assert_int_eq(v.broken_pos, 1);
  ck_assert_int_eq(v.broken_seq, 7);
  ck_assert_str_eq(v.expected, H1);
  ck_assert_str_ne(v.found, H1);

  /* A forged hash on the last link. */
  f = export_file(good, H1, 2);
  ck_assert(dsr_audit_verify_file(f, &v, err, sizeof err));
  fclose(f);
  ck_assert(!v.ok);
  ck_assert_int_eq(v.broken_pos, 2);
  ck_assert_str_eq(v.found, H2);

  /* A header promising more lines than the file has (truncation). */
  f = export_file(good, H2, 3);
  ck_assert(dsr_audit_verify_file(f, &v, err, sizeof err));
  fclose(f);
  ck_assert(!v.ok);
  ck_assert(strstr(v.reason, "truncated") != NULL);

  f = tmpfile();
  fputs("not an export\n", f);
  rewind(f);
  ck_assert(!dsr_audit_verify_file(f, &v, err, sizeof err));
  fclose(f);
}
END_TEST

START_TEST(time_parsing)
{
  time_t t;
  ck_assert(dsr_time_parse("2026-03-01", &t));
  ck_assert_int_eq((long long)t, 1772323200LL);
  ck_assert(dsr_time_parse("2024-02-29T12:30:00Z", &t));
  ck_assert_int_eq((long long)t, 1709209800LL);
  ck_assert(dsr_time_parse("2024-02-29T14:30:00+02:00", &t));
  ck_assert_int_eq((long long)t, 1709209800LL);
  ck_assert(!dsr_time_parse("2023-02-29", &t));
  ck_assert(!dsr_time_parse("2026-13-01", &t));
  ck_assert(!dsr_time_parse("2026-03-01T25:00:00Z", &t));
  ck_assert(!dsr_time_parse("2026-03-01 10:00", &t));
  ck_assert(!dsr_time_parse("yesterday", &t));
  ck_assert(!dsr_time_parse(NULL, &t));
}
END_TEST

Suite *suite_audit(void)
{
  Suite *s = suite_create("audit");
  TCase *tc = tcase_create("chain");
  tcase_add_test(tc, canonical_form_is_netstrings);
  tcase_add_test(tc, link_hashes_match_an_independent_implementation);
  tcase_add_test(tc, unhex_is_strict);
  tcase_add_test(tc, offline_verification);
  tcase_add_test(tc, time_parsing);
  suite_add_tcase(s, tc);
  return s;
}

/** @file test_crypto.c @brief Keys, keyed hashes, sealing and tokens. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "suites.h"
#include "dsr/crypto.h"

START_TEST(key_file_created_once)
{
  char dir[] = "/tmp/dsr-key-XXXXXX";
  ck_assert_ptr_nonnull(mkdtemp(dir));
  char path[64];
  snprintf(path, sizeof path, "%s/secret.key", dir);
  char err[256];
  ck_assert_msg(dsr_crypto_init(path, err, sizeof err), "%s", err);
  unsigned char h1[DSR_HASH_BYTES], h2[DSR_HASH_BYTES];
  dsr_keyed_hash(DSR_KEY_IDENTITY, "x", 1, h1);
  ck_assert(dsr_crypto_init(path, err, sizeof err)); /* same file, same key */
  dsr_keyed_hash(DSR_KEY_IDENTITY, "x", 1, h2);
  ck_assert_mem_eq(h1, h2, DSR_HASH_BYTES);
  ck_assert_int_eq(access(path, R_OK), 0);
  unlink(path);
  FILE *f = fopen(path, "w");
  fputs("short", f);
  fclose(f);
  ck_assert(!dsr_crypto_init(path, err, sizeof err));
  ck_assert(strstr(err, "exactly 32 bytes") != NULL);
  unlink(path);
  rmdir(dir);
}
END_TEST

START_TEST(purposes_differ_and_seal_roundtrips)
{
  unsigned char key[32] = {1, 2, 3};
  dsr_crypto_init_with_key(key);
  unsigned char a[DSR_HASH_BYTES], b[DSR_HASH_BYTES];
  dsr_keyed_hash(DSR_KEY_IDENTITY, "email:a@b.example", 17, a);
  dsr_keyed_hash(DSR_KEY_TOKEN, "email:a@b.example", 17, b);
  ck_assert(memcmp(a, b, DSR_HASH_BYTES) != 0);
  unsigned char *sealed, *plain;
  size_t sl, pl;
  ck_assert(dsr_seal("+4915112345678", 14, &sealed, &sl));
  ck_assert(memmem(sealed, sl, "+4915112345678", 14) == NULL);
  ck_assert(dsr_unseal(sealed, sl, &plain, &pl));
  ck_assert_uint_eq(pl, 14);
  ck_assert_str_eq((char *)plain, "+4915112345678");
  free(plain);
  sealed[sl - 1] ^= 1; /* tampering is detected */
  ck_assert(!dsr_unseal(sealed, sl, &plain, &pl));
  free(sealed);
}
END_TEST

START_TEST(tokens_are_long_and_distinct)
{
  char *t1 = dsr_token_new(), *t2 = dsr_token_new();
  ck_assert_uint_eq(strlen(t1), 43); /* 256 bits in base64url */
  ck_assert_str_ne(t1, t2);
  ck_assert_uint_eq(strspn(t1, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
                    strlen(t1));
  free(t1);
  free(t2);
}
END_TEST

Suite *suite_crypto(void)
{
  Suite *s = suite_create("crypto");
  TCase *tc = tcase_create("keys");
  tcase_add_test(tc, key_file_created_once);
  tcase_add_test(tc, purposes_differ_and_seal_roundtrips);
  tcase_add_test(tc, tokens_are_long_and_distinct);
  suite_add_tcase(s, tc);
  return s;
}

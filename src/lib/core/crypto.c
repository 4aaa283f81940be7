/** @file crypto.c @brief Master key, derived subkeys, keyed hashes and sealing. */
#include "config.h"
#include "dsr/crypto.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define KDF_CONTEXT "dsrdkeys"

static unsigned char subkeys[6][32];
static bool ready;

static void derive(const unsigned char master[32])
{
  for (uint64_t p = 1; p < DSR_ARRAY_LEN(subkeys); p++)
    crypto_kdf_derive_from_key(subkeys[p], 32, p, KDF_CONTEXT, master);
  ready = true;
}

void dsr_crypto_init_with_key(const unsigned char key[32])
{
  if (sodium_init() < 0)
    abort();
  derive(key);
}

static bool read_key(int fd, unsigned char key[32])
{
  size_t got = 0;
  while (got < 32) {
    ssize_t n = read(fd, key + got, 32 - got);
    if (n <= 0)
      return false;
    got += (size_t)n;
  }
  return true;
}

bool dsr_crypto_init(const char *key_file, char *err, size_t errlen)
{
  if (sodium_init() < 0) {
    snprintf(err, errlen, "libsodium failed to initialise");
    return false;
  }
  unsigned char key[32];
  bool ok = false;
  int fd = open(key_file, O_RDONLY | O_CLOEXEC);
  if (fd < 0 && errno == ENOENT) {
    /* First use: create the key exclusively so two starting processes agree on one key. */
    fd = open(key_file, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd >= 0) {
      randombytes_buf(key, sizeof key);
      bool written = write(fd, key, sizeof key) == (ssize_t)sizeof key && fsync(fd) == 0;
      close(fd);
      if (!written) {
        unlink(key_file);
        snprintf(err, errlen, "%s: cannot write the new key", key_file);
        goto cleanup;
      }
    }
    fd = open(key_file, O_RDONLY | O_CLOEXEC);
  }
  if (fd < 0) {
    snprintf(err, errlen, "%s: cannot open key file: %s", key_file, strerror(errno));
    goto cleanup;
  }
  struct stat st;
  if (fstat(fd, &st) != 0 || st.st_size != 32 || !read_key(fd, key)) {
    snprintf(err, errlen, "%s: the key file must hold exactly 32 bytes", key_file);
    close(fd);
    goto cleanup;
  }
  close(fd);
  derive(key);
  ok = true;
cleanup:
  sodium_memzero(key, sizeof key);
  return ok;
}

void dsr_keyed_hash(enum dsr_key_purpose purpose, const void *data, size_t len,
                    unsigned char out[DSR_HASH_BYTES])
{
  if (!ready)
    abort(); /* a programming error: hashing with an all-zero key would be silent and wrong */
  crypto_generichash(out, DSR_HASH_BYTES, data, len, subkeys[purpose], 32);
}

void dsr_keyed_hmac(enum dsr_key_purpose purpose, const void *data, size_t len,
                    unsigned char out[DSR_HASH_BYTES])
{
  if (!ready)
    abort();
  crypto_auth_hmacsha256_state st;
  crypto_auth_hmacsha256_init(&st, subkeys[purpose], 32);
  crypto_auth_hmacsha256_update(&st, data, len);
  crypto_auth_hmacsha256_final(&st, out);
  sodium_memzero(&st, sizeof st);
}

bool dsr_seal(const void *plain, size_t len, unsigned char **out, size_t *outlen)
{
  if (!ready)
    abort();
  size_t n = crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES + len;
  unsigned char *buf = malloc(n);
  if (!buf)
    return false;
  randombytes_buf(buf, crypto_secretbox_NONCEBYTES);
  crypto_secretbox_easy(buf + crypto_secretbox_NONCEBYTES, plain, len, buf,
                        subkeys[DSR_KEY_SEAL]);
  *out = buf;
  *outlen = n;
  return true;
}

bool dsr_unseal(const unsigned char *in, size_t inlen, unsigned char **out, size_t *outlen)
{
  if (inlen < crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES)
    return false;
  size_t n = inlen - crypto_secretbox_NONCEBYTES - crypto_secretbox_MACBYTES;
  unsigned char *buf = malloc(n + 1);
  if (!buf)
    return false;
  if (crypto_secretbox_open_easy(buf, in + crypto_secretbox_NONCEBYTES,
                                 inlen - crypto_secretbox_NONCEBYTES, in,
                                 subkeys[DSR_KEY_SEAL]) != 0) {
    free(buf);
    return false;
  }
  buf[n] = '\0';
  *out = buf;
  *outlen = n;
  return true;
}

char *dsr_b64url(const unsigned char *p, size_t len)
{
  size_t n = sodium_base64_ENCODED_LEN(len, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  char *s = malloc(n);
  if (s)
    sodium_bin2base64(s, n, p, len, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  return s;
}

char *dsr_token_new(void)
{
  unsigned char raw[DSR_TOKEN_BYTES];
  randombytes_buf(raw, sizeof raw);
  char *s = dsr_b64url(raw, sizeof raw);
  sodium_memzero(raw, sizeof raw);
  return s;
}

/** @file webhook_sign.c @brief Standard Webhooks v1 signatures and whsec_ secrets. */
#include "config.h"
#include "dsr/webhook.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *dsr_whsec_new(void)
{
  unsigned char raw[DSR_WHSEC_BYTES];
  randombytes_buf(raw, sizeof raw);
  size_t n = sodium_base64_ENCODED_LEN(sizeof raw, sodium_base64_VARIANT_ORIGINAL);
  char *s = malloc(sizeof DSR_WHSEC_PREFIX - 1 + n);
  if (s) {
    memcpy(s, DSR_WHSEC_PREFIX, sizeof DSR_WHSEC_PREFIX - 1);
    sodium_bin2base64(s + sizeof DSR_WHSEC_PREFIX - 1, n, raw, sizeof raw,
                      sodium_base64_VARIANT_ORIGINAL);
  }
  sodium_memzero(raw, sizeof raw);
  return s;
}

/* Decodes the base64 after "whsec_" into @p key; *klen its length. */
static bool secret_key(const char *whsec, unsigned char *key, size_t keycap, size_t *klen)
{
  const char *b64 = whsec;
  if (!strncmp(b64, DSR_WHSEC_PREFIX, sizeof DSR_WHSEC_PREFIX - 1))
    b64 += sizeof DSR_WHSEC_PREFIX - 1;
  return sodium_base642bin(key, keycap, b64, strlen(b64), NULL, klen, NULL,
                           sodium_base64_VARIANT_ORIGINAL) == 0 &&
         *klen > 0;
}

/* Raw HMAC-SHA256 of "id.ts.body". */
static bool mac(const char *whsec, const char *msg_id, long long ts, const char *body,
                size_t body_len, unsigned char out[crypto_auth_hmacsha256_BYTES])
{
  unsigned char key[128];
  size_t klen = 0;
  if (!secret_key(whsec, key, sizeof key, &klen))
    return false;
  char tsbuf[24];
  snprintf(tsbuf, sizeof tsbuf, "%lld", ts);
  crypto_auth_hmacsha256_state st;
  crypto_auth_hmacsha256_init(&st, key, klen);
  crypto_auth_hmacsha256_update(&st, (const unsigned char *)msg_id, strlen(msg_id));
  crypto_auth_hmacsha256_update(&st, (const unsigned char *)".", 1);
  crypto_auth_hmacsha256_update(&st, (const unsigned char *)tsbuf, strlen(tsbuf));
  crypto_auth_hmacsha256_update(&st, (const unsigned char *)".", 1);
  crypto_auth_hmacsha256_update(&st, (const unsigned char *)body, body_len);
  crypto_auth_hmacsha256_final(&st, out);
  sodium_memzero(key, sizeof key);
  sodium_memzero(&st, sizeof st);
  return true;
}

char *dsr_webhook_sign(const char *whsec, const char *msg_id, long long ts, const char *body,
                       size_t body_len)
{
  unsigned char m[crypto_auth_hmacsha256_BYTES];
  if (!mac(whsec, msg_id, ts, body, body_len, m))
    return NULL;
  size_t n = sodium_base64_ENCODED_LEN(sizeof m, sodium_base64_VARIANT_ORIGINAL);
  char *s = malloc(3 + n);
  if (s) {
    memcpy(s, "v1,", 3);
    sodium_bin2base64(s + 3, n, m, sizeof m, sodium_base64_VARIANT_ORIGINAL);
  }
  return s;
}

bool dsr_webhook_verify(const char *whsec, const char *msg_id, long long ts, const char *body,
                        size_t body_len, const char *header)
{
  unsigned char want[crypto_auth_hmacsha256_BYTES];
  if (!header || !mac(whsec, msg_id, ts, body, body_len, want))
    return false;
  bool found = false;
  const char *p = header;
  while (*p) {
    while (*p == ' ')
      p++;
    size_t len = strcspn(p, " ");
    if (len > 3 && !strncmp(p, "v1,", 3)) {
      unsigned char got[crypto_auth_hmacsha256_BYTES];
      size_t glen = 0;
      if (sodium_base642bin(got, sizeof got, p + 3, len - 3, NULL, &glen, NULL,
                            sodium_base64_VARIANT_ORIGINAL) == 0 &&
          glen == sizeof got && sodium_memcmp(got, want, sizeof want) == 0)
        found = true;
    }
    p += len;
  }
  return found;
}

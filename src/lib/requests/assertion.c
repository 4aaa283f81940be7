/**
 * @file assertion.c
 * @brief Account assertions: proof from the platform's login system that the
 *        logged-in account is the request's subject (see verify.h and
 *        dsrd(8)). Format: "v1." B64 "." SIG where B64 is the unpadded
 *        base64url of a JSON object {"sub": account id, "rid": request id,
 *        "iat": issued-at epoch seconds, and optionally "email" and "phone":
 *        identities the login system vouches for} and SIG the unpadded
 *        base64url of HMAC-SHA256(key, "v1." B64).
 */
#include "config.h"
#include "dsr/crypto.h"
#include "dsr/verify.h"

#include <stdlib.h>
#include <string.h>

#define CLOCK_SKEW_S 60
#define MAX_TOKEN 2048

static void mac(const unsigned char *key, size_t keylen, const char *msg, size_t len,
                unsigned char out[crypto_auth_hmacsha256_BYTES])
{
  crypto_auth_hmacsha256_state st;
  crypto_auth_hmacsha256_init(&st, key, keylen);
  crypto_auth_hmacsha256_update(&st, (const unsigned char *)msg, len);
  crypto_auth_hmacsha256_final(&st, out);
}

void dsr_assertion_clear(struct dsr_assertion *a)
{
  free(a->sub);
  free(a->email);
  free(a->phone);
  memset(a, 0, sizeof *a);
}

char *dsr_assertion_make(const unsigned char *key, size_t keylen, const char *sub,
                         const char *request_id, time_t iat)
{
  return dsr_assertion_make_vouching(key, keylen, sub, NULL, NULL, request_id, iat);
}

char *dsr_assertion_make_vouching(const unsigned char *key, size_t keylen, const char *sub,
                                  const char *email, const char *phone, const char *request_id,
                                  time_t iat)
{
  json_t *p = json_pack("{s:s, s:s, s:I}", "sub", sub, "rid", request_id, "iat",
                        (json_int_t)iat);
  if (p && email)
    json_object_set_new(p, "email", json_string(email));
  if (p && phone)
    json_object_set_new(p, "phone", json_string(phone));
  char *text = p ? json_dumps(p, JSON_COMPACT) : NULL;
  json_decref(p);
  char *b64 = text ? dsr_b64url((const unsigned char *)text, strlen(text)) : NULL;
  free(text);
  char *signed_part = b64 ? dsr_asprintf("v1.%s", b64) : NULL;
  free(b64);
  char *out = NULL;
  if (signed_part) {
    unsigned char m[crypto_auth_hmacsha256_BYTES];
    mac(key, keylen, signed_part, strlen(signed_part), m);
    char *sig = dsr_b64url(m, sizeof m);
    if (sig)
      out = dsr_asprintf("%s.%s", signed_part, sig);
    free(sig);
  }
  free(signed_part);
  return out;
}

/* A copy of optional string claim @p name into *out; false when present but not a string. */
static bool optional_claim(const json_t *p, const char *name, char **out)
{
  const json_t *v = json_object_get(p, name);
  if (!v)
    return true;
  const char *s = json_string_value(v);
  if (!s || !*s)
    return false;
  *out = strdup(s);
  return *out != NULL;
}

bool dsr_assertion_check(const char *token, const unsigned char *key, size_t keylen,
                         const char *request_id, time_t now, long max_age_s,
                         struct dsr_assertion *out)
{
  memset(out, 0, sizeof *out);
  size_t n = strnlen(token, MAX_TOKEN + 1);
  if (n > MAX_TOKEN || strncmp(token, "v1.", 3) != 0)
    return false;
  const char *dot = strchr(token + 3, '.');
  if (!dot || strchr(dot + 1, '.'))
    return false;
  unsigned char want[crypto_auth_hmacsha256_BYTES], have[crypto_auth_hmacsha256_BYTES + 8];
  mac(key, keylen, token, (size_t)(dot - token), want);
  size_t hl = 0;
  if (sodium_base642bin(have, sizeof have, dot + 1, strlen(dot + 1), NULL, &hl, NULL,
                        sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
      hl != sizeof want || sodium_memcmp(have, want, sizeof want) != 0)
    return false;
  size_t b64len = (size_t)(dot - (token + 3));
  unsigned char *json = malloc(b64len + 1);
  size_t jl = 0;
  bool ok = false;
  json_t *p = NULL;
  if (!json || sodium_base642bin(json, b64len + 1, token + 3, b64len, NULL, &jl, NULL,
                                 sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0)
    goto cleanup;
  p = json_loadb((const char *)json, jl, JSON_REJECT_DUPLICATES, NULL);
  const char *s = json_string_value(json_object_get(p, "sub"));
  const char *rid = json_string_value(json_object_get(p, "rid"));
  json_t *iat = json_object_get(p, "iat");
  if (!s || !*s || !rid || strcmp(rid, request_id) != 0 || !json_is_integer(iat))
    goto cleanup;
  long long t = json_integer_value(iat);
  if (t > (long long)now + CLOCK_SKEW_S || (long long)now - t > max_age_s)
    goto cleanup;
  out->sub = strdup(s);
  ok = out->sub && optional_claim(p, "email", &out->email) &&
       optional_claim(p, "phone", &out->phone);
cleanup:
  json_decref(p);
  free(json);
  if (!ok)
    dsr_assertion_clear(out);
  return ok;
}

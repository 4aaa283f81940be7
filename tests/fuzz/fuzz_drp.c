/**
 * @file fuzz_drp.c
 * @brief The DRP signed body decoder (issue 18): the input is a request body
 *        (base64 of an Ed25519 combined-mode message, section 3.07.1). It must
 *        never open unless the signature is the fixed key's, never crash, and
 *        what opens must be a JSON object. The input is also tried as an agents
 *        directory, a verify key and an agent's ISO 8601 time.
 */
#include "fuzz.h"
#include "dsr/drp.h"

#include <sodium.h>

static unsigned char pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
  (void)argc;
  (void)argv;
  fuzz_setup();
  unsigned char seed[crypto_sign_SEEDBYTES];
  memset(seed, 0x17, sizeof seed);
  crypto_sign_seed_keypair(pk, sk, seed);
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  char *s = fuzz_str(data, size);
  if (!s)
    return 0;
  json_t *claims = NULL;
  unsigned char digest[32];
  enum dsr_drp_open o = dsr_drp_open_signed(s, size, pk, &claims, digest);
  if (o == DSR_DRP_OPEN_OK) {
    /* Only a message this key signed opens: check it with libsodium directly. */
    unsigned char bin[4096];
    size_t n = 0;
    const char *b = s;
    size_t len = size;
    while (len && *b && strchr(" \t\r\n", *b)) {
      b++;
      len--;
    }
    while (len && b[len - 1] && strchr(" \t\r\n", b[len - 1]))
      len--;
    if (!json_is_object(claims) ||
        sodium_base642bin(bin, sizeof bin, b, len, "\r\n", &n, NULL,
                          sodium_base64_VARIANT_ORIGINAL) != 0 ||
        crypto_sign_verify_detached(bin, bin + crypto_sign_BYTES, n - crypto_sign_BYTES, pk) != 0)
      abort();
  } else if (claims) {
    abort(); /* a failure hands out no claims */
  }
  json_decref(claims);
  /* The input signed for real must always open (and the same claims come back). */
  if (size < 1024) {
    unsigned char sm[1024 + crypto_sign_BYTES];
    unsigned long long smlen = 0;
    crypto_sign(sm, &smlen, data, size, sk);
    char b64[2 * sizeof sm];
    sodium_bin2base64(b64, sizeof b64, sm, (size_t)smlen, sodium_base64_VARIANT_ORIGINAL);
    json_error_t e;
    json_t *want = json_loadb(s, size, JSON_REJECT_DUPLICATES, &e);
    o = dsr_drp_open_signed(b64, strlen(b64), pk, &claims, digest);
    if (json_is_object(want) && dsr_utf8_valid(s, size) && o != DSR_DRP_OPEN_OK)
      abort();
    if (o == DSR_DRP_OPEN_OK && !json_equal(want, claims))
      abort();
    json_decref(want);
    json_decref(claims);
  }
  char err[200];
  dsr_drp_directory_free(dsr_drp_directory_parse(s, size, err, sizeof err));
  unsigned char key[DSR_DRP_KEY_BYTES];
  (void)dsr_drp_key_decode(s, key);
  time_t t;
  (void)dsr_drp_time_parse(s, &t);
  free(s);
  return 0;
}

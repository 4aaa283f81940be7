/**
 * @file crypto.h
 * @brief Keys and primitives (libsodium only). One 32-byte master key, read
 *        from secret_key_file (created on first use with mode 0600), derives
 *        purpose-bound subkeys: identity lookup hashes, token hashes and the
 *        encryption of stored personal data.
 */
#ifndef DSR_CRYPTO_H
#define DSR_CRYPTO_H

#include <sodium.h>
#include "dsr/util.h"

#define DSR_HASH_BYTES 32
#define DSR_TOKEN_BYTES 32 /**< raw random bytes in a bearer token (256 bits) */

enum dsr_key_purpose {
  DSR_KEY_IDENTITY = 1, /**< keyed hashes of identities (lookup, ledger, suppression) */
  DSR_KEY_TOKEN = 2,    /**< keyed hashes of bearer tokens and codes */
  DSR_KEY_SEAL = 3,     /**< secretbox of stored personal data */
  DSR_KEY_IDEMPOTENCY = 4,
  DSR_KEY_PSEUDONYM = 5, /**< HMAC-SHA256 pseudonyms of masked fields (erasure) */
};

/** Loads or creates the master key. Must run before any other call here. */
DSR_MUST_USE bool dsr_crypto_init(const char *key_file, char *err, size_t errlen);
/** Uses the given key (tests). */
void dsr_crypto_init_with_key(const unsigned char key[32]);

/** Keyed BLAKE2b of @p data under the subkey of @p purpose. */
void dsr_keyed_hash(enum dsr_key_purpose purpose, const void *data, size_t len,
                    unsigned char out[DSR_HASH_BYTES]);

/** HMAC-SHA256 of @p data under the subkey of @p purpose (pseudonyms). */
void dsr_keyed_hmac(enum dsr_key_purpose purpose, const void *data, size_t len,
                    unsigned char out[DSR_HASH_BYTES]);

/**
 * Encrypts @p len bytes; *out (nonce || ciphertext) is malloc'd, caller frees.
 */
DSR_MUST_USE bool dsr_seal(const void *plain, size_t len, unsigned char **out, size_t *outlen);
/** Decrypts what dsr_seal() produced; *out is NUL-terminated, caller frees. */
DSR_MUST_USE bool dsr_unseal(const unsigned char *in, size_t inlen, unsigned char **out,
                             size_t *outlen);

/** A fresh random bearer token in base64url (no padding). Caller frees. */
char *dsr_token_new(void);

/** Base64url (no padding) of @p len bytes; caller frees. */
char *dsr_b64url(const unsigned char *p, size_t len);

#endif

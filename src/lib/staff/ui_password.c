/** @file ui_password.c @brief argon2id password hashes for staff logins (libsodium crypto_pwhash_str). */
#include "config.h"
#include "dsr/ui_auth.h"

#include <sodium.h>
#include <string.h>

bool dsr_password_hash(const char *password, char *out, size_t outlen)
{
  size_t n = strlen(password);
  if (n < DSR_PASSWORD_MIN || n > DSR_PASSWORD_MAX || outlen < crypto_pwhash_STRBYTES)
    return false;
  return crypto_pwhash_str_alg(out, password, n, DSR_PWHASH_OPSLIMIT,
                               (size_t)DSR_PWHASH_MEMLIMIT, crypto_pwhash_ALG_ARGON2ID13) == 0;
}

bool dsr_password_verify(const char *hash, const char *password)
{
  size_t n = strlen(password);
  if (!hash || strncmp(hash, crypto_pwhash_argon2id_STRPREFIX,
                       sizeof crypto_pwhash_argon2id_STRPREFIX - 1) != 0 ||
      strlen(hash) >= crypto_pwhash_STRBYTES || n > DSR_PASSWORD_MAX)
    return false;
  return crypto_pwhash_str_verify(hash, password, n) == 0;
}

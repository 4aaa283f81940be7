/** @file audit_hash.c @brief Canonical serialisation and link hashes of audit entries. */
#include "config.h"
#include "dsr/audit.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

static bool netstring(struct dsr_buf *out, const char *s)
{
  size_t n = strlen(s);
  return dsr_buf_printf(out, "%zu:", n) && dsr_buf_append(out, s, n) && dsr_buf_puts(out, ",");
}

static bool netstring_ll(struct dsr_buf *out, long long v)
{
  char num[24];
  snprintf(num, sizeof num, "%lld", v);
  return netstring(out, num);
}

bool dsr_audit_canonical(const struct dsr_audit_entry *e, struct dsr_buf *out)
{
  return netstring(out, DSR_AUDIT_FORMAT) && netstring_ll(out, e->pos) &&
         netstring_ll(out, e->seq) && netstring(out, e->at) &&
         netstring(out, e->request_id ? e->request_id : "") && netstring(out, e->kind) &&
         netstring(out, e->actor) && netstring(out, e->data);
}

bool dsr_audit_link_hash(const unsigned char prev[DSR_AUDIT_HASH_BYTES],
                         const struct dsr_audit_entry *e, unsigned char out[DSR_AUDIT_HASH_BYTES])
{
  struct dsr_buf canon = {0};
  bool ok = false;
  if (!dsr_audit_canonical(e, &canon))
    goto cleanup;
  crypto_generichash_state st;
  crypto_generichash_init(&st, NULL, 0, DSR_AUDIT_HASH_BYTES);
  crypto_generichash_update(&st, prev, DSR_AUDIT_HASH_BYTES);
  crypto_generichash_update(&st, (const unsigned char *)canon.data, canon.len);
  crypto_generichash_final(&st, out, DSR_AUDIT_HASH_BYTES);
  ok = true;
cleanup:
  dsr_buf_free(&canon);
  return ok;
}

void dsr_audit_hex(const unsigned char h[DSR_AUDIT_HASH_BYTES], char out[DSR_AUDIT_HEX_LEN])
{
  sodium_bin2hex(out, DSR_AUDIT_HEX_LEN, h, DSR_AUDIT_HASH_BYTES);
}

bool dsr_audit_unhex(const char *hex, unsigned char out[DSR_AUDIT_HASH_BYTES])
{
  size_t len = 0;
  if (!hex || strlen(hex) != 2 * DSR_AUDIT_HASH_BYTES)
    return false;
  for (const char *p = hex; *p; p++)
    if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
      return false; /* lower case only: one spelling per hash */
  return sodium_hex2bin(out, DSR_AUDIT_HASH_BYTES, hex, strlen(hex), NULL, &len, NULL) == 0 &&
         len == DSR_AUDIT_HASH_BYTES;
}

/** @file mask.c @brief Masked identities for staff views. */
#include "config.h"
#include "dsr/mask.h"
#include "dsr/util.h"

#include <stdio.h>
#include <string.h>

/* The first character shown, or '*' when it is not printable ASCII (half a UTF-8 sequence). */
static char first(const char *s)
{
  unsigned char c = (unsigned char)s[0];
  return c >= 0x21 && c < 0x7f ? (char)c : '*';
}

static void mask_email(const char *v, char *out, size_t outlen)
{
  const char *at = strrchr(v, '@');
  if (!at || at == v || !at[1]) {
    dsr_strlcpy(out, "***", outlen);
    return;
  }
  const char *dot = strrchr(at + 1, '.');
  snprintf(out, outlen, "%c***@%c***%s", first(v), first(at + 1), dot && dot > at + 1 ? dot : "");
}

static void mask_phone(const char *v, char *out, size_t outlen)
{
  size_t n = strlen(v);
  if (n < 7) {
    dsr_strlcpy(out, "***", outlen);
    return;
  }
  if (outlen < n + 1) {
    dsr_strlcpy(out, "***", outlen);
    return;
  }
  memcpy(out, v, 3);
  for (size_t i = 3; i < n - 2; i++)
    out[i] = '*';
  memcpy(out + n - 2, v + n - 2, 3);
}

void dsr_mask_identity(const char *kind, const char *value, char *out, size_t outlen)
{
  if (!value || !*value)
    dsr_strlcpy(out, "", outlen);
  else if (!strcmp(kind, "email"))
    mask_email(value, out, outlen);
  else if (!strcmp(kind, "phone"))
    mask_phone(value, out, outlen);
  else
    snprintf(out, outlen, "%c***", first(value));
}

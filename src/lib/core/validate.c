/** @file validate.c @brief Identity and value validators (pcre2, compiled once). */
#include "config.h"
#include "dsr/validate.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <ctype.h>
#include <pcre2.h>
#include <stdlib.h>
#include <string.h>

enum { P_EMAIL, P_PHONE, P_PHONE_WRITTEN, P_ACCOUNT, P_LANG, P_UUID, P_COUNT };

static const char *const sources[P_COUNT] = {
    /* A pragmatic subset of RFC 5321 addresses: dotted atoms, a dotted domain with a TLD. */
    [P_EMAIL] = ("^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
                 "@([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\\.)+[A-Za-z]{2,63}$"),
    [P_PHONE] = "^\\+[1-9][0-9]{7,14}$",
    /* As people write numbers: digits with spaces, dashes, dots, slashes and brackets. */
    [P_PHONE_WRITTEN] = "^[+(]?[0-9][0-9 ().\\-/]{3,30}$",
    [P_ACCOUNT] = "^[A-Za-z0-9][A-Za-z0-9._:@-]{0,127}$",
    [P_LANG] = "^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$",
    [P_UUID] = "^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$",
};

static pcre2_code *compiled[P_COUNT];

bool dsr_validate_init(void)
{
  for (int i = 0; i < P_COUNT; i++) {
    if (compiled[i])
      continue;
    int errcode;
    PCRE2_SIZE erroff;
    compiled[i] = pcre2_compile((PCRE2_SPTR)sources[i], PCRE2_ZERO_TERMINATED,
                                /* "$" is the end, not "before a final newline" */
                                PCRE2_UTF | PCRE2_DOLLAR_ENDONLY, &errcode,
                                &erroff, NULL);
    if (!compiled[i])
      return false;
    (void)pcre2_jit_compile(compiled[i], PCRE2_JIT_COMPLETE); /* optional speed-up */
  }
  return true;
}

void dsr_validate_done(void)
{
  for (int i = 0; i < P_COUNT; i++) {
    pcre2_code_free(compiled[i]);
    compiled[i] = NULL;
  }
}

static bool matches(int which, const char *s)
{
  if (!compiled[which] && !dsr_validate_init())
    return false;
  pcre2_match_data *md = pcre2_match_data_create_from_pattern(compiled[which], NULL);
  if (!md)
    return false;
  int rc = pcre2_match(compiled[which], (PCRE2_SPTR)s, strlen(s), 0, 0, md, NULL);
  pcre2_match_data_free(md);
  return rc >= 0;
}

bool dsr_valid_email(const char *s, const char **why)
{
  if (strlen(s) > 254 || !matches(P_EMAIL, s)) {
    *why = "is not a valid email address";
    return false;
  }
  const char *at = strrchr(s, '@');
  if (at - s > 64) {
    *why = "has a local part longer than 64 characters";
    return false;
  }
  return true;
}

bool dsr_valid_phone(const char *s, const char **why)
{
  if (!matches(P_PHONE, s)) {
    *why = "is not an E.164 phone number (+ then 8 to 15 digits)";
    return false;
  }
  return true;
}

bool dsr_valid_phone_written(const char *s, const char **why)
{
  if (!matches(P_PHONE_WRITTEN, s)) {
    *why = "is not a phone number (digits, with + and the country code)";
    return false;
  }
  return true;
}

bool dsr_valid_account_id(const char *s, const char **why)
{
  if (!matches(P_ACCOUNT, s)) {
    *why = "is not a valid account id (letters, digits, . _ : @ -)";
    return false;
  }
  return true;
}

bool dsr_valid_language(const char *s, const char **why)
{
  if (strlen(s) > 35 || !matches(P_LANG, s)) {
    *why = "is not a language tag such as en or pt-BR";
    return false;
  }
  return true;
}

bool dsr_valid_uuid(const char *s, const char **why)
{
  if (!matches(P_UUID, s)) {
    *why = "is not a UUID";
    return false;
  }
  return true;
}

bool dsr_valid_text(const char *s, const char **why)
{
  if (!dsr_utf8_valid(s, strlen(s))) {
    *why = "is not valid UTF-8";
    return false;
  }
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    if (*p < 0x20 && *p != '\n' && *p != '\t' && *p != '\r') {
      *why = "contains control characters";
      return false;
    }
  }
  return true;
}

char *dsr_normalize_email(const char *s)
{
  char *out = strdup(s);
  if (out)
    for (char *p = out; *p; p++)
      *p = (char)tolower((unsigned char)*p);
  return out;
}

/**
 * @file queue_search.c
 * @brief What the staff queue's search box means: a request id prefix, or
 *        the subject's email address or phone number turned into the same
 *        keyed lookup hash intake stored (DSR_KEY_IDENTITY over
 *        "kind:normalised value"), so the search never needs identities in
 *        clear.
 */
#include "config.h"
#include "dsr/admin.h"
#include "dsr/crypto.h"
#include "dsr/phone.h"
#include "dsr/util.h"
#include "dsr/validate.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

static bool id_prefix(const char *q)
{
  size_t n = strlen(q);
  if (n < 4 || n > 36)
    return false;
  for (const char *p = q; *p; p++)
    if (!isxdigit((unsigned char)*p) && *p != '-')
      return false;
  return true;
}

/* A phone number as written by a person ("+44 20 7946 0999", "0044-20..."): E.164 or NULL. */
static char *phone_of(const char *q)
{
  char digits[40];
  size_t n = 0;
  bool plus = false;
  for (const char *p = q; *p; p++) {
    if (isdigit((unsigned char)*p)) {
      if (n + 1 >= sizeof digits)
        return NULL;
      digits[n++] = *p;
    } else if (*p == '+' && n == 0) {
      plus = true;
    } else if (!strchr(" -./()", *p)) {
      return NULL;
    }
  }
  digits[n] = '\0';
  if (n < 6)
    return NULL;
  const char *d = digits;
  if (!plus && !strncmp(d, "00", 2)) /* international prefix */
    d += 2, plus = true;
  if (!plus)
    return NULL;
  char *e = dsr_asprintf("+%s", d);
  char *lib = e ? dsr_phone_e164(e, NULL) : NULL;
  if (lib) {
    free(e);
    return lib;
  }
  return e;
}

enum dsr_queue_search dsr_queue_search_parse(const char *q, char prefix[40],
                                             unsigned char hash[DSR_HASH_BYTES])
{
  if (!q || !*q)
    return DSR_QS_NONE;
  /* "0044 20..." is a phone number; another run of hex digits and dashes an id prefix */
  bool intl = !strncmp(q, "00", 2) && strlen(q) >= 10 &&
              strspn(q, "0123456789 -./()") == strlen(q);
  if (!intl && id_prefix(q)) {
    size_t i = 0;
    for (; q[i]; i++)
      prefix[i] = (char)tolower((unsigned char)q[i]);
    prefix[i] = '\0';
    return DSR_QS_ID;
  }
  const char *kind = NULL;
  char *norm = NULL;
  if (strchr(q, '@')) {
    kind = "email";
    norm = dsr_normalize_email(q);
  } else if ((norm = phone_of(q))) {
    kind = "phone";
  }
  if (!norm)
    return DSR_QS_INVALID;
  char *hinput = dsr_asprintf("%s:%s", kind, norm);
  free(norm);
  if (!hinput)
    return DSR_QS_INVALID;
  dsr_keyed_hash(DSR_KEY_IDENTITY, hinput, strlen(hinput), hash);
  free(hinput);
  return DSR_QS_IDENTITY;
}

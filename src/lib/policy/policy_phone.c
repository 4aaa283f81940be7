/**
 * @file policy_phone.c
 * @brief Phone numbers in the policy: a jurisdiction's "phone_region" (the
 *        region national numbers are read in) and an identity column's
 *        declared "format" (e164, digits, national:XX, any), validated with
 *        libphonenumber's region codes (phone.h).
 */
#include "config.h"
#include "policy_int.h"
#include "dsr/phone.h"

#include <stdlib.h>
#include <string.h>

void pcheck_phone_region(struct pctx *c, const json_t *jur, const char *jptr)
{
  const json_t *v = json_object_get(jur, "phone_region");
  if (!v || !json_is_string(v)) /* absent, or a type error pcheck_obj reported */
    return;
  if (!dsr_phone_region_valid(json_string_value(v))) {
    char *p = pptr(jptr, "phone_region");
    pdiag(c, DSR_DIAG_ERROR, p ? p : jptr, false,
          "unknown region \"%s\" (expected an ISO 3166 alpha-2 code in upper case, such as "
          "\"ES\" or \"DE\")",
          json_string_value(v));
    free(p);
  }
}

bool pcheck_identity_format(struct pctx *c, const json_t *ident, const char *eptr,
                            struct dsr_pidentity *id)
{
  const json_t *v = json_object_get(ident, "format");
  id->format = DSR_PHONE_FMT_NONE;
  id->format_region[0] = '\0';
  if (!v || !json_is_string(v))
    return true;
  char *p = pptr(eptr, "format");
  bool ok = false;
  if (id->kind != DSR_ID_PHONE)
    pdiag(c, DSR_DIAG_ERROR, p ? p : eptr, true,
          "only phone identities have a format (expected kind \"phone\" or no format)");
  else if (json_object_get(ident, "normalize"))
    pdiag(c, DSR_DIAG_ERROR, p ? p : eptr, true,
          "give normalize or format, not both (expected format alone for phone numbers)");
  else if (!dsr_phone_format_parse(json_string_value(v), &id->format, id->format_region))
    pdiag(c, DSR_DIAG_ERROR, p ? p : eptr, false,
          "bad phone format \"%s\" (expected e164, digits, any, or national:XX with XX a "
          "region code such as DE)",
          json_string_value(v));
  else
    ok = true;
  free(p);
  return ok;
}

const char *dsr_policy_phone_region(const struct dsr_policy *p)
{
  const json_t *dj = dsr_policy_section(p, "default_jurisdiction");
  const json_t *jurs = dsr_policy_section(p, "jurisdictions");
  if (!json_is_string(dj) || !json_is_object(jurs))
    return NULL;
  const json_t *r = json_object_get(json_object_get(jurs, json_string_value(dj)), "phone_region");
  return json_is_string(r) && dsr_phone_region_valid(json_string_value(r)) ? json_string_value(r)
                                                                            : NULL;
}

/** @file jurisdiction.c @brief Built-in jurisdictions (statutory response times). */
#include "config.h"
#include "dsr/jurisdiction.h"

#include <string.h>

static const struct dsr_jurisdiction table[] = {
    {"gdpr", "EU GDPR (Art. 12(3))", "1 month", "2 months"},
    {"uk_gdpr", "UK GDPR (Art. 12(3))", "1 month", "2 months"},
    {"ccpa", "California CCPA/CPRA (Cal. Civ. Code 1798.130)", "45 days", "45 days"},
    {"lgpd", "Brazil LGPD (Art. 19)", "15 days", "0 days"},
    {"pipeda", "Canada PIPEDA (s. 8(3))", "30 days", "30 days"},
    {"dpdp", "India DPDP Act 2023", "30 days", "0 days"},
    {"it_act", "India IT Act / SPDI Rules 2011", "30 days", "0 days"},
};

static const char *const codes[] = {"gdpr", "uk_gdpr", "ccpa", "lgpd", "pipeda", "dpdp", "it_act",
                                    NULL};

const struct dsr_jurisdiction *dsr_jurisdiction_find(const char *code)
{
  for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
    if (!strcmp(table[i].code, code))
      return &table[i];
  return NULL;
}

const char *const *dsr_jurisdiction_codes(void)
{
  return codes;
}

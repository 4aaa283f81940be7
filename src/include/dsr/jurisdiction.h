/**
 * @file jurisdiction.h
 * @brief Built-in jurisdictions and their response deadlines. The policy
 *        file may narrow or override these (dsr-policy(5)).
 */
#ifndef DSR_JURISDICTION_H
#define DSR_JURISDICTION_H

struct dsr_jurisdiction {
  const char *code;      /**< "gdpr" */
  const char *name;      /**< "EU GDPR" */
  const char *deadline;  /**< PostgreSQL interval: "1 month" */
  const char *extension; /**< interval of the one extension allowed */
};

/** The jurisdiction with @p code, or NULL. */
const struct dsr_jurisdiction *dsr_jurisdiction_find(const char *code);
/** NULL-terminated list of codes, for request validation. */
const char *const *dsr_jurisdiction_codes(void);

#endif

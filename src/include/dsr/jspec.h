/**
 * @file jspec.h
 * @brief Declarative JSON request parsing. A handler describes its body as a
 *        table of fields; dsr_jspec_parse() checks types, required fields,
 *        unknown fields and validators, and names the offending field (as a
 *        JSON pointer such as "/subject/email") so the 4xx answers itself.
 */
#ifndef DSR_JSPEC_H
#define DSR_JSPEC_H

#include <jansson.h>
#include "dsr/error.h"
#include "dsr/util.h"

enum dsr_jtype { DSR_JT_STRING, DSR_JT_INT, DSR_JT_BOOL, DSR_JT_OBJECT, DSR_JT_ARRAY };

/** Validator for a string value; on failure sets *why to a static message. */
typedef bool (*dsr_jvalidator)(const char *value, const char **why);

struct dsr_jspec {
  const char *name;
  enum dsr_jtype type;
  bool required;
  size_t max_len;                      /**< strings: max bytes (0: 1024) */
  const char *const *one_of;           /**< strings: allowed values, NULL-terminated */
  dsr_jvalidator validate;             /**< strings: extra check */
  const struct dsr_jspec *fields;      /**< objects: nested spec (NULL-name terminated) */
  size_t min_fields;                   /**< objects: at least this many present fields */
};

/** Result of a failed parse; field is a JSON pointer into the body. */
struct dsr_jspec_error {
  enum dsr_ec ec;
  char field[128];
  char detail[256];
};

/**
 * Checks object @p obj against @p spec (terminated by a row with name NULL).
 * Returns true when valid; otherwise fills @p err.
 */
DSR_MUST_USE bool dsr_jspec_parse(const json_t *obj, const struct dsr_jspec *spec,
                                  struct dsr_jspec_error *err);

/** Convenience: the string at @p key of @p obj, or NULL. Borrowed from @p obj. */
const char *dsr_json_str(const json_t *obj, const char *key);

#endif

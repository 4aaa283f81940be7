/** @file jspec.c @brief Checks a JSON object against a declarative field table. */
#include "config.h"
#include "dsr/jspec.h"

#include <stdio.h>
#include <string.h>

static const char *type_name(enum dsr_jtype t)
{
  switch (t) {
  case DSR_JT_STRING: return "a string";
  case DSR_JT_INT: return "an integer";
  case DSR_JT_BOOL: return "true or false";
  case DSR_JT_OBJECT: return "an object";
  case DSR_JT_ARRAY: return "an array";
  }
  return "a value";
}

static bool type_ok(const json_t *v, enum dsr_jtype t)
{
  switch (t) {
  case DSR_JT_STRING: return json_is_string(v);
  case DSR_JT_INT: return json_is_integer(v);
  case DSR_JT_BOOL: return json_is_boolean(v);
  case DSR_JT_OBJECT: return json_is_object(v);
  case DSR_JT_ARRAY: return json_is_array(v);
  }
  return false;
}

/* Records the failure; the detail always starts with the field's pointer. */
static bool fail(struct dsr_jspec_error *err, enum dsr_ec ec, const char *prefix,
                 const char *name, const char *what)
{
  err->ec = ec;
  snprintf(err->field, sizeof err->field, "%s/%s", prefix, name);
  snprintf(err->detail, sizeof err->detail, "%.100s %.150s", err->field, what);
  return false;
}

static bool parse_object(const json_t *obj, const struct dsr_jspec *spec, const char *prefix,
                         size_t min_fields, struct dsr_jspec_error *err)
{
  /* Unknown fields first: a typo must not pass silently as a missing optional field. */
  const char *key;
  json_t *val;
  json_object_foreach((json_t *)obj, key, val) {
    bool known = false;
    for (const struct dsr_jspec *f = spec; f->name; f++)
      if (!strcmp(f->name, key)) {
        known = true;
        break;
      }
    if (!known) {
      char shown[64];
      snprintf(shown, sizeof shown, "%.60s", key);
      return fail(err, DSR_E_FIELD_UNKNOWN, prefix, shown, "is not an accepted field");
    }
  }
  size_t present = 0;
  for (const struct dsr_jspec *f = spec; f->name; f++) {
    const json_t *v = json_object_get(obj, f->name);
    if (!v || json_is_null(v)) {
      if (f->required)
        return fail(err, DSR_E_FIELD_MISSING, prefix, f->name, "is required");
      continue;
    }
    present++;
    if (!type_ok(v, f->type)) {
      char what[64];
      snprintf(what, sizeof what, "must be %s", type_name(f->type));
      return fail(err, DSR_E_FIELD_TYPE, prefix, f->name, what);
    }
    if (f->type == DSR_JT_STRING) {
      const char *s = json_string_value(v);
      size_t max = f->max_len ? f->max_len : 1024;
      if (json_string_length(v) != strlen(s))
        return fail(err, DSR_E_FIELD_INVALID, prefix, f->name, "must not contain NUL characters");
      if (json_string_length(v) > max)
        return fail(err, DSR_E_FIELD_INVALID, prefix, f->name, "is too long");
      if (f->one_of) {
        bool found = false;
        for (const char *const *o = f->one_of; *o; o++)
          if (!strcmp(*o, s)) {
            found = true;
            break;
          }
        if (!found) { /* name them: the caller can fix the value without the docs */
          char what[sizeof err->detail - 64];
          size_t used = (size_t)snprintf(what, sizeof what, "must be one of:");
          for (const char *const *o = f->one_of; *o && used < sizeof what; o++)
            used += (size_t)snprintf(what + used, sizeof what - used, "%s %s",
                                     o == f->one_of ? "" : ",", *o);
          return fail(err, DSR_E_FIELD_INVALID, prefix, f->name, what);
        }
      }
      const char *why = NULL;
      if (f->validate && !f->validate(s, &why))
        return fail(err, DSR_E_FIELD_INVALID, prefix, f->name, why ? why : "is invalid");
    } else if (f->type == DSR_JT_OBJECT && f->fields) {
      char sub[128];
      snprintf(sub, sizeof sub, "%s/%s", prefix, f->name);
      if (!parse_object(v, f->fields, sub, f->min_fields, err))
        return false;
    }
  }
  if (present < min_fields) {
    err->ec = DSR_E_FIELD_MISSING;
    snprintf(err->field, sizeof err->field, "%s", *prefix ? prefix : "/");
    snprintf(err->detail, sizeof err->detail, "%s needs at least %zu of its fields", err->field,
             min_fields);
    return false;
  }
  return true;
}

bool dsr_jspec_parse(const json_t *obj, const struct dsr_jspec *spec, struct dsr_jspec_error *err)
{
  memset(err, 0, sizeof *err);
  if (!json_is_object(obj)) {
    err->ec = DSR_E_FIELD_TYPE;
    snprintf(err->field, sizeof err->field, "/");
    snprintf(err->detail, sizeof err->detail, "the body must be a JSON object");
    return false;
  }
  return parse_object(obj, spec, "", 0, err);
}

const char *dsr_json_str(const json_t *obj, const char *key)
{
  return json_string_value(json_object_get(obj, key));
}

/**
 * @file policy.c
 * @brief Loading of the policy file. This first version parses the JSON and
 *        checks the top level is an object; the policy module adds the full
 *        validator (dsr-policy(5)) behind the same interface.
 */
#include "config.h"
#include "dsr/policy.h"

#include <stdio.h>
#include <stdlib.h>

struct dsr_policy {
  json_t *doc;
};

struct dsr_policy *dsr_policy_load(const char *path, char *err, size_t errlen)
{
  json_error_t je;
  json_t *doc = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
  if (!doc) {
    snprintf(err, errlen, "%s:%d:%d: %s", path, je.line, je.column, je.text);
    return NULL;
  }
  if (!json_is_object(doc)) {
    snprintf(err, errlen, "%s:1:1: a policy must be a JSON object", path);
    json_decref(doc);
    return NULL;
  }
  struct dsr_policy *p = malloc(sizeof *p);
  if (!p) {
    snprintf(err, errlen, "out of memory");
    json_decref(doc);
    return NULL;
  }
  p->doc = doc;
  return p;
}

void dsr_policy_free(struct dsr_policy *p)
{
  if (!p)
    return;
  json_decref(p->doc);
  free(p);
}

const json_t *dsr_policy_json(const struct dsr_policy *p)
{
  return p->doc;
}

const json_t *dsr_policy_section(const struct dsr_policy *p, const char *name)
{
  return p ? json_object_get(p->doc, name) : NULL;
}

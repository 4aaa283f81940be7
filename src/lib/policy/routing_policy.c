/** @file routing_policy.c @brief Policy lookups for routing, with the documented defaults. */
#include "config.h"
#include "dsr/jurisdiction.h"
#include "dsr/routing_policy.h"

#include <string.h>

#define DEFAULT_NO_DATA "We searched all our systems and hold no personal data about you."

static const char *str_or(const json_t *o, const char *key, const char *def)
{
  const char *s = json_string_value(json_object_get(o, key));
  return s && *s ? s : def;
}

static bool zero_interval(const char *s)
{
  return !s || s[0] == '0' || s[0] == '\0';
}

bool dsr_rp_jurisdiction(const struct dsr_policy *p, const char *code, struct dsr_jur_rules *out)
{
  const json_t *table = dsr_policy_section(p, "jurisdictions");
  const struct dsr_jurisdiction *builtin = dsr_jurisdiction_find(code);
  if (json_is_object(table)) {
    const json_t *j = json_object_get(table, code);
    if (!json_is_object(j))
      return false;
    out->deadline = str_or(j, "deadline", builtin ? builtin->deadline : "1 month");
    out->extension = str_or(j, "extension", "0 days");
    out->extension_notice_within = str_or(j, "extension_notice_within", out->deadline);
    out->hold_pauses_clock = json_is_true(json_object_get(j, "hold_pauses_clock"));
    out->no_data_message = str_or(j, "no_data_message", DEFAULT_NO_DATA);
    return true;
  }
  if (!builtin)
    return false;
  out->deadline = builtin->deadline;
  out->extension = builtin->extension;
  out->extension_notice_within = builtin->deadline;
  out->hold_pauses_clock = false;
  out->no_data_message = DEFAULT_NO_DATA;
  if (zero_interval(out->extension))
    out->extension = "0 days";
  return true;
}

static bool list_has(const json_t *list, const char *want)
{
  size_t i;
  const json_t *v;
  json_array_foreach(list, i, v)
  {
    const char *s = json_string_value(v);
    if (s && (!strcmp(s, "*") || !strcmp(s, want)))
      return true;
  }
  return false;
}

const char *dsr_rp_approval(const struct dsr_policy *p, const char *type,
                            const char *jurisdiction)
{
  const json_t *rules = dsr_policy_section(p, "approval");
  size_t i;
  const json_t *rule;
  json_array_foreach(rules, i, rule)
  {
    if (!list_has(json_object_get(rule, "types"), type) ||
        !list_has(json_object_get(rule, "jurisdictions"), jurisdiction))
      continue;
    const char *mode = json_string_value(json_object_get(rule, "mode"));
    return mode && !strcmp(mode, "auto") ? "auto" : "staff";
  }
  return "staff";
}

const char *dsr_rp_decision_timeout(const struct dsr_policy *p)
{
  return str_or(dsr_policy_section(p, "customers"), "decision_timeout", "10 days");
}

const char *dsr_rp_reminder_after(const struct dsr_policy *p)
{
  return str_or(dsr_policy_section(p, "customers"), "reminder_after", "5 days");
}

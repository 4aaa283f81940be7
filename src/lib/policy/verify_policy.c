/**
 * @file verify_policy.c
 * @brief Reading the policy's verification section and organization
 *        (docs/policy-sections.md), with the documented defaults.
 */
#include "config.h"
#include "dsr/verify.h"
#include "dsr/jurisdiction.h"

#include <stdlib.h>
#include <string.h>

static const char *const channel_names[] = {"email", "sms", "account", "agent", "manual"};

unsigned dsr_channel_bit(const char *name)
{
  for (size_t i = 0; i < DSR_ARRAY_LEN(channel_names); i++)
    if (name && !strcmp(channel_names[i], name))
      return 1u << i;
  return 0;
}

const char *dsr_channel_name(unsigned bit)
{
  for (size_t i = 0; i < DSR_ARRAY_LEN(channel_names); i++)
    if (bit == 1u << i)
      return channel_names[i];
  return NULL;
}

static const char *str_or(const json_t *obj, const char *key, const char *def)
{
  const char *s = json_string_value(json_object_get(obj, key));
  return s && *s ? s : def;
}

void dsr_verify_settings_get(const struct dsr_policy *p, struct dsr_verify_settings *out)
{
  const json_t *v = dsr_policy_section(p, "verification");
  const json_t *aa = json_object_get(v, "account_assertion");
  out->code_ttl = str_or(v, "code_ttl", "10 minutes");
  out->resend_cooldown = str_or(v, "resend_cooldown", "60 seconds");
  out->request_expiry = str_or(v, "request_expiry", "7 days");
  out->assertion_key_env = str_or(aa, "key_env", "PLATFORM_ASSERTION_KEY");
  out->assertion_max_age = str_or(aa, "max_age", "5 minutes");
  json_int_t m = json_integer_value(json_object_get(v, "max_attempts"));
  out->max_attempts = m >= 1 && m <= 100 ? (int)m : 5;
}

const char *const dsr_before_verification_actions[] = {
    "verify", "approve", "deny", "deny_unverifiable", "extend", "hold",
    "release", "assign", "withdraw", NULL};

/* Nothing is sent to or done for a requester nobody verified, unless the policy says so. */
static const char *const before_default[] = {"verify", "deny_unverifiable", "withdraw", "assign"};

static bool before_names(const struct dsr_policy *p, const char *name)
{
  const json_t *list =
      json_object_get(dsr_policy_section(p, "verification"), "before_verification");
  if (!json_is_array(list)) {
    for (size_t i = 0; i < DSR_ARRAY_LEN(before_default); i++)
      if (!strcmp(before_default[i], name))
        return true;
    return false;
  }
  size_t i;
  const json_t *e;
  json_array_foreach(list, i, e)
  {
    const char *s = json_string_value(e);
    if (s && (!strcmp(s, name) || !strcmp(s, "*")))
      return true;
  }
  return false;
}

bool dsr_verify_allows_before(const struct dsr_policy *p, const char *action, const char *reason)
{
  if (!action)
    return false;
  if (before_names(p, action))
    return true;
  return !strcmp(action, "deny") && reason && !strcmp(reason, "identity_not_verified") &&
         before_names(p, "deny_unverifiable");
}

/* True when @p list (array of strings) holds "*" or @p value. */
static bool matches(const json_t *list, const char *value)
{
  if (!json_is_array(list))
    return true; /* an omitted list matches everything */
  size_t i;
  const json_t *e;
  json_array_foreach(list, i, e)
  {
    const char *s = json_string_value(e);
    if (s && (!strcmp(s, "*") || !strcmp(s, value)))
      return true;
  }
  return false;
}

/* The first rule matching @p type and @p jurisdiction that names at least one
 * alternative (its masks into @p masks, their number into *n), or NULL. */
static const json_t *matching_rule(const struct dsr_policy *p, const char *type,
                                   const char *jurisdiction,
                                   unsigned masks[DSR_MAX_ALTERNATIVES], size_t *n)
{
  const json_t *rules = json_object_get(dsr_policy_section(p, "verification"), "rules");
  size_t i;
  const json_t *rule;
  json_array_foreach(rules, i, rule)
  {
    if (!matches(json_object_get(rule, "types"), type) ||
        !matches(json_object_get(rule, "jurisdictions"), jurisdiction))
      continue;
    size_t j;
    const json_t *alt;
    *n = 0;
    json_array_foreach(json_object_get(rule, "require"), j, alt)
    {
      unsigned m = 0;
      size_t k;
      const json_t *ch;
      json_array_foreach(alt, k, ch) m |= dsr_channel_bit(json_string_value(ch));
      if (m && *n < DSR_MAX_ALTERNATIVES)
        masks[(*n)++] = m;
    }
    if (*n > 0)
      return rule;
  }
  return NULL;
}

size_t dsr_verify_requirements(const struct dsr_policy *p, const char *type,
                               const char *jurisdiction, unsigned masks[DSR_MAX_ALTERNATIVES])
{
  size_t n = 0;
  if (matching_rule(p, type, jurisdiction, masks, &n))
    return n;
  masks[0] = DSR_CH_EMAIL;
  masks[1] = DSR_CH_SMS;
  masks[2] = DSR_CH_ACCOUNT;
  return 3;
}

bool dsr_verify_partial_allowed(const struct dsr_policy *p, const char *type,
                                const char *jurisdiction)
{
  unsigned masks[DSR_MAX_ALTERNATIVES];
  size_t n = 0;
  const json_t *rule = matching_rule(p, type, jurisdiction, masks, &n);
  const char *v = json_string_value(json_object_get(rule, "partial"));
  return v && !strcmp(v, DSR_VERIFY_PARTIAL_VERIFIED_IDENTITIES) &&
         (!strcmp(type, "access") || !strcmp(type, "portability"));
}

/* The channels that stand for an identity of the subject (what a partial answer rests on). */
#define IDENTITY_CHANNELS (DSR_CH_EMAIL | DSR_CH_SMS | DSR_CH_ACCOUNT)

bool dsr_verify_partial_ok(const unsigned *masks, size_t n, unsigned offered, unsigned verified)
{
  for (size_t i = 0; i < n; i++) {
    unsigned given = masks[i] & offered & IDENTITY_CHANNELS;
    if (given && (given & verified) == given)
      return true;
  }
  return false;
}

bool dsr_verify_possible(const unsigned *masks, size_t n, unsigned offered, bool partial)
{
  for (size_t i = 0; i < n; i++)
    if ((masks[i] & offered) == masks[i] || (partial && (masks[i] & offered & IDENTITY_CHANNELS)))
      return true;
  return false;
}

bool dsr_verify_satisfied(const unsigned *masks, size_t n, unsigned verified)
{
  if (verified & DSR_CH_MANUAL)
    return true;
  for (size_t i = 0; i < n; i++)
    if ((masks[i] & verified) == masks[i])
      return true;
  return false;
}

json_t *dsr_org_json(const struct dsr_policy *p)
{
  const json_t *o = dsr_policy_section(p, "organization");
  json_t *out = json_pack("{s:s}", "name", str_or(o, "name", "The privacy team"));
  const char *keys[] = {"contact_email", "url"};
  for (size_t i = 0; out && i < DSR_ARRAY_LEN(keys); i++) {
    const char *v = str_or(o, keys[i], NULL);
    if (v)
      json_object_set_new(out, keys[i], json_string(v));
  }
  return out;
}

bool dsr_jur_view_get(const struct dsr_policy *p, const char *code, struct dsr_jur_view *out)
{
  const json_t *table = dsr_policy_section(p, "jurisdictions");
  memset(out, 0, sizeof *out);
  if (json_is_object(table)) {
    const char *key;
    const json_t *j;
    json_object_foreach((json_t *)table, key, j)
    {
      if (strcmp(key, code) != 0)
        continue;
      out->code = key;
      out->name = str_or(j, "name", key);
      out->deadline = str_or(j, "deadline", "30 days");
      out->duplicate_window = str_or(j, "duplicate_window", "30 days");
      out->rights = json_object_get(j, "rights");
      return true;
    }
    return false;
  }
  const struct dsr_jurisdiction *b = dsr_jurisdiction_find(code);
  if (!b)
    return false;
  out->code = b->code;
  out->name = b->name;
  out->deadline = b->deadline;
  out->duplicate_window = "30 days";
  return true;
}

bool dsr_jur_offers(const struct dsr_jur_view *j, const char *type)
{
  return !json_is_array(j->rights) || matches(j->rights, type);
}

long dsr_interval_seconds(const char *interval)
{
  static const struct {
    const char *unit;
    long s;
  } units[] = {{"second", 1}, {"sec", 1}, {"minute", 60}, {"min", 60}, {"hour", 3600},
               {"day", 86400}, {"week", 604800}};
  char *end = NULL;
  long n = strtol(interval, &end, 10);
  if (end == interval || n < 0)
    return -1;
  while (*end == ' ')
    end++;
  for (size_t i = 0; i < DSR_ARRAY_LEN(units); i++) {
    size_t ul = strlen(units[i].unit);
    if (!strncmp(end, units[i].unit, ul) && (end[ul] == '\0' || !strcmp(end + ul, "s")))
      return n * units[i].s;
  }
  return -1;
}

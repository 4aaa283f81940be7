/**
 * @file policy_map.c
 * @brief The compiled data map: read-only lookups every other part of the
 *        engine uses, and freeing it. The loader (policy.c) and the section
 *        checks call down into this file, never the other way round.
 */
#include "config.h"
#include "policy_int.h"
#include "dsr/util.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

const json_t *dsr_policy_json(const struct dsr_policy *p)
{
  return p->doc;
}

const json_t *dsr_policy_section(const struct dsr_policy *p, const char *name)
{
  return p ? json_object_get(p->doc, name) : NULL;
}

const char *dsr_policy_path(const struct dsr_policy *p)
{
  return p->path;
}

size_t dsr_policy_store_count(const struct dsr_policy *p)
{
  return p->nstores;
}

const struct dsr_pstore *dsr_policy_store_at(const struct dsr_policy *p, size_t i)
{
  return i < p->nstores ? &p->stores[i] : NULL;
}

const struct dsr_pstore *dsr_policy_store(const struct dsr_policy *p, const char *name)
{
  for (size_t i = 0; name && i < p->nstores; i++)
    if (!strcmp(p->stores[i].name, name))
      return &p->stores[i];
  return NULL;
}

size_t dsr_policy_collection_count(const struct dsr_policy *p)
{
  return p->ncolls;
}

const struct dsr_pcollection *dsr_policy_topo_at(const struct dsr_policy *p, size_t i)
{
  return i < p->ncolls && p->topo ? p->topo[i] : NULL;
}

const struct dsr_pcollection *dsr_policy_collection(const struct dsr_policy *p, const char *name)
{
  for (size_t i = 0; name && i < p->ncolls; i++)
    if (!strcmp(p->colls[i].name, name))
      return &p->colls[i];
  return NULL;
}

const struct dsr_ppattern *dsr_policy_pattern(const struct dsr_policy *p, const char *name)
{
  for (size_t i = 0; name && i < p->npatterns; i++)
    if (!strcmp(p->patterns[i].name, name))
      return &p->patterns[i];
  return NULL;
}

unsigned dsr_policy_suppression_kinds(const struct dsr_policy *p)
{
  return p->suppression_kinds;
}

bool dsr_type_is_array(const char *type)
{
  size_t n = type ? strlen(type) : 0;
  return n > 2 && !strcmp(type + n - 2, "[]");
}

bool dsr_type_is_json(const char *type)
{
  return type && (!strcmp(type, "json") || !strcmp(type, "jsonb"));
}

char *dsr_policy_jsonpath(const char *path)
{
  struct dsr_buf b = {0};
  bool ok = path && *path && dsr_buf_puts(&b, "$");
  const char *p = path;
  while (ok && *p) {
    size_t n = strspn(p, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_");
    if (n > 0 && isdigit((unsigned char)*p))
      ok = false;
    if (ok && n > 0)
      ok = dsr_buf_printf(&b, ".\"%.*s\"", (int)n, p);
    p += n;
    bool star = ok && !strncmp(p, "[*]", 3);
    if (star) {
      ok = dsr_buf_puts(&b, "[*]");
      p += 3;
    }
    if (ok && n == 0 && !star)
      ok = false; /* an empty segment */
    if (ok && *p == '.') {
      p++;
      ok = *p != '\0';
    } else if (ok && *p) {
      ok = false;
    }
  }
  if (!ok) {
    dsr_buf_free(&b);
    return NULL;
  }
  return dsr_buf_steal(&b);
}

const char *dsr_pcollection_column_type(const struct dsr_pcollection *c, const char *col)
{
  for (size_t i = 0; col && i < c->ncolumns; i++)
    if (!strcmp(c->columns[i].name, col))
      return c->columns[i].type;
  return NULL;
}

size_t dsr_policy_children(const struct dsr_policy *p, const struct dsr_pcollection *parent,
                           const struct dsr_pcollection **child_out,
                           const struct dsr_preference **ref_out, size_t max)
{
  size_t n = 0;
  for (size_t i = 0; i < p->ncolls; i++)
    for (size_t r = 0; r < p->colls[i].nreferences; r++)
      if (p->colls[i].references[r].parent == parent) {
        if (n < max) {
          child_out[n] = &p->colls[i];
          ref_out[n] = &p->colls[i].references[r];
        }
        n++;
      }
  return n;
}

const char *dsr_id_kind_name(enum dsr_id_kind k)
{
  static const char *const names[] = {"email", "phone", "account_id"};
  return (unsigned)k < DSR_ID_KIND_COUNT ? names[k] : "?";
}

const char *dsr_action_name(enum dsr_action a)
{
  static const char *const names[] = {"delete", "mask", "redact", "retain"};
  return (unsigned)a <= DSR_ACT_RETAIN ? names[a] : "?";
}

const char *dsr_mask_strategy_name(enum dsr_mask_strategy s)
{
  static const char *const names[] = {"null", "fixed", "hmac", "random"};
  return (unsigned)s <= DSR_MASK_RANDOM ? names[s] : "?";
}

const char *dsr_retention_rule_name(enum dsr_retention_rule r)
{
  static const char *const names[] = {"none",        "age",            "with_parent",
                                      "after_event", "tenant_setting", "indefinite"};
  return (unsigned)r <= DSR_RET_INDEFINITE ? names[r] : "?";
}

void policy_map_free(struct dsr_policy *p)
{
  for (size_t i = 0; i < p->npatterns; i++)
    pcre2_code_free(p->patterns[i].code);
  free(p->patterns);
  for (size_t i = 0; i < p->nstores; i++)
    free(p->stores[i].prefixes);
  free(p->stores);
  for (size_t i = 0; i < p->ncolls; i++) {
    struct dsr_pcollection *c = &p->colls[i];
    free(c->columns);
    for (size_t k = 0; k < c->nidentities; k++)
      free(c->identities[k].jsonpath);
    for (size_t k = 0; k < c->nothers; k++)
      free(c->others[k].id.jsonpath);
    free(c->identities);
    free(c->others);
    free(c->references);
    free(c->categories);
    free(c->files);
    free(c->portable);
    free(c->rectifiable);
    free(c->masks);
    free(c->redact_columns);
    free(c->redact_patterns);
  }
  free(p->colls);
  free(p->topo);
  p->patterns = NULL;
  p->stores = NULL;
  p->colls = NULL;
  p->topo = NULL;
  p->npatterns = p->nstores = p->ncolls = 0;
}

const char *dsr_policy_pg_dsn(const struct dsr_policy *p)
{
  for (size_t i = 0; i < dsr_policy_store_count(p); i++) {
    const struct dsr_pstore *s = dsr_policy_store_at(p, i);
    if (s->type != DSR_STORE_POSTGRESQL)
      continue;
    if (s->dsn)
      return s->dsn;
    const char *v = s->dsn_env ? getenv(s->dsn_env) : NULL;
    return v && *v ? v : NULL;
  }
  return NULL;
}

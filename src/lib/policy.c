/**
 * @file policy.c
 * @brief Loading of the policy file: read the text, index positions, parse
 *        with jansson, validate every section and compile the data map.
 *        Accessors of the compiled map live here too.
 */
#include "config.h"
#include "policy_int.h"

#include <errno.h>
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Every section may be omitted (docs/policy-sections.md): a policy with only
 * the request-flow sections is valid and has nothing to plan. */
static const struct pkey top_spec[] = {
    {"policy_version", PT_STR, false},
    {"description", PT_STR, false},
    {"organization", PT_OBJ, false},
    {"default_jurisdiction", PT_STR, false},
    {"jurisdictions", PT_OBJ, false},
    {"verification", PT_OBJ, false},
    {"approval", PT_ARR, false},
    {"customers", PT_OBJ, false},
    {"retention_of_dsr_data", PT_OBJ, false},
    {"stores", PT_OBJ, false},
    {"backups", PT_OBJ, false},
    {"categories", PT_OBJ, false},
    {"patterns", PT_OBJ, false},
    {"suppression", PT_OBJ, false},
    {"collections", PT_OBJ, false},
    {"choices", PT_OBJ, false},
    {NULL, PT_ANY, false},
};

/* Reads the whole file; caller frees. */
static char *slurp(const char *path, size_t *len, char *err, size_t errlen)
{
  FILE *f = fopen(path, "rb");
  struct dsr_buf b = {0};
  char chunk[8192];
  if (!f) {
    snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
    return NULL;
  }
  size_t n;
  bool ok = dsr_buf_puts(&b, "");
  while (ok && (n = fread(chunk, 1, sizeof chunk, f)) > 0)
    ok = dsr_buf_append(&b, chunk, n);
  if (ok && ferror(f)) {
    snprintf(err, errlen, "%s: read error", path);
    ok = false;
  } else if (!ok) {
    snprintf(err, errlen, "%s: out of memory", path);
  }
  fclose(f);
  if (!ok) {
    dsr_buf_free(&b);
    return NULL;
  }
  *len = b.len;
  return dsr_buf_steal(&b);
}

struct dsr_policy *dsr_policy_check(const char *path, struct dsr_diags *diags)
{
  char err[512];
  size_t len = 0;
  struct dsr_policy *p = NULL;
  struct dsr_jpos *ix = NULL;
  json_t *doc = NULL;
  char *text = slurp(path, &len, err, sizeof err);
  if (!text) {
    (void)dsr_diags_add(diags, DSR_DIAG_ERROR, "%s", err);
    goto cleanup;
  }
  json_error_t je;
  doc = json_loadb(text, len, 0, &je);
  if (!doc) {
    (void)dsr_diags_add(diags, DSR_DIAG_ERROR, "%s:%d:%d: (syntax): %s (expected valid JSON)",
                        path, je.line, je.column, je.text);
    goto cleanup;
  }
  ix = dsr_jpos_index(text, len);
  if (!ix) {
    (void)dsr_diags_add(diags, DSR_DIAG_ERROR, "%s:1:1: (syntax): not strict JSON (expected RFC 8259 JSON)", path);
    goto cleanup;
  }
  p = calloc(1, sizeof *p);
  if (!p || !(p->path = strdup(path))) {
    (void)dsr_diags_add(diags, DSR_DIAG_ERROR, "%s: out of memory", path);
    goto cleanup;
  }
  p->doc = json_incref(doc);
  struct pctx c = {.path = path, .ix = ix, .d = diags, .p = p};
  const char *dptr;
  struct dsr_jpos_at dat;
  if (dsr_jpos_duplicate(ix, &dptr, &dat)) {
    /* jansson keeps the last of two equal keys: refuse, naming the second. */
    pdiag(&c, DSR_DIAG_ERROR, dptr, true, "duplicate key (expected each name once per object)");
    goto cleanup;
  }
  if (!json_is_object(doc)) {
    pdiag(&c, DSR_DIAG_ERROR, "", false, "a policy must be a JSON object (expected {...})");
    goto cleanup;
  }
  (void)pcheck_obj(&c, doc, "", top_spec, "the policy");
  pcheck_flow(&c, doc);
  pcheck_stores(&c, doc);
  pcheck_collections(&c, doc);
  if (diags->errors == 0)
    pcheck_choices(&c, doc);
  if (c.oom)
    (void)dsr_diags_add(diags, DSR_DIAG_ERROR, "%s: out of memory", path);
cleanup:
  free(text);
  dsr_jpos_free(ix);
  json_decref(doc);
  if (p && diags->errors > 0) {
    dsr_policy_free(p);
    p = NULL;
  }
  return p;
}

struct dsr_policy *dsr_policy_load(const char *path, char *err, size_t errlen)
{
  struct dsr_diags d = {0};
  struct dsr_policy *p = dsr_policy_check(path, &d);
  if (!p) {
    const char *first = "out of memory";
    for (size_t i = 0; i < d.n; i++)
      if (d.v[i].level == DSR_DIAG_ERROR) {
        first = d.v[i].text;
        break;
      }
    snprintf(err, errlen, "%s", first);
  }
  dsr_diags_free(&d);
  return p;
}

void dsr_policy_free(struct dsr_policy *p)
{
  if (!p)
    return;
  policy_map_free(p);
  json_decref(p->doc);
  free(p->path);
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
  free(p->stores);
  for (size_t i = 0; i < p->ncolls; i++) {
    struct dsr_pcollection *c = &p->colls[i];
    free(c->columns);
    free(c->identities);
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

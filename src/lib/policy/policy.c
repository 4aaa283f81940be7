/**
 * @file policy.c
 * @brief Loading of the policy file: read the text, index positions, parse
 *        with jansson, validate every section and compile the data map
 *        (policy_map.c holds the compiled map's lookups).
 */
#include "config.h"
#include "policy_int.h"

#include <errno.h>
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

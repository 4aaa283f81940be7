/**
 * @file policy_collections.c
 * @brief Validation of the collections section and construction of the data
 *        map: columns, identities, references (resolved, cycle-checked and
 *        sorted topologically), owner and tenant, files, erasure action,
 *        retention and export shape. Column names are checked against each
 *        collection's declared "columns"; `dsrctl policy lint --live` checks
 *        the declarations against the live database.
 */
#include "config.h"
#include "policy_int.h"

#include <stdlib.h>
#include <string.h>

static const char *const owners[] = {"controller", "processor", NULL};
static const char *const kinds[] = {"email", "phone", "account_id", NULL};
static const char *const norms[] = {"exact", "lower", "e164", "digits", NULL};
static const char *const actions[] = {"delete", "mask", "redact", "retain", NULL};
static const char *const strategies[] = {"null", "fixed", "hmac", "random", NULL};
static const char *const rules[] = {"none", "age", "with_parent", "after_event",
                                    "tenant_setting", "indefinite", NULL};
static const char *const units[] = {"days", "months", NULL};

static const struct pkey coll_spec[] = {
    {"store", PT_STR, true},        {"schema", PT_STR, false},     {"table", PT_STR, true},
    {"description", PT_STR, true},  {"primary_key", PT_NAMES, true}, {"owner", PT_STR, true},
    {"tenant_column", PT_STR, false}, {"tenant_via", PT_STR, false}, {"columns", PT_OBJ, true},
    {"identities", PT_ARR, false},  {"references", PT_ARR, false}, {"categories", PT_STRARR, false},
    {"files", PT_ARR, false},       {"portable", PT_STRARR, false}, {"rectifiable", PT_STRARR, false},
    {"export", PT_OBJ, false},      {"erasure", PT_OBJ, true},     {"retention", PT_OBJ, false},
    {"crypto_shred", PT_OBJ, false}, {"label", PT_STR, false},  {"purpose", PT_STR, false},
    {"recipients", PT_STR, false},  {"source", PT_STR, false},     {NULL, PT_ANY, false}};
static const struct pkey crypto_spec[] = {
    {"key_column", PT_STR, true}, {"identity", PT_STR, true}, {"description", PT_STR, false},
    {NULL, PT_ANY, false}};
static const struct pkey ident_spec[] = {
    {"column", PT_STR, true}, {"kind", PT_STR, true}, {"normalize", PT_STR, false},
    {"format", PT_STR, false}, {"path", PT_STR, false}, {"party", PT_STR, false},
    {"match", PT_BOOL, false},
    {"mask", PT_OBJ, false}, {NULL, PT_ANY, false}};
static const char *const parties[] = {"subject", "other", NULL};
static const struct pkey ref_spec[] = {
    {"column", PT_NAMES, true},    {"parent", PT_STR, true}, {"parent_column", PT_NAMES, false},
    {"cascade", PT_ANY, false},    {"description", PT_STR, false}, {NULL, PT_ANY, false}};
static const struct pkey file_spec[] = {
    {"column", PT_STR, true}, {"store", PT_STR, true}, {NULL, PT_ANY, false}};
static const struct pkey export_spec[] = {
    {"label", PT_STR, true}, {"fields", PT_OBJ, false}, {NULL, PT_ANY, false}};
static const struct pkey erasure_spec[] = {
    {"action", PT_STR, true},   {"description", PT_STR, false}, {"basis", PT_STR, false},
    {"fields", PT_OBJ, false},  {"columns", PT_STRARR, false},  {"patterns", PT_STRARR, false},
    {"explanation", PT_STR, false}, {NULL, PT_ANY, false}};
static const struct pkey mask_spec[] = {
    {"strategy", PT_STR, true}, {"value", PT_STR, false}, {"length", PT_INT, false},
    {NULL, PT_ANY, false}};
static const struct pkey retention_spec[] = {
    {"rule", PT_STR, true},       {"column", PT_STR, false},    {"period", PT_DUR, false},
    {"reference", PT_STR, false}, {"basis", PT_STR, false},     {"description", PT_STR, false},
    {"setting", PT_OBJ, false},   {NULL, PT_ANY, false}};
static const struct pkey setting_spec[] = {
    {"collection", PT_STR, true}, {"tenant_column", PT_STR, true}, {"value_column", PT_STR, true},
    {"unit", PT_STR, true},       {"min", PT_DUR, true},           {"max", PT_DUR, true},
    {NULL, PT_ANY, false}};

static const char *str(const json_t *o, const char *k)
{
  const json_t *v = json_object_get(o, k);
  return json_is_string(v) && json_string_length(v) ? json_string_value(v) : NULL;
}

/* Reports when @p col is not declared in @p coll; @p ptr locates the use. */
static bool need_col(struct pctx *c, const struct dsr_pcollection *coll, const char *col,
                     const char *ptr)
{
  if (!col || dsr_pcollection_column_type(coll, col))
    return col != NULL;
  pdiag(c, DSR_DIAG_ERROR, ptr, false,
        "no column \"%s\" in collection \"%s\" (expected a key of collections.%s.columns)", col,
        coll->name, coll->name);
  return false;
}

/*
 * The names of a PT_NAMES value ("col" or ["a", "b"]) into @p out (borrowed
 * from the document); 0 when it is not one (pcheck_obj reported that).
 */
static size_t names_of(const json_t *v, const char **out)
{
  if (json_is_string(v)) {
    out[0] = json_string_value(v);
    return 1;
  }
  size_t n = 0;
  if (json_is_array(v) && json_array_size(v) <= DSR_KEY_MAX)
    for (size_t i = 0; i < json_array_size(v); i++)
      if ((out[n] = json_string_value(json_array_get(v, i))) != NULL)
        n++;
  return n;
}

/* Each of @p n names is a column of @p coll (diagnostics at @p ptr otherwise). */
static bool need_cols(struct pctx *c, const struct dsr_pcollection *coll, const char *const *cols,
                      size_t n, const char *ptr)
{
  bool ok = n > 0;
  for (size_t i = 0; i < n; i++)
    ok = need_col(c, coll, cols[i], ptr) && ok;
  return ok;
}

static bool is_key(const struct dsr_pcollection *coll, const char *col)
{
  for (size_t i = 0; i < coll->nkey; i++)
    if (!strcmp(coll->key[i], col))
      return true;
  return false;
}

/* Looks up @p s in @p names; reports "unknown WHAT" at @p ptr when absent. */
static int enum_of(struct pctx *c, const char *s, const char *const *names, const char *ptr,
                   const char *what)
{
  int idx = 0;
  if (s && !pone_of(s, names, &idx)) {
    char list[256];
    pjoin(names, list, sizeof list);
    pdiag(c, DSR_DIAG_ERROR, ptr, false, "unknown %s \"%s\" (expected %s)", what, s, list);
    return -1;
  }
  return idx;
}

/* A string array into a borrowed const char * array (each name checked as a column). */
static const char **col_list(struct pctx *c, const struct dsr_pcollection *coll, const json_t *arr,
                             const char *ptr, size_t *n, bool columns)
{
  *n = 0;
  if (!json_is_array(arr))
    return NULL;
  const char **v = calloc(json_array_size(arr) + 1, sizeof *v);
  if (!v) {
    c->oom = true;
    return NULL;
  }
  size_t i;
  const json_t *e;
  json_array_foreach(arr, i, e) {
    const char *s = json_string_value(e);
    char *ep = pptr_i(ptr, i);
    if (s && (!columns || need_col(c, coll, s, ep)))
      v[(*n)++] = s;
    free(ep);
  }
  return v;
}

/* Type names end up in casts of plan SQL: letters, digits, '_', ' ',
 * an optional "(n[,m])" and an optional "[]". */
static bool type_name_ok(const char *t)
{
  const char *s = t;
  if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z')))
    return false;
  while ((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
         *s == '_' || *s == ' ')
    s++;
  if (*s == '(') {
    s++;
    while ((*s >= '0' && *s <= '9') || *s == ',' || *s == ' ')
      s++;
    if (*s++ != ')')
      return false;
  }
  if (s[0] == '[' && s[1] == ']')
    s += 2;
  return *s == '\0' && s[-1] != ' ';
}

static void check_columns(struct pctx *c, struct dsr_pcollection *coll, const json_t *cols,
                          const char *cp)
{
  if (!json_is_object(cols))
    return;
  coll->columns = calloc(json_object_size(cols) + 1, sizeof *coll->columns);
  if (!coll->columns) {
    c->oom = true;
    return;
  }
  if (json_object_size(cols) == 0)
    pdiag(c, DSR_DIAG_ERROR, cp, false, "no columns (expected at least the primary key)");
  const char *k;
  const json_t *v;
  json_object_foreach((json_t *)cols, k, v) {
    if (!json_is_string(v) || json_string_length(v) == 0) {
      char *kp = pptr(cp, k);
      pdiag(c, DSR_DIAG_ERROR, kp, false, "wrong type (expected an SQL type name such as \"text\")");
      free(kp);
      continue;
    }
    if (!type_name_ok(json_string_value(v))) {
      char *kp = pptr(cp, k);
      pdiag(c, DSR_DIAG_ERROR, kp, false,
            "bad SQL type \"%s\" (expected a type name such as \"text\", \"bigint\", \"varchar(20)\", \"text[]\")",
            json_string_value(v));
      free(kp);
      continue;
    }
    coll->columns[coll->ncolumns++] = (struct dsr_pcolumn){k, json_string_value(v)};
  }
}

static bool parse_mask(struct pctx *c, const struct dsr_pcollection *coll, const char *field,
                       const json_t *m, const char *mp, struct dsr_pmask *pm);

/*
 * "path": where in a json/jsonb column the identities are. Required on such
 * a column (the whole document is never an identity), refused on any other.
 */
static bool check_path(struct pctx *c, const struct dsr_pcollection *coll, const json_t *e,
                       const char *ep, struct dsr_pidentity *id)
{
  const char *path = str(e, "path");
  bool json = dsr_type_is_json(dsr_pcollection_column_type(coll, id->column));
  char *pp = pptr(ep, "path");
  bool ok = false;
  if (path && !json)
    pdiag(c, DSR_DIAG_ERROR, pp ? pp : ep, true,
          "a path is for json and jsonb columns (expected no path)");
  else if (json && !path)
    pdiag(c, DSR_DIAG_ERROR, ep, false,
          "an identity in a json column needs a path (expected \"path\", e.g. "
          "\"contacts[*].phone\")");
  else if (path && !(id->jsonpath = dsr_policy_jsonpath(path)))
    pdiag(c, DSR_DIAG_ERROR, pp ? pp : ep, false,
          "bad path \"%s\" (expected names separated by dots, each may end in [*], e.g. "
          "\"contacts[*].phone\")",
          path);
  else
    ok = true;
  id->path = ok ? path : NULL;
  free(pp);
  return ok;
}

/*
 * "party": "other" marks a column that holds another party's identity (a
 * number a call was forwarded to): never what makes a row the subject's.
 * "match" and "mask" belong to such columns only. True for an other-party
 * column, with *pm its mask (default: null); false for the subject's own, or
 * when the mask is unusable.
 */
static bool check_party(struct pctx *c, struct dsr_pcollection *coll, const json_t *e,
                        const char *ep, const struct dsr_pidentity *id, struct dsr_pmask *pm)
{
  const char *party = str(e, "party");
  char *pp = pptr(ep, "party"), *mp = pptr(ep, "mask");
  int pa = party ? enum_of(c, party, parties, pp, "party") : 0;
  bool other = pa == 1, ok = other;
  if (!other && (json_object_get(e, "match") || json_object_get(e, "mask")))
    pdiag(c, DSR_DIAG_ERROR, ep, false,
          "\"match\" and \"mask\" are for columns of another party (expected \"party\": "
          "\"other\")");
  const json_t *m = json_object_get(e, "mask");
  *pm = (struct dsr_pmask){id->column, DSR_MASK_NULL, NULL, 0};
  if (other && m)
    ok = mp && parse_mask(c, coll, id->column, m, mp, pm);
  free(pp);
  free(mp);
  return ok;
}

static void check_identities(struct pctx *c, struct dsr_pcollection *coll, const json_t *arr,
                             const char *ptr)
{
  if (!json_is_array(arr))
    return;
  coll->identities = calloc(json_array_size(arr) + 1, sizeof *coll->identities);
  coll->others = calloc(json_array_size(arr) + 1, sizeof *coll->others);
  if (!coll->identities || !coll->others) {
    c->oom = true;
    return;
  }
  size_t i;
  const json_t *e;
  json_array_foreach(arr, i, e) {
    char *ep = pptr_i(ptr, i);
    char *colp = pptr(ep, "column"), *kp = pptr(ep, "kind"), *np = pptr(ep, "normalize");
    if (ep && pcheck_obj(c, e, ep, ident_spec, "an identity")) {
      int kind = enum_of(c, str(e, "kind"), kinds, kp, "identity kind");
      const char *ns = str(e, "normalize");
      int norm = ns ? enum_of(c, ns, norms, np, "normalization")
                    : (kind == DSR_ID_EMAIL ? DSR_NORM_LOWER
                                            : kind == DSR_ID_PHONE ? DSR_NORM_E164 : DSR_NORM_EXACT);
      struct dsr_pidentity id = {.column = str(e, "column"), .kind = (enum dsr_id_kind)kind,
                                 .norm = (enum dsr_id_norm)norm, .format = DSR_PHONE_FMT_NONE};
      bool fmt_ok = kind < 0 || pcheck_identity_format(c, e, ep, &id);
      bool ok = need_col(c, coll, str(e, "column"), colp) && kind >= 0 && norm >= 0 &&
                str(e, "kind") && fmt_ok && check_path(c, coll, e, ep, &id);
      struct dsr_pmask pm;
      if (ok && check_party(c, coll, e, ep, &id, &pm))
        coll->others[coll->nothers++] =
            (struct dsr_pother){id, json_is_true(json_object_get(e, "match")), pm};
      else if (ok && !json_object_get(e, "party") && !json_object_get(e, "match") &&
               !json_object_get(e, "mask"))
        coll->identities[coll->nidentities++] = id;
      else
        free(id.jsonpath);
    }
    free(colp);
    free(kp);
    free(np);
    free(ep);
  }
}

static void check_files(struct pctx *c, struct dsr_pcollection *coll, const json_t *arr,
                        const char *ptr)
{
  if (!json_is_array(arr))
    return;
  coll->files = calloc(json_array_size(arr) + 1, sizeof *coll->files);
  if (!coll->files) {
    c->oom = true;
    return;
  }
  size_t i;
  const json_t *e;
  json_array_foreach(arr, i, e) {
    char *ep = pptr_i(ptr, i);
    char *colp = pptr(ep, "column"), *sp = pptr(ep, "store");
    if (ep && pcheck_obj(c, e, ep, file_spec, "a file column")) {
      const struct dsr_pstore *st = dsr_policy_store(c->p, str(e, "store"));
      bool ok = need_col(c, coll, str(e, "column"), colp);
      if (str(e, "store") && (!st || st->type != DSR_STORE_FILES)) {
        pdiag(c, DSR_DIAG_ERROR, sp, false, "no files store \"%s\" (expected a store of type files)",
              str(e, "store"));
        ok = false;
      }
      if (ok)
        coll->files[coll->nfiles++] = (struct dsr_pfile){str(e, "column"), st};
    }
    free(colp);
    free(sp);
    free(ep);
  }
}

/*
 * One mask of column @p field: {"strategy": null|fixed|hmac|random,
 * "value"?, "length"?} at @p mp. False (with a diagnostic) when unusable.
 */
static bool parse_mask(struct pctx *c, const struct dsr_pcollection *coll, const char *field,
                       const json_t *m, const char *mp, struct dsr_pmask *pm)
{
  char *sp = pptr(mp, "strategy");
  bool ok = false;
  if (!pcheck_obj(c, m, mp, mask_spec, "a mask"))
    goto cleanup;
  if (!dsr_pcollection_column_type(coll, field)) {
    pdiag(c, DSR_DIAG_ERROR, mp, true,
          "mask on a field that does not exist in collection \"%s\" (expected a key of "
          "collections.%s.columns)", coll->name, coll->name);
    goto cleanup;
  }
  if (is_key(coll, field)) {
    pdiag(c, DSR_DIAG_ERROR, mp, true, "cannot mask the primary key (expected another column)");
    goto cleanup;
  }
  int st = enum_of(c, str(m, "strategy"), strategies, sp, "mask strategy");
  if (st < 0 || !str(m, "strategy"))
    goto cleanup;
  *pm = (struct dsr_pmask){field, (enum dsr_mask_strategy)st, str(m, "value"), 0};
  ok = true;
  if (st == DSR_MASK_FIXED && !pm->value)
    pdiag(c, DSR_DIAG_ERROR, mp, false, "a fixed mask needs a value (expected \"value\")");
  if (st == DSR_MASK_RANDOM) {
    const json_t *len = json_object_get(m, "length");
    pm->length = len ? (int)json_integer_value(len) : 16;
    if (pm->length < 1 || pm->length > 32)
      pdiag(c, DSR_DIAG_ERROR, mp, false, "random mask length out of range (expected 1 to 32)");
  }
  const char *ty = dsr_pcollection_column_type(coll, field);
  if ((st == DSR_MASK_HMAC || st == DSR_MASK_RANDOM) && !strstr(ty, "text") && !strstr(ty, "char"))
    pdiag(c, DSR_DIAG_ERROR, sp, false,
          "mask strategy \"%s\" needs a text column, \"%s\" is %s (expected null or fixed)",
          strategies[st], field, ty);
  if (st != DSR_MASK_FIXED && json_object_get(m, "value"))
    pdiag(c, DSR_DIAG_ERROR, mp, false, "\"value\" is for fixed masks (expected no value)");
cleanup:
  free(sp);
  return ok;
}

static void check_masks(struct pctx *c, struct dsr_pcollection *coll, const json_t *fields,
                        const char *fp)
{
  if (!json_is_object(fields) || json_object_size(fields) == 0) {
    pdiag(c, DSR_DIAG_ERROR, fp, false,
          "a mask action needs fields (expected \"fields\": {\"column\": {\"strategy\": ...}})");
    return;
  }
  coll->masks = calloc(json_object_size(fields) + 1, sizeof *coll->masks);
  if (!coll->masks) {
    c->oom = true;
    return;
  }
  const char *k;
  const json_t *m;
  json_object_foreach((json_t *)fields, k, m) {
    char *mp = pptr(fp, k);
    if (mp && parse_mask(c, coll, k, m, mp, &coll->masks[coll->nmasks]))
      coll->nmasks++;
    free(mp);
  }
}

static void check_erasure(struct pctx *c, struct dsr_pcollection *coll, const json_t *e,
                          const char *ep)
{
  char *ap = pptr(ep, "action"), *fp = pptr(ep, "fields"), *cp = pptr(ep, "columns"),
       *pp = pptr(ep, "patterns");
  if (!ep || !pcheck_obj(c, e, ep, erasure_spec, "an erasure action"))
    goto cleanup;
  int a = enum_of(c, str(e, "action"), actions, ap, "action");
  if (a < 0 || !str(e, "action"))
    goto cleanup;
  coll->action = (enum dsr_action)a;
  coll->action_basis = str(e, "basis");
  coll->action_description = str(e, "description");
  coll->action_explanation = str(e, "explanation");
  /* delete may name fields too: the masks of rows an erasure has to keep
   * because kept rows still reference them; retain may: the rows are kept
   * under their basis and these fields masked (an invoice kept for tax, its
   * billing email pseudonymised) */
  if (a == DSR_ACT_REDACT && json_object_get(e, "fields"))
    pdiag(c, DSR_DIAG_ERROR, fp, true,
          "\"fields\" is for mask, delete and retain actions (expected action \"mask\", "
          "\"delete\" or \"retain\")");
  if (a == DSR_ACT_MASK || (a != DSR_ACT_REDACT && json_object_get(e, "fields")))
    check_masks(c, coll, json_object_get(e, "fields"), fp);
  if (a == DSR_ACT_RETAIN && !coll->action_basis)
    pdiag(c, DSR_DIAG_ERROR, ep, false, "a retain action needs a legal basis (expected \"basis\")");
  const json_t *cols = json_object_get(e, "columns"), *pats = json_object_get(e, "patterns");
  /* redact: the subject's rows and rows mentioning the subject are redacted;
   * other actions may name columns and patterns too: rows that are not the
   * subject's but mention the subject are then redacted. */
  if (a == DSR_ACT_REDACT || cols || pats) {
    if (!json_array_size(cols) || !json_array_size(pats)) {
      pdiag(c, DSR_DIAG_ERROR, ep, false,
            "redaction needs both columns and patterns (expected \"columns\" and \"patterns\")");
      goto cleanup;
    }
    coll->redact_columns = col_list(c, coll, cols, cp, &coll->nredact_columns, true);
    coll->redact_patterns = calloc(json_array_size(pats) + 1, sizeof *coll->redact_patterns);
    if (!coll->redact_patterns) {
      c->oom = true;
      goto cleanup;
    }
    size_t i;
    const json_t *pv;
    json_array_foreach(pats, i, pv) {
      const struct dsr_ppattern *pat = dsr_policy_pattern(c->p, json_string_value(pv));
      if (pat) {
        coll->redact_patterns[coll->nredact_patterns++] = pat;
      } else if (json_is_string(pv)) {
        char *ip = pptr_i(pp, i);
        pdiag(c, DSR_DIAG_ERROR, ip, false, "no pattern \"%s\" (expected a key of patterns)",
              json_string_value(pv));
        free(ip);
      }
    }
  }
cleanup:
  free(ap);
  free(fp);
  free(cp);
  free(pp);
}

static void check_export(struct pctx *c, struct dsr_pcollection *coll, const json_t *x,
                         const char *xp)
{
  if (!pcheck_obj(c, x, xp, export_spec, "an export shape"))
    return;
  coll->export_label = str(x, "label");
  const json_t *f = json_object_get(x, "fields");
  if (!json_is_object(f))
    return;
  coll->export_fields = f;
  char *fp = pptr(xp, "fields");
  const char *k;
  const json_t *v;
  json_object_foreach((json_t *)f, k, v) {
    char *kp = pptr(fp, k);
    if (!dsr_pcollection_column_type(coll, k))
      pdiag(c, DSR_DIAG_ERROR, kp, true,
            "no column \"%s\" in collection \"%s\" (expected a key of collections.%s.columns)", k,
            coll->name, coll->name);
    else if (!json_is_string(v) || !json_string_length(v))
      pdiag(c, DSR_DIAG_ERROR, kp, false, "wrong type (expected a human label)");
    free(kp);
  }
  free(fp);
}

/* crypto_shred: media encrypted with a per-subject data key that erasure destroys. */
static void check_crypto(struct pctx *c, struct dsr_pcollection *coll, const json_t *o,
                         const char *cp)
{
  char *kp = pptr(cp, "key_column"), *ip = pptr(cp, "identity");
  if (!pcheck_obj(c, o, cp, crypto_spec, "crypto_shred"))
    goto cleanup;
  coll->crypto_key_column = str(o, "key_column");
  if (need_col(c, coll, coll->crypto_key_column, kp))
    coll->crypto_shred = true;
  int k = enum_of(c, str(o, "identity"), kinds, ip, "identity kind");
  coll->crypto_identity = (enum dsr_id_kind)(k > 0 ? k : 0);
  if (coll->nfiles == 0)
    pdiag(c, DSR_DIAG_ERROR, cp, false,
          "crypto_shred on a collection without files (expected \"files\")");
  if (coll->action != DSR_ACT_DELETE)
    pdiag(c, DSR_DIAG_ERROR, cp, false,
          "crypto_shred on a collection that erasure does not delete (expected erasure action "
          "\"delete\")");
cleanup:
  free(kp);
  free(ip);
}

/* Pass 1: everything that needs only this collection. */
static void check_one(struct pctx *c, struct dsr_pcollection *coll, const json_t *o,
                      const char *cp)
{
  char *sp = pptr(cp, "store"), *op = pptr(cp, "owner"), *pkp = pptr(cp, "primary_key"),
       *tp = pptr(cp, "tenant_column"), *colp = pptr(cp, "columns"), *ip = pptr(cp, "identities"),
       *fp = pptr(cp, "files"), *gp = pptr(cp, "categories"), *pp = pptr(cp, "portable"),
       *rp = pptr(cp, "rectifiable"), *xp = pptr(cp, "export"), *ep = pptr(cp, "erasure");
  if (!pcheck_obj(c, o, cp, coll_spec, "a collection"))
    goto cleanup;
  coll->schema = str(o, "schema") ? str(o, "schema") : "public";
  coll->table = str(o, "table");
  coll->label = str(o, "label");
  coll->purpose = str(o, "purpose");
  coll->recipients = str(o, "recipients");
  coll->source = str(o, "source");
  coll->description = str(o, "description");
  coll->nkey = names_of(json_object_get(o, "primary_key"), coll->key);
  coll->tenant_column = str(o, "tenant_column");
  const char *st = str(o, "store");
  coll->store = dsr_policy_store(c->p, st);
  if (st && (!coll->store || coll->store->type != DSR_STORE_POSTGRESQL))
    pdiag(c, DSR_DIAG_ERROR, sp, false, "no postgresql store \"%s\" (expected a key of stores with type postgresql)", st);
  int ow = enum_of(c, str(o, "owner"), owners, op, "owner");
  coll->owner = ow > 0 ? DSR_OWNER_PROCESSOR : DSR_OWNER_CONTROLLER;
  check_columns(c, coll, json_object_get(o, "columns"), colp);
  (void)need_cols(c, coll, coll->key, coll->nkey, pkp);
  if (coll->tenant_column)
    (void)need_col(c, coll, coll->tenant_column, tp);
  check_identities(c, coll, json_object_get(o, "identities"), ip);
  check_files(c, coll, json_object_get(o, "files"), fp);
  coll->categories = col_list(c, coll, json_object_get(o, "categories"), gp, &coll->ncategories, false);
  const json_t *cats = json_object_get(c->p->doc, "categories");
  for (size_t i = 0; i < coll->ncategories; i++)
    if (!json_object_get(cats, coll->categories[i])) {
      char *gi = pptr_i(gp, i);
      pdiag(c, DSR_DIAG_ERROR, gi, false, "no category \"%s\" (expected a key of categories)",
            coll->categories[i]);
      free(gi);
    }
  coll->portable = col_list(c, coll, json_object_get(o, "portable"), pp, &coll->nportable, true);
  coll->rectifiable =
      col_list(c, coll, json_object_get(o, "rectifiable"), rp, &coll->nrectifiable, true);
  if (json_object_get(o, "export"))
    check_export(c, coll, json_object_get(o, "export"), xp);
  check_erasure(c, coll, json_object_get(o, "erasure"), ep);
  if (json_object_get(o, "crypto_shred")) {
    char *kp = pptr(cp, "crypto_shred");
    check_crypto(c, coll, json_object_get(o, "crypto_shred"), kp);
    free(kp);
  }
cleanup:
  free(sp); free(op); free(pkp); free(tp); free(colp); free(ip);
  free(fp); free(gp); free(pp); free(rp); free(xp); free(ep);
}

/*
 * A reference's reach: "cascade" true or false for both plans, or
 * {"access": bool, "erasure": bool} (each defaulting to true). @p ep is the
 * reference's pointer. False (with a diagnostic) on any other shape.
 */
static bool reach_of(struct pctx *c, const json_t *e, const char *ep, bool *access, bool *erasure)
{
  const json_t *cas = json_object_get(e, "cascade");
  *access = *erasure = true;
  if (!cas)
    return true;
  if (json_is_boolean(cas)) {
    *access = *erasure = json_is_true(cas);
    return true;
  }
  char *kp = pptr(ep, "cascade");
  bool ok = json_is_object(cas) && json_object_size(cas) > 0;
  const char *key;
  const json_t *v;
  json_object_foreach((json_t *)cas, key, v) {
    bool known = !strcmp(key, "access") || !strcmp(key, "erasure");
    if (!known || !json_is_boolean(v)) {
      ok = false;
      break;
    }
    *(strcmp(key, "access") ? erasure : access) = json_is_true(v);
  }
  if (!ok)
    pdiag(c, DSR_DIAG_ERROR, kp, false,
          "cascade must be true, false or {\"access\": true|false, \"erasure\": true|false} "
          "(expected how far the subject's parent rows reach for each plan)");
  free(kp);
  return ok;
}

/* Pass 2: references (every collection is known now). */
static void check_refs(struct pctx *c, struct dsr_pcollection *coll, const json_t *o,
                       const char *cp)
{
  const json_t *arr = json_object_get(o, "references");
  char *rp = pptr(cp, "references");
  if (!json_is_array(arr) || !rp)
    goto cleanup;
  coll->references = calloc(json_array_size(arr) + 1, sizeof *coll->references);
  if (!coll->references) {
    c->oom = true;
    goto cleanup;
  }
  size_t i;
  const json_t *e;
  json_array_foreach(arr, i, e) {
    char *ep = pptr_i(rp, i);
    char *colp = pptr(ep, "column"), *pp = pptr(ep, "parent"), *pcp = pptr(ep, "parent_column");
    if (ep && pcheck_obj(c, e, ep, ref_spec, "a reference")) {
      const char *pn = str(e, "parent");
      const struct dsr_pcollection *parent = dsr_policy_collection(c->p, pn);
      struct dsr_preference ref = {.parent = parent};
      ref.ncolumns = names_of(json_object_get(e, "column"), ref.columns);
      bool ok = need_cols(c, coll, ref.columns, ref.ncolumns, colp);
      if (pn && !parent) {
        pdiag(c, DSR_DIAG_ERROR, pp, false, "no collection \"%s\" (expected a key of collections)", pn);
        ok = false;
      }
      const json_t *pcv = json_object_get(e, "parent_column");
      size_t npc = 0;
      if (pcv)
        npc = names_of(pcv, ref.parent_columns);
      else if (parent)
        for (npc = 0; npc < parent->nkey; npc++)
          ref.parent_columns[npc] = parent->key[npc];
      if (parent && npc && !need_cols(c, parent, ref.parent_columns, npc, pcv ? pcp : pp))
        ok = false;
      if (parent && npc && ref.ncolumns && npc != ref.ncolumns) {
        pdiag(c, DSR_DIAG_ERROR, colp, false,
              "%zu column(s) refer to %zu column(s) of \"%s\" (expected one column for each %s)",
              ref.ncolumns, npc, parent->name,
              pcv ? "parent_column" : "column of the parent's primary key");
        ok = false;
      }
      if (parent && parent->store && coll->store && parent->store != coll->store) {
        pdiag(c, DSR_DIAG_ERROR, pp, false,
              "reference across stores \"%s\" and \"%s\" (expected the parent in the same store)",
              coll->store->name, parent->store->name);
        ok = false;
      }
      bool access = true, erasure = true;
      ok = ok && reach_of(c, e, ep, &access, &erasure);
      if (ok && npc) {
        ref.reach_access = access;
        ref.reach_erasure = erasure;
        coll->references[coll->nreferences++] = ref;
      }
    }
    free(colp);
    free(pp);
    free(pcp);
    free(ep);
  }
cleanup:
  free(rp);
}

/* tenant_via and retention's "reference" name a reference by one of its columns. */
static const struct dsr_preference *ref_by_column(const struct dsr_pcollection *coll,
                                                  const char *col)
{
  for (size_t i = 0; col && i < coll->nreferences; i++)
    for (size_t k = 0; k < coll->references[i].ncolumns; k++)
      if (!strcmp(coll->references[i].columns[k], col))
        return &coll->references[i];
  return NULL;
}

/* Pass 2: tenant of processor collections. */
static void check_tenant(struct pctx *c, struct dsr_pcollection *coll, const json_t *o,
                         const char *cp)
{
  const char *via = str(o, "tenant_via");
  char *vp = pptr(cp, "tenant_via");
  if (via) {
    const struct dsr_preference *r = ref_by_column(coll, via);
    if (!r)
      pdiag(c, DSR_DIAG_ERROR, vp, false,
            "no reference on column \"%s\" (expected the column of a \"references\" entry)", via);
    else if (r->parent->owner != DSR_OWNER_PROCESSOR && !r->parent->tenant_column)
      pdiag(c, DSR_DIAG_ERROR, vp, false,
            "parent \"%s\" has no tenant (expected a reference to a processor collection, or "
            "to a controller collection with a tenant_column)",
            r->parent->name);
    else if (coll->tenant_column)
      pdiag(c, DSR_DIAG_ERROR, vp, true,
            "both tenant_column and tenant_via (expected one of them)");
    else
      coll->tenant_via = r;
  }
  if (coll->owner == DSR_OWNER_PROCESSOR && !coll->tenant_column && !via)
    pdiag(c, DSR_DIAG_ERROR, cp, true,
          "processor collection without a tenant column (expected \"tenant_column\", or "
          "\"tenant_via\" naming a reference to a collection with a tenant)");
  free(vp);
}

/* Pass 2: retention (references must be resolved). */
static void check_retention(struct pctx *c, struct dsr_pcollection *coll, const json_t *o,
                            const char *cp)
{
  const json_t *r = json_object_get(o, "retention");
  char *rp = pptr(cp, "retention");
  char *up = pptr(rp, "rule"), *colp = pptr(rp, "column"), *refp = pptr(rp, "reference"),
       *sp = pptr(rp, "setting");
  struct dsr_pretention *ret = &coll->retention;
  if (!r || !rp || !pcheck_obj(c, r, rp, retention_spec, "a retention rule"))
    goto cleanup;
  int rule = enum_of(c, str(r, "rule"), rules, up, "retention rule");
  if (rule < 0 || !str(r, "rule"))
    goto cleanup;
  ret->rule = (enum dsr_retention_rule)rule;
  ret->column = str(r, "column");
  ret->period = str(r, "period");
  ret->basis = str(r, "basis");
  ret->description = str(r, "description");
  bool needs_col = rule == DSR_RET_AGE || rule == DSR_RET_AFTER_EVENT || rule == DSR_RET_TENANT_SETTING;
  if (needs_col && !ret->column)
    pdiag(c, DSR_DIAG_ERROR, rp, false, "retention \"%s\" needs a timestamp column (expected \"column\")",
          rules[rule]);
  else if (needs_col)
    (void)need_col(c, coll, ret->column, colp);
  if (needs_col && !ret->period)
    pdiag(c, DSR_DIAG_ERROR, rp, false, "retention \"%s\" needs a period (expected \"period\")",
          rules[rule]);
  if (rule == DSR_RET_INDEFINITE && !ret->basis)
    pdiag(c, DSR_DIAG_ERROR, rp, false,
          "retention \"indefinite\" needs a legal basis (expected \"basis\")");
  if (rule == DSR_RET_WITH_PARENT) {
    const char *refcol = str(r, "reference");
    if (coll->nreferences == 0)
      pdiag(c, DSR_DIAG_ERROR, up, false,
            "retention \"with_parent\" without a parent (expected a \"references\" entry)");
    else if (refcol && !(ret->via = ref_by_column(coll, refcol)))
      pdiag(c, DSR_DIAG_ERROR, refp, false,
            "no reference on column \"%s\" (expected the column of a \"references\" entry)", refcol);
    else if (!refcol && coll->nreferences > 1)
      pdiag(c, DSR_DIAG_ERROR, rp, false,
            "several references, which parent? (expected \"reference\" naming a reference column)");
    else if (!refcol)
      ret->via = &coll->references[0];
  }
  if (rule == DSR_RET_TENANT_SETTING) {
    const json_t *s = json_object_get(r, "setting");
    if (!s) {
      pdiag(c, DSR_DIAG_ERROR, rp, false,
            "retention \"tenant_setting\" needs a settings table (expected \"setting\")");
    } else if (pcheck_obj(c, s, sp, setting_spec, "a tenant setting")) {
      char *scp = pptr(sp, "collection"), *stp = pptr(sp, "tenant_column"),
           *svp = pptr(sp, "value_column"), *sup = pptr(sp, "unit"), *smp = pptr(sp, "max");
      ret->setting = dsr_policy_collection(c->p, str(s, "collection"));
      ret->setting_tenant_column = str(s, "tenant_column");
      ret->setting_value_column = str(s, "value_column");
      ret->setting_unit = str(s, "unit");
      ret->min = str(s, "min");
      ret->max = str(s, "max");
      if (str(s, "collection") && !ret->setting)
        pdiag(c, DSR_DIAG_ERROR, scp, false, "no collection \"%s\" (expected a key of collections)",
              str(s, "collection"));
      if (ret->setting) {
        (void)need_col(c, ret->setting, ret->setting_tenant_column, stp);
        (void)need_col(c, ret->setting, ret->setting_value_column, svp);
      }
      (void)enum_of(c, ret->setting_unit, units, sup, "unit");
      long long mn = 0, mx = 0;
      if (dsr_duration_parse(ret->min, &mn) && dsr_duration_parse(ret->max, &mx) && mn > mx)
        pdiag(c, DSR_DIAG_ERROR, smp, false, "max is below min (expected min <= max)");
      if (coll->owner != DSR_OWNER_PROCESSOR)
        pdiag(c, DSR_DIAG_ERROR, up, false,
              "retention \"tenant_setting\" on a controller collection (expected owner \"processor\")");
      free(scp); free(stp); free(svp); free(sup); free(smp);
    }
  }
cleanup:
  free(up); free(colp); free(refp); free(sp); free(rp);
}

/* Kahn's algorithm over child -> parent edges; reports one cycle if any. */
static void topo_sort(struct pctx *c)
{
  struct dsr_policy *p = c->p;
  size_t n = p->ncolls;
  size_t *indeg = calloc(n + 1, sizeof *indeg);
  p->topo = calloc(n + 1, sizeof *p->topo);
  bool *done = calloc(n + 1, sizeof *done);
  if (!indeg || !p->topo || !done) {
    c->oom = true;
    goto cleanup;
  }
  for (size_t i = 0; i < n; i++)
    indeg[i] = p->colls[i].nreferences; /* parents still to place */
  size_t placed = 0;
  bool progress = true;
  while (progress) {
    progress = false;
    for (size_t i = 0; i < n; i++) {
      if (done[i] || indeg[i] > 0)
        continue;
      done[i] = true;
      p->colls[i].topo_index = placed;
      p->topo[placed++] = &p->colls[i];
      progress = true;
      for (size_t j = 0; j < n; j++)
        for (size_t r = 0; r < p->colls[j].nreferences; r++)
          if (p->colls[j].references[r].parent == &p->colls[i])
            indeg[j]--;
    }
  }
  if (placed == n)
    goto cleanup;
  /* Walk parents from the first unplaced collection until one repeats: an
   * unplaced collection always has an unplaced parent. */
  size_t start = 0;
  while (done[start])
    start++;
  size_t *walk = calloc(n + 1, sizeof *walk);
  size_t *seen_at = calloc(n + 1, sizeof *seen_at);
  struct dsr_buf path = {0};
  char *lp = NULL, *rp = NULL;
  if (!walk || !seen_at) {
    c->oom = true;
    goto report_done;
  }
  size_t nwalk = 0, ci = start;
  while (!seen_at[ci]) {
    walk[nwalk++] = ci;
    seen_at[ci] = nwalk;
    const struct dsr_pcollection *cur = &p->colls[ci];
    for (size_t r = 0; r < cur->nreferences; r++)
      if (!done[cur->references[r].parent - p->colls]) {
        ci = (size_t)(cur->references[r].parent - p->colls);
        break;
      }
  }
  size_t first = seen_at[ci] - 1, len = nwalk - first, low = first;
  for (size_t k = first; k < nwalk; k++)
    if (walk[k] < walk[low])
      low = k;
  bool ok = true;
  for (size_t k = 0; k <= len; k++)
    ok = ok && dsr_buf_printf(&path, "%s%s", k ? " -> " : "",
                              p->colls[walk[first + (low - first + k) % len]].name);
  const struct dsr_pcollection *lowc = &p->colls[walk[low]];
  const struct dsr_pcollection *nextc = &p->colls[walk[first + (low - first + 1) % len]];
  const char *ref_col = "?";
  for (size_t r = 0; r < lowc->nreferences; r++)
    if (lowc->references[r].parent == nextc) {
      ref_col = lowc->references[r].columns[0];
      break;
    }
  lp = pptr("/collections", lowc->name);
  rp = lp ? pptr(lp, "references") : NULL;
  if (ok)
    pdiag(c, DSR_DIAG_ERROR, rp, false,
          "reference cycle %s via column \"%s\" (expected references to form no cycle)",
          path.data, ref_col);
  else
    c->oom = true;
report_done:
  free(rp);
  free(lp);
  dsr_buf_free(&path);
  free(seen_at);
  free(walk);
  free(p->topo);
  p->topo = NULL;
cleanup:
  free(indeg);
  free(done);
}

void pcheck_collections(struct pctx *c, const json_t *doc)
{
  struct dsr_policy *p = c->p;
  const json_t *colls = json_object_get(doc, "collections");
  if (!json_is_object(colls))
    return;
  if (json_object_size(colls) == 0) {
    pdiag(c, DSR_DIAG_ERROR, "/collections", false, "no collections (expected at least one)");
    return;
  }
  p->colls = calloc(json_object_size(colls) + 1, sizeof *p->colls);
  if (!p->colls) {
    c->oom = true;
    return;
  }
  const char *k;
  const json_t *v;
  json_object_foreach((json_t *)colls, k, v) {
    char *cp = pptr("/collections", k);
    struct dsr_pcollection *coll = &p->colls[p->ncolls++];
    coll->name = k;
    if (cp)
      check_one(c, coll, v, cp);
    free(cp);
  }
  size_t i = 0;
  json_object_foreach((json_t *)colls, k, v) {
    char *cp = pptr("/collections", k);
    if (cp && json_is_object(v))
      check_refs(c, &p->colls[i], v, cp);
    free(cp);
    i++;
  }
  i = 0;
  json_object_foreach((json_t *)colls, k, v) {
    char *cp = pptr("/collections", k);
    if (cp && json_is_object(v)) {
      check_tenant(c, &p->colls[i], v, cp);
      check_retention(c, &p->colls[i], v, cp);
    }
    free(cp);
    i++;
  }
  topo_sort(c);
}

/**
 * @file policy_stores.c
 * @brief Validation of stores, backups, categories, redaction patterns
 *        (compiled once with pcre2) and suppression; fills the data map.
 */
#include "config.h"
#include "policy_int.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdlib.h>
#include <string.h>

static const char *const store_types[] = {"postgresql", "files", "backup_set", NULL};
static const char *const mechanisms[] = {"file_set", "ledger", "crypto_shred", NULL};
static const char *const kinds[] = {"email", "phone", "account_id", NULL};
static const char *const suppress_on[] = {"erasure", "opt_out", "objection",
                                          "withdraw_consent", NULL};

static const struct pkey store_spec[] = {
    {"type", PT_STR, true},     {"dsn", PT_STR, false},      {"dsn_env", PT_STR, false},
    {"root", PT_STR, false},    {"root_env", PT_STR, false}, {"of", PT_STR, false},
    {"prefixes", PT_OBJ, false}, {"description", PT_STR, false}, {NULL, PT_ANY, false}};
static const struct pkey backup_spec[] = {
    {"mechanism", PT_STR, true}, {"max_residual_age", PT_DUR, true},
    {"description", PT_STR, true}, {NULL, PT_ANY, false}};
static const struct pkey category_spec[] = {
    {"label", PT_STR, true}, {"description", PT_STR, false}, {NULL, PT_ANY, false}};
static const struct pkey pattern_spec[] = {
    {"regex", PT_STR, true}, {"kind", PT_STR, true}, {"replacement", PT_STR, true},
    {"description", PT_STR, false}, {NULL, PT_ANY, false}};
static const struct pkey suppression_spec[] = {
    {"kinds", PT_STRARR, true}, {"on", PT_STRARR, true}, {"basis", PT_STR, true},
    {"description", PT_STR, false}, {NULL, PT_ANY, false}};

static const char *str(const json_t *o, const char *k)
{
  const json_t *v = json_object_get(o, k);
  return json_is_string(v) && json_string_length(v) ? json_string_value(v) : NULL;
}

static int by_prefix_len(const void *a, const void *b)
{
  const struct dsr_pprefix *x = a, *y = b;
  size_t lx = strlen(x->prefix), ly = strlen(y->prefix);
  return lx != ly ? (lx < ly ? 1 : -1) : strcmp(x->prefix, y->prefix);
}

/* "prefixes": {"s3://bucket/ws-12/": "/srv/objects/ws-12", ...}: a files store's object keys. */
static void check_prefixes(struct pctx *c, struct dsr_pstore *s, const json_t *m, const char *sp)
{
  char *mp = pptr(sp, "prefixes");
  if (s->type != DSR_STORE_FILES) {
    pdiag(c, DSR_DIAG_ERROR, mp, true, "\"prefixes\" is for files stores (expected no prefixes)");
    goto cleanup;
  }
  s->prefixes = calloc(json_object_size(m) + 1, sizeof *s->prefixes);
  if (!s->prefixes) {
    c->oom = true;
    goto cleanup;
  }
  const char *k;
  const json_t *v;
  json_object_foreach((json_t *)m, k, v) {
    char *kp = pptr(mp, k);
    const char *root = json_string_value(v);
    if (!*k)
      pdiag(c, DSR_DIAG_ERROR, kp, true, "empty prefix (expected the start of an object key)");
    else if (!root || root[0] != '/' || strstr(root, "/../") ||
             (strlen(root) >= 3 && !strcmp(root + strlen(root) - 3, "/..")))
      pdiag(c, DSR_DIAG_ERROR, kp, false,
            "prefix \"%s\" maps to no absolute directory (expected a path such as \"/srv/objects\")",
            k);
    else
      s->prefixes[s->nprefixes++] = (struct dsr_pprefix){k, root};
    free(kp);
  }
  if (s->nprefixes > 1)
    qsort(s->prefixes, s->nprefixes, sizeof *s->prefixes, by_prefix_len);
cleanup:
  free(mp);
}

static void check_store(struct pctx *c, struct dsr_pstore *s, const json_t *o, const char *sp)
{
  int t = 0;
  const char *type = str(o, "type");
  if (type && !pone_of(type, store_types, &t)) {
    char *tp = pptr(sp, "type");
    pdiag(c, DSR_DIAG_ERROR, tp, false, "unknown store type \"%s\" (expected postgresql, files, backup_set)", type);
    free(tp);
  }
  s->type = (enum dsr_store_type)t;
  s->dsn = str(o, "dsn");
  s->dsn_env = str(o, "dsn_env");
  s->root = str(o, "root");
  s->root_env = str(o, "root_env");
  if (!type)
    return;
  if (s->type == DSR_STORE_POSTGRESQL && !!s->dsn == !!s->dsn_env)
    pdiag(c, DSR_DIAG_ERROR, sp, false,
          "a postgresql store needs exactly one of \"dsn\", \"dsn_env\" (expected one)");
  if (json_is_object(json_object_get(o, "prefixes")))
    check_prefixes(c, s, json_object_get(o, "prefixes"), sp);
  if (s->type == DSR_STORE_FILES && s->root && s->root_env)
    pdiag(c, DSR_DIAG_ERROR, sp, false,
          "a files store needs exactly one of \"root\", \"root_env\" (expected one)");
  if (s->type == DSR_STORE_FILES && !s->root && !s->root_env && !s->nprefixes)
    pdiag(c, DSR_DIAG_ERROR, sp, false,
          "a files store needs exactly one of \"root\", \"root_env\" (expected one, or "
          "\"prefixes\" alone)");
  if (s->type != DSR_STORE_POSTGRESQL && (s->dsn || s->dsn_env))
    pdiag(c, DSR_DIAG_ERROR, sp, false, "\"dsn\" is for postgresql stores (expected no dsn)");
  if (s->type != DSR_STORE_BACKUP_SET && json_object_get(o, "of"))
    pdiag(c, DSR_DIAG_ERROR, sp, false, "\"of\" is for backup_set stores (expected no \"of\")");
  if (s->type == DSR_STORE_BACKUP_SET && !str(o, "of"))
    pdiag(c, DSR_DIAG_ERROR, sp, false,
          "missing required key \"of\" in a backup_set store (expected the store it copies)");
}

static void check_backups(struct pctx *c, const json_t *doc)
{
  struct dsr_policy *p = c->p;
  const json_t *b = json_object_get(doc, "backups");
  if (b && !json_is_object(b))
    return;
  const char *k;
  const json_t *v;
  json_object_foreach((json_t *)b, k, v) {
    char *bp = pptr("/backups", k);
    struct dsr_pstore *s = NULL;
    for (size_t i = 0; i < p->nstores; i++)
      if (!strcmp(p->stores[i].name, k))
        s = &p->stores[i];
    if (!s || s->type != DSR_STORE_BACKUP_SET) {
      pdiag(c, DSR_DIAG_ERROR, bp, true, "no backup_set store \"%s\" (expected a store of type backup_set)", k);
    } else if (pcheck_obj(c, v, bp, backup_spec, "a backup set")) {
      int m = 0;
      const char *mech = str(v, "mechanism");
      char *mp = pptr(bp, "mechanism");
      if (mech && !pone_of(mech, mechanisms, &m))
        pdiag(c, DSR_DIAG_ERROR, mp, false,
              "unknown mechanism \"%s\" (expected file_set, ledger, crypto_shred)", mech);
      s->mechanism = (enum dsr_backup_mechanism)m;
      s->max_residual_age = str(v, "max_residual_age");
      s->backup_description = str(v, "description");
      s->backup_description = s->backup_description ? s->backup_description : "";
      if (mech && s->of) {
        bool db = s->of->type == DSR_STORE_POSTGRESQL;
        if ((s->mechanism == DSR_BACKUP_LEDGER) != db)
          pdiag(c, DSR_DIAG_ERROR, mp, false,
                "mechanism \"%s\" does not fit a copy of a %s store (expected %s)", mech,
                db ? "postgresql" : "files", db ? "ledger" : "file_set or crypto_shred");
      }
      free(mp);
    }
    free(bp);
  }
  for (size_t i = 0; i < p->nstores; i++)
    if (p->stores[i].type == DSR_STORE_BACKUP_SET && !p->stores[i].backup_description) {
      char *sp = pptr("/stores", p->stores[i].name);
      pdiag(c, DSR_DIAG_ERROR, sp, true,
            "backup set without a \"backups\" entry (expected how erasure reaches it)");
      free(sp);
    }
}

static void check_patterns(struct pctx *c, const json_t *doc)
{
  struct dsr_policy *p = c->p;
  const json_t *pats = json_object_get(doc, "patterns");
  if (!json_is_object(pats))
    return;
  p->patterns = calloc(json_object_size(pats) + 1, sizeof *p->patterns);
  if (!p->patterns) {
    c->oom = true;
    return;
  }
  const char *k;
  const json_t *v;
  json_object_foreach((json_t *)pats, k, v) {
    char *pp = pptr("/patterns", k);
    if (pp && pcheck_obj(c, v, pp, pattern_spec, "a pattern")) {
      struct dsr_ppattern *pat = &p->patterns[p->npatterns++];
      pat->name = k;
      pat->regex = str(v, "regex");
      pat->replacement = str(v, "replacement");
      int kind = 0;
      const char *ks = str(v, "kind");
      if (ks && (!pone_of(ks, kinds, &kind) || kind == DSR_ID_ACCOUNT)) {
        char *kp = pptr(pp, "kind");
        pdiag(c, DSR_DIAG_ERROR, kp, false, "unknown pattern kind \"%s\" (expected email, phone)", ks);
        free(kp);
      }
      pat->kind = (enum dsr_id_kind)kind;
      if (pat->regex) {
        int ec;
        PCRE2_SIZE off;
        pat->code = pcre2_compile((PCRE2_SPTR)pat->regex, PCRE2_ZERO_TERMINATED, PCRE2_UTF, &ec,
                                  &off, NULL);
        if (!pat->code) {
          PCRE2_UCHAR msg[160];
          pcre2_get_error_message(ec, msg, sizeof msg);
          char *rp = pptr(pp, "regex");
          pdiag(c, DSR_DIAG_ERROR, rp, false,
                "pattern does not compile at offset %zu: %s (expected a pcre2 regular expression)",
                (size_t)off, (const char *)msg);
          free(rp);
        }
      }
    }
    free(pp);
  }
}

static void check_suppression(struct pctx *c, const json_t *doc)
{
  const json_t *s = json_object_get(doc, "suppression");
  if (!s || !pcheck_obj(c, s, "/suppression", suppression_spec, "suppression"))
    return;
  size_t i;
  const json_t *e;
  json_array_foreach(json_object_get(s, "kinds"), i, e) {
    int k;
    if (json_is_string(e) && pone_of(json_string_value(e), kinds, &k)) {
      c->p->suppression_kinds |= 1u << k;
    } else if (json_is_string(e)) {
      char *ep = pptr_i("/suppression/kinds", i);
      pdiag(c, DSR_DIAG_ERROR, ep, false, "unknown identity kind \"%s\" (expected email, phone, account_id)", json_string_value(e));
      free(ep);
    }
  }
  json_array_foreach(json_object_get(s, "on"), i, e) {
    if (json_is_string(e) && !pone_of(json_string_value(e), suppress_on, NULL)) {
      char *ep = pptr_i("/suppression/on", i);
      pdiag(c, DSR_DIAG_ERROR, ep, false,
            "unknown request type \"%s\" (expected erasure, opt_out, objection, withdraw_consent)",
            json_string_value(e));
      free(ep);
    }
  }
}

void pcheck_stores(struct pctx *c, const json_t *doc)
{
  struct dsr_policy *p = c->p;
  const json_t *stores = json_object_get(doc, "stores");
  if (json_is_object(stores)) {
    p->stores = calloc(json_object_size(stores) + 1, sizeof *p->stores);
    if (!p->stores) {
      c->oom = true;
      return;
    }
    const char *k;
    const json_t *v;
    json_object_foreach((json_t *)stores, k, v) {
      char *sp = pptr("/stores", k);
      struct dsr_pstore *s = &p->stores[p->nstores++];
      s->name = k;
      if (sp && pcheck_obj(c, v, sp, store_spec, "a store"))
        check_store(c, s, v, sp);
      free(sp);
    }
    /* "of" needs every store known. */
    json_object_foreach((json_t *)stores, k, v) {
      const char *of = json_is_object(v) ? str(v, "of") : NULL;
      if (!of)
        continue;
      struct dsr_pstore *s = (struct dsr_pstore *)dsr_policy_store(p, k);
      const struct dsr_pstore *target = dsr_policy_store(p, of);
      char *sp = pptr("/stores", k), *op = sp ? pptr(sp, "of") : NULL;
      if (!target || target->type == DSR_STORE_BACKUP_SET)
        pdiag(c, DSR_DIAG_ERROR, op, false,
              "no store \"%s\" to copy (expected a postgresql or files store)", of);
      else if (s)
        s->of = target;
      free(op);
      free(sp);
    }
  }
  check_backups(c, doc);
  const json_t *cats = json_object_get(doc, "categories");
  if (json_is_object(cats)) {
    const char *k;
    const json_t *v;
    json_object_foreach((json_t *)cats, k, v) {
      char *cp = pptr("/categories", k);
      if (cp)
        (void)pcheck_obj(c, v, cp, category_spec, "a category");
      free(cp);
    }
  }
  check_patterns(c, doc);
  check_suppression(c, doc);
}

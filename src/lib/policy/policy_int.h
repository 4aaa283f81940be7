/**
 * @file policy_int.h
 * @brief Internals shared by the policy loader's files: the policy object,
 *        the validation context and the declarative key specs.
 */
#ifndef DSR_POLICY_INT_H
#define DSR_POLICY_INT_H

#include "dsr/jpos.h"
#include "dsr/policy.h"

struct dsr_policy {
  char *path;
  json_t *doc;
  struct dsr_pstore *stores;
  size_t nstores;
  struct dsr_ppattern *patterns;
  size_t npatterns;
  struct dsr_pcollection *colls;
  size_t ncolls;
  const struct dsr_pcollection **topo; /* ncolls entries, parents first */
  unsigned suppression_kinds;
};

/** Validation context: where diagnostics go and how to locate them. */
struct pctx {
  const char *path;
  const struct dsr_jpos *ix;
  struct dsr_diags *d;
  struct dsr_policy *p;
  bool oom;
};

/** Value types a spec can require. */
enum pt {
  PT_STR,     /**< non-empty string */
  PT_INT,     /**< integer */
  PT_BOOL,
  PT_OBJ,
  PT_ARR,
  PT_STRARR,  /**< array of non-empty strings */
  PT_DUR,     /**< interval string, dsr_duration_parse() */
  PT_NAMES,   /**< a column name, or 1 to DSR_KEY_MAX of them (keys, references) */
  PT_ANY
};

/** One allowed key of an object. */
struct pkey {
  const char *name;
  enum pt type;
  bool required;
};

/**
 * Reports a diagnostic at JSON pointer @p ptr (at its key when @p at_key):
 * "file:line:column: key: message".
 */
void pdiag(struct pctx *c, enum dsr_diag_level lvl, const char *ptr, bool at_key,
           const char *fmt, ...) DSR_PRINTF(5, 6);

/**
 * Checks that @p obj (at @p ptr) is an object whose keys are all in @p spec
 * (terminated by a NULL name), that required keys are present and every
 * value has its type. Returns false when @p obj is not an object.
 */
bool pcheck_obj(struct pctx *c, const json_t *obj, const char *ptr, const struct pkey *spec,
                const char *what);
/** Pointer @p base + "/" + @p token in a new string (caller frees); NULL on OOM. */
char *pptr(const char *base, const char *token);
/** Pointer @p base + "/" + index. Caller frees. */
char *pptr_i(const char *base, size_t i);
/** True when @p s is one of the NULL-terminated @p names; *idx gets its index. */
bool pone_of(const char *s, const char *const *names, int *idx);
/** "a, b, c" of a NULL-terminated list into @p out. */
void pjoin(const char *const *names, char *out, size_t outlen);

/** Checks a jurisdiction's "phone_region" (policy_phone.c). */
void pcheck_phone_region(struct pctx *c, const json_t *jur, const char *jptr);
/** Checks identity @p ident's "format" into @p id (kind already set); false on an error. */
bool pcheck_identity_format(struct pctx *c, const json_t *ident, const char *eptr,
                            struct dsr_pidentity *id);

/** Checks the request-flow sections of docs/policy-sections.md. */
void pcheck_flow(struct pctx *c, const json_t *doc);
/** Checks stores, backups, categories, patterns and suppression; fills the map. */
void pcheck_stores(struct pctx *c, const json_t *doc);
/** Checks collections and builds them, their references and the topological order. */
void pcheck_collections(struct pctx *c, const json_t *doc);

/** Checks the "choices" section against the built collections (policy_choices.c). */
void pcheck_choices(struct pctx *c, const json_t *doc);

/** Frees the data map (not the document). */
void policy_map_free(struct dsr_policy *p);

#endif

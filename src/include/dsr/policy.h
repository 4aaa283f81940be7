/**
 * @file policy.h
 * @brief The deployment's policy file (dsr-policy(5)): loading, validation
 *        and read access, including the compiled data map (stores,
 *        collections, references in topological order, identities, owners,
 *        files, erasure actions, retention, redaction patterns compiled once
 *        with pcre2). A loaded policy is immutable and shared read-only by all
 *        threads; the caller of dsr_policy_load() frees it.
 */
#ifndef DSR_POLICY_H
#define DSR_POLICY_H

#include <jansson.h>
#include "dsr/phone.h"
#include "dsr/util.h"

struct dsr_policy;

/** Kinds of identity a collection can be searched by. */
enum dsr_id_kind { DSR_ID_EMAIL, DSR_ID_PHONE, DSR_ID_ACCOUNT, DSR_ID_KIND_COUNT };
/** How a subject's value is normalized before it is compared with the column. */
enum dsr_id_norm {
  DSR_NORM_EXACT, /**< compared as given (trimmed) */
  DSR_NORM_LOWER, /**< lower(column) = lower(value) */
  DSR_NORM_E164,  /**< value reduced to "+" and digits */
  DSR_NORM_DIGITS /**< value reduced to digits only */
};
enum dsr_owner { DSR_OWNER_CONTROLLER, DSR_OWNER_PROCESSOR };
enum dsr_store_type { DSR_STORE_POSTGRESQL, DSR_STORE_FILES, DSR_STORE_BACKUP_SET };
enum dsr_action { DSR_ACT_DELETE, DSR_ACT_MASK, DSR_ACT_REDACT, DSR_ACT_RETAIN };
enum dsr_mask_strategy { DSR_MASK_NULL, DSR_MASK_FIXED, DSR_MASK_HMAC, DSR_MASK_RANDOM };
enum dsr_retention_rule {
  DSR_RET_NONE,
  DSR_RET_AGE,            /**< period after a timestamp column */
  DSR_RET_WITH_PARENT,    /**< rows go when their parent row goes */
  DSR_RET_AFTER_EVENT,    /**< period after an event column is set */
  DSR_RET_TENANT_SETTING, /**< per-tenant period read from a settings collection */
  DSR_RET_INDEFINITE      /**< kept, with a basis */
};
enum dsr_backup_mechanism { DSR_BACKUP_FILE_SET, DSR_BACKUP_LEDGER, DSR_BACKUP_CRYPTO_SHRED };

/** A prefix map entry of a files store: values starting with @c prefix live under @c root. */
struct dsr_pprefix {
  const char *prefix; /**< e.g. "s3://bucket/ws-12/" */
  const char *root;   /**< an absolute directory */
};

struct dsr_pstore {
  const char *name;
  enum dsr_store_type type;
  const char *dsn, *dsn_env;   /**< postgresql: one of them */
  const char *root, *root_env; /**< files / backup_set: one of them (optional for sets) */
  const struct dsr_pstore *of; /**< backup_set: the store it copies */
  /* backups section, for backup sets */
  enum dsr_backup_mechanism mechanism;
  const char *max_residual_age;
  const char *backup_description;
  /* files stores: object key prefixes mapped to directories (longest first) */
  struct dsr_pprefix *prefixes;
  size_t nprefixes;
};

struct dsr_pcolumn {
  const char *name;
  const char *type; /**< declared SQL type, e.g. "bigint", "text", "timestamptz" */
};

struct dsr_pidentity {
  const char *column;
  enum dsr_id_kind kind;
  enum dsr_id_norm norm;
  enum dsr_phone_format format; /**< phones: the declared stored format, or NONE (norm) */
  char format_region[3];        /**< DSR_PHONE_FMT_NATIONAL: its region ("DE") */
  /**
   * json/jsonb columns: where in the document the identities are
   * ("referrals[*].phone"), as the policy wrote it; NULL: the whole value.
   * jsonpath is the same as a PostgreSQL jsonpath ("$.\"referrals\"[*].\"phone\"").
   */
  const char *path;
  char *jsonpath;
};

struct dsr_pcollection;

/** Most columns a primary key or a reference may have (a policy with more is refused). */
#define DSR_KEY_MAX 4

/**
 * A reference child.(columns) -> parent.(parent_columns): one column, or
 * several taken together (a parent keyed by two columns).
 */
struct dsr_preference {
  const char *columns[DSR_KEY_MAX];
  const struct dsr_pcollection *parent;
  const char *parent_columns[DSR_KEY_MAX];
  size_t ncolumns;
  /**
   * The subject's parent rows make these child rows the subject's: in an
   * access or portability package (reach_access), and for erasure
   * (reach_erasure). "cascade": true/false sets both; {"access": ..,
   * "erasure": ..} each (e.g. calls she made for her employer: hers to see,
   * not hers to erase).
   */
  bool reach_access, reach_erasure;
};

struct dsr_pfile {
  const char *column;
  const struct dsr_pstore *store;
};

struct dsr_pmask {
  const char *field;
  enum dsr_mask_strategy strategy;
  const char *value; /**< fixed */
  int length;        /**< random */
};

/**
 * A column holding another party's identity ("party": "other"): never what
 * makes a row the subject's. With @p match, a row holding the subject's
 * identity there is found, and on erasure that column alone is masked.
 */
struct dsr_pother {
  struct dsr_pidentity id;
  bool match;
  struct dsr_pmask mask;
};

struct dsr_ppattern {
  const char *name;
  const char *regex;
  enum dsr_id_kind kind;
  const char *replacement;
  void *code; /**< pcre2_code *, compiled once at load */
};

struct dsr_pretention {
  enum dsr_retention_rule rule;
  const char *column;   /**< age / after_event / tenant_setting: timestamp column */
  const char *period;   /**< interval string; tenant_setting: the default */
  const struct dsr_preference *via; /**< with_parent */
  const char *basis;    /**< indefinite */
  const char *description;
  /* tenant_setting */
  const struct dsr_pcollection *setting;
  const char *setting_tenant_column, *setting_value_column, *setting_unit;
  const char *min, *max;
};

struct dsr_pcollection {
  const char *name;
  const struct dsr_pstore *store;
  const char *schema, *table;
  /** The primary key: one column, or several that together identify a row. */
  const char *key[DSR_KEY_MAX];
  size_t nkey;
  enum dsr_owner owner;
  const char *tenant_column;               /**< processor: own tenant column, or NULL */
  const struct dsr_preference *tenant_via; /**< processor without a tenant column */
  const char *description;
  const char *label; /**< "label": what people call it (messages, the package); or NULL */
  /* what an access answer tells the subject (GDPR Art. 15, CCPA, DPDP), in plain words; or NULL */
  const char *purpose;    /**< "purpose": why it is processed */
  const char *recipients; /**< "recipients": who receives it */
  const char *source;     /**< "source": where it comes from, when not from the subject */
  struct dsr_pcolumn *columns;
  size_t ncolumns;
  struct dsr_pidentity *identities;
  size_t nidentities;
  struct dsr_pother *others; /**< columns of another party's identity */
  size_t nothers;
  struct dsr_preference *references;
  size_t nreferences;
  const char **categories;
  size_t ncategories;
  struct dsr_pfile *files;
  size_t nfiles;
  const char **portable;
  size_t nportable;
  const char **rectifiable;
  size_t nrectifiable;
  /* erasure */
  enum dsr_action action;
  const char *action_basis, *action_description;
  const char *action_explanation; /**< erasure.explanation: why it is kept, for the subject */
  struct dsr_pmask *masks;
  size_t nmasks;
  const char **redact_columns;
  size_t nredact_columns;
  const struct dsr_ppattern **redact_patterns;
  size_t nredact_patterns;
  struct dsr_pretention retention;
  /* crypto_shred: files encrypted with per-subject data keys (media.h) */
  bool crypto_shred;
  const char *crypto_key_column; /**< the column naming the file's data key */
  enum dsr_id_kind crypto_identity;
  /* export */
  const char *export_label;
  const json_t *export_fields; /**< object column -> label, or NULL (all columns) */
  size_t topo_index;           /**< position in dsr_policy_topo_order() */
};

/** Severity of a diagnostic. */
enum dsr_diag_level { DSR_DIAG_ERROR, DSR_DIAG_WARNING };

/** One problem found in a policy; text is "file:line:column: key: message (expected ...)". */
struct dsr_diag {
  enum dsr_diag_level level;
  char *text;
};

/** Every problem found by dsr_policy_check(); free with dsr_diags_free(). */
struct dsr_diags {
  struct dsr_diag *v;
  size_t n, cap;
  size_t errors, warnings;
};

void dsr_diags_free(struct dsr_diags *d);
/** Appends a formatted diagnostic (no position); false on allocation failure (then dropped). */
bool dsr_diags_add(struct dsr_diags *d, enum dsr_diag_level level, const char *fmt,
                                ...) DSR_PRINTF(3, 4);

/**
 * Loads and validates @p path. On failure returns NULL and writes the first
 * problem ("file:line:column: key: message (expected ...)") into @p err.
 */
struct dsr_policy *dsr_policy_load(const char *path, char *err, size_t errlen);
/**
 * Loads and validates @p path, collecting every diagnostic into @p diags
 * (caller frees with dsr_diags_free()). Returns the policy when there was no
 * error (warnings allowed), else NULL.
 */
struct dsr_policy *dsr_policy_check(const char *path, struct dsr_diags *diags);
void dsr_policy_free(struct dsr_policy *p);

/** The whole validated document (borrowed; lives as long as @p p). */
const json_t *dsr_policy_json(const struct dsr_policy *p);
/** Top-level section @p name, or NULL when the policy omits it (borrowed). */
const json_t *dsr_policy_section(const struct dsr_policy *p, const char *name);
/** The path the policy was loaded from (borrowed). */
const char *dsr_policy_path(const struct dsr_policy *p);

/* --- the data map (all borrowed; valid as long as the policy) ------------ */
size_t dsr_policy_store_count(const struct dsr_policy *p);
const struct dsr_pstore *dsr_policy_store_at(const struct dsr_policy *p, size_t i);
const struct dsr_pstore *dsr_policy_store(const struct dsr_policy *p, const char *name);
/** The connection string of the policy's postgresql store (dsn or dsn_env), or NULL. */
const char *dsr_policy_pg_dsn(const struct dsr_policy *p);
size_t dsr_policy_collection_count(const struct dsr_policy *p);
/** Collections in topological order: every parent before its children. */
const struct dsr_pcollection *dsr_policy_topo_at(const struct dsr_policy *p, size_t i);
const struct dsr_pcollection *dsr_policy_collection(const struct dsr_policy *p, const char *name);
const struct dsr_ppattern *dsr_policy_pattern(const struct dsr_policy *p, const char *name);
/**
 * The region national phone numbers are read in: the "phone_region" of the
 * default jurisdiction ("ES"), or NULL when it has none (borrowed).
 */
const char *dsr_policy_phone_region(const struct dsr_policy *p);
/** Identity kinds recorded by suppression after an erasure (bit i = enum dsr_id_kind i). */
unsigned dsr_policy_suppression_kinds(const struct dsr_policy *p);

/** Declared type of @p col in @p c, or NULL when the column is not declared. */
const char *dsr_pcollection_column_type(const struct dsr_pcollection *c, const char *col);
/** True for an array type name ("text[]"). */
bool dsr_type_is_array(const char *type);
/** True for "json" and "jsonb". */
bool dsr_type_is_json(const char *type);
/**
 * The PostgreSQL jsonpath of a policy path: names ([A-Za-z_][A-Za-z0-9_]*)
 * separated by ".", each optionally followed by "[*]" (every element of an
 * array); a path may also start with "[*]". NULL when @p path is not one
 * (caller frees).
 */
char *dsr_policy_jsonpath(const char *path);
/**
 * Collections that reference @p parent: fills at most @p max (child,
 * reference) pairs (borrowed) and returns how many there are in all, so a
 * first call with max 0 and NULL arrays sizes them.
 */
size_t dsr_policy_children(const struct dsr_policy *p, const struct dsr_pcollection *parent,
                           const struct dsr_pcollection **child_out,
                           const struct dsr_preference **ref_out, size_t max);

/** True for a "choices" value spec: now, tenant, identity:KIND, fixed:TEXT. */
bool dsr_choice_value_ok(const char *v);

/** Names for enums ("email", "processor", "delete", ...). */
const char *dsr_id_kind_name(enum dsr_id_kind k);
const char *dsr_action_name(enum dsr_action a);
const char *dsr_mask_strategy_name(enum dsr_mask_strategy s);
const char *dsr_retention_rule_name(enum dsr_retention_rule r);

/**
 * Checks an interval string ("90 days", "1 month", "10 minutes"): a positive
 * integer and a unit (second, minute, hour, day, week, month, year, singular
 * or plural). True when valid; *seconds gets an approximation (month = 30
 * days, year = 365 days) when non-NULL.
 */
bool dsr_duration_parse(const char *s, long long *seconds);

#endif

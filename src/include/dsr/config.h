/**
 * @file config.h
 * @brief Configuration. One table of keys (config.c) is the source of truth:
 *        defaults, then the file (dsrd.conf), then DSRD_* environment
 *        variables, then --key=value flags, each overriding the one before.
 *        tests/unit checks that every key is documented in man/dsrd.conf.5
 *        and contrib/dsrd.conf.sample.
 */
#ifndef DSR_CONFIG_H
#define DSR_CONFIG_H

#include "dsr/util.h"

enum dsr_cfg_type { DSR_CFG_STRING, DSR_CFG_INT, DSR_CFG_BOOL };

/** Room for the key table's rows (config.c checks the table fits). */
#define DSR_CONFIG_MAX_KEYS 128

/** All settings. Strings are owned by the config and freed by dsr_config_free(). */
struct dsr_config {
  char *state_dir;
  char *database_url;
  char *listen_address;
  long port;
  long threads;
  long max_body_bytes;
  long max_header_bytes;
  bool migrate_on_start;
  char *log_level;
  char *secret_key_file;
  char *base_url;
  char *default_jurisdiction;
  char *phone_region; /**< ISO 3166 region of national phone numbers, or NULL */
  char *pg_bindir;
  char *pg_user;
  long db_pool_size;
  char *policy_file;
  bool webhook_allow_http;
  bool webhook_allow_private;
  long webhook_timeout;
  long webhook_secret_grace_hours;
  long due_reminder_days;
  long routing_sweep_interval;
  long workers;
  char *role;
  char *mail_transport;
  char *mail_from;
  char *smtp_url;
  char *smtp_username;
  char *smtp_password;
  char *sms_transport;
  char *sms_webhook_url;
  char *sms_webhook_token;
  long rate_intake_per_address;
  long rate_intake_per_identity;
  long rate_verify_per_address;
  long rate_verify_per_request;
  long test_clock_offset;
  long audit_seal_interval_ms;
  long ui_session_idle;
  long ui_session_absolute;
  long ui_login_max_failures;
  long ui_login_lockout;
  long rate_login_per_address;
  bool demo_mode;
  char *export_dir;
  long export_link_days;
  long export_max_downloads;
  long restriction_check_max_age;
  long erasure_batch_rows;
  long erasure_page_ms;
  long retention_sweep_interval;
  long outbox_retention_days;
  long export_retention_days;
  char *master_key_file;
  long max_connections;
  long max_connections_per_address;
  long request_header_timeout;
  long request_timeout;
  long job_lease_max;
  long report_max_days;
  /* --- operations (issue 21) --- */
  char *metrics_allow;
  char *metrics_token;
  long metrics_cache_seconds;
  char *problem_base_url;
  /* --- the Data Rights Protocol (issue 18) --- */
  char *drp_business_id;
  char *drp_business_name;
  char *drp_agents_file;
  char *drp_base_path;
  char *drp_jurisdiction;
  char *drp_actions;
  char *drp_technical_contact;
  /* Not keys: where each value came from (enum dsr_cfg_source, by key index) and the file read. */
  unsigned char source[DSR_CONFIG_MAX_KEYS];
  char *config_file; /**< the file that was read (owned), or NULL */
};

/** Where a setting's value came from, in increasing precedence. */
enum dsr_cfg_source { DSR_CFG_SRC_DEFAULT, DSR_CFG_SRC_FILE, DSR_CFG_SRC_ENV, DSR_CFG_SRC_FLAG };
/** "default", "file", "environment" or "flag". */
const char *dsr_config_source_name(enum dsr_cfg_source s);
/** True for keys whose values are secrets (passwords, tokens): never printed. */
bool dsr_config_key_secret(const char *name);
/**
 * The value of key @p k in @p cfg as text, for display (caller frees): NULL
 * when unset; secrets become "(redacted)" and a password inside a libpq
 * connection string or URL becomes "***".
 */
struct dsr_config_key;
char *dsr_config_value_text(const struct dsr_config *cfg, const struct dsr_config_key *k);

/** One row of the key table. */
struct dsr_config_key {
  const char *name;       /**< key in the file and in --name=value */
  const char *env;        /**< environment variable */
  enum dsr_cfg_type type;
  const char *def;        /**< default, as text (NULL: unset) */
  size_t offset;          /**< offsetof(struct dsr_config, ...) */
  long min, max;          /**< bounds for integers */
  const char *help;       /**< one line for --help and the man page */
};

/** The key table, terminated by a row with name == NULL. */
const struct dsr_config_key *dsr_config_keys(void);

/** Fills @p cfg with defaults. */
DSR_MUST_USE bool dsr_config_defaults(struct dsr_config *cfg);
/** Sets key @p name to @p value; on error writes a message into @p err. */
DSR_MUST_USE bool dsr_config_set(struct dsr_config *cfg, const char *name, const char *value,
                                 char *err, size_t errlen);
/** Reads "key = value" lines (# comments). Errors name file:line. */
DSR_MUST_USE bool dsr_config_load_file(struct dsr_config *cfg, const char *path, char *err,
                                       size_t errlen);
/** Applies every DSRD_* variable of the table that is set. */
DSR_MUST_USE bool dsr_config_load_env(struct dsr_config *cfg, char *err, size_t errlen);
/**
 * The whole sequence for a program: defaults, file (-c/--config or DSRD_CONFIG;
 * without them STATE_DIR/dsrd.conf when it exists, STATE_DIR as the flags, the
 * environment or the default name it), env, then --key=value flags from argv. Flags it does not know are
 * left for the caller: @p rest receives them (argv order kept), @p nrest counts.
 */
DSR_MUST_USE bool dsr_config_from_args(struct dsr_config *cfg, int argc, char **argv,
                                       char **rest, int *nrest, char *err, size_t errlen);
void dsr_config_free(struct dsr_config *cfg);

#endif

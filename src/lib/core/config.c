/** @file config.c @brief The table of configuration keys and its loaders. */
#include "config.h"
#include "dsr/config.h"

#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define S(field) offsetof(struct dsr_config, field)

static const struct dsr_config_key keys[] = {
    {"state_dir", "DSRD_STATE_DIR", DSR_CFG_STRING, "./var", S(state_dir), 0, 0,
     "directory for the embedded PostgreSQL cluster, keys and files"},
    {"database_url", "DSRD_DATABASE_URL", DSR_CFG_STRING, NULL, S(database_url), 0, 0,
     "libpq connection string; unset means the embedded cluster"},
    {"listen_address", "DSRD_LISTEN_ADDRESS", DSR_CFG_STRING, "127.0.0.1", S(listen_address), 0,
     0, "IPv4 address the HTTP server binds"},
    {"port", "DSRD_PORT", DSR_CFG_INT, "8080", S(port), 0, 65535,
     "HTTP port (0 picks a free one and logs it)"},
    {"threads", "DSRD_THREADS", DSR_CFG_INT, "16", S(threads), 1, 256, "HTTP thread-pool size"},
    {"max_body_bytes", "DSRD_MAX_BODY_BYTES", DSR_CFG_INT, "65536", S(max_body_bytes), 1024,
     16777216, "largest accepted request body"},
    {"max_header_bytes", "DSRD_MAX_HEADER_BYTES", DSR_CFG_INT, "16384", S(max_header_bytes),
     1024, 65536, "largest accepted total size of request headers"},
    {"migrate_on_start", "DSRD_MIGRATE_ON_START", DSR_CFG_BOOL, "true", S(migrate_on_start), 0,
     0, "apply pending migrations when dsrd starts"},
    {"log_level", "DSRD_LOG_LEVEL", DSR_CFG_STRING, "info", S(log_level), 0, 0,
     "debug, info, warn or error"},
    {"secret_key_file", "DSRD_SECRET_KEY_FILE", DSR_CFG_STRING, NULL, S(secret_key_file), 0, 0,
     "32-byte master key file (default: STATE_DIR/secret.key, created on first use)"},
    {"base_url", "DSRD_BASE_URL", DSR_CFG_STRING, NULL, S(base_url), 0, 0,
     "public URL of this service, used in links (default: http://ADDRESS:PORT)"},
    {"default_jurisdiction", "DSRD_DEFAULT_JURISDICTION", DSR_CFG_STRING, "gdpr",
     S(default_jurisdiction), 0, 0, "jurisdiction of requests that name none"},
    {"phone_region", "DSRD_PHONE_REGION", DSR_CFG_STRING, NULL, S(phone_region), 0, 0,
     "region (ISO 3166, e.g. DE) of phone numbers written without a country code"},
    {"pg_bindir", "DSRD_PG_BINDIR", DSR_CFG_STRING, DSR_PG_BINDIR, S(pg_bindir), 0, 0,
     "directory holding initdb and pg_ctl for the embedded cluster"},
    {"pg_user", "DSRD_PG_USER", DSR_CFG_STRING, "postgres", S(pg_user), 0, 0,
     "unprivileged account that runs the embedded cluster when dsrd runs as root"},
    {"db_pool_size", "DSRD_DB_POOL_SIZE", DSR_CFG_INT, "16", S(db_pool_size), 1, 512,
     "database connections per process"},
    {"policy_file", "DSRD_POLICY_FILE", DSR_CFG_STRING, NULL, S(policy_file), 0, 0,
     "the deployment's policy file (dsr-policy(5))"},
    {"webhook_allow_http", "DSRD_WEBHOOK_ALLOW_HTTP", DSR_CFG_BOOL, "false",
     S(webhook_allow_http), 0, 0, "allow http:// customer endpoints (default: https only)"},
    {"webhook_allow_private", "DSRD_WEBHOOK_ALLOW_PRIVATE", DSR_CFG_BOOL, "false",
     S(webhook_allow_private), 0, 0,
     "allow endpoints on loopback, private, link-local and reserved addresses"},
    {"webhook_timeout", "DSRD_WEBHOOK_TIMEOUT", DSR_CFG_INT, "15", S(webhook_timeout), 1, 120,
     "seconds one webhook delivery attempt may take"},
    {"webhook_secret_grace_hours", "DSRD_WEBHOOK_SECRET_GRACE_HOURS", DSR_CFG_INT, "24",
     S(webhook_secret_grace_hours), 0, 720,
     "hours a rotated whsec_ secret still signs deliveries"},
    {"due_reminder_days", "DSRD_DUE_REMINDER_DAYS", DSR_CFG_INT, "7", S(due_reminder_days), 0,
     90, "days before a request's due date that staff are reminded"},
    {"routing_sweep_interval", "DSRD_ROUTING_SWEEP_INTERVAL", DSR_CFG_INT, "300",
     S(routing_sweep_interval), 10, 86400,
     "seconds between routing sweeps (customer reminders, escalations, deadlines)"},
    {"workers", "DSRD_WORKERS", DSR_CFG_INT, "2", S(workers), 0, 64,
     "job-queue worker threads (role worker or all)"},
    {"role", "DSRD_ROLE", DSR_CFG_STRING, "all", S(role), 0, 0,
     "what this process runs: http, worker or all"},
    {"mail_transport", "DSRD_MAIL_TRANSPORT", DSR_CFG_STRING, "maildir", S(mail_transport), 0, 0,
     "how email goes out: maildir (files in STATE_DIR/maildir) or smtp"},
    {"mail_from", "DSRD_MAIL_FROM", DSR_CFG_STRING, "privacy@localhost", S(mail_from), 0, 0,
     "sender address of mail to subjects"},
    {"smtp_url", "DSRD_SMTP_URL", DSR_CFG_STRING, "smtp://127.0.0.1:25", S(smtp_url), 0, 0,
     "SMTP server (smtp://HOST:PORT; STARTTLS is used when offered; smtps:// for TLS)"},
    {"smtp_username", "DSRD_SMTP_USERNAME", DSR_CFG_STRING, NULL, S(smtp_username), 0, 0,
     "SMTP login (unset: no authentication)"},
    {"smtp_password", "DSRD_SMTP_PASSWORD", DSR_CFG_STRING, NULL, S(smtp_password), 0, 0,
     "SMTP password (prefer the environment variable)"},
    {"sms_transport", "DSRD_SMS_TRANSPORT", DSR_CFG_STRING, "maildir", S(sms_transport), 0, 0,
     "how SMS go out: maildir (as files, for demos) or sms_webhook"},
    {"sms_webhook_url", "DSRD_SMS_WEBHOOK_URL", DSR_CFG_STRING, NULL, S(sms_webhook_url), 0, 0,
     "SMS gateway URL that receives POST {\"to\",\"text\"}"},
    {"sms_webhook_token", "DSRD_SMS_WEBHOOK_TOKEN", DSR_CFG_STRING, NULL, S(sms_webhook_token),
     0, 0, "bearer token sent to the SMS gateway (unset: none)"},
    {"rate_intake_per_address", "DSRD_RATE_INTAKE_PER_ADDRESS", DSR_CFG_INT, "30",
     S(rate_intake_per_address), 1, 1000000, "new requests per hour from one client address"},
    {"rate_intake_per_identity", "DSRD_RATE_INTAKE_PER_IDENTITY", DSR_CFG_INT, "5",
     S(rate_intake_per_identity), 1, 1000000, "new requests per hour for one email, phone or account"},
    {"rate_verify_per_address", "DSRD_RATE_VERIFY_PER_ADDRESS", DSR_CFG_INT, "60",
     S(rate_verify_per_address), 1, 1000000,
     "verification attempts and re-sends per hour from one client address"},
    {"rate_verify_per_request", "DSRD_RATE_VERIFY_PER_REQUEST", DSR_CFG_INT, "20",
     S(rate_verify_per_request), 1, 1000000,
     "verification attempts and re-sends per hour for one request"},
    {"test_clock_offset", "DSRD_TEST_CLOCK_OFFSET", DSR_CFG_INT, "0", S(test_clock_offset),
     -315360000, 315360000, "FOR TESTS ONLY: seconds added to the clock"},
    {"audit_seal_interval_ms", "DSRD_AUDIT_SEAL_INTERVAL_MS", DSR_CFG_INT, "1000",
     S(audit_seal_interval_ms), 10, 600000,
     "how often dsrd links new audit entries into the hash chain"},
    {"ui_session_idle", "DSRD_UI_SESSION_IDLE", DSR_CFG_INT, "1800", S(ui_session_idle), 60,
     86400, "seconds a staff UI session lives without a request"},
    {"ui_session_absolute", "DSRD_UI_SESSION_ABSOLUTE", DSR_CFG_INT, "43200",
     S(ui_session_absolute), 300, 604800, "seconds a staff UI session lives after login"},
    {"ui_login_max_failures", "DSRD_UI_LOGIN_MAX_FAILURES", DSR_CFG_INT, "5",
     S(ui_login_max_failures), 1, 100, "consecutive wrong passwords that lock a staff account"},
    {"ui_login_lockout", "DSRD_UI_LOGIN_LOCKOUT", DSR_CFG_INT, "900", S(ui_login_lockout), 1,
     86400, "seconds a locked staff account waits"},
    {"rate_login_per_address", "DSRD_RATE_LOGIN_PER_ADDRESS", DSR_CFG_INT, "30",
     S(rate_login_per_address), 1, 1000000, "staff UI login attempts per hour from one address"},
    {"demo_mode", "DSRD_DEMO_MODE", DSR_CFG_BOOL, "false", S(demo_mode), 0, 0,
     "FOR DEMOS ONLY: the staff UI shows the maildir messages (/ui/inbox)"},
    {"export_dir", "DSRD_EXPORT_DIR", DSR_CFG_STRING, NULL, S(export_dir), 0, 0,
     "directory of encrypted export packages (default: STATE_DIR/exports)"},
    {"export_link_days", "DSRD_EXPORT_LINK_DAYS", DSR_CFG_INT, "7", S(export_link_days), 1, 365,
     "days an export download link stays valid"},
    {"export_max_downloads", "DSRD_EXPORT_MAX_DOWNLOADS", DSR_CFG_INT, "5",
     S(export_max_downloads), 1, 1000, "downloads an export link allows"},
    {"restriction_check_max_age", "DSRD_RESTRICTION_CHECK_MAX_AGE", DSR_CFG_INT, "60",
     S(restriction_check_max_age), 0, 86400,
     "seconds services may cache a restriction check answer (Cache-Control max-age)"},
    {"erasure_batch_rows", "DSRD_ERASURE_BATCH_ROWS", DSR_CFG_INT, "2000", S(erasure_batch_rows),
     10, 100000, "primary keys per erasure or sweep batch (one store transaction each)"},
    {"erasure_page_ms", "DSRD_ERASURE_PAGE_MS", DSR_CFG_INT, "500", S(erasure_page_ms), 0, 60000,
     "milliseconds an erasure batch's store transaction aims at: batches grow from "
     "erasure_batch_rows (up to 16 times) while they finish faster; 0: fixed batches"},
    {"retention_sweep_interval", "DSRD_RETENTION_SWEEP_INTERVAL", DSR_CFG_INT, "86400",
     S(retention_sweep_interval), 60, 2592000,
     "seconds between scheduled retention sweeps (one node at a time)"},
    {"outbox_retention_days", "DSRD_OUTBOX_RETENTION_DAYS", DSR_CFG_INT, "90",
     S(outbox_retention_days), 1, 3650,
     "days after which a sweep deletes messages to subjects (sent, failed or never sent)"},
    {"export_retention_days", "DSRD_EXPORT_RETENTION_DAYS", DSR_CFG_INT, "30",
     S(export_retention_days), 1, 3650,
     "days a sweep keeps the record of a destroyed export package"},
    {"master_key_file", "DSRD_MASTER_KEY_FILE", DSR_CFG_STRING, NULL, S(master_key_file), 0, 0,
     "versioned master keys wrapping the data keys of crypto-shredded media (mode 0600)"},
    {"metrics_allow", "DSRD_METRICS_ALLOW", DSR_CFG_STRING, "127.0.0.1,::1", S(metrics_allow), 0,
     0, "client addresses or CIDR ranges (comma-separated) that may read /metrics"},
    {"metrics_token", "DSRD_METRICS_TOKEN", DSR_CFG_STRING, NULL, S(metrics_token), 0, 0,
     "bearer token that also allows /metrics from any address (unset: none)"},
    {"metrics_cache_seconds", "DSRD_METRICS_CACHE_SECONDS", DSR_CFG_INT, "5",
     S(metrics_cache_seconds), 1, 3600, "seconds /metrics reuses the counts it read from the database"},
    {"problem_base_url", "DSRD_PROBLEM_BASE_URL", DSR_CFG_STRING, NULL, S(problem_base_url), 0, 0,
     "base of the error type URIs (default: BASE_URL/errors/, pages dsrd serves)"},
    {"drp_business_id", "DSRD_DRP_BUSINESS_ID", DSR_CFG_STRING, NULL, S(drp_business_id), 0, 0,
     "this business's id in the Data Rights Protocol network (unset: the DRP API is off)"},
    {"drp_business_name", "DSRD_DRP_BUSINESS_NAME", DSR_CFG_STRING, NULL, S(drp_business_name), 0,
     0, "the business's name in its DRP business document (default: the policy's organization)"},
    {"drp_agents_file", "DSRD_DRP_AGENTS_FILE", DSR_CFG_STRING, NULL, S(drp_agents_file), 0, 0,
     "the DRP authorized agents directory (JSON, DRP 1.0 section 3.05.1)"},
    {"drp_base_path", "DSRD_DRP_BASE_PATH", DSR_CFG_STRING, "/drp", S(drp_base_path), 0, 0,
     "path under which the DRP endpoints live (/drp/v1/...)"},
    {"drp_jurisdiction", "DSRD_DRP_JURISDICTION", DSR_CFG_STRING, NULL, S(drp_jurisdiction), 0,
     0, "jurisdiction of DRP requests that name no regime (default: the default jurisdiction)"},
    {"drp_actions", "DSRD_DRP_ACTIONS", DSR_CFG_STRING, "deletion,access,sale:opt-out",
     S(drp_actions), 0, 0, "DRP actions this business supports (comma-separated)"},
    {"drp_technical_contact", "DSRD_DRP_TECHNICAL_CONTACT", DSR_CFG_STRING, NULL,
     S(drp_technical_contact), 0, 0, "technical contact published in the DRP business document"},
    {"max_connections", "DSRD_MAX_CONNECTIONS", DSR_CFG_INT, "512", S(max_connections), 4,
     100000, "open HTTP connections at most (more are closed when accepted)"},
    {"max_connections_per_address", "DSRD_MAX_CONNECTIONS_PER_ADDRESS", DSR_CFG_INT, "32",
     S(max_connections_per_address), 0, 100000,
     "open HTTP connections from one client address at most (0: no limit, e.g. behind a proxy)"},
    {"request_header_timeout", "DSRD_REQUEST_HEADER_TIMEOUT", DSR_CFG_INT, "10",
     S(request_header_timeout), 1, 600,
     "seconds a client has to send a request's headers (from connecting or the previous answer)"},
    {"request_timeout", "DSRD_REQUEST_TIMEOUT", DSR_CFG_INT, "60", S(request_timeout), 1, 3600,
     "seconds a client has to send a whole request, headers and body"},
    {"job_lease_max", "DSRD_JOB_LEASE_MAX", DSR_CFG_INT, "60", S(job_lease_max), 2, 3600,
     "longest lease of a claimed job, seconds; renewed while it runs, taken over after a crash"},
    {"report_max_days", "DSRD_REPORT_MAX_DAYS", DSR_CFG_INT, "3660", S(report_max_days), 1,
     36600, "longest period of a compliance report served over HTTP, days"},
    {NULL, NULL, DSR_CFG_STRING, NULL, 0, 0, 0, NULL},
};

#undef S

_Static_assert(sizeof keys / sizeof keys[0] <= DSR_CONFIG_MAX_KEYS, "raise DSR_CONFIG_MAX_KEYS");

const struct dsr_config_key *dsr_config_keys(void)
{
  return keys;
}

const char *dsr_config_source_name(enum dsr_cfg_source s)
{
  switch (s) {
  case DSR_CFG_SRC_DEFAULT:
    return "default";
  case DSR_CFG_SRC_FILE:
    return "file";
  case DSR_CFG_SRC_ENV:
    return "environment";
  case DSR_CFG_SRC_FLAG:
    return "flag";
  }
  return "default";
}

bool dsr_config_key_secret(const char *name)
{
  static const char *const secrets[] = {"smtp_password", "sms_webhook_token", "metrics_token",
                                        NULL};
  for (size_t i = 0; secrets[i]; i++)
    if (!strcmp(secrets[i], name))
      return true;
  return false;
}

/* Replaces a password in a libpq keyword string ("password=...") or a URL ("//user:pw@"). */
static char *redact_dsn(const char *dsn)
{
  /* Each replacement grows the text by at most 3 bytes and needs at least 9: twice is room. */
  size_t len = strlen(dsn);
  char *out = malloc(2 * len + 16);
  if (!out)
    return NULL;
  memcpy(out, dsn, len + 1);
  char *at = strchr(out, '@'), *scheme = strstr(out, "://");
  if (scheme && at && at > scheme) {
    char *colon = memchr(scheme + 3, ':', (size_t)(at - (scheme + 3)));
    if (colon) {
      memmove(colon + 4, at, strlen(at) + 1);
      memcpy(colon, ":***", 4);
    }
  }
  for (char *p = strstr(out, "password"); p; p = strstr(p + 1, "password")) {
    char *q = p + 8;
    while (*q == ' ')
      q++;
    if (*q != '=' || (p > out && !isspace((unsigned char)p[-1])))
      continue;
    q++;
    while (*q == ' ')
      q++;
    char *e = q;
    if (*e == '\'') {
      for (e++; *e && *e != '\''; e++)
        if (*e == '\\' && e[1])
          e++;
      if (*e)
        e++;
    } else {
      while (*e && !isspace((unsigned char)*e))
        e++;
    }
    memmove(q + 3, e, strlen(e) + 1);
    memcpy(q, "***", 3);
  }
  return out;
}

char *dsr_config_value_text(const struct dsr_config *cfg, const struct dsr_config_key *k)
{
  const char *base = (const char *)cfg;
  char buf[64];
  switch (k->type) {
  case DSR_CFG_STRING: {
    const char *v = *(char *const *)(base + k->offset);
    if (!v)
      return NULL;
    if (dsr_config_key_secret(k->name))
      return strdup("(redacted)");
    if (!strcmp(k->name, "database_url"))
      return redact_dsn(v);
    return strdup(v);
  }
  case DSR_CFG_INT:
    snprintf(buf, sizeof buf, "%ld", *(const long *)(base + k->offset));
    return strdup(buf);
  case DSR_CFG_BOOL:
    return strdup(*(const bool *)(base + k->offset) ? "true" : "false");
  }
  return NULL;
}

static const struct dsr_config_key *find_key(const char *name)
{
  for (const struct dsr_config_key *k = keys; k->name; k++)
    if (strcmp(k->name, name) == 0)
      return k;
  return NULL;
}

static bool set_value(struct dsr_config *cfg, const struct dsr_config_key *k, const char *value,
                      char *err, size_t errlen)
{
  char *base = (char *)cfg;
  switch (k->type) {
  case DSR_CFG_STRING: {
    char **slot = (char **)(base + k->offset);
    char *copy = NULL;
    if (value && *value) {
      copy = strdup(value);
      if (!copy) {
        snprintf(err, errlen, "out of memory");
        return false;
      }
    }
    free(*slot);
    *slot = copy;
    return true;
  }
  case DSR_CFG_INT: {
    errno = 0;
    char *end = NULL;
    long v = strtol(value, &end, 10);
    if (errno || end == value || *end || v < k->min || v > k->max) {
      snprintf(err, errlen, "%s: expected an integer from %ld to %ld, got \"%.40s\"", k->name,
               k->min, k->max, value);
      return false;
    }
    *(long *)(base + k->offset) = v;
    return true;
  }
  case DSR_CFG_BOOL: {
    bool *slot = (bool *)(base + k->offset);
    if (!strcmp(value, "true") || !strcmp(value, "yes") || !strcmp(value, "1") ||
        !strcmp(value, "on"))
      *slot = true;
    else if (!strcmp(value, "false") || !strcmp(value, "no") || !strcmp(value, "0") ||
             !strcmp(value, "off"))
      *slot = false;
    else {
      snprintf(err, errlen, "%s: expected true or false, got \"%.40s\"", k->name, value);
      return false;
    }
    return true;
  }
  }
  return false;
}

bool dsr_config_set(struct dsr_config *cfg, const char *name, const char *value, char *err,
                    size_t errlen)
{
  const struct dsr_config_key *k = find_key(name);
  if (!k) {
    snprintf(err, errlen, "unknown configuration key \"%.60s\"", name);
    return false;
  }
  return set_value(cfg, k, value, err, errlen);
}

bool dsr_config_defaults(struct dsr_config *cfg)
{
  char err[256];
  memset(cfg, 0, sizeof *cfg);
  for (const struct dsr_config_key *k = keys; k->name; k++)
    if (k->def && !set_value(cfg, k, k->def, err, sizeof err))
      return false;
  return true;
}

static char *trim(char *s)
{
  while (isspace((unsigned char)*s))
    s++;
  char *e = s + strlen(s);
  while (e > s && isspace((unsigned char)e[-1]))
    *--e = '\0';
  return s;
}

bool dsr_config_load_file(struct dsr_config *cfg, const char *path, char *err, size_t errlen)
{
  FILE *f = fopen(path, "r");
  if (!f) {
    snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
    return false;
  }
  bool ok = true;
  char line[4096];
  unsigned lineno = 0;
  while (ok && fgets(line, sizeof line, f)) {
    lineno++;
    char *s = trim(line);
    if (*s == '\0' || *s == '#')
      continue;
    char *eq = strchr(s, '=');
    if (!eq) {
      snprintf(err, errlen, "%s:%u: expected \"key = value\"", path, lineno);
      ok = false;
      break;
    }
    *eq = '\0';
    char *key = trim(s);
    char *value = trim(eq + 1);
    size_t vl = strlen(value);
    if (vl >= 2 && value[0] == '"' && value[vl - 1] == '"') {
      value[vl - 1] = '\0';
      value++;
    }
    char inner[256];
    if (!dsr_config_set(cfg, key, value, inner, sizeof inner)) {
      snprintf(err, errlen, "%s:%u: %s", path, lineno, inner);
      ok = false;
    } else {
      cfg->source[find_key(key) - keys] = DSR_CFG_SRC_FILE;
    }
  }
  fclose(f);
  return ok;
}

bool dsr_config_load_env(struct dsr_config *cfg, char *err, size_t errlen)
{
  for (const struct dsr_config_key *k = keys; k->name; k++) {
    const char *v = getenv(k->env);
    if (v && !set_value(cfg, k, v, err, errlen))
      return false;
    if (v)
      cfg->source[k - keys] = DSR_CFG_SRC_ENV;
  }
  return true;
}

/* The state directory the flags, then the environment, then the default name (no file yet). */
static const char *state_dir_hint(int argc, char **argv)
{
  const char *v = NULL;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (!strncmp(a, "--state-dir", 11) || !strncmp(a, "--state_dir", 11)) {
      if (a[11] == '=')
        v = a + 12;
      else if (a[11] == '\0' && i + 1 < argc)
        v = argv[++i];
    }
  }
  if (!v)
    v = getenv("DSRD_STATE_DIR");
  return v && *v ? v : find_key("state_dir")->def;
}

bool dsr_config_from_args(struct dsr_config *cfg, int argc, char **argv, char **rest, int *nrest,
                          char *err, size_t errlen)
{
  *nrest = 0;
  if (!dsr_config_defaults(cfg)) {
    snprintf(err, errlen, "out of memory");
    return false;
  }
  const char *file = getenv("DSRD_CONFIG");
  for (int i = 1; i < argc; i++) {
    if ((!strcmp(argv[i], "-c") || !strcmp(argv[i], "--config")) && i + 1 < argc)
      file = argv[++i];
    else if (!strncmp(argv[i], "--config=", 9))
      file = argv[i] + 9;
  }
  char deflt[4096];
  if (!file || !*file) {
    /* No file named: STATE_DIR/dsrd.conf when it exists (the one file dsrd and dsrctl share). */
    const char *state = state_dir_hint(argc, argv);
    if (snprintf(deflt, sizeof deflt, "%s/dsrd.conf", state) < (int)sizeof deflt &&
        access(deflt, F_OK) == 0)
      file = deflt;
    else
      file = NULL;
  }
  if (file && !dsr_config_load_file(cfg, file, err, errlen))
    return false;
  if (file && !(cfg->config_file = strdup(file))) {
    snprintf(err, errlen, "out of memory");
    return false;
  }
  if (!dsr_config_load_env(cfg, err, errlen))
    return false;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (!strcmp(a, "-c") || !strcmp(a, "--config")) {
      i++;
      continue;
    }
    if (!strncmp(a, "--config=", 9))
      continue;
    if (!strncmp(a, "--", 2)) {
      char name[128];
      const char *eq = strchr(a + 2, '=');
      size_t nl = eq ? (size_t)(eq - (a + 2)) : strlen(a + 2);
      if (nl < sizeof name) {
        memcpy(name, a + 2, nl);
        name[nl] = '\0';
        for (char *p = name; *p; p++)
          if (*p == '-')
            *p = '_';
        const struct dsr_config_key *k = find_key(name);
        if (k) {
          const char *value = eq ? eq + 1 : NULL;
          if (!value && k->type == DSR_CFG_BOOL)
            value = "true";
          if (!value && i + 1 < argc)
            value = argv[++i];
          if (!value) {
            snprintf(err, errlen, "--%s needs a value", k->name);
            return false;
          }
          if (!set_value(cfg, k, value, err, errlen))
            return false;
          cfg->source[k - keys] = DSR_CFG_SRC_FLAG;
          continue;
        }
      }
    }
    rest[(*nrest)++] = argv[i];
  }
  return true;
}

void dsr_config_free(struct dsr_config *cfg)
{
  free(cfg->config_file);
  cfg->config_file = NULL;
  for (const struct dsr_config_key *k = keys; k->name; k++) {
    if (k->type == DSR_CFG_STRING) {
      char **slot = (char **)((char *)cfg + k->offset);
      free(*slot);
      *slot = NULL;
    }
  }
}

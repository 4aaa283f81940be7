/**
 * @file ctl_session.c
 * @brief What every dsrctl command shares: the one database (and master key)
 *        opener, option lookup and the one-line error. Below the command
 *        table (dsrctl.c), which calls the commands, never called by them.
 */
#include "config.h"
#include "ctl.h"
#include "dsr/policy.h"
#include "dsr/crypto.h"
#include "dsr/db.h"
#include "dsr/dbsetup.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void ctl_error(const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  fputs("dsrctl: ", stderr);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
}

/* The one way dsrctl opens its database: @p data also migrates and loads the master key. */
static bool session_open(const struct dsr_config *cfg, bool data, struct ctl_session *s)
{
  char err[1024];
  memset(s, 0, sizeof *s);
  char *key = NULL;
  bool ok = false;
  if (data) {
    key = cfg->secret_key_file ? strdup(cfg->secret_key_file)
                               : dsr_asprintf("%s/secret.key", cfg->state_dir);
    if (!key) {
      ctl_error("out of memory");
      goto cleanup;
    }
    if (!dsr_crypto_init(key, err, sizeof err)) {
      ctl_error("%s", err);
      goto cleanup;
    }
  }
  if (!dsr_dbsetup_open(cfg, data, &s->setup, err, sizeof err)) {
    ctl_error("%s", err);
    goto cleanup;
  }
  s->conn = dsr_db_connect(s->setup.conninfo, err, sizeof err);
  if (!s->conn) {
    ctl_error("%s", err);
    goto cleanup;
  }
  s->db = dsr_db_wrap(s->conn);
  ok = s->db != NULL;
  if (!ok)
    ctl_error("out of memory");
cleanup:
  free(key);
  if (!ok)
    ctl_session_close(s);
  return ok;
}

bool ctl_session_open(const struct dsr_config *cfg, struct ctl_session *s)
{
  return session_open(cfg, true, s);
}

bool ctl_session_open_plain(const struct dsr_config *cfg, struct ctl_session *s)
{
  return session_open(cfg, false, s);
}

void ctl_session_close(struct ctl_session *s)
{
  dsr_db_unwrap(s->db);
  if (s->conn)
    PQfinish(s->conn);
  dsr_dbsetup_close(&s->setup);
  memset(s, 0, sizeof *s);
}

const char *ctl_opt(int argc, char **argv, const char *name)
{
  size_t n = strlen(name);
  for (int i = 1; i < argc; i++) {
    if (!strncmp(argv[i], name, n) && argv[i][n] == '=')
      return argv[i] + n + 1;
    if (!strcmp(argv[i], name) && i + 1 < argc)
      return argv[i + 1];
  }
  return NULL;
}

struct dsr_policy *ctl_policy_open(const char *file, const char *cmd, int *rc)
{
  if (!file) {
    ctl_error("%s: no policy (use --policy FILE or policy_file)", cmd);
    *rc = 2;
    return NULL;
  }
  char err[512];
  struct dsr_policy *p = dsr_policy_load(file, err, sizeof err);
  if (!p) {
    ctl_error("%s", err);
    *rc = 1;
  }
  return p;
}

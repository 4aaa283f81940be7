/**
 * @file ctl.h
 * @brief dsrctl: one table of command groups (dsrctl.c), one file per group.
 *        A command gets the loaded configuration and its own arguments
 *        (argv[0] is the command name) and returns the exit status:
 *        0 success, 1 failure, 2 usage error.
 */
#ifndef DSRCTL_CTL_H
#define DSRCTL_CTL_H

#include "dsr/config.h"
#include "dsr/db.h"
#include "dsr/dbsetup.h"

struct ctl_command {
  const char *name;
  int (*run)(const struct dsr_config *cfg, int argc, char **argv);
  const char *usage;
  const char *help;
  /** One line per form, without "dsrctl " ("backup create --store NAME ..."); --help prints them. */
  const char *synopsis;
};

/* The actor of the events a dsrctl command records: an operator on the host, by the CLI. */
#define CTL_ACTOR "operator:dsrctl"

int ctl_migrate(const struct dsr_config *cfg, int argc, char **argv);
int ctl_customer(const struct dsr_config *cfg, int argc, char **argv);
int ctl_staff(const struct dsr_config *cfg, int argc, char **argv);
int ctl_user(const struct dsr_config *cfg, int argc, char **argv);

/**
 * A command's database: the setup (embedded cluster or database_url), one
 * connection and its wrapper, all owned; ctl_session_close() frees them.
 */
struct ctl_session {
  struct dsr_dbsetup setup;
  PGconn *conn;
  struct dsr_db *db;
};
/** For commands that change data: migrates the database and loads the master key; prints errors. */
bool ctl_session_open(const struct dsr_config *cfg, struct ctl_session *s);
/** The database as it is, without migrating it or loading the key (migrate, audit, report); prints errors. */
bool ctl_session_open_plain(const struct dsr_config *cfg, struct ctl_session *s);
/** Closes what an open function opened (safe on a zeroed or half-open session). */
void ctl_session_close(struct ctl_session *s);
/** The value after option @p name ("--name VALUE" or "--name=VALUE") in argv, or NULL. */
const char *ctl_opt(int argc, char **argv, const char *name);
int ctl_policy(const struct dsr_config *cfg, int argc, char **argv);
int ctl_audit(const struct dsr_config *cfg, int argc, char **argv);
int ctl_report(const struct dsr_config *cfg, int argc, char **argv);

int ctl_sample(const struct dsr_config *cfg, int argc, char **argv);
int ctl_export(const struct dsr_config *cfg, int argc, char **argv);
int ctl_service(const struct dsr_config *cfg, int argc, char **argv);
int ctl_sweep(const struct dsr_config *cfg, int argc, char **argv);
int ctl_hold(const struct dsr_config *cfg, int argc, char **argv);
int ctl_backup(const struct dsr_config *cfg, int argc, char **argv);
int ctl_key(const struct dsr_config *cfg, int argc, char **argv);
int ctl_media(const struct dsr_config *cfg, int argc, char **argv);
int ctl_jobs(const struct dsr_config *cfg, int argc, char **argv);
int ctl_files(const struct dsr_config *cfg, int argc, char **argv);
int ctl_config(const struct dsr_config *cfg, int argc, char **argv);
int ctl_drp(const struct dsr_config *cfg, int argc, char **argv);

struct dsr_policy;
/**
 * Loads the policy @p file for command @p cmd (caller frees with
 * dsr_policy_free()); NULL with the message printed and *rc set: 2 when no
 * file is given, 1 when it does not load.
 */
struct dsr_policy *ctl_policy_open(const char *file, const char *cmd, int *rc);

/** Prints "dsrctl: <message>" to stderr. */
void ctl_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif

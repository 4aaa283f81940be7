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

struct ctl_command {
  const char *name;
  int (*run)(const struct dsr_config *cfg, int argc, char **argv);
  const char *usage;
  const char *help;
};

int ctl_migrate(const struct dsr_config *cfg, int argc, char **argv);
int ctl_policy(const struct dsr_config *cfg, int argc, char **argv);
int ctl_sample(const struct dsr_config *cfg, int argc, char **argv);

/** Prints "dsrctl: <message>" to stderr. */
void ctl_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif

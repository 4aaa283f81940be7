/** @file ops_util.h @brief Helpers of the operations suites (issue 21). */
#ifndef DSR_OPS_UTIL_H
#define DSR_OPS_UTIL_H
#include "suites.h"

/** What a finished program printed and how it ended. */
struct ops_run {
  int status;   /**< exit status, or 128 + signal */
  char *out;    /**< stdout, NUL-terminated (owned) */
  char *err;    /**< stderr, NUL-terminated (owned) */
};

/**
 * Runs built program argv[0] ("dsrctl") with @p argv in directory @p cwd
 * (NULL: this one), stdin from /dev/null; collects stdout and stderr.
 */
void ops_run(struct ops_run *r, const char *cwd, const char *const *argv);
void ops_run_free(struct ops_run *r);
/** Writes @p text to @p path (or aborts). */
void ops_write(const char *path, const char *text);
/** @p text with every @p from replaced by @p to (caller frees). */
char *ops_replace(const char *text, const char *from, const char *to);

Suite *suite_ops_cli(void);
Suite *suite_ops_metrics(void);
Suite *suite_ops_openapi(void);
Suite *suite_ops_nodes(void);

#endif

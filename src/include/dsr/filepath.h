/**
 * @file filepath.h
 * @brief The one resolver of the files a policy's collections point to:
 *        erasure, sweeps, backup file sets, exports and lint turn a files
 *        column's value into a path under one of its store's roots with it.
 *
 * A value is an object key when it starts with one of the store's
 * "prefixes" (the longest wins; the rest of the key is relative to the
 * mapped directory), an absolute path when it starts with "/" (it must lie
 * under the store's root or one of its mapped directories), refused when it
 * is any other object key ("scheme://..."), and otherwise a path relative to
 * the store's root. "." and ".." are resolved by name
 * first; a value that leaves its root is refused. Just before a file is
 * touched, dsr_fpath_open_dir() resolves the symbolic links of its
 * directory, so a link cannot lead outside the root either.
 */
#ifndef DSR_FILEPATH_H
#define DSR_FILEPATH_H

#include "dsr/policy.h"

#include <stdbool.h>
#include <stddef.h>

#define DSR_FPATH_MAX 4096

enum dsr_fpath_status {
  DSR_FPATH_OK,
  DSR_FPATH_NO_ROOT,  /**< the root it needs is not configured here */
  DSR_FPATH_OUTSIDE,  /**< outside every root of the store: refused */
  DSR_FPATH_UNMAPPED, /**< an object key ("scheme://...") no prefix maps: refused */
  DSR_FPATH_EMPTY,    /**< nothing left to name a file */
  DSR_FPATH_TOO_LONG
};

/** A resolved file: the root it lies under, its path relative to it and in full. */
struct dsr_fpath {
  const char *root;        /**< the store's root or a mapped directory (policy-owned/environment) */
  char rel[DSR_FPATH_MAX]; /**< normalized, relative to @c root: no ".", "..", empty segments */
  char path[DSR_FPATH_MAX];/**< root "/" rel */
};

/** Root directory of a files / backup_set store (its root or root_env), or NULL. */
const char *dsr_store_root(const struct dsr_pstore *s);

/** Resolves @p value of store @p s by name only (no file system access) into @p out. */
enum dsr_fpath_status dsr_fpath_resolve(const struct dsr_pstore *s, const char *value,
                                        struct dsr_fpath *out);

/**
 * Opens the directory that holds @p fp, following its links, and checks that it lies
 * under @p fp's root (also with links resolved). Returns an O_DIRECTORY descriptor (caller
 * closes) and sets *name to the file's last segment (inside @p fp); on failure returns -1
 * with *err an errno: ENOENT when the directory does not exist (so neither does the file),
 * EXDEV when a link leads outside the root.
 */
int dsr_fpath_open_dir(const struct dsr_fpath *fp, const char **name, int *err);

/** A short English reason for @p st or, for DSR_FPATH_OK, for errno @p err; never a path. */
const char *dsr_fpath_reason(enum dsr_fpath_status st, int err);

#endif

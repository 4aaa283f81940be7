/**
 * @file file_paths.c
 * @brief Turning a files column's value into a file under one of its store's
 *        roots (see dsr/filepath.h): prefix map, absolute paths, relative
 *        paths, "." and ".." by name, links checked when the file is touched.
 */
#include "config.h"
#include "dsr/filepath.h"
#include "dsr/util.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const char *dsr_store_root(const struct dsr_pstore *s)
{
  if (!s)
    return NULL;
  if (s->root)
    return s->root;
  const char *v = s->root_env ? getenv(s->root_env) : NULL;
  return v && *v ? v : NULL;
}

/*
 * Appends the segments of @p in (relative) to @p out (of length *len), resolving "." and
 * ".." by name; false when ".." would climb above @p out's start or it does not fit.
 */
static bool join_segments(char *out, size_t *len, size_t cap, const char *in, bool *too_long)
{
  for (const char *s = in; *s;) {
    const char *e = strchr(s, '/');
    size_t n = e ? (size_t)(e - s) : strlen(s);
    if (n == 2 && s[0] == '.' && s[1] == '.') {
      if (*len == 0)
        return false;
      while (*len > 0 && out[*len - 1] != '/')
        (*len)--;
      if (*len > 0)
        (*len)--; /* the slash before the dropped segment */
      out[*len] = '\0';
    } else if (n > 0 && !(n == 1 && s[0] == '.')) {
      if (*len + n + 2 > cap) {
        *too_long = true;
        return false;
      }
      if (*len > 0)
        out[(*len)++] = '/';
      memcpy(out + *len, s, n);
      *len += n;
      out[*len] = '\0';
    }
    s += n + (e ? 1 : 0);
  }
  return true;
}

/* Normalizes absolute @p p by name into @p out (no trailing slash, "/" itself as ""). */
static bool norm_abs(const char *p, char *out, size_t cap, bool *too_long)
{
  size_t len = 0;
  out[0] = '\0';
  return join_segments(out, &len, cap, p + 1, too_long);
}

/* When @p abs (normalized, without its leading "/") lies under @p root, its rest. */
static const char *under(const char *abs, const char *root)
{
  char r[DSR_FPATH_MAX];
  bool tl = false;
  if (!root || root[0] != '/' || !norm_abs(root, r, sizeof r, &tl))
    return NULL;
  size_t n = strlen(r);
  if (n == 0)
    return abs;
  return !strncmp(abs, r, n) && abs[n] == '/' ? abs + n + 1 : NULL;
}

static enum dsr_fpath_status finish(struct dsr_fpath *out, const char *root, const char *rel)
{
  size_t len = 0;
  bool tl = false;
  out->root = root;
  out->rel[0] = '\0';
  if (!join_segments(out->rel, &len, sizeof out->rel, rel, &tl))
    return tl ? DSR_FPATH_TOO_LONG : DSR_FPATH_OUTSIDE;
  if (len == 0)
    return DSR_FPATH_EMPTY;
  size_t rl = strlen(root);
  while (rl > 1 && root[rl - 1] == '/')
    rl--;
  if ((size_t)snprintf(out->path, sizeof out->path, "%.*s/%s", (int)rl, root, out->rel) >=
      sizeof out->path)
    return DSR_FPATH_TOO_LONG;
  return DSR_FPATH_OK;
}

enum dsr_fpath_status dsr_fpath_resolve(const struct dsr_pstore *s, const char *value,
                                        struct dsr_fpath *out)
{
  memset(out, 0, sizeof *out);
  if (!s || !value || !*value)
    return DSR_FPATH_EMPTY;
  for (size_t i = 0; i < s->nprefixes; i++) { /* longest prefix first */
    size_t n = strlen(s->prefixes[i].prefix);
    if (!strncmp(value, s->prefixes[i].prefix, n))
      return finish(out, s->prefixes[i].root, value + n);
  }
  const char *scheme = strstr(value, "://");
  if (scheme && scheme > value && memchr(value, '/', (size_t)(scheme - value)) == NULL)
    return DSR_FPATH_UNMAPPED; /* an object key of a bucket the store does not map */
  const char *root = dsr_store_root(s);
  if (value[0] != '/')
    return root ? finish(out, root, value) : DSR_FPATH_NO_ROOT;
  char abs[DSR_FPATH_MAX];
  bool tl = false;
  if (!norm_abs(value, abs, sizeof abs, &tl))
    return tl ? DSR_FPATH_TOO_LONG : DSR_FPATH_OUTSIDE;
  const char *rest = under(abs, root);
  if (rest)
    return finish(out, root, rest);
  for (size_t i = 0; i < s->nprefixes; i++)
    if ((rest = under(abs, s->prefixes[i].root)))
      return finish(out, s->prefixes[i].root, rest);
  return DSR_FPATH_OUTSIDE;
}

int dsr_fpath_open_dir(const struct dsr_fpath *fp, const char **name, int *err)
{
  char dir[DSR_FPATH_MAX], real_dir[PATH_MAX], real_root[PATH_MAX];
  const char *slash = strrchr(fp->path, '/');
  *name = slash ? slash + 1 : fp->path;
  size_t n = slash ? (size_t)(slash - fp->path) : 0;
  if (n >= sizeof dir) {
    *err = ENAMETOOLONG;
    return -1;
  }
  memcpy(dir, fp->path, n);
  dir[n] = '\0';
  if (!realpath(dir[0] ? dir : "/", real_dir)) {
    *err = errno;
    return -1;
  }
  if (!realpath(fp->root, real_root)) {
    *err = errno == ENOENT ? ENXIO : errno; /* no root: nothing to resolve against */
    return -1;
  }
  size_t rl = strlen(real_root);
  if (!(rl == 1 || (!strncmp(real_dir, real_root, rl) &&
                    (real_dir[rl] == '\0' || real_dir[rl] == '/')))) {
    *err = EXDEV;
    return -1;
  }
  int fd = open(real_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    *err = errno;
  return fd;
}

const char *dsr_fpath_reason(enum dsr_fpath_status st, int err)
{
  switch (st) {
  case DSR_FPATH_NO_ROOT: return "the store's root is not configured";
  case DSR_FPATH_OUTSIDE: return "refused: the path lies outside every root of its store";
  case DSR_FPATH_UNMAPPED: return "refused: no prefix of its store maps this object key";
  case DSR_FPATH_EMPTY: return "refused: the value names no file";
  case DSR_FPATH_TOO_LONG: return "refused: the path is too long";
  case DSR_FPATH_OK: break;
  }
  switch (err) {
  case EXDEV: return "refused: a symbolic link leads outside every root of its store";
  case ENXIO: return "the store's root is not configured";
  default: return strerror(err);
  }
}

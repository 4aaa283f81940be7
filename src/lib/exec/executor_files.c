/**
 * @file executor_files.c
 * @brief Removing the files of erased rows: only files whose rows are gone
 *        (a batch's files right after its store's commit, see executor.c;
 *        "due" in dsr_file_deletions), under their store's root, then an
 *        fsync of each directory touched (once per page of files and
 *        directory), then marked done. Paths go through the one resolver
 *        (dsr/filepath.h). A file already missing counts as removed; one
 *        that cannot be removed stays due, with its attempts, error and next
 *        attempt (back-off), and the run is retried; after
 *        DSR_FILE_MAX_ATTEMPTS, or at once when its path is refused, it is
 *        left residual and no longer holds the run back.
 */
#include "config.h"
#include "executor_int.h"
#include "dsr/log.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int by_copy(const void *a, const void *b)
{
  const struct excopy *x = a, *y = b;
  return x->set != y->set ? strcmp(x->set->name, y->set->name) : strcmp(x->copy, y->copy);
}

void excopies_free(struct excopies *c)
{
  free(c->v);
  memset(c, 0, sizeof *c);
}

bool excopies_list(const struct dsr_policy *p, struct excopies *out)
{
  size_t cap = 0;
  memset(out, 0, sizeof *out);
  for (size_t i = 0; i < dsr_policy_store_count(p); i++) {
    const struct dsr_pstore *s = dsr_policy_store_at(p, i);
    const char *root = s->type == DSR_STORE_BACKUP_SET && s->mechanism == DSR_BACKUP_FILE_SET
                           ? dsr_store_root(s)
                           : NULL;
    DIR *d = root ? opendir(root) : NULL;
    struct dirent *e;
    while (d && (e = readdir(d))) {
      char path[4096];
      struct stat st;
      if (e->d_name[0] == '.' || strlen(e->d_name) >= sizeof out->v[0].copy ||
          (size_t)snprintf(path, sizeof path, "%s/%s", root, e->d_name) >= sizeof path ||
          lstat(path, &st) != 0 || !S_ISDIR(st.st_mode))
        continue;
      if (out->n == cap) {
        struct excopy *nv = realloc(out->v, (cap = cap ? cap * 2 : 8) * sizeof *nv);
        if (!nv) {
          closedir(d);
          excopies_free(out);
          return false;
        }
        out->v = nv;
      }
      out->v[out->n].set = s;
      dsr_strlcpy(out->v[out->n++].copy, e->d_name, sizeof out->v[0].copy);
    }
    if (d)
      closedir(d);
  }
  if (out->n > 1)
    qsort(out->v, out->n, sizeof *out->v, by_copy);
  return true;
}

/* fsync of directory @p dir; true when it worked or the directory is gone. */
static bool sync_dir(const char *dir)
{
  int fd = open(dir[0] ? dir : "/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return errno == ENOENT;
  bool ok = fsync(fd) == 0;
  close(fd);
  return ok;
}

/*
 * The directories a page of removals touched, each synced once after every unlink of the page
 * and before any of its files is marked done. dirs[i] is owned (freed by dirset_free).
 */
struct dirset {
  char **dirs;
  bool *synced;
  size_t n, cap, last;
};

static void dirset_free(struct dirset *d)
{
  for (size_t i = 0; i < d->n; i++)
    free(d->dirs[i]);
  free(d->dirs);
  free(d->synced);
  memset(d, 0, sizeof *d);
}

/* Index of the directory holding @p path in @p d, added when new; -1 when out of memory. */
static long dirset_add(struct dirset *d, const char *path)
{
  const char *slash = strrchr(path, '/');
  size_t len = slash ? (size_t)(slash - path) : 0;
  /* files of one page usually share their directory with the previous one */
  for (size_t k = 0; k < d->n; k++) {
    size_t i = (d->last + k) % d->n;
    if (strlen(d->dirs[i]) == len && !strncmp(d->dirs[i], path, len))
      return (long)(d->last = i);
  }
  if (d->n == d->cap) {
    size_t cap = d->cap ? d->cap * 2 : 16;
    char **nd = realloc(d->dirs, cap * sizeof *nd);
    if (!nd)
      return -1;
    d->dirs = nd;
    bool *ns = realloc(d->synced, cap * sizeof *ns);
    if (!ns)
      return -1;
    d->synced = ns;
    d->cap = cap;
  }
  if (!(d->dirs[d->n] = strndup(path, len)))
    return -1;
  d->synced[d->n] = false;
  return (long)(d->last = d->n++);
}

/* Unlinks one file; 0 when it is gone (or was), else an errno (*refused: it never can be).
 * @p dir gets the index of its directory in @p ds (to be synced before the removal counts),
 * -1 when there is none. *reason: why not, never a path. */
static int remove_one(const struct dsr_exec *ex, const char *store, const char *value,
                      struct dirset *ds, long *dir, bool *refused, const char **reason)
{
  *dir = -1;
  *refused = false;
  struct dsr_fpath fp;
  enum dsr_fpath_status st = dsr_fpath_resolve(dsr_policy_store(ex->policy, store), value, &fp);
  int e = 0;
  if (st != DSR_FPATH_OK) {
    *refused = st != DSR_FPATH_NO_ROOT;
    *reason = dsr_fpath_reason(st, 0);
    return st == DSR_FPATH_NO_ROOT ? ENXIO : EINVAL;
  }
  const char *name;
  int fd = dsr_fpath_open_dir(&fp, &name, &e);
  if (fd < 0 && e == ENOENT)
    return 0; /* no directory: no file */
  if (fd >= 0) {
    if (unlinkat(fd, name, 0) != 0 && errno != ENOENT)
      e = errno;
    close(fd);
  }
  if (e != 0) {
    *refused = e == EXDEV;
    *reason = dsr_fpath_reason(DSR_FPATH_OK, e);
    return e;
  }
  return (*dir = dirset_add(ds, fp.path)) < 0 ? ENOMEM : 0;
}

/* Records one failed attempt of file @p id; *residual tells whether it is left residual. */
static bool mark_failed(struct dsr_exec *ex, const char *id, const char *reason, bool refused,
                        const char *now, bool *residual)
{
  char max[16], base[16];
  snprintf(max, sizeof max, "%d", DSR_FILE_MAX_ATTEMPTS);
  snprintf(base, sizeof base, "%d", DSR_FILE_BACKOFF_S);
  const char *v[] = {id, reason, now, max, refused ? "true" : "false", base};
  PGresult *r = dsr_db_exec(ex->db, DSR_STMT_EX_FILES_MARK_FAILED, 6, v);
  bool ok = dsr_db_ok(r);
  *residual = ok && PQntuples(r) == 1 && !strcmp(PQgetvalue(r, 0, 0), "residual");
  PQclear(r);
  return ok;
}

static bool mark(struct dsr_exec *ex, enum dsr_stmt st, struct dsr_buf *ids, const char *second)
{
  if (ids->len == 0)
    return true;
  if (!dsr_buf_puts(ids, "}"))
    return false;
  const char *v[] = {ids->data, second};
  PGresult *r = dsr_db_exec(ex->db, st, 2, v);
  bool ok = dsr_db_ok(r);
  PQclear(r);
  dsr_buf_reset(ids);
  return ok;
}

/* Appends @p id to the id list @p to. */
static bool id_add(struct dsr_buf *to, const char *id)
{
  return (to->len ? dsr_buf_puts(to, ",") : dsr_buf_puts(to, "{")) && dsr_buf_puts(to, id);
}

bool exfiles_unlink(const struct dsr_exec *ex, size_t n, const char *const *stores,
                    const char *const *values, struct exunlink *out)
{
  struct dirset ds = {0};
  long *dirs = calloc(n + 1, sizeof *dirs);
  if (!dirs)
    return false;
  for (size_t i = 0; i < n; i++) {
    out[i].reason = NULL;
    out[i].err = remove_one(ex, stores[i], values[i], &ds, &dirs[i], &out[i].refused,
                            &out[i].reason);
  }
  for (size_t k = 0; k < ds.n; k++)
    ds.synced[k] = sync_dir(ds.dirs[k]);
  for (size_t i = 0; i < n; i++)
    if (out[i].err == 0 && dirs[i] >= 0 && !ds.synced[dirs[i]])
      out[i].err = EIO;
  dirset_free(&ds);
  free(dirs);
  return true;
}

enum dsr_exec_result dsr_exec_files(struct dsr_exec *ex, long *removed, long *failed, char *err,
                                    size_t errlen)
{
  struct dsr_buf done = {0};
  struct exunlink *un = NULL;
  const char **stores = NULL, **values = NULL;
  char after[24] = "0", now[24], why[96] = "";
  enum dsr_exec_result res = DSR_EXEC_RETRY;
  long residual = 0;
  *removed = *failed = 0;
  snprintf(now, sizeof now, "%lld", (long long)dsr_now());
  for (;;) {
    const char *v[] = {ex->run_id, after, now};
    PGresult *r = dsr_db_exec(ex->db, DSR_STMT_EX_FILES_LIST_DUE, 3, v);
    if (!dsr_db_ok(r)) {
      PQclear(r);
      snprintf(err, errlen, "cannot read the pending file deletions");
      goto cleanup;
    }
    int n = PQntuples(r);
    free(un);
    free(stores);
    free(values);
    un = calloc((size_t)n + 1, sizeof *un);
    stores = calloc((size_t)n + 1, sizeof *stores);
    values = calloc((size_t)n + 1, sizeof *values);
    for (int i = 0; stores && values && i < n; i++) {
      stores[i] = PQgetvalue(r, i, 1);
      values[i] = PQgetvalue(r, i, 2);
    }
    /* unlink the page's files, then sync each directory touched once, then sort them out */
    if (!un || !stores || !values || !exfiles_unlink(ex, (size_t)n, stores, values, un)) {
      PQclear(r);
      snprintf(err, errlen, "out of memory");
      goto cleanup;
    }
    for (int i = 0; i < n; i++) {
      const char *id = PQgetvalue(r, i, 0);
      int e = un[i].err;
      if (e == 0) {
        (*removed)++;
        if (!id_add(&done, id)) {
          PQclear(r);
          snprintf(err, errlen, "out of memory");
          goto cleanup;
        }
        continue;
      }
      const char *reason = un[i].reason ? un[i].reason : strerror(e);
      bool left = false;
      (*failed)++;
      snprintf(why, sizeof why, "%s", reason);
      DSR_WARN("executor.file_not_removed", "run=%s file_id=%s errno=%d refused=%d", ex->run_id,
               id, e, un[i].refused);
      if (!mark_failed(ex, id, reason, un[i].refused, now, &left)) {
        PQclear(r);
        snprintf(err, errlen, "cannot record a file that was not removed");
        goto cleanup;
      }
      if (left) {
        residual++;
        DSR_WARN("executor.file_residual", "run=%s file_id=%s", ex->run_id, id);
      }
    }
    if (n > 0)
      dsr_strlcpy(after, PQgetvalue(r, n - 1, 0), sizeof after);
    PQclear(r);
    if (!mark(ex, DSR_STMT_EX_FILES_MARK_DONE, &done, now)) {
      snprintf(err, errlen, "cannot record removed files");
      goto cleanup;
    }
    if (n == 0)
      break;
  }
  /* files still due (failed now, or waiting for their back-off) hold the run back */
  const char *wv[] = {ex->run_id};
  PGresult *w = dsr_db_exec(ex->db, DSR_STMT_EX_FILES_WAITING, 1, wv);
  long waiting = dsr_db_ok(w) && PQntuples(w) == 1 ? atol(PQgetvalue(w, 0, 0)) : -1;
  PQclear(w);
  if (waiting < 0) {
    snprintf(err, errlen, "cannot read the pending file deletions");
    goto cleanup;
  }
  if (waiting > 0) {
    if (why[0])
      snprintf(err, errlen, "%ld file(s) could not be removed (%s); retried later", waiting, why);
    else
      snprintf(err, errlen, "%ld file(s) could not be removed; retried later", waiting);
    goto cleanup;
  }
  if (residual > 0)
    DSR_WARN("executor.files_residual", "run=%s residual=%ld", ex->run_id, residual);
  res = DSR_EXEC_OK;
cleanup:
  free(un);
  free(stores);
  free(values);
  dsr_buf_free(&done);
  return res;
}

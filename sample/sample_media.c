/**
 * @file sample_media.c
 * @brief The sample platform's media store: WAV files for recordings and
 *        voicemails under the media root, and backup sets (real copies, never
 *        hard links) under the backup root, each with an index.tsv.
 *
 * Backup set i (1-based) is the store as it was (i - 1) weeks before the
 * anchor time: it holds every file created up to then. set-1 is a full copy.
 */
#include "config.h"
#include "sample_int.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

bool sample_mkdirs(const char *path, char *err, size_t errlen)
{
  char tmp[4096];
  if (!sample_strlcpy(tmp, path, sizeof tmp)) {
    snprintf(err, errlen, "path too long");
    return false;
  }
  for (char *p = tmp + 1; *p; p++) {
    if (*p != '/')
      continue;
    *p = '\0';
    if (mkdir(tmp, 0755) != 0 && errno != EEXIST) {
      snprintf(err, errlen, "cannot create %s: %s", tmp, strerror(errno));
      return false;
    }
    *p = '/';
  }
  if (mkdir(tmp, 0755) != 0 && errno != EEXIST) {
    snprintf(err, errlen, "cannot create %s: %s", tmp, strerror(errno));
    return false;
  }
  return true;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
  (void)st;
  (void)flag;
  (void)ftw;
  return remove(path) == 0 || errno == ENOENT ? 0 : -1;
}

bool dsr_sample_rmtree(const char *path)
{
  struct stat st;
  if (lstat(path, &st) != 0)
    return errno == ENOENT;
  return nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS) == 0;
}

/** Writes @p len bytes to a new file @p path (replacing any). */
static bool write_file(const char *path, const unsigned char *data, size_t len, char *err,
                       size_t errlen)
{
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    snprintf(err, errlen, "cannot create %s: %s", path, strerror(errno));
    return false;
  }
  size_t off = 0;
  while (off < len) {
    ssize_t n = write(fd, data + off, len - off);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0) {
      snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
      close(fd);
      return false;
    }
    off += (size_t)n;
  }
  if (close(fd) != 0) {
    snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
    return false;
  }
  return true;
}

bool sample_media_open(struct dsr_sample *g, char *err, size_t errlen)
{
  int n = g->o.backup_sets;
  g->dir_made = calloc((size_t)g->WT * 2 * (size_t)(n + 1), sizeof *g->dir_made);
  g->wav = malloc(dsr_sample_wav_size(8000));
  if (!g->dir_made || !g->wav) {
    snprintf(err, errlen, "out of memory");
    return false;
  }
  if (!sample_mkdirs(g->o.media_root, err, errlen))
    return false;
  if (n == 0)
    return true;
  g->idx = calloc((size_t)n, sizeof *g->idx);
  g->set_files = calloc((size_t)n, sizeof *g->set_files);
  g->set_names = calloc((size_t)n, sizeof *g->set_names);
  if (!g->idx || !g->set_files || !g->set_names) {
    snprintf(err, errlen, "out of memory");
    return false;
  }
  for (int i = 0; i < n; i++) {
    snprintf(g->set_names[i], sizeof g->set_names[i], "set-%d", i + 1);
    char dir[4096], path[4200], ts[24];
    snprintf(dir, sizeof dir, "%s/%s", g->o.backup_root, g->set_names[i]);
    if (!sample_mkdirs(dir, err, errlen))
      return false;
    snprintf(path, sizeof path, "%s/index.tsv", dir);
    g->idx[i] = fopen(path, "we");
    if (!g->idx[i]) {
      snprintf(err, errlen, "cannot create %s: %s", path, strerror(errno));
      return false;
    }
    sample_ts(g->o.now - (time_t)i * 7 * DAY, ts);
    fprintf(g->idx[i],
            "# dsrd sample platform: media backup set %s, a copy of the media store as of %s.\n"
            "# Paths are relative to this directory and mirror the media root.\n"
            "path\tsize_bytes\tcreated_at\n",
            g->set_names[i], ts);
  }
  return true;
}

bool sample_media_write(struct dsr_sample *g, const char *kind, long ws, const char *uuid,
                        time_t created, uint32_t samples, uint32_t freq, const char *phone,
                        char *key_id, size_t *written, char *err, size_t errlen)
{
  size_t size = dsr_sample_wav_size(samples);
  dsr_sample_wav_render(g->wav, samples, 8000, freq);
  const unsigned char *data = g->wav;
  unsigned char *sealed = NULL;
  if (key_id)
    key_id[0] = '\0';
  if (key_id && g->o.seal) {
    char tenant[24];
    snprintf(tenant, sizeof tenant, "%ld", ws + 1);
    if (!g->o.seal(g->o.seal_ctx, tenant, phone, g->wav, size, &sealed, &size, key_id, err,
                   errlen))
      return false;
    data = sealed;
  }
  *written = size;
  char rel[256], path[4400], ts[24];
  snprintf(rel, sizeof rel, "%s/%s/%s.wav", kind, g->ws[ws].uuid, uuid);
  size_t kidx = !strcmp(kind, "recordings") ? 0 : 1;
  int nsets = g->o.backup_sets;
  bool ok = true;
  for (int i = -1; ok && i < nsets; i++) {
    if (i >= 0 && created > g->o.now - (time_t)i * 7 * DAY)
      continue; /* not yet there when this set was taken */
    const char *root = i < 0 ? g->o.media_root : g->o.backup_root;
    bool *made = &g->dir_made[((size_t)(i + 1) * (size_t)g->WT + (size_t)ws) * 2 + kidx];
    if (i < 0)
      snprintf(path, sizeof path, "%s/%s/%s", root, kind, g->ws[ws].uuid);
    else
      snprintf(path, sizeof path, "%s/%s/%s/%s", root, g->set_names[i], kind, g->ws[ws].uuid);
    if (!*made) {
      if (!(ok = sample_mkdirs(path, err, errlen)))
        break;
      *made = true;
    }
    size_t dl = strlen(path);
    snprintf(path + dl, sizeof path - dl, "/%s.wav", uuid);
    if (!(ok = write_file(path, data, size, err, errlen)))
      break;
    if (i >= 0) {
      sample_ts(created, ts);
      fprintf(g->idx[i], "%s\t%zu\t%s\n", rel, size, ts);
      g->set_files[i]++;
    }
  }
  free(sealed);
  if (!ok)
    return false;
  g->media_files++;
  g->media_bytes += (long long)size;
  return true;
}

void sample_media_close(struct dsr_sample *g)
{
  for (int i = 0; g->idx && i < g->o.backup_sets; i++)
    if (g->idx[i])
      fclose(g->idx[i]);
  free(g->idx);
  g->idx = NULL;
  free(g->set_files);
  free(g->set_names);
  free(g->dir_made);
  free(g->wav);
  g->set_files = NULL;
  g->set_names = NULL;
  g->dir_made = NULL;
  g->wav = NULL;
}

bool dsr_sample_finish_media(struct dsr_sample *g, char *err, size_t errlen)
{
  bool ok = true;
  for (int i = 0; g->idx && i < g->o.backup_sets; i++) {
    if (!g->idx[i])
      continue;
    bool bad = ferror(g->idx[i]) != 0;
    bad |= fclose(g->idx[i]) != 0;
    g->idx[i] = NULL;
    if (bad && ok) {
      snprintf(err, errlen, "cannot write the index of backup set %s", g->set_names[i]);
      ok = false;
    }
  }
  return ok;
}

void dsr_sample_media_stats(const struct dsr_sample *g, long *files, long long *bytes)
{
  *files = g->media_files;
  *bytes = g->media_bytes;
}

long dsr_sample_backup_files(const struct dsr_sample *g, int i)
{
  return g->set_files && i >= 0 && i < g->o.backup_sets ? g->set_files[i] : 0;
}

const char *dsr_sample_backup_name(const struct dsr_sample *g, int i)
{
  return g->set_names && i >= 0 && i < g->o.backup_sets ? g->set_names[i] : NULL;
}

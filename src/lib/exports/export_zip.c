/**
 * @file export_zip.c
 * @brief ZIP entries through libarchive into the encrypted sink, with a
 *        SHA-256 per entry (see export_int.h). The entry's bytes are hashed
 *        by one thread, deflated and encrypted by another, while the exporter
 *        reads and formats the next rows: on its own the exporter spent most
 *        of its CPU there while the database waited (bench/README.md, export).
 *        Memory stays bounded: XZIP_BUFS buffers of XZIP_BUF_BYTES.
 */
#include "config.h"
#include "export_int.h"

#include <stdlib.h>
#include <string.h>

static la_ssize_t sink_write(struct archive *a, void *ctx, const void *buf, size_t n)
{
  (void)a;
  struct xzip *z = ctx;
  if (!dsr_xsink_write(z->sink, buf, n)) {
    z->sink_failed = true; /* the thread holding the archive: see struct xzip */
    return -1;
  }
  return (la_ssize_t)n;
}

/* The writer's share of one checksummed buffer: libarchive (deflate, then the sink). Runs
 * only while the exporter does not touch the archive (see struct xzip). */
static bool write_buffer(struct xzip *z, const unsigned char *p, size_t n)
{
  return archive_write_data(z->a, p, n) == (la_ssize_t)n && !z->sink_failed;
}

static void *writer_main(void *arg)
{
  struct xzip *z = arg;
  pthread_mutex_lock(&z->mu);
  for (;;) {
    while (z->hashed == 0 && !(z->stop && z->queued == 0))
      pthread_cond_wait(&z->cv, &z->mu);
    if (z->hashed == 0)
      break; /* stopped, nothing left */
    unsigned i = z->head;
    bool skip = z->wfailed;
    pthread_mutex_unlock(&z->mu);
    bool ok = skip || write_buffer(z, z->buf[i], z->len[i]);
    pthread_mutex_lock(&z->mu);
    z->wfailed = z->wfailed || !ok;
    z->head = (z->head + 1) % XZIP_BUFS;
    z->queued--;
    z->hashed--;
    pthread_cond_broadcast(&z->cv);
  }
  pthread_mutex_unlock(&z->mu);
  return NULL;
}

/* Checksums the queued buffers in order, ahead of the writer. */
static void *hasher_main(void *arg)
{
  struct xzip *z = arg;
  pthread_mutex_lock(&z->mu);
  for (;;) {
    while (z->hashed == z->queued && !z->stop)
      pthread_cond_wait(&z->cv, &z->mu);
    if (z->hashed == z->queued)
      break; /* stopped, everything checksummed */
    unsigned i = (z->head + z->hashed) % XZIP_BUFS;
    bool skip = z->wfailed;
    pthread_mutex_unlock(&z->mu);
    if (!skip) {
      crypto_hash_sha256_update(&z->h, z->buf[i], z->len[i]);
      z->entry_bytes += z->len[i];
    }
    pthread_mutex_lock(&z->mu);
    z->hashed++;
    pthread_cond_broadcast(&z->cv);
  }
  pthread_mutex_unlock(&z->mu);
  return NULL;
}

/* Waits until the writer has written every queued buffer; false when one failed. */
static bool drain(struct xzip *z)
{
  pthread_mutex_lock(&z->mu);
  while (z->queued > 0)
    pthread_cond_wait(&z->cv, &z->mu);
  z->failed = z->failed || z->wfailed || z->sink_failed;
  pthread_mutex_unlock(&z->mu);
  return !z->failed;
}

/* Hands the filled buffer to the writer and takes the next free one. */
static bool submit(struct xzip *z)
{
  if (z->failed)
    return false;
  if (z->wlen == 0)
    return true;
  pthread_mutex_lock(&z->mu);
  /* the buffer after this one must be free: at most XZIP_BUFS - 1 queued */
  while (z->queued >= XZIP_BUFS - 1 && !z->wfailed)
    pthread_cond_wait(&z->cv, &z->mu);
  if (z->wfailed) {
    z->failed = true;
  } else {
    z->len[(z->head + z->queued) % XZIP_BUFS] = z->wlen;
    z->queued++;
    z->cur = z->buf[(z->head + z->queued) % XZIP_BUFS];
    pthread_cond_broadcast(&z->cv);
  }
  pthread_mutex_unlock(&z->mu);
  z->wlen = 0;
  return !z->failed;
}

bool xzip_open(struct xzip *z, struct dsr_xsink *sink, time_t mtime)
{
  (void)mtime;
  memset(z, 0, sizeof *z);
  pthread_mutex_init(&z->mu, NULL);
  pthread_cond_init(&z->cv, NULL);
  z->sink = sink;
  z->files = json_array();
  z->a = archive_write_new();
  bool ok = z->files && z->a;
  for (size_t i = 0; ok && i < XZIP_BUFS; i++)
    ok = (z->buf[i] = malloc(XZIP_BUF_BYTES)) != NULL;
  if (!ok || archive_write_set_format_zip(z->a) != ARCHIVE_OK ||
      archive_write_set_bytes_in_last_block(z->a, 1) != ARCHIVE_OK ||
      /* deflate's fastest level: at the default level compression took about half of the
       * export's CPU (perf), for a package read once; an older libarchive without the
       * option keeps its default */
      archive_write_set_format_option(z->a, "zip", "compression-level", "1") < ARCHIVE_WARN ||
      archive_write_open2(z->a, z, NULL, sink_write, NULL, NULL) != ARCHIVE_OK ||
      pthread_create(&z->hasher, NULL, hasher_main, z) != 0) {
    z->failed = true;
    return false;
  }
  z->hashing = true;
  if (pthread_create(&z->writer, NULL, writer_main, z) != 0) {
    z->failed = true;
    return false;
  }
  z->cur = z->buf[0];
  z->threaded = true;
  return true;
}

bool xzip_begin(struct xzip *z, const char *name, time_t mtime)
{
  struct archive_entry *e = archive_entry_new();
  free(z->entry_name);
  z->entry_name = strdup(name);
  bool ok = e && z->entry_name && drain(z);
  if (ok) {
    archive_entry_set_pathname_utf8(e, name);
    archive_entry_set_filetype(e, AE_IFREG);
    archive_entry_set_perm(e, 0644);
    archive_entry_set_mtime(e, mtime, 0);
    archive_entry_unset_size(e);
    ok = archive_write_header(z->a, e) == ARCHIVE_OK && !z->sink_failed;
  }
  archive_entry_free(e);
  crypto_hash_sha256_init(&z->h);
  z->entry_bytes = 0;
  z->wlen = 0;
  if (!ok)
    z->failed = true;
  return ok;
}

bool xzip_write(struct xzip *z, const void *p, size_t n)
{
  if (z->failed)
    return false;
  const unsigned char *s = p;
  while (n > 0) { /* rows arrive a few bytes at a time: batch them */
    if (z->wlen == XZIP_BUF_BYTES && !submit(z))
      return false;
    size_t k = XZIP_BUF_BYTES - z->wlen < n ? XZIP_BUF_BYTES - z->wlen : n;
    memcpy(z->cur + z->wlen, s, k);
    z->wlen += k;
    s += k;
    n -= k;
  }
  return true;
}

bool xzip_puts(struct xzip *z, const char *s)
{
  return xzip_write(z, s, strlen(s));
}

bool xzip_end(struct xzip *z)
{
  if (!submit(z) || !drain(z) || archive_write_finish_entry(z->a) != ARCHIVE_OK ||
      z->sink_failed) {
    z->failed = true;
    return false;
  }
  unsigned char d[crypto_hash_sha256_BYTES];
  char hex[2 * sizeof d + 1];
  crypto_hash_sha256_final(&z->h, d);
  sodium_bin2hex(hex, sizeof hex, d, sizeof d);
  if (json_array_append_new(z->files,
                            json_pack("{s:s, s:s, s:I}", "name", z->entry_name, "sha256", hex,
                                      "bytes", (json_int_t)z->entry_bytes)) != 0)
    z->failed = true;
  return !z->failed;
}

bool xzip_close(struct xzip *z, bool abort)
{
  if (z->threaded || z->hashing) {
    pthread_mutex_lock(&z->mu);
    z->stop = true;
    z->wfailed = z->wfailed || abort; /* an aborted package's queued bytes are not written */
    pthread_cond_broadcast(&z->cv);
    pthread_mutex_unlock(&z->mu);
    if (z->hashing)
      pthread_join(z->hasher, NULL);
    if (z->threaded)
      pthread_join(z->writer, NULL);
    z->threaded = z->hashing = false;
    z->failed = z->failed || z->wfailed || z->sink_failed;
  }
  bool ok = !abort && !z->failed && z->a && archive_write_close(z->a) == ARCHIVE_OK &&
            !z->sink_failed;
  if (z->a)
    archive_write_free(z->a);
  z->a = NULL;
  json_decref(z->files);
  z->files = NULL;
  free(z->entry_name);
  z->entry_name = NULL;
  for (size_t i = 0; i < XZIP_BUFS; i++) {
    free(z->buf[i]);
    z->buf[i] = NULL;
  }
  pthread_cond_destroy(&z->cv);
  pthread_mutex_destroy(&z->mu);
  return ok;
}

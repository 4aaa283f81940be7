/**
 * @file export_zip.c
 * @brief ZIP entries through libarchive into the encrypted sink, with a
 *        SHA-256 per entry (see export_int.h). libarchive calls back with
 *        the bytes it produces; nothing is buffered beyond its own block.
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
    z->failed = true;
    return -1;
  }
  return (la_ssize_t)n;
}

bool xzip_open(struct xzip *z, struct dsr_xsink *sink, time_t mtime)
{
  (void)mtime;
  memset(z, 0, sizeof *z);
  z->sink = sink;
  z->files = json_array();
  z->a = archive_write_new();
  if (!z->files || !z->a || archive_write_set_format_zip(z->a) != ARCHIVE_OK ||
      archive_write_set_bytes_in_last_block(z->a, 1) != ARCHIVE_OK ||
      /* deflate's fastest level: at the default level compression took about half of the
       * export's CPU (perf), for a package read once; an older libarchive without the
       * option keeps its default */
      archive_write_set_format_option(z->a, "zip", "compression-level", "1") < ARCHIVE_WARN ||
      archive_write_open2(z->a, z, NULL, sink_write, NULL, NULL) != ARCHIVE_OK) {
    z->failed = true;
    return false;
  }
  return true;
}

bool xzip_begin(struct xzip *z, const char *name, time_t mtime)
{
  struct archive_entry *e = archive_entry_new();
  free(z->entry_name);
  z->entry_name = strdup(name);
  bool ok = e && z->entry_name && !z->failed;
  if (ok) {
    archive_entry_set_pathname_utf8(e, name);
    archive_entry_set_filetype(e, AE_IFREG);
    archive_entry_set_perm(e, 0644);
    archive_entry_set_mtime(e, mtime, 0);
    archive_entry_unset_size(e);
    ok = archive_write_header(z->a, e) == ARCHIVE_OK;
  }
  archive_entry_free(e);
  crypto_hash_sha256_init(&z->h);
  z->entry_bytes = 0;
  z->wlen = 0;
  if (!ok)
    z->failed = true;
  return ok;
}

/* Hands the buffered bytes of the entry to its checksum and to libarchive. */
static bool xzip_flush(struct xzip *z)
{
  if (z->failed)
    return false;
  if (z->wlen == 0)
    return true;
  crypto_hash_sha256_update(&z->h, z->wbuf, z->wlen);
  z->entry_bytes += z->wlen;
  if (archive_write_data(z->a, z->wbuf, z->wlen) != (la_ssize_t)z->wlen)
    z->failed = true;
  z->wlen = 0;
  return !z->failed;
}

bool xzip_write(struct xzip *z, const void *p, size_t n)
{
  if (z->failed)
    return false;
  const unsigned char *s = p;
  while (n > 0) { /* rows arrive a few bytes at a time: batch them */
    if (z->wlen == sizeof z->wbuf && !xzip_flush(z))
      return false;
    size_t k = sizeof z->wbuf - z->wlen < n ? sizeof z->wbuf - z->wlen : n;
    memcpy(z->wbuf + z->wlen, s, k);
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
  if (!xzip_flush(z) || archive_write_finish_entry(z->a) != ARCHIVE_OK) {
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
  bool ok = !abort && !z->failed && z->a && archive_write_close(z->a) == ARCHIVE_OK && !z->failed;
  if (z->a)
    archive_write_free(z->a);
  z->a = NULL;
  json_decref(z->files);
  z->files = NULL;
  free(z->entry_name);
  z->entry_name = NULL;
  return ok;
}

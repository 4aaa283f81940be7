/**
 * @file export_spool.c
 * @brief The package writer's spool (see export_int.h): a temporary file,
 *        unlinked as soon as it is created, written once and read back once
 *        in order. It holds the subject's data while the package is built, so
 *        it is encrypted with a key that lives only in this process
 *        (XChaCha20; blocks of 64 bytes, each chunk starting on a block).
 */
#include "config.h"
#include "export_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

bool xspool_open(struct xspool *sp, const char *near)
{
  memset(sp, 0, sizeof *sp);
  sp->fd = -1;
  char *tmpl = dsr_asprintf("%s.spool-XXXXXX", near);
  if (!tmpl)
    return false;
  sp->fd = mkstemp(tmpl);
  if (sp->fd >= 0)
    unlink(tmpl);
  free(tmpl);
  if (sp->fd < 0)
    return false;
  crypto_stream_xchacha20_keygen(sp->key);
  randombytes_buf(sp->nonce, sizeof sp->nonce);
  return true;
}

static bool full_write(int fd, const unsigned char *p, size_t n)
{
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    if (w < 0 && errno == EINTR)
      continue;
    if (w <= 0)
      return false;
    p += w;
    n -= (size_t)w;
  }
  return true;
}

/* Encrypts and writes the buffer; only the last chunk may end off a block. */
static bool spool_flush(struct xspool *sp)
{
  if (sp->len == 0)
    return !sp->failed;
  crypto_stream_xchacha20_xor_ic(sp->buf, sp->buf, sp->len, sp->nonce, sp->pos / 64, sp->key);
  sp->failed = sp->failed || !full_write(sp->fd, sp->buf, sp->len);
  sp->pos += sp->len;
  sp->len = 0;
  return !sp->failed;
}

bool xspool_write(struct xspool *sp, const void *p, size_t n)
{
  const unsigned char *s = p;
  while (!sp->failed && n > 0) {
    size_t k = sizeof sp->buf - sp->len < n ? sizeof sp->buf - sp->len : n;
    memcpy(sp->buf + sp->len, s, k);
    sp->len += k;
    s += k;
    n -= k;
    if (sp->len == sizeof sp->buf)
      spool_flush(sp);
  }
  return !sp->failed;
}

bool xspool_puts(struct xspool *sp, const char *s)
{
  return xspool_write(sp, s, strlen(s));
}

bool xspool_rewind(struct xspool *sp)
{
  if (!spool_flush(sp) || lseek(sp->fd, 0, SEEK_SET) != 0)
    return sp->failed = true, false;
  sp->reading = true;
  sp->pos = 0;
  sp->off = 0;
  return true;
}

bool xspool_read(struct xspool *sp, void *p, size_t n)
{
  unsigned char *d = p;
  while (!sp->failed && n > 0) {
    if (sp->off == sp->len) {
      sp->pos += sp->len;
      sp->len = 0;
      sp->off = 0;
      while (sp->len < sizeof sp->buf) { /* whole chunks keep the blocks aligned */
        ssize_t r = read(sp->fd, sp->buf + sp->len, sizeof sp->buf - sp->len);
        if (r < 0 && errno == EINTR)
          continue;
        if (r <= 0)
          break;
        sp->len += (size_t)r;
      }
      if (sp->len == 0)
        return sp->failed = true, false;
      crypto_stream_xchacha20_xor_ic(sp->buf, sp->buf, sp->len, sp->nonce, sp->pos / 64, sp->key);
    }
    size_t k = sp->len - sp->off < n ? sp->len - sp->off : n;
    memcpy(d, sp->buf + sp->off, k);
    sp->off += k;
    d += k;
    n -= k;
  }
  return !sp->failed;
}

void xspool_close(struct xspool *sp)
{
  if (sp->fd >= 0)
    close(sp->fd);
  sodium_memzero(sp->key, sizeof sp->key);
  sodium_memzero(sp->buf, sizeof sp->buf);
  sp->fd = -1;
}

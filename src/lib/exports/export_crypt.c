/**
 * @file export_crypt.c
 * @brief Package files encrypted with libsodium secretstream (see export.h):
 *        the writer seals fixed-size chunks as they fill, the reader opens
 *        them one at a time, so neither holds more than one chunk.
 */
#include "config.h"
#include "dsr/export.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define ABYTES crypto_secretstream_xchacha20poly1305_ABYTES
#define HBYTES crypto_secretstream_xchacha20poly1305_HEADERBYTES

bool dsr_xsink_open(struct dsr_xsink *s, const char *path, const unsigned char key[DSR_XKEY_BYTES])
{
  memset(s, 0, sizeof *s);
  s->fd = -1;
  unsigned char header[HBYTES];
  s->buf = malloc(DSR_XCHUNK);
  if (!s->buf)
    return false;
  s->fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (s->fd < 0 || crypto_secretstream_xchacha20poly1305_init_push(&s->st, header, key) != 0 ||
      !dsr_write_all(s->fd, header, sizeof header)) {
    s->failed = true;
    return false;
  }
  return true;
}

static bool push(struct dsr_xsink *s, unsigned char tag)
{
  unsigned char out[DSR_XCHUNK + ABYTES];
  unsigned long long outlen = 0;
  if (crypto_secretstream_xchacha20poly1305_push(&s->st, out, &outlen, s->buf, s->n, NULL, 0,
                                                 tag) != 0 ||
      !dsr_write_all(s->fd, out, (size_t)outlen)) {
    s->failed = true;
    return false;
  }
  s->n = 0;
  return true;
}

bool dsr_xsink_write(struct dsr_xsink *s, const void *p, size_t len)
{
  const unsigned char *c = p;
  while (len > 0 && !s->failed) {
    if (s->n == DSR_XCHUNK && !push(s, crypto_secretstream_xchacha20poly1305_TAG_MESSAGE))
      return false;
    size_t take = DSR_XCHUNK - s->n < len ? DSR_XCHUNK - s->n : len;
    memcpy(s->buf + s->n, c, take);
    s->n += take;
    s->plain_bytes += take;
    c += take;
    len -= take;
  }
  return !s->failed;
}

bool dsr_xsink_close(struct dsr_xsink *s, bool abort)
{
  bool ok = !abort && !s->failed && s->fd >= 0 &&
            push(s, crypto_secretstream_xchacha20poly1305_TAG_FINAL) && fsync(s->fd) == 0;
  if (s->fd >= 0 && close(s->fd) != 0)
    ok = false;
  s->fd = -1;
  if (s->buf)
    sodium_memzero(s->buf, DSR_XCHUNK);
  free(s->buf);
  s->buf = NULL;
  sodium_memzero(&s->st, sizeof s->st);
  return ok;
}

static bool read_full(int fd, unsigned char *p, size_t n, size_t *got)
{
  *got = 0;
  while (*got < n) {
    ssize_t r = read(fd, p + *got, n - *got);
    if (r < 0 && errno == EINTR)
      continue;
    if (r < 0)
      return false;
    if (r == 0)
      break;
    *got += (size_t)r;
  }
  return true;
}

bool dsr_xsource_open(struct dsr_xsource *s, const char *path,
                      const unsigned char key[DSR_XKEY_BYTES])
{
  memset(s, 0, sizeof *s);
  s->fd = -1;
  unsigned char header[HBYTES];
  size_t got = 0;
  s->chunk = malloc(DSR_XCHUNK + ABYTES);
  s->plain = malloc(DSR_XCHUNK);
  s->fd = open(path, O_RDONLY | O_CLOEXEC);
  if (!s->chunk || !s->plain || s->fd < 0 || !read_full(s->fd, header, sizeof header, &got) ||
      got != sizeof header ||
      crypto_secretstream_xchacha20poly1305_init_pull(&s->st, header, key) != 0) {
    s->failed = true;
    return false;
  }
  return true;
}

/* Opens the next chunk into plain. */
static bool pull(struct dsr_xsource *s)
{
  size_t got = 0;
  if (!read_full(s->fd, s->chunk, DSR_XCHUNK + ABYTES, &got) || got < ABYTES)
    return false;
  unsigned long long plen = 0;
  unsigned char tag = 0;
  if (crypto_secretstream_xchacha20poly1305_pull(&s->st, s->plain, &plen, &tag, s->chunk, got,
                                                 NULL, 0) != 0)
    return false;
  bool final = tag == crypto_secretstream_xchacha20poly1305_TAG_FINAL;
  if (!final && got < DSR_XCHUNK + ABYTES)
    return false; /* a short chunk that is not the last: truncated */
  s->final = final;
  s->have = (size_t)plen;
  s->pos = 0;
  return true;
}

ssize_t dsr_xsource_read(struct dsr_xsource *s, void *out, size_t len)
{
  if (s->failed)
    return -1;
  while (s->pos == s->have) {
    if (s->final)
      return 0;
    if (!pull(s)) {
      s->failed = true;
      return -1;
    }
  }
  size_t take = s->have - s->pos < len ? s->have - s->pos : len;
  memcpy(out, s->plain + s->pos, take);
  s->pos += take;
  return (ssize_t)take;
}

bool dsr_xsource_skip(struct dsr_xsource *s, uint64_t n)
{
  unsigned char tmp[8192];
  while (n > 0) {
    ssize_t r = dsr_xsource_read(s, tmp, n < sizeof tmp ? (size_t)n : sizeof tmp);
    if (r <= 0)
      return false;
    n -= (uint64_t)r;
  }
  return true;
}

void dsr_xsource_close(struct dsr_xsource *s)
{
  if (s->fd >= 0)
    close(s->fd);
  s->fd = -1;
  if (s->plain)
    sodium_memzero(s->plain, DSR_XCHUNK);
  free(s->plain);
  free(s->chunk);
  s->plain = s->chunk = NULL;
  sodium_memzero(&s->st, sizeof s->st);
}

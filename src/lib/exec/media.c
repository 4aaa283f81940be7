/**
 * @file media.c
 * @brief Crypto-shredded media files (see media.h): sealed in memory under
 *        the subject's data key, written through a temporary name, and read
 *        back chunk by chunk, nothing written out before a chunk
 *        authenticates.
 */
#include "config.h"
#include "media_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAGIC "DSRMEDIA"
#define MAGIC_LEN 8
#define HEAD_LEN (MAGIC_LEN + 1 + 36) /* magic, format byte, key id */
#define CHUNK 65536
#define ABYTES crypto_secretstream_xchacha20poly1305_ABYTES
#define HBYTES crypto_secretstream_xchacha20poly1305_HEADERBYTES

bool dsr_media_seal(struct dsr_db *db, const struct dsr_keyring *kr, enum dsr_id_kind kind,
                    const char *value, const char *scope, const unsigned char *plain, size_t len,
                    unsigned char **out, size_t *outlen, char key_id[40], char *err,
                    size_t errlen)
{
  unsigned char key[32];
  *out = NULL;
  if (!media_key_for(db, kr, kind, value, scope ? scope : "", key, key_id, err, errlen))
    return false;
  size_t chunks = len / CHUNK + 1;
  size_t total = HEAD_LEN + HBYTES + len + chunks * ABYTES;
  unsigned char *buf = malloc(total);
  if (!buf) {
    sodium_memzero(key, sizeof key);
    snprintf(err, errlen, "out of memory");
    return false;
  }
  memcpy(buf, MAGIC, MAGIC_LEN);
  buf[MAGIC_LEN] = 1;
  memcpy(buf + MAGIC_LEN + 1, key_id, 36);
  crypto_secretstream_xchacha20poly1305_state st;
  crypto_secretstream_xchacha20poly1305_init_push(&st, buf + HEAD_LEN, key);
  sodium_memzero(key, sizeof key);
  size_t pos = HEAD_LEN + HBYTES, off = 0;
  do {
    size_t n = len - off < CHUNK ? len - off : CHUNK;
    bool last = off + n == len;
    unsigned long long clen = 0;
    crypto_secretstream_xchacha20poly1305_push(
        &st, buf + pos, &clen, plain + off, n, buf, HEAD_LEN,
        last ? crypto_secretstream_xchacha20poly1305_TAG_FINAL : 0);
    pos += (size_t)clen;
    off += n;
    if (last)
      break;
  } while (1);
  sodium_memzero(&st, sizeof st);
  *out = buf;
  *outlen = pos;
  return true;
}

bool dsr_media_put(struct dsr_db *db, const struct dsr_keyring *kr, enum dsr_id_kind kind,
                   const char *value, const char *scope, const unsigned char *plain, size_t len,
                   const char *path, char key_id[40], char *err, size_t errlen)
{
  unsigned char *sealed = NULL;
  size_t n = 0;
  if (!dsr_media_seal(db, kr, kind, value, scope, plain, len, &sealed, &n, key_id, err, errlen))
    return false;
  bool ok = media_write_replace(path, sealed, n, 0644, err, errlen);
  free(sealed);
  return ok;
}

/* Reads up to @p n bytes (fewer only at the end of the file); -1 on error. */
static ssize_t read_full(int fd, unsigned char *p, size_t n)
{
  size_t got = 0;
  while (got < n) {
    ssize_t r = read(fd, p + got, n - got);
    if (r < 0 && errno == EINTR)
      continue;
    if (r < 0)
      return -1;
    if (r == 0)
      break;
    got += (size_t)r;
  }
  return (ssize_t)got;
}

enum dsr_media_result dsr_media_get(struct dsr_db *db, const struct dsr_keyring *kr,
                                    const char *path, int out_fd, char *err, size_t errlen)
{
  unsigned char head[HEAD_LEN + HBYTES], key[32];
  unsigned char *in = malloc(CHUNK + ABYTES), *plain = malloc(CHUNK);
  enum dsr_media_result res = DSR_MEDIA_ERROR;
  crypto_secretstream_xchacha20poly1305_state st;
  char id[40];
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (!in || !plain || fd < 0) {
    snprintf(err, errlen, fd < 0 ? "cannot open the file: %s" : "out of memory",
             strerror(errno));
    goto cleanup;
  }
  if (read_full(fd, head, sizeof head) != (ssize_t)sizeof head ||
      memcmp(head, MAGIC, MAGIC_LEN) != 0 || head[MAGIC_LEN] != 1) {
    snprintf(err, errlen, "not an encrypted media file");
    res = DSR_MEDIA_BAD;
    goto cleanup;
  }
  memcpy(id, head + MAGIC_LEN + 1, 36);
  id[36] = '\0';
  for (int i = 0; i < 36; i++)
    if (!strchr("0123456789abcdef-", id[i])) {
      snprintf(err, errlen, "not an encrypted media file");
      res = DSR_MEDIA_BAD;
      goto cleanup;
    }
  res = media_key_get(db, kr, id, key, err, errlen);
  if (res != DSR_MEDIA_OK)
    goto cleanup;
  res = DSR_MEDIA_BAD;
  if (crypto_secretstream_xchacha20poly1305_init_pull(&st, head + HEAD_LEN, key) != 0) {
    snprintf(err, errlen, "damaged header");
    goto cleanup;
  }
  for (;;) {
    ssize_t n = read_full(fd, in, CHUNK + ABYTES);
    unsigned long long plen = 0;
    unsigned char tag = 0;
    if (n < 0) {
      snprintf(err, errlen, "cannot read the file: %s", strerror(errno));
      res = DSR_MEDIA_ERROR;
      goto cleanup;
    }
    if (n < (ssize_t)ABYTES ||
        crypto_secretstream_xchacha20poly1305_pull(&st, plain, &plen, &tag, in, (size_t)n, head,
                                                   HEAD_LEN) != 0) {
      snprintf(err, errlen, "the file does not authenticate (truncated or tampered with)");
      goto cleanup;
    }
    if (!dsr_write_all(out_fd, plain, (size_t)plen)) {
      snprintf(err, errlen, "cannot write the output: %s", strerror(errno));
      res = DSR_MEDIA_ERROR;
      goto cleanup;
    }
    if (tag == crypto_secretstream_xchacha20poly1305_TAG_FINAL)
      break;
    if (n < (ssize_t)(CHUNK + ABYTES)) {
      snprintf(err, errlen, "the file is truncated");
      goto cleanup;
    }
  }
  res = DSR_MEDIA_OK;
cleanup:
  sodium_memzero(key, sizeof key);
  sodium_memzero(&st, sizeof st);
  if (plain)
    sodium_memzero(plain, CHUNK);
  if (fd >= 0)
    close(fd);
  free(in);
  free(plain);
  return res;
}

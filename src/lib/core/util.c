/** @file util.c @brief Buffer, string and time helpers. */
#include "config.h"
#include "dsr/util.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static bool buf_reserve(struct dsr_buf *b, size_t extra)
{
  if (b->len + extra + 1 <= b->cap)
    return true;
  size_t cap = b->cap ? b->cap : 64;
  while (cap < b->len + extra + 1) {
    if (cap > SIZE_MAX / 2)
      return false;
    cap *= 2;
  }
  char *p = realloc(b->data, cap);
  if (!p)
    return false;
  b->data = p;
  b->cap = cap;
  return true;
}

bool dsr_buf_reserve(struct dsr_buf *b, size_t extra)
{
  return buf_reserve(b, extra);
}

bool dsr_buf_append(struct dsr_buf *b, const void *p, size_t n)
{
  if (!buf_reserve(b, n))
    return false;
  if (n)
    memcpy(b->data + b->len, p, n);
  b->len += n;
  b->data[b->len] = '\0';
  return true;
}

bool dsr_buf_puts(struct dsr_buf *b, const char *s)
{
  return dsr_buf_append(b, s, strlen(s));
}

bool dsr_buf_printf(struct dsr_buf *b, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  va_list ap2;
  va_copy(ap2, ap);
  int n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  bool ok = false;
  if (n >= 0 && buf_reserve(b, (size_t)n)) {
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap2);
    b->len += (size_t)n;
    ok = true;
  }
  va_end(ap2);
  return ok;
}

bool dsr_buf_json_string(struct dsr_buf *b, const char *s, size_t n)
{
  static const char hex[] = "0123456789ABCDEF";
  /* at worst six bytes out per byte in, and the quotes */
  if (n > (SIZE_MAX - 3) / 6 || !buf_reserve(b, 6 * n + 2))
    return false;
  char *o = b->data + b->len;
  *o++ = '"';
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c >= 0x20 && c != '"' && c != '\\') {
      *o++ = (char)c;
      continue;
    }
    *o++ = '\\';
    switch (c) {
    case '"':
    case '\\':
      *o++ = (char)c;
      break;
    case '\b':
      *o++ = 'b';
      break;
    case '\f':
      *o++ = 'f';
      break;
    case '\n':
      *o++ = 'n';
      break;
    case '\r':
      *o++ = 'r';
      break;
    case '\t':
      *o++ = 't';
      break;
    default:
      *o++ = 'u';
      *o++ = '0';
      *o++ = '0';
      *o++ = hex[c >> 4];
      *o++ = hex[c & 15];
    }
  }
  *o++ = '"';
  *o = '\0';
  b->len = (size_t)(o - b->data);
  return true;
}

void dsr_buf_reset(struct dsr_buf *b)
{
  b->len = 0;
  if (b->data)
    b->data[0] = '\0';
}

void dsr_buf_free(struct dsr_buf *b)
{
  free(b->data);
  b->data = NULL;
  b->len = b->cap = 0;
}

char *dsr_buf_steal(struct dsr_buf *b)
{
  char *p = b->data;
  if (!p)
    p = calloc(1, 1);
  b->data = NULL;
  b->len = b->cap = 0;
  return p;
}

char *dsr_asprintf(const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  char *s = NULL;
  if (vasprintf(&s, fmt, ap) < 0)
    s = NULL;
  va_end(ap);
  return s;
}

char *dsr_xstrdup(const char *s)
{
  char *p = strdup(s);
  if (!p)
    abort();
  return p;
}

bool dsr_strlcpy(char *dst, const char *src, size_t size)
{
  if (size == 0)
    return false;
  size_t n = strlen(src);
  bool fits = n < size;
  if (!fits)
    n = size - 1;
  memcpy(dst, src, n);
  dst[n] = '\0';
  return fits;
}

static volatile time_t fake_now;
static volatile long clock_offset;

time_t dsr_now(void)
{
  time_t f = fake_now;
  return f ? f : time(NULL) + clock_offset;
}

void dsr_set_clock_offset(long seconds)
{
  clock_offset = seconds;
}

void dsr_set_fake_now(time_t t)
{
  fake_now = t;
}

void dsr_time_rfc3339(time_t t, char out[static 21])
{
  struct tm tm;
  gmtime_r(&t, &tm);
  strftime(out, 21, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

double dsr_mono_ms(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

bool dsr_utf8_valid(const char *s, size_t n)
{
  const unsigned char *p = (const unsigned char *)s;
  size_t i = 0;
  while (i < n) {
    unsigned char c = p[i];
    if (c == 0)
      return false;
    if (c < 0x80) {
      i++;
      continue;
    }
    size_t len;
    uint32_t cp;
    if ((c & 0xE0) == 0xC0) {
      len = 2;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      len = 3;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      len = 4;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (i + len > n)
      return false;
    for (size_t k = 1; k < len; k++) {
      if ((p[i + k] & 0xC0) != 0x80)
        return false;
      cp = (cp << 6) | (p[i + k] & 0x3F);
    }
    /* Overlong forms, surrogates and values past U+10FFFF are not UTF-8. */
    if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
        (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF)
      return false;
    i += len;
  }
  return true;
}

bool dsr_write_all(int fd, const void *p, size_t n)
{
  const unsigned char *b = p;
  while (n > 0) {
    ssize_t w = write(fd, b, n);
    if (w < 0 && errno == EINTR)
      continue;
    if (w <= 0)
      return false;
    b += w;
    n -= (size_t)w;
  }
  return true;
}

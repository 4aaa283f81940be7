/**
 * @file log.c
 * @brief logfmt lines on stderr, written whole so threads do not interleave;
 *        access lines (dsr_log_later()) gathered and written a few at a time.
 */
#include "config.h"
#include "dsr/log.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

static enum dsr_log_level min_level = DSR_LOG_INFO;
static const char *const level_names[] = {"debug", "info", "warn", "error"};

#define LINE_MAX_BYTES 2048
/* Lines of dsr_log_later() not yet written (about 25 access lines), and since when. */
#define LATER_BYTES 4096
#define LATER_MS 250.0
static pthread_mutex_t later_lock = PTHREAD_MUTEX_INITIALIZER;
static char later_buf[LATER_BYTES];
static size_t later_len;
static double later_since;

void dsr_log_set_level(enum dsr_log_level lvl)
{
  min_level = lvl;
}

bool dsr_log_parse_level(const char *s, enum dsr_log_level *out)
{
  for (size_t i = 0; i < DSR_ARRAY_LEN(level_names); i++) {
    if (strcmp(s, level_names[i]) == 0) {
      *out = (enum dsr_log_level)i;
      return true;
    }
  }
  return false;
}

/* The timestamp of the line, formatted once a second per thread. */
static const char *stamp(void)
{
  static _Thread_local time_t at = -1;
  static _Thread_local char ts[21];
  time_t now = time(NULL);
  if (now != at) {
    dsr_time_rfc3339(now, ts);
    at = now;
  }
  return ts;
}

/* Formats one line, newline included, into @p line; returns its length. */
DSR_PRINTF(4, 0)
static size_t format_line(char line[LINE_MAX_BYTES], enum dsr_log_level lvl, const char *event,
                          const char *fmt, va_list ap)
{
  int n = snprintf(line, LINE_MAX_BYTES, "ts=%s level=%s event=%s", stamp(), level_names[lvl],
                   event);
  if (n < 0)
    return 0;
  size_t len = (size_t)n < LINE_MAX_BYTES ? (size_t)n : LINE_MAX_BYTES - 1;
  if (fmt && len + 2 < LINE_MAX_BYTES) {
    line[len++] = ' ';
    int m = vsnprintf(line + len, LINE_MAX_BYTES - len, fmt, ap);
    if (m > 0)
      len += (size_t)m < LINE_MAX_BYTES - len ? (size_t)m : LINE_MAX_BYTES - len - 1;
  }
  /* Newlines inside values would split one event over lines. */
  for (size_t i = 0; i < len; i++)
    if (line[i] == '\n' || line[i] == '\r')
      line[i] = ' ';
  line[len++] = '\n';
  return len;
}

/* Writes what is held, then @p line (may be empty), in one system call; under later_lock. */
static void write_out(const char *line, size_t len)
{
  struct iovec iov[2] = {{.iov_base = later_buf, .iov_len = later_len},
                         {.iov_base = (void *)line, .iov_len = len}};
  int first = later_len ? 0 : 1;
  if (later_len || len) {
    ssize_t w = writev(STDERR_FILENO, iov + first, 2 - first);
    (void)w;
  }
  later_len = 0;
}

/* One line: written at once (after what is held), or held when @p later and there is room. */
DSR_PRINTF(4, 0)
static void log_line(bool later, enum dsr_log_level lvl, const char *event, const char *fmt,
                     va_list ap)
{
  if (lvl < min_level)
    return;
  char line[LINE_MAX_BYTES];
  size_t len = format_line(line, lvl, event, fmt, ap);
  double now = later ? dsr_mono_ms() : 0;
  pthread_mutex_lock(&later_lock);
  if (!later || later_len + len > sizeof later_buf ||
      (later_len && now - later_since >= LATER_MS)) {
    write_out(line, len);
  } else {
    if (!later_len)
      later_since = now;
    memcpy(later_buf + later_len, line, len);
    later_len += len;
  }
  pthread_mutex_unlock(&later_lock);
}

void dsr_log(enum dsr_log_level lvl, const char *event, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  log_line(false, lvl, event, fmt, ap);
  va_end(ap);
}

void dsr_log_later(enum dsr_log_level lvl, const char *event, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  log_line(true, lvl, event, fmt, ap);
  va_end(ap);
}

void dsr_log_flush(void)
{
  pthread_mutex_lock(&later_lock);
  write_out("", 0);
  pthread_mutex_unlock(&later_lock);
}

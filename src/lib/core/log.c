/** @file log.c @brief logfmt lines on stderr, written whole so threads do not interleave. */
#include "config.h"
#include "dsr/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static enum dsr_log_level min_level = DSR_LOG_INFO;
static const char *const level_names[] = {"debug", "info", "warn", "error"};

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

void dsr_log(enum dsr_log_level lvl, const char *event, const char *fmt, ...)
{
  if (lvl < min_level)
    return;
  char line[2048];
  char ts[21];
  dsr_time_rfc3339(time(NULL), ts);
  int n = snprintf(line, sizeof line, "ts=%s level=%s event=%s", ts, level_names[lvl], event);
  if (n < 0)
    return;
  size_t len = (size_t)n < sizeof line ? (size_t)n : sizeof line - 1;
  if (fmt && len + 2 < sizeof line) {
    line[len++] = ' ';
    va_list ap;
    va_start(ap, fmt);
    int m = vsnprintf(line + len, sizeof line - len, fmt, ap);
    va_end(ap);
    if (m > 0)
      len += (size_t)m < sizeof line - len ? (size_t)m : sizeof line - len - 1;
  }
  /* Newlines inside values would split one event over lines. */
  for (size_t i = 0; i < len; i++)
    if (line[i] == '\n' || line[i] == '\r')
      line[i] = ' ';
  line[len++] = '\n';
  ssize_t w = write(STDERR_FILENO, line, len);
  (void)w;
}

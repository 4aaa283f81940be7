/**
 * @file util.h
 * @brief Small helpers shared by every part of dsrd: attributes, a growable
 *        byte buffer, safe string formatting and time.
 */
#ifndef DSR_UTIL_H
#define DSR_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

/** Fallible functions: the caller must look at the result. */
#define DSR_MUST_USE __attribute__((warn_unused_result))
#define DSR_PRINTF(f, a) __attribute__((format(printf, f, a)))
#define DSR_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/** A growable, always NUL-terminated byte buffer. Owner frees with dsr_buf_free(). */
struct dsr_buf {
  char *data;
  size_t len;
  size_t cap;
};

DSR_MUST_USE bool dsr_buf_append(struct dsr_buf *b, const void *p, size_t n);
DSR_MUST_USE bool dsr_buf_puts(struct dsr_buf *b, const char *s);
DSR_MUST_USE bool dsr_buf_printf(struct dsr_buf *b, const char *fmt, ...) DSR_PRINTF(2, 3);
void dsr_buf_reset(struct dsr_buf *b);
void dsr_buf_free(struct dsr_buf *b);
/** Hands the buffer's memory to the caller (free()), leaving @p b empty. */
char *dsr_buf_steal(struct dsr_buf *b);
/** Makes room for @p extra more bytes, so that appending them allocates nothing. */
DSR_MUST_USE bool dsr_buf_reserve(struct dsr_buf *b, size_t extra);
/**
 * Appends @p s (@p n bytes, which dsr_utf8_valid() must accept) as a JSON string literal,
 * escaped as jansson's compact output escapes it (quote, backslash, the short escapes of
 * backspace, form feed, newline, return and tab, other control characters as \u00XX in capitals,
 * every other byte as it is), so that JSON written with it reads byte for byte as jansson's.
 * False when out of memory.
 */
DSR_MUST_USE bool dsr_buf_json_string(struct dsr_buf *b, const char *s, size_t n);

/** printf into a new string; caller frees. NULL on allocation failure. */
char *dsr_asprintf(const char *fmt, ...) DSR_PRINTF(1, 2);
/** strdup that aborts on allocation failure (used for small fixed strings only). */
char *dsr_xstrdup(const char *s);
/** Copies at most size-1 bytes and always terminates; false if truncated. */
bool dsr_strlcpy(char *dst, const char *src, size_t size);

/** Writes all @p n bytes to @p fd (retrying short writes and EINTR); false on error (errno). */
DSR_MUST_USE bool dsr_write_all(int fd, const void *p, size_t n);

/** Seconds since the epoch, from the process clock (tests may override it). */
time_t dsr_now(void);
/** Sets a fixed clock for tests; 0 restores the real clock. */
void dsr_set_fake_now(time_t t);
/** Shifts the real clock by @p seconds (tests of expiry run a daemon in the future). */
void dsr_set_clock_offset(long seconds);
/** Formats @p t as RFC 3339 UTC ("2026-01-02T03:04:05Z") into @p out (>= 21 bytes). */
void dsr_time_rfc3339(time_t t, char out[static 21]);
/** Monotonic milliseconds, for durations in logs. */
double dsr_mono_ms(void);

/** True when @p s (length @p n) is well-formed UTF-8 without NUL bytes. */
bool dsr_utf8_valid(const char *s, size_t n);

#endif

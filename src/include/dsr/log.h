/**
 * @file log.h
 * @brief Structured logs on stderr, one line per event in logfmt
 *        (ts=... level=... event=... key=value). Never pass personal data:
 *        log identifiers (request ids, route patterns), never identities.
 */
#ifndef DSR_LOG_H
#define DSR_LOG_H

#include "dsr/util.h"

enum dsr_log_level { DSR_LOG_DEBUG, DSR_LOG_INFO, DSR_LOG_WARN, DSR_LOG_ERROR };

void dsr_log_set_level(enum dsr_log_level lvl);
/** Parses "debug|info|warn|error"; false if unknown. */
bool dsr_log_parse_level(const char *s, enum dsr_log_level *out);
/**
 * Logs @p event with extra logfmt fields given by @p fmt (may be NULL), e.g.
 * dsr_log(DSR_LOG_INFO, "http.request", "rid=%s status=%d", rid, 202).
 */
void dsr_log(enum dsr_log_level lvl, const char *event, const char *fmt, ...) DSR_PRINTF(3, 4);

/**
 * As dsr_log(), for a line that may reach stderr a little later: it is kept in a
 * small buffer and written with the next line of any kind, when the buffer is
 * full, when its oldest line is a quarter of a second old, or by
 * dsr_log_flush(). Lines keep their order. For the access line of every HTTP
 * request only (one write(2) per request was a measurable part of a status
 * read); a crash may lose the last quarter second of them, never a warning or
 * an error, which go out at once.
 */
void dsr_log_later(enum dsr_log_level lvl, const char *event, const char *fmt, ...)
    DSR_PRINTF(3, 4);
/** Writes out what dsr_log_later() holds. Called periodically and before exiting. */
void dsr_log_flush(void);

#define DSR_DEBUG(ev, ...) dsr_log(DSR_LOG_DEBUG, ev, __VA_ARGS__)
#define DSR_INFO(ev, ...) dsr_log(DSR_LOG_INFO, ev, __VA_ARGS__)
#define DSR_WARN(ev, ...) dsr_log(DSR_LOG_WARN, ev, __VA_ARGS__)
#define DSR_ERROR(ev, ...) dsr_log(DSR_LOG_ERROR, ev, __VA_ARGS__)

#endif

/**
 * @file timefmt.h
 * @brief Times as people read them, in their language: "8 November 2026,
 *        07:21 UTC", "8. November 2026, 07:21 Uhr (UTC)". The words and the
 *        order come from templates/ (months.LANG.txt, datetime.LANG.txt).
 */
#ifndef DSR_TIMEFMT_H
#define DSR_TIMEFMT_H

#include <stddef.h>
#include <time.h>
#include "dsr/util.h"

/**
 * Writes @p t (UTC) into @p out for language @p lang (NULL: English); with
 * @p with_time the time of day follows the date. Never fails: without the
 * templates it writes the ISO date.
 */
void dsr_time_human(time_t t, const char *lang, bool with_time, char *out, size_t outlen);

/**
 * As dsr_time_human() for an RFC 3339 / PostgreSQL timestamp string @p s
 * ("2026-11-08T07:21:27Z", "2026-11-08 07:21:27+00"); copies @p s unchanged
 * when it does not parse.
 */
void dsr_time_human_str(const char *s, const char *lang, bool with_time, char *out,
                        size_t outlen);

#endif

/** @file timeparse.h @brief Parses the times people type on the command line and in queries. */
#ifndef DSR_TIMEPARSE_H
#define DSR_TIMEPARSE_H

#include <time.h>
#include "dsr/util.h"

/**
 * Parses "YYYY-MM-DD" (midnight UTC) or RFC 3339 "YYYY-MM-DDTHH:MM:SSZ" /
 * "...+HH:MM" into @p out. False for anything else, including invalid dates.
 */
DSR_MUST_USE bool dsr_time_parse(const char *s, time_t *out);

#endif

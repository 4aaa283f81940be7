/**
 * @file page_cursor.h
 * @brief Keyset cursors of lists answered page by page, newest first: the
 *        last row shown as its timestamp and id. Opaque to clients.
 */
#ifndef DSR_PAGE_CURSOR_H
#define DSR_PAGE_CURSOR_H

#include <stdbool.h>

/**
 * The SQL that writes a timestamptz column the way a cursor holds it; select
 * it next to the row's id and hand both to dsr_cursor_encode().
 */
#define DSR_CURSOR_TS(col) "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"

/**
 * Decodes @p cur into its timestamp ("YYYY-MM-DDTHH:MM:SS.ffffffZ", a real
 * date and time of day) and id (a UUID). False for anything else.
 */
bool dsr_cursor_decode(const char *cur, char ts[40], char id[40]);

/** The cursor of the row (@p ts, @p id); NULL when out of memory. Caller frees. */
char *dsr_cursor_encode(const char *ts, const char *id);

#endif

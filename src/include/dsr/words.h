/**
 * @file words.h
 * @brief The words people read for dsrd's codes (request types, statuses,
 *        reasons, outcomes), in their language, from templates/words.LANG.txt.
 *
 * That file holds one "group.key=Text" a line ("status.denied=Closed without
 * action"); '#' starts a comment line. A key missing from a language is
 * looked up in English; missing there too, the key itself is the word (so a
 * new code never shows as a blank).
 */
#ifndef DSR_WORDS_H
#define DSR_WORDS_H

#include <stddef.h>
#include "dsr/util.h"

/** Writes the word for @p group.@p key in @p lang (NULL: English) into @p out; returns @p out. */
const char *dsr_words_get(const char *group, const char *key, const char *lang, char *out,
                          size_t outlen);

/** Whether @p group.@p key has a word in @p lang itself (no fallback). */
bool dsr_words_has(const char *group, const char *key, const char *lang);

#endif

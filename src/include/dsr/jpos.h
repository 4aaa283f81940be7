/**
 * @file jpos.h
 * @brief Position index of a JSON text: maps every value's JSON pointer
 *        (RFC 6901) to the line and column where it starts, and, for object
 *        members, where its key starts. jansson reports positions only for
 *        syntax errors; this small tokenizer re-scans the text so that the
 *        policy validator can name file:line:column for any value.
 */
#ifndef DSR_JPOS_H
#define DSR_JPOS_H

#include "dsr/util.h"

struct dsr_jpos;

/** A position: 1-based line and column (column counts characters, not bytes). */
struct dsr_jpos_at {
  int line;
  int col;
};

/**
 * Indexes @p text (@p len bytes). Returns NULL when the text is not one
 * well-formed JSON value or on allocation failure. Caller frees with
 * dsr_jpos_free().
 */
DSR_MUST_USE struct dsr_jpos *dsr_jpos_index(const char *text, size_t len);
void dsr_jpos_free(struct dsr_jpos *ix);

/**
 * Position of the value at @p pointer ("" is the root, "/a/0/b" a member).
 * With @p want_key and an object member, the position of its key instead.
 * When the pointer is not in the index, the nearest indexed ancestor's
 * position is returned; false only when nothing matched (never for a valid
 * index: the root always matches).
 */
bool dsr_jpos_find(const struct dsr_jpos *ix, const char *pointer, bool want_key,
                   struct dsr_jpos_at *out);

/**
 * The first object key that appears twice in one object, if any: its
 * pointer (borrowed) and the position of the second occurrence's key.
 */
bool dsr_jpos_duplicate(const struct dsr_jpos *ix, const char **pointer, struct dsr_jpos_at *at);

/** Number of indexed values (tests). */
size_t dsr_jpos_count(const struct dsr_jpos *ix);

/**
 * Appends @p token to @p pointer as one RFC 6901 reference token ("~" and
 * "/" escaped).
 */
DSR_MUST_USE bool dsr_jpos_append(struct dsr_buf *pointer, const char *token);

#endif

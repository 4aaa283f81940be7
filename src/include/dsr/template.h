/**
 * @file template.h
 * @brief A small mustache-style renderer over jansson values, for mail
 *        bodies, SMS texts, HTML pages and reports.
 *
 * Templates live in templates/ as NAME.LANG.EXT ("email_code.en.txt") and are
 * compiled into the programs (scripts/embed-files.sh), so nothing is read from
 * disk at run time. A template is selected by NAME.EXT and a language: the
 * exact tag ("pt-BR"), then its primary subtag ("pt"), then English.
 *
 * Syntax:
 *   {{name}}         value, HTML-escaped (& < > " ' become entities)
 *   {{{name}}} {{&name}}  value, raw (plain-text bodies; never for HTML)
 *   {{a.b.c}}        dotted names; {{.}} is the current item
 *   {{#name}}..{{/name}}  section: once per array item, once with an object
 *                    or other true value pushed, skipped for missing, null,
 *                    false, "" and []
 *   {{^name}}..{{/name}}  inverted section: only when the section would skip
 *   {{! comment }}   ignored
 *   {{> name.ext}}   partial: another template of the same set and language
 * Names are looked up from the innermost context outwards; a missing name
 * renders as nothing. Integers and reals render in decimal, true as "true".
 * Section, comment and partial tags alone on a line drop that line.
 * Malformed templates (unclosed tags or sections, mismatched closes, empty
 * names, delimiter changes, partial recursion) fail with a message naming the
 * template and line; they never crash.
 */
#ifndef DSR_TEMPLATE_H
#define DSR_TEMPLATE_H

#include <jansson.h>
#include "dsr/util.h"

/**
 * Renders template @p name ("email_code.txt") in language @p lang (NULL: "en")
 * with context @p ctx (borrowed; may be NULL). On success *out is a new
 * NUL-terminated string the caller frees. On failure returns false and writes
 * the reason into @p err.
 */
DSR_MUST_USE bool dsr_template_render(const char *name, const char *lang, const json_t *ctx,
                                      char **out, char *err, size_t errlen);

/**
 * Renders the template text @p text (named @p label in errors); partials come
 * from the embedded set in language @p lang. Same ownership as above.
 */
DSR_MUST_USE bool dsr_template_render_text(const char *label, const char *text,
                                           const char *lang, const json_t *ctx, char **out,
                                           char *err, size_t errlen);

/**
 * The text of template @p name in @p lang after fallback (borrowed, static),
 * or NULL. When @p chosen is not NULL it receives the file name used.
 */
const char *dsr_template_find(const char *name, const char *lang, const char **chosen);

/** Appends @p s HTML-escaped to @p b. */
DSR_MUST_USE bool dsr_html_escape(struct dsr_buf *b, const char *s);

#endif

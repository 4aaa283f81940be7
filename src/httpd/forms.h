/** @file forms.h @brief Form decoding and CSRF checks used by the dispatcher (forms.c). */
#ifndef DSRD_FORMS_H
#define DSRD_FORMS_H

#include <jansson.h>
#include "httpd.h"

/**
 * Decodes an application/x-www-form-urlencoded body into a new JSON object
 * of strings (caller decrefs); empty fields are left out. NULL with *why on
 * malformed escapes, invalid UTF-8 or repeated fields.
 */
json_t *dsr_form_decode(const char *body, size_t len, const char **why);
/** True when both are well-formed CSRF tokens and equal (constant-time); NULLs never match. */
bool dsr_csrf_match(const char *cookie, const char *field);
/**
 * True when the request comes from our own pages (no cross-site
 * Sec-Fetch-Site, no foreign Origin) and @p field is its token: with a staff
 * UI session cookie the token bound to that session, else the dsr_csrf cookie
 * (__Host-dsr_csrf over TLS), compared in constant time.
 */
bool dsr_csrf_check(struct dsr_hreq *r, const char *field);
/** The CSRF token bound to UI session @p session into @p out (at least 44 bytes). */
bool dsr_csrf_of_session(const char *session, char *out, size_t outlen);
/** Sets the CSRF cookie to the token bound to @p session (at sign-in). */
void dsr_csrf_session_cookie(struct dsr_hreq *r, const char *session);

#endif

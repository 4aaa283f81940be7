/** @file verify_util.h @brief Helpers of the verification suites: mail reading, requests. */
#ifndef DSR_VERIFY_UTIL_H
#define DSR_VERIFY_UTIL_H
#include "harness.h"

/**
 * Waits (up to @p timeout_s, polling) for a mail to @p to in maildir @p dir
 * (its new/ directory) whose decoded text contains @p needle (NULL: any), and
 * returns that decoded text (caller frees). Mails already returned are
 * renamed into cur/ so the next call finds the next one.
 */
char *vu_wait_mail(const char *dir, const char *to, const char *needle, int timeout_s);
/** The 6-digit code in a decoded mail or SMS text (into @p out, 7 bytes). */
void vu_code(const char *text, char out[7]);
/** The link token (?t=...) in a decoded mail (into @p out). */
void vu_link_token(const char *text, char *out, size_t outlen);
/** POSTs a request to @p d; fills id and status token. Returns the parsed answer. */
json_t *vu_create(const struct h_dsrd *d, const char *body, char id[40], char token[64]);
/** POSTs @p body to /v1/requests/ID/verify; returns the status, fills @p out. */
long vu_verify(const struct h_dsrd *d, const char *id, const char *body, struct h_resp *out);
/** The request's status from the database. Caller frees. */
char *vu_status(const char *conninfo, const char *id);
/** A conninfo for database @p name in the test cluster, created when missing. Caller frees. */
char *vu_database(const char *name);

#endif

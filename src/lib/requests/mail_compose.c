/** @file mail_compose.c @brief RFC 5322 messages for the email transports (see transport.h). */
#include "config.h"
#include "dsr/transport.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

/* Appends a header value with CR and LF removed: no header injection. */
static bool put_clean(struct dsr_buf *b, const char *s)
{
  for (const char *p = s; *p; p++)
    if (*p != '\r' && *p != '\n' && !dsr_buf_append(b, p, 1))
      return false;
  return true;
}

/* Base64 of @p s, wrapped at 76 columns with CRLF. */
static bool put_b64(struct dsr_buf *b, const char *s)
{
  size_t n = strlen(s);
  for (size_t off = 0; off < n || off == 0; off += 57) {
    size_t chunk = n - off < 57 ? n - off : 57;
    char line[80];
    sodium_bin2base64(line, sizeof line, (const unsigned char *)s + off, chunk,
                      sodium_base64_VARIANT_ORIGINAL);
    if (!dsr_buf_puts(b, line) || !dsr_buf_puts(b, "\r\n"))
      return false;
    if (n == 0)
      break;
  }
  return true;
}

/* RFC 2047 encoded-word for the subject (always encoded: safe for any text). */
static bool put_subject(struct dsr_buf *b, const char *subject)
{
  struct dsr_buf clean = {0};
  bool ok = put_clean(&clean, subject ? subject : "");
  if (ok) {
    size_t n = clean.len;
    size_t cap = sodium_base64_ENCODED_LEN(n, sodium_base64_VARIANT_ORIGINAL);
    char *enc = malloc(cap);
    ok = enc != NULL;
    if (ok) {
      sodium_bin2base64(enc, cap, (const unsigned char *)(clean.data ? clean.data : ""), n,
                        sodium_base64_VARIANT_ORIGINAL);
      ok = dsr_buf_printf(b, "Subject: =?UTF-8?B?%s?=\r\n", enc);
    }
    free(enc);
  }
  dsr_buf_free(&clean);
  return ok;
}

static bool put_part(struct dsr_buf *b, const char *boundary, const char *type, const char *body)
{
  return dsr_buf_printf(b,
                        "--%s\r\nContent-Type: %s; charset=utf-8\r\n"
                        "Content-Transfer-Encoding: base64\r\n\r\n",
                        boundary, type) &&
         put_b64(b, body);
}

char *dsr_mail_compose(const char *from, const struct dsr_message *m, time_t now)
{
  struct dsr_buf b = {0};
  unsigned char rnd[12];
  randombytes_buf(rnd, sizeof rnd);
  char hex[25];
  sodium_bin2hex(hex, sizeof hex, rnd, sizeof rnd);
  const char *at = strrchr(from, '@');
  char domain[128] = "dsrd.invalid";
  if (at && at[1]) {
    dsr_strlcpy(domain, at + 1, sizeof domain);
    domain[strcspn(domain, "> \r\n")] = '\0';
  }
  struct tm tm;
  gmtime_r(&now, &tm);
  static const char *const days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                       "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  bool ok = dsr_buf_puts(&b, "From: ") && put_clean(&b, from) && dsr_buf_puts(&b, "\r\nTo: ") &&
            put_clean(&b, m->to) && dsr_buf_puts(&b, "\r\n") && put_subject(&b, m->subject) &&
            dsr_buf_printf(&b, "Date: %s, %02d %s %04d %02d:%02d:%02d +0000\r\n",
                           days[tm.tm_wday], tm.tm_mday, months[tm.tm_mon], tm.tm_year + 1900,
                           tm.tm_hour, tm.tm_min, tm.tm_sec) &&
            dsr_buf_printf(&b, "Message-ID: <%s@%s>\r\nMIME-Version: 1.0\r\n", hex, domain) &&
            dsr_buf_puts(&b, "Auto-Submitted: auto-generated\r\n");
  if (ok && m->html) {
    char boundary[40];
    snprintf(boundary, sizeof boundary, "=_dsrd_%s", hex);
    ok = dsr_buf_printf(&b, "Content-Type: multipart/alternative; boundary=\"%s\"\r\n\r\n",
                        boundary) &&
         put_part(&b, boundary, "text/plain", m->text ? m->text : "") &&
         put_part(&b, boundary, "text/html", m->html) &&
         dsr_buf_printf(&b, "--%s--\r\n", boundary);
  } else if (ok) {
    ok = dsr_buf_puts(&b, "Content-Type: text/plain; charset=utf-8\r\n"
                          "Content-Transfer-Encoding: base64\r\n\r\n") &&
         put_b64(&b, m->text ? m->text : "");
  }
  if (!ok) {
    dsr_buf_free(&b);
    return NULL;
  }
  return dsr_buf_steal(&b);
}

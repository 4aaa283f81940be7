/**
 * @file page_lang.c
 * @brief The language of a public page, mail or SMS: the request's own
 *        language when it is one dsrd writes, else the best of the browser's
 *        Accept-Language, else English. Shared by the public pages and the
 *        download page, which sit side by side and must not call each other.
 */
#include "config.h"
#include "httpd.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* The languages the public pages, mails and SMS are written in. */
static const char *const page_langs[] = {"en", "de", "pt-BR"};

/* @p tag ("de-AT", "pt", "EN") as one of page_langs, or NULL. */
static const char *supported_lang(const char *tag, size_t n)
{
  for (size_t i = 0; i < DSR_ARRAY_LEN(page_langs); i++) {
    size_t p = strcspn(page_langs[i], "-");
    if (n >= p && !strncasecmp(tag, page_langs[i], p) && (n == p || tag[p] == '-'))
      return page_langs[i];
  }
  return NULL;
}

const char *dsrd_page_lang(struct dsr_hreq *r, const char *request_lang)
{
  const char *l = request_lang ? supported_lang(request_lang, strlen(request_lang)) : NULL;
  if (l)
    return l;
  const char *h = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "Accept-Language");
  const char *best = NULL;
  double best_q = 0;
  while (h && *h) {
    h += strspn(h, " ,");
    size_t n = strcspn(h, ",; ");
    const char *tag = h;
    double q = 1.0;
    const char *end = h + strcspn(h, ",");
    const char *qp = strstr(h, ";q=");
    if (qp && qp < end)
      q = strtod(qp + 3, NULL);
    const char *cand = n ? supported_lang(tag, n) : NULL;
    if (cand && q > best_q) {
      best = cand;
      best_q = q;
    }
    h = *end ? end + 1 : end;
  }
  return best ? best : "en";
}

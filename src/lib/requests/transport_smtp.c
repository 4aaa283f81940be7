/** @file transport_smtp.c @brief Email over SMTP with libcurl (see transport.h). */
#include "config.h"
#include "dsr/transport.h"

#include <curl/curl.h>
#include <stdio.h>
#include <string.h>

struct upload {
  const char *data;
  size_t len, off;
};

static size_t read_cb(char *buf, size_t size, size_t n, void *arg)
{
  struct upload *u = arg;
  size_t want = size * n, left = u->len - u->off;
  size_t take = want < left ? want : left;
  memcpy(buf, u->data + u->off, take);
  u->off += take;
  return take;
}

/* "Name <a@b>" -> "<a@b>"; "a@b" -> "<a@b>". */
static void envelope(const char *addr, char *out, size_t outlen)
{
  const char *lt = strrchr(addr, '<');
  if (lt) {
    dsr_strlcpy(out, lt, outlen);
    char *gt = strchr(out, '>');
    if (gt)
      gt[1] = '\0';
  } else {
    snprintf(out, outlen, "<%s>", addr);
  }
}

bool dsr_smtp_send(const struct dsr_config *cfg, const char *to, const char *text, char *err,
                   size_t errlen)
{
  CURL *c = curl_easy_init();
  if (!c) {
    snprintf(err, errlen, "smtp: cannot initialise libcurl");
    return false;
  }
  char from[300], rcpt[300];
  envelope(cfg->mail_from, from, sizeof from);
  envelope(to, rcpt, sizeof rcpt);
  struct curl_slist *rcpts = curl_slist_append(NULL, rcpt);
  struct upload u = {.data = text, .len = strlen(text)};
  curl_easy_setopt(c, CURLOPT_URL, cfg->smtp_url);
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
  curl_easy_setopt(c, CURLOPT_USE_SSL, (long)CURLUSESSL_TRY); /* STARTTLS when offered */
  curl_easy_setopt(c, CURLOPT_MAIL_FROM, from);
  curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rcpts);
  curl_easy_setopt(c, CURLOPT_READFUNCTION, read_cb);
  curl_easy_setopt(c, CURLOPT_READDATA, &u);
  curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 10L);
  curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
  if (cfg->smtp_username) {
    curl_easy_setopt(c, CURLOPT_USERNAME, cfg->smtp_username);
    curl_easy_setopt(c, CURLOPT_PASSWORD, cfg->smtp_password ? cfg->smtp_password : "");
  }
  CURLcode rc = rcpts ? curl_easy_perform(c) : CURLE_OUT_OF_MEMORY;
  long code = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
  /* curl's own message only: the server's reply could echo the recipient. */
  if (rc != CURLE_OK)
    snprintf(err, errlen, "smtp: %s (reply %ld)", curl_easy_strerror(rc), code);
  curl_slist_free_all(rcpts);
  curl_easy_cleanup(c);
  return rc == CURLE_OK;
}

/** @file transport_sms.c @brief SMS through an HTTP gateway (POST JSON; see transport.h). */
#include "config.h"
#include "dsr/transport.h"

#include <curl/curl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static size_t discard(char *p, size_t size, size_t n, void *arg)
{
  return size * n;
}

bool dsr_sms_webhook_send(const struct dsr_config *cfg, const char *to, const char *text,
                          char *err, size_t errlen)
{
  if (!cfg->sms_webhook_url) {
    snprintf(err, errlen, "sms_webhook: sms_webhook_url is not set");
    return false;
  }
  json_t *body = json_pack("{s:s, s:s}", "to", to, "text", text);
  char *json = body ? json_dumps(body, JSON_COMPACT) : NULL;
  json_decref(body);
  char *auth = cfg->sms_webhook_token
                   ? dsr_asprintf("Authorization: Bearer %s", cfg->sms_webhook_token)
                   : NULL;
  CURL *c = curl_easy_init();
  struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
  if (auth && h)
    h = curl_slist_append(h, auth);
  bool ok = false;
  if (!json || !c || !h || (cfg->sms_webhook_token && !auth)) {
    snprintf(err, errlen, "sms_webhook: out of memory");
    goto cleanup;
  }
  curl_easy_setopt(c, CURLOPT_URL, cfg->sms_webhook_url);
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
  curl_easy_setopt(c, CURLOPT_POSTFIELDS, json);
  curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(json));
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 10L);
  curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
  CURLcode rc = curl_easy_perform(c);
  long status = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  if (rc != CURLE_OK)
    snprintf(err, errlen, "sms_webhook: %s", curl_easy_strerror(rc));
  else if (status < 200 || status > 299)
    snprintf(err, errlen, "sms_webhook: gateway answered %ld", status);
  else
    ok = true;
cleanup:
  curl_slist_free_all(h);
  if (c)
    curl_easy_cleanup(c);
  if (json) {
    memset(json, 0, strlen(json));
    free(json);
  }
  free(auth);
  return ok;
}

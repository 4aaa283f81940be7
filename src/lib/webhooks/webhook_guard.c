/**
 * @file webhook_guard.c
 * @brief SSRF guard for customer endpoints: scheme, no credentials, and the
 *        resolved address checked and then pinned (CURLOPT_RESOLVE), so DNS
 *        cannot answer differently between the check and the connection.
 */
#include "config.h"
#include "dsr/webhook.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

void dsr_webhook_opts_from_config(struct dsr_webhook_opts *o, const struct dsr_config *cfg)
{
  o->allow_http = cfg->webhook_allow_http;
  o->allow_private = cfg->webhook_allow_private;
  o->timeout_s = cfg->webhook_timeout;
  o->base_url = cfg->base_url;
  if (!o->base_url) {
    snprintf(o->base_buf, sizeof o->base_buf, "http://%s:%ld", cfg->listen_address, cfg->port);
    o->base_url = o->base_buf;
  }
  o->demo_prefix[0] = '\0';
  if (cfg->demo_mode)
    snprintf(o->demo_prefix, sizeof o->demo_prefix, "http://127.0.0.1:%ld/demo/webhooks/",
             cfg->port);
}

bool dsr_webhook_is_demo(const struct dsr_webhook_opts *o, const char *url)
{
  size_t n = strlen(o->demo_prefix);
  /* one plain path segment after the prefix: no way to another path, host or port */
  return n > 0 && !strncmp(url, o->demo_prefix, n) && url[n] &&
         strspn(url + n, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_") ==
             strlen(url + n);
}

static bool v4_private(uint32_t a)
{
  static const struct {
    uint32_t net, mask;
  } r[] = {
      {0x00000000u, 0xff000000u}, /* 0.0.0.0/8 "this network" */
      {0x0a000000u, 0xff000000u}, /* 10/8 */
      {0x64400000u, 0xffc00000u}, /* 100.64/10 carrier-grade NAT */
      {0x7f000000u, 0xff000000u}, /* 127/8 loopback */
      {0xa9fe0000u, 0xffff0000u}, /* 169.254/16 link-local (cloud metadata) */
      {0xac100000u, 0xfff00000u}, /* 172.16/12 */
      {0xc0000000u, 0xffffff00u}, /* 192.0.0/24 protocol assignments */
      {0xc0a80000u, 0xffff0000u}, /* 192.168/16 */
      {0xc6120000u, 0xfffe0000u}, /* 198.18/15 benchmarking */
      {0xe0000000u, 0xe0000000u}, /* 224/3 multicast and reserved, broadcast */
  };
  for (size_t i = 0; i < DSR_ARRAY_LEN(r); i++)
    if ((a & r[i].mask) == r[i].net)
      return true;
  return false;
}

bool dsr_addr_is_private(const void *sockaddr)
{
  const struct sockaddr *sa = sockaddr;
  if (sa->sa_family == AF_INET) {
    const struct sockaddr_in *in = sockaddr;
    return v4_private(ntohl(in->sin_addr.s_addr));
  }
  if (sa->sa_family == AF_INET6) {
    const struct in6_addr *a = &((const struct sockaddr_in6 *)sockaddr)->sin6_addr;
    const unsigned char *b = a->s6_addr;
    if (IN6_IS_ADDR_UNSPECIFIED(a) || IN6_IS_ADDR_LOOPBACK(a) || IN6_IS_ADDR_LINKLOCAL(a) ||
        IN6_IS_ADDR_SITELOCAL(a) || IN6_IS_ADDR_MULTICAST(a))
      return true;
    if ((b[0] & 0xfe) == 0xfc) /* fc00::/7 unique local */
      return true;
    if (IN6_IS_ADDR_V4MAPPED(a) || IN6_IS_ADDR_V4COMPAT(a) ||
        (b[0] == 0x00 && b[1] == 0x64 && b[2] == 0xff && b[3] == 0x9b)) { /* 64:ff9b::/96 */
      uint32_t v4;
      memcpy(&v4, b + 12, 4);
      return v4_private(ntohl(v4));
    }
    return false;
  }
  return true; /* anything else is never a public internet endpoint */
}

/* Pulls scheme, host and port out of @p url with libcurl's own parser. */
static bool parse(const char *url, char *scheme, size_t sl, char *host, size_t hl, long *port,
                  char *why, size_t whylen)
{
  CURLU *u = curl_url();
  char *sch = NULL, *h = NULL, *p = NULL, *user = NULL;
  bool ok = false;
  if (!u || curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK) {
    snprintf(why, whylen, "the endpoint is not a valid absolute URL");
    goto cleanup;
  }
  if (curl_url_get(u, CURLUPART_USER, &user, 0) == CURLUE_OK) {
    snprintf(why, whylen, "credentials in the endpoint URL are not allowed");
    goto cleanup;
  }
  if (curl_url_get(u, CURLUPART_SCHEME, &sch, 0) != CURLUE_OK ||
      curl_url_get(u, CURLUPART_HOST, &h, 0) != CURLUE_OK ||
      curl_url_get(u, CURLUPART_PORT, &p, CURLU_DEFAULT_PORT) != CURLUE_OK) {
    snprintf(why, whylen, "the endpoint URL lacks a scheme or host");
    goto cleanup;
  }
  if (!dsr_strlcpy(scheme, sch, sl) || !dsr_strlcpy(host, h, hl)) {
    snprintf(why, whylen, "the endpoint host is too long");
    goto cleanup;
  }
  *port = strtol(p, NULL, 10);
  ok = *port > 0 && *port < 65536;
  if (!ok)
    snprintf(why, whylen, "the endpoint port is invalid");
cleanup:
  curl_free(sch);
  curl_free(h);
  curl_free(p);
  curl_free(user);
  curl_url_cleanup(u);
  return ok;
}

bool dsr_webhook_url_check(const struct dsr_webhook_opts *o, const char *url, char *pin,
                           size_t pinlen, char *why, size_t whylen)
{
  char scheme[16], host[256];
  long port = 0;
  if (!parse(url, scheme, sizeof scheme, host, sizeof host, &port, why, whylen))
    return false;
  bool demo = dsr_webhook_is_demo(o, url); /* dsrd's own receiver, in demo mode only */
  if (strcmp(scheme, "https") != 0 && !((o->allow_http || demo) && !strcmp(scheme, "http"))) {
    snprintf(why, whylen, "the endpoint must use https (webhook_allow_http is off)");
    return false;
  }
  /* IPv6 literals come back bracketed; getaddrinfo wants them bare. */
  char bare[256];
  size_t hl = strlen(host);
  if (hl >= 2 && host[0] == '[' && host[hl - 1] == ']') {
    memcpy(bare, host + 1, hl - 2);
    bare[hl - 2] = '\0';
  } else {
    dsr_strlcpy(bare, host, sizeof bare);
  }
  struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
  struct addrinfo *res = NULL;
  if (getaddrinfo(bare, NULL, &hints, &res) != 0 || !res) {
    snprintf(why, whylen, "the endpoint host does not resolve");
    return false;
  }
  /* Every address must pass: an attacker's name may resolve to a public and a private one. */
  bool ok = true;
  for (struct addrinfo *ai = res; ai; ai = ai->ai_next)
    if (!o->allow_private && !demo && dsr_addr_is_private(ai->ai_addr))
      ok = false;
  char addr[INET6_ADDRSTRLEN + 2] = "";
  if (ok) {
    char text[INET6_ADDRSTRLEN];
    const void *src = res->ai_family == AF_INET
                          ? (const void *)&((struct sockaddr_in *)res->ai_addr)->sin_addr
                          : (const void *)&((struct sockaddr_in6 *)res->ai_addr)->sin6_addr;
    if (!inet_ntop(res->ai_family, src, text, sizeof text)) {
      snprintf(why, whylen, "the endpoint address cannot be printed");
      ok = false;
    }
    else if (res->ai_family == AF_INET6)
      snprintf(addr, sizeof addr, "[%s]", text);
    else
      snprintf(addr, sizeof addr, "%s", text);
  } else {
    snprintf(why, whylen, "the endpoint resolves to a private or reserved address "
                          "(webhook_allow_private is off)");
  }
  freeaddrinfo(res);
  if (!ok)
    return false;
  int n = snprintf(pin, pinlen, "%s:%ld:%s", bare, port, addr);
  if (n < 0 || (size_t)n >= pinlen) {
    snprintf(why, whylen, "the endpoint host is too long");
    return false;
  }
  return true;
}

/** @file routes.c @brief The one routing table, and path matching. */
#include "config.h"
#include "httpd.h"

#include <string.h>

/* method, pattern, handler, auth, JSON body spec, form spec, per-address rate limit, HTML */
const struct dsr_route dsr_routes[] = {
    {"GET", "/healthz", dsrd_healthz, DSR_AUTH_NONE, NULL, NULL, DSR_RATE_NONE, false},
    {"GET", "/readyz", dsrd_readyz, DSR_AUTH_NONE, NULL, NULL, DSR_RATE_NONE, false},
    {"POST", "/v1/requests", dsrd_requests_create, DSR_AUTH_NONE, dsrd_request_create_spec, NULL,
     DSR_RATE_INTAKE_ADDRESS, false},
    {"GET", "/v1/requests/{id}", dsrd_requests_get, DSR_AUTH_STATUS_TOKEN, NULL, NULL,
     DSR_RATE_NONE, false},
    {"POST", "/v1/requests/{id}/verify", dsrd_verify, DSR_AUTH_NONE, dsrd_verify_spec, NULL,
     DSR_RATE_VERIFY_ADDRESS, false},
    {"POST", "/v1/requests/{id}/resend", dsrd_resend, DSR_AUTH_STATUS_TOKEN, dsrd_resend_spec,
     NULL, DSR_RATE_VERIFY_ADDRESS, false},
    {"POST", "/v1/requests/{id}/withdraw", dsrd_withdraw, DSR_AUTH_STATUS_TOKEN, NULL, NULL,
     DSR_RATE_NONE, false},
    /* Public pages (HTML; forms carry a double-submit CSRF token). */
    {"GET", "/", dsrd_page_form, DSR_AUTH_NONE, NULL, NULL, DSR_RATE_NONE, true},
    {"GET", "/requests/new", dsrd_page_form, DSR_AUTH_NONE, NULL, NULL, DSR_RATE_NONE, true},
    {"POST", "/requests/new", dsrd_page_create, DSR_AUTH_NONE, NULL, dsrd_page_create_form,
     DSR_RATE_INTAKE_ADDRESS, true},
    {"GET", "/requests/{id}/verify", dsrd_page_verify, DSR_AUTH_NONE, NULL, NULL, DSR_RATE_NONE,
     true},
    {"POST", "/requests/{id}/verify", dsrd_page_verify_post, DSR_AUTH_NONE, NULL,
     dsrd_page_verify_form, DSR_RATE_VERIFY_ADDRESS, true},
    {"POST", "/requests/{id}/resend", dsrd_page_resend, DSR_AUTH_NONE, NULL, dsrd_page_resend_form,
     DSR_RATE_VERIFY_ADDRESS, true},
    {"GET", "/requests/{id}/status", dsrd_page_status, DSR_AUTH_NONE, NULL, NULL, DSR_RATE_NONE,
     true},
    {"POST", "/requests/{id}/withdraw", dsrd_page_withdraw, DSR_AUTH_NONE, NULL,
     dsrd_page_empty_form, DSR_RATE_NONE, true},
    {"GET", "/static/style.css", dsrd_page_css, DSR_AUTH_NONE, NULL, NULL, DSR_RATE_NONE, false},
    {"GET", "/static/icon.svg", dsrd_page_icon, DSR_AUTH_NONE, NULL, NULL, DSR_RATE_NONE, false},
    {NULL, NULL, NULL, DSR_AUTH_NONE, NULL, NULL, DSR_RATE_NONE, false},
};

bool dsr_path_safe(const char *path)
{
  if (path[0] != '/')
    return false;
  for (const unsigned char *p = (const unsigned char *)path; *p; p++) {
    if (*p < 0x21 || *p > 0x7e || *p == '\\' || *p == '%')
      return false;
    if (*p == '/' && p != (const unsigned char *)path) {
      /* empty, "." and ".." segments are never routed: refuse rather than normalise */
      if (p[-1] == '/')
        return false;
    }
    if (*p == '/' && p[1] == '.' && (p[2] == '/' || p[2] == '\0' ||
                                     (p[2] == '.' && (p[3] == '/' || p[3] == '\0'))))
      return false;
  }
  return true;
}

/* Matches one pattern; captures go into argbuf. */
static bool match(const char *pattern, const char *path, const char *args[DSR_MAX_PATH_ARGS],
                  char *argbuf, size_t argbuf_len)
{
  size_t used = 0;
  int nargs = 0;
  const char *p = pattern, *s = path;
  while (*p && *s) {
    if (*p == '{') {
      const char *pend = strchr(p, '}');
      const char *send = strchr(s, '/');
      size_t seglen = send ? (size_t)(send - s) : strlen(s);
      if (!pend || seglen == 0 || nargs >= DSR_MAX_PATH_ARGS || used + seglen + 1 > argbuf_len)
        return false;
      memcpy(argbuf + used, s, seglen);
      argbuf[used + seglen] = '\0';
      args[nargs++] = argbuf + used;
      used += seglen + 1;
      p = pend + 1;
      s += seglen;
    } else if (*p == *s) {
      p++;
      s++;
    } else {
      return false;
    }
  }
  return *p == '\0' && *s == '\0';
}

const struct dsr_route *dsr_route_match(const char *method, const char *path,
                                        const char *args[DSR_MAX_PATH_ARGS], char *argbuf,
                                        size_t argbuf_len, bool *path_known)
{
  *path_known = false;
  /* HEAD is served by the GET handler; libmicrohttpd drops the body. */
  const char *want = strcmp(method, "HEAD") == 0 ? "GET" : method;
  for (const struct dsr_route *r = dsr_routes; r->method; r++) {
    if (!match(r->pattern, path, args, argbuf, argbuf_len))
      continue;
    *path_known = true;
    if (strcmp(r->method, want) == 0)
      return r;
  }
  return NULL;
}

void dsr_route_allowed(const char *path, char *out, size_t outlen)
{
  const char *args[DSR_MAX_PATH_ARGS];
  char argbuf[1024];
  size_t used = 0;
  out[0] = '\0';
  for (const struct dsr_route *r = dsr_routes; r->method; r++) {
    if (!match(r->pattern, path, args, argbuf, sizeof argbuf))
      continue;
    size_t n = strlen(r->method);
    if (used + n + 3 > outlen)
      break;
    if (used) {
      memcpy(out + used, ", ", 2);
      used += 2;
    }
    memcpy(out + used, r->method, n + 1);
    used += n;
  }
}

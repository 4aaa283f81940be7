/**
 * @file route_match.c
 * @brief Matching a path against a routing table (given by the caller: the
 *        dispatcher passes struct dsr_app's), the methods a path allows, the
 *        DRP routes' configurable base, the path checker and the role rules of
 *        a route. Kept apart from the table so that the dispatcher, replies
 *        and UI pages can ask the table without depending on the handlers it
 *        lists.
 */
#include "config.h"
#include "httpd.h"

#include <string.h>

/* The DRP routes' base path; their patterns are written under DRP_PATTERN_BASE. */
#define DRP_PATTERN_BASE "/drp"
static const char *drp_base = DRP_PATTERN_BASE;

void dsr_routes_drp_base(const char *base)
{
  drp_base = base && *base ? base : DRP_PATTERN_BASE;
}

/*
 * The path a DRP route's pattern is matched against: @p path with the
 * configured base replaced by DRP_PATTERN_BASE, or NULL when @p path is not
 * under the base (then no DRP route matches).
 */
static const char *drp_path(const char *path, char *buf, size_t buflen)
{
  size_t n = strlen(drp_base);
  while (n > 1 && drp_base[n - 1] == '/')
    n--;
  if (strncmp(path, drp_base, n) != 0 || path[n] != '/')
    return NULL;
  int w = snprintf(buf, buflen, "%s%s", DRP_PATTERN_BASE, path + n);
  return w > 0 && (size_t)w < buflen ? buf : NULL;
}

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

const struct dsr_route *dsr_route_match(const struct dsr_route *table, const char *method,
                                        const char *path, const char *args[DSR_MAX_PATH_ARGS],
                                        char *argbuf, size_t argbuf_len, bool *path_known)
{
  *path_known = false;
  /* HEAD is served by the GET handler; libmicrohttpd drops the body. */
  const char *want = strcmp(method, "HEAD") == 0 ? "GET" : method;
  char dbuf[1100];
  const char *dpath = drp_path(path, dbuf, sizeof dbuf);
  for (const struct dsr_route *r = table; r->method; r++) {
    const char *p = r->drp ? dpath : path;
    if (!p || !match(r->pattern, p, args, argbuf, argbuf_len))
      continue;
    *path_known = true;
    if (strcmp(r->method, want) == 0)
      return r;
  }
  return NULL;
}

void dsr_route_allowed(const struct dsr_route *table, const char *path, char *out,
                       size_t outlen)
{
  const char *args[DSR_MAX_PATH_ARGS];
  char argbuf[1024];
  size_t used = 0;
  out[0] = '\0';
  char dbuf[1100];
  const char *dpath = drp_path(path, dbuf, sizeof dbuf);
  for (const struct dsr_route *r = table; r->method; r++) {
    const char *p = r->drp ? dpath : path;
    if (!p || !match(r->pattern, p, args, argbuf, sizeof argbuf))
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

bool dsr_role_allowed(const struct dsr_route *route, enum dsr_role role, const char *value)
{
  if (!(route->roles & (unsigned)role))
    return false;
  if (!route->role_rules)
    return true;
  for (const struct dsr_role_rule *rule = route->role_rules; rule->value; rule++)
    if (value && !strcmp(rule->value, value))
      return (rule->roles & (unsigned)role) != 0;
  return false; /* a value without a rule is allowed to nobody */
}

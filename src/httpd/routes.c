/** @file routes.c @brief The one routing table, and path matching. */
#include "config.h"
#include "httpd.h"

#include <string.h>

/* Routes without staff roles: columns roles, role_field, role_rules empty. */
#define NO_ROLES 0, NULL, NULL
#define STAFF_ALL DSR_ROLES_ALL
#define STAFF_ACTORS (DSR_ROLE_ADMIN | DSR_ROLE_TRIAGER | DSR_ROLE_APPROVER)
#define TRIAGE (DSR_ROLE_ADMIN | DSR_ROLE_TRIAGER)
#define DECIDE (DSR_ROLE_ADMIN | DSR_ROLE_APPROVER)
#define AUDIT (DSR_ROLE_ADMIN | DSR_ROLE_AUDITOR)

/* Auditors read only; triagers verify, assign and hold; approvers decide. */
const struct dsr_role_rule dsrd_admin_action_roles[] = {
    {"verify", TRIAGE}, {"assign", TRIAGE},  {"hold", TRIAGE},   {"release", TRIAGE},
    {"approve", DECIDE}, {"deny", DECIDE}, {"extend", DECIDE}, {NULL, 0},
};

const struct dsr_route dsr_routes[] = {
    {"GET", "/healthz", dsrd_healthz, DSR_AUTH_NONE, NULL, NO_ROLES},
    {"GET", "/readyz", dsrd_readyz, DSR_AUTH_NONE, NULL, NO_ROLES},
    {"POST", "/v1/requests", dsrd_requests_create, DSR_AUTH_NONE, dsrd_request_create_spec,
     NO_ROLES},
    {"GET", "/v1/requests/{id}", dsrd_requests_get, DSR_AUTH_STATUS_TOKEN, NULL, NO_ROLES},
    /* staff: the privacy team's queue */
    {"GET", "/v1/admin/requests", dsrd_admin_requests_list, DSR_AUTH_STAFF, NULL, STAFF_ALL,
     NULL, NULL},
    {"GET", "/v1/admin/requests/{id}", dsrd_admin_requests_get, DSR_AUTH_STAFF, NULL, STAFF_ALL,
     NULL, NULL},
    {"GET", "/v1/admin/requests/{id}/plan", dsrd_admin_requests_plan, DSR_AUTH_STAFF, NULL,
     STAFF_ALL, NULL, NULL},
    {"POST", "/v1/admin/requests/{id}/actions", dsrd_admin_requests_act, DSR_AUTH_STAFF,
     dsrd_admin_action_spec, STAFF_ACTORS, "action", dsrd_admin_action_roles},
    /* staff: auditors and admins read the audit trail and the compliance report */
    {"GET", "/v1/admin/audit", dsrd_admin_audit, DSR_AUTH_STAFF, NULL, AUDIT, NULL, NULL},
    {"GET", "/v1/admin/reports/compliance", dsrd_admin_report, DSR_AUTH_STAFF, NULL, AUDIT,
     NULL, NULL},
    /* customers */
    {"GET", "/v1/customer/requests", dsrd_customer_parts_list, DSR_AUTH_CUSTOMER, NULL,
     NO_ROLES},
    {"POST", "/v1/customer/requests/{part_id}/decision", dsrd_customer_decision,
     DSR_AUTH_CUSTOMER, dsrd_customer_decision_spec, NO_ROLES},
    {NULL, NULL, NULL, DSR_AUTH_NONE, NULL, NO_ROLES},
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

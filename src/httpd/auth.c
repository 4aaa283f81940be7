/**
 * @file auth.c
 * @brief Authentication and role checks for the dispatcher: staff API tokens
 *        and customer API keys (both bearer tokens, looked up by keyed hash),
 *        the route's allowed roles, and per-value role rules on a body field
 *        (which admin action may be taken by which role).
 */
#include "config.h"
#include "httpd.h"
#include "dsr/customers.h"
#include "dsr/log.h"
#include "dsr/rights.h"

#include <string.h>

bool dsr_dispatch_auth(struct dsr_hreq *r, enum MHD_Result *ret)
{
  if (r->route->auth == DSR_AUTH_STATUS_TOKEN)
    return true; /* checked by the handler against the request it names */
  struct dsr_db *db = dsr_db_acquire(r->app->pool);
  if (!db) {
    *ret = dsr_reply_problem(r, DSR_E_DB_UNAVAILABLE, NULL, NULL);
    return false;
  }
  enum dsr_ec ec = r->route->auth == DSR_AUTH_STAFF
                       ? dsr_staff_auth(db, r->bearer, r->staff_id, &r->role)
                   : r->route->auth == DSR_AUTH_SERVICE
                       ? dsr_service_auth(db, r->bearer, r->service_id)
                       : dsr_customer_auth(db, r->bearer, r->customer_id);
  dsr_db_release(db);
  if (ec != DSR_OK) {
    *ret = dsr_reply_problem(r, ec, ec == DSR_E_UNAUTHORIZED ? "unknown or revoked token" : NULL,
                             NULL);
    return false;
  }
  if (r->route->auth == DSR_AUTH_STAFF && !(r->route->roles & (unsigned)r->role)) {
    DSR_INFO("auth.forbidden", "rid=%s staff=%s role=%s route=%s", r->rid, r->staff_id,
             dsr_role_name(r->role), r->route->pattern);
    *ret = dsr_reply_problem(r, DSR_E_FORBIDDEN, NULL, NULL);
    return false;
  }
  return true;
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

bool dsr_dispatch_role_rules(struct dsr_hreq *r, enum MHD_Result *ret)
{
  if (r->route->auth != DSR_AUTH_STAFF || !r->route->role_field)
    return true;
  const char *value = json_string_value(json_object_get(r->json, r->route->role_field));
  if (dsr_role_allowed(r->route, r->role, value))
    return true;
  DSR_INFO("auth.forbidden", "rid=%s staff=%s role=%s route=%s", r->rid, r->staff_id,
           dsr_role_name(r->role), r->route->pattern);
  *ret = dsr_reply_problem(r, DSR_E_FORBIDDEN, NULL, NULL);
  return false;
}

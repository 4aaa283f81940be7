/**
 * @file dsrd_ui_common.c
 * @brief What every staff UI page shares: the layout context (signed-in
 *        user, navigation filtered by the routing table's roles, CSRF token)
 *        and the stylesheet. Whether a user may use a page or a form is
 *        always asked of the routing table (dsr_role_allowed), never decided
 *        here.
 */
#include "config.h"
#include "httpd.h"

#include <string.h>

bool dsrd_ui_may(const struct dsr_hreq *r, const char *method, const char *path,
                 const char *value)
{
  const char *args[DSR_MAX_PATH_ARGS];
  char argbuf[1024];
  bool known = false;
  const struct dsr_route *route =
      dsr_route_match(r->app->routes, method, path, args, argbuf, sizeof argbuf, &known);
  if (!route || route->auth != DSR_AUTH_UI)
    return false;
  return dsr_role_allowed(route, r->role, value);
}

static const struct {
  const char *href, *label;
  bool demo_only;
} nav_items[] = {
    {"/ui/", "Queue", false},
    {"/ui/customers", "Customers", false},
    {"/ui/staff", "Staff", false},
    {"/ui/report", "Compliance report", false},
    {"/ui/inbox", "Dev inbox", true},
};

enum MHD_Result dsrd_ui_page(struct dsr_hreq *r, unsigned int status, const char *name,
                             json_t *ctx)
{
  json_t *full = ctx ? json_copy(ctx) : json_object();
  json_t *nav = json_array();
  if (!full || !nav) {
    json_decref(full);
    json_decref(nav);
    return dsr_reply_problem(r, DSR_E_INTERNAL, NULL, NULL);
  }
  const char *current = json_string_value(json_object_get(full, "nav"));
  for (size_t i = 0; i < DSR_ARRAY_LEN(nav_items); i++) {
    if (nav_items[i].demo_only && !r->app->cfg->demo_mode)
      continue;
    if (!dsrd_ui_may(r, "GET", nav_items[i].href, NULL))
      continue;
    json_array_append_new(nav, json_pack("{s:s, s:s, s:b}", "href", nav_items[i].href, "label",
                                         nav_items[i].label, "current",
                                         current && !strcmp(current, nav_items[i].href)));
  }
  json_object_set_new(full, "nav_items", nav);
  json_object_set_new(full, "user",
                      json_pack("{s:s, s:s}", "name", r->staff_name, "role",
                                dsr_role_name(r->role)));
  json_object_set_new(full, "demo", json_boolean(r->app->cfg->demo_mode));
  enum MHD_Result ret = dsr_reply_html(r, status, name, full);
  json_decref(full);
  return ret;
}

enum MHD_Result dsrd_ui_css(struct dsr_hreq *r)
{
  return dsr_reply_asset(r, "ui.css", "text/css; charset=utf-8");
}

bool dsrd_url_param(struct dsr_buf *b, const char *name, const char *v)
{
  static const char hex[] = "0123456789ABCDEF";
  bool ok = dsr_buf_printf(b, "%s=", name);
  for (const unsigned char *p = (const unsigned char *)v; ok && *p; p++) {
    if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
        strchr("-._~", *p))
      ok = dsr_buf_append(b, p, 1);
    else
      ok = dsr_buf_printf(b, "%%%c%c", hex[*p >> 4], hex[*p & 15]);
  }
  return ok && dsr_buf_puts(b, "&");
}

bool dsrd_ui_local_path(const char *s, const char **why)
{
  *why = "is not a page of the staff UI";
  if (strncmp(s, "/ui/", 4) != 0 || strstr(s, "//") || strlen(s) > 1000)
    return false;
  for (const char *p = s; *p; p++)
    if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
          strchr("/-._~?=&%+", *p)))
      return false;
  return true;
}

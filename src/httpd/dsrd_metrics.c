/**
 * @file dsrd_metrics.c
 * @brief GET /metrics (Prometheus text format 0.0.4): for clients whose
 *        address is in metrics_allow, or that send metrics_token as a bearer
 *        token; everyone else gets the 404 of an unknown path.
 */
#include "config.h"
#include "httpd.h"
#include "dsr/metrics.h"

#include <sodium.h>
#include <string.h>
#include <strings.h>

/* True when the request carries "Authorization: Bearer <metrics_token>". */
static bool token_ok(struct dsr_hreq *r)
{
  const char *want = r->app->cfg->metrics_token;
  const char *h = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND,
                                              MHD_HTTP_HEADER_AUTHORIZATION);
  if (!want || !*want || !h || strncasecmp(h, "Bearer ", 7) != 0)
    return false;
  const char *got = h + 7;
  size_t n = strlen(want);
  return strlen(got) == n && sodium_memcmp(got, want, n) == 0;
}

enum MHD_Result dsrd_metrics(struct dsr_hreq *r)
{
  const struct dsr_config *cfg = r->app->cfg;
  if (!dsr_metrics_addr_allowed(cfg->metrics_allow, r->client) && !token_ok(r))
    return dsr_reply_problem(r, DSR_E_NOT_FOUND, NULL, NULL);
  struct dsr_metrics_env env = {.pool = r->app->pool,
                                .role = cfg->role,
                                .cache_seconds = cfg->metrics_cache_seconds,
                                .now = dsr_now()};
  char *text = dsr_metrics_render(&env);
  if (!text)
    return dsr_reply_problem(r, DSR_E_INTERNAL, NULL, NULL);
  return dsr_reply_document(r, 200, text, DSR_METRICS_CONTENT_TYPE);
}

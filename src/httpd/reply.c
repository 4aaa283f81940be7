/** @file reply.c @brief The one way to answer: JSON and RFC 9457 problems, with common headers. */
#include "config.h"
#include "httpd.h"
#include "dsr/log.h"
#include "dsr/metrics.h"
#include "dsr/template.h"
#include "dsr/util.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

/* Pages load only their own stylesheet; no script runs, no form posts elsewhere. */
#define PAGE_CSP                                                                              \
  "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "               \
  "base-uri 'none'; frame-ancestors 'none'"

#define CSP_NONE "default-src 'none'; frame-ancestors 'none'"

/* @p csp overrides the default policy (pages: PAGE_CSP, everything else: CSP_NONE). */
static void common_headers(struct dsr_hreq *r, struct MHD_Response *resp, const char *ctype,
                           const char *csp)
{
  MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
  MHD_add_response_header(resp, "X-Request-Id", r->rid);
  MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
  MHD_add_response_header(resp, "Cache-Control", "no-store");
  MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
  MHD_add_response_header(resp, "X-Frame-Options", "DENY");
  bool page = !strncmp(ctype, "text/html", 9);
  MHD_add_response_header(resp, "Content-Security-Policy",
                          csp ? csp : (page ? PAGE_CSP : CSP_NONE));
  if (page) {
    MHD_add_response_header(resp, "Cross-Origin-Opener-Policy", "same-origin");
    MHD_add_response_header(resp, "Cross-Origin-Resource-Policy", "same-origin");
    MHD_add_response_header(resp, "Permissions-Policy",
                            "camera=(), microphone=(), geolocation=(), interest-cohort=()");
  }
  for (int i = 0; i < r->ncookies; i++)
    MHD_add_response_header(resp, MHD_HTTP_HEADER_SET_COOKIE, r->set_cookie[i]);
  if (r->retry_after > 0) {
    char ra[24];
    snprintf(ra, sizeof ra, "%ld", r->retry_after);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, ra);
  }
}

void dsr_reply_idem_finish(struct dsr_hreq *r, unsigned int status, const char *text)
{
  r->idem_pending = false;
  struct dsr_db *db = dsr_db_acquire(r->app->pool);
  if (!db)
    return; /* the reservation goes stale and a retry takes it over */
  bool lost = false, retry = false;
  if (status >= 500 || !dsr_idem_store(db, &r->idem, status, text, dsr_now(), &lost, &retry))
    dsr_idem_release(db, &r->idem);
  dsr_db_release(db);
}

/*
 * Every reply goes out here. The figures of /metrics are taken when the answer is queued, not
 * when the connection finishes: a client that reads its answer and scrapes at once must see its
 * own request counted, and the completion callback may still be running on another thread.
 */
static enum MHD_Result queue(struct dsr_hreq *r, unsigned int status, struct MHD_Response *resp)
{
  enum MHD_Result ret = MHD_queue_response(r->conn, status, resp);
  MHD_destroy_response(resp);
  r->status = status;
  r->replied = true;
  dsr_reply_observe(r);
  return ret;
}

void dsr_reply_observe(struct dsr_hreq *r)
{
  if (r->observed)
    return;
  r->observed = true;
  dsr_metrics_http_observe(r->route ? r->route->pattern : NULL, r->method, r->status,
                           (dsr_mono_ms() - r->started_ms) / 1000.0);
}

static enum MHD_Result send_doc(struct dsr_hreq *r, unsigned int status, char *text,
                                const char *ctype, const char *allow, const char *www_auth,
                                const char *csp)
{
  if (r->idem_pending)
    dsr_reply_idem_finish(r, text ? status : 500, text ? text : "");
  if (!text)
    return MHD_NO; /* out of memory: closing the connection is all that is left */
  struct MHD_Response *resp =
      MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_FREE);
  if (!resp) {
    free(text);
    return MHD_NO;
  }
  common_headers(r, resp, ctype, csp);
  if (allow)
    MHD_add_response_header(resp, "Allow", allow);
  if (www_auth)
    MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE, www_auth);
  return queue(r, status, resp);
}

static enum MHD_Result send_text(struct dsr_hreq *r, unsigned int status, char *text,
                                 const char *ctype, const char *allow, const char *www_auth)
{
  return send_doc(r, status, text, ctype, allow, www_auth, NULL);
}

enum MHD_Result dsr_reply_document(struct dsr_hreq *r, unsigned int status, char *text,
                                   const char *ctype)
{
  /* Documents carry inline CSS (HTML reports) but never scripts or outside resources. */
  return send_doc(r, status, text, ctype, NULL, NULL,
                  "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'");
}

enum MHD_Result dsr_reply_json_text(struct dsr_hreq *r, unsigned int status, char *text)
{
  return send_text(r, status, text, "application/json; charset=utf-8", NULL, NULL);
}

enum MHD_Result dsr_reply_json(struct dsr_hreq *r, unsigned int status, json_t *body)
{
  return dsr_reply_json_text(r, status, json_dumps(body, JSON_COMPACT));
}

enum MHD_Result dsr_reply_kept(struct dsr_hreq *r, unsigned int status, json_t *body)
{
  char *text = json_dumps(body, JSON_COMPACT);
  return send_text(r, status, text,
                   status >= 400 ? "application/problem+json" : "application/json; charset=utf-8",
                   NULL, NULL);
}

enum MHD_Result dsr_reply_outcome(struct dsr_hreq *r, enum dsr_ec ec, json_t *body)
{
  enum MHD_Result ret = ec == DSR_OK ? dsr_reply_json(r, 200, body)
                                     : dsr_reply_problem(r, ec, NULL, NULL);
  json_decref(body);
  return ret;
}

json_t *dsr_problem_json(enum dsr_ec ec, const char *detail, const char *field)
{
  char type[128];
  /* A reference to the page dsrd serves for the code; replies make it absolute (below). */
  snprintf(type, sizeof type, "/errors/%s", dsr_ec_code(ec));
  json_t *p = json_pack("{s:s, s:s, s:i, s:s, s:s}", "type", type, "title", dsr_ec_title(ec),
                        "status", (int)dsr_ec_status(ec), "detail",
                        detail ? detail : dsr_ec_title(ec), "code", dsr_ec_code(ec));
  if (p && field && *field)
    json_object_set_new(p, "field", json_string(field));
  return p;
}

enum MHD_Result dsr_reply_problem(struct dsr_hreq *r, enum dsr_ec ec, const char *detail,
                                  const char *field)
{
  return dsr_reply_problem_x(r, ec, detail, field, NULL);
}

/* The HTML form of a problem, for page routes. */
static enum MHD_Result problem_page(struct dsr_hreq *r, enum dsr_ec ec, const char *detail,
                                    json_t *extra)
{
  json_t *ctx = json_pack("{s:s, s:s, s:i}", "title", dsr_ec_title(ec), "detail",
                          detail ? detail : dsr_ec_title(ec), "status", (int)dsr_ec_status(ec));
  if (ctx && extra)
    json_object_update(ctx, extra);
  enum MHD_Result ret = dsr_reply_html(r, dsr_ec_status(ec), "page_error.html", ctx);
  json_decref(ctx);
  return ret;
}

/* DRP routes answer errors in the protocol's own shape (section 3.06), as application/json. */
static enum MHD_Result drp_error(struct dsr_hreq *r, enum dsr_ec ec, const char *detail)
{
  unsigned int status = dsr_ec_status(ec);
  json_t *e = dsr_drp_error_json(status, detail ? detail : dsr_ec_title(ec), false);
  char *text = e ? json_dumps(e, JSON_COMPACT) : NULL;
  json_decref(e);
  char allow[64] = "";
  if (ec == DSR_E_METHOD_NOT_ALLOWED)
    dsr_route_allowed(r->app->routes, r->path, allow, sizeof allow);
  return send_text(r, status, text, "application/json; charset=utf-8", *allow ? allow : NULL,
                   ec == DSR_E_UNAUTHORIZED ? "Bearer" : NULL);
}

/*
 * Whether a request that matched no page route is a browser's: it asks for
 * text/html and not for JSON first (content negotiation; API clients get
 * problem+json). Only for "no such page" and "wrong method".
 */
static bool browser_wants_html(struct dsr_hreq *r, enum dsr_ec ec)
{
  if (ec != DSR_E_NOT_FOUND && ec != DSR_E_METHOD_NOT_ALLOWED)
    return false;
  if (r->route || !r->conn)
    return false;
  const char *a = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT);
  const char *html = a ? strstr(a, "text/html") : NULL;
  const char *json = a ? strstr(a, "json") : NULL;
  return html && (!json || json > html);
}

enum MHD_Result dsr_reply_problem_x(struct dsr_hreq *r, enum dsr_ec ec, const char *detail,
                                    const char *field, json_t *extra)
{
  if (r->route && r->route->drp) {
    json_decref(extra);
    return drp_error(r, ec, detail);
  }
  if ((r->route && r->route->html) || browser_wants_html(r, ec)) {
    enum MHD_Result ret = problem_page(r, ec, detail, extra);
    json_decref(extra);
    return ret;
  }
  json_t *p = dsr_problem_json(ec, detail, field);
  if (p && r->app && r->app->cfg) {
    /* Stable, documented type URIs: problem_base_url + code, else BASE_URL/errors/code. */
    const char *base = r->app->cfg->problem_base_url;
    char *type = base ? dsr_asprintf("%s%s", base, dsr_ec_code(ec))
                      : dsr_asprintf("%s/errors/%s", r->app->venv.link_base ? r->app->venv.link_base
                                                                           : "",
                                     dsr_ec_code(ec));
    if (type)
      json_object_set_new(p, "type", json_string(type));
    free(type);
  }
  if (p && extra)
    json_object_update_missing(p, extra);
  json_decref(extra);
  char *text = p ? json_dumps(p, JSON_COMPACT) : NULL;
  json_decref(p);
  char allow[64] = "";
  if (ec == DSR_E_METHOD_NOT_ALLOWED)
    dsr_route_allowed(r->app->routes, r->path, allow, sizeof allow);
  const char *www = ec == DSR_E_UNAUTHORIZED ? "Bearer" : NULL;
  return send_text(r, dsr_ec_status(ec), text, "application/problem+json", *allow ? allow : NULL,
                   www);
}

enum MHD_Result dsr_reply_html(struct dsr_hreq *r, unsigned int status, const char *name,
                               json_t *ctx)
{
  json_t *full = ctx ? json_copy(ctx) : json_object();
  if (!full)
    return MHD_NO;
  if (!json_object_get(full, "org"))
    json_object_set_new(full, "org", dsr_org_json(r->app->policy));
  if (!json_object_get(full, "csrf")) {
    char csrf[48];
    dsr_csrf_token(r, csrf, sizeof csrf);
    json_object_set_new(full, "csrf", json_string(csrf));
  }
  const char *lang = json_string_value(json_object_get(full, "lang"));
  if (!lang)
    json_object_set_new(full, "lang", json_string("en"));
  char *out = NULL;
  char err[256];
  bool ok = dsr_template_render(name, lang, full, &out, err, sizeof err);
  json_decref(full);
  if (!ok) {
    DSR_ERROR("http.template_failed", "rid=%s error=\"%s\"", r->rid, err);
    return send_text(r, 500, strdup("Internal error\n"), "text/plain; charset=utf-8", NULL,
                     NULL);
  }
  return send_text(r, status, out, "text/html; charset=utf-8", NULL, NULL);
}

enum MHD_Result dsr_reply_redirect(struct dsr_hreq *r, const char *location)
{
  struct MHD_Response *resp = MHD_create_response_from_buffer(0, "", MHD_RESPMEM_PERSISTENT);
  if (!resp)
    return MHD_NO;
  common_headers(r, resp, "text/html; charset=utf-8", NULL);
  MHD_add_response_header(resp, MHD_HTTP_HEADER_LOCATION, location);
  return queue(r, 303, resp);
}

enum MHD_Result dsr_reply_asset(struct dsr_hreq *r, const char *name, const char *ctype)
{
  const char *text = dsr_template_find(name, "en", NULL);
  if (!text)
    return dsr_reply_problem(r, DSR_E_NOT_FOUND, NULL, NULL);
  struct MHD_Response *resp =
      MHD_create_response_from_buffer(strlen(text), (void *)text, MHD_RESPMEM_PERSISTENT);
  if (!resp)
    return MHD_NO;
  common_headers(r, resp, ctype, NULL);
  MHD_del_response_header(resp, "Cache-Control", "no-store");
  MHD_add_response_header(resp, "Cache-Control", "public, max-age=3600");
  return queue(r, 200, resp);
}

enum MHD_Result dsr_reply_stream(struct dsr_hreq *r, unsigned int status,
                                 struct MHD_Response *resp, const char *ctype)
{
  bool cacheable = MHD_get_response_header(resp, "Cache-Control") != NULL;
  common_headers(r, resp, ctype, NULL);
  if (cacheable) /* the handler chose its own caching (restriction checks) */
    MHD_del_response_header(resp, "Cache-Control", "no-store");
  return queue(r, status, resp);
}

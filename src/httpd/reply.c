/** @file reply.c @brief The one way to answer: JSON and RFC 9457 problems, with common headers. */
#include "config.h"
#include "httpd.h"
#include "dsr/log.h"

#include <stdlib.h>
#include <string.h>

#define CSP_NONE "default-src 'none'; frame-ancestors 'none'"

static void common_headers(struct dsr_hreq *r, struct MHD_Response *resp, const char *ctype,
                           const char *csp)
{
  MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
  MHD_add_response_header(resp, "X-Request-Id", r->rid);
  MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
  MHD_add_response_header(resp, "Cache-Control", "no-store");
  MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
  MHD_add_response_header(resp, "X-Frame-Options", "DENY");
  MHD_add_response_header(resp, "Content-Security-Policy", csp ? csp : CSP_NONE);
}

static enum MHD_Result send_doc(struct dsr_hreq *r, unsigned int status, char *text,
                                const char *ctype, const char *allow, const char *www_auth,
                                const char *csp)
{
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
  enum MHD_Result ret = MHD_queue_response(r->conn, status, resp);
  MHD_destroy_response(resp);
  r->status = status;
  r->replied = true;
  return ret;
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

enum MHD_Result dsr_reply_json(struct dsr_hreq *r, unsigned int status, json_t *body)
{
  char *text = json_dumps(body, JSON_COMPACT);
  return send_text(r, status, text, "application/json; charset=utf-8", NULL, NULL);
}

json_t *dsr_problem_json(enum dsr_ec ec, const char *detail, const char *field)
{
  char type[128];
  snprintf(type, sizeof type, "https://dsrd.invalid/problems/%s", dsr_ec_code(ec));
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
  json_t *p = dsr_problem_json(ec, detail, field);
  char *text = p ? json_dumps(p, JSON_COMPACT) : NULL;
  json_decref(p);
  char allow[64] = "";
  if (ec == DSR_E_METHOD_NOT_ALLOWED)
    dsr_route_allowed(r->path, allow, sizeof allow);
  const char *www = ec == DSR_E_UNAUTHORIZED ? "Bearer" : NULL;
  return send_text(r, dsr_ec_status(ec), text, "application/problem+json", *allow ? allow : NULL,
                   www);
}

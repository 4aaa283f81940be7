/**
 * @file dsrd_openapi.c
 * @brief GET /openapi.json (the OpenAPI 3.1 document of every route,
 *        docs/openapi.json) and GET /errors/{code} (the page an error's
 *        type URI points at: what the code means and its HTTP status).
 */
#include "config.h"
#include "httpd.h"
#include "dsr/openapi.h"

#include <stdlib.h>
#include <string.h>

enum MHD_Result dsrd_openapi(struct dsr_hreq *r)
{
  char *text = strdup(dsr_openapi_doc[0].text);
  if (!text)
    return dsr_reply_problem(r, DSR_E_INTERNAL, NULL, NULL);
  return dsr_reply_document(r, 200, text, "application/json");
}

enum MHD_Result dsrd_error_page(struct dsr_hreq *r)
{
  for (int i = 0; i < DSR_EC_COUNT; i++) {
    enum dsr_ec ec = (enum dsr_ec)i;
    if (strcmp(dsr_ec_code(ec), r->args[0]))
      continue;
    char *title = dsr_asprintf("Error \"%s\" (HTTP %u)", dsr_ec_code(ec), dsr_ec_status(ec));
    char *detail = dsr_asprintf("%s. dsrd answers this code with HTTP status %u in an "
                                "application/problem+json document whose \"code\" is \"%s\"; "
                                "\"detail\" says more and \"field\", when present, names the "
                                "offending field as a JSON pointer. See dsrd(8).",
                                dsr_ec_title(ec), dsr_ec_status(ec), dsr_ec_code(ec));
    json_t *ctx = title && detail ? json_pack("{s:s, s:s}", "title", title, "detail", detail)
                                  : NULL;
    free(title);
    free(detail);
    if (!ctx)
      return dsr_reply_problem(r, DSR_E_INTERNAL, NULL, NULL);
    enum MHD_Result ret = dsr_reply_html(r, 200, "page_error.html", ctx);
    json_decref(ctx);
    return ret;
  }
  return dsr_reply_problem(r, DSR_E_NOT_FOUND, "no such error code", NULL);
}

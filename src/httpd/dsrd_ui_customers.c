/**
 * @file dsrd_ui_customers.c
 * @brief GET /ui/customers (endpoints and webhook delivery health) and
 *        POST /ui/customers/rotate (a new whsec_ secret, shown once on the
 *        answer page and never again; the old one keeps signing for
 *        webhook_secret_grace_hours).
 */
#include "config.h"
#include "httpd.h"
#include "dsr/customers.h"
#include "dsr/log.h"
#include "dsr/validate.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

const struct dsr_jspec dsrd_ui_rotate_form[] = {
    {.name = "customer", .type = DSR_JT_STRING, .required = true, .max_len = 200,
     .validate = dsr_valid_text},
    {0},
};

static enum MHD_Result customers_page(struct dsr_hreq *r, unsigned status, const char *name,
                                      const char *secret, const char *error)
{
  struct dsr_db *db = dsr_db_acquire(r->app->pool);
  if (!db)
    return dsr_reply_problem(r, DSR_E_DB_UNAVAILABLE, NULL, NULL);
  PGresult *q = dsr_db_exec(db, DSR_STMT_UI_CUSTOMERS, 0, NULL);
  dsr_db_release(db);
  if (!dsr_db_ok(q)) {
    PQclear(q);
    return dsr_reply_problem(r, DSR_E_DB_UNAVAILABLE, NULL, NULL);
  }
  json_t *list = json_array();
  for (int i = 0; i < PQntuples(q); i++) {
    long long failed = atoll(PQgetvalue(q, i, 6)), pending = atoll(PQgetvalue(q, i, 5));
    const char *health = strcmp(PQgetvalue(q, i, 3), "enabled") ? "disabled"
                         : failed ? "failing"
                         : pending ? "retrying"
                                   : "healthy";
    json_array_append_new(
        list, json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:I, s:s}", "id",
                        PQgetvalue(q, i, 0), "name", PQgetvalue(q, i, 1), "url",
                        PQgetvalue(q, i, 2), "status", PQgetvalue(q, i, 3), "health", health,
                        "delivered", (json_int_t)atoll(PQgetvalue(q, i, 4)), "pending",
                        (json_int_t)pending, "failed", (json_int_t)failed, "last",
                        PQgetvalue(q, i, 7)));
  }
  PQclear(q);
  json_t *ctx = json_pack("{s:s, s:s, s:o, s:b}", "title", "Customers", "nav", "/ui/customers",
                          "customers", list, "can_rotate",
                          dsrd_ui_may(r, "POST", "/ui/customers/rotate", NULL));
  if (ctx && secret)
    json_object_set_new(ctx, "rotated", json_pack("{s:s, s:s}", "name", name, "secret", secret));
  if (ctx && error)
    json_object_set_new(ctx, "error", json_string(error));
  enum MHD_Result ret = ctx ? dsrd_ui_page(r, status, "ui_customers.html", ctx)
                            : dsr_reply_problem(r, DSR_E_INTERNAL, NULL, NULL);
  json_decref(ctx);
  return ret;
}

enum MHD_Result dsrd_ui_customers(struct dsr_hreq *r)
{
  return customers_page(r, 200, NULL, NULL, NULL);
}

enum MHD_Result dsrd_ui_rotate(struct dsr_hreq *r)
{
  const char *name = dsr_json_str(r->json, "customer");
  if (r->input_invalid || !name)
    return customers_page(r, 400, NULL, NULL, "Choose a customer.");
  struct dsr_db *db = dsr_db_acquire(r->app->pool);
  if (!db)
    return dsr_reply_problem(r, DSR_E_DB_UNAVAILABLE, NULL, NULL);
  char *secret = NULL;
  enum dsr_ec ec =
      dsr_customer_rotate_secret(db, name, r->app->cfg->webhook_secret_grace_hours, &secret);
  dsr_db_release(db);
  enum MHD_Result ret;
  if (ec == DSR_OK) {
    DSR_INFO("ui.customer_secret_rotated", "rid=%s staff=%s", r->rid, r->staff_id);
    ret = customers_page(r, 200, name, secret, NULL);
  } else if (ec == DSR_E_NOT_FOUND) {
    ret = customers_page(r, 404, NULL, NULL, "There is no such customer.");
  } else {
    ret = dsr_reply_problem(r, ec, NULL, NULL);
  }
  if (secret) {
    sodium_memzero(secret, strlen(secret));
    free(secret);
  }
  return ret;
}

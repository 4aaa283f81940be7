/**
 * @file dsrd_ui_customers.c
 * @brief The customers in the staff UI. GET /ui/customers: every customer
 *        with its tenant, endpoint, delivery health and open parts (a link to
 *        the queue filtered by it); admins add one (its API key and whsec_
 *        secret shown once). GET /ui/customers/{id}: the customer, its
 *        delivery history filtered by state and event, and, for admins, the
 *        forms to change the endpoint, disable or enable it, rotate its
 *        secret or API key and send failed messages again (one or all).
 *        Every change is audited (customer.* events, staff/customer_admin.c);
 *        new secrets appear on the answer page only, never again.
 */
#include "config.h"
#include "httpd.h"
#include "dsr/customer_admin.h"
#include "dsr/customers.h"
#include "dsr/log.h"
#include "dsr/validate.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const rotate_what[] = {"secret", "key", NULL};
static const char *const statuses[] = {"enabled", "disabled", NULL};
static const char *const msg_states[] = {"pending", "delivered", "failed", "cancelled", NULL};
static const char *const msg_events[] = {"dsr.forwarded", "dsr.updated", "dsr.completed", NULL};

const struct dsr_jspec dsrd_ui_rotate_form[] = {
    {.name = "customer", .type = DSR_JT_STRING, .required = true, .max_len = 200,
     .validate = dsr_valid_text},
    {.name = "what", .type = DSR_JT_STRING, .max_len = 8, .one_of = rotate_what},
    {0},
};

const struct dsr_jspec dsrd_ui_customer_add_form[] = {
    {.name = "name", .type = DSR_JT_STRING, .required = true, .max_len = 200,
     .validate = dsr_valid_text},
    {.name = "tenant", .type = DSR_JT_STRING, .required = true, .max_len = 200,
     .validate = dsr_valid_text},
    {.name = "webhook_url", .type = DSR_JT_STRING, .required = true, .max_len = 2000,
     .validate = dsr_valid_text},
    {0},
};

const struct dsr_jspec dsrd_ui_customer_endpoint_form[] = {
    {.name = "webhook_url", .type = DSR_JT_STRING, .required = true, .max_len = 2000,
     .validate = dsr_valid_text},
    {0},
};

const struct dsr_jspec dsrd_ui_customer_status_form[] = {
    {.name = "status", .type = DSR_JT_STRING, .required = true, .max_len = 8, .one_of = statuses},
    {0},
};

static bool digits_only(const char *s, const char **why)
{
  *why = "is not a message number";
  if (!*s || strlen(s) > 18)
    return false;
  for (; *s; s++)
    if (*s < '0' || *s > '9')
      return false;
  return true;
}

const struct dsr_jspec dsrd_ui_customer_replay_form[] = {
    {.name = "outbox_id", .type = DSR_JT_STRING, .max_len = 18, .validate = digits_only},
    {0},
};

static json_t *open_parts(struct dsr_db *db)
{
  json_t *o = json_object();
  PGresult *q = dsr_db_exec(db, DSR_STMT_UI_CUSTOMER_OPEN_PARTS, 0, NULL);
  for (int i = 0; dsr_db_ok(q) && i < PQntuples(q); i++)
    json_object_set_new(o, PQgetvalue(q, i, 0), json_integer(atoll(PQgetvalue(q, i, 1))));
  PQclear(q);
  return o;
}

/* The list page; @p shown: a new secret or key to show once ({"name", "secret"?, "key"?}). */
static enum MHD_Result customers_page(struct dsr_hreq *r, unsigned status, json_t *shown,
                                      const char *error)
{
  struct dsr_db *db = dsr_db_acquire(r->app->pool);
  if (!db) {
    json_decref(shown);
    return dsr_reply_problem(r, DSR_E_DB_UNAVAILABLE, NULL, NULL);
  }
  PGresult *q = dsr_db_exec(db, DSR_STMT_UI_CUSTOMERS, 0, NULL);
  json_t *open = open_parts(db);
  dsr_db_release(db);
  if (!dsr_db_ok(q)) {
    PQclear(q);
    json_decref(open);
    json_decref(shown);
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
        list, json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:I, s:s, s:s, s:I}", "id",
                        PQgetvalue(q, i, 0), "name", PQgetvalue(q, i, 1), "url",
                        PQgetvalue(q, i, 2), "status", PQgetvalue(q, i, 3), "health", health,
                        "delivered", (json_int_t)atoll(PQgetvalue(q, i, 4)), "pending",
                        (json_int_t)pending, "failed", (json_int_t)failed, "last",
                        PQgetvalue(q, i, 7), "tenant", PQgetvalue(q, i, 8), "open",
                        json_integer_value(json_object_get(open, PQgetvalue(q, i, 0)))));
  }
  PQclear(q);
  json_decref(open);
  json_t *ctx = json_pack("{s:s, s:s, s:o, s:b, s:b}", "title", "Customers", "nav",
                          "/ui/customers", "customers", list, "can_rotate",
                          dsrd_ui_may(r, "POST", "/ui/customers/rotate", NULL), "can_add",
                          dsrd_ui_may(r, "POST", "/ui/customers/add", NULL));
  if (ctx && shown)
    json_object_set(ctx, "rotated", shown);
  if (ctx && error)
    json_object_set_new(ctx, "error", json_string(error));
  json_decref(shown);
  enum MHD_Result ret = ctx ? dsrd_ui_page(r, status, "ui_customers.html", ctx)
                            : dsr_reply_problem(r, DSR_E_INTERNAL, NULL, NULL);
  json_decref(ctx);
  return ret;
}

enum MHD_Result dsrd_ui_customers(struct dsr_hreq *r)
{
  return customers_page(r, 200, NULL, NULL);
}

/* A secret's only clear copy: into the page context, then wiped. */
static void show_once(json_t *shown, const char *key, char **secret)
{
  if (*secret) {
    json_object_set_new(shown, key, json_string(*secret));
    sodium_memzero(*secret, strlen(*secret));
    free(*secret);
    *secret = NULL;
  }
}

enum MHD_Result dsrd_ui_rotate(struct dsr_hreq *r)
{
  const char *name = dsr_json_str(r->json, "customer");
  const char *what = dsr_json_str(r->json, "what");
  if (r->input_invalid || !name)
    return customers_page(r, 400, NULL, "Choose a customer.");
  bool key = what && !strcmp(what, "key");
  struct dsr_db *db = dsr_db_acquire(r->app->pool);
  if (!db)
    return dsr_reply_problem(r, DSR_E_DB_UNAVAILABLE, NULL, NULL);
  char *secret = NULL, actor[64];
  snprintf(actor, sizeof actor, "staff:%s", r->staff_id);
  enum dsr_ec ec = key ? dsr_customer_rotate_key(db, actor, name, &secret)
                       : dsr_customer_rotate_secret(db, actor, name,
                                                    r->app->cfg->webhook_secret_grace_hours,
                                                    &secret);
  dsr_db_release(db);
  enum MHD_Result ret;
  if (ec == DSR_OK) {
    DSR_INFO(key ? "ui.customer_key_rotated" : "ui.customer_secret_rotated", "rid=%s staff=%s",
             r->rid, r->staff_id);
    json_t *shown = json_pack("{s:s}", "name", name);
    show_once(shown, key ? "key" : "secret", &secret);
    ret = customers_page(r, 200, shown, NULL);
  } else if (ec == DSR_E_NOT_FOUND) {
    ret = customers_page(r, 404, NULL, "There is no such customer.");
  } else {
    ret = dsr_reply_problem(r, ec, NULL, NULL);
  }
  if (secret) {
    sodium_memzero(secret, strlen(secret));
    free(secret);
  }
  return ret;
}

enum MHD_Result dsrd_ui_customer_add(struct dsr_hreq *r)
{
  const char *name = dsr_json_str(r->json, "name"), *tenant = dsr_json_str(r->json, "tenant"),
             *url = dsr_json_str(r->json, "webhook_url");
  if (r->input_invalid || !name || !tenant || !url)
    return customers_page(r, 400, NULL,
                          r->input_invalid ? r->input_err.detail
                                           : "Give the name, the tenant and the webhook URL.");
  struct dsr_webhook_opts o;
  dsr_webhook_opts_from_config(&o, r->app->cfg);
  struct dsr_db *db = dsr_db_acquire(r->app->pool);
  if (!db)
    return dsr_reply_problem(r, DSR_E_DB_UNAVAILABLE, NULL, NULL);
  char id[40] = "", why[200] = "", actor[64];
  char *key = NULL, *whsec = NULL;
  snprintf(actor, sizeof actor, "staff:%s", r->staff_id);
  enum dsr_ec ec =
      dsr_customer_add(db, &o, actor, name, tenant, url, id, &key, &whsec, why, sizeof why);
  dsr_db_release(db);
  if (ec == DSR_E_FIELD_INVALID || ec == DSR_E_CONFLICT)
    return customers_page(r, dsr_ec_status(ec), NULL, why[0] ? why : dsr_ec_title(ec));
  if (ec != DSR_OK)
    return dsr_reply_problem(r, ec, NULL, NULL);
  DSR_INFO("ui.customer_added", "rid=%s staff=%s customer=%s", r->rid, r->staff_id, id);
  json_t *shown = json_pack("{s:s, s:b}", "name", name, "added", 1);
  show_once(shown, "key", &key);
  show_once(shown, "secret", &whsec);
  return customers_page(r, 200, shown, NULL);
}

/* The customer page: details, forms, delivery history (filters from the query). */
static enum MHD_Result customer_page(struct dsr_hreq *r, unsigned status, const char *notice,
                                     const char *error)
{
  const char *state = MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, "state");
  const char *event = MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, "event");
  state = state && *state ? state : NULL;
  event = event && *event ? event : NULL;
  bool known_state = !state, known_event = !event;
  for (const char *const *p = msg_states; state && *p; p++)
    known_state = known_state || !strcmp(*p, state);
  for (const char *const *p = msg_events; event && *p; p++)
    known_event = known_event || !strcmp(*p, event);
  if (!known_state || !known_event)
    return dsr_reply_problem(r, DSR_E_FIELD_INVALID, "A filter has a value this page does not know.",
                             known_state ? "event" : "state");
  const char *why;
  if (!dsr_valid_uuid(r->args[0], &why))
    return dsr_reply_problem(r, DSR_E_NOT_FOUND, NULL, NULL);
  struct dsr_db *db = dsr_db_acquire(r->app->pool);
  if (!db)
    return dsr_reply_problem(r, DSR_E_DB_UNAVAILABLE, NULL, NULL);
  const char *v[] = {r->args[0]};
  PGresult *q = dsr_db_exec(db, DSR_STMT_UI_CUSTOMER_GET, 1, v);
  json_t *history = dsr_db_ok(q) ? dsr_customer_history(db, r->args[0], state, event) : NULL;
  json_t *open = open_parts(db);
  dsr_db_release(db);
  if (!dsr_db_ok(q) || !history || PQntuples(q) != 1) {
    enum dsr_ec ec = dsr_db_ok(q) && history ? DSR_E_NOT_FOUND : DSR_E_DB_UNAVAILABLE;
    PQclear(q);
    json_decref(history);
    json_decref(open);
    return dsr_reply_problem(r, ec, NULL, NULL);
  }
  char path[128];
  snprintf(path, sizeof path, "/ui/customers/%s/status", r->args[0]);
  json_t *states = json_array(), *events = json_array();
  for (const char *const *p = msg_states; *p; p++)
    json_array_append_new(states, json_pack("{s:s, s:b}", "value", *p, "selected",
                                            state && !strcmp(state, *p)));
  for (const char *const *p = msg_events; *p; p++)
    json_array_append_new(events, json_pack("{s:s, s:b}", "value", *p, "selected",
                                            event && !strcmp(event, *p)));
  bool any_failed = false;
  size_t i;
  json_t *m;
  json_array_foreach(history, i, m)
    any_failed = any_failed || json_is_true(json_object_get(m, "failed"));
  json_t *ctx = json_pack(
      "{s:s, s:s, s:{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:I}, s:o, s:o, s:o, s:b, s:b}", "title",
      "Customer", "nav", "/ui/customers", "c", "id", PQgetvalue(q, 0, 0), "name",
      PQgetvalue(q, 0, 1), "tenant", PQgetvalue(q, 0, 2), "url", PQgetvalue(q, 0, 3), "status",
      PQgetvalue(q, 0, 4), "disabled_reason", PQgetvalue(q, 0, 5), "created_at",
      PQgetvalue(q, 0, 6), "open", json_integer_value(json_object_get(open, r->args[0])),
      "messages", history, "states", states, "events", events, "can_manage",
      dsrd_ui_may(r, "POST", path, NULL), "any_failed", any_failed);
  PQclear(q);
  json_decref(open);
  if (ctx && notice)
    json_object_set_new(ctx, "notice", json_string(notice));
  if (ctx && error)
    json_object_set_new(ctx, "error", json_string(error));
  if (ctx)
    json_object_set_new(ctx, "enabled",
                        json_boolean(!strcmp(json_string_value(json_object_get(
                                                 json_object_get(ctx, "c"), "status")),
                                             "enabled")));
  enum MHD_Result ret = ctx ? dsrd_ui_page(r, status, "ui_customer.html", ctx)
                            : dsr_reply_problem(r, DSR_E_INTERNAL, NULL, NULL);
  json_decref(ctx);
  return ret;
}

static const struct {
  const char *done, *notice;
} customer_notes[] = {
    {"endpoint", "The endpoint is changed."},
    {"enabled", "The customer is enabled: waiting messages go out now."},
    {"disabled", "The customer is disabled: messages wait until it is enabled again."},
    {"replayed", "The failed messages are sent again."},
    {"nothing", "There was no failed message to send again."},
};

enum MHD_Result dsrd_ui_customer(struct dsr_hreq *r)
{
  const char *done = MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, "done");
  const char *notice = NULL;
  for (size_t i = 0; done && i < DSR_ARRAY_LEN(customer_notes); i++)
    if (!strcmp(done, customer_notes[i].done))
      notice = customer_notes[i].notice;
  return customer_page(r, 200, notice, NULL);
}

static enum MHD_Result back_to_customer(struct dsr_hreq *r, const char *done)
{
  char location[160];
  snprintf(location, sizeof location, "/ui/customers/%s?done=%s", r->args[0], done);
  return dsr_reply_redirect(r, location);
}

enum MHD_Result dsrd_ui_customer_change(struct dsr_hreq *r)
{
  if (r->input_invalid)
    return customer_page(r, 400, NULL, r->input_err.detail);
  const char *last = strrchr(r->path, '/');
  struct dsr_db *db = dsr_db_acquire(r->app->pool);
  if (!db)
    return dsr_reply_problem(r, DSR_E_DB_UNAVAILABLE, NULL, NULL);
  enum dsr_ec ec;
  char why[200] = "";
  const char *done;
  int n = 0;
  if (!strcmp(last, "/endpoint")) {
    struct dsr_webhook_opts o;
    dsr_webhook_opts_from_config(&o, r->app->cfg);
    ec = dsr_customer_set_endpoint(db, &o, r->staff_id, r->args[0],
                                   dsr_json_str(r->json, "webhook_url"), why, sizeof why);
    done = "endpoint";
  } else if (!strcmp(last, "/status")) {
    bool on = !strcmp(dsr_json_str(r->json, "status"), "enabled");
    ec = dsr_customer_set_enabled(db, r->staff_id, r->args[0], on);
    done = on ? "enabled" : "disabled";
    if (ec == DSR_E_CONFLICT)
      dsr_strlcpy(why, on ? "The customer is enabled already." : "The customer is disabled already.",
                  sizeof why);
  } else {
    ec = dsr_customer_replay(db, r->staff_id, r->args[0], dsr_json_str(r->json, "outbox_id"), &n);
    done = n > 0 ? "replayed" : "nothing";
  }
  dsr_db_release(db);
  if (ec == DSR_OK) {
    DSR_INFO("ui.customer_changed", "rid=%s staff=%s customer=%s change=%s n=%d", r->rid,
             r->staff_id, r->args[0], done, n);
    return back_to_customer(r, done);
  }
  if (ec == DSR_E_FIELD_INVALID || ec == DSR_E_CONFLICT)
    return customer_page(r, dsr_ec_status(ec), NULL, why[0] ? why : dsr_ec_title(ec));
  return dsr_reply_problem(r, ec, NULL, NULL);
}

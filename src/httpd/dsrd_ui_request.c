/**
 * @file dsrd_ui_request.c
 * @brief One request in the staff UI: GET /ui/requests/{id} (status,
 *        verification, masked identities, parts with customer forwarding and
 *        delivery attempts, discovery summary, receipt, timeline and the
 *        action forms the user's role may use), GET /ui/requests/{id}/plan
 *        (the dry-run plan) and POST /ui/requests/{id}/actions, which calls
 *        dsr_admin_act() exactly as the admin JSON API does.
 */
#include "config.h"
#include "httpd.h"
#include "dsr/requests.h"
#include "dsr/admin.h"
#include "dsr/executor.h"
#include "dsr/validate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const struct dsr_jspec dsrd_ui_action_form[] = {
    {.name = "action", .type = DSR_JT_STRING, .required = true, .max_len = 16,
     .one_of = dsr_admin_actions},
    {.name = "reason", .type = DSR_JT_STRING, .max_len = 1000, .validate = dsr_valid_text},
    {.name = "note", .type = DSR_JT_STRING, .max_len = 2000, .validate = dsr_valid_text},
    {.name = "part_id", .type = DSR_JT_STRING, .max_len = 36, .validate = dsr_valid_uuid},
    {.name = "assignee", .type = DSR_JT_STRING, .max_len = 128, .validate = dsr_valid_text},
    {.name = "identity", .type = DSR_JT_STRING, .max_len = 16, .one_of = dsr_admin_identity_kinds},
    {0},
};

static bool is(const json_t *o, const char *key, const char *v)
{
  const char *s = json_string_value(json_object_get(o, key));
  return s && !strcmp(s, v);
}

/* Delivery attempts of the request's customer parts, grouped per part id. */
static bool add_deliveries(struct dsr_db *db, json_t *detail)
{
  const char *v[] = {json_string_value(json_object_get(detail, "id"))};
  PGresult *q = dsr_db_exec(db, DSR_STMT_UI_PART_DELIVERIES, 1, v);
  if (!dsr_db_ok(q)) {
    PQclear(q);
    return false;
  }
  size_t i;
  json_t *part;
  json_array_foreach(json_object_get(detail, "parts"), i, part)
  {
    json_t *list = json_array();
    for (int k = 0; k < PQntuples(q); k++) {
      if (!is(part, "id", PQgetvalue(q, k, 0)))
        continue;
      json_array_append_new(
          list, json_pack("{s:s, s:s, s:s, s:s, s:s}", "event", PQgetvalue(q, k, 1), "state",
                          PQgetvalue(q, k, 2), "at", PQgetvalue(q, k, 4), "status",
                          PQgetvalue(q, k, 5), "error", PQgetvalue(q, k, 6)));
    }
    json_object_set_new(part, "deliveries", list);
  }
  PQclear(q);
  return true;
}

/* What the page offers: by the request's state, and by the routing table's role rules. */
static void add_actions(struct dsr_hreq *r, json_t *ctx, const json_t *d)
{
  char path[128];
  snprintf(path, sizeof path, "/ui/requests/%s/actions", r->args[0]);
  const char *status = json_string_value(json_object_get(d, "status"));
  bool open = status && (!strcmp(status, "received") || !strcmp(status, "pending_verification") ||
                         !strcmp(status, "verified") || !strcmp(status, "in_progress") ||
                         !strcmp(status, "on_hold"));
  bool waiting = false;
  size_t i;
  const json_t *p;
  json_array_foreach(json_object_get(d, "parts"), i, p)
    waiting = waiting || is(p, "state", "pending") || is(p, "state", "escalated");
  struct {
    const char *action;
    bool applies;
  } acts[] = {
      {"verify", status && (!strcmp(status, "received") || !strcmp(status, "pending_verification"))},
      {"approve", waiting},
      {"deny", open && strcmp(status, "on_hold") != 0},
      {"extend", open && json_is_null(json_object_get(d, "extended_at"))},
      {"hold", open && strcmp(status, "on_hold") != 0},
      {"release", status && !strcmp(status, "on_hold")},
      {"assign", open},
  };
  json_t *can = json_object();
  bool any = false;
  for (size_t k = 0; k < DSR_ARRAY_LEN(acts); k++) {
    bool ok = acts[k].applies && dsrd_ui_may(r, "POST", path, acts[k].action);
    json_object_set_new(can, acts[k].action, json_boolean(ok));
    any = any || ok;
  }
  /* Identities a verified request gave but nobody verified: staff may verify each by hand. */
  bool split = status && (!strcmp(status, "verified") || !strcmp(status, "in_progress") ||
                          !strcmp(status, "on_hold"));
  json_t *unverified = json_array();
  const json_t *id;
  json_array_foreach(json_object_get(d, "identities"), i, id)
  {
    const char *kind = json_string_value(json_object_get(id, "kind"));
    if (split && kind && !json_is_true(json_object_get(id, "verified")) &&
        strcmp(kind, "name") != 0 && dsrd_ui_may(r, "POST", path, "verify")) {
      json_array_append_new(unverified, json_string(kind));
      any = true;
    }
  }
  json_object_set_new(ctx, "verify_identities", unverified);
  json_object_set_new(ctx, "can", can);
  json_object_set_new(ctx, "can_act", json_boolean(any));
  json_t *reasons = json_array();
  for (const char *const *c = dsr_deny_reasons; *c; c++)
    json_array_append_new(reasons, json_string(*c));
  json_object_set_new(ctx, "deny_reasons", reasons);
}

/* Discovery summary and the receipt, read from the parts and the timeline. */
static void add_summary(json_t *ctx, const json_t *d)
{
  long long rows = 0, customers = 0;
  size_t i;
  const json_t *p;
  json_array_foreach(json_object_get(d, "parts"), i, p)
  {
    rows += json_integer_value(json_object_get(p, "rows"));
    customers += is(p, "owner", "customer");
  }
  json_object_set_new(ctx, "summary",
                      json_pack("{s:I, s:I, s:I}", "parts",
                                (json_int_t)json_array_size(json_object_get(d, "parts")), "rows",
                                (json_int_t)rows, "customers", (json_int_t)customers));
  const json_t *e;
  json_array_foreach(json_object_get(d, "timeline"), i, e)
  {
    if (is(e, "kind", "erasure.receipt")) {
      json_t *data = json_object_get(e, "data");
      json_object_set_new(ctx, "receipt",
                          json_pack("{s:s, s:s}", "at", json_string_value(json_object_get(e, "at")),
                                    "text", ""));
      char *text = json_dumps(data, JSON_INDENT(2) | JSON_SORT_KEYS);
      if (text)
        json_object_set_new(json_object_get(ctx, "receipt"), "text", json_string(text));
      free(text);
    }
  }
  /* Event data rendered as compact JSON for the timeline table (no identities in events). */
  json_array_foreach(json_object_get(d, "timeline"), i, e)
  {
    char *text = json_dumps(json_object_get(e, "data"), JSON_COMPACT | JSON_SORT_KEYS);
    json_object_set_new((json_t *)e, "data_text",
                        json_string(text && strcmp(text, "{}") ? text : ""));
    free(text);
  }
}

static enum MHD_Result detail_page(struct dsr_hreq *r, unsigned status, const char *notice,
                                   const char *error)
{
  struct dsr_db *db = dsr_db_acquire(r->app->pool);
  if (!db)
    return dsr_reply_problem(r, DSR_E_DB_UNAVAILABLE, NULL, NULL);
  json_t *d = NULL;
  json_t *residual = NULL; /* files an erasure could not remove (ids, stores, reasons) */
  enum dsr_ec ec = dsr_admin_detail(db, r->args[0], &d);
  if (ec == DSR_OK && !add_deliveries(db, d))
    ec = DSR_E_DB_UNAVAILABLE;
  if (ec == DSR_OK && !dsr_request_details_add(db, r->args[0], d)) /* the subject's words */
    ec = DSR_E_DB_UNAVAILABLE;
  if (ec == DSR_OK && !(residual = dsr_files_residual_of_request(db, r->args[0])))
    ec = DSR_E_DB_UNAVAILABLE;
  dsr_db_release(db);
  if (ec != DSR_OK) {
    json_decref(d);
    return dsr_reply_problem(r, ec, NULL, NULL);
  }
  json_t *ctx = json_pack("{s:s, s:s, s:O}", "title", "Request", "nav", "/ui/", "r", d);
  if (ctx) {
    add_actions(r, ctx, d);
    add_summary(ctx, d);
    json_object_set_new(ctx, "has_residual", json_boolean(json_array_size(residual) > 0));
    json_object_set(ctx, "residual_files", residual);
    if (notice)
      json_object_set_new(ctx, "notice", json_string(notice));
    if (error)
      json_object_set_new(ctx, "error", json_string(error));
  }
  json_decref(d);
  json_decref(residual);
  enum MHD_Result ret = ctx ? dsrd_ui_page(r, status, "ui_request.html", ctx)
                            : dsr_reply_problem(r, DSR_E_INTERNAL, NULL, NULL);
  json_decref(ctx);
  return ret;
}

static const struct {
  const char *action, *done;
} done_notes[] = {
    {"verify", "The request is verified."},   {"approve", "Approved."},
    {"deny", "The request is denied."},       {"extend", "The deadline is extended."},
    {"hold", "The request is on hold."},      {"release", "The hold is released."},
    {"assign", "The request is assigned."},
};

enum MHD_Result dsrd_ui_request(struct dsr_hreq *r)
{
  const char *done = MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, "done");
  const char *notice = NULL;
  for (size_t i = 0; done && i < DSR_ARRAY_LEN(done_notes); i++)
    if (!strcmp(done, done_notes[i].action))
      notice = done_notes[i].done;
  return detail_page(r, 200, notice, NULL);
}

enum MHD_Result dsrd_ui_act(struct dsr_hreq *r)
{
  if (r->input_invalid)
    return detail_page(r, 400, NULL, r->input_err.detail);
  struct dsr_admin_action a = dsr_admin_action_of(r->json);
  struct dsr_db *db = dsr_db_acquire(r->app->pool);
  if (!db)
    return dsr_reply_problem(r, DSR_E_DB_UNAVAILABLE, NULL, NULL);
  json_t *reply = NULL;
  char detail[256] = "";
  const char *field = NULL;
  enum dsr_ec ec = dsr_admin_act(db, r->app->policy, r->staff_id, r->args[0], &a, &reply,
                                 detail, sizeof detail, &field);
  dsr_db_release(db);
  json_decref(reply);
  if (ec == DSR_E_NOT_FOUND || ec == DSR_E_DB_UNAVAILABLE || ec == DSR_E_INTERNAL)
    return dsr_reply_problem(r, ec, NULL, NULL);
  if (ec != DSR_OK)
    return detail_page(r, dsr_ec_status(ec), NULL, detail[0] ? detail : dsr_ec_title(ec));
  char location[160];
  snprintf(location, sizeof location, "/ui/requests/%s?done=%s", r->args[0], a.action);
  return dsr_reply_redirect(r, location);
}

enum MHD_Result dsrd_ui_plan(struct dsr_hreq *r)
{
  struct dsr_db *db = dsr_db_acquire(r->app->pool);
  if (!db)
    return dsr_reply_problem(r, DSR_E_DB_UNAVAILABLE, NULL, NULL);
  json_t *plan = NULL;
  enum dsr_ec ec = dsr_admin_plan(db, r->app->policy, r->args[0], &plan);
  dsr_db_release(db);
  if (ec == DSR_E_NOT_FOUND || ec == DSR_E_DB_UNAVAILABLE)
    return dsr_reply_problem(r, ec, NULL, NULL);
  json_t *ctx = json_pack("{s:s, s:s, s:s}", "title", "Plan preview", "nav", "/ui/", "id",
                          r->args[0]);
  if (ctx && ec == DSR_OK) {
    json_object_set(ctx, "p", plan);
    size_t i;
    json_t *part;
    json_array_foreach(json_object_get(json_object_get(plan, "plan"), "parts"), i, part)
    {
      size_t k;
      json_t *step;
      json_array_foreach(json_object_get(part, "steps"), k, step)
      {
        char *m = json_object_get(step, "masked")
                      ? json_dumps(json_object_get(step, "masked"), JSON_COMPACT | JSON_SORT_KEYS)
                      : NULL;
        if (m)
          json_object_set_new(step, "masked_text", json_string(m));
        free(m);
      }
    }
  } else if (ctx) {
    json_object_set_new(ctx, "unavailable", json_string(dsr_ec_title(ec)));
  }
  json_decref(plan);
  enum MHD_Result ret = ctx ? dsrd_ui_page(r, 200, "ui_plan.html", ctx)
                            : dsr_reply_problem(r, DSR_E_INTERNAL, NULL, NULL);
  json_decref(ctx);
  return ret;
}

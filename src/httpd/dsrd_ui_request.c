/**
 * @file dsrd_ui_request.c
 * @brief One request in the staff UI: GET /ui/requests/{id} (status,
 *        verification, masked identities, parts with customer forwarding and
 *        delivery attempts, discovery summary, receipts as tables, the
 *        timeline in words with the actors' names, and the action forms the
 *        user's role and the request's state allow), GET
 *        /ui/requests/{id}/plan (the dry-run plan) and POST
 *        /ui/requests/{id}/actions, which calls dsr_admin_act() exactly as
 *        the admin JSON API does. Approve, deny and extend first answer a
 *        confirmation step that says what will happen; only the confirmed
 *        form (confirm=yes) acts.
 */
#include "config.h"
#include "httpd.h"
#include "dsr/requests.h"
#include "dsr/admin.h"
#include "dsr/executor.h"
#include "dsr/verify.h"
#include "dsr/validate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const confirm_values[] = {"yes", NULL};

const struct dsr_jspec dsrd_ui_note_form[] = {
    {.name = "note", .type = DSR_JT_STRING, .required = true, .max_len = 4000,
     .validate = dsr_valid_text},
    {0},
};

const struct dsr_jspec dsrd_ui_action_form[] = {
    {.name = "action", .type = DSR_JT_STRING, .required = true, .max_len = 16,
     .one_of = dsr_admin_actions},
    {.name = "reason", .type = DSR_JT_STRING, .max_len = 1000, .validate = dsr_valid_text},
    {.name = "note", .type = DSR_JT_STRING, .max_len = 2000, .validate = dsr_valid_text},
    {.name = "part_id", .type = DSR_JT_STRING, .max_len = 36, .validate = dsr_valid_uuid},
    {.name = "assignee", .type = DSR_JT_STRING, .max_len = 128, .validate = dsr_valid_text},
    {.name = "identity", .type = DSR_JT_STRING, .max_len = 16, .one_of = dsr_admin_identity_kinds},
    {.name = "confirm", .type = DSR_JT_STRING, .max_len = 3, .one_of = confirm_values},
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
  /* Before verification: what the policy allows (dsr_admin_act asks the same question). */
  const struct dsr_policy *pol = r->app->policy;
  bool before =
      status && (!strcmp(status, "received") || !strcmp(status, "pending_verification"));
  bool any_deny = !before || dsr_verify_allows_before(pol, "deny", NULL);
  struct {
    const char *action;
    bool applies;
  } acts[] = {
      {"verify", before && dsr_verify_allows_before(pol, "verify", NULL)},
      {"approve", waiting && (!before || dsr_verify_allows_before(pol, "approve", NULL))},
      {"deny", open && strcmp(status, "on_hold") != 0 &&
                   (any_deny || dsr_verify_allows_before(pol, "deny_unverifiable", NULL))},
      {"extend", open && (!before || dsr_verify_allows_before(pol, "extend", NULL)) &&
                     json_is_null(json_object_get(d, "extended_at"))},
      {"hold", open && (!before || dsr_verify_allows_before(pol, "hold", NULL)) &&
                   strcmp(status, "on_hold") != 0},
      {"release", status && !strcmp(status, "on_hold")},
      {"assign", open && (!before || dsr_verify_allows_before(pol, "assign", NULL))},
      {"withdraw", open && (!before || dsr_verify_allows_before(pol, "withdraw", NULL))},
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
    if (any_deny || !strcmp(*c, "identity_not_verified"))
      json_array_append_new(reasons, json_string(*c));
  json_object_set_new(ctx, "deny_reasons", reasons);
  json_object_set_new(ctx, "before_verification", json_boolean(before));
}

/* The string member @p key of @p o, "" when absent (borrowed). */
static const char *str(const json_t *o, const char *key)
{
  const char *v = dsr_json_str(o, key);
  return v ? v : "";
}

static json_int_t num(const json_t *o, const char *key)
{
  return json_integer_value(json_object_get(o, key));
}

/* One erasure receipt (an erasure.receipt event) as the tables of the page (new reference). */
static json_t *receipt_view(const json_t *ev)
{
  const json_t *rc = json_object_get(ev, "data");
  json_t *cols = json_array(), *sets = json_array(), *holds = json_array();
  size_t i;
  const json_t *c;
  json_array_foreach(json_object_get(rc, "collections"), i, c)
    json_array_append_new(
        cols, json_pack("{s:s, s:s, s:s, s:I, s:I, s:s}", "store",
                        str(c, "store"),
                        "collection", str(c, "collection"),
                        "action", str(c, "action"),
                        "rows", num(c, "rows"), "files", num(c, "files"), "basis",
                        str(c, "basis")));
  json_array_foreach(json_object_get(rc, "backup_sets"), i, c)
    json_array_append_new(
        sets, json_pack("{s:s, s:s, s:s, s:I, s:I}", "name",
                        str(c, "backup_set"),
                        "mechanism", str(c, "mechanism"),
                        "until",
                        str(c, "residual_until"),
                        "removed", num(c, "files_removed"), "pending", num(c, "files_pending")));
  json_array_foreach(json_object_get(rc, "holds"), i, c)
  {
    char *colls = json_dumps(json_object_get(c, "collections"), JSON_COMPACT | JSON_ENCODE_ANY);
    json_array_append_new(holds, json_pack("{s:s, s:s}", "basis",
                                           str(c, "basis"),
                                           "collections", colls ? colls : ""));
    free(colls);
  }
  bool has_backups = json_array_size(sets) > 0;
  return json_pack("{s:s, s:s, s:o, s:o, s:o, s:b, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "at",
                   str(ev, "at"), "part_id",
                   str(rc, "part_id"),
                   "collections", cols, "backup_sets", sets, "holds", holds, "has_backups",
                   has_backups, "deleted",
                   num(rc, "rows_deleted"), "masked", num(rc, "rows_masked"), "redacted",
                   num(rc, "rows_redacted"), "retained", num(rc, "rows_retained"),
                   "files_removed", num(rc, "files_removed"), "files_pending",
                   num(rc, "files_pending"), "files_residual", num(rc, "files_residual"),
                   "keys_destroyed", num(rc, "keys_destroyed"));
}

/* Discovery summary and the receipts, read from the parts and the timeline. */
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
  json_t *receipts = json_array();
  json_array_foreach(json_object_get(d, "timeline"), i, e)
    if (is(e, "kind", "erasure.receipt"))
      json_array_append_new(receipts, receipt_view(e));
  json_object_set_new(ctx, "receipts", receipts);
}

/* The timeline in words, with the actors' names; the event code stays for auditors. */
static void add_words(json_t *ctx, const json_t *d, const json_t *names)
{
  const char *type = json_string_value(json_object_get(d, "type"));
  size_t i;
  json_t *e;
  json_array_foreach(json_object_get(d, "timeline"), i, e)
  {
    char *words = dsr_timeline_sentence(e, type ? type : "request", names);
    json_object_set_new(e, "words", json_string(words ? words : ""));
    free(words);
  }
  const char *who = json_string_value(json_object_get(d, "assigned_to"));
  if (who) {
    char ref[64], name[200];
    snprintf(ref, sizeof ref, "staff:%s", who);
    if (dsr_actor_name(ref, names, name, sizeof name))
      json_object_set_new(ctx, "assigned_name", json_string(name));
  }
}

/* The enabled staff a request can be assigned to, the signed-in user marked (new reference). */
static json_t *staff_choices(struct dsr_db *db, const char *me)
{
  json_t *a = json_array();
  PGresult *q = dsr_db_exec(db, DSR_STMT_UI_STAFF_LIST, 0, NULL);
  for (int i = 0; dsr_db_ok(q) && i < PQntuples(q); i++)
    json_array_append_new(a, json_pack("{s:s, s:s, s:s, s:b}", "id", PQgetvalue(q, i, 0),
                                        "name", PQgetvalue(q, i, 1), "role", PQgetvalue(q, i, 2),
                                        "me", !strcmp(me, PQgetvalue(q, i, 0))));
  PQclear(q);
  return a;
}

/* "staff:<id>" and "customer:<id>" to names (new reference; an empty object on failure). */
static json_t *actor_names(struct dsr_db *db)
{
  json_t *names = json_object();
  PGresult *q = dsr_db_exec(db, DSR_STMT_UI_ACTOR_NAMES, 0, NULL);
  for (int i = 0; dsr_db_ok(q) && i < PQntuples(q); i++)
    json_object_set_new(names, PQgetvalue(q, i, 0), json_string(PQgetvalue(q, i, 1)));
  PQclear(q);
  return names;
}

static enum MHD_Result detail_page(struct dsr_hreq *r, unsigned status, const char *notice,
                                   const char *error, json_t *confirm)
{
  struct dsr_db *db = dsr_db_acquire(r->app->pool);
  if (!db) {
    json_decref(confirm);
    return dsr_reply_problem(r, DSR_E_DB_UNAVAILABLE, NULL, NULL);
  }
  json_t *d = NULL;
  json_t *residual = NULL; /* files an erasure could not remove (ids, stores, reasons) */
  enum dsr_ec ec = dsr_admin_detail(db, r->args[0], &d);
  if (ec == DSR_OK && !add_deliveries(db, d))
    ec = DSR_E_DB_UNAVAILABLE;
  if (ec == DSR_OK && !dsr_request_details_add(db, r->args[0], d)) /* the subject's words */
    ec = DSR_E_DB_UNAVAILABLE;
  if (ec == DSR_OK && !(residual = dsr_files_residual_of_request(db, r->args[0])))
    ec = DSR_E_DB_UNAVAILABLE;
  json_t *names = ec == DSR_OK ? actor_names(db) : NULL;
  json_t *staff = ec == DSR_OK ? staff_choices(db, r->staff_id) : NULL;
  json_t *notes = ec == DSR_OK ? dsr_request_notes(db, r->args[0]) : NULL;
  dsr_db_release(db);
  if (ec != DSR_OK) {
    json_decref(d);
    json_decref(residual);
    json_decref(confirm);
    return dsr_reply_problem(r, ec, NULL, NULL);
  }
  dsrd_drp_name_agent(r, d);
  json_t *ctx = json_pack("{s:s, s:s, s:O}", "title", "Request", "nav", "/ui/", "r", d);
  if (ctx) {
    add_actions(r, ctx, d);
    add_summary(ctx, d);
    add_words(ctx, json_object_get(ctx, "r"), names);
    json_object_set_new(ctx, "has_residual", json_boolean(json_array_size(residual) > 0));
    json_object_set(ctx, "residual_files", residual);
    if (notice)
      json_object_set_new(ctx, "notice", json_string(notice));
    if (error)
      json_object_set_new(ctx, "error", json_string(error));
    if (confirm)
      json_object_set(ctx, "confirm", confirm);
    json_object_set(ctx, "staff", staff);
    json_object_set_new(ctx, "me", json_string(r->staff_id));
    json_object_set_new(ctx, "notes", notes ? json_incref(notes) : json_array());
    char path[128];
    snprintf(path, sizeof path, "/ui/requests/%s/notes", r->args[0]);
    json_object_set_new(ctx, "can_note", json_boolean(dsrd_ui_may(r, "POST", path, NULL)));
  }
  json_decref(notes);
  json_decref(staff);
  json_decref(confirm);
  json_decref(names);
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
    {"assign", "The request is assigned."},   {"note", "The note is added."},
    {"withdraw", "The request is withdrawn; the requester will be told."},
};

enum MHD_Result dsrd_ui_request(struct dsr_hreq *r)
{
  const char *done = MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, "done");
  const char *notice = NULL;
  for (size_t i = 0; done && i < DSR_ARRAY_LEN(done_notes); i++)
    if (!strcmp(done, done_notes[i].action))
      notice = done_notes[i].done;
  return detail_page(r, 200, notice, NULL, NULL);
}

/* What confirming approve, deny or extend will do, said before it is done. */
static const struct {
  const char *action, *title, *what, *button;
} confirmations[] = {
    {"approve", "Approve the waiting parts?",
     "Every part that waits for the privacy team is executed now. For an erasure this cannot "
     "be undone: rows are deleted or masked and files removed, in every store and backup the "
     "policy names. Customers with a part are told.",
     "Yes, approve"},
    {"deny", "Deny this request?",
     "The request is closed with the reason below. The requester is told by message and on "
     "the status page; customers with a part are told. A denied request cannot be reopened.",
     "Yes, deny the request"},
    {"extend", "Extend the deadline?",
     "The deadline moves by the jurisdiction's extension (once per request). The requester is "
     "told the new date and the reason below, which they will read.",
     "Yes, extend and tell the requester"},
    {"withdraw", "Withdraw this request for the requester?",
     "The request is closed as withdrawn, as if the requester had withdrawn it: nothing more is "
     "done for it and they are told by message. The reason below is kept as an internal note "
     "(never shown to them). A withdrawn request cannot be reopened.",
     "Yes, withdraw the request"},
};

/* The confirmation step of @p a (NULL when the action needs none or was confirmed). */
static json_t *confirmation_of(const struct dsr_hreq *r, const struct dsr_admin_action *a)
{
  const char *confirm = dsr_json_str(r->json, "confirm");
  if (confirm && !strcmp(confirm, "yes"))
    return NULL;
  for (size_t i = 0; a->action && i < DSR_ARRAY_LEN(confirmations); i++)
    if (!strcmp(a->action, confirmations[i].action))
      return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "action", a->action, "title",
                       confirmations[i].title, "what", confirmations[i].what, "button",
                       confirmations[i].button, "reason", a->reason ? a->reason : "",
                       "part_id", a->part_id ? a->part_id : "");
  return NULL;
}

enum MHD_Result dsrd_ui_act(struct dsr_hreq *r)
{
  if (r->input_invalid)
    return detail_page(r, 400, NULL, r->input_err.detail, NULL);
  struct dsr_admin_action a = dsr_admin_action_of(r->json);
  json_t *confirm = confirmation_of(r, &a);
  if (confirm)
    return detail_page(r, 200, NULL, NULL, confirm);
  struct dsr_db *db = dsr_db_acquire(r->app->pool);
  if (!db)
    return dsr_reply_problem(r, DSR_E_DB_UNAVAILABLE, NULL, NULL);
  json_t *reply = NULL;
  char detail[256] = "";
  const char *field = NULL;
  enum dsr_ec ec = dsr_admin_act(db, r->app->policy, r->staff_id, r->args[0], &a, &reply,
                                 detail, sizeof detail, &field);
  if (ec == DSR_OK)
    dsrd_drp_changed(r, db, r->args[0]);
  dsr_db_release(db);
  json_decref(reply);
  if (ec == DSR_E_NOT_FOUND || ec == DSR_E_DB_UNAVAILABLE || ec == DSR_E_INTERNAL)
    return dsr_reply_problem(r, ec, NULL, NULL);
  if (ec != DSR_OK)
    return detail_page(r, dsr_ec_status(ec), NULL, detail[0] ? detail : dsr_ec_title(ec), NULL);
  char location[160];
  snprintf(location, sizeof location, "/ui/requests/%s?done=%s", r->args[0], a.action);
  return dsr_reply_redirect(r, location);
}

enum MHD_Result dsrd_ui_note(struct dsr_hreq *r)
{
  if (r->input_invalid)
    return detail_page(r, 400, NULL, r->input_err.detail, NULL);
  struct dsr_db *db = dsr_db_acquire(r->app->pool);
  if (!db)
    return dsr_reply_problem(r, DSR_E_DB_UNAVAILABLE, NULL, NULL);
  enum dsr_ec ec =
      dsr_request_note_add(db, r->args[0], r->staff_id, dsr_json_str(r->json, "note"));
  dsr_db_release(db);
  if (ec != DSR_OK)
    return dsr_reply_problem(r, ec, NULL, NULL);
  char location[160];
  snprintf(location, sizeof location, "/ui/requests/%s?done=note", r->args[0]);
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

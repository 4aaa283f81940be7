/**
 * @file dsrd_ui_bulk.c
 * @brief POST /ui/bulk: one action (assign, approve, deny with one reason)
 *        on the requests ticked on the queue page (fields id1..id25, one
 *        page). The first answer is a confirmation step naming the requests
 *        and what will happen; the confirmed form (confirm=yes) applies the
 *        action to each request through dsr_admin_act(), one transaction and
 *        one audited event per request, exactly as if each were done alone,
 *        and lists what happened to each.
 */
#include "config.h"
#include "httpd.h"
#include "dsr/admin.h"
#include "dsr/log.h"
#include "dsr/validate.h"

#include <stdio.h>
#include <string.h>

#define BULK_MAX 25

static const char *const bulk_actions[] = {"assign", "approve", "deny", NULL};
static const char *const yes[] = {"yes", NULL};

#define BULK_ID(n)                                                                             \
  {.name = "id" #n, .type = DSR_JT_STRING, .max_len = 36, .validate = dsr_valid_uuid}

const struct dsr_jspec dsrd_ui_bulk_form[] = {
    {.name = "action", .type = DSR_JT_STRING, .required = true, .max_len = 16,
     .one_of = bulk_actions},
    {.name = "reason", .type = DSR_JT_STRING, .max_len = 64, .one_of = dsr_deny_reasons},
    {.name = "assignee", .type = DSR_JT_STRING, .max_len = 36, .validate = dsr_valid_uuid},
    {.name = "confirm", .type = DSR_JT_STRING, .max_len = 3, .one_of = yes},
    BULK_ID(1),  BULK_ID(2),  BULK_ID(3),  BULK_ID(4),  BULK_ID(5),  BULK_ID(6),  BULK_ID(7),
    BULK_ID(8),  BULK_ID(9),  BULK_ID(10), BULK_ID(11), BULK_ID(12), BULK_ID(13), BULK_ID(14),
    BULK_ID(15), BULK_ID(16), BULK_ID(17), BULK_ID(18), BULK_ID(19), BULK_ID(20), BULK_ID(21),
    BULK_ID(22), BULK_ID(23), BULK_ID(24), BULK_ID(25),
    {0},
};

static const struct {
  const char *action, *what, *button;
} words[] = {
    {"assign", "Each request below is assigned to the staff member you chose.", "Yes, assign them"},
    {"approve",
     "For each request below, every part that waits for the privacy team is executed now. For "
     "an erasure this cannot be undone: rows are deleted or masked and files removed. Customers "
     "with a part are told.",
     "Yes, approve them"},
    {"deny",
     "Each request below is closed with the one reason below; each requester is told (by "
     "message once verified, and on the status page). A denied request cannot be reopened.",
     "Yes, deny them"},
};

static enum MHD_Result bulk_page(struct dsr_hreq *r, unsigned status, json_t *ctx)
{
  json_object_set_new(ctx, "title", json_string("Bulk action"));
  json_object_set_new(ctx, "nav", json_string("/ui/"));
  enum MHD_Result ret = dsrd_ui_page(r, status, "ui_bulk.html", ctx);
  json_decref(ctx);
  return ret;
}

enum MHD_Result dsrd_ui_bulk(struct dsr_hreq *r)
{
  json_t *ctx = json_object();
  if (!ctx)
    return dsr_reply_problem(r, DSR_E_INTERNAL, NULL, NULL);
  if (r->input_invalid) {
    json_object_set_new(ctx, "error", json_string(r->input_err.detail));
    return bulk_page(r, 400, ctx);
  }
  const char *action = dsr_json_str(r->json, "action");
  const char *reason = dsr_json_str(r->json, "reason");
  const char *assignee = dsr_json_str(r->json, "assignee");
  const char *confirm = dsr_json_str(r->json, "confirm");
  json_t *ids = json_array();
  for (int n = 1; n <= BULK_MAX; n++) {
    char key[8];
    snprintf(key, sizeof key, "id%d", n);
    const char *id = dsr_json_str(r->json, key);
    if (id)
      json_array_append_new(ids, json_pack("{s:s, s:s}", "field", key, "id", id));
  }
  json_object_set_new(ctx, "ids", ids);
  json_object_set_new(ctx, "action", json_string(action));
  const char *missing = json_array_size(ids) == 0       ? "Tick at least one request."
                        : !strcmp(action, "deny") && !reason ? "Choose the reason for denying."
                        : !strcmp(action, "assign") && !assignee
                            ? "Choose whom to assign them to."
                            : NULL;
  if (missing) {
    json_object_set_new(ctx, "error", json_string(missing));
    return bulk_page(r, 422, ctx);
  }
  if (!confirm) {
    for (size_t i = 0; i < DSR_ARRAY_LEN(words); i++)
      if (!strcmp(words[i].action, action))
        json_object_set_new(ctx, "confirm",
                            json_pack("{s:s, s:s, s:s, s:s, s:I}", "what", words[i].what,
                                      "button", words[i].button, "reason", reason ? reason : "",
                                      "assignee", assignee ? assignee : "", "count",
                                      (json_int_t)json_array_size(ids)));
    return bulk_page(r, 200, ctx);
  }
  struct dsr_db *db = dsr_db_acquire(r->app->pool);
  if (!db) {
    json_decref(ctx);
    return dsr_reply_problem(r, DSR_E_DB_UNAVAILABLE, NULL, NULL);
  }
  struct dsr_admin_action a = {.action = action, .reason = reason, .assignee = assignee};
  json_t *results = json_array();
  long done = 0;
  size_t i;
  json_t *it;
  json_array_foreach(ids, i, it)
  {
    json_t *reply = NULL;
    char detail[256] = "";
    const char *field = NULL;
    const char *id = json_string_value(json_object_get(it, "id"));
    enum dsr_ec ec = dsr_admin_act(db, r->app->policy, r->staff_id, id, &a, &reply, detail,
                                   sizeof detail, &field);
    json_decref(reply);
    done += ec == DSR_OK;
    json_array_append_new(results,
                          json_pack("{s:s, s:b, s:s}", "id", id, "ok", ec == DSR_OK, "detail",
                                    ec == DSR_OK ? "done"
                                    : detail[0]  ? detail
                                                 : dsr_ec_title(ec)));
  }
  dsr_db_release(db);
  DSR_INFO("ui.bulk", "rid=%s staff=%s action=%s asked=%zu done=%ld", r->rid, r->staff_id,
           action, json_array_size(ids), done);
  json_object_set_new(ctx, "results", results);
  json_object_set_new(ctx, "done", json_integer(done));
  json_object_set_new(ctx, "asked", json_integer((json_int_t)json_array_size(ids)));
  return bulk_page(r, 200, ctx);
}

/**
 * @file dsrd_admin_requests.c
 * @brief The privacy team's requests: GET /v1/admin/requests (filters and
 *        cursor pagination), GET /v1/admin/requests/{id} (parts, masked
 *        identities, timeline), GET /v1/admin/requests/{id}/plan (dry run),
 *        POST /v1/admin/requests/{id}/actions. The
 *        dispatcher has authenticated the staff token and checked the role.
 */
#include "config.h"
#include "httpd.h"
#include "dsr/admin.h"
#include "dsr/requests.h"
#include "dsr/validate.h"

#include <stdlib.h>
#include <string.h>

static const char *const statuses[] = {"received",  "pending_verification", "verified",
                                       "in_progress", "completed",          "denied",
                                       "withdrawn", "expired",              "on_hold",
                                       NULL};
static const char *const queues[] = {"controller", "escalated", "customer", NULL};
static const char *const booleans[] = {"true", "false", NULL};

const struct dsr_jspec dsrd_admin_action_spec[] = {
    {.name = "action", .type = DSR_JT_STRING, .required = true, .max_len = 16,
     .one_of = dsr_admin_actions},
    {.name = "reason", .type = DSR_JT_STRING, .max_len = 1000, .validate = dsr_valid_text},
    {.name = "note", .type = DSR_JT_STRING, .max_len = 2000, .validate = dsr_valid_text},
    {.name = "part_id", .type = DSR_JT_STRING, .max_len = 36, .validate = dsr_valid_uuid},
    {.name = "assignee", .type = DSR_JT_STRING, .max_len = 128, .validate = dsr_valid_text},
    {.name = "identity", .type = DSR_JT_STRING, .max_len = 16, .one_of = dsr_admin_identity_kinds},
    {0},
};

static bool in_list(const char *const *list, const char *v)
{
  for (; *list; list++)
    if (!strcmp(*list, v))
      return true;
  return false;
}

/* A query parameter that must be one of @p allowed (NULL list: any short value). */
static bool query_arg(struct dsr_hreq *r, const char *name, const char *const *allowed,
                      const char **out)
{
  *out = MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, name);
  if (!*out)
    return true;
  if (!**out || strlen(*out) > 128 || !dsr_utf8_valid(*out, strlen(*out)))
    return false;
  return !allowed || in_list(allowed, *out);
}

enum MHD_Result dsrd_admin_requests_list(struct dsr_hreq *r)
{
  struct dsr_admin_filter f = {0};
  const char *limit = NULL;
  static const struct {
    const char *name;
    const char *const *allowed;
  } params[] = {{"status", statuses}, {"type", dsr_request_types}, {"queue", queues},
                {"overdue", booleans}, {"cursor", NULL},          {"limit", NULL}};
  const char **slots[] = {&f.status, &f.type, &f.queue, &f.overdue, &f.cursor, &limit};
  for (size_t i = 0; i < DSR_ARRAY_LEN(params); i++)
    if (!query_arg(r, params[i].name, params[i].allowed, slots[i]))
      return dsr_reply_problem(r, DSR_E_FIELD_INVALID, "this query parameter has an invalid value",
                               params[i].name);
  if (limit) {
    char *end = NULL;
    long n = strtol(limit, &end, 10);
    if (*end || n < 1 || n > 200)
      return dsr_reply_problem(r, DSR_E_FIELD_INVALID, "limit must be from 1 to 200", "limit");
    f.limit = (int)n;
  }
  struct dsr_db *db = dsr_db_acquire(r->app->pool);
  if (!db)
    return dsr_reply_problem(r, DSR_E_DB_UNAVAILABLE, NULL, NULL);
  json_t *reply = NULL;
  enum dsr_ec ec = dsr_admin_list(db, &f, &reply);
  dsr_db_release(db);
  if (ec != DSR_OK)
    return dsr_reply_problem(r, ec, ec == DSR_E_FIELD_INVALID ? "the cursor is not valid" : NULL,
                             ec == DSR_E_FIELD_INVALID ? "cursor" : NULL);
  enum MHD_Result ret = dsr_reply_json(r, 200, reply);
  json_decref(reply);
  return ret;
}

enum MHD_Result dsrd_admin_requests_get(struct dsr_hreq *r)
{
  struct dsr_db *db = dsr_db_acquire(r->app->pool);
  if (!db)
    return dsr_reply_problem(r, DSR_E_DB_UNAVAILABLE, NULL, NULL);
  json_t *reply = NULL;
  enum dsr_ec ec = dsr_admin_detail(db, r->args[0], &reply);
  if (ec == DSR_OK && !dsr_request_details_add(db, r->args[0], reply)) /* the subject's words */
    ec = DSR_E_DB_UNAVAILABLE;
  dsr_db_release(db);
  if (ec == DSR_OK)
    dsrd_drp_name_agent(r, reply);
  return dsr_reply_outcome(r, ec, reply);
}

enum MHD_Result dsrd_admin_requests_plan(struct dsr_hreq *r)
{
  struct dsr_db *db = dsr_db_acquire(r->app->pool);
  if (!db)
    return dsr_reply_problem(r, DSR_E_DB_UNAVAILABLE, NULL, NULL);
  json_t *reply = NULL;
  enum dsr_ec ec = dsr_admin_plan(db, r->app->policy, r->args[0], &reply);
  dsr_db_release(db);
  return dsr_reply_outcome(r, ec, reply);
}

/* The requester's wish, passed on by staff: how they asked, kept as a sealed internal note. */
const struct dsr_jspec dsrd_admin_withdraw_spec[] = {
    {.name = "reason", .type = DSR_JT_STRING, .required = true, .max_len = 1000,
     .validate = dsr_valid_text},
    {0},
};

static enum MHD_Result act(struct dsr_hreq *r, const struct dsr_admin_action *act)
{
  struct dsr_admin_action a = *act;
  struct dsr_db *db = dsr_db_acquire(r->app->pool);
  if (!db)
    return dsr_reply_problem(r, DSR_E_DB_UNAVAILABLE, NULL, NULL);
  json_t *reply = NULL;
  char detail[256];
  const char *field = NULL;
  enum dsr_ec ec = dsr_admin_act(db, r->app->policy, r->staff_id, r->args[0], &a, &reply,
                                 detail, sizeof detail, &field);
  if (ec == DSR_OK)
    dsrd_drp_changed(r, db, r->args[0]);
  dsr_db_release(db);
  if (ec != DSR_OK)
    return dsr_reply_problem(r, ec, detail[0] ? detail : NULL, field);
  enum MHD_Result ret = dsr_reply_json(r, 200, reply);
  json_decref(reply);
  return ret;
}

enum MHD_Result dsrd_admin_requests_act(struct dsr_hreq *r)
{
  struct dsr_admin_action a = dsr_admin_action_of(r->json);
  return act(r, &a);
}

enum MHD_Result dsrd_admin_requests_withdraw(struct dsr_hreq *r)
{
  struct dsr_admin_action a = {.action = "withdraw",
                               .reason = json_string_value(json_object_get(r->json, "reason"))};
  return act(r, &a);
}

/**
 * @file dsrd_drp.c
 * @brief Authorized agents, the Data Rights Protocol 1.0: pair-wise key setup
 *        (POST/GET /drp/v1/agent/{agent-id}), exercise, status and revoke
 *        (/drp/v1/data-rights-request). The dispatcher hands over the raw
 *        text/plain signed body and, on token routes, the agent; the protocol
 *        logic is src/lib/drp.
 */
#include "config.h"
#include "httpd.h"
#include "dsr/drp.h"
#include "dsr/log.h"

#include <stdlib.h>
#include <string.h>

static struct dsr_drp_env env_of(struct dsr_hreq *r)
{
  return (struct dsr_drp_env){.cfg = r->app->cfg, .policy = r->app->policy,
                              .dir = r->app->drp_dir, .venv = &r->app->venv};
}

/* Sends @p a (and clears it); a NULL body is sent empty (the key setup's 403). */
static enum MHD_Result send_answer(struct dsr_hreq *r, struct dsr_drp_answer *a)
{
  enum MHD_Result ret;
  if (a->body)
    ret = dsr_reply_json(r, a->status, a->body);
  else
    ret = dsr_reply_document(r, a->status, strdup(""), "text/plain; charset=utf-8");
  dsr_drp_answer_clear(a);
  return ret;
}

/* DRP is off until the business has an id: every route answers 404 in DRP's shape. */
static bool enabled(struct dsr_hreq *r, enum MHD_Result *ret)
{
  if (r->app->cfg->drp_business_id)
    return true;
  *ret = dsr_reply_problem(r, DSR_E_NOT_FOUND, "the Data Rights Protocol is not enabled here",
                           NULL);
  return false;
}

/* What a handler asks of src/lib/drp. */
enum drp_op { OP_PAIR, OP_EXERCISE, OP_STATUS, OP_REVOKE };

/* The one body of the handlers that need the database: DRP enabled, a connection, the op. */
static enum MHD_Result run_op(struct dsr_hreq *r, enum drp_op op)
{
  enum MHD_Result ret;
  if (!enabled(r, &ret))
    return ret;
  struct dsr_db *db = dsr_db_acquire(r->app->pool);
  if (!db)
    return dsr_reply_problem(r, DSR_E_DB_UNAVAILABLE, NULL, NULL);
  struct dsr_drp_env env = env_of(r);
  struct dsr_drp_answer a = {0};
  const char *body = r->body.data ? r->body.data : "";
  switch (op) {
  case OP_PAIR:
    dsr_drp_pair(db, &env, r->args[0], body, r->body.len, dsr_now(), &a);
    break;
  case OP_EXERCISE:
    dsr_drp_exercise(db, &env, r->agent_id, body, r->body.len, dsr_now(), &a);
    break;
  case OP_STATUS:
    dsr_drp_status(db, &env, r->agent_id, r->args[0], &a);
    break;
  case OP_REVOKE:
    dsr_drp_revoke(db, &env, r->agent_id, r->args[0], body, r->body.len, dsr_now(), &a);
    break;
  }
  dsr_db_release(db);
  return send_answer(r, &a);
}

enum MHD_Result dsrd_drp_pair(struct dsr_hreq *r)
{
  return run_op(r, OP_PAIR);
}

enum MHD_Result dsrd_drp_agent(struct dsr_hreq *r)
{
  enum MHD_Result ret;
  if (!enabled(r, &ret))
    return ret;
  struct dsr_drp_answer a = {.status = 200, .body = json_object()};
  if (strcmp(r->args[0], r->agent_id) != 0) {
    json_decref(a.body);
    a = (struct dsr_drp_answer){
        .status = 403, .body = dsr_drp_error_json(403, "the token is another agent's", true)};
  }
  return send_answer(r, &a);
}

enum MHD_Result dsrd_drp_exercise(struct dsr_hreq *r)
{
  return run_op(r, OP_EXERCISE);
}

enum MHD_Result dsrd_drp_status(struct dsr_hreq *r)
{
  return run_op(r, OP_STATUS);
}

enum MHD_Result dsrd_drp_revoke(struct dsr_hreq *r)
{
  return run_op(r, OP_REVOKE);
}

void dsrd_drp_name_agent(const struct dsr_hreq *r, json_t *detail)
{
  json_t *agent = json_object_get(detail, "agent");
  const struct dsr_drp_agent *a =
      dsr_drp_agent_find(r->app->drp_dir, json_string_value(json_object_get(agent, "agent_id")));
  if (a && a->name)
    json_object_set_new(agent, "agent_name", json_string(a->name));
}

void dsrd_drp_changed(struct dsr_hreq *r, struct dsr_db *db, const char *id)
{
  if (!r->app->cfg->drp_business_id)
    return;
  struct dsr_drp_env env = env_of(r);
  int n = 0;
  if (!dsr_drp_callbacks(db, &env, id, &n))
    DSR_WARN("drp.callback_deferred", "rid=%s id=%s", r->rid, id);
}

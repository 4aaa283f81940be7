/** @file dsrd_health.c @brief GET /healthz (process up) and GET /readyz (database reachable). */
#include "config.h"
#include "httpd.h"

enum MHD_Result dsrd_healthz(struct dsr_hreq *r)
{
  json_t *body = json_pack("{s:s}", "status", "ok");
  enum MHD_Result ret = dsr_reply_json(r, 200, body);
  json_decref(body);
  return ret;
}

enum MHD_Result dsrd_readyz(struct dsr_hreq *r)
{
  struct dsr_db *db = dsr_db_acquire(r->app->pool);
  bool ok = false;
  if (db) {
    PGresult *res = dsr_db_exec(db, DSR_STMT_PING, 0, NULL);
    ok = dsr_db_ok(res);
    PQclear(res);
    dsr_db_release(db);
  }
  if (!ok)
    return dsr_reply_problem(r, DSR_E_DB_UNAVAILABLE, "the database does not answer", NULL);
  json_t *body = json_pack("{s:s, s:s}", "status", "ready", "database", "ok");
  enum MHD_Result ret = dsr_reply_json(r, 200, body);
  json_decref(body);
  return ret;
}

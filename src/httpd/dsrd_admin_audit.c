/**
 * @file dsrd_admin_audit.c
 * @brief GET /v1/admin/audit?after=&limit= (the sealed chain, for auditors)
 *        and GET /v1/admin/reports/compliance?from=&to=&format=. The dispatcher
 *        has authenticated the staff token and checked the role (admin, auditor).
 */
#include "config.h"
#include "httpd.h"
#include "dsr/audit.h"
#include "dsr/report.h"
#include "dsr/timeparse.h"

#include <stdlib.h>
#include <string.h>

static const char *query(struct dsr_hreq *r, const char *name)
{
  return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, name);
}

/* A non-negative integer query parameter within [min, max]; absent gives @p def. */
static bool int_arg(struct dsr_hreq *r, const char *name, long long min, long long max,
                    long long def, long long *out)
{
  const char *s = query(r, name);
  *out = def;
  if (!s)
    return true;
  char *end = NULL;
  long long v = strtoll(s, &end, 10);
  if (!*s || *end || s[0] == '-' || s[0] == '+' || v < min || v > max)
    return false;
  *out = v;
  return true;
}

enum MHD_Result dsrd_admin_audit(struct dsr_hreq *r)
{
  long long after, limit;
  if (!int_arg(r, "after", 0, 9000000000000000000LL, 0, &after))
    return dsr_reply_problem(r, DSR_E_FIELD_INVALID, "after must be a chain position (0 or more)",
                             "after");
  if (!int_arg(r, "limit", 1, 1000, 100, &limit))
    return dsr_reply_problem(r, DSR_E_FIELD_INVALID, "limit must be from 1 to 1000", "limit");
  struct dsr_db *db = dsr_db_acquire(r->app->pool);
  if (!db)
    return dsr_reply_problem(r, DSR_E_DB_UNAVAILABLE, NULL, NULL);
  json_t *page = NULL;
  bool ok = dsr_audit_page(db, after, (int)limit, &page);
  dsr_db_release(db);
  if (!ok)
    return dsr_reply_problem(r, DSR_E_DB_UNAVAILABLE, NULL, NULL);
  enum MHD_Result ret = dsr_reply_json(r, 200, page);
  json_decref(page);
  return ret;
}

static enum MHD_Result period_arg(struct dsr_hreq *r, const char *name, time_t *out, bool *ok)
{
  const char *s = query(r, name);
  *ok = s && strlen(s) <= 32 && dsr_time_parse(s, out);
  if (*ok)
    return MHD_YES;
  return dsr_reply_problem(r, s ? DSR_E_FIELD_INVALID : DSR_E_FIELD_MISSING,
                           "expected YYYY-MM-DD or an RFC 3339 time", name);
}

enum MHD_Result dsrd_admin_report(struct dsr_hreq *r)
{
  time_t from, to;
  bool ok;
  enum MHD_Result ret = period_arg(r, "from", &from, &ok);
  if (!ok)
    return ret;
  ret = period_arg(r, "to", &to, &ok);
  if (!ok)
    return ret;
  if (to <= from)
    return dsr_reply_problem(r, DSR_E_FIELD_INVALID, "to must be after from", "to");
  /* The report's size and the memory to build it grow with the period (issue 17, M2). */
  if ((double)to - (double)from > (double)r->app->cfg->report_max_days * 86400.0) {
    char why[128];
    snprintf(why, sizeof why, "the period may be at most %ld days (report_max_days)",
             r->app->cfg->report_max_days);
    return dsr_reply_problem(r, DSR_E_FIELD_INVALID, why, "to");
  }
  const char *format = query(r, "format");
  if (!format)
    format = "json";
  if (strcmp(format, "json") && strcmp(format, "csv") && strcmp(format, "html"))
    return dsr_reply_problem(r, DSR_E_FIELD_INVALID, "format must be json, csv or html",
                             "format");
  struct dsr_db *db = dsr_db_acquire(r->app->pool);
  if (!db)
    return dsr_reply_problem(r, DSR_E_DB_UNAVAILABLE, NULL, NULL);
  json_t *rep = NULL;
  char err[256];
  ok = dsr_report_build(db, from, to, dsr_now(), &rep, err, sizeof err);
  dsr_db_release(db);
  if (!ok)
    return dsr_reply_problem(r, DSR_E_DB_UNAVAILABLE, NULL, NULL);
  if (!strcmp(format, "json"))
    ret = dsr_reply_json(r, 200, rep);
  else if (!strcmp(format, "csv"))
    ret = dsr_reply_document(r, 200, dsr_report_csv(rep), "text/csv; charset=utf-8");
  else
    ret = dsr_reply_document(r, 200, dsr_report_html(rep), "text/html; charset=utf-8");
  json_decref(rep);
  return ret;
}

/**
 * @file dsrd_ui_report.c
 * @brief GET /ui/report (choose a period), GET /ui/report/view (the
 *        compliance report's existing HTML rendering for that period) and,
 *        in demo mode only, GET /ui/inbox (the maildir transport's messages).
 */
#include "config.h"
#include "httpd.h"
#include "dsr/report.h"
#include "dsr/timeparse.h"
#include "dsr/ui_inbox.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#define INBOX_MAX 50

/* A date as YYYY-MM-DD. */
static void ymd(time_t t, char out[16])
{
  struct tm tm;
  gmtime_r(&t, &tm);
  strftime(out, 16, "%Y-%m-%d", &tm);
}

/* The form; @p from / @p to (what was typed, NULL: the default period) are shown again. */
static enum MHD_Result report_form(struct dsr_hreq *r, unsigned status, const char *error,
                                   const char *from_in, const char *to_in)
{
  char from[40], to[40];
  time_t now = dsr_now();
  ymd(now - 30 * 86400, from);
  ymd(now + 86400, to);
  if (from_in)
    dsr_strlcpy(from, from_in, sizeof from);
  if (to_in)
    dsr_strlcpy(to, to_in, sizeof to);
  json_t *ctx = json_pack("{s:s, s:s, s:s, s:s}", "title", "Compliance report", "nav",
                          "/ui/report", "from", from, "to", to);
  if (ctx && error)
    json_object_set_new(ctx, "error", json_string(error));
  enum MHD_Result ret = ctx ? dsrd_ui_page(r, status, "ui_report.html", ctx)
                            : dsr_reply_problem(r, DSR_E_INTERNAL, NULL, NULL);
  json_decref(ctx);
  return ret;
}

enum MHD_Result dsrd_ui_report(struct dsr_hreq *r)
{
  return report_form(r, 200, NULL, NULL, NULL);
}

/* The query argument @p name ("" when absent); *ok when it is a date or time. */
static const char *period_arg(struct dsr_hreq *r, const char *name, time_t *out, bool *ok)
{
  const char *s = MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, name);
  *ok = s && strlen(s) <= 32 && dsr_time_parse(s, out);
  return s && strlen(s) <= 32 ? s : "";
}

enum MHD_Result dsrd_ui_report_view(struct dsr_hreq *r)
{
  time_t from = 0, to = 0;
  bool from_ok, to_ok;
  const char *fs = period_arg(r, "from", &from, &from_ok);
  const char *ts = period_arg(r, "to", &to, &to_ok);
  /* Say which field is wrong and keep what was typed in both. */
  if (!from_ok && !to_ok)
    return report_form(r, 400, "Neither From nor To is a date: write both as YYYY-MM-DD.", fs,
                       ts);
  if (!from_ok)
    return report_form(r, 400, "From is not a date: write it as YYYY-MM-DD.", fs, ts);
  if (!to_ok)
    return report_form(r, 400, "To is not a date: write it as YYYY-MM-DD.", fs, ts);
  if (to <= from)
    return report_form(r, 400, "To must be after From (To is not included).", fs, ts);
  if ((double)to - (double)from > (double)r->app->cfg->report_max_days * 86400.0)
    return report_form(r, 400, "That period is too long for one report: choose a shorter one "
                               "(at most report_max_days days).", fs, ts);
  struct dsr_db *db = dsr_db_acquire(r->app->pool);
  if (!db)
    return dsr_reply_problem(r, DSR_E_DB_UNAVAILABLE, NULL, NULL);
  json_t *rep = NULL;
  char err[256];
  bool ok = dsr_report_build(db, from, to, dsr_now(), &rep, err, sizeof err);
  dsr_db_release(db);
  if (!ok)
    return dsr_reply_problem(r, DSR_E_DB_UNAVAILABLE, NULL, NULL);
  /* In the UI the report has a way back and its downloads (the staff API takes the session). */
  char f3339[21], t3339[21];
  dsr_time_rfc3339(from, f3339);
  dsr_time_rfc3339(to, t3339);
  char *q = dsr_asprintf("/v1/admin/reports/compliance?from=%s&to=%s&format=", f3339, t3339);
  json_t *ui = q ? json_pack("{s:s, s:s+, s:s+, s:s+}", "back", "/ui/report", "json", q,
                             "json", "csv", q, "csv", "html", q, "html")
                 : NULL;
  free(q);
  enum MHD_Result ret = dsr_reply_document(r, 200, ui ? dsr_report_html_ui(rep, ui) : NULL,
                                           "text/html; charset=utf-8");
  json_decref(ui);
  json_decref(rep);
  return ret;
}

enum MHD_Result dsrd_ui_inbox(struct dsr_hreq *r)
{
  if (!r->app->cfg->demo_mode)
    return dsr_reply_problem(r, DSR_E_NOT_FOUND, NULL, NULL);
  char *dir = dsr_asprintf("%s/maildir", r->app->cfg->state_dir);
  json_t *list = dir ? dsr_maildir_list(dir, INBOX_MAX) : NULL;
  free(dir);
  if (!list)
    return dsr_reply_problem(r, DSR_E_INTERNAL, NULL, NULL);
  json_t *ctx = json_pack("{s:s, s:s, s:o}", "title", "Dev inbox", "nav", "/ui/inbox",
                          "messages", list);
  enum MHD_Result ret = ctx ? dsrd_ui_page(r, 200, "ui_inbox.html", ctx)
                            : dsr_reply_problem(r, DSR_E_INTERNAL, NULL, NULL);
  json_decref(ctx);
  return ret;
}

/**
 * @file report_html.c
 * @brief The report as one self-contained HTML page, rendered from
 *        templates/compliance_report.en.html (with the partials report_chart
 *        and report_counts): summary cards, inline SVG charts (requests per
 *        week, time to complete, on-time rate per week) and tables, with print
 *        CSS for A4. This file only turns the report into the template's
 *        context; the renderer escapes every value.
 */
#include "config.h"
#include "dsr/report.h"
#include "dsr/log.h"
#include "dsr/template.h"
#include "report_svg.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *jstr(const json_t *o, const char *k1, const char *k2)
{
  const json_t *v = json_object_get(o, k1);
  if (k2)
    v = json_object_get(v, k2);
  return json_is_string(v) ? json_string_value(v) : "";
}

/* A number as people read it; "n/a" for null. Returns a new JSON string. */
static json_t *fmt(const json_t *v)
{
  char out[64];
  if (json_is_integer(v))
    snprintf(out, sizeof out, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
  else if (json_is_real(v))
    snprintf(out, sizeof out, "%.2f", json_real_value(v));
  else if (json_is_string(v))
    snprintf(out, sizeof out, "%s", json_string_value(v));
  else
    snprintf(out, sizeof out, "n/a");
  return json_string(out);
}

static json_t *days(const json_t *seconds)
{
  char out[32];
  if (json_is_number(seconds))
    snprintf(out, sizeof out, "%.1f d", json_number_value(seconds) / 86400.0);
  else
    snprintf(out, sizeof out, "n/a");
  return json_string(out);
}

static json_t *card(json_t *value, const char *label)
{
  return json_pack("{s:o, s:s}", "value", value, "label", label);
}

static json_t *cards(const json_t *r)
{
  const json_t *t = json_object_get(r, "timeliness"), *bl = json_object_get(r, "backlog");
  const json_t *rate = json_object_get(t, "on_time_rate");
  char pct[32] = "n/a";
  if (json_is_number(rate))
    snprintf(pct, sizeof pct, "%.1f %%", json_number_value(rate) * 100);
  return json_pack(
      "[o, o, o, o, o, o, o, o]",
      card(fmt(json_object_get(json_object_get(r, "requests"), "received")), "requests received"),
      card(fmt(json_object_get(t, "responded")), "answered (completed or denied)"),
      card(json_string(pct), "answered on time"),
      card(days(json_object_get(t, "median_seconds_to_complete")), "median time to complete"),
      card(days(json_object_get(t, "p95_seconds_to_complete")), "95th percentile"),
      card(fmt(json_object_get(bl, "open")), "open"),
      card(fmt(json_object_get(bl, "overdue")), "overdue"),
      card(fmt(json_object_get(json_object_get(r, "extensions"), "count")), "extensions"));
}

/** {"head", "title", "rows": [{"key", "value"}]} from an object of counts. */
static json_t *count_table(const char *head, const char *title, const json_t *obj)
{
  json_t *rows = json_array();
  const char *k;
  json_t *v;
  json_object_foreach((json_t *)obj, k, v)
      json_array_append_new(rows, json_pack("{s:s, s:o}", "key", k, "value", fmt(v)));
  return json_pack("{s:s, s:s, s:o}", "head", head, "title", title, "rows", rows);
}

static json_t *customers(const json_t *list)
{
  json_t *a = json_array();
  size_t i;
  json_t *c;
  json_array_foreach(list, i, c)
      json_array_append_new(
          a, json_pack("{s:s, s:o, s:o, s:o, s:o}", "customer_id", jstr(c, "customer_id", NULL),
                       "parts", fmt(json_object_get(c, "parts")), "median",
                       days(json_object_get(c, "median_response_seconds")), "unanswered",
                       fmt(json_object_get(c, "unanswered")), "escalated",
                       fmt(json_object_get(c, "escalated"))));
  return a;
}

/** Receipts: one row per collection, "delete 12, mask 3" per action. */
static json_t *receipt_table(const char *title, const json_t *section, const char *count_key)
{
  json_t *rows = json_array();
  size_t i;
  json_t *c;
  json_array_foreach(json_object_get(section, "collections"), i, c)
  {
    struct dsr_buf actions = {0};
    const char *k;
    json_t *v;
    bool ok = true;
    json_object_foreach(json_object_get(c, "rows"), k, v) ok =
        ok && dsr_buf_printf(&actions, "%s%s %" JSON_INTEGER_FORMAT, actions.len ? ", " : "", k,
                             json_integer_value(v));
    json_array_append_new(rows, json_pack("{s:s, s:s, s:o}", "collection",
                                          jstr(c, "collection", NULL), "actions",
                                          ok && actions.data ? actions.data : "",
                                          "files", fmt(json_object_get(c, "files"))));
    dsr_buf_free(&actions);
  }
  return json_pack("{s:s, s:o, s:o}", "title", title, "count",
                   fmt(json_object_get(section, count_key)), "rows", rows);
}

/** The three charts' template contexts, added to @p ctx. */
static bool charts(json_t *ctx, const json_t *r)
{
  const json_t *weekly = json_object_get(json_object_get(r, "charts"), "weekly");
  const json_t *ttc = json_object_get(json_object_get(r, "charts"), "time_to_complete");
  size_t nw = json_array_size(weekly), nt = json_array_size(ttc);
  const char **wl = calloc(nw + 1, sizeof *wl), **tl = calloc(nt + 1, sizeof *tl);
  double *recv = calloc(nw + 1, sizeof *recv), *rate = calloc(nw + 1, sizeof *rate);
  double *tv = calloc(nt + 1, sizeof *tv);
  char(*wk)[11] = calloc(nw + 1, sizeof *wk);
  bool *answered = calloc(nw + 1, sizeof *answered);
  bool ok = wl && tl && recv && rate && tv && wk && answered;
  for (size_t i = 0; ok && i < nw; i++) {
    const json_t *w = json_array_get(weekly, i);
    snprintf(wk[i], sizeof wk[i], "%.10s", jstr(w, "week_start", NULL));
    wl[i] = wk[i];
    recv[i] = (double)json_integer_value(json_object_get(w, "received"));
    json_int_t resp = json_integer_value(json_object_get(w, "responded"));
    rate[i] = resp ? (double)json_integer_value(json_object_get(w, "on_time")) / (double)resp : 0;
    answered[i] = resp > 0;
  }
  for (size_t i = 0; ok && i < nt; i++) {
    tl[i] = jstr(json_array_get(ttc, i), "bucket", NULL);
    tv[i] = (double)json_integer_value(json_object_get(json_array_get(ttc, i), "count"));
  }
  struct dsr_svg_chart weekly_chart = {"Requests received per week", nw, wl, recv, false,
                                       "#3b6fd4", NULL};
  struct dsr_svg_chart ttc_chart = {"Time to complete", nt, tl, tv, false, "#2a9d7c", NULL};
  struct dsr_svg_chart rate_chart = {"On-time rate per week", nw,        wl, rate, true,
                                     "#d98b2b",               answered};
  ok = ok && json_object_set_new(ctx, "weekly_chart", dsr_svg_chart_model(&weekly_chart)) == 0 &&
       json_object_set_new(ctx, "ttc_chart", dsr_svg_chart_model(&ttc_chart)) == 0 &&
       json_object_set_new(ctx, "rate_chart", dsr_svg_chart_model(&rate_chart)) == 0;
  free(wl);
  free(tl);
  free(recv);
  free(rate);
  free(tv);
  free(wk);
  free(answered);
  return ok;
}

/** The whole template context (caller decrefs), or NULL. */
static json_t *context(const json_t *r)
{
  const json_t *q = json_object_get(r, "requests");
  json_t *ctx = json_pack(
      "{s:s, s:s, s:s, s:o, s:s, s:s, s:o, s:[o, o, o, o], s:[o, o], s:o, s:[o, o], s:O}",
      "from", jstr(r, "period", "from"), "to", jstr(r, "period", "to"), "generated_at",
      jstr(r, "generated_at", NULL), "head_pos", fmt(json_object_get(json_object_get(r, "audit"),
                                                                      "head_pos")),
      "head_hash", jstr(r, "audit", "head_hash"), "as_of", jstr(r, "backlog", "as_of"), "cards",
      cards(r), "count_tables", count_table("type", "requests", json_object_get(q, "by_type")),
      count_table("jurisdiction", "requests", json_object_get(q, "by_jurisdiction")),
      count_table("verification channel", "requests", json_object_get(q, "by_channel")),
      count_table("outcome (current status)", "requests", json_object_get(q, "by_outcome")),
      "reason_tables",
      count_table("reason", "extensions",
                  json_object_get(json_object_get(r, "extensions"), "by_reason")),
      count_table("reason", "denials", json_object_get(json_object_get(r, "denials"), "by_reason")),
      "customers", customers(json_object_get(r, "customers")), "receipt_tables",
      receipt_table("Erasure receipts", json_object_get(r, "erasure_receipts"), "receipts"),
      receipt_table("Retention sweeps", json_object_get(r, "retention_sweeps"), "sweeps"),
      "backups", json_object_get(r, "backups") ? json_object_get(r, "backups") : json_null());
  if (ctx && !charts(ctx, r)) {
    json_decref(ctx);
    return NULL;
  }
  return ctx;
}

char *dsr_report_html_ui(const json_t *report, const json_t *ui)
{
  json_t *ctx = context(report);
  char *out = NULL;
  char err[256];
  if (ctx && ui)
    json_object_set(ctx, "ui", (json_t *)ui);
  if (ctx && !dsr_template_render("compliance_report.html", "en", ctx, &out, err, sizeof err)) {
    DSR_ERROR("report.render_failed", "error=\"%s\"", err);
    out = NULL;
  }
  json_decref(ctx);
  return out;
}

char *dsr_report_html(const json_t *report)
{
  return dsr_report_html_ui(report, NULL);
}

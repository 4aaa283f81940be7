/**
 * @file report_html.c
 * @brief The report as one self-contained HTML page: summary, inline SVG
 *        charts (requests per week, time to complete, on-time rate per week)
 *        and tables, with print CSS so that "print to PDF" gives clean A4 pages.
 *        Every text from the data goes through dsr_html_escape().
 */
#include "config.h"
#include "dsr/report.h"
#include "report_svg.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char css[] =
    "body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,'DejaVu Sans',sans-serif;"
    "color:#1d2330;margin:2rem auto;max-width:60rem;padding:0 1.5rem}"
    "h1{font-size:1.7rem;margin:0 0 .2rem}h2{font-size:1.15rem;margin:1.8rem 0 .6rem;"
    "border-bottom:2px solid #dfe3ea;padding-bottom:.2rem}"
    ".meta{color:#566074;margin:.1rem 0}.anchor code{font-size:.8rem;word-break:break-all}"
    ".cards{display:grid;grid-template-columns:repeat(4,1fr);gap:.6rem;margin:1.2rem 0}"
    ".card{border:1px solid #dfe3ea;border-radius:6px;padding:.6rem .8rem}"
    ".card b{display:block;font-size:1.4rem}.card span{color:#566074;font-size:.8rem}"
    ".grid2{display:grid;grid-template-columns:1fr 1fr;gap:1rem}"
    "figure{margin:0 0 1rem;break-inside:avoid}figcaption{font-weight:600;margin:.3rem 0}"
    "svg{width:100%;height:auto}svg .grid{stroke:#e6e9ef}svg .axis{stroke:#7a8396}"
    "svg .tick{font-size:10px;fill:#566074}svg .val{font-size:9px;fill:#1d2330}"
    ".grid2 svg .tick{font-size:15px}.grid2 svg .val{font-size:15px}"
    "table{border-collapse:collapse;width:100%;margin:.2rem 0 1rem;break-inside:avoid}"
    "th,td{border-bottom:1px solid #e6e9ef;padding:.25rem .5rem;text-align:left}"
    "td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}"
    "th{background:#f4f6f9;font-weight:600}.none{color:#7a8396;font-style:italic}"
    "footer{margin-top:2rem;color:#7a8396;font-size:.8rem}"
    "@page{size:A4;margin:14mm}"
    "@media print{body{margin:0;max-width:none;font-size:11px}"
    "h2{break-after:avoid}.cards{grid-template-columns:repeat(4,1fr)}"
    "th{-webkit-print-color-adjust:exact;print-color-adjust:exact}"
    "section{break-inside:avoid-page}}";

static const char *jstr(const json_t *o, const char *path1, const char *path2)
{
  const json_t *v = json_object_get(o, path1);
  if (path2)
    v = json_object_get(v, path2);
  return json_is_string(v) ? json_string_value(v) : "";
}

static bool text(struct dsr_buf *b, const char *s)
{
  return dsr_html_escape(b, s);
}

/* A number as people read it; "n/a" for null. */
static void fmt(const json_t *v, char *out, size_t len)
{
  if (json_is_integer(v))
    snprintf(out, len, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
  else if (json_is_real(v))
    snprintf(out, len, "%.2f", json_real_value(v));
  else if (json_is_string(v))
    snprintf(out, len, "%s", json_string_value(v));
  else
    snprintf(out, len, "n/a");
}

static void days(const json_t *seconds, char *out, size_t len)
{
  if (json_is_number(seconds))
    snprintf(out, len, "%.1f d", json_number_value(seconds) / 86400.0);
  else
    snprintf(out, len, "n/a");
}

static bool card(struct dsr_buf *b, const char *value, const char *label)
{
  return dsr_buf_puts(b, "<div class=\"card\"><b>") && text(b, value) &&
         dsr_buf_puts(b, "</b><span>") && text(b, label) && dsr_buf_puts(b, "</span></div>");
}

static bool cards(struct dsr_buf *b, const json_t *r)
{
  const json_t *t = json_object_get(r, "timeliness"), *bl = json_object_get(r, "backlog");
  char v[8][48];
  fmt(json_object_get(json_object_get(r, "requests"), "received"), v[0], sizeof v[0]);
  fmt(json_object_get(t, "responded"), v[1], sizeof v[1]);
  const json_t *rate = json_object_get(t, "on_time_rate");
  if (json_is_number(rate))
    snprintf(v[2], sizeof v[2], "%.1f %%", json_number_value(rate) * 100);
  else
    snprintf(v[2], sizeof v[2], "n/a");
  days(json_object_get(t, "median_seconds_to_complete"), v[3], sizeof v[3]);
  days(json_object_get(t, "p95_seconds_to_complete"), v[4], sizeof v[4]);
  fmt(json_object_get(bl, "open"), v[5], sizeof v[5]);
  fmt(json_object_get(bl, "overdue"), v[6], sizeof v[6]);
  fmt(json_object_get(json_object_get(r, "extensions"), "count"), v[7], sizeof v[7]);
  return dsr_buf_puts(b, "<div class=\"cards\">") && card(b, v[0], "requests received") &&
         card(b, v[1], "answered (completed or denied)") && card(b, v[2], "answered on time") &&
         card(b, v[3], "median time to complete") && card(b, v[4], "95th percentile") &&
         card(b, v[5], "open") && card(b, v[6], "overdue") && card(b, v[7], "extensions") &&
         dsr_buf_puts(b, "</div>");
}

/** A two-column table of an object of counts. */
static bool count_table(struct dsr_buf *b, const char *title, const char *key_head,
                        const json_t *obj)
{
  bool ok = dsr_buf_puts(b, "<table><tr><th>") && text(b, key_head) &&
            dsr_buf_puts(b, "</th><th class=\"n\">") && text(b, title) &&
            dsr_buf_puts(b, "</th></tr>");
  const char *k;
  json_t *v;
  json_object_foreach((json_t *)obj, k, v)
  {
    char n[48];
    fmt(v, n, sizeof n);
    ok = ok && dsr_buf_puts(b, "<tr><td>") && text(b, k) && dsr_buf_puts(b, "</td><td class=\"n\">") &&
         text(b, n) && dsr_buf_puts(b, "</td></tr>");
  }
  if (ok && json_object_size(obj) == 0)
    ok = dsr_buf_puts(b, "<tr><td colspan=\"2\" class=\"none\">none</td></tr>");
  return ok && dsr_buf_puts(b, "</table>");
}

/** A table of a list of records: @p cols are member names, @p heads their titles. */
static bool list_table(struct dsr_buf *b, const json_t *list, size_t ncols,
                       const char *const *cols, const char *const *heads)
{
  bool ok = dsr_buf_puts(b, "<table><tr>");
  for (size_t c = 0; ok && c < ncols; c++)
    ok = dsr_buf_puts(b, c ? "<th class=\"n\">" : "<th>") && text(b, heads[c]) &&
         dsr_buf_puts(b, "</th>");
  ok = ok && dsr_buf_puts(b, "</tr>");
  size_t i;
  json_t *row;
  json_array_foreach(list, i, row)
  {
    ok = ok && dsr_buf_puts(b, "<tr>");
    for (size_t c = 0; ok && c < ncols; c++) {
      const json_t *v = json_object_get(row, cols[c]);
      char n[64];
      if (strstr(cols[c], "seconds"))
        days(v, n, sizeof n);
      else
        fmt(v, n, sizeof n);
      ok = dsr_buf_puts(b, c ? "<td class=\"n\">" : "<td>") && text(b, n) &&
           dsr_buf_puts(b, "</td>");
    }
    ok = ok && dsr_buf_puts(b, "</tr>");
  }
  if (ok && json_array_size(list) == 0)
    ok = dsr_buf_printf(b, "<tr><td colspan=\"%zu\" class=\"none\">none in this period</td></tr>",
                        ncols);
  return ok && dsr_buf_puts(b, "</table>");
}

/** Receipts: one row per collection, rows summed over actions, actions listed. */
static bool receipt_table(struct dsr_buf *b, const json_t *section)
{
  const json_t *cols = json_object_get(section, "collections");
  bool ok = dsr_buf_puts(b, "<table><tr><th>collection</th><th>rows by action</th>"
                            "<th class=\"n\">files</th></tr>");
  size_t i;
  json_t *c;
  json_array_foreach(cols, i, c)
  {
    ok = ok && dsr_buf_puts(b, "<tr><td>") && text(b, jstr(c, "collection", NULL)) &&
         dsr_buf_puts(b, "</td><td>");
    const char *k;
    json_t *v;
    bool first = true;
    json_object_foreach(json_object_get(c, "rows"), k, v)
    {
      char n[48];
      fmt(v, n, sizeof n);
      ok = ok && dsr_buf_puts(b, first ? "" : ", ") && text(b, k) && dsr_buf_puts(b, " ") &&
           text(b, n);
      first = false;
    }
    char f[48];
    fmt(json_object_get(c, "files"), f, sizeof f);
    ok = ok && dsr_buf_puts(b, "</td><td class=\"n\">") && text(b, f) &&
         dsr_buf_puts(b, "</td></tr>");
  }
  if (ok && json_array_size(cols) == 0)
    ok = dsr_buf_puts(b, "<tr><td colspan=\"3\" class=\"none\">none in this period</td></tr>");
  return ok && dsr_buf_puts(b, "</table>");
}

static bool figure(struct dsr_buf *b, const char *caption, const struct dsr_svg_chart *c)
{
  return dsr_buf_puts(b, "<figure><figcaption>") && text(b, caption) &&
         dsr_buf_puts(b, "</figcaption>") && dsr_svg_bars(b, c) && dsr_buf_puts(b, "</figure>");
}

static bool charts(struct dsr_buf *b, const json_t *r)
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
  ok = ok && dsr_buf_puts(b, "<section><h2>Charts</h2>") &&
       figure(b, "Requests received per week (week starting)", &weekly_chart) &&
       dsr_buf_puts(b, "<div class=\"grid2\">") &&
       figure(b, "Time to complete (completed requests)", &ttc_chart) &&
       figure(b, "On-time rate of answers, per week (no label: no answers)", &rate_chart) &&
       dsr_buf_puts(b, "</div></section>");
  free(wl);
  free(tl);
  free(recv);
  free(rate);
  free(tv);
  free(wk);
  free(answered);
  return ok;
}

static bool header(struct dsr_buf *b, const json_t *r)
{
  const json_t *a = json_object_get(r, "audit");
  char pos[32];
  fmt(json_object_get(a, "head_pos"), pos, sizeof pos);
  return dsr_buf_puts(b, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                         "<meta name=\"viewport\" content=\"width=device-width\">"
                         "<title>Compliance report ") &&
         text(b, jstr(r, "period", "from")) && dsr_buf_puts(b, " to ") &&
         text(b, jstr(r, "period", "to")) && dsr_buf_puts(b, "</title><style>") &&
         dsr_buf_puts(b, css) &&
         dsr_buf_puts(b, "</style></head><body><header><h1>Data-subject request compliance "
                         "report</h1><p class=\"meta\">Period ") &&
         text(b, jstr(r, "period", "from")) && dsr_buf_puts(b, " to ") &&
         text(b, jstr(r, "period", "to")) &&
         dsr_buf_puts(b, " (end exclusive) &middot; generated ") &&
         text(b, jstr(r, "generated_at", NULL)) &&
         dsr_buf_puts(b, "</p><p class=\"meta anchor\">Audit chain head: position ") &&
         text(b, pos) && dsr_buf_puts(b, ", BLAKE2b-256 <code>") &&
         text(b, jstr(a, "head_hash", NULL)) && dsr_buf_puts(b, "</code></p></header>");
}

static bool tables(struct dsr_buf *b, const json_t *r)
{
  const json_t *q = json_object_get(r, "requests");
  static const char *const cust_cols[] = {"customer_id", "parts", "median_response_seconds",
                                          "unanswered", "escalated"};
  static const char *const cust_heads[] = {"customer", "parts", "median response",
                                           "unanswered", "escalated"};
  static const char *const bk_cols[] = {"backup_set", "mechanism", "residual_until",
                                        "reported_at"};
  static const char *const bk_heads[] = {"backup set", "mechanism", "residual copies until",
                                         "reported"};
  char sweeps[64], receipts[64];
  fmt(json_object_get(json_object_get(r, "retention_sweeps"), "sweeps"), sweeps, sizeof sweeps);
  fmt(json_object_get(json_object_get(r, "erasure_receipts"), "receipts"), receipts,
      sizeof receipts);
  return dsr_buf_puts(b, "<section><h2>Requests received</h2><div class=\"grid2\">") &&
         count_table(b, "requests", "type", json_object_get(q, "by_type")) &&
         count_table(b, "requests", "jurisdiction", json_object_get(q, "by_jurisdiction")) &&
         count_table(b, "requests", "verification channel", json_object_get(q, "by_channel")) &&
         count_table(b, "requests", "outcome (current status)", json_object_get(q, "by_outcome")) &&
         dsr_buf_puts(b, "</div></section><section><h2>Extensions and denials</h2>"
                         "<div class=\"grid2\">") &&
         count_table(b, "extensions", "reason",
                     json_object_get(json_object_get(r, "extensions"), "by_reason")) &&
         count_table(b, "denials", "reason",
                     json_object_get(json_object_get(r, "denials"), "by_reason")) &&
         dsr_buf_puts(b, "</div></section><section><h2>Customer forwarding</h2>") &&
         list_table(b, json_object_get(r, "customers"), 5, cust_cols, cust_heads) &&
         dsr_buf_puts(b, "</section><section><h2>Erasure receipts (") && text(b, receipts) &&
         dsr_buf_puts(b, ")</h2>") && receipt_table(b, json_object_get(r, "erasure_receipts")) &&
         dsr_buf_puts(b, "</section><section><h2>Retention sweeps (") && text(b, sweeps) &&
         dsr_buf_puts(b, ")</h2>") && receipt_table(b, json_object_get(r, "retention_sweeps")) &&
         dsr_buf_puts(b, "</section><section><h2>Backups: residual windows</h2>") &&
         list_table(b, json_object_get(r, "backups"), 4, bk_cols, bk_heads) &&
         dsr_buf_puts(b, "</section>");
}

char *dsr_report_html(const json_t *r)
{
  struct dsr_buf b = {0};
  char asof[64];
  snprintf(asof, sizeof asof, "%s", jstr(r, "backlog", "as_of"));
  bool ok = header(&b, r) && cards(&b, r) && charts(&b, r) && tables(&b, r) &&
            dsr_buf_puts(&b, "<footer>Open and overdue counts are as of ") && text(&b, asof) &&
            dsr_buf_puts(&b, ". Answers are completions and denials; on time means at or before "
                             "the (possibly extended) due date. Check the audit chain with "
                             "<code>dsrctl audit verify</code>; compare the head above with "
                             "your anchored copy.</footer></body></html>\n");
  if (!ok) {
    dsr_buf_free(&b);
    return NULL;
  }
  return dsr_buf_steal(&b);
}

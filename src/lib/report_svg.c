/** @file report_svg.c @brief See report_svg.h. */
#include "config.h"
#include "report_svg.h"

#include <stdio.h>
#include <string.h>

#define W 640.0
#define H 260.0
#define LEFT 56.0
#define RIGHT 12.0
#define TOP 20.0
#define BOTTOM 72.0

bool dsr_html_escape(struct dsr_buf *out, const char *s)
{
  for (const char *p = s; *p; p++) {
    const char *e = *p == '&' ? "&amp;" : *p == '<' ? "&lt;" : *p == '>' ? "&gt;"
                  : *p == '"' ? "&quot;" : *p == '\'' ? "&#39;" : NULL;
    if (!(e ? dsr_buf_puts(out, e) : dsr_buf_append(out, p, 1)))
      return false;
  }
  return true;
}

/* A round axis maximum >= v: 1, 2 or 5 times a power of ten. */
static double nice_max(double v)
{
  if (v <= 0)
    return 1;
  double p = 1;
  while (p * 10 <= v)
    p *= 10;
  while (p > v)
    p /= 10;
  return v <= p ? p : v <= 2 * p ? 2 * p : v <= 5 * p ? 5 * p : 10 * p;
}

static bool axis(struct dsr_buf *out, double max, bool percent)
{
  double plot_h = H - TOP - BOTTOM;
  for (int i = 0; i <= 4; i++) {
    double v = max * i / 4, y = TOP + plot_h - plot_h * i / 4;
    char label[32];
    if (percent)
      snprintf(label, sizeof label, "%.0f%%", v * 100);
    else
      snprintf(label, sizeof label, "%g", v);
    if (!dsr_buf_printf(out,
                        "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" class=\"grid\"/>"
                        "<text x=\"%.1f\" y=\"%.1f\" class=\"tick\" text-anchor=\"end\">%s</text>",
                        LEFT, y, W - RIGHT, y, LEFT - 6, y + 4, label))
      return false;
  }
  return dsr_buf_printf(out,
                        "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" class=\"axis\"/>",
                        LEFT, H - BOTTOM, W - RIGHT, H - BOTTOM);
}

static bool bar(struct dsr_buf *out, const struct dsr_svg_chart *c, size_t i, double max)
{
  double plot_w = W - LEFT - RIGHT, plot_h = H - TOP - BOTTOM;
  double slot = plot_w / (double)c->n, bw = slot * 0.7;
  double v = c->values[i] > 0 ? c->values[i] : 0;
  double h = plot_h * (v > max ? 1 : v / max);
  double x = LEFT + slot * (double)i + (slot - bw) / 2, y = TOP + plot_h - h;
  char value[32];
  if (c->percent)
    snprintf(value, sizeof value, "%.0f%%", v * 100);
  else
    snprintf(value, sizeof value, "%g", v);
  bool ok = dsr_buf_printf(out,
                           "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
                           "fill=\"%s\"><title>",
                           x, y, bw, h, c->color) &&
            dsr_html_escape(out, c->labels[i]) &&
            dsr_buf_printf(out, ": %s</title></rect>", value);
  bool shown = v > 0 || (c->present && c->present[i]);
  if (ok && shown && c->n <= 16)
    ok = dsr_buf_printf(out, "<text x=\"%.1f\" y=\"%.1f\" class=\"val\" text-anchor=\"middle\">%s</text>",
                        x + bw / 2, y - 3, value);
  /* Labels under the bars; thinned out when there are many. */
  size_t every = c->n > 12 ? (c->n + 11) / 12 : 1;
  if (ok && i % every == 0)
    ok = dsr_buf_printf(out,
                        "<text x=\"%.1f\" y=\"%.1f\" class=\"tick\" text-anchor=\"end\" "
                        "transform=\"rotate(-35 %.1f %.1f)\">",
                        x + bw / 2, H - BOTTOM + 14, x + bw / 2, H - BOTTOM + 14) &&
         dsr_html_escape(out, c->labels[i]) && dsr_buf_puts(out, "</text>");
  return ok;
}

bool dsr_svg_bars(struct dsr_buf *out, const struct dsr_svg_chart *c)
{
  double max = 0;
  for (size_t i = 0; i < c->n; i++)
    if (c->values[i] > max)
      max = c->values[i];
  /* Counts: four whole-number steps on the axis. */
  max = c->percent ? 1 : 4 * nice_max(max / 4 < 1 ? 1 : max / 4);
  bool ok = dsr_buf_printf(out,
                           "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %.0f %.0f\" "
                           "role=\"img\" aria-label=\"",
                           W, H) &&
            dsr_html_escape(out, c->title) && dsr_buf_puts(out, "\">") && axis(out, max, c->percent);
  for (size_t i = 0; ok && i < c->n; i++)
    ok = bar(out, c, i, max);
  if (ok && c->n == 0)
    ok = dsr_buf_printf(out, "<text x=\"%.1f\" y=\"%.1f\" class=\"tick\" text-anchor=\"middle\">"
                             "no data in this period</text>", W / 2, H / 2);
  return ok && dsr_buf_puts(out, "</svg>");
}

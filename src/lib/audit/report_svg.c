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

static json_t *num(double v)
{
  char s[32];
  snprintf(s, sizeof s, "%.1f", v);
  return json_string(s);
}

static void value_text(double v, bool percent, char *out, size_t len)
{
  if (percent)
    snprintf(out, len, "%.0f%%", v * 100);
  else
    snprintf(out, len, "%g", v);
}

static json_t *ticks(double max, bool percent)
{
  json_t *a = json_array();
  double plot_h = H - TOP - BOTTOM;
  for (int i = 0; a && i <= 4; i++) {
    double y = TOP + plot_h - plot_h * i / 4;
    char label[32];
    value_text(max * i / 4, percent, label, sizeof label);
    json_array_append_new(a, json_pack("{s:o, s:o, s:o, s:o, s:o, s:s}", "x1", num(LEFT), "x2",
                                       num(W - RIGHT), "y", num(y), "tx", num(LEFT - 6), "ty",
                                       num(y + 4), "label", label));
  }
  return a;
}

static json_t *bar(const struct dsr_svg_chart *c, size_t i, double max)
{
  double plot_w = W - LEFT - RIGHT, plot_h = H - TOP - BOTTOM;
  double slot = plot_w / (double)c->n, bw = slot * 0.7;
  double v = c->values[i] > 0 ? c->values[i] : 0;
  double h = plot_h * (v > max ? 1 : v / max);
  double x = LEFT + slot * (double)i + (slot - bw) / 2, y = TOP + plot_h - h;
  char value[32];
  value_text(v, c->percent, value, sizeof value);
  bool shown = (v > 0 || (c->present && c->present[i])) && c->n <= 16;
  /* Labels under the bars; thinned out when there are many. */
  size_t every = c->n > 12 ? (c->n + 11) / 12 : 1;
  json_t *b = json_pack("{s:o, s:o, s:o, s:o, s:s, s:s, s:s}", "x", num(x), "y", num(y), "w",
                        num(bw), "h", num(h), "color", c->color, "name", c->labels[i], "value",
                        value);
  if (b && shown)
    json_object_set_new(b, "value_label",
                        json_pack("{s:o, s:o, s:s}", "x", num(x + bw / 2), "y", num(y - 3),
                                  "text", value));
  if (b && i % every == 0)
    json_object_set_new(b, "axis_label",
                        json_pack("{s:o, s:o, s:s}", "x", num(x + bw / 2), "y",
                                  num(H - BOTTOM + 14), "text", c->labels[i]));
  return b;
}

json_t *dsr_svg_chart_model(const struct dsr_svg_chart *c)
{
  double max = 0;
  for (size_t i = 0; i < c->n; i++)
    if (c->values[i] > max)
      max = c->values[i];
  /* Counts: four whole-number steps on the axis. */
  max = c->percent ? 1 : 4 * nice_max(max / 4 < 1 ? 1 : max / 4);
  json_t *bars = json_array();
  for (size_t i = 0; bars && i < c->n; i++)
    if (json_array_append_new(bars, bar(c, i, max)) != 0) {
      json_decref(bars);
      return NULL;
    }
  return json_pack("{s:s, s:o, s:o, s:o, s:o, s:{s:o, s:o, s:o, s:o}, s:b, s:o, s:o}", "title",
                   c->title, "width", num(W), "height", num(H), "ticks", ticks(max, c->percent),
                   "bars", bars, "axis", "x1", num(LEFT), "x2", num(W - RIGHT), "y",
                   num(H - BOTTOM), "y2", num(H - BOTTOM), "empty", c->n == 0, "cx", num(W / 2),
                   "cy", num(H / 2));
}

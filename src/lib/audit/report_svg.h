/**
 * @file report_svg.h
 * @brief Geometry of the bar charts in the HTML report (internal to libdsr).
 *        The chart is computed here and drawn as inline SVG by the template
 *        partial templates/report_chart.en.html, so every text is escaped by
 *        the renderer.
 */
#ifndef DSR_REPORT_SVG_H
#define DSR_REPORT_SVG_H

#include <jansson.h>
#include <stddef.h>
#include "dsr/util.h"

/** One chart: @p n bars with @p labels (borrowed) and @p values; percent scales to 0..1. */
struct dsr_svg_chart {
  const char *title;          /**< accessible name */
  size_t n;
  const char *const *labels;
  const double *values;
  bool percent;               /**< values are rates 0..1, axis 0-100 % */
  const char *color;          /**< CSS color of the bars */
  const bool *present;        /**< NULL, or which bars have data (a zero is then labelled) */
};

/**
 * The chart as a template context: {"title", "width", "height", "ticks": [...],
 * "bars": [...], "axis": {...}, "empty"}; coordinates are preformatted strings.
 * Caller decrefs; NULL on allocation failure.
 */
json_t *dsr_svg_chart_model(const struct dsr_svg_chart *c);

#endif

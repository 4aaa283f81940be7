/** @file report_svg.h @brief Inline SVG bar charts for the HTML report (internal to libdsr). */
#ifndef DSR_REPORT_SVG_H
#define DSR_REPORT_SVG_H

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

/** Appends an <svg> element for @p c to @p out (text escaped). */
DSR_MUST_USE bool dsr_svg_bars(struct dsr_buf *out, const struct dsr_svg_chart *c);
/** Appends @p s with &, <, >, " and ' escaped for HTML text and attributes. */
DSR_MUST_USE bool dsr_html_escape(struct dsr_buf *out, const char *s);

#endif

/**
 * @file report.h
 * @brief The compliance report for a period (docs/audit-format.md, section
 *        "Compliance report"; schema in docs/compliance-report.schema.json).
 *        Built from the request store and the audit trail; rendered as JSON,
 *        CSV or HTML with inline SVG charts.
 */
#ifndef DSR_REPORT_H
#define DSR_REPORT_H

#include <jansson.h>
#include <time.h>
#include "dsr/db.h"

#define DSR_REPORT_SCHEMA_VERSION 1

/**
 * Builds the report for [@p from, @p to), with open/overdue counted as of
 * @p now. On success *out is the JSON document (caller decrefs).
 */
DSR_MUST_USE bool dsr_report_build(struct dsr_db *db, time_t from, time_t to, time_t now,
                                   json_t **out, char *err, size_t errlen);

/** Renders the report as CSV (section,item,field,value); caller frees. NULL on failure. */
char *dsr_report_csv(const json_t *report);
/** Renders the report as one self-contained HTML page; caller frees. NULL on failure. */
char *dsr_report_html(const json_t *report);
/**
 * The same page inside the staff UI: @p ui (borrowed) holds the links "back"
 * (the period form) and "json", "csv", "html" (the downloads), shown above the
 * report and not printed. Caller frees.
 */
char *dsr_report_html_ui(const json_t *report, const json_t *ui);

/* --- statistics (report_stats.c), exposed for tests ------------------- */

/**
 * The @p q quantile (0..1) of @p n values by linear interpolation between
 * closest ranks (PostgreSQL percentile_cont). Sorts @p v in place. NaN if n = 0.
 */
double dsr_quantile(double *v, size_t n, double q);
/** Monday 00:00 UTC of the ISO week holding @p t. */
time_t dsr_week_start(time_t t);

/** Time-to-complete histogram buckets, in days: [min, max), max < 0 = open-ended. */
struct dsr_ttc_bucket {
  const char *label;
  int min_days;
  int max_days;
};
/** The buckets, terminated by a row with label NULL. */
const struct dsr_ttc_bucket *dsr_ttc_buckets(void);
/** Index of the bucket holding @p seconds. */
size_t dsr_ttc_bucket_of(double seconds);

#endif

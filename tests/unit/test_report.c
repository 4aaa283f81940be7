/** @file test_report.c @brief Report statistics, CSV flattening and HTML escaping. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "suites.h"
#include "dsr/report.h"
#include "dsr/timeparse.h"

START_TEST(quantiles_interpolate_like_percentile_cont)
{
  double v[] = {9, 1, 5, 3, 7}; /* sorted: 1 3 5 7 9 */
  ck_assert(fabs(dsr_quantile(v, 5, 0.5) - 5) < 1e-9);
  /* p95: rank 0.95 * 4 = 3.8 -> 7 + 0.8 * (9 - 7) = 8.6 */
  ck_assert(fabs(dsr_quantile(v, 5, 0.95) - 8.6) < 1e-9);
  double w[] = {4, 2}; /* median of an even count is the mean of the middle two */
  ck_assert(fabs(dsr_quantile(w, 2, 0.5) - 3) < 1e-9);
  double one[] = {42};
  ck_assert(fabs(dsr_quantile(one, 1, 0.95) - 42) < 1e-9);
  ck_assert(isnan(dsr_quantile(NULL, 0, 0.5)));
}
END_TEST

START_TEST(weeks_start_on_monday_utc)
{
  time_t t, monday;
  ck_assert(dsr_time_parse("2026-03-04T15:00:00Z", &t)); /* a Wednesday */
  ck_assert(dsr_time_parse("2026-03-02", &monday));
  ck_assert_int_eq((long long)dsr_week_start(t), (long long)monday);
  ck_assert_int_eq((long long)dsr_week_start(monday), (long long)monday);
  ck_assert_int_eq((long long)dsr_week_start(monday - 1), (long long)monday - 7 * 86400);
}
END_TEST

START_TEST(ttc_buckets)
{
  ck_assert_str_eq(dsr_ttc_buckets()[dsr_ttc_bucket_of(3600)].label, "< 1 day");
  ck_assert_str_eq(dsr_ttc_buckets()[dsr_ttc_bucket_of(86400)].label, "1-3 days");
  ck_assert_str_eq(dsr_ttc_buckets()[dsr_ttc_bucket_of(29.9 * 86400)].label, "14-30 days");
  ck_assert_str_eq(dsr_ttc_buckets()[dsr_ttc_bucket_of(400 * 86400.0)].label, "90+ days");
}
END_TEST

START_TEST(csv_flattens_every_leaf_once)
{
  json_t *r = json_pack("{s:s, s:{s:i, s:{s:i}}, s:{s:n, s:f}, s:[{s:s, s:i}, {s:s, s:i}],"
                        " s:{s:[{s:s, s:{s:i}}]}}",
                        "report", "x", "requests", "received", 3, "by_type", "erasure", 2,
                        "timeliness", "median", "rate", 0.5, "customers", "customer_id",
                        "=cmd|x", "parts", 4, "customer_id", "acme, inc", "parts", 1,
                        "erasure_receipts", "collections", "collection", "platform.calls",
                        "rows", "delete", 12);
  char *csv = dsr_report_csv(r);
  ck_assert_ptr_nonnull(csv);
  ck_assert_str_eq(csv, "section,item,field,value\r\n"
                        "report,,,x\r\n"
                        "requests,,received,3\r\n"
                        "requests,,by_type.erasure,2\r\n"
                        "timeliness,,median,\r\n"
                        "timeliness,,rate,0.5\r\n"
                        "customers,\"'=cmd|x\",parts,4\r\n"
                        "customers,\"acme, inc\",parts,1\r\n"
                        "erasure_receipts,collections.platform.calls,rows.delete,12\r\n");
  free(csv);
  json_decref(r);
}
END_TEST

START_TEST(html_escapes_data)
{
  json_t *r = json_pack("{s:{s:s, s:s}, s:s, s:{s:i, s:s}, s:{s:i, s:{s:i}},"
                        " s:[{s:s, s:i, s:n, s:i, s:i}]}",
                        "period", "from", "2026-01-01T00:00:00Z", "to", "2026-02-01T00:00:00Z",
                        "generated_at", "2026-02-01T00:00:00Z", "audit", "head_pos", 0,
                        "head_hash", "00", "requests", "received", 1, "by_type",
                        "<script>alert(1)</script>", 1, "customers", "customer_id",
                        "a\"b<i>", "parts", 1, "median_response_seconds", "unanswered", 1,
                        "escalated", 0);
  char *html = dsr_report_html(r);
  ck_assert_ptr_nonnull(html);
  ck_assert(strstr(html, "<script>") == NULL);
  ck_assert(strstr(html, "&lt;script&gt;alert(1)&lt;/script&gt;") != NULL);
  ck_assert(strstr(html, "a&quot;b&lt;i&gt;") != NULL);
  ck_assert(strstr(html, "@media print") != NULL);
  ck_assert(strstr(html, "<svg") != NULL);
  free(html);
  json_decref(r);
}
END_TEST

Suite *suite_report(void)
{
  Suite *s = suite_create("report");
  TCase *tc = tcase_create("render");
  tcase_add_test(tc, quantiles_interpolate_like_percentile_cont);
  tcase_add_test(tc, weeks_start_on_monday_utc);
  tcase_add_test(tc, ttc_buckets);
  tcase_add_test(tc, csv_flattens_every_leaf_once);
  tcase_add_test(tc, html_escapes_data);
  suite_add_tcase(s, tc);
  return s;
}

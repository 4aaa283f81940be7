/** @file report_stats.c @brief Quantiles, weeks and histogram buckets of the report. */
#include "config.h"
#include "dsr/report.h"

#include <math.h>
#include <stdlib.h>

static int cmp_double(const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

double dsr_quantile(double *v, size_t n, double q)
{
  if (n == 0)
    return NAN;
  qsort(v, n, sizeof *v, cmp_double);
  if (q <= 0)
    return v[0];
  if (q >= 1)
    return v[n - 1];
  double pos = q * (double)(n - 1);
  size_t lo = (size_t)pos; /* pos >= 0: truncation is floor */
  double frac = pos - (double)lo;
  return lo + 1 < n ? v[lo] + frac * (v[lo + 1] - v[lo]) : v[lo];
}

time_t dsr_week_start(time_t t)
{
  /* 1970-01-01 was a Thursday: shift by three days so weeks start on Monday. */
  const long long week = 7LL * 86400, shift = 3LL * 86400;
  long long x = (long long)t + shift;
  long long idx = x >= 0 ? x / week : -((-x + week - 1) / week);
  return (time_t)(idx * week - shift);
}

static const struct dsr_ttc_bucket buckets[] = {
    {"< 1 day", 0, 1},      {"1-3 days", 1, 3},     {"3-7 days", 3, 7},
    {"7-14 days", 7, 14},   {"14-30 days", 14, 30}, {"30-45 days", 30, 45},
    {"45-90 days", 45, 90}, {"90+ days", 90, -1},   {NULL, 0, 0},
};

const struct dsr_ttc_bucket *dsr_ttc_buckets(void)
{
  return buckets;
}

size_t dsr_ttc_bucket_of(double seconds)
{
  double days = seconds / 86400.0;
  size_t i = 0;
  while (buckets[i + 1].label && buckets[i].max_days >= 0 && days >= buckets[i].max_days)
    i++;
  return i;
}

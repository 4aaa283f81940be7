/**
 * @file metrics.h
 * @brief GET /metrics: process-wide counters and histograms (HTTP requests,
 *        job runs) that dsrd records as it works, and counts read from the
 *        database at most every metrics_cache_seconds, rendered in the
 *        Prometheus text exposition format 0.0.4. Labels carry route
 *        patterns, methods, statuses, kinds and states only, never personal
 *        data. Thread-safe.
 */
#ifndef DSR_METRICS_H
#define DSR_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "dsr/db.h"

/** Content-Type of the exposition. */
#define DSR_METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/**
 * Counts one answered HTTP request. @p route is a routing-table pattern
 * (static storage: the pointer is kept) or NULL for an unrouted path;
 * @p method any request method (unknown ones count as "other").
 */
void dsr_metrics_http_observe(const char *route, const char *method, unsigned int status,
                              double seconds);
/**
 * Counts one job run of @p kind (static storage: the registry's string) with
 * @p result "done", "retry" or "fail".
 */
void dsr_metrics_job_observe(const char *kind, const char *result, double seconds);

/** What a scrape reads besides the process's own figures. */
struct dsr_metrics_env {
  struct dsr_db_pool *pool; /**< database counts and pool figures (NULL: none) */
  const char *role;         /**< "http", "worker" or "all" (build info) */
  long cache_seconds;       /**< database counts are reused this long */
  time_t now;               /**< dsr_now() */
};

/**
 * The whole exposition; caller frees. NULL only when out of memory. When the
 * database does not answer, the last counts are kept and dsrd_metrics_db_up
 * is 0.
 */
char *dsr_metrics_render(const struct dsr_metrics_env *env);

/**
 * True when @p addr (numeric IPv4 or IPv6) is in @p allow: a comma-separated
 * list of addresses and CIDR ranges ("127.0.0.1,::1,10.0.0.0/8"). False for
 * malformed entries and an empty list.
 */
bool dsr_metrics_addr_allowed(const char *allow, const char *addr);

/** Forgets every process-wide figure (tests). */
void dsr_metrics_reset(void);

#endif

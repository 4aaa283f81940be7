/**
 * @file ratelimit.h
 * @brief In-memory token buckets, one table per limit, per process. Keys
 *        (client addresses, identities, request ids) are kept only as a
 *        keyed 128-bit hash under a per-process random key. The table has a
 *        fixed number of slots; when full, the least recently used bucket of
 *        a probe window is reused. Limits are per process: N dsrd processes
 *        behind a balancer allow up to N times the configured rate.
 */
#ifndef DSR_RATELIMIT_H
#define DSR_RATELIMIT_H

#include "dsr/util.h"

struct dsr_ratelimit;

/** A limit of @p per_hour events per key (also the burst size). Free with dsr_ratelimit_free(). */
struct dsr_ratelimit *dsr_ratelimit_new(long per_hour, size_t slots);
void dsr_ratelimit_free(struct dsr_ratelimit *rl);

/**
 * Takes one token for @p key at @p now_ms (monotonic milliseconds). When the
 * bucket is empty returns false and sets *retry_after to the whole seconds
 * until a token is back (at least 1).
 */
bool dsr_ratelimit_take(struct dsr_ratelimit *rl, const void *key, size_t keylen, double now_ms,
                        long *retry_after);

#endif

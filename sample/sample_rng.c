/** @file sample_rng.c @brief The sample generator's PRNG: keyed splitmix64 streams. */
#include "config.h"
#include "dsr/sample.h"

uint64_t dsr_sample_mix64(uint64_t x)
{
  x += UINT64_C(0x9e3779b97f4a7c15);
  x = (x ^ (x >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
  x = (x ^ (x >> 27)) * UINT64_C(0x94d049bb133111eb);
  return x ^ (x >> 31);
}

void dsr_sample_rng_init(struct dsr_sample_rng *r, uint64_t seed, uint64_t kind, uint64_t index)
{
  r->s = dsr_sample_mix64(dsr_sample_mix64(seed ^ dsr_sample_mix64(kind)) + index);
}

uint64_t dsr_sample_rng_next(struct dsr_sample_rng *r)
{
  r->s += UINT64_C(0x9e3779b97f4a7c15);
  uint64_t z = r->s;
  z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
  z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
  return z ^ (z >> 31);
}

uint64_t dsr_sample_rng_below(struct dsr_sample_rng *r, uint64_t n)
{
  return (uint64_t)(((unsigned __int128)dsr_sample_rng_next(r) * n) >> 64);
}

int64_t dsr_sample_rng_range(struct dsr_sample_rng *r, int64_t lo, int64_t hi)
{
  return lo + (int64_t)dsr_sample_rng_below(r, (uint64_t)(hi - lo) + 1);
}

bool dsr_sample_rng_pct(struct dsr_sample_rng *r, unsigned percent)
{
  return dsr_sample_rng_below(r, 100) < percent;
}

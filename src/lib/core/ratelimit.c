/** @file ratelimit.c @brief Token buckets keyed by keyed hashes (see ratelimit.h). */
#include "config.h"
#include "dsr/ratelimit.h"

#include <pthread.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#define PROBE 16

struct bucket {
  unsigned char key[16];
  double tokens;
  double last_ms;
  bool used;
};

struct dsr_ratelimit {
  pthread_mutex_t lock;
  unsigned char hkey[crypto_generichash_KEYBYTES];
  double capacity;
  double per_ms;
  size_t n;
  struct bucket *slots;
};

struct dsr_ratelimit *dsr_ratelimit_new(long per_hour, size_t slots)
{
  struct dsr_ratelimit *rl = calloc(1, sizeof *rl);
  if (!rl)
    return NULL;
  rl->slots = calloc(slots ? slots : 1, sizeof *rl->slots);
  if (!rl->slots) {
    free(rl);
    return NULL;
  }
  rl->n = slots ? slots : 1;
  rl->capacity = (double)per_hour;
  rl->per_ms = (double)per_hour / 3600000.0;
  randombytes_buf(rl->hkey, sizeof rl->hkey);
  pthread_mutex_init(&rl->lock, NULL);
  return rl;
}

void dsr_ratelimit_free(struct dsr_ratelimit *rl)
{
  if (!rl)
    return;
  pthread_mutex_destroy(&rl->lock);
  free(rl->slots);
  free(rl);
}

/* The bucket of @p h: its slot, a free slot, or the stalest one in the probe window. */
static struct bucket *find(struct dsr_ratelimit *rl, const unsigned char h[16], double now_ms)
{
  uint64_t start;
  memcpy(&start, h, sizeof start);
  struct bucket *victim = NULL;
  for (size_t i = 0; i < PROBE && i < rl->n; i++) {
    struct bucket *b = &rl->slots[(start + i) % rl->n];
    if (b->used && memcmp(b->key, h, 16) == 0)
      return b;
    if (!b->used) {
      if (!victim || victim->used)
        victim = b;
    } else if (!victim || (victim->used && b->last_ms < victim->last_ms)) {
      victim = b;
    }
  }
  memcpy(victim->key, h, 16);
  victim->used = true;
  victim->tokens = rl->capacity;
  victim->last_ms = now_ms;
  return victim;
}

bool dsr_ratelimit_take(struct dsr_ratelimit *rl, const void *key, size_t keylen, double now_ms,
                        long *retry_after)
{
  unsigned char h[16];
  crypto_generichash(h, sizeof h, key, keylen, rl->hkey, sizeof rl->hkey);
  pthread_mutex_lock(&rl->lock);
  struct bucket *b = find(rl, h, now_ms);
  double elapsed = now_ms - b->last_ms;
  if (elapsed > 0) {
    b->tokens += elapsed * rl->per_ms;
    if (b->tokens > rl->capacity)
      b->tokens = rl->capacity;
    b->last_ms = now_ms;
  }
  bool ok = b->tokens >= 1.0;
  if (ok) {
    b->tokens -= 1.0;
  } else {
    double wait_ms = (1.0 - b->tokens) / rl->per_ms;
    long s = (long)(wait_ms / 1000.0);
    if ((double)s * 1000.0 < wait_ms)
      s++;
    *retry_after = s < 1 ? 1 : s;
  }
  pthread_mutex_unlock(&rl->lock);
  return ok;
}

/**
 * @file fuzz.h
 * @brief Shared set-up of the libFuzzer targets (tests/fuzz/fuzz_*.c): the
 *        validation patterns, a fixed key, quiet logs, and a NUL-terminated
 *        copy of the input. Built and run by scripts/fuzz.
 */
#ifndef DSR_FUZZ_H
#define DSR_FUZZ_H

#include "config.h"
#include "dsr/crypto.h"
#include "dsr/log.h"
#include "dsr/validate.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static inline void fuzz_setup(void)
{
  static int done;
  if (done)
    return;
  done = 1;
  dsr_log_set_level(DSR_LOG_ERROR);
  unsigned char key[32];
  memset(key, 0x42, sizeof key);
  dsr_crypto_init_with_key(key);
  if (!dsr_validate_init())
    abort();
}

/** A NUL-terminated copy of the input (caller frees); NULL when out of memory. */
static inline char *fuzz_str(const uint8_t *data, size_t size)
{
  char *s = malloc(size + 1);
  if (s) {
    memcpy(s, data, size);
    s[size] = '\0';
  }
  return s;
}

#endif

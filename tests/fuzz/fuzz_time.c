/**
 * @file fuzz_time.c
 * @brief The time parser of report periods and command-line dates.
 */
#include "fuzz.h"
#include "dsr/timeparse.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
  (void)argc;
  (void)argv;
  fuzz_setup();
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  char *s = fuzz_str(data, size);
  if (!s)
    return 0;
  time_t t;
  (void)!dsr_time_parse(s, &t);
  free(s);
  return 0;
}

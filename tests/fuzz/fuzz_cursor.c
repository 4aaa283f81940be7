/**
 * @file fuzz_cursor.c
 * @brief The page cursor decoder (staff request list, customer parts): whatever it accepts is a well-formed
 *        timestamp of a real date and a UUID (nothing else may reach SQL).
 */
#include "fuzz.h"
#include "dsr/page_cursor.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
  (void)argc;
  (void)argv;
  fuzz_setup();
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  char *cur = fuzz_str(data, size);
  if (!cur)
    return 0;
  char ts[40], id[40];
  const char *why;
  if (dsr_cursor_decode(cur, ts, id)) {
    if (strlen(ts) != 27 || ts[26] != 'Z' || !dsr_valid_uuid(id, &why))
      abort();
    int mo = (ts[5] - '0') * 10 + (ts[6] - '0'), d = (ts[8] - '0') * 10 + (ts[9] - '0');
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || ts[10] != 'T')
      abort();
  }
  free(cur);
  return 0;
}

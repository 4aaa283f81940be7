/**
 * @file fuzz_validators.c
 * @brief The identity validators and normalizers (phone numbers as people
 *        write them, to E.164), free text and UTF-8: no
 *        crash, and what a validator accepts holds no control character (the
 *        trailing-newline finding, L2).
 */
#include "fuzz.h"
#include "dsr/phone.h"
#include "dsr/util.h"

static void no_controls(const char *s)
{
  for (const unsigned char *p = (const unsigned char *)s; *p; p++)
    if (*p < 0x20 || *p == 0x7f)
      abort();
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
  (void)argc;
  (void)argv;
  fuzz_setup();
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  (void)dsr_utf8_valid((const char *)data, size);
  char *s = fuzz_str(data, size);
  if (!s)
    return 0;
  const char *why = NULL;
  if (dsr_valid_email(s, &why)) {
    no_controls(s);
    char *n = dsr_normalize_email(s);
    if (!n || !dsr_valid_email(n, &why))
      abort(); /* normalizing keeps an address valid */
    free(n);
  }
  if (dsr_valid_phone(s, &why))
    no_controls(s);
  if (dsr_valid_phone_written(s, &why)) {
    no_controls(s);
    /* libphonenumber reads whatever people write, with or without a region */
    char *e164 = dsr_phone_e164(s, (size > 0 && data[0] & 1) ? "DE" : NULL);
    if (e164)
      no_controls(e164);
    free(e164);
  }
  if (dsr_valid_account_id(s, &why))
    no_controls(s);
  if (dsr_valid_language(s, &why))
    no_controls(s);
  if (dsr_valid_uuid(s, &why) && strlen(s) != 36)
    abort();
  (void)dsr_valid_text(s, &why);
  free(s);
  return 0;
}

/**
 * @file fuzz_webhook.c
 * @brief The webhook signature verifier: the input is a webhook-signature
 *        header; it must never match unless it carries the real signature,
 *        and must never crash.
 */
#include "fuzz.h"
#include "dsr/webhook.h"

static const char whsec[] = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
static const char body[] = "{\"type\":\"dsr.forwarded\",\"data\":{\"part_id\":\"p1\"}}";
static char *good;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
  (void)argc;
  (void)argv;
  fuzz_setup();
  good = dsr_webhook_sign(whsec, "msg_1", 1700000000, body, sizeof body - 1);
  if (!good)
    abort();
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  char *header = fuzz_str(data, size);
  if (!header)
    return 0;
  bool ok = dsr_webhook_verify(whsec, "msg_1", 1700000000, body, sizeof body - 1, header);
  if (ok && !strstr(header, good + 3))
    abort(); /* matched without the signature in it */
  /* The header as a secret and as a body, too. */
  (void)dsr_webhook_verify(header, "msg_1", 1700000000, body, sizeof body - 1, good);
  (void)dsr_webhook_verify(whsec, header, 0, header, strlen(header), good);
  char *sig = dsr_webhook_sign(header, "m", 1, "", 0);
  free(sig);
  free(header);
  return 0;
}

/**
 * @file fuzz_jspec.c
 * @brief The JSON request specs: intake, verify, resend, staff actions,
 *        customer decisions, restriction lifts and correction decisions.
 *        The first byte picks the spec; the rest is the body, parsed as the
 *        dispatcher does (UTF-8 check, jansson, the spec).
 */
#include "fuzz.h"
#include "httpd.h"
#include "dsr/util.h"

static const struct dsr_jspec *const specs[] = {
    dsrd_request_create_spec, dsrd_verify_spec,           dsrd_resend_spec,
    dsrd_admin_action_spec,   dsrd_customer_decision_spec, dsrd_restriction_lift_spec,
    dsrd_correction_decide_spec,
};

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
  (void)argc;
  (void)argv;
  fuzz_setup();
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  if (size < 1)
    return 0;
  const struct dsr_jspec *spec = specs[data[0] % (sizeof specs / sizeof *specs)];
  const char *body = (const char *)data + 1;
  size_t len = size - 1;
  if (!dsr_utf8_valid(body, len))
    return 0;
  json_error_t jerr;
  json_t *j = json_loadb(body, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
  if (!j)
    return 0;
  struct dsr_jspec_error err;
  if (dsr_jspec_parse(j, spec, &err) && !json_is_object(j))
    abort(); /* a spec accepts objects only */
  json_decref(j);
  return 0;
}

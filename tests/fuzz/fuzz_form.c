/**
 * @file fuzz_form.c
 * @brief The form decoder (application/x-www-form-urlencoded) and the form
 *        specs of the public pages and the staff UI. The first byte picks
 *        the spec.
 */
#include "fuzz.h"
#include "forms.h"
#include "httpd.h"

static const struct dsr_jspec *const specs[] = {
    dsrd_page_create_form, dsrd_page_verify_form, dsrd_page_resend_form,
    dsrd_ui_login_form,    dsrd_ui_action_form,   dsrd_ui_rotate_form,
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
  /* The dispatcher hands the decoder the body as received: not NUL-terminated. */
  char *body = malloc(size - 1 ? size - 1 : 1);
  if (!body)
    return 0;
  memcpy(body, data + 1, size - 1);
  const char *why = NULL;
  json_t *j = dsr_form_decode(body, size - 1, &why);
  if (j) {
    if (!json_is_object(j))
      abort();
    struct dsr_jspec_error err;
    (void)!dsr_jspec_parse(j, spec, &err);
    json_decref(j);
  } else if (!why) {
    abort(); /* a refusal always says why */
  }
  free(body);
  return 0;
}

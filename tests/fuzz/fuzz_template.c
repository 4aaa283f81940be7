/**
 * @file fuzz_template.c
 * @brief The template renderer: the input is a template text, rendered with
 *        a context that has strings, numbers, lists and nested objects.
 */
#include "fuzz.h"
#include "dsr/template.h"

static json_t *ctx;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
  (void)argc;
  (void)argv;
  fuzz_setup();
  ctx = json_pack("{s:s, s:i, s:b, s:n, s:[s, s], s:{s:s, s:[{s:s}]}, s:s}", "name",
                  "Ana <b>&amp;</b>", "count", 3, "ok", 1, "none", "list", "a", "b", "org",
                  "title", "CallOrbit", "items", "x", "y", "lang", "en");
  if (!ctx)
    abort();
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  char *text = fuzz_str(data, size);
  if (!text)
    return 0;
  char *out = NULL, err[256];
  if (dsr_template_render_text("fuzz.html", text, "en", ctx, &out, err, sizeof err) && !out)
    abort();
  free(out);
  out = NULL;
  if (dsr_template_render_text("fuzz.txt", text, "en", ctx, &out, err, sizeof err) && !out)
    abort();
  free(out);
  free(text);
  return 0;
}

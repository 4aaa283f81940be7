/**
 * @file fuzz_router.c
 * @brief The path checker and the router: the first byte picks the method,
 *        the rest is the path as libmicrohttpd hands it over.
 */
#include "fuzz.h"
#include "httpd.h"

static const char *const methods[] = {"GET", "POST", "PUT", "DELETE", "HEAD", "PATCH"};

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
  char *path = fuzz_str(data + 1, size - 1);
  if (!path)
    return 0;
  const char *method = methods[data[0] % (sizeof methods / sizeof *methods)];
  if (strlen(path) < 1024 && dsr_path_safe(path)) {
    const char *args[DSR_MAX_PATH_ARGS] = {0};
    char argbuf[1024];
    bool known = false;
    const struct dsr_route *r = dsr_route_match(dsr_routes,
                                                method, path, args, argbuf, sizeof argbuf, &known);
    if (r) {
      /* Captured segments are inside argbuf and NUL-terminated. */
      for (int i = 0; i < DSR_MAX_PATH_ARGS; i++)
        if (args[i] && (args[i] < argbuf || args[i] >= argbuf + sizeof argbuf))
          abort();
    }
    char allowed[128];
    dsr_route_allowed(dsr_routes, path, allowed, sizeof allowed);
  }
  free(path);
  return 0;
}

/**
 * @file fuzz_policy.c
 * @brief The policy loader and validator (dsr_policy_check, which collects
 *        every diagnostic): the input is the policy file, handed over as an
 *        in-memory file.
 */
#define _GNU_SOURCE
#include "fuzz.h"
#include "dsr/policy.h"

#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

static int fd = -1;
static char path[64];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
  (void)argc;
  (void)argv;
  fuzz_setup();
  fd = memfd_create("policy", 0);
  if (fd < 0)
    abort();
  snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  if (ftruncate(fd, 0) != 0 || pwrite(fd, data, size, 0) != (ssize_t)size)
    abort();
  struct dsr_diags diags = {0};
  struct dsr_policy *p = dsr_policy_check(path, &diags);
  if (p && (!dsr_policy_json(p) || !json_is_object(dsr_policy_json(p))))
    abort(); /* a loaded policy is an object */
  dsr_policy_free(p);
  dsr_diags_free(&diags);
  return 0;
}

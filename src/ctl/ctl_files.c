/**
 * @file ctl_files.c
 * @brief dsrctl files retry|list: the files an erasure or sweep could not
 *        remove after its bounded retries (left residual and reported in the
 *        receipt) are listed, and retried once the cause is fixed, through
 *        the same resolver as the executor. Ids, stores, steps and reasons
 *        only: never a path (it may name the subject).
 */
#include "config.h"
#include "ctl.h"
#include "dsr/executor.h"
#include "dsr/policy.h"
#include "dsr/validate.h"

#include <stdio.h>
#include <string.h>

/* Usage errors are one line with a hint; the synopsis is dsrctl's table (dsrctl files --help). */
#define FILES_HINT "(see dsrctl files --help)"

/* Parses [--request ID] [--policy FILE] (the latter when @p policy is given). */
static bool args(const char *cmd, int argc, char **argv, const char **request,
                 const char **policy)
{
  for (int i = 2; i < argc; i++) {
    if (!strcmp(argv[i], "--request") && i + 1 < argc) {
      *request = argv[++i];
    } else if (policy && !strcmp(argv[i], "--policy") && i + 1 < argc) {
      *policy = argv[++i];
    } else {
      ctl_error("files %s: unknown argument %.60s %s", cmd, argv[i], FILES_HINT);
      return false;
    }
  }
  const char *why = NULL;
  if (*request && !dsr_valid_uuid(*request, &why)) {
    ctl_error("files %s: --request \"%.40s\" %s (expected a request id)", cmd, *request,
              why ? why : "is not a UUID");
    return false;
  }
  return true;
}

static int list(const struct dsr_config *cfg, int argc, char **argv)
{
  const char *request = NULL;
  if (!args("list", argc, argv, &request, NULL))
    return 2;
  if (!request) {
    ctl_error("files list: --request ID is required %s", FILES_HINT);
    return 2;
  }
  struct ctl_session s;
  if (!ctl_session_open_plain(cfg, &s))
    return 1;
  int rc = 1;
  json_t *a = dsr_files_residual_of_request(s.db, request);
  if (!a) {
    ctl_error("files list: cannot read the residual files");
    goto cleanup;
  }
  printf("%-10s %-16s %-32s %-8s %s\n", "id", "store", "step", "attempts", "reason");
  size_t i;
  json_t *f;
  json_array_foreach(a, i, f)
    printf("%-10lld %-16s %-32s %-8lld %s\n",
           (long long)json_integer_value(json_object_get(f, "id")),
           json_string_value(json_object_get(f, "store")),
           json_string_value(json_object_get(f, "step")),
           (long long)json_integer_value(json_object_get(f, "attempts")),
           json_string_value(json_object_get(f, "reason")));
  rc = 0;
cleanup:
  json_decref(a);
  ctl_session_close(&s);
  return rc;
}

static int retry(const struct dsr_config *cfg, int argc, char **argv)
{
  const char *request = NULL, *file = cfg->policy_file;
  if (!args("retry", argc, argv, &request, &file))
    return 2;
  int rc = 1;
  struct dsr_policy *p = ctl_policy_open(file, "files retry", &rc);
  if (!p)
    return rc;
  struct ctl_session s = {0};
  rc = 1;
  if (!ctl_session_open(cfg, &s))
    goto cleanup;
  long removed = 0, left = 0;
  char err[256];
  if (!dsr_files_retry(s.db, p, request, &removed, &left, err, sizeof err)) {
    ctl_error("files retry: %s", err);
    goto cleanup;
  }
  printf("removed %ld file%s; %ld still residual\n", removed, removed == 1 ? "" : "s", left);
  if (left > 0)
    fprintf(stderr, "dsrctl: files retry: see their reasons with dsrctl files list --request ID"
                    " or on the request page\n");
  rc = left > 0 ? 1 : 0;
cleanup:
  ctl_session_close(&s);
  dsr_policy_free(p);
  return rc;
}

int ctl_files(const struct dsr_config *cfg, int argc, char **argv)
{
  if (argc >= 2 && !strcmp(argv[1], "retry"))
    return retry(cfg, argc, argv);
  if (argc >= 2 && !strcmp(argv[1], "list"))
    return list(cfg, argc, argv);
  ctl_error("files: expected list or retry %s", FILES_HINT);
  return 2;
}

/**
 * @file ctl_service.c
 * @brief dsrctl service-key create --name N: a key for the platform's
 *        services (GET /v1/restrictions/check). The key is printed once;
 *        dsrd keeps only its keyed hash.
 */
#include "config.h"
#include "ctl.h"
#include "dsr/rights.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int ctl_service(const struct dsr_config *cfg, int argc, char **argv)
{
  const char *name = ctl_opt(argc, argv, "--name");
  if (argc < 2 || strcmp(argv[1], "create") != 0 || !name || !*name || strlen(name) > 128) {
    ctl_error("service-key: usage: dsrctl service-key create --name NAME");
    return 2;
  }
  struct ctl_session d;
  if (!ctl_session_open(cfg, &d))
    return 1;
  char *key = NULL, id[40];
  enum dsr_ec ec = dsr_service_key_create(d.db, name, &key, id);
  int rc = 1;
  if (ec == DSR_E_CONFLICT)
    ctl_error("a service key named %s exists", name);
  else if (ec != DSR_OK)
    ctl_error("creating the service key failed (%s)", dsr_ec_code(ec));
  else {
    printf("service_key_id: %s\nservice_key: %s\n", id, key);
    rc = 0;
  }
  if (key) {
    sodium_memzero(key, strlen(key));
    free(key);
  }
  ctl_session_close(&d);
  return rc;
}

/**
 * @file ctl_staff.c
 * @brief dsrctl staff token create --role R --name N: a staff API token,
 *        printed once (dsrd keeps only its keyed hash).
 */
#include "config.h"
#include "ctl.h"
#include "dsr/staff.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int ctl_staff(const struct dsr_config *cfg, int argc, char **argv)
{
  const char *name = ctl_opt(argc, argv, "--name");
  /*
   * "--role" is also dsrd's process role (dsrd.conf(5)), so the shared option
   * parser has already stored it in cfg->role. Its dsrd values (http, worker,
   * all) are never staff roles, so a configured process role cannot grant one.
   */
  const char *role_s = ctl_opt(argc, argv, "--role");
  if (!role_s)
    role_s = cfg->role;
  enum dsr_role role;
  if (argc < 3 || strcmp(argv[1], "token") != 0 || strcmp(argv[2], "create") != 0 || !name ||
      !*name || !role_s) {
    ctl_error("usage: dsrctl staff token create --role admin|triager|approver|auditor --name N");
    return 2;
  }
  if (!dsr_role_parse(role_s, &role)) {
    ctl_error("--role must be admin, triager, approver or auditor");
    return 2;
  }
  struct ctl_session s;
  if (!ctl_session_open(cfg, &s))
    return 1;
  char *token = NULL;
  char user_id[40];
  enum dsr_ec ec = dsr_staff_token_create(s.db, CTL_ACTOR, name, role, &token, user_id);
  int rc = 1;
  if (ec == DSR_OK) {
    printf("staff_id: %s\nrole: %s\ntoken: %s\n", user_id, dsr_role_name(role), token);
    fprintf(stderr, "dsrctl: store the token now; it is not shown again\n");
    sodium_memzero(token, strlen(token));
    free(token);
    rc = 0;
  } else if (ec == DSR_E_CONFLICT) {
    ctl_error("staff user \"%s\" exists with another role", name);
  } else {
    ctl_error("%s", dsr_ec_title(ec));
  }
  ctl_session_close(&s);
  return rc;
}

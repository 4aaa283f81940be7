/**
 * @file ctl_customer.c
 * @brief dsrctl customer add|rotate-key|rotate-secret|enable. New API keys
 *        and whsec_ secrets are printed once, on stdout; dsrd keeps only a
 *        keyed hash of the key and a sealed copy of the secret.
 */
#include "config.h"
#include "ctl.h"
#include "dsr/customers.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void print_secret(const char *label, char *value)
{
  printf("%s: %s\n", label, value);
  sodium_memzero(value, strlen(value));
  free(value);
}

static int usage(void)
{
  ctl_error("customer: expected add, rotate-key, rotate-secret or enable with their options "
            "(see dsrctl customer --help)");
  return 2;
}

static int report(enum dsr_ec ec, const char *name, const char *why)
{
  if (ec == DSR_OK)
    return 0;
  if (ec == DSR_E_NOT_FOUND)
    ctl_error("no customer named \"%s\"", name);
  else
    ctl_error("%s", why && *why ? why : dsr_ec_title(ec));
  return 1;
}

int ctl_customer(const struct dsr_config *cfg, int argc, char **argv)
{
  if (argc < 2)
    return usage();
  const char *sub = argv[1];
  const char *name = ctl_opt(argc, argv, "--name");
  if (!name || !*name)
    return usage();
  const char *tenant = ctl_opt(argc, argv, "--tenant");
  const char *url = ctl_opt(argc, argv, "--webhook-url");
  const char *grace = ctl_opt(argc, argv, "--grace-hours");
  if (!strcmp(sub, "add") && (!tenant || !url))
    return usage();
  if (strcmp(sub, "add") && strcmp(sub, "rotate-key") && strcmp(sub, "rotate-secret") &&
      strcmp(sub, "enable"))
    return usage();
  long grace_h = cfg->webhook_secret_grace_hours;
  if (grace) {
    char *end = NULL;
    grace_h = strtol(grace, &end, 10);
    if (*end || grace_h < 0 || grace_h > 720) {
      ctl_error("--grace-hours must be from 0 to 720");
      return 2;
    }
  }
  struct ctl_session s;
  if (!ctl_session_open(cfg, &s))
    return 1;
  int rc = 1;
  char why[256] = "";
  char *key = NULL, *sec = NULL;
  enum dsr_ec ec;
  if (!strcmp(sub, "add")) {
    struct dsr_webhook_opts o;
    dsr_webhook_opts_from_config(&o, cfg);
    char id[40];
    ec = dsr_customer_add(s.db, &o, CTL_ACTOR, name, tenant, url, id, &key, &sec, why, sizeof why);
    if (ec == DSR_OK) {
      printf("customer_id: %s\n", id);
      print_secret("api_key", key);
      print_secret("webhook_secret", sec);
    }
  } else if (!strcmp(sub, "rotate-key")) {
    ec = dsr_customer_rotate_key(s.db, CTL_ACTOR, name, &key);
    if (ec == DSR_OK)
      print_secret("api_key", key);
  } else if (!strcmp(sub, "rotate-secret")) {
    ec = dsr_customer_rotate_secret(s.db, CTL_ACTOR, name, grace_h, &sec);
    if (ec == DSR_OK) {
      print_secret("webhook_secret", sec);
      printf("previous_secret_valid_hours: %ld\n", grace_h);
    }
  } else {
    ec = dsr_customer_enable(s.db, name);
    if (ec == DSR_OK)
      printf("enabled\n");
  }
  rc = report(ec, name, why);
  if (rc == 0 && strcmp(sub, "enable") != 0)
    fprintf(stderr, "dsrctl: store these now; they are not shown again\n");
  ctl_session_close(&s);
  return rc;
}

/**
 * @file ctl_drp.c
 * @brief dsrctl drp business-document: prints the business document of the
 *        Data Rights Protocol 1.0 (section 3.05.2) from the configuration
 *        (drp_business_id, drp_actions, base_url, drp_base_path) and the
 *        policy's organization, for the network's operators.
 */
#include "config.h"
#include "ctl.h"
#include "dsr/drp.h"
#include "dsr/policy.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

int ctl_drp(const struct dsr_config *cfg, int argc, char **argv)
{
  if (argc < 2 || strcmp(argv[1], "business-document") != 0 || argc > 2) {
    ctl_error("drp: expected \"business-document\" (see dsrctl drp --help)");
    return 2;
  }
  if (!cfg->drp_business_id) {
    ctl_error("drp: set drp_business_id first (dsrd.conf(5))");
    return 1;
  }
  struct dsr_policy *p = NULL;
  int rc = 1;
  if (cfg->policy_file && !(p = ctl_policy_open(cfg->policy_file, "drp", &rc)))
    return rc;
  json_t *doc = dsr_drp_business_document(cfg, p);
  rc = doc && json_dumpf(doc, stdout, JSON_INDENT(2)) == 0 && fputc('\n', stdout) != EOF &&
               fflush(stdout) == 0
           ? 0
           : 1;
  json_decref(doc);
  dsr_policy_free(p);
  return rc;
}

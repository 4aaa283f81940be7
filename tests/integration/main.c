/**
 * @file main.c
 * @brief Integration tests: one throwaway PostgreSQL cluster and one dsrd
 *        using it through database_url, shared by the suites; the embedded
 *        suite starts its own dsrd processes on their own state directories.
 */
#include <curl/curl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include "suites.h"
#include "ops_util.h"

struct h_pg it_pg;
struct h_dsrd it_dsrd;

int main(void)
{
  curl_global_init(CURL_GLOBAL_DEFAULT);
  h_setup_phase = true;
  /* The shared key of account assertions (verify.h), inherited by every dsrd started here. */
  setenv("PLATFORM_ASSERTION_KEY", "test-assertion-key-0123456789abcdef", 1);
  h_pg_start(&it_pg);
  char url_arg[512];
  snprintf(url_arg, sizeof url_arg, "--database-url=%s", it_pg.conninfo);
  /* Suites share one address and few identities: their own limits are tested on their own daemons. */
  const char *args[] = {url_arg, "--rate-intake-per-address=1000000",
                        "--rate-intake-per-identity=1000000", "--rate-verify-per-address=1000000",
                        "--rate-verify-per-request=1000000", NULL};
  h_dsrd_start(&it_dsrd, NULL, args);
  h_setup_phase = false;

  SRunner *sr = srunner_create(suite_intake());
  srunner_add_suite(sr, suite_malformed());
  srunner_add_suite(sr, suite_embedded());
  srunner_add_suite(sr, suite_routing());
  srunner_add_suite(sr, suite_queue());
  srunner_add_suite(sr, suite_queue_batch());
  srunner_add_suite(sr, suite_claim_plans());
  srunner_add_suite(sr, suite_policy_plan());
  srunner_add_suite(sr, suite_audit());
  srunner_add_suite(sr, suite_report());
  srunner_add_suite(sr, suite_policy_sample());
  srunner_add_suite(sr, suite_export());
  srunner_add_suite(sr, suite_sample());
  srunner_add_suite(sr, suite_verify());
  srunner_add_suite(sr, suite_expiry());
  srunner_add_suite(sr, suite_transports());
  srunner_add_suite(sr, suite_ui());
  srunner_add_suite(sr, suite_erasure());
  srunner_add_suite(sr, suite_verified_only());
  srunner_add_suite(sr, suite_calltrack());
  srunner_add_suite(sr, suite_erasure_crash());
  srunner_add_suite(sr, suite_sweep());
  srunner_add_suite(sr, suite_backups());
  srunner_add_suite(sr, suite_phone());
  srunner_add_suite(sr, suite_files());
  srunner_add_suite(sr, suite_ops_cli());
  srunner_add_suite(sr, suite_ops_metrics());
  srunner_add_suite(sr, suite_ops_openapi());
  srunner_add_suite(sr, suite_ops_nodes());
  srunner_add_suite(sr, suite_hardening());
  srunner_add_suite(sr, suite_drp());
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);

  int st = h_dsrd_stop(&it_dsrd, SIGTERM);
  if (st != 0) {
    fprintf(stderr, "dsrd exited with %d after SIGTERM; log: %s\n", st, it_dsrd.log);
    failed++;
  }
  h_pg_stop(&it_pg);
  curl_global_cleanup();
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

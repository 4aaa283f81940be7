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

struct h_pg it_pg;
struct h_dsrd it_dsrd;

int main(void)
{
  curl_global_init(CURL_GLOBAL_DEFAULT);
  h_setup_phase = true;
  h_pg_start(&it_pg);
  char url_arg[512];
  snprintf(url_arg, sizeof url_arg, "--database-url=%s", it_pg.conninfo);
  const char *args[] = {url_arg, NULL};
  h_dsrd_start(&it_dsrd, NULL, args);
  h_setup_phase = false;

  SRunner *sr = srunner_create(suite_intake());
  srunner_add_suite(sr, suite_malformed());
  srunner_add_suite(sr, suite_embedded());
  srunner_add_suite(sr, suite_routing());
  srunner_add_suite(sr, suite_queue());
  srunner_add_suite(sr, suite_policy_plan());
  srunner_add_suite(sr, suite_audit());
  srunner_add_suite(sr, suite_report());
  srunner_add_suite(sr, suite_policy_sample());
  srunner_add_suite(sr, suite_sample());
  srunner_add_suite(sr, suite_erasure());
  srunner_add_suite(sr, suite_erasure_crash());
  srunner_add_suite(sr, suite_sweep());
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

/** @file main.c @brief Runs every unit suite; Check prints one summary line. */
#include <stdlib.h>
#include "suites.h"
#include "dsr/validate.h"

int main(void)
{
  if (!dsr_validate_init())
    return 99;
  SRunner *sr = srunner_create(suite_util());
  srunner_add_suite(sr, suite_jspec());
  srunner_add_suite(sr, suite_validate());
  srunner_add_suite(sr, suite_router());
  srunner_add_suite(sr, suite_errors());
  srunner_add_suite(sr, suite_config());
  srunner_add_suite(sr, suite_crypto());
  srunner_add_suite(sr, suite_template());
  srunner_add_suite(sr, suite_policy());
  srunner_add_suite(sr, suite_sample());
  srunner_add_suite(sr, suite_verify_unit());
  srunner_add_suite(sr, suite_routing());
  srunner_add_suite(sr, suite_audit());
  srunner_add_suite(sr, suite_report());
  srunner_add_suite(sr, suite_export());
  srunner_add_suite(sr, suite_ui());
  srunner_add_suite(sr, suite_erasure());
  srunner_add_suite(sr, suite_media());
  srunner_add_suite(sr, suite_phone());
  srunner_add_suite(sr, suite_filepath());
  srunner_add_suite(sr, suite_openapi());
  srunner_add_suite(sr, suite_hardening_unit());
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  dsr_validate_done();
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

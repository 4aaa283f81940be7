/** @file suites.h @brief The unit suites run by tests/unit/main.c. */
#ifndef DSR_UNIT_SUITES_H
#define DSR_UNIT_SUITES_H
#include <check.h>

Suite *suite_util(void);
Suite *suite_erasure(void);
Suite *suite_media(void);
Suite *suite_openapi(void);
Suite *suite_jspec(void);
Suite *suite_validate(void);
Suite *suite_router(void);
Suite *suite_errors(void);
Suite *suite_config(void);
Suite *suite_crypto(void);
Suite *suite_template(void);
Suite *suite_policy(void);
Suite *suite_sample(void);
Suite *suite_verify_unit(void);
Suite *suite_routing(void);
Suite *suite_policy(void);
Suite *suite_audit(void);
Suite *suite_report(void);
Suite *suite_ui(void);
Suite *suite_sample(void);
Suite *suite_template(void);
Suite *suite_export(void);
Suite *suite_phone(void);
Suite *suite_filepath(void);
Suite *suite_hardening_unit(void);

#endif

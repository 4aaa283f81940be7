/** @file suites.h @brief Integration suites and the environment they share. */
#ifndef DSR_INTEGRATION_SUITES_H
#define DSR_INTEGRATION_SUITES_H
#include <check.h>
#include "harness.h"

/** Started once by main.c before any suite runs; forked tests inherit them. */
extern struct h_pg it_pg;
extern struct h_dsrd it_dsrd;

Suite *suite_intake(void);
Suite *suite_malformed(void);
Suite *suite_embedded(void);
Suite *suite_queue(void);
Suite *suite_queue_batch(void);

#endif

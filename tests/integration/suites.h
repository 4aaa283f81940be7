/** @file suites.h @brief Integration suites and the environment they share. */
#ifndef DSR_INTEGRATION_SUITES_H
#define DSR_INTEGRATION_SUITES_H
#include <check.h>
#include "harness.h"

/** Started once by main.c before any suite runs; forked tests inherit them. */
extern struct h_pg it_pg;
extern struct h_dsrd it_dsrd;

Suite *suite_intake(void);
Suite *suite_drp(void);
Suite *suite_malformed(void);
Suite *suite_embedded(void);
Suite *suite_routing(void);
Suite *suite_queue(void);
Suite *suite_queue_batch(void);
Suite *suite_claim_plans(void);
Suite *suite_policy_plan(void);
Suite *suite_audit(void);
Suite *suite_report(void);

struct dsr_db;
/** Creates database @p name in the shared cluster if needed and migrates it; caller frees. */
char *it_fresh_db(const char *name);
/** A wrapped connection with the statements available (it_disconnect() frees). */
struct dsr_db *it_connect(const char *conninfo);
void it_disconnect(struct dsr_db *db);
/**
 * Runs built program argv[0] ("dsrctl") with @p argv, stdout to @p out_path
 * (NULL: inherited); returns its exit status.
 */
int it_run(const char *const *argv, const char *out_path);
/** Runs built dsrctl with @p args (shell words) in the source tree; stdout (caller frees), *rc. */
char *it_dsrctl(const char *args, int *rc);
/**
 * A test platform of its own: database @p name, where the statements
 * @p schemas first drop what an earlier run left, then @p dir's schema.sql
 * and data.sql (a folder of the source tree). Returns its conninfo (caller frees).
 */
char *it_load_platform(const char *name, const char *dir, const char *schemas);
Suite *suite_policy_sample(void);
Suite *suite_export(void);
Suite *suite_sample(void);
Suite *suite_verify(void);
Suite *suite_expiry(void);
Suite *suite_transports(void);
Suite *suite_ui(void);
Suite *suite_erasure(void);
Suite *suite_verified_only(void);
Suite *suite_calltrack(void);
Suite *suite_erasure_crash(void);
Suite *suite_sweep(void);
Suite *suite_backups(void);
Suite *suite_phone(void);
Suite *suite_files(void);
Suite *suite_hardening(void);

#endif

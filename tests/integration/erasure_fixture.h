/**
 * @file erasure_fixture.h
 * @brief Shared by the erasure, crash and sweep suites: generated sample
 *        platforms (own database, own media directory), table checksums,
 *        media listings, and a dsrd database driven in this process (requests
 *        created and verified through the library, jobs run by the test's
 *        clock with the real handlers).
 */
#ifndef DSR_ERASURE_FIXTURE_H
#define DSR_ERASURE_FIXTURE_H

#include "suites.h"
#include "dsr/config.h"
#include "dsr/db.h"
#include "dsr/policy.h"
#include "worker.h"

/** A generated sample platform. */
struct ef_platform {
  char *conninfo;  /**< owned */
  char media[256]; /**< media root ("" with --no-media) */
};

/**
 * Generates a platform into database @p db (reset) with `dsrctl sample
 * generate --subjects N --seed S --now 2026-01-01` plus @p extra arguments,
 * media under a new directory unless @p media is false.
 */
void ef_generate(struct ef_platform *pl, const char *db, long subjects, bool media,
                 const char *extra);
void ef_platform_free(struct ef_platform *pl);
/** Points the policies' stores at @p pl (DSR_PLATFORM_DSN, DSR_MEDIA_ROOT). */
void ef_use(const struct ef_platform *pl);

/** "table=md5;..." over every table of schema public, rows in a stable order. Caller frees. */
char *ef_checksums(const char *conninfo);
/**
 * A crashed run ended where its uninterrupted twin did: something was erased (@p sum_a is not
 * @p sum_a0), every table alike (@p sum_a, @p sum_b: ef_checksums()) and every receipt's
 * figures alike (@p fig_a, @p fig_b). Frees the four it compares.
 */
void ef_assert_twins_agree(const char *sum_a0, char *sum_a, char *sum_b, char *fig_a,
                           char *fig_b);
/**
 * md5 of one table's rows, except those whose @p pk (as text) is in @p except
 * (a text[] literal); @p pk NULL: all rows. Caller frees.
 */
char *ef_table_md5(const char *conninfo, const char *table, const char *pk, const char *except);
/** Number of regular files under @p dir (recursively). */
long ef_count_files(const char *dir);
/** True when @p root/@p rel exists. */
bool ef_file_exists(const char *root, const char *rel);

/** dsrd in this process: its database, key, policy, configuration and job registry. */
struct ef_dsrd {
  char *conninfo;
  struct dsr_db *db;
  struct dsr_policy *policy;
  struct dsr_config cfg;
  struct dsr_worker_env env;
  char staff_id[40];
};

/** Fresh migrated database @p name, master key @p key32 (NULL: a fixed test key), policy file. */
void ef_dsrd_open(struct ef_dsrd *d, const char *name, const char *policy_path,
                  const unsigned char *key32);
void ef_dsrd_close(struct ef_dsrd *d);
/** Files an erasure for @p email / @p phone and verifies it by staff; returns its id (static). */
const char *ef_request(struct ef_dsrd *d, const char *email, const char *phone);
/** Runs due discovery and erasure jobs until none is left; returns how many ran. */
int ef_run_jobs(struct ef_dsrd *d);
/** Staff approve every part of @p request_id that waits (enqueues the erasures). */
void ef_approve(struct ef_dsrd *d, const char *request_id);
/** SQL helper: first column of the first row as a long, printf-style. */
long ef_long(const char *conninfo, const char *fmt, ...) DSR_PRINTF(2, 3);

#endif

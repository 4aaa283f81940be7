/**
 * @file backup.h
 * @brief Erasure that reaches backups (DESIGN.md section 6).
 *
 * - Media backup sets (file_set): each immediate subdirectory of a set's
 *   root is one copy of the files store it copies; the executor stages the
 *   subject's files in every copy through the same pending deletions as the
 *   files themselves (executor.h), and the receipt counts them per set.
 * - The erasure ledger: every finished erasure part appends the subject's
 *   keyed identity hashes and, per step, the primary keys of the platform
 *   rows it deleted, masked or redacted (appended batch by batch when the
 *   batch is applied); every sweep appends its cutoff. Restoring a database
 *   backup replays every entry recorded since the backup was started, through
 *   the same executor, before the database is handed back.
 * - Per backup set, the latest time a residual copy can exist (the erasure
 *   time plus the set's max_residual_age) is recorded as a
 *   "backup.residual_window" event for the compliance report.
 */
#ifndef DSR_BACKUP_H
#define DSR_BACKUP_H

#include <jansson.h>
#include <time.h>
#include "dsr/crypto.h"
#include "dsr/db.h"
#include "dsr/planner.h"
#include "dsr/policy.h"

/** A subject's identities as keyed hashes (dsr_identity_hash()), in hex. */
struct dsr_ledger_ids {
  bool has[DSR_ID_KIND_COUNT];
  char hex[DSR_ID_KIND_COUNT][2 * DSR_HASH_BYTES + 1];
};

/** Fills @p out from the subject's known values. */
void dsr_ledger_ids_of(const struct dsr_subject *s, struct dsr_ledger_ids *out);
/** [{"kind", "hash"}] (new reference), or NULL on allocation failure. */
json_t *dsr_ledger_ids_json(const struct dsr_ledger_ids *ids);
/** Reads back what dsr_ledger_ids_json() wrote; false when it is malformed. */
DSR_MUST_USE bool dsr_ledger_ids_parse(const json_t *a, struct dsr_ledger_ids *out);
/** A text[] literal of the hashes, e.g. "{ab12..,cd34..}"; caller frees; NULL on failure. */
char *dsr_ledger_ids_literal(const struct dsr_ledger_ids *ids);

/**
 * Inside the caller's transaction: appends the ledger entry of run @p run_id
 * (once): @p kind "erasure" (with @p tenant, NULL for the controller, and
 * @p identities) or "sweep" (with its cutoff @p as_of); the collections are
 * those of @p receipt_collections that were not merely retained.
 */
enum dsr_tx_status dsr_ledger_append(struct dsr_db *db, const char *run_id, const char *kind,
                                     time_t as_of, const char *tenant, const json_t *identities,
                                     const json_t *receipt_collections);

/**
 * The "backup_sets" part of a receipt of run @p run_id: one entry per backup
 * set of the policy, {"backup_set", "mechanism" (file, ledger, crypto_shred),
 * "residual_until"} and, for file sets, "files_removed", "files_pending" and
 * "copies" {copy: files removed}. New reference; NULL on failure.
 */
json_t *dsr_backup_sets_receipt(struct dsr_db *db, const struct dsr_policy *p,
                                const char *run_id, time_t now);

/**
 * Inside the caller's transaction: one "backup.residual_window" event per
 * entry of @p sets (from dsr_backup_sets_receipt()).
 */
enum dsr_tx_status dsr_backup_residual_events(struct dsr_db *db, const char *request_id,
                                              const json_t *sets);

/** What dsr_backup_create() did. */
struct dsr_backup_info {
  char id[40];
  char started_at[32];
  char hash[2 * DSR_HASH_BYTES + 1];
  long long size;
};

/**
 * pg_dump -Fc of postgresql store @p store of @p p into @p out_path (which
 * must not exist), with @p pg_bindir's pg_dump, then records the backup
 * (its start time and the hash of the file) and a "backup.created" event.
 * False with a message (no personal data) in @p err.
 */
DSR_MUST_USE bool dsr_backup_create(struct dsr_db *db, const struct dsr_policy *p,
                                    const char *store, const char *out_path,
                                    const char *pg_bindir, struct dsr_backup_info *info,
                                    char *err, size_t errlen);

/** Counts of a replay, per collection and action, printed by dsrctl. */
struct dsr_restore_report {
  char backup_id[40];
  char backup_started_at[32];
  long entries_erasure, entries_sweep;
  json_t *collections; /**< owned: [{"store","collection","action","rows","files"}] */
  json_t *totals;      /**< owned: rows_deleted, rows_masked, rows_redacted, files_removed... */
};
void dsr_restore_report_free(struct dsr_restore_report *r);

/**
 * Restores backup file @p from (recorded by dsr_backup_create()) into the
 * existing, empty database @p into_conninfo with pg_restore, then replays
 * every ledger entry recorded since the backup started through the
 * executor (erasures by the keys they erased, sweeps by their rules at their
 * cutoff), and records a "backup.restored" event. False with a message in
 * @p err (the database is then not to be used).
 */
DSR_MUST_USE bool dsr_backup_restore(struct dsr_db *db, const struct dsr_policy *p,
                                     const char *from, const char *into_conninfo,
                                     const char *pg_bindir, long batch_rows,
                                     struct dsr_restore_report *out, char *err, size_t errlen);

#endif

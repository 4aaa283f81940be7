/**
 * @file executor.h
 * @brief The executor shared by erasure and retention sweeps (DESIGN.md
 *        section 5). A run is a list of steps, children before parents; a
 *        step pages through the primary keys of the rows it covers (a page
 *        query from the planner or the sweep) and acts on each page with one
 *        set-based statement over a key array: DELETE ... WHERE pk =
 *        ANY($1) (rows still referenced are kept), or a masked / redacted
 *        UPDATE ... FROM unnest(...). Masks and redactions are computed here
 *        (libsodium keyed pseudonyms, the policy's pcre2 patterns).
 *
 * Exactly once, whatever crashes: each page runs in its own transaction on
 * the store. Before that transaction commits, its outcome (new cursor,
 * counts, the files of the deleted rows as "staged" pending deletions) is
 * committed in dsrd's database together with the store's transaction id;
 * after it commits, the outcome is applied (cursor moved, files "due"). A
 * run that finds an outcome still pending asks the store txid_status():
 * committed, the outcome is applied; aborted, it is dropped and the page
 * runs again. So a kill -9 at any moment resumes to the same final state.
 * A page shorter than the batch marks its step done in the transaction that
 * applies its outcome (a resume that applies it instead finds the next page
 * empty). Right after the store's commit the outcome is applied by one
 * statement whose commit does not wait for the disk: lost in a crash of
 * dsrd's cluster, the batch is still pending and is applied by the resume
 * (the pending record itself is committed durably, before the store's
 * commit). The next page starts from the cursor kept in memory.
 * Files are unlinked only once their rows are gone: a batch's files right
 * after its store's commit, each directory fsync'ed, and they enter the list
 * of file deletions done in the transaction that applies the outcome; those
 * that could not be removed (and every file of a batch applied by a resume)
 * enter it due, for dsr_exec_files(). A missing file is not an error; one
 * that cannot be removed stays due and is retried.
 */
#ifndef DSR_EXECUTOR_H
#define DSR_EXECUTOR_H

#include <jansson.h>
#include <libpq-fe.h>
#include "dsr/db.h"
#include "dsr/phone.h"
#include "dsr/filepath.h"
#include "dsr/planner.h"
#include "dsr/policy.h"

#define DSR_EXEC_DEFAULT_BATCH 2000
/** How many times batch_rows a page may grow to under a time target (dsr_exec.page_ms). */
#define DSR_EXEC_PAGE_GROWTH 16
/** Basis recorded for rows a delete keeps (still referenced) and masks instead (mask_kept). */
#define DSR_EXEC_KEPT_MASKED "still referenced by rows that are kept; identifying fields masked"

/** One step of a run. Everything is borrowed from the plan or the sweep. */
struct dsr_exec_step {
  char key[192];                        /**< unique in the run: "collection/verb[/mentions][@tenant]" */
  const struct dsr_pcollection *coll;
  enum dsr_step_verb verb;              /**< DELETE, MASK, REDACT, or RETAIN (no statement) */
  const char *keys_sql;                 /**< page query (see planner.h); NULL for RETAIN; a
                                             second column, when it returns one, is the
                                             cursor of the page's last row (dsr/sweep.h) */
  const struct dsr_plan_param *params;  /**< its parameters; "cursor" and "limit" are set here */
  size_t nparams;
  const char *basis;                    /**< RETAIN: the basis recorded in the receipt */
  long long retain_rows;                /**< RETAIN: rows kept */
};

/**
 * The subject's identifiers as redaction compares them (NULL: unknown). A
 * replay of the erasure ledger knows only their keyed identity hashes
 * (dsr_identity_hash()): candidates found by the patterns are then compared
 * by hash.
 */
struct dsr_exec_subject {
  char *phone_digits; /**< E.164 without "+" */
  char *email_lower;
  bool has_phone_hash, has_email_hash;
  unsigned char phone_hash[32], email_hash[32];
  /** Every digit sequence the subject's number is written as (phone.h:
   * "0034...", "34...", national "699..."), longest first; owned. */
  struct dsr_phone_digits *phone_seqs;
  size_t nphone_seqs;
  /** The policy's default phone region ("ES"), "" when none: national
   * numbers in text are read in it (also when known by hash only). */
  char phone_region[3];
};

/** A run in progress. The caller owns both connections. */
struct dsr_exec {
  struct dsr_db *db;                   /**< dsrd's database */
  PGconn *store;                       /**< the policy's postgresql store */
  const struct dsr_policy *policy;
  char run_id[40];
  long batch_rows;                     /**< keys per page (the first page's, see page_ms) */
  /**
   * Erasures: a time target in milliseconds for a page's store transaction
   * (0: every page has batch_rows keys). After a full page the next gets the
   * number of keys that would have taken about that long, at most twice and at
   * least half the last, and between batch_rows and DSR_EXEC_PAGE_GROWTH times
   * it; every step and every resume starts again at batch_rows. So a page's row
   * locks are held for about page_ms, or for one page of batch_rows when that is
   * slower, and the per-page bookkeeping (dsrd's commits, the cursor) is paid
   * less often on fast pages.
   */
  long page_ms;
  const struct dsr_exec_subject *subject; /**< redactions only; NULL for sweeps */
  /**
   * Erasures: a delete whose collection names mask "fields" masks the rows it
   * has to keep because kept rows still reference them (same transaction as
   * the page). Sweeps leave such rows as they are.
   */
  bool mask_kept;
  /** Erasures: the keys of every applied batch are appended to the erasure ledger. */
  bool ledger;
  /** Called after every page (may be NULL): step key, rows done in the step so far. */
  void (*progress)(void *ctx, const struct dsr_exec_step *st, long long done);
  void *progress_ctx;
};

enum dsr_exec_result {
  DSR_EXEC_OK,
  DSR_EXEC_RETRY, /**< transient (a store transaction still finishing, files not removable...) */
  DSR_EXEC_FAIL   /**< permanent (a statement the store refuses) */
};

/**
 * Registers @p st at position @p ord of the run (once; a resumed run keeps
 * its counts) and runs it to the end. Writes a reason without personal data
 * into @p err when it does not return DSR_EXEC_OK.
 */
DSR_MUST_USE enum dsr_exec_result dsr_exec_step_run(struct dsr_exec *ex,
                                                    const struct dsr_exec_step *st, int ord,
                                                    char *err, size_t errlen);

/**
 * Settles every batch of the run left in flight by a crash (applied when the
 * store committed it, dropped when it did not), whether or not its step is
 * still part of the plan: call it before running steps. DSR_EXEC_RETRY when a
 * store transaction is still finishing.
 */
DSR_MUST_USE enum dsr_exec_result dsr_exec_resolve_all(struct dsr_exec *ex, char *err,
                                                       size_t errlen);

/** Attempts at removing one file before it is left residual. */
#define DSR_FILE_MAX_ATTEMPTS 4
/** Back-off before a file's second attempt, doubled at each further one (20, 40, 80 s). */
#define DSR_FILE_BACKOFF_S 20

/**
 * Removes the run's due files whose back-off has passed: each value goes
 * through dsr_fpath_resolve() and dsr_fpath_open_dir(), is unlinked (a
 * missing file counts as removed), then each directory is synced and the
 * file marked done. A file that cannot be removed is retried after a
 * back-off, at most DSR_FILE_MAX_ATTEMPTS times; then, or at once when its
 * path is refused (outside every root), it is left 'residual' with its
 * reason and no longer holds the run back. *failed counts the files that
 * failed in this call. DSR_EXEC_RETRY while any file is still due.
 */
DSR_MUST_USE enum dsr_exec_result dsr_exec_files(struct dsr_exec *ex, long *removed, long *failed,
                                                 char *err, size_t errlen);

/**
 * The receipt's "collections" of run @p run_id, from its steps: one entry
 * {"store","collection","action","rows","files"} per collection and action
 * (retained rows with their "basis"; rows a delete kept and masked as action
 * "mask" with basis DSR_EXEC_KEPT_MASKED), plus totals in @p totals (rows_deleted,
 * rows_masked, rows_redacted, rows_retained, files_removed, files_pending,
 * files_residual and, when some are, residual_files: see dsr_exec_files_residual()).
 * New reference; NULL when the database failed.
 */
json_t *dsr_exec_receipt_collections(struct dsr_db *db, const char *run_id, json_t *totals);

/**
 * The run's residual files for its receipt: [{id, store, step, attempts,
 * reason}], never their paths. New reference; NULL when the database failed.
 */
json_t *dsr_exec_files_residual(struct dsr_db *db, const char *run_id);

/**
 * Residual files of request @p request_id's parts, for staff: [{id, store,
 * step, attempts, reason, since}]. New reference; NULL when the database failed.
 */
json_t *dsr_files_residual_of_request(struct dsr_db *db, const char *request_id);

/**
 * `dsrctl files retry`: tries to remove every residual file again (of
 * request @p request_id, or of every run when NULL), through the same
 * resolver; a removed one becomes done, another keeps its state with its new
 * reason. Records a "files.retried" event per request touched. *removed and
 * *left count them. False (with @p err) when the database failed.
 */
DSR_MUST_USE bool dsr_files_retry(struct dsr_db *db, const struct dsr_policy *p,
                                  const char *request_id, long *removed, long *left, char *err,
                                  size_t errlen);

/**
 * Inside the caller's transaction: marks run @p run_id done with @p receipt;
 * *first tells whether it was still running (false: finished before).
 */
enum dsr_tx_status dsr_exec_run_finish(struct dsr_db *db, const char *run_id,
                                       const json_t *receipt, bool *first);

/**
 * Replaces the subject's own identifiers in @p text with the policy's
 * replacement for @p pat: the pattern finds candidates (phone numbers
 * written any way, e-mail addresses); only those that are the subject's are
 * replaced (a phone's digits, separators allowed; an e-mail, ignoring case).
 * Returns a new string (caller frees), or NULL on allocation failure;
 * *changed tells whether anything was replaced.
 */
char *dsr_redact_text(const struct dsr_ppattern *pat, const struct dsr_exec_subject *subj,
                      const char *text, bool *changed);

/** Fills @p s from the subject's values (normalized); false on allocation failure. */
DSR_MUST_USE bool dsr_exec_subject_init(struct dsr_exec_subject *s, const struct dsr_subject *subj);
/**
 * dsr_exec_subject_init() with the policy's default phone region @p region
 * (dsr_policy_phone_region(); NULL: none): the subject's number is then
 * found in every written form (phone.h), national forms included when the
 * number is of that region.
 */
DSR_MUST_USE bool dsr_exec_subject_init_in(struct dsr_exec_subject *s,
                                           const struct dsr_subject *subj, const char *region);
void dsr_exec_subject_free(struct dsr_exec_subject *s);

#endif

/**
 * @file erasure_int.h
 * @brief Internals of erasure parts: holds, the steps of a part, the
 *        suppression entries and the final transaction.
 */
#ifndef DSR_ERASURE_INT_H
#define DSR_ERASURE_INT_H

#include "dsr/erasure.h"
#include "dsr/backup.h"
#include "dsr/planner.h"

struct erasure_hold {
  json_t *collections; /**< array of names, or null: everything */
  char *basis;
};

/** Active holds on a request or its subject. Free with erasure_holds_free(). */
struct erasure_holds {
  struct erasure_hold *v;
  size_t n;
};

DSR_MUST_USE bool erasure_holds_load(struct dsr_db *db, const char *request_id,
                                     const struct dsr_subject *s, struct erasure_holds *out);
void erasure_holds_free(struct erasure_holds *h);

/** An executor step with the storage its key and basis need. */
struct erasure_step {
  struct dsr_exec_step st;
  char basis[320];
  size_t seq;
};

/**
 * The part's steps (borrowing from @p plan) in execution order; @p customers
 * lists the tenants that have a customer part in the request (column 0). *out is malloc'd
 * (caller frees). False on allocation failure.
 */
DSR_MUST_USE bool erasure_steps_build(const struct dsr_plan *plan, const char *tenant_ref,
                                      PGresult *customers, const struct erasure_holds *holds,
                                      struct erasure_step **out, size_t *n);

/** Records the suppression entries the policy asks for (idempotent). False on failure. */
DSR_MUST_USE bool erasure_suppress(struct dsr_db *db, const struct dsr_policy *p,
                                   const char *request_id, const struct dsr_subject *s,
                                   json_t *kinds_out);

/** Whether a hold of @p h covers collection @p name. */
bool erasure_hold_covers(const struct erasure_holds *h, const char *name);

/** What the final transaction needs. */
struct erasure_finish {
  const char *part_id, *run_id, *request_id, *started_at;
  json_t *extra; /**< borrowed: holds, suppression kinds, backup_sets */
  /* the erasure ledger and the data keys of crypto-shredded media (backup.h, media.h) */
  const struct dsr_ledger_ids *ids;
  const char *tenant;            /**< the part's tenant, NULL for the controller */
  const char *other_tenants;     /**< controller: text[] of tenants with parts of their own */
  const char *keys_kept_basis;   /**< non-NULL: a hold keeps the subject's data keys */
};

/** Stores the receipt, records erasure.receipt, marks the part done, settles. */
DSR_MUST_USE bool erasure_finish(struct dsr_db *db, const struct erasure_finish *f);

#endif

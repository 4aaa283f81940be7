/**
 * @file rights.h
 * @brief Rights that change what the platform may do with a subject's data:
 *        restriction of processing, with a registry of restricted
 *        subjects (keyed identity hashes only) that the platform's services
 *        check with a service key. Approved parts of these requests run as
 *        the "rights" job; dsr_part_execute_enqueue() (parts/part_exec.c) is
 *        the one hook that approvals and customer decisions call for every
 *        request type.
 */
#ifndef DSR_RIGHTS_H
#define DSR_RIGHTS_H

#include <jansson.h>
#include "dsr/crypto.h"
#include "dsr/db.h"
#include "dsr/error.h"
#include "dsr/planner.h"
#include "dsr/policy.h"

#define DSR_JOB_RIGHTS "rights"
#define DSR_SERVICE_KEY_PREFIX "dsrsvc_"

/**
 * Inside the caller's transaction, after part @p part_id (NULL: every
 * approved part) of request @p request_id was approved: enqueues the work of
 * its request type (export for access / portability, the rights job for
 * restriction). DSR_TX_COMMIT when nothing was to do.
 */
enum dsr_tx_status dsr_part_execute_enqueue(struct dsr_db *db, const char *request_id,
                                            const char *part_id);

/** Enqueues the rights job for approved parts of a restriction request (same contract). */
enum dsr_tx_status dsr_rights_enqueue(struct dsr_db *db, const char *request_id,
                                      const char *part_id);

/**
 * Applies the policy's "choices" actions for request type @p type
 * (objection, withdraw_consent, opt_out) to @p subj on the platform @p conn,
 * in one transaction, in the scope of tenant @p tenant (NULL: the
 * controller's scope, which excludes the tenants in the text[] literal
 * @p claimed). *changes (caller decrefs) lists {collection, action, rows}.
 */
DSR_MUST_USE bool dsr_choices_apply(const struct dsr_policy *p, PGconn *conn, const char *type,
                                    const struct dsr_subject *subj, const char *tenant,
                                    const char *claimed, json_t **changes, char *err,
                                    size_t errlen);

/**
 * Runs part @p part_id of a restriction, objection, withdraw_consent or
 * opt_out request (@p p: the policy, for the choices); returns an enum
 * dsr_job_result.
 */
int dsr_rights_run(struct dsr_db *db, const struct dsr_policy *p, const char *part_id, char *err,
                   size_t errlen);

/** The kind of a bare identity: "@" email, "+" / digits and separators phone, else account. */
enum dsr_id_kind dsr_rights_guess_kind(const char *identity);

/**
 * Marks part @p part_id done (when approved or executing), records @p event
 * with @p data (stolen) and settles the request, in one transaction.
 * Returns an enum dsr_job_result.
 */
int dsr_rights_finish(struct dsr_db *db, const char *part_id, const char *request_id,
                      const char *event, json_t *data, char *err, size_t errlen);

/* --- rectification (rectify.c) ------------------------------------------- */

/**
 * Checks the intake's "corrections" (may be NULL) for a request of @p type:
 * only rectification carries them; 1 to 20 of {"field": "collection.column",
 * "value": "1 to 1000 bytes"}, each field rectifiable in @p p. On failure
 * writes the JSON pointer into @p field and a message into @p detail.
 */
DSR_MUST_USE bool dsr_corrections_check(const struct dsr_policy *p, const char *type,
                                        const json_t *list, char *field, size_t flen,
                                        char *detail, size_t dlen);
/** Inside the intake's transaction: stores the corrections, values sealed. */
enum dsr_tx_status dsr_corrections_store(struct dsr_db *db, const char *request_id,
                                         const json_t *list);
/**
 * Staff's decision ("approve" / "reject") on correction @p idx of request
 * @p request_id, recorded as "correction.decided"; then the request's
 * approved parts are enqueued again. DSR_E_NOT_FOUND / DSR_E_CONFLICT
 * (decided already).
 */
enum dsr_ec dsr_correction_decide(struct dsr_db *db, const char *request_id, int idx,
                                  const char *decision, const char *actor);
/**
 * Applies the approved corrections of a rectification part in its scope
 * (tenant, NULL: the controller's); waits (DSR_JOB_DONE, nothing done) while
 * any correction is undecided. Returns an enum dsr_job_result.
 */
int dsr_rectify_run(struct dsr_db *db, const struct dsr_policy *p, const char *part_id,
                    const char *request_id, const char *tenant, char *err, size_t errlen);

/** Result of a check. */
struct dsr_restriction_state {
  bool restricted;
  long long since; /**< epoch seconds of the oldest active restriction, or 0 */
};

/** Looks @p identity of @p kind up, for tenant @p scope (NULL: the controller). */
enum dsr_ec dsr_restriction_check(struct dsr_db *db, enum dsr_id_kind kind, const char *identity,
                                  const char *scope, struct dsr_restriction_state *out);

/**
 * Lifts every active restriction of request @p request_id, recording who
 * (@p actor) and why (@p reason, stored sealed) and the event
 * "restriction.lifted". *lifted gets the count (0: DSR_E_CONFLICT).
 */
enum dsr_ec dsr_restriction_lift(struct dsr_db *db, const char *request_id, const char *actor,
                                 const char *reason, int *lifted);

/** Creates a service key named @p name; *key (caller frees) is shown once. */
enum dsr_ec dsr_service_key_create(struct dsr_db *db, const char *name, char **key, char id[40]);
/** Authenticates a service key; its id into @p id. */
enum dsr_ec dsr_service_auth(struct dsr_db *db, const char *key, char id[40]);

#endif

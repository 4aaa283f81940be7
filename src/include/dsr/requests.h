/**
 * @file requests.h
 * @brief The request store: intake and status. Identities are stored as a
 *        keyed hash plus a sealed value; the status token only as a keyed hash.
 */
#ifndef DSR_REQUESTS_H
#define DSR_REQUESTS_H

#include <jansson.h>
#include "dsr/db.h"
#include "dsr/db_async.h"
#include "dsr/error.h"
#include "dsr/verify.h"

/** NULL-terminated request types, in DESIGN.md order. */
extern const char *const dsr_request_types[];

/** A validated intake (strings borrowed from the parsed body). */
struct dsr_intake {
  const char *type;
  const char *jurisdiction;
  const char *language;
  const char *details;
  const char *email;
  const char *phone;
  const char *name;
  const char *account_id;
  const char *idempotency_key; /**< NULL when the client sent none */
  const json_t *body;          /**< the whole body, fingerprinted for Idempotency-Key */
  const char *deadline;        /**< interval from the jurisdiction (NULL: built-in table) */
  const struct dsr_verify_env *venv; /**< verification settings; NULL: no codes are sent */
  const json_t *corrections;   /**< rectification: checked corrections, or NULL (rights.h) */
};

/**
 * Stores a new request (or replays the first answer for a repeated
 * Idempotency-Key). On DSR_OK, *reply is the JSON answer (caller decrefs) and
 * *status its HTTP status.
 */
enum dsr_ec dsr_request_create(struct dsr_db *db, const struct dsr_intake *in, json_t **reply,
                               unsigned int *status);

/**
 * The subject's view of request @p id, if @p token is its status token.
 * Unknown id and wrong token both answer DSR_E_NOT_FOUND.
 */
enum dsr_ec dsr_request_status(struct dsr_db *db, const char *id, const char *token,
                               json_t **reply);

/**
 * As dsr_request_status(), in parts, for a caller that does not wait on the
 * database. First: DSR_OK if @p id and @p token can name a request at all, else
 * the answer (DSR_E_NOT_FOUND) without a read.
 */
enum dsr_ec dsr_request_status_check(const char *id, const char *token);
/**
 * Then the read of @p id (checked) is handed over to @p q: true means @p done
 * will be called once, on @p q's thread, with the statement's result (or NULL);
 * false (stopping, out of memory) that it will not be.
 */
DSR_MUST_USE bool dsr_request_status_submit(struct dsr_dbq *q, const char *id,
                                            dsr_dbq_done done, void *arg);
/** The answer to a read handed over: @p res as given to done(), @p token as submitted. */
enum dsr_ec dsr_request_status_answer(const PGresult *res, const char *token, json_t **reply);

/**
 * Adds "details" (what the subject wrote in "Anything we should know?",
 * unsealed) to @p into when request @p id has them; for staff views only.
 * False on a database error.
 */
DSR_MUST_USE bool dsr_request_details_add(struct dsr_db *db, const char *id, json_t *into);

/**
 * The capability of request @p id's status link ("?k=" of
 * /requests/{id}/status): base64url of a keyed hash of the id, never stored,
 * so a link in a mail opens the status page on any device without the status
 * token. Caller frees; NULL when out of memory.
 */
char *dsr_status_link_cap(const char *id);

/** Whether @p cap is request @p id's status-link capability (constant time). */
bool dsr_status_link_ok(const char *id, const char *cap);

/** As dsr_request_status(), for the holder of the status-link capability @p cap. */
enum dsr_ec dsr_request_status_by_link(struct dsr_db *db, const char *id, const char *cap,
                                       json_t **reply);

/**
 * Adds to the subject's status view what routing decided: "outcome" and its
 * "message" (e.g. the jurisdiction's "no data held" wording) and an
 * "extension" {"due_at", "reason"} when staff extended the deadline. Reads
 * row @p row of @p r from column @p col on: outcome, outcome_message,
 * extended_at (RFC 3339), extension_reason_sealed, as DSR_STMT_REQUEST_GET
 * returns them (so a status read is one statement). @p reply is modified in
 * place.
 */
void dsr_request_status_extra(const PGresult *r, int row, int col, json_t *reply);

#endif

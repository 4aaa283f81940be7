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
/**
 * The answer to a read handed over: @p res as given to done(), @p token as submitted. On
 * DSR_OK *text is the reply, JSON written straight from the row (the bytes jansson's compact
 * dump of dsr_request_status()'s object would be, without building that object: status reads
 * are the busiest route); caller frees.
 */
enum dsr_ec dsr_request_status_answer(const PGresult *res, const char *token, char **text);

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

/** Room for every field of a status view (16: it uses at most 15). */
#define DSR_STATUS_VIEW_FIELDS 16

/**
 * The subject's status view of one request, read once from its row: text fields in the
 * order of the reply, the values borrowed from the result they were read from (only an
 * unsealed extension reason is the view's own). Written as a json_t or straight as JSON
 * text (dsr_status_view_json(), dsr_status_view_text()). Start from {0}; end with
 * dsr_status_view_clear().
 */
struct dsr_status_view {
  size_t n;
  struct dsr_status_field {
    const char *key; /**< NULL: ends the object opened last */
    const char *val; /**< NULL: opens an object named key */
    size_t len;
  } f[DSR_STATUS_VIEW_FIELDS];
  unsigned char *owned; /**< the unsealed extension reason, if any */
  size_t owned_len;
};

/**
 * Adds @p key: @p val (@p len bytes of text; a NULL @p val opens an object named @p key, a
 * NULL @p key ends it) to @p v. False, adding nothing, when @p val is not UTF-8 (jansson
 * would not take it either) or @p v is full.
 */
bool dsr_status_view_add(struct dsr_status_view *v, const char *key,
                         const char *val, size_t len);
/** @p v as a new JSON object (caller decrefs), or NULL when out of memory. */
json_t *dsr_status_view_json(const struct dsr_status_view *v);
/** @p v as compact JSON text, the bytes json_dumps() of dsr_status_view_json() gives (caller
 * frees), or NULL when out of memory. */
char *dsr_status_view_text(const struct dsr_status_view *v);
/** Wipes and frees what @p v owns. */
void dsr_status_view_clear(struct dsr_status_view *v);

/**
 * Adds to the subject's status view what routing decided: "outcome" and its
 * "message" (e.g. the jurisdiction's "no data held" wording) and an
 * "extension" {"extended_at", "reason"} when staff extended the deadline. Reads
 * row @p row of @p r from column @p col on: outcome, outcome_message,
 * extended_at (RFC 3339), extension_reason_sealed, as DSR_STMT_REQUEST_GET
 * returns them (so a status read is one statement). @p v borrows from @p r.
 */
void dsr_request_status_extra(const PGresult *r, int row, int col, struct dsr_status_view *v);

#endif

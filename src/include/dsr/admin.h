/**
 * @file admin.h
 * @brief The privacy team's side: request queries (list with filters and
 *        cursor pagination, detail with masked identities and timeline) and
 *        actions (verify, approve, deny, extend, hold, release, assign).
 *        Who may do what is the HTTP dispatcher's business (role rules in
 *        the routing table); these functions assume an authorised caller.
 */
#ifndef DSR_ADMIN_H
#define DSR_ADMIN_H

#include <jansson.h>
#include "dsr/crypto.h"
#include "dsr/db.h"
#include "dsr/error.h"
#include "dsr/parts.h"
#include "dsr/policy.h"

/** The identity kinds the "verify" action's "identity" names (NULL-terminated). */
extern const char *const dsr_admin_identity_kinds[];
/** The actions of POST /v1/admin/requests/{id}/actions (NULL-terminated). */
extern const char *const dsr_admin_actions[];

/** Filters of the list; NULL members do not filter. */
struct dsr_admin_filter {
  const char *status;
  const char *type;
  const char *queue;   /**< "controller" (waiting for staff), "escalated", "customer" */
  const char *overdue; /**< "true" / "false" */
  const char *cursor;  /**< opaque, from a previous page's next_cursor */
  int limit;           /**< 1..200 */
};

/**
 * One page of requests, newest first: *reply is {"items": [...], "next_cursor"?}
 * (caller decrefs). DSR_E_FIELD_INVALID for a malformed cursor.
 */
enum dsr_ec dsr_admin_list(struct dsr_db *db, const struct dsr_admin_filter *f, json_t **reply);

/** Request @p id with its parts, masked identities and timeline (caller decrefs). */
enum dsr_ec dsr_admin_detail(struct dsr_db *db, const char *id, json_t **reply);

/**
 * The dry-run plan of request @p id (DESIGN.md section 4): the planner's plan
 * for its identities, erasure or access by the request type, nothing changed.
 * Identity values among the statement parameters are masked. Only verified
 * identities are searched: *reply is {"request_id", "type", "identities":
 * {"used": [kinds], "unverified": [kinds left out]}, "plan": {...} or null
 * while nothing is verified} (caller decrefs). Each part of the plan says
 * where discovery sends it ("routed_to": "customer" or "controller", with a
 * "route_note" for a tenant no customer claims). DSR_E_NO_POLICY
 * without a policy, DSR_E_STORE_UNAVAILABLE when the platform cannot be read.
 */
enum dsr_ec dsr_admin_plan(struct dsr_db *db, const struct dsr_policy *p, const char *id,
                           json_t **reply);

/** Input of one action (borrowed from the parsed body). */
struct dsr_admin_action {
  const char *action;
  const char *reason;   /**< deny: a code of dsr_deny_reasons; extend: text told to the subject */
  const char *note;     /**< verify: the manual verification note (sealed at rest) */
  const char *part_id;  /**< approve / deny: one part instead of all that wait */
  const char *assignee; /**< assign: staff user id or name */
  const char *identity; /**< verify: one identity kind of a verified request, verified by hand */
};

/** The action named by a request body or form (strings borrowed from @p body). */
struct dsr_admin_action dsr_admin_action_of(const json_t *body);

/**
 * Applies @p a to request @p id as staff user @p staff_id in one transaction
 * (events and outbox rows included). *reply is the request's new summary
 * (caller decrefs). Invalid transitions answer DSR_E_CONFLICT, missing or bad
 * input DSR_E_UNPROCESSABLE with @p detail / @p field filled.
 */
enum dsr_ec dsr_admin_act(struct dsr_db *db, const struct dsr_policy *p, const char *staff_id,
                          const char *id, const struct dsr_admin_action *a, json_t **reply,
                          char *detail, size_t detlen, const char **field);

/** What the staff queue's search text @p q is (dsr_queue_search_parse). */
enum dsr_queue_search {
  DSR_QS_NONE,     /**< empty: no search */
  DSR_QS_ID,       /**< a request id prefix (4 to 36 hex digits and dashes), in @p prefix */
  DSR_QS_IDENTITY, /**< an email address or phone number: its identity lookup hash */
  DSR_QS_INVALID,  /**< neither */
};

/**
 * Reads the queue's search text: a request id prefix (lower-cased into
 * @p prefix), or an email address or a phone number ("+", or "00", then
 * digits with spaces, dashes, dots or brackets), whose keyed lookup hash
 * (the one intake stored, over "kind:normalised value") goes to @p hash.
 * Nothing in clear is kept.
 */
enum dsr_queue_search dsr_queue_search_parse(const char *q, char prefix[40],
                                             unsigned char hash[DSR_HASH_BYTES]);

/**
 * The display name of event actor @p actor ("staff:<id>", "customer:<id>",
 * "system", "subject", "agent...") from @p names (an object of
 * "staff:<id>"/"customer:<id>" to names), else a neutral word. Never the id.
 */
bool dsr_actor_name(const char *actor, const json_t *names, char *out, size_t outlen);

/**
 * One timeline event {"kind", "actor", "data"} of a request of type
 * @p type in words ("Dana approved the erasure"), names from @p names as for
 * dsr_actor_name. A new string (caller frees) or NULL on allocation failure.
 */
char *dsr_timeline_sentence(const json_t *ev, const char *type, const json_t *names);

/**
 * Adds internal note @p text (plain text) by staff user @p staff_id to request
 * @p request_id: sealed at rest, with a request.note event (no text) in the
 * same transaction. DSR_E_NOT_FOUND for an unknown request.
 */
enum dsr_ec dsr_request_note_add(struct dsr_db *db, const char *request_id, const char *staff_id,
                                 const char *text);

/** The notes of a request, oldest first: [{"at", "author", "text"}] (caller decrefs), NULL on error. */
json_t *dsr_request_notes(struct dsr_db *db, const char *request_id);

#endif

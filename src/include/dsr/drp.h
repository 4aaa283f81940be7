/**
 * @file drp.h
 * @brief Authorized agents: the Data Rights Protocol 1.0
 *        (consumer-reports-innovation-lab/data-rights-protocol). The agents
 *        directory (section 3.05.1), signed bodies (base64 of an Ed25519
 *        combined-mode signed message, opened with crypto_sign_open, section
 *        3.07), pair-wise tokens (2.05, stored as keyed hashes only), the
 *        exercise, status and revoke operations (2.01, 2.02, 2.04) on top of
 *        the request store, the mapping of request states to Exercise
 *        Statuses (3.02, 3.03) and the business document (3.05.2).
 *
 * Every operation answers a struct dsr_drp_answer: an HTTP status and a JSON
 * body (an Exercise Status, or the error shape of section 3.06), owned by the
 * caller (dsr_drp_answer_clear()). Logs carry agent ids and request ids only.
 */
#ifndef DSR_DRP_H
#define DSR_DRP_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "dsr/config.h"
#include "dsr/db.h"
#include "dsr/error.h"
#include "dsr/policy.h"
#include "dsr/verify.h"

#define DSR_DRP_KEY_BYTES 32
#define DSR_DRP_VERSION "1.0"

/** One entry of the agents directory; strings owned by the directory. */
struct dsr_drp_agent {
  char *id;
  char *name;
  unsigned char key[DSR_DRP_KEY_BYTES]; /**< Ed25519 verify key */
  char *web_url;
  char *technical_contact;
};

/** The agents directory (dsr_drp_directory_free()). */
struct dsr_drp_directory {
  size_t n;
  struct dsr_drp_agent *agents;
};

/**
 * Parses a directory document: a JSON array of agent entries (or an object
 * with an "agents" array). verify_key is base64 (original alphabet) of the 32
 * key bytes, or 64 hex digits. NULL with a reason in @p err on any error.
 */
struct dsr_drp_directory *dsr_drp_directory_parse(const char *text, size_t len, char *err,
                                                  size_t errlen);
/** Reads and parses @p path (dsr_drp_directory_parse()). */
struct dsr_drp_directory *dsr_drp_directory_load(const char *path, char *err, size_t errlen);
void dsr_drp_directory_free(struct dsr_drp_directory *d);
/** The entry of agent @p id, or NULL (borrowed from @p d). */
const struct dsr_drp_agent *dsr_drp_agent_find(const struct dsr_drp_directory *d, const char *id);
/** Decodes a verify key written as base64 or as 64 hex digits. */
DSR_MUST_USE bool dsr_drp_key_decode(const char *text, unsigned char key[DSR_DRP_KEY_BYTES]);

/** Why a signed body did not open. */
enum dsr_drp_open {
  DSR_DRP_OPEN_OK,
  DSR_DRP_OPEN_BASE64,    /**< not base64 (original alphabet), or too short to hold a signature */
  DSR_DRP_OPEN_SIGNATURE, /**< the signature does not verify under the key */
  DSR_DRP_OPEN_JSON,      /**< the signed message is not a JSON object */
};

/**
 * Opens a signed body: base64 decode (surrounding whitespace ignored), then
 * crypto_sign_open() with @p key, then the message as a JSON object. On OK,
 * *claims (caller decrefs) and @p digest, a BLAKE2b digest of the whole signed
 * message (for replay detection), are set.
 */
enum dsr_drp_open dsr_drp_open_signed(const char *body, size_t len,
                                      const unsigned char key[DSR_DRP_KEY_BYTES], json_t **claims,
                                      unsigned char digest[32]);

/** Parses an ISO 8601 time as agents write it (fractional seconds, Z or +HH:MM). */
DSR_MUST_USE bool dsr_drp_time_parse(const char *s, time_t *out);

/** What the DRP operations need (borrowed, read-only). */
struct dsr_drp_env {
  const struct dsr_config *cfg;
  const struct dsr_policy *policy;
  const struct dsr_drp_directory *dir; /**< NULL: no agent can pair */
  const struct dsr_verify_env *venv;   /**< codes and links for need_user_verification */
};

/** An HTTP answer: @p body is an Exercise Status, another result, or a section 3.06 error. */
struct dsr_drp_answer {
  unsigned int status;
  json_t *body; /**< owned; NULL: no body (403 of the key setup) */
};
void dsr_drp_answer_clear(struct dsr_drp_answer *a);
/** The section 3.06 error document {"code": "<status>", "message", "fatal"} (caller decrefs). */
json_t *dsr_drp_error_json(unsigned int status, const char *message, bool fatal);

/**
 * POST /v1/agent/{agent-id}: checks the signed body (@p url_agent_id's key in
 * the directory, the claims of section 2.05) and issues a new token, which
 * replaces the agent's earlier one. Answers 200 {"agent-id", "token"}, or 403
 * with no body on any failure (the reason is logged).
 */
void dsr_drp_pair(struct dsr_db *db, const struct dsr_drp_env *env, const char *url_agent_id,
                  const char *body, size_t len, time_t now, struct dsr_drp_answer *out);

/**
 * The agent whose pair-wise token is @p token: DSR_OK with @p agent_id filled,
 * DSR_E_UNAUTHORIZED, or DSR_E_DB_UNAVAILABLE.
 */
DSR_MUST_USE enum dsr_ec dsr_drp_token_agent(struct dsr_db *db, const char *token, char *agent_id,
                                             size_t agent_len);

/** POST /v1/data-rights-request by agent @p agent_id (authenticated by its token). */
void dsr_drp_exercise(struct dsr_db *db, const struct dsr_drp_env *env, const char *agent_id,
                      const char *body, size_t len, time_t now, struct dsr_drp_answer *out);

/** GET /v1/data-rights-request/{id}: 403 when another agent filed it. */
void dsr_drp_status(struct dsr_db *db, const struct dsr_drp_env *env, const char *agent_id,
                    const char *request_id, struct dsr_drp_answer *out);

/** DELETE /v1/data-rights-request/{id}: signed {"reason"?}; withdraws the request. */
void dsr_drp_revoke(struct dsr_db *db, const struct dsr_drp_env *env, const char *agent_id,
                    const char *request_id, const char *body, size_t len, time_t now,
                    struct dsr_drp_answer *out);

/**
 * The Exercise Status of request @p request_id (NULL when it is no DRP request
 * or the database failed: *found says which). Also used for callbacks.
 */
json_t *dsr_drp_status_json(struct dsr_db *db, const struct dsr_drp_env *env,
                            const char *request_id, char *agent_id, size_t agent_len, bool *found);

/**
 * What staff see: {"agent_id", "agent_request_id", "exercise", "regime",
 * "status_callback": bool, "callbacks": [{"state", "attempts", "created_at",
 * "delivered_at", "last_status_code"}]} for a request filed by an agent, else
 * NULL (caller decrefs). The HTTP side adds "agent_name" from the directory.
 */
json_t *dsr_drp_request_info(struct dsr_db *db, const char *request_id);

/**
 * Status callbacks (section 2.03): for every DRP request with a status_callback
 * whose state changed since its last callback (only @p request_id when not
 * NULL), writes the Exercise Status to the webhook outbox (retries, SSRF
 * guard) in one transaction. *queued counts them. False when the database failed.
 */
DSR_MUST_USE bool dsr_drp_callbacks(struct dsr_db *db, const struct dsr_drp_env *env,
                                    const char *request_id, int *queued);

/** The business document of section 3.05.2 (caller decrefs). */
json_t *dsr_drp_business_document(const struct dsr_config *cfg, const struct dsr_policy *policy);

/** The request type a DRP action maps to, or NULL (deletion, access, sale:opt-out...). */
const char *dsr_drp_action_type(const char *exercise);
/** True when @p exercise is listed in drp_actions. */
bool dsr_drp_action_supported(const struct dsr_config *cfg, const char *exercise);

#endif

/**
 * @file verify.h
 * @brief Identity verification (DESIGN.md section 3): which channels suffice
 *        (the policy's verification section, docs/policy-sections.md), codes
 *        and one-click links, account assertions, manual verification, and
 *        the subject's other actions on a request (resend, withdraw).
 *
 * Codes are 6 digits from randombytes_uniform(); link tokens carry 256 bits.
 * Only keyed hashes of either are stored (dsr_keyed_hash, DSR_KEY_TOKEN; the
 * code's hash also covers the request id and channel, so a code never
 * matches another request), compared with sodium_memcmp(). Every state
 * change records an event in the same transaction; messages to the subject
 * go through the outbox (outbox.h) in that transaction too.
 */
#ifndef DSR_VERIFY_H
#define DSR_VERIFY_H

#include <jansson.h>
#include "dsr/db.h"
#include "dsr/error.h"
#include "dsr/policy.h"

/** Verification channels as bits, so a policy alternative is a mask. */
enum dsr_channel {
  DSR_CH_EMAIL = 1,
  DSR_CH_SMS = 2,
  DSR_CH_ACCOUNT = 4,
  DSR_CH_AGENT = 8,
  DSR_CH_MANUAL = 16,
};
#define DSR_MAX_ALTERNATIVES 8

/** Bit of channel @p name ("email"...), 0 when unknown. */
unsigned dsr_channel_bit(const char *name);
/** Name of a single channel bit, or NULL. */
const char *dsr_channel_name(unsigned bit);

/** The policy's verification settings, with the defaults of docs/policy-sections.md. */
struct dsr_verify_settings {
  const char *code_ttl;        /**< interval, "10 minutes" */
  int max_attempts;            /**< 5 */
  const char *resend_cooldown; /**< "60 seconds" */
  const char *request_expiry;  /**< "7 days" */
  const char *assertion_key_env; /**< "PLATFORM_ASSERTION_KEY" */
  const char *assertion_max_age; /**< "5 minutes" */
};
/** Fills @p out; strings are borrowed from the policy (or static). */
void dsr_verify_settings_get(const struct dsr_policy *p, struct dsr_verify_settings *out);

/**
 * The staff actions a policy may name in verification.before_verification
 * (NULL-terminated): the admin actions, and "deny_unverifiable" (a denial
 * with the reason identity_not_verified only).
 */
extern const char *const dsr_before_verification_actions[];

/**
 * Whether staff may take @p action (with deny reason @p reason, or NULL) on a
 * request that is not verified yet: the policy's verification.before_verification,
 * by default verify by hand, deny as unverifiable, withdraw on the requester's
 * behalf and assign; "*" allows every action (docs/policy-sections.md).
 */
bool dsr_verify_allows_before(const struct dsr_policy *p, const char *action, const char *reason);

/**
 * The alternatives that verify a request of @p type in @p jurisdiction: the
 * first matching rule's "require", as channel masks. Returns how many.
 */
size_t dsr_verify_requirements(const struct dsr_policy *p, const char *type,
                               const char *jurisdiction, unsigned masks[DSR_MAX_ALTERNATIVES]);
/** True when @p verified covers one alternative (manual always suffices). */
bool dsr_verify_satisfied(const unsigned *masks, size_t n, unsigned verified);

/** The one value of a rule's "partial" option (docs/policy-sections.md). */
#define DSR_VERIFY_PARTIAL_VERIFIED_IDENTITIES "verified_identities"
/**
 * True when the rule that applies to @p type in @p jurisdiction says
 * "partial": "verified_identities" and @p type is answered with data
 * (access, portability): a request verified by fewer channels than an
 * alternative needs is then answered with what its verified identities reach.
 */
bool dsr_verify_partial_allowed(const struct dsr_policy *p, const char *type,
                                const char *jurisdiction);
/**
 * Whether a partial answer may start: for some alternative, every identity
 * channel (email, sms, account) of it that the subject gave (@p offered) is
 * verified, and there is at least one. A channel the subject gave and has not
 * confirmed yet is waited for.
 */
bool dsr_verify_partial_ok(const unsigned *masks, size_t n, unsigned offered, unsigned verified);
/**
 * Whether a request giving @p offered can ever be verified: it holds every
 * channel of an alternative, or (with @p partial) one identity channel of one.
 */
bool dsr_verify_possible(const unsigned *masks, size_t n, unsigned offered, bool partial);

/** What verification code needs from its caller (borrowed, read-only). */
struct dsr_verify_env {
  const struct dsr_policy *policy; /**< NULL: defaults */
  const char *link_base;           /**< "https://privacy.example" (no trailing slash) */
};

/** A new request's verification, started inside the intake transaction. */
struct dsr_verify_start {
  const char *request_id;
  const char *type;
  const char *language;
  const char *due_at;    /**< RFC 3339, for the message */
  const char *email;     /**< NULL when not given */
  const char *phone;     /**< NULL when not given */
};

/**
 * Inside the caller's transaction: creates the email/SMS codes, writes the
 * messages to the outbox, sets the request's expiry and enqueues the jobs
 * that send the messages and expire the request. @p expires_at (>= 21 bytes)
 * receives when the codes stop working. Returns DSR_TX_RETRY on a
 * serialization failure, DSR_TX_ROLLBACK (with *ec) on any other failure.
 */
DSR_MUST_USE int dsr_verify_start(struct dsr_db *db, const struct dsr_verify_env *env,
                                  const struct dsr_verify_start *s, time_t now,
                                  char *expires_at, size_t expires_len, enum dsr_ec *ec);

/** Outcome of a verification call (also for failures: attempts left, Retry-After). */
struct dsr_verify_outcome {
  enum dsr_ec ec;
  char status[32];      /**< the request's status afterwards */
  int attempts_left;    /**< for DSR_E_CODE_WRONG */
  long retry_after;     /**< seconds, for DSR_E_RESEND_TOO_SOON */
  unsigned verified;    /**< channel mask verified so far */
  char expires_at[24];  /**< resend: when the new code stops working */
};

/**
 * Checks a code (@p channel "email" or "sms" and @p code) or a @p token (an
 * email link token or a "v1." account assertion) for request @p id. A code
 * counts only with the request's @p status_token (else DSR_E_NOT_FOUND and no
 * attempt is used): whoever knows only the id cannot lock the channel. A link
 * token or an assertion is a secret of its own and needs none.
 */
void dsr_verify_submit(struct dsr_db *db, const struct dsr_verify_env *env, const char *id,
                       const char *status_token, const char *channel, const char *code,
                       const char *token, struct dsr_verify_outcome *out);

/**
 * DSR_OK when @p status_token is request @p id's status token; DSR_E_NOT_FOUND
 * when not (or no such request); DSR_E_DB_UNAVAILABLE. Checked before a rate
 * budget of the request is spent.
 */
DSR_MUST_USE enum dsr_ec dsr_verify_status_token_check(struct dsr_db *db, const char *id,
                                                       const char *status_token);

/** Sends a new code on @p channel, if @p status_token is the request's and the cool-down passed. */
void dsr_verify_resend(struct dsr_db *db, const struct dsr_verify_env *env, const char *id,
                       const char *status_token, const char *channel,
                       struct dsr_verify_outcome *out);

/**
 * Manual verification by staff (@p actor "staff:<id>"), the one implementation
 * behind the admin API's and the staff UI's "verify" action (dsr_admin_act()).
 * The @p note (required: DSR_E_UNPROCESSABLE without) is stored sealed with the
 * request, never in an event. Always sufficient: a request waiting for
 * verification becomes verified (or a linked duplicate) and discovery is queued,
 * all in one transaction. A request verified already answers DSR_E_CONFLICT.
 */
void dsr_verify_manual(struct dsr_db *db, const struct dsr_verify_env *env, const char *id,
                       const char *actor, const char *note, struct dsr_verify_outcome *out);

/**
 * Staff verify by hand one identity (@p kind: "email", "phone" or
 * "account_id") that a request verified already gave but nobody verified.
 * The note (required) is sealed in its own row; discovery runs again so that
 * the identity's data is found. DSR_E_CONFLICT while the request itself
 * waits for verification or when the identity is verified already,
 * DSR_E_FIELD_INVALID when the request gave no such identity,
 * DSR_E_UNPROCESSABLE without a note or with another kind.
 */
void dsr_verify_manual_identity(struct dsr_db *db, const struct dsr_verify_env *env,
                                const char *id, const char *actor, const char *kind,
                                const char *note, struct dsr_verify_outcome *out);

/**
 * An authorized agent (@p actor "agent:<id>") vouches for identities of request
 * @p id it verified itself (@p kinds: "email", "phone", NULL-terminated): they
 * are marked verified and the "agent" channel counts as verified; the request
 * becomes verified (and discovery is queued) when the policy's rule allows
 * that channel, all in one transaction (DRP 1.0, section 3.04).
 */
void dsr_verify_agent(struct dsr_db *db, const struct dsr_verify_env *env, const char *id,
                      const char *actor, const char *const *kinds,
                      struct dsr_verify_outcome *out);

/**
 * Withdraws request @p id for @p actor ("agent:<id>"), who proved by other
 * means that the request is theirs to withdraw (DRP revoke).
 */
void dsr_request_withdraw_as(struct dsr_db *db, const char *id, const char *actor,
                             struct dsr_verify_outcome *out);

/**
 * What a request of @p type in @p jurisdiction will ask the subject to
 * confirm, in words of @p lang ("a code we email you and a code we text to
 * your phone"), from the policy's rules; only the channels the public form
 * offers (email, SMS). Caller frees; NULL when the form offers no way.
 */
char *dsr_verify_asks(const struct dsr_policy *policy, const char *type, const char *jurisdiction,
                      const char *lang);

/**
 * Whether every public way to confirm a request of @p type needs @p channel (a
 * bit); false where the rule allows a partial answer (dsr_verify_partial_allowed()).
 */
bool dsr_verify_needs(const struct dsr_policy *policy, const char *type, const char *jurisdiction,
                      unsigned channel);

/** (partial.c) A request's verification rule and how far its channels are confirmed. */
struct dsr_verify_state {
  unsigned masks[DSR_MAX_ALTERNATIVES]; /**< the rule's alternatives (channel bits) */
  size_t n;                             /**< how many */
  bool partial;                         /**< the rule allows a partial answer */
  char lang[40];                        /**< the request's language */
  unsigned offered, verified;           /**< channels given, and confirmed (channels_load) */
};

/** Loads request @p id's rule and language into @p st; DSR_E_NOT_FOUND for no such request. */
enum dsr_ec dsr_verify_state_load(struct dsr_db *db, const struct dsr_policy *policy,
                                  const char *id, struct dsr_verify_state *st);
/** Adds the channels request @p id was given and those confirmed to @p st. */
enum dsr_ec dsr_verify_channels_load(struct dsr_db *db, const char *id,
                                     struct dsr_verify_state *st);

/**
 * (partial.c) Whether request @p id is answered from part of the subject's identities
 * only (its rule allows a partial answer and its verified channels satisfy no
 * alternative): *out (caller decrefs) is then {"confirmed": "your email
 * address", "missing": "your mobile phone number", "has_missing"} in words of
 * @p lang (NULL: the request's language), else NULL. Reads only.
 */
DSR_MUST_USE enum dsr_ec dsr_verify_partial_info(struct dsr_db *db,
                                                 const struct dsr_policy *policy,
                                                 const char *id, const char *lang, json_t **out);

/**
 * How far request @p id is confirmed: *out (caller decrefs) is {"done":
 * [{"channel", "label"}], "remaining": [...], "has_done", "needs_more",
 * "remaining_count"}, labels in @p lang; "remaining" is what the quickest
 * alternative the request can still complete lacks. Reads only.
 */
enum dsr_ec dsr_verify_progress(struct dsr_db *db, const struct dsr_policy *policy,
                                const char *id, const char *lang, json_t **out);

/** Withdraws request @p id for the holder of its status-link capability @p cap. */
void dsr_request_withdraw_by_link(struct dsr_db *db, const char *id, const char *cap,
                                  struct dsr_verify_outcome *out);

/**
 * Whether @p token is the confirmation link last mailed for request @p id,
 * used or not, expired or not (so a link opened again after confirming leads
 * to the request's status instead of an error). Reads only.
 */
bool dsr_verify_link_known(struct dsr_db *db, const char *id, const char *token);

/**
 * In the caller's transaction: withdraws request @p id (whose status was
 * @p status when the caller locked it) for @p actor, records request.withdrawn
 * with @p data (taken; "previous_status" added) and queues the closing notice
 * that tells the subject. On DSR_TX_ROLLBACK *ec says why
 * (DSR_E_REQUEST_CLOSED, DSR_E_REQUEST_EXPIRED, DSR_E_INTERNAL).
 */
DSR_MUST_USE enum dsr_tx_status dsr_request_withdraw_tx(struct dsr_db *db, const char *id,
                                                        const char *actor, const char *status,
                                                        json_t *data, enum dsr_ec *ec);

/** Withdraws request @p id for the holder of @p status_token. */
void dsr_request_withdraw(struct dsr_db *db, const char *id, const char *status_token,
                          struct dsr_verify_outcome *out);

/** What a valid account assertion asserts; strings owned, freed by dsr_assertion_clear(). */
struct dsr_assertion {
  char *sub;   /**< the logged-in account id */
  char *email; /**< optional "email" claim: the login system vouches for this address */
  char *phone; /**< optional "phone" claim (E.164), likewise */
};
void dsr_assertion_clear(struct dsr_assertion *a);

/**
 * Checks an account assertion for @p request_id (dsrd(8), VERIFICATION):
 * "v1." base64url(JSON {"sub","rid","iat"[,"email"][,"phone"]}) "."
 * base64url(HMAC-SHA256). @p key (@p keylen bytes) is the shared key; on
 * success @p out holds the claims (caller clears). An identity of the request
 * equal to a vouched email or phone counts as verified with the account.
 */
DSR_MUST_USE bool dsr_assertion_check(const char *token, const unsigned char *key, size_t keylen,
                                      const char *request_id, time_t now, long max_age_s,
                                      struct dsr_assertion *out);
/** Makes an assertion (what the platform's login system does; tests). Caller frees. */
char *dsr_assertion_make(const unsigned char *key, size_t keylen, const char *sub,
                         const char *request_id, time_t iat);
/** The same with the optional claims (NULL: left out). Caller frees. */
char *dsr_assertion_make_vouching(const unsigned char *key, size_t keylen, const char *sub,
                                  const char *email, const char *phone, const char *request_id,
                                  time_t iat);

/** Jurisdiction as the request flow sees it: the policy's table when it has one, else built in. */
struct dsr_jur_view {
  const char *code;
  const char *name;
  const char *deadline;         /**< interval */
  const char *duplicate_window; /**< interval; "30 days" by default */
  const json_t *rights;         /**< array of types, or NULL: every right */
};
/** Looks up @p code; false when the deployment does not know it. */
bool dsr_jur_view_get(const struct dsr_policy *p, const char *code, struct dsr_jur_view *out);
/** True when @p j offers right @p type. */
bool dsr_jur_offers(const struct dsr_jur_view *j, const char *type);
/** Seconds in a simple interval ("90 seconds", "5 minutes", "2 hours", "7 days"); -1 if unparsable. */
long dsr_interval_seconds(const char *interval);

#define DSR_JOB_EXPIRE_REQUEST "expire_request"

/**
 * The expire_request job: marks request @p id expired when it is still
 * unverified, records the event and tells the subject. Idempotent.
 */
DSR_MUST_USE bool dsr_verify_expire(struct dsr_db *db, const struct dsr_verify_env *env,
                                    const char *id, time_t now, bool *expired);

/** Organization for message and page templates: {"name", "contact_email", "url"} (new ref). */
json_t *dsr_org_json(const struct dsr_policy *p);

#endif

/** @file verify.c @brief Codes, links, checks and the subject's actions (see verify.h). */
#include "config.h"
#include "dsr/verify.h"
#include "dsr/closing.h"
#include "dsr/parts.h"
#include "dsr/crypto.h"
#include "dsr/events.h"
#include "dsr/log.h"
#include "dsr/notify.h"
#include "dsr/outbox.h"
#include "dsr/queue.h"
#include "dsr/requests.h"
#include "dsr/timefmt.h"
#include "dsr/validate.h"
#include "dsr/words.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/** Everything one verification transaction needs and produces. */
struct vctx {
  const struct dsr_verify_env *env;
  struct dsr_verify_settings set;
  const char *id, *channel, *code, *token, *actor, *note, *status_token;
  char now[24];
  time_t now_t;
  /* the locked request */
  char status[32], type[32], jur[40], lang[40], due_at[24];
  bool past_expiry;
  unsigned char token_hash[DSR_HASH_BYTES];
  int newly_verified; /* identities this call verified */
  struct dsr_verify_outcome *out;
};

static enum dsr_tx_status db_failed(struct vctx *c, PGresult *r)
{
  bool retry = dsr_db_is_retryable(r);
  PQclear(r);
  if (!retry)
    c->out->ec = DSR_E_INTERNAL;
  return retry ? DSR_TX_RETRY : DSR_TX_ROLLBACK;
}

static enum dsr_tx_status event(struct vctx *c, struct dsr_db *db, const char *kind,
                                const char *actor, json_t *data)
{
  bool retry = false;
  bool ok = dsr_event_record(db, c->id, kind, actor, data, &retry);
  json_decref(data);
  if (ok)
    return DSR_TX_COMMIT;
  if (!retry)
    c->out->ec = DSR_E_INTERNAL;
  return retry ? DSR_TX_RETRY : DSR_TX_ROLLBACK;
}

/* Keyed hash of a code, bound to its request and channel. */
static void code_hash(const char *id, const char *channel, const char *code,
                      unsigned char out[DSR_HASH_BYTES])
{
  char buf[160];
  snprintf(buf, sizeof buf, "code:%s:%s:%s", id, channel, code);
  dsr_keyed_hash(DSR_KEY_TOKEN, buf, strlen(buf), out);
  sodium_memzero(buf, sizeof buf);
}

static void link_hash(const char *token, unsigned char out[DSR_HASH_BYTES])
{
  char buf[128];
  snprintf(buf, sizeof buf, "link:%s", token);
  dsr_keyed_hash(DSR_KEY_TOKEN, buf, strlen(buf), out);
  sodium_memzero(buf, sizeof buf);
}

/* Constant-time comparison of a stored bytea hash with @p want. */
static bool hash_matches(const PGresult *r, int col, const unsigned char want[DSR_HASH_BYTES])
{
  if (PQgetisnull(r, 0, col))
    return false;
  size_t n = 0;
  unsigned char *have = PQunescapeBytea((const unsigned char *)PQgetvalue(r, 0, col), &n);
  bool ok = have && n == DSR_HASH_BYTES && sodium_memcmp(have, want, DSR_HASH_BYTES) == 0;
  PQfreemem(have);
  return ok;
}

static const char *identity_kind(const char *channel)
{
  if (!strcmp(channel, "email"))
    return "email";
  if (!strcmp(channel, "sms"))
    return "phone";
  if (!strcmp(channel, "account"))
    return "account_id";
  return NULL;
}

/* The sealed identity of @p kind, opened (caller frees), or NULL. Sets *lookup when given. */

/* Template context of a message about request @p c (caller decrefs). */
static json_t *message_ctx(const struct vctx *c)
{
  char type[160], due[96];
  dsr_words_get("type", c->type, c->lang, type, sizeof type);
  dsr_time_human_str(c->due_at, c->lang, false, due, sizeof due);
  return json_pack("{s:o, s:s, s:s, s:s}", "org", dsr_org_json(c->env->policy), "type", type,
                   "request_id", c->id, "due_at", due);
}

/* Sends a notice (expired, duplicate) on every channel the request gave; takes @p ctx. */
static enum dsr_tx_status notify(struct dsr_db *db, struct vctx *c, json_t *ctx)
{
  enum dsr_ec ec = DSR_E_INTERNAL;
  enum dsr_tx_status st =
      ctx ? dsr_notify_subject(db, c->env->policy, c->id, ctx, c->now_t, &ec) : DSR_TX_ROLLBACK;
  if (st == DSR_TX_ROLLBACK)
    c->out->ec = ec;
  json_decref(ctx);
  return st;
}

/* Locks the request row and loads what the checks need. DSR_TX_COMMIT when found. */
static enum dsr_tx_status lock_request(struct dsr_db *db, struct vctx *c)
{
  const char *v[] = {c->id, c->now};
  PGresult *r = dsr_db_exec(db, DSR_STMT_VERIFY_REQUEST_LOCK, 2, v);
  if (!dsr_db_ok(r))
    return db_failed(c, r);
  if (PQntuples(r) != 1) {
    PQclear(r);
    c->out->ec = DSR_E_NOT_FOUND;
    return DSR_TX_ROLLBACK;
  }
  dsr_strlcpy(c->status, PQgetvalue(r, 0, 0), sizeof c->status);
  dsr_strlcpy(c->type, PQgetvalue(r, 0, 1), sizeof c->type);
  dsr_strlcpy(c->jur, PQgetvalue(r, 0, 2), sizeof c->jur);
  dsr_strlcpy(c->lang, PQgetvalue(r, 0, 3), sizeof c->lang);
  c->past_expiry = PQgetvalue(r, 0, 4)[0] == 't';
  dsr_strlcpy(c->due_at, PQgetvalue(r, 0, 6), sizeof c->due_at);
  bool token_ok = true;
  if (c->status_token) {
    unsigned char want[DSR_HASH_BYTES];
    dsr_keyed_hash(DSR_KEY_TOKEN, c->status_token, strlen(c->status_token), want);
    token_ok = hash_matches(r, 5, want);
  }
  PQclear(r);
  dsr_strlcpy(c->out->status, c->status, sizeof c->out->status);
  if (!token_ok) {
    c->out->ec = DSR_E_NOT_FOUND; /* a wrong token looks like an unknown id */
    return DSR_TX_ROLLBACK;
  }
  return DSR_TX_COMMIT;
}

/* Refuses requests that can no longer be verified. */
static bool open_for_verification(struct vctx *c)
{
  if (!strcmp(c->status, "expired") ||
      (!strcmp(c->status, "pending_verification") && c->past_expiry)) {
    c->out->ec = DSR_E_REQUEST_EXPIRED;
    return false;
  }
  if (!strcmp(c->status, "withdrawn") || !strcmp(c->status, "denied") ||
      !strcmp(c->status, "completed")) {
    c->out->ec = DSR_E_REQUEST_CLOSED;
    return false;
  }
  return true;
}

/* Every body's start: the request locked and still open for verification (else *c->out says why). */
static enum dsr_tx_status begin_open(struct dsr_db *db, struct vctx *c)
{
  c->out->ec = DSR_OK;
  enum dsr_tx_status st = lock_request(db, c);
  if (st == DSR_TX_COMMIT && !open_for_verification(c))
    st = DSR_TX_ROLLBACK;
  return st;
}

/* The channels of the request verified (*mask) and those it has at all (*offered). */
static enum dsr_tx_status verified_mask(struct dsr_db *db, struct vctx *c, unsigned *mask,
                                        unsigned *offered)
{
  const char *v[] = {c->id};
  PGresult *r = dsr_db_exec(db, DSR_STMT_VERIFY_CHANNELS, 1, v);
  if (!dsr_db_ok(r))
    return db_failed(c, r);
  *mask = *offered = 0;
  for (int i = 0; i < PQntuples(r); i++) {
    *offered |= dsr_channel_bit(PQgetvalue(r, i, 0));
    if (PQgetvalue(r, i, 1)[0] == 't')
      *mask |= dsr_channel_bit(PQgetvalue(r, i, 0));
  }
  PQclear(r);
  return DSR_TX_COMMIT;
}

/* Links a just-verified request to an earlier one of the same subject and type, if any. */
static enum dsr_tx_status link_duplicate(struct dsr_db *db, struct vctx *c)
{
  struct dsr_jur_view j;
  const char *window = dsr_jur_view_get(c->env->policy, c->jur, &j) ? j.duplicate_window
                                                                    : "30 days";
  const char *v[] = {c->id, c->type, c->now, window};
  PGresult *r = dsr_db_exec(db, DSR_STMT_REQUEST_FIND_DUPLICATE, 4, v);
  if (!dsr_db_ok(r))
    return db_failed(c, r);
  if (PQntuples(r) == 0) {
    PQclear(r);
    return DSR_TX_COMMIT;
  }
  char orig[40];
  dsr_strlcpy(orig, PQgetvalue(r, 0, 0), sizeof orig);
  PQclear(r);
  const char *u[] = {c->id, orig, c->now};
  r = dsr_db_exec(db, DSR_STMT_REQUEST_MARK_DUPLICATE, 3, u);
  if (!dsr_db_ok(r))
    return db_failed(c, r);
  PQclear(r);
  dsr_strlcpy(c->out->status, "denied", sizeof c->out->status);
  enum dsr_tx_status st = event(c, db, "request.duplicate_linked", "system",
                                json_pack("{s:s, s:s}", "duplicate_of", orig, "reason",
                                          "duplicate"));
  if (st != DSR_TX_COMMIT)
    return st;
  json_t *ctx = message_ctx(c);
  if (ctx) {
    json_object_set_new(ctx, "duplicate", json_true());
    json_object_set_new(ctx, "duplicate_of", json_string(orig));
  }
  return notify(db, c, ctx);
}

/*
 * Marks identity @p kind of the request verified (NULL: every identity, for
 * staff who verified the request by hand); counts those it newly verified.
 */
static enum dsr_tx_status mark_identity(struct dsr_db *db, struct vctx *c, const char *kind)
{
  PGresult *r = kind ? dsr_db_exec(db, DSR_STMT_IDENTITY_VERIFIED, 3,
                                   (const char *const[]){c->id, kind, c->now})
                     : dsr_db_exec(db, DSR_STMT_IDENTITIES_VERIFY_ALL, 2,
                                   (const char *const[]){c->id, c->now});
  if (!dsr_db_ok(r))
    return db_failed(c, r);
  c->newly_verified += PQntuples(r);
  PQclear(r);
  return DSR_TX_COMMIT;
}

/*
 * An identity verified after discovery already ran: discovery runs again so
 * that its data is found too (parts/discovery.c adds what is new). The key
 * is per channel, so a discovery job already under way does not swallow it.
 */
static enum dsr_tx_status rediscover(struct dsr_db *db, struct vctx *c, const char *channel)
{
  bool split = !strcmp(c->status, "verified") || !strcmp(c->status, "in_progress") ||
               !strcmp(c->status, "on_hold");
  if (c->newly_verified == 0 || !split)
    return DSR_TX_COMMIT;
  enum dsr_tx_status st = event(c, db, "identity.verified_later", "system",
                                json_pack("{s:s, s:i}", "channel", channel, "identities",
                                          c->newly_verified));
  bool retry = false;
  if (st == DSR_TX_COMMIT && !dsr_discovery_enqueue_again(db, c->id, channel, &retry))
    st = retry ? DSR_TX_RETRY : DSR_TX_ROLLBACK;
  return st;
}

/* After @p channel was verified: events, and the request's own verification when enough. */
static enum dsr_tx_status channel_verified(struct dsr_db *db, struct vctx *c, const char *channel,
                                           const char *actor)
{
  const char *kind = identity_kind(channel);
  enum dsr_tx_status st = DSR_TX_COMMIT;
  if (kind || !strcmp(channel, "manual"))
    st = mark_identity(db, c, kind);
  if (st == DSR_TX_COMMIT)
    st = event(c, db, "verification.succeeded", actor, json_pack("{s:s}", "channel", channel));
  unsigned mask = 0, offered = 0;
  if (st == DSR_TX_COMMIT)
    st = verified_mask(db, c, &mask, &offered);
  if (st != DSR_TX_COMMIT)
    return st;
  c->out->verified = mask;
  unsigned masks[DSR_MAX_ALTERNATIVES];
  size_t n = dsr_verify_requirements(c->env->policy, c->type, c->jur, masks);
  bool waiting = !strcmp(c->status, "pending_verification") || !strcmp(c->status, "received");
  if (!waiting)
    return rediscover(db, c, channel);
  /* Fewer channels than an alternative needs: an answer from the verified identities alone,
   * where the rule allows it and every identity the subject gave is confirmed. */
  bool partial = !dsr_verify_satisfied(masks, n, mask);
  if (partial && !(dsr_verify_partial_allowed(c->env->policy, c->type, c->jur) &&
                   dsr_verify_partial_ok(masks, n, offered, mask)))
    return DSR_TX_COMMIT;
  const char *v[] = {c->id, c->now};
  PGresult *r = dsr_db_exec(db, DSR_STMT_REQUEST_SET_VERIFIED, 2, v);
  if (!dsr_db_ok(r))
    return db_failed(c, r);
  PQclear(r);
  dsr_strlcpy(c->out->status, "verified", sizeof c->out->status);
  json_t *chs = json_array();
  for (unsigned b = 1; b <= DSR_CH_MANUAL; b <<= 1)
    if (mask & b)
      json_array_append_new(chs, json_string(dsr_channel_name(b)));
  st = event(c, db, "request.verified", "system",
             json_pack("{s:o, s:b}", "channels", chs, "partial", partial));
  if (st == DSR_TX_COMMIT)
    st = link_duplicate(db, c);
  if (st != DSR_TX_COMMIT || strcmp(c->out->status, "verified") != 0)
    return st;
  /* Verified and not a duplicate: discovery runs once this commits. */
  bool retry = false;
  if (dsr_discovery_enqueue(db, c->id, &retry))
    return DSR_TX_COMMIT;
  if (!retry)
    c->out->ec = DSR_E_INTERNAL;
  return retry ? DSR_TX_RETRY : DSR_TX_ROLLBACK;
}

/* Checks a code or link token against the channel's row. */
static enum dsr_tx_status check_code(struct dsr_db *db, struct vctx *c, const char *channel,
                                     bool is_link)
{
  const char *v[] = {c->id, channel, c->now, "0 seconds"};
  PGresult *r = dsr_db_exec(db, DSR_STMT_VERIFY_GET, 4, v);
  if (!dsr_db_ok(r))
    return db_failed(c, r);
  if (PQntuples(r) != 1) {
    PQclear(r);
    c->out->ec = DSR_E_CHANNEL_UNAVAILABLE;
    return DSR_TX_ROLLBACK;
  }
  bool expired = PQgetvalue(r, 0, 2)[0] == 't';
  int attempts = atoi(PQgetvalue(r, 0, 3)), max = atoi(PQgetvalue(r, 0, 4));
  bool used = PQgetvalue(r, 0, 5)[0] == 't';
  unsigned char want[DSR_HASH_BYTES];
  if (is_link)
    link_hash(c->token, want);
  else
    code_hash(c->id, channel, c->code, want);
  bool right = hash_matches(r, is_link ? 1 : 0, want);
  PQclear(r);
  if (attempts >= max) {
    c->out->ec = DSR_E_VERIFY_LOCKED;
    return DSR_TX_ROLLBACK;
  }
  if (used && right) {
    c->out->ec = DSR_E_CODE_USED;
    return DSR_TX_ROLLBACK;
  }
  if (!right) {
    r = dsr_db_exec(db, DSR_STMT_VERIFY_WRONG, 2, (const char *const[]){c->id, channel});
    if (!dsr_db_ok(r) || PQntuples(r) != 1)
      return db_failed(c, r);
    int now_attempts = atoi(PQgetvalue(r, 0, 0));
    PQclear(r);
    c->out->attempts_left = max - now_attempts > 0 ? max - now_attempts : 0;
    c->out->ec = c->out->attempts_left == 0 ? DSR_E_VERIFY_LOCKED : DSR_E_CODE_WRONG;
    /* The failed attempt must count: commit it, and answer with the error. */
    return event(c, db, c->out->attempts_left == 0 ? "verification.locked" : "verification.failed",
                 "subject",
                 json_pack("{s:s, s:i}", "channel", channel, "attempts_left",
                           c->out->attempts_left));
  }
  if (expired) {
    c->out->ec = DSR_E_CODE_EXPIRED;
    return DSR_TX_ROLLBACK;
  }
  r = dsr_db_exec(db, DSR_STMT_VERIFY_USED, 4,
                  (const char *const[]){c->id, channel, c->now, "subject"});
  if (!dsr_db_ok(r))
    return db_failed(c, r);
  PQclear(r);
  return channel_verified(db, c, channel, "subject");
}

/* True when the request's identity of @p kind is @p value (keyed hashes compared). */
static bool identity_is(struct dsr_db *db, struct vctx *c, const char *kind, const char *value)
{
  unsigned char want[DSR_HASH_BYTES], have[DSR_HASH_BYTES] = {0};
  bool found = false;
  free(dsr_identity_value(db, c->id, kind, have, &found));
  char *norm = !strcmp(kind, "email") ? dsr_normalize_email(value) : strdup(value);
  char *hin = found && norm ? dsr_asprintf("%s:%s", kind, norm) : NULL;
  if (hin)
    dsr_keyed_hash(DSR_KEY_IDENTITY, hin, strlen(hin), want);
  bool same = hin && sodium_memcmp(want, have, DSR_HASH_BYTES) == 0;
  free(hin);
  free(norm);
  return same;
}

static enum dsr_tx_status check_assertion(struct dsr_db *db, struct vctx *c)
{
  const char *key = getenv(c->set.assertion_key_env);
  long max_age = dsr_interval_seconds(c->set.assertion_max_age);
  struct dsr_assertion a = {0};
  if (!key || strlen(key) < 16 || max_age < 0) {
    c->out->ec = DSR_E_CHANNEL_UNAVAILABLE;
    return DSR_TX_ROLLBACK;
  }
  bool sig_ok = dsr_assertion_check(c->token, (const unsigned char *)key, strlen(key), c->id,
                                    c->now_t, max_age, &a);
  unsigned char want[DSR_HASH_BYTES], have[DSR_HASH_BYTES] = {0};
  bool found = false;
  char *stored = dsr_identity_value(db, c->id, "account_id", have, &found);
  free(stored);
  bool right = false;
  if (sig_ok && found) {
    char *hin = dsr_asprintf("account_id:%s", a.sub);
    if (hin) {
      dsr_keyed_hash(DSR_KEY_IDENTITY, hin, strlen(hin), want);
      right = sodium_memcmp(want, have, DSR_HASH_BYTES) == 0;
    }
    free(hin);
  }
  /* The login system vouches for these too: the same identities of the request count as verified. */
  bool vouch_email = right && a.email && identity_is(db, c, "email", a.email);
  bool vouch_phone = right && a.phone && identity_is(db, c, "phone", a.phone);
  dsr_assertion_clear(&a);
  if (!found) {
    c->out->ec = DSR_E_CHANNEL_UNAVAILABLE;
    return DSR_TX_ROLLBACK;
  }
  if (!right) {
    c->out->ec = DSR_E_CODE_WRONG;
    c->out->attempts_left = -1;
    return event(c, db, "verification.failed", "subject",
                 json_pack("{s:s}", "channel", "account"));
  }
  PGresult *r = dsr_db_exec(db, DSR_STMT_VERIFY_MARK, 4,
                            (const char *const[]){c->id, "account", c->now, "subject"});
  if (!dsr_db_ok(r))
    return db_failed(c, r);
  PQclear(r);
  enum dsr_tx_status st = DSR_TX_COMMIT;
  if (vouch_email)
    st = mark_identity(db, c, "email");
  if (st == DSR_TX_COMMIT && vouch_phone)
    st = mark_identity(db, c, "phone");
  if (st == DSR_TX_COMMIT && (vouch_email || vouch_phone))
    st = event(c, db, "verification.vouched", "subject",
               json_pack("{s:s, s:b, s:b}", "channel", "account", "email", vouch_email, "phone",
                         vouch_phone));
  return st == DSR_TX_COMMIT ? channel_verified(db, c, "account", "subject") : st;
}

static enum dsr_tx_status submit_body(struct dsr_db *db, void *arg)
{
  struct vctx *c = arg;
  c->out->attempts_left = 0;
  enum dsr_tx_status st = begin_open(db, c);
  if (st != DSR_TX_COMMIT)
    return st;
  if (c->token && !strncmp(c->token, "v1.", 3))
    return check_assertion(db, c);
  if (c->token)
    return check_code(db, c, "email", true);
  return check_code(db, c, c->channel, false);
}

static void run(struct dsr_db *db, struct vctx *c, enum dsr_tx_status (*body)(struct dsr_db *,
                                                                               void *))
{
  c->now_t = dsr_now();
  snprintf(c->now, sizeof c->now, "%lld", (long long)c->now_t);
  dsr_verify_settings_get(c->env ? c->env->policy : NULL, &c->set);
  bool committed = dsr_db_tx(db, "READ COMMITTED", body, c);
  if (!committed && c->out->ec == DSR_OK)
    c->out->ec = DSR_E_DB_UNAVAILABLE;
}

static bool valid_id(const char *id)
{
  const char *why;
  return id && dsr_valid_uuid(id, &why);
}

enum dsr_ec dsr_verify_status_token_check(struct dsr_db *db, const char *id,
                                          const char *status_token)
{
  if (!valid_id(id) || !status_token)
    return DSR_E_NOT_FOUND;
  const char *v[] = {id};
  PGresult *r = dsr_db_exec(db, DSR_STMT_VERIFY_STATUS_TOKEN, 1, v);
  if (!dsr_db_ok(r)) {
    PQclear(r);
    return DSR_E_DB_UNAVAILABLE;
  }
  unsigned char want[DSR_HASH_BYTES];
  dsr_keyed_hash(DSR_KEY_TOKEN, status_token, strlen(status_token), want);
  bool ok = PQntuples(r) == 1 && hash_matches(r, 0, want);
  PQclear(r);
  return ok ? DSR_OK : DSR_E_NOT_FOUND;
}

void dsr_verify_submit(struct dsr_db *db, const struct dsr_verify_env *env, const char *id,
                       const char *status_token, const char *channel, const char *code,
                       const char *token, struct dsr_verify_outcome *out)
{
  memset(out, 0, sizeof *out);
  if (!valid_id(id) || (!token && !status_token)) {
    out->ec = DSR_E_NOT_FOUND;
    return;
  }
  struct vctx c = {.env = env, .id = id, .channel = channel, .code = code, .token = token,
                   .status_token = token ? NULL : status_token, .out = out};
  run(db, &c, submit_body);
  DSR_INFO("verification.checked", "id=%s channel=%s result=%s", id,
           token ? (strncmp(token, "v1.", 3) ? "email_link" : "account") : channel,
           dsr_ec_code(out->ec));
}

/* Issues a new code (and link for email), stores their hashes, queues the message. */
static enum dsr_tx_status issue(struct dsr_db *db, struct vctx *c, const char *channel,
                                const char *to, bool fresh)
{
  char code[8];
  snprintf(code, sizeof code, "%06u", (unsigned)randombytes_uniform(1000000));
  char *token = !strcmp(channel, "email") ? dsr_token_new() : NULL;
  unsigned char ch[DSR_HASH_BYTES], lh[DSR_HASH_BYTES];
  code_hash(c->id, channel, code, ch);
  if (token)
    link_hash(token, lh);
  char attempts[16];
  snprintf(attempts, sizeof attempts, "%d", c->set.max_attempts);
  enum dsr_tx_status st = DSR_TX_ROLLBACK;
  PGresult *r = NULL;
  json_t *ctx = NULL;
  char *link = NULL;
  if (!strcmp(channel, "email") && !token) {
    c->out->ec = DSR_E_INTERNAL;
    goto cleanup;
  }
  if (fresh) {
    const char *v[] = {c->id, channel, (const char *)ch, token ? (const char *)lh : NULL,
                       c->now, c->set.code_ttl, attempts};
    const int lens[] = {0, 0, DSR_HASH_BYTES, token ? DSR_HASH_BYTES : 0, 0, 0, 0};
    const int fmts[] = {0, 0, 1, 1, 0, 0, 0};
    r = dsr_db_exec_bin(db, DSR_STMT_VERIFY_INSERT, 7, v, lens, fmts);
  } else {
    const char *v[] = {c->id, channel, (const char *)ch, token ? (const char *)lh : NULL,
                       c->now, c->set.code_ttl};
    const int lens[] = {0, 0, DSR_HASH_BYTES, token ? DSR_HASH_BYTES : 0, 0, 0};
    const int fmts[] = {0, 0, 1, 1, 0, 0};
    r = dsr_db_exec_bin(db, DSR_STMT_VERIFY_RESEND, 6, v, lens, fmts);
  }
  if (!dsr_db_ok(r) || PQntuples(r) != 1) {
    st = db_failed(c, r);
    r = NULL;
    goto cleanup;
  }
  dsr_strlcpy(c->out->expires_at, PQgetvalue(r, 0, 0), sizeof c->out->expires_at);
  ctx = message_ctx(c);
  if (token)
    link = dsr_asprintf("%s/requests/%s/verify?t=%s", c->env->link_base, c->id, token);
  if (!ctx || (token && !link)) {
    c->out->ec = DSR_E_INTERNAL;
    goto cleanup;
  }
  json_object_set_new(ctx, "code", json_string(code));
  char until[96];
  dsr_time_human_str(c->out->expires_at, c->lang, true, until, sizeof until);
  json_object_set_new(ctx, "expires_at", json_string(until));
  if (link)
    json_object_set_new(ctx, "link", json_string(link));
  enum dsr_ec ec = DSR_OK;
  st = dsr_outbox_put(db, c->id, channel, to, "code", c->lang, ctx, c->now_t, &ec);
  if (st == DSR_TX_ROLLBACK)
    c->out->ec = ec;
cleanup:
  sodium_memzero(code, sizeof code);
  if (token) {
    sodium_memzero(token, strlen(token));
    free(token);
  }
  if (link) {
    sodium_memzero(link, strlen(link));
    free(link);
  }
  json_decref(ctx); /* the code string inside is freed with it; the outbox copy is sealed */
  PQclear(r);
  return st;
}

int dsr_verify_start(struct dsr_db *db, const struct dsr_verify_env *env,
                     const struct dsr_verify_start *s, time_t now, char *expires_at,
                     size_t expires_len, enum dsr_ec *ec)
{
  struct dsr_verify_outcome out = {.ec = DSR_OK};
  struct vctx c = {.env = env, .id = s->request_id, .out = &out, .now_t = now};
  snprintf(c.now, sizeof c.now, "%lld", (long long)now);
  dsr_verify_settings_get(env->policy, &c.set);
  dsr_strlcpy(c.type, s->type, sizeof c.type);
  dsr_strlcpy(c.lang, s->language ? s->language : "en", sizeof c.lang);
  dsr_strlcpy(c.due_at, s->due_at ? s->due_at : "", sizeof c.due_at);
  enum dsr_tx_status st = DSR_TX_COMMIT;
  if (s->email)
    st = issue(db, &c, "email", s->email, true);
  if (st == DSR_TX_COMMIT && s->phone)
    st = issue(db, &c, "sms", s->phone, true);
  if (st == DSR_TX_COMMIT) {
    const char *v[] = {s->request_id, c.now, c.set.request_expiry};
    PGresult *r = dsr_db_exec(db, DSR_STMT_REQUEST_SET_EXPIRY, 3, v);
    if (!dsr_db_ok(r) || PQntuples(r) != 1) {
      st = db_failed(&c, r);
    } else {
      time_t run_at = (time_t)strtoll(PQgetvalue(r, 0, 0), NULL, 10);
      PQclear(r);
      char dedupe[64];
      snprintf(dedupe, sizeof dedupe, "expire:%s", s->request_id);
      json_t *payload = json_pack("{s:s}", "request_id", s->request_id);
      struct dsr_job_opts o = {.run_at = run_at, .dedupe_key = dedupe};
      bool enq = false, retry = false;
      if (!payload ||
          !dsr_queue_enqueue(db, DSR_JOB_EXPIRE_REQUEST, payload, &o, now, &enq, &retry)) {
        st = retry ? DSR_TX_RETRY : DSR_TX_ROLLBACK;
        out.ec = DSR_E_INTERNAL;
      }
      json_decref(payload);
    }
  }
  if (!out.expires_at[0]) {
    /* No code channel (account only): the request's own expiry is what counts. */
    char t[21];
    dsr_time_rfc3339(now + (dsr_interval_seconds(c.set.code_ttl) > 0
                                ? dsr_interval_seconds(c.set.code_ttl)
                                : 600),
                     t);
    dsr_strlcpy(out.expires_at, t, sizeof out.expires_at);
  }
  dsr_strlcpy(expires_at, out.expires_at, expires_len);
  *ec = out.ec;
  return st;
}

static enum dsr_tx_status resend_body(struct dsr_db *db, void *arg)
{
  struct vctx *c = arg;
  enum dsr_tx_status st = begin_open(db, c);
  if (st != DSR_TX_COMMIT)
    return st;
  if (strcmp(c->status, "pending_verification") != 0) {
    c->out->ec = DSR_E_CONFLICT;
    return DSR_TX_ROLLBACK;
  }
  const char *v[] = {c->id, c->channel, c->now, c->set.resend_cooldown};
  PGresult *r = dsr_db_exec(db, DSR_STMT_VERIFY_GET, 4, v);
  if (!dsr_db_ok(r))
    return db_failed(c, r);
  if (PQntuples(r) != 1) {
    PQclear(r);
    c->out->ec = DSR_E_CHANNEL_UNAVAILABLE;
    return DSR_TX_ROLLBACK;
  }
  bool locked = atoi(PQgetvalue(r, 0, 3)) >= atoi(PQgetvalue(r, 0, 4));
  bool verified = PQgetvalue(r, 0, 6)[0] == 't';
  long wait = strtol(PQgetvalue(r, 0, 7), NULL, 10);
  PQclear(r);
  if (verified) {
    c->out->ec = DSR_E_CONFLICT;
    return DSR_TX_ROLLBACK;
  }
  (void)locked; /* a new code comes with its attempts: the holder of the status token unlocks */
  if (wait > 0) {
    c->out->ec = DSR_E_RESEND_TOO_SOON;
    c->out->retry_after = wait;
    return DSR_TX_ROLLBACK;
  }
  bool found = false;
  char *to = dsr_identity_value(db, c->id, identity_kind(c->channel), NULL, &found);
  if (!to) {
    c->out->ec = DSR_E_INTERNAL;
    return DSR_TX_ROLLBACK;
  }
  st = issue(db, c, c->channel, to, false);
  sodium_memzero(to, strlen(to));
  free(to);
  if (st != DSR_TX_COMMIT)
    return st;
  return event(c, db, "verification.resent", "subject", json_pack("{s:s}", "channel", c->channel));
}

void dsr_verify_resend(struct dsr_db *db, const struct dsr_verify_env *env, const char *id,
                       const char *status_token, const char *channel,
                       struct dsr_verify_outcome *out)
{
  memset(out, 0, sizeof *out);
  if (!valid_id(id) || !status_token) {
    out->ec = DSR_E_NOT_FOUND;
    return;
  }
  if (!channel || (strcmp(channel, "email") != 0 && strcmp(channel, "sms") != 0)) {
    out->ec = DSR_E_CHANNEL_UNAVAILABLE;
    return;
  }
  struct vctx c = {.env = env, .id = id, .channel = channel, .status_token = status_token,
                   .out = out};
  run(db, &c, resend_body);
}

/* Stores the staff note sealed (it may describe the person, so never in an event). */
static enum dsr_tx_status seal_note(struct dsr_db *db, struct vctx *c)
{
  unsigned char *sealed = NULL;
  size_t sl = 0;
  if (!dsr_seal(c->note, strlen(c->note), &sealed, &sl)) {
    c->out->ec = DSR_E_INTERNAL;
    return DSR_TX_ROLLBACK;
  }
  const char *v[] = {c->id, (const char *)sealed, c->now};
  const int lens[] = {0, (int)sl, 0}, fmts[] = {0, 1, 0};
  PGresult *r = dsr_db_exec_bin(db, DSR_STMT_VERIFY_MANUAL_NOTE, 3, v, lens, fmts);
  free(sealed);
  if (!dsr_db_ok(r))
    return db_failed(c, r);
  PQclear(r);
  return DSR_TX_COMMIT;
}

static enum dsr_tx_status manual_body(struct dsr_db *db, void *arg)
{
  struct vctx *c = arg;
  enum dsr_tx_status st = begin_open(db, c);
  if (st != DSR_TX_COMMIT)
    return st;
  if (strcmp(c->status, "received") != 0 && strcmp(c->status, "pending_verification") != 0) {
    c->out->ec = DSR_E_CONFLICT; /* verified already, in progress or on hold */
    return DSR_TX_ROLLBACK;
  }
  st = seal_note(db, c);
  if (st != DSR_TX_COMMIT)
    return st;
  PGresult *r = dsr_db_exec(db, DSR_STMT_VERIFY_MARK, 4,
                            (const char *const[]){c->id, "manual", c->now, c->actor});
  if (!dsr_db_ok(r))
    return db_failed(c, r);
  PQclear(r);
  st = event(c, db, "verification.manual", c->actor, json_pack("{s:b}", "has_note", 1));
  if (st != DSR_TX_COMMIT)
    return st;
  return channel_verified(db, c, "manual", c->actor);
}

/*
 * One identity of a request verified already, verified by hand: the note is
 * sealed in its own row, the identity marked, and discovery runs again.
 */
static enum dsr_tx_status manual_identity_body(struct dsr_db *db, void *arg)
{
  struct vctx *c = arg;
  enum dsr_tx_status st = begin_open(db, c);
  if (st != DSR_TX_COMMIT)
    return st;
  if (!strcmp(c->status, "received") || !strcmp(c->status, "pending_verification")) {
    c->out->ec = DSR_E_CONFLICT; /* the request itself first */
    return DSR_TX_ROLLBACK;
  }
  PGresult *r = dsr_db_exec(db, DSR_STMT_IDENTITY_STATE, 2,
                            (const char *const[]){c->id, c->channel});
  if (!dsr_db_ok(r))
    return db_failed(c, r);
  bool given = PQntuples(r) == 1, done = given && PQgetvalue(r, 0, 0)[0] == 't';
  PQclear(r);
  if (!given || done) {
    c->out->ec = given ? DSR_E_CONFLICT : DSR_E_FIELD_INVALID;
    return DSR_TX_ROLLBACK;
  }
  unsigned char *sealed = NULL;
  size_t sl = 0;
  if (!dsr_seal(c->note, strlen(c->note), &sealed, &sl)) {
    c->out->ec = DSR_E_INTERNAL;
    return DSR_TX_ROLLBACK;
  }
  const char *v[] = {c->id, c->channel, c->actor, c->now, (const char *)sealed};
  const int lens[] = {0, 0, 0, 0, (int)sl}, fmts[] = {0, 0, 0, 0, 1};
  r = dsr_db_exec_bin(db, DSR_STMT_VERIFY_IDENTITY_NOTE, 5, v, lens, fmts);
  free(sealed);
  if (!dsr_db_ok(r))
    return db_failed(c, r);
  PQclear(r);
  st = mark_identity(db, c, c->channel);
  if (st == DSR_TX_COMMIT)
    st = event(c, db, "verification.manual_identity", c->actor,
               json_pack("{s:s, s:b}", "identity", c->channel, "has_note", 1));
  dsr_strlcpy(c->out->status, c->status, sizeof c->out->status);
  return st == DSR_TX_COMMIT ? rediscover(db, c, c->channel) : st;
}

void dsr_verify_manual_identity(struct dsr_db *db, const struct dsr_verify_env *env,
                                const char *id, const char *actor, const char *kind,
                                const char *note, struct dsr_verify_outcome *out)
{
  memset(out, 0, sizeof *out);
  if (!valid_id(id)) {
    out->ec = DSR_E_NOT_FOUND;
    return;
  }
  if (!note || !*note || !kind ||
      (strcmp(kind, "email") && strcmp(kind, "phone") && strcmp(kind, "account_id"))) {
    out->ec = DSR_E_UNPROCESSABLE;
    return;
  }
  /* The kind rides in .channel: mark_identity() and rediscover() take it from there. */
  struct vctx c = {.env = env, .id = id, .actor = actor, .note = note, .channel = kind,
                   .out = out};
  run(db, &c, manual_identity_body);
}

void dsr_verify_manual(struct dsr_db *db, const struct dsr_verify_env *env, const char *id,
                       const char *actor, const char *note, struct dsr_verify_outcome *out)
{
  memset(out, 0, sizeof *out);
  if (!valid_id(id)) {
    out->ec = DSR_E_NOT_FOUND;
    return;
  }
  if (!note || !*note) {
    out->ec = DSR_E_UNPROCESSABLE;
    return;
  }
  struct vctx c = {.env = env, .id = id, .actor = actor, .note = note, .out = out};
  run(db, &c, manual_body);
}

enum dsr_tx_status dsr_request_withdraw_tx(struct dsr_db *db, const char *id, const char *actor,
                                           const char *status, json_t *data, enum dsr_ec *ec)
{
  char now[24];
  snprintf(now, sizeof now, "%lld", (long long)dsr_now());
  *ec = DSR_OK;
  const char *const v[] = {id, now};
  /*
   * The parts first: closing them locks them, so an erasure job waiting to start
   * on one finds it closed. One that started already is seen by the request's
   * update, which then changes nothing, and all of this is rolled back.
   */
  PGresult *r = dsr_db_exec(db, DSR_STMT_PARTS_WITHDRAW, 2, v);
  bool ok = dsr_db_ok(r), retry = !ok && dsr_db_is_retryable(r), changed = false;
  PQclear(r);
  if (ok) {
    r = dsr_db_exec(db, DSR_STMT_REQUEST_WITHDRAW, 2, v);
    ok = dsr_db_ok(r);
    retry = !ok && dsr_db_is_retryable(r);
    changed = ok && atoi(PQcmdTuples(r)) == 1;
    PQclear(r);
  }
  if (!ok || !changed || !data) {
    /* still open, yet not withdrawn: one of its parts is being or was carried out */
    *ec = !ok || !data                      ? (retry ? DSR_OK : DSR_E_INTERNAL)
          : !strcmp(status, "expired")      ? DSR_E_REQUEST_EXPIRED
          : dsr_request_status_open(status) ? DSR_E_WITHDRAW_TOO_LATE
                                            : DSR_E_REQUEST_CLOSED;
    json_decref(data);
    return retry ? DSR_TX_RETRY : DSR_TX_ROLLBACK;
  }
  json_object_set_new(data, "previous_status", json_string(status));
  ok = dsr_event_record(db, id, "request.withdrawn", actor, data, &retry);
  json_decref(data);
  if (!ok) {
    *ec = retry ? DSR_OK : DSR_E_INTERNAL;
    return retry ? DSR_TX_RETRY : DSR_TX_ROLLBACK;
  }
  enum dsr_tx_status s = dsr_request_settle(db, id, actor); /* customers hear the parts closed */
  return s == DSR_TX_COMMIT ? dsr_closing_enqueue(db, id) : s;
}

static enum dsr_tx_status withdraw_body(struct dsr_db *db, void *arg)
{
  struct vctx *c = arg;
  c->out->ec = DSR_OK;
  enum dsr_tx_status st = lock_request(db, c);
  if (st != DSR_TX_COMMIT)
    return st;
  st = dsr_request_withdraw_tx(db, c->id, c->actor ? c->actor : "subject", c->status,
                               json_object(), &c->out->ec);
  if (st == DSR_TX_COMMIT)
    dsr_strlcpy(c->out->status, "withdrawn", sizeof c->out->status);
  return st;
}

/* A withdrawal by the holder of @p status_token, or by @p actor (who proved it otherwise). */
static void withdraw(struct dsr_db *db, const char *id, const char *status_token,
                     const char *actor, struct dsr_verify_outcome *out)
{
  memset(out, 0, sizeof *out);
  if (!valid_id(id) || (!status_token && !actor)) {
    out->ec = DSR_E_NOT_FOUND;
    return;
  }
  struct dsr_verify_env none = {0};
  struct vctx c = {.env = &none, .id = id, .status_token = status_token, .actor = actor,
                   .out = out};
  run(db, &c, withdraw_body);
}

void dsr_request_withdraw(struct dsr_db *db, const char *id, const char *status_token,
                          struct dsr_verify_outcome *out)
{
  withdraw(db, id, status_token, NULL, out);
}

void dsr_request_withdraw_as(struct dsr_db *db, const char *id, const char *actor,
                             struct dsr_verify_outcome *out)
{
  if (!actor) {
    memset(out, 0, sizeof *out);
    out->ec = DSR_E_NOT_FOUND;
    return;
  }
  withdraw(db, id, NULL, actor, out);
}

/* The kinds an agent vouched for ride in .note, as a NUL-separated list (see dsr_verify_agent()). */
static enum dsr_tx_status agent_body(struct dsr_db *db, void *arg)
{
  struct vctx *c = arg;
  enum dsr_tx_status st = begin_open(db, c);
  if (st != DSR_TX_COMMIT)
    return st;
  PGresult *r = dsr_db_exec(db, DSR_STMT_VERIFY_MARK, 4,
                            (const char *const[]){c->id, "agent", c->now, c->actor});
  if (!dsr_db_ok(r))
    return db_failed(c, r);
  PQclear(r);
  for (const char *k = c->note; st == DSR_TX_COMMIT && *k; k += strlen(k) + 1)
    st = mark_identity(db, c, k);
  if (st == DSR_TX_COMMIT)
    st = event(c, db, "verification.vouched", c->actor,
               json_pack("{s:s, s:i}", "channel", "agent", "identities", c->newly_verified));
  return st == DSR_TX_COMMIT ? channel_verified(db, c, "agent", c->actor) : st;
}

void dsr_verify_agent(struct dsr_db *db, const struct dsr_verify_env *env, const char *id,
                      const char *actor, const char *const *kinds,
                      struct dsr_verify_outcome *out)
{
  memset(out, 0, sizeof *out);
  char list[64] = "";
  size_t used = 0;
  for (const char *const *k = kinds; k && *k; k++) {
    size_t n = strlen(*k) + 1;
    if ((strcmp(*k, "email") && strcmp(*k, "phone")) || used + n + 1 > sizeof list) {
      out->ec = DSR_E_UNPROCESSABLE;
      return;
    }
    memcpy(list + used, *k, n);
    used += n;
  }
  list[used] = '\0';
  if (!valid_id(id) || !actor || used == 0) {
    out->ec = valid_id(id) ? DSR_E_UNPROCESSABLE : DSR_E_NOT_FOUND;
    return;
  }
  struct vctx c = {.env = env, .id = id, .actor = actor, .note = list, .out = out};
  run(db, &c, agent_body);
}

void dsr_request_withdraw_by_link(struct dsr_db *db, const char *id, const char *cap,
                                  struct dsr_verify_outcome *out)
{
  memset(out, 0, sizeof *out);
  if (!dsr_status_link_ok(id, cap)) {
    out->ec = DSR_E_NOT_FOUND;
    return;
  }
  struct dsr_verify_env none = {0};
  struct vctx c = {.env = &none, .id = id, .out = out}; /* no status token: the link vouched */
  run(db, &c, withdraw_body);
}

bool dsr_verify_link_known(struct dsr_db *db, const char *id, const char *token)
{
  if (!valid_id(id) || !token || strncmp(token, "v1.", 3) == 0)
    return false;
  char now[24];
  snprintf(now, sizeof now, "%lld", (long long)dsr_now());
  const char *v[] = {id, "email", now, "0 seconds"};
  PGresult *r = dsr_db_exec(db, DSR_STMT_VERIFY_GET, 4, v);
  bool ok = false;
  if (dsr_db_ok(r) && PQntuples(r) == 1) {
    unsigned char want[DSR_HASH_BYTES];
    link_hash(token, want);
    ok = hash_matches(r, 1, want);
  }
  PQclear(r);
  return ok;
}

struct expire_ctx {
  struct vctx v;
  bool expired;
};

static enum dsr_tx_status expire_body(struct dsr_db *db, void *arg)
{
  struct expire_ctx *e = arg;
  struct vctx *c = &e->v;
  c->out->ec = DSR_OK;
  e->expired = false;
  enum dsr_tx_status st = lock_request(db, c);
  if (st != DSR_TX_COMMIT) {
    if (c->out->ec == DSR_E_NOT_FOUND)
      c->out->ec = DSR_OK; /* deleted since: nothing to expire */
    return st;
  }
  if (strcmp(c->status, "pending_verification") != 0 || !c->past_expiry)
    return DSR_TX_COMMIT; /* verified, withdrawn, already expired, or not yet due */
  PGresult *r = dsr_db_exec(db, DSR_STMT_REQUEST_EXPIRE, 2, (const char *const[]){c->id, c->now});
  if (!dsr_db_ok(r))
    return db_failed(c, r);
  PQclear(r);
  e->expired = true;
  st = event(c, db, "request.expired", "system", json_pack("{s:s}", "reason", "never_verified"));
  if (st != DSR_TX_COMMIT)
    return st;
  json_t *ctx = message_ctx(c);
  if (ctx)
    json_object_set_new(ctx, "expired", json_true());
  return notify(db, c, ctx);
}

bool dsr_verify_expire(struct dsr_db *db, const struct dsr_verify_env *env, const char *id,
                       time_t now, bool *expired)
{
  struct dsr_verify_outcome out = {0};
  struct expire_ctx e = {.v = {.env = env, .id = id, .out = &out, .now_t = now}};
  *expired = false;
  if (!valid_id(id))
    return true; /* nothing to do, ever */
  snprintf(e.v.now, sizeof e.v.now, "%lld", (long long)now);
  dsr_verify_settings_get(env->policy, &e.v.set);
  bool ok = dsr_db_tx(db, "READ COMMITTED", expire_body, &e);
  *expired = ok && e.expired;
  return ok || out.ec == DSR_OK;
}

/* The words of @p mask's public channels joined with "and" (words: ask.*), into @p b. */
static bool ask_words(unsigned mask, const char *lang, struct dsr_buf *b)
{
  static const unsigned order[] = {DSR_CH_EMAIL, DSR_CH_SMS};
  char w[160];
  bool first = true;
  for (size_t i = 0; i < DSR_ARRAY_LEN(order); i++) {
    if (!(mask & order[i]))
      continue;
    if (!first && !dsr_buf_puts(b, dsr_words_get("ask", "and", lang, w, sizeof w)))
      return false;
    if (!dsr_buf_puts(b, dsr_words_get("ask", dsr_channel_name(order[i]), lang, w, sizeof w)))
      return false;
    first = false;
  }
  return true;
}

char *dsr_verify_asks(const struct dsr_policy *policy, const char *type, const char *jurisdiction,
                      const char *lang)
{
  unsigned masks[DSR_MAX_ALTERNATIVES];
  size_t n = dsr_verify_requirements(policy, type, jurisdiction, masks);
  struct dsr_buf b = {0};
  char w[64];
  bool any = false, ok = true;
  for (size_t i = 0; ok && i < n; i++) {
    if (masks[i] & ~(unsigned)(DSR_CH_EMAIL | DSR_CH_SMS))
      continue; /* account, agent, manual: not what the public form offers */
    if (any)
      ok = dsr_buf_puts(&b, dsr_words_get("ask", "or", lang, w, sizeof w));
    ok = ok && ask_words(masks[i], lang, &b);
    any = true;
  }
  if (!ok || !any) {
    dsr_buf_free(&b);
    return NULL;
  }
  return dsr_buf_steal(&b);
}

bool dsr_verify_needs(const struct dsr_policy *policy, const char *type, const char *jurisdiction,
                      unsigned channel)
{
  if (dsr_verify_partial_allowed(policy, type, jurisdiction))
    return false; /* without it: an answer from the other identities */
  unsigned masks[DSR_MAX_ALTERNATIVES];
  size_t n = dsr_verify_requirements(policy, type, jurisdiction, masks);
  bool any = false;
  for (size_t i = 0; i < n; i++) {
    if (masks[i] & ~(unsigned)(DSR_CH_EMAIL | DSR_CH_SMS))
      continue;
    if (!(masks[i] & channel))
      return false; /* some public alternative does without it */
    any = true;
  }
  return any;
}

/* Appends {"channel", "label"} for each bit of @p mask to @p arr. */
static void put_channels(json_t *arr, unsigned mask, const char *lang)
{
  static const unsigned order[] = {DSR_CH_EMAIL, DSR_CH_SMS, DSR_CH_ACCOUNT};
  char w[64];
  for (size_t i = 0; i < DSR_ARRAY_LEN(order); i++)
    if (mask & order[i]) {
      const char *name = dsr_channel_name(order[i]);
      json_array_append_new(arr, json_pack("{s:s, s:s, s:b}", "channel", name, "label",
                                           dsr_words_get("channel", name, lang, w, sizeof w),
                                           "sms", order[i] == DSR_CH_SMS));
    }
}

enum dsr_ec dsr_verify_progress(struct dsr_db *db, const struct dsr_policy *policy,
                                const char *id, const char *lang, json_t **out)
{
  *out = NULL;
  struct dsr_verify_state st;
  enum dsr_ec ec = dsr_verify_state_load(db, policy, id, &st);
  if (ec == DSR_OK)
    ec = dsr_verify_channels_load(db, id, &st);
  if (ec != DSR_OK)
    return ec;
  /* a partial answer needs only the alternative's channels that the subject gave */
  for (size_t i = 0; st.partial && i < st.n; i++)
    if (st.masks[i] & st.offered & (DSR_CH_EMAIL | DSR_CH_SMS | DSR_CH_ACCOUNT))
      st.masks[i] &= st.offered;
  /* the alternative the subject can complete with what they gave that needs the fewest steps */
  unsigned best = 0;
  int best_left = 99;
  for (size_t i = 0; i < st.n; i++) {
    if ((st.masks[i] & st.offered) != st.masks[i])
      continue;
    int left = __builtin_popcount(st.masks[i] & ~st.verified);
    if (left < best_left) {
      best_left = left;
      best = st.masks[i];
    }
  }
  json_t *done = json_array(), *remaining = json_array();
  put_channels(done, st.verified, lang);
  put_channels(remaining, best & ~st.verified, lang);
  *out = json_pack("{s:o, s:o, s:b, s:b, s:i}", "done", done, "remaining", remaining,
                   "has_done", st.verified != 0, "needs_more", best_left > 0 && best_left < 99,
                   "remaining_count", best_left < 99 ? best_left : 0);
  return *out ? DSR_OK : DSR_E_INTERNAL;
}

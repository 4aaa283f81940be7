/** @file requests.c @brief Intake and status of data-subject requests. */
#include "config.h"
#include "dsr/requests.h"
#include "dsr/rights.h"
#include "dsr/crypto.h"
#include "dsr/events.h"
#include "dsr/idempotency.h"
#include "dsr/jurisdiction.h"
#include "dsr/log.h"
#include "dsr/validate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const dsr_request_types[] = {"access", "portability", "erasure", "rectification",
                                         "restriction", "objection", "withdraw_consent",
                                         "opt_out", NULL};

#define IDEMPOTENCY_SCOPE "POST /v1/requests"

/** Everything one intake transaction needs and produces. */
struct create_ctx {
  const struct dsr_intake *in;
  const char *jur;      /* jurisdiction code */
  const char *deadline; /* its response time (interval) */
  struct dsr_idem idem; /* when the client sent an Idempotency-Key */
  json_t *reply;        /* owned until handed to the caller */
  unsigned int status;
  enum dsr_ec ec;
};

/* Runs a statement whose parameters may be binary (bytea): lengths > 0 mark those. */
static PGresult *exec_mixed(struct dsr_db *db, enum dsr_stmt st, int n, const char *const *v,
                            const int *lens)
{
  int formats[16] = {0};
  for (int i = 0; i < n; i++)
    formats[i] = lens[i] > 0 ? 1 : 0;
  return dsr_db_exec_bin(db, st, n, v, lens, formats);
}

static enum dsr_tx_status failed(struct dsr_db *db, struct create_ctx *c, PGresult *r)
{
  bool retry = dsr_db_is_retryable(r);
  if (!retry)
    c->ec = dsr_db_is_unavailable(db, r) ? DSR_E_DB_UNAVAILABLE : DSR_E_INTERNAL;
  PQclear(r);
  return retry ? DSR_TX_RETRY : DSR_TX_ROLLBACK;
}

/** Seals and stores one identity; the lookup hash is over the normalised value. */
static enum dsr_tx_status put_identity(struct dsr_db *db, struct create_ctx *c, const char *id,
                                       const char *kind, const char *value)
{
  if (!value)
    return DSR_TX_COMMIT;
  char *norm = !strcmp(kind, "email") ? dsr_normalize_email(value) : strdup(value);
  unsigned char *sealed = NULL;
  size_t sealed_len = 0;
  if (!norm || !dsr_seal(value, strlen(value), &sealed, &sealed_len)) {
    free(norm);
    c->ec = DSR_E_INTERNAL;
    return DSR_TX_ROLLBACK;
  }
  /* The hash input carries the kind so an email and a phone can never collide. */
  char *hinput = dsr_asprintf("%s:%s", kind, norm);
  unsigned char h[DSR_HASH_BYTES];
  if (hinput)
    dsr_keyed_hash(DSR_KEY_IDENTITY, hinput, strlen(hinput), h);
  free(hinput);
  free(norm);
  const char *v[] = {id, kind, (const char *)h, (const char *)sealed};
  const int lens[] = {0, 0, DSR_HASH_BYTES, (int)sealed_len};
  PGresult *r = exec_mixed(db, DSR_STMT_IDENTITY_INSERT, 4, v, lens);
  free(sealed);
  if (!dsr_db_ok(r))
    return failed(db, c, r);
  PQclear(r);
  return DSR_TX_COMMIT;
}

static json_t *channels_for(const struct dsr_intake *in)
{
  json_t *a = json_array();
  if (in->email)
    json_array_append_new(a, json_string("email"));
  if (in->phone)
    json_array_append_new(a, json_string("sms"));
  if (in->account_id)
    json_array_append_new(a, json_string("account"));
  return a;
}

/** Looks for an earlier answer to the same Idempotency-Key. */
static enum dsr_tx_status replay(struct create_ctx *c, struct dsr_db *db, bool *found)
{
  bool retry = false;
  enum dsr_idem_found f = dsr_idem_lookup(db, &c->idem, &c->status, &c->reply, &retry);
  *found = f != DSR_IDEM_NONE;
  if (f == DSR_IDEM_FAILED && retry)
    return DSR_TX_RETRY;
  c->ec = f == DSR_IDEM_REPLAY     ? DSR_OK
          : f == DSR_IDEM_MISMATCH ? DSR_E_IDEMPOTENCY_MISMATCH
          : f == DSR_IDEM_NONE     ? DSR_OK
                                   : DSR_E_DB_UNAVAILABLE; /* the lookup is a query */
  return DSR_TX_COMMIT;
}

/** Stores the answer under the Idempotency-Key; *lost when a concurrent retry won. */
static enum dsr_tx_status remember(struct dsr_db *db, struct create_ctx *c, const char *now,
                                   bool *lost)
{
  char *text = json_dumps(c->reply, JSON_COMPACT);
  bool dumped = text != NULL, retry = false;
  bool ok = text && dsr_idem_store(db, &c->idem, c->status, text, (time_t)strtoll(now, NULL, 10),
                                   lost, &retry);
  if (text) {
    sodium_memzero(text, strlen(text));
    free(text);
  }
  if (ok)
    return DSR_TX_COMMIT;
  if (!retry) /* keeping the answer is an INSERT: failing, the database is the cause */
    c->ec = dumped ? DSR_E_DB_UNAVAILABLE : DSR_E_INTERNAL;
  return retry ? DSR_TX_RETRY : DSR_TX_ROLLBACK;
}

static enum dsr_tx_status create_body(struct dsr_db *db, void *arg)
{
  struct create_ctx *c = arg;
  const struct dsr_intake *in = c->in;
  json_decref(c->reply);
  c->reply = NULL;
  c->ec = DSR_OK;
  if (in->idempotency_key) {
    bool found;
    enum dsr_tx_status s = replay(c, db, &found);
    if (s != DSR_TX_COMMIT || found)
      return s;
  }
  char now[24];
  snprintf(now, sizeof now, "%lld", (long long)dsr_now());
  char *token = dsr_token_new();
  unsigned char token_hash[DSR_HASH_BYTES];
  unsigned char *details = NULL;
  size_t details_len = 0;
  if (!token || (in->details && !dsr_seal(in->details, strlen(in->details), &details,
                                          &details_len))) {
    free(token);
    c->ec = DSR_E_INTERNAL;
    return DSR_TX_ROLLBACK;
  }
  dsr_keyed_hash(DSR_KEY_TOKEN, token, strlen(token), token_hash);
  const char *v[] = {in->type, c->jur, in->language ? in->language : "en",
                     (const char *)details, (const char *)token_hash, now, c->deadline};
  const int lens[] = {0, 0, 0, (int)details_len, DSR_HASH_BYTES, 0, 0};
  PGresult *r = exec_mixed(db, DSR_STMT_REQUEST_INSERT, 7, v, lens);
  free(details);
  if (!dsr_db_ok(r) || PQntuples(r) != 1) {
    free(token);
    return failed(db, c, r);
  }
  char id[40];
  dsr_strlcpy(id, PQgetvalue(r, 0, 0), sizeof id);
  char expires[24] = "";
  c->reply = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:{s:o, s:s}}", "id", id, "status",
                       PQgetvalue(r, 0, 1), "type", in->type, "received_at", PQgetvalue(r, 0, 2),
                       "due_at", PQgetvalue(r, 0, 3), "status_token", token, "verification",
                       "channels", channels_for(in), "expires_at", expires);
  c->status = 202;
  sodium_memzero(token, strlen(token));
  free(token);
  PQclear(r);
  if (!c->reply) {
    c->ec = DSR_E_INTERNAL;
    return DSR_TX_ROLLBACK;
  }
  static const char *const kinds[] = {"email", "phone", "account_id", "name"};
  const char *values[] = {in->email, in->phone, in->account_id, in->name};
  for (size_t i = 0; i < DSR_ARRAY_LEN(kinds); i++) {
    enum dsr_tx_status s = put_identity(db, c, id, kinds[i], values[i]);
    if (s != DSR_TX_COMMIT)
      return s;
  }
  if (in->corrections) {
    enum dsr_tx_status s = dsr_corrections_store(db, id, in->corrections);
    if (s != DSR_TX_COMMIT)
      return s;
  }
  if (in->venv) {
    struct dsr_verify_start vs = {.request_id = id, .type = in->type, .language = in->language,
                                  .due_at = json_string_value(json_object_get(c->reply, "due_at")),
                                  .email = in->email, .phone = in->phone};
    enum dsr_ec vec = DSR_OK;
    enum dsr_tx_status s = (enum dsr_tx_status)dsr_verify_start(
        db, in->venv, &vs, (time_t)strtoll(now, NULL, 10), expires, sizeof expires, &vec);
    if (s != DSR_TX_COMMIT) {
      if (s == DSR_TX_ROLLBACK)
        c->ec = vec != DSR_OK ? vec : DSR_E_INTERNAL;
      return s;
    }
    json_object_set_new(json_object_get(c->reply, "verification"), "expires_at",
                        json_string(expires));
  }
  json_t *data = json_pack("{s:s, s:s}", "type", in->type, "jurisdiction", c->jur);
  bool retry = false;
  bool recorded = data && dsr_event_record(db, id, "request.received", "subject", data, &retry);
  json_decref(data);
  if (!recorded) {
    if (!retry)
      c->ec = DSR_E_INTERNAL;
    return retry ? DSR_TX_RETRY : DSR_TX_ROLLBACK;
  }
  if (in->idempotency_key) {
    bool lost = false;
    enum dsr_tx_status s = remember(db, c, now, &lost);
    if (s != DSR_TX_COMMIT)
      return s;
    if (lost)
      return DSR_TX_RETRY; /* a concurrent retry committed first: replay its answer instead */
  }
  return DSR_TX_COMMIT;
}

enum dsr_ec dsr_request_create(struct dsr_db *db, const struct dsr_intake *in, json_t **reply,
                               unsigned int *status)
{
  struct create_ctx c = {.in = in, .ec = DSR_OK, .jur = in->jurisdiction,
                         .deadline = in->deadline};
  if (!c.deadline) {
    const struct dsr_jurisdiction *b = dsr_jurisdiction_find(in->jurisdiction);
    if (!b)
      return DSR_E_FIELD_INVALID;
    c.deadline = b->deadline;
  }
  if (in->idempotency_key &&
      !dsr_idem_init(&c.idem, IDEMPOTENCY_SCOPE, in->idempotency_key, NULL, in->body))
    return DSR_E_INTERNAL;
  /* READ COMMITTED: a concurrent insert of the same key makes ours wait, then conflict. */
  bool committed = dsr_db_tx(db, "READ COMMITTED", create_body, &c);
  if (!committed && c.ec == DSR_OK)
    c.ec = DSR_E_DB_UNAVAILABLE;
  if (c.ec != DSR_OK) {
    json_decref(c.reply);
    return c.ec;
  }
  *reply = c.reply;
  *status = c.status;
  DSR_INFO("request.created", "id=%s type=%s jurisdiction=%s",
           json_string_value(json_object_get(c.reply, "id")), in->type, c.jur);
  return DSR_OK;
}

/* The status view in @p r (DSR_STMT_REQUEST_GET's result), if @p want is its status token's
 * hash or @p by_link; shared by the blocking and the handed-over reads. */
static enum dsr_ec status_of(const PGresult *r, const unsigned char *want, bool by_link,
                             struct dsr_status_view *v)
{
  if (!dsr_db_ok(r))
    return DSR_E_DB_UNAVAILABLE;
  if (PQntuples(r) != 1)
    return DSR_E_NOT_FOUND;
  size_t hl = 0;
  unsigned char *have = PQunescapeBytea((const unsigned char *)PQgetvalue(r, 0, 7), &hl);
  bool match =
      by_link || (have && hl == DSR_HASH_BYTES && sodium_memcmp(have, want, DSR_HASH_BYTES) == 0);
  PQfreemem(have);
  if (!match)
    return DSR_E_NOT_FOUND;
  static const char *const keys[] = {"id",          "type",   "jurisdiction", "status",
                                     "received_at", "due_at", "updated_at"};
  for (int c = 0; c < (int)DSR_ARRAY_LEN(keys); c++)
    if (!dsr_status_view_add(v, keys[c], PQgetvalue(r, 0, c), (size_t)PQgetlength(r, 0, c)))
      return DSR_E_INTERNAL;
  if (!PQgetisnull(r, 0, 8) && strcmp(PQgetvalue(r, 0, 3), "pending_verification"))
    dsr_status_view_add(v, "duplicate_of", PQgetvalue(r, 0, 8),
                              (size_t)PQgetlength(r, 0, 8));
  if (!PQgetisnull(r, 0, 9))
    dsr_status_view_add(v, "close_reason", PQgetvalue(r, 0, 9),
                              (size_t)PQgetlength(r, 0, 9));
  dsr_request_status_extra(r, 0, 10, v);
  return DSR_OK;
}

/* The status view of @p id; @p token checked against its status token unless @p by_link. */
static enum dsr_ec status_view(struct dsr_db *db, const char *id, const char *token, bool by_link,
                               json_t **reply)
{
  const char *why;
  if (!dsr_valid_uuid(id, &why) || (!token && !by_link))
    return DSR_E_NOT_FOUND;
  unsigned char want[DSR_HASH_BYTES] = {0};
  if (token)
    dsr_keyed_hash(DSR_KEY_TOKEN, token, strlen(token), want);
  PGresult *r = dsr_db_exec(db, DSR_STMT_REQUEST_GET, 1, (const char *const[]){id});
  struct dsr_status_view v = {0};
  enum dsr_ec ec = status_of(r, want, by_link, &v);
  if (ec == DSR_OK && !(*reply = dsr_status_view_json(&v)))
    ec = DSR_E_INTERNAL;
  dsr_status_view_clear(&v);
  PQclear(r);
  return ec;
}

enum dsr_ec dsr_request_status(struct dsr_db *db, const char *id, const char *token,
                               json_t **reply)
{
  return status_view(db, id, token, false, reply);
}

enum dsr_ec dsr_request_status_check(const char *id, const char *token)
{
  const char *why;
  return dsr_valid_uuid(id, &why) && token ? DSR_OK : DSR_E_NOT_FOUND;
}

bool dsr_request_status_submit(struct dsr_dbq *q, const char *id, dsr_dbq_done done, void *arg)
{
  return dsr_dbq_submit(q, DSR_STMT_REQUEST_GET, 1, (const char *const[]){id}, done, arg);
}

enum dsr_ec dsr_request_status_answer(const PGresult *res, const char *token, char **text)
{
  unsigned char want[DSR_HASH_BYTES];
  dsr_keyed_hash(DSR_KEY_TOKEN, token, strlen(token), want);
  struct dsr_status_view v = {0};
  enum dsr_ec ec = status_of(res, want, false, &v);
  sodium_memzero(want, sizeof want);
  if (ec == DSR_OK && !(*text = dsr_status_view_text(&v)))
    ec = DSR_E_INTERNAL;
  dsr_status_view_clear(&v);
  return ec;
}

enum dsr_ec dsr_request_status_by_link(struct dsr_db *db, const char *id, const char *cap,
                                       json_t **reply)
{
  if (!dsr_status_link_ok(id, cap))
    return DSR_E_NOT_FOUND;
  return status_view(db, id, NULL, true, reply);
}

bool dsr_request_details_add(struct dsr_db *db, const char *id, json_t *into)
{
  PGresult *r = dsr_db_exec(db, DSR_STMT_REQUEST_DETAILS, 1, (const char *const[]){id});
  bool ok = dsr_db_ok(r);
  if (ok && PQntuples(r) == 1) {
    size_t n = 0, pl = 0;
    unsigned char *raw = PQunescapeBytea((const unsigned char *)PQgetvalue(r, 0, 0), &n);
    unsigned char *plain = NULL;
    if (raw && dsr_unseal(raw, n, &plain, &pl))
      json_object_set_new(into, "details", json_stringn((const char *)plain, pl));
    if (plain)
      sodium_memzero(plain, pl);
    free(plain);
    PQfreemem(raw);
  }
  PQclear(r);
  return ok;
}

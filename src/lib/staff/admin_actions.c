/**
 * @file admin_actions.c
 * @brief Staff actions on a request, each one transaction with its events
 *        and the customers' dsr.updated notifications (outbox).
 */
#include "config.h"
#include "dsr/admin.h"
#include "dsr/crypto.h"
#include "dsr/notify.h"
#include "dsr/rights.h"
#include "dsr/erasure.h"
#include "dsr/parts.h"
#include "dsr/routing_policy.h"
#include "dsr/validate.h"
#include "dsr/verify.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const dsr_admin_identity_kinds[] = {"email", "phone", "account_id", NULL};

const char *const dsr_admin_actions[] = {"verify",  "approve", "deny",     "extend", "hold",
                                         "release", "assign",  "withdraw", NULL};

struct act_ctx {
  const struct dsr_policy *policy;
  const struct dsr_admin_action *a;
  const char *id, *staff_id;
  char actor[64];
  char now[24];
  enum dsr_ec ec;
  char *detail;
  size_t detlen;
  const char **field;
  /* the locked request */
  char type[32], jur[32], status[32], due[24];
  long long received, held_at;
  bool extended;
};

static enum dsr_tx_status refuse(struct act_ctx *c, enum dsr_ec ec, const char *detail,
                                 const char *field)
{
  c->ec = ec;
  dsr_strlcpy(c->detail, detail, c->detlen);
  *c->field = field;
  return DSR_TX_ROLLBACK;
}

/* Tells the subject (outbox, same transaction); takes @p what. */
static enum dsr_tx_status tell_subject(struct dsr_db *db, struct act_ctx *c, json_t *what)
{
  enum dsr_ec ec = DSR_E_INTERNAL;
  enum dsr_tx_status s =
      what ? dsr_notify_subject(db, c->policy, c->id, what, (time_t)atoll(c->now), &ec)
           : DSR_TX_ROLLBACK;
  json_decref(what);
  if (s == DSR_TX_ROLLBACK)
    return refuse(c, ec, "the subject could not be told", NULL);
  return s;
}

/* Seals @p text for storage; the caller frees *out. */
static bool seal_text(const char *text, unsigned char **out, size_t *len)
{
  return dsr_seal(text, strlen(text), out, len);
}

/* Runs a statement whose parameter @p bin_at is bytea (sealed); -1 for none. */
static enum dsr_tx_status exec_sealed(struct dsr_db *db, enum dsr_stmt st, int n,
                                      const char *const *v, int bin_at, size_t bin_len,
                                      PGresult **out)
{
  int lens[8] = {0}, fmts[8] = {0};
  if (bin_at >= 0) {
    lens[bin_at] = (int)bin_len;
    fmts[bin_at] = 1;
  }
  PGresult *r = dsr_db_exec_bin(db, st, n, v, lens, fmts);
  *out = NULL;
  if (!dsr_db_ok(r)) {
    bool retry = dsr_db_is_retryable(r);
    PQclear(r);
    return retry ? DSR_TX_RETRY : DSR_TX_ROLLBACK;
  }
  *out = r;
  return DSR_TX_COMMIT;
}

/* Tells the customer of every returned part (column 0) about @p status. */
static enum dsr_tx_status notify_parts(struct dsr_db *db, PGresult *r, const char *status_word)
{
  enum dsr_tx_status s = DSR_TX_COMMIT;
  json_t *extra = json_pack("{s:s}", "change", status_word);
  for (int i = 0; i < PQntuples(r) && s == DSR_TX_COMMIT; i++)
    s = dsr_part_notify(db, PQgetvalue(r, i, 0), "dsr.updated", extra);
  json_decref(extra);
  return s;
}

static enum dsr_tx_status do_approve(struct dsr_db *db, struct act_ctx *c)
{
  if (!strcmp(c->status, "on_hold"))
    return refuse(c, DSR_E_CONFLICT, "the request is on hold", NULL);
  const char *v[] = {c->id, c->a->part_id, c->now};
  PGresult *r = NULL;
  enum dsr_tx_status s = dsr_tx_exec(db, DSR_STMT_PARTS_APPROVE, 3, v, &r);
  if (s != DSR_TX_COMMIT)
    return s;
  if (PQntuples(r) == 0) {
    PQclear(r);
    return refuse(c, DSR_E_CONFLICT, "no part of this request waits for approval", NULL);
  }
  for (int i = 0; i < PQntuples(r) && s == DSR_TX_COMMIT; i++)
    s = dsr_tx_event(db, c->id, "part.approved", c->actor,
                     json_pack("{s:s}", "part_id", PQgetvalue(r, i, 0)));
  if (s == DSR_TX_COMMIT)
    s = notify_parts(db, r, "approved_by_controller");
  for (int i = 0; i < PQntuples(r) && s == DSR_TX_COMMIT; i++)
    s = dsr_part_execute_enqueue(db, c->id, PQgetvalue(r, i, 0)); /* runs once this commits */
  PQclear(r);
  return s;
}

static bool reason_known(const char *r)
{
  for (const char *const *p = dsr_deny_reasons; *p; p++)
    if (!strcmp(*p, r))
      return true;
  return false;
}

static enum dsr_tx_status do_deny(struct dsr_db *db, struct act_ctx *c)
{
  if (!c->a->reason || !reason_known(c->a->reason))
    return refuse(c, DSR_E_UNPROCESSABLE,
                  "deny needs a reason code: identity_not_verified, manifestly_unfounded, "
                  "excessive, legal_obligation, legal_claims, exemption_applies, "
                  "not_applicable, duplicate or third_party_rights",
                  "/reason");
  const char *v[] = {c->id, c->a->part_id, c->a->reason, c->now};
  PGresult *r = NULL;
  enum dsr_tx_status s = dsr_tx_exec(db, DSR_STMT_PARTS_DENY, 4, v, &r);
  if (s != DSR_TX_COMMIT)
    return s;
  int denied = PQntuples(r);
  for (int i = 0; i < denied && s == DSR_TX_COMMIT; i++)
    s = dsr_tx_event(db, c->id, "part.denied", c->actor,
                     json_pack("{s:s, s:s}", "part_id", PQgetvalue(r, i, 0), "reason",
                               c->a->reason));
  if (s == DSR_TX_COMMIT)
    s = notify_parts(db, r, "denied_by_controller");
  PQclear(r);
  if (s != DSR_TX_COMMIT)
    return s;
  if (c->a->part_id) {
    if (denied == 0)
      return refuse(c, DSR_E_CONFLICT, "this part cannot be denied any more", "/part_id");
    return dsr_request_settle(db, c->id, c->actor);
  }
  if (!strcmp(c->status, "completed") || !strcmp(c->status, "denied") ||
      !strcmp(c->status, "withdrawn") || !strcmp(c->status, "expired"))
    return refuse(c, DSR_E_CONFLICT, "the request is already closed", NULL);
  const char *dv[] = {c->id, c->a->reason, c->now};
  s = dsr_tx_exec(db, DSR_STMT_REQUEST_DENY, 3, dv, &r);
  if (s != DSR_TX_COMMIT)
    return s;
  PQclear(r);
  s = dsr_tx_event(db, c->id, "request.denied", c->actor,
                   json_pack("{s:s}", "reason", c->a->reason));
  if (s != DSR_TX_COMMIT)
    return s;
  /* Nothing is mailed to an address nobody verified: the status page says it. */
  if (!strcmp(c->status, "received") || !strcmp(c->status, "pending_verification"))
    return DSR_TX_COMMIT;
  return tell_subject(db, c, json_pack("{s:b, s:s}", "denied", 1, "reason", c->a->reason));
}

static enum dsr_tx_status sync_parts_due(struct dsr_db *db, struct act_ctx *c, const char *why)
{
  const char *v[] = {c->id, c->now};
  PGresult *r = NULL;
  enum dsr_tx_status s = dsr_tx_exec(db, DSR_STMT_PARTS_SYNC_DUE, 2, v, &r);
  if (s != DSR_TX_COMMIT)
    return s;
  s = notify_parts(db, r, why);
  PQclear(r);
  return s;
}

static enum dsr_tx_status do_extend(struct dsr_db *db, struct act_ctx *c)
{
  if (!c->a->reason)
    return refuse(c, DSR_E_UNPROCESSABLE, "an extension needs a reason (the subject is told)",
                  "/reason");
  if (!dsr_request_status_open(c->status))
    return refuse(c, DSR_E_CONFLICT, "the request is already closed", NULL);
  if (c->extended)
    return refuse(c, DSR_E_CONFLICT, "the request was extended already (once only)", NULL);
  struct dsr_jur_rules jr;
  if (!dsr_rp_jurisdiction(c->policy, c->jur, &jr))
    return refuse(c, DSR_E_CONFLICT, "the request's jurisdiction is not in the policy", NULL);
  const char *cv[] = {c->id, c->now, jr.extension_notice_within, jr.extension};
  PGresult *r = NULL;
  enum dsr_tx_status s = dsr_tx_exec(db, DSR_STMT_REQUEST_EXTENSION_CHECK, 4, cv, &r);
  if (s != DSR_TX_COMMIT)
    return s;
  bool in_window = PQgetvalue(r, 0, 0)[0] == 't', allowed = PQgetvalue(r, 0, 1)[0] == 't';
  PQclear(r);
  if (!allowed)
    return refuse(c, DSR_E_UNPROCESSABLE, "this jurisdiction allows no extension", NULL);
  if (!in_window)
    return refuse(c, DSR_E_UNPROCESSABLE,
                  "an extension must be announced within the jurisdiction's notice window", NULL);
  unsigned char *sealed = NULL;
  size_t sl = 0;
  if (!seal_text(c->a->reason, &sealed, &sl))
    return refuse(c, DSR_E_INTERNAL, "cannot seal the reason", NULL);
  const char *v[] = {c->id, jr.extension, (const char *)sealed, c->now};
  s = exec_sealed(db, DSR_STMT_REQUEST_EXTEND, 4, v, 2, sl, &r);
  free(sealed);
  if (s != DSR_TX_COMMIT)
    return s;
  if (PQntuples(r) != 1) {
    PQclear(r);
    return refuse(c, DSR_E_CONFLICT, "the request was extended already (once only)", NULL);
  }
  char due[24];
  dsr_strlcpy(due, PQgetvalue(r, 0, 0), sizeof due);
  PQclear(r);
  /* The subject is told the new date and the reason: by message, and on the status page. */
  s = dsr_tx_event(db, c->id, "request.extended", c->actor,
                   json_pack("{s:s, s:s, s:b}", "due_at", due, "extension", jr.extension,
                             "subject_told", 1));
  if (s == DSR_TX_COMMIT)
    s = tell_subject(db, c, json_pack("{s:b, s:s, s:s}", "extended", 1, "reason", c->a->reason,
                                      "due_at", due));
  return s == DSR_TX_COMMIT ? sync_parts_due(db, c, "extended") : s;
}

static enum dsr_tx_status do_hold(struct dsr_db *db, struct act_ctx *c)
{
  const char *v[] = {c->id, c->now};
  PGresult *r = NULL;
  enum dsr_tx_status s = dsr_tx_exec(db, DSR_STMT_REQUEST_HOLD, 2, v, &r);
  if (s != DSR_TX_COMMIT)
    return s;
  bool changed = PQntuples(r) == 1;
  PQclear(r);
  if (!changed)
    return refuse(c, DSR_E_CONFLICT, "only an open request that is not on hold can be held",
                  NULL);
  json_t *d = json_object();
  if (d && c->a->reason)
    json_object_set_new(d, "reason_given", json_true());
  return dsr_tx_event(db, c->id, "request.held", c->actor, d);
}

static enum dsr_tx_status do_release(struct dsr_db *db, struct act_ctx *c)
{
  if (strcmp(c->status, "on_hold") != 0)
    return refuse(c, DSR_E_CONFLICT, "the request is not on hold", NULL);
  struct dsr_jur_rules jr;
  bool pause = dsr_rp_jurisdiction(c->policy, c->jur, &jr) && jr.hold_pauses_clock;
  const char *v[] = {c->id, pause ? "true" : "false", c->now};
  PGresult *r = NULL;
  enum dsr_tx_status s = dsr_tx_exec(db, DSR_STMT_REQUEST_RELEASE, 3, v, &r);
  if (s != DSR_TX_COMMIT)
    return s;
  json_t *d = json_pack("{s:s, s:s, s:b, s:I}", "status", PQgetvalue(r, 0, 0), "due_at",
                        PQgetvalue(r, 0, 1), "clock_paused", pause, "held_s",
                        (json_int_t)(atoll(c->now) - c->held_at));
  PQclear(r);
  s = dsr_tx_event(db, c->id, "request.released", c->actor, d);
  if (s == DSR_TX_COMMIT) /* work the hold stopped goes on */
    s = dsr_part_execute_enqueue(db, c->id, NULL);
  if (s != DSR_TX_COMMIT || !pause)
    return s;
  return sync_parts_due(db, c, "released");
}

static enum dsr_tx_status do_assign(struct dsr_db *db, struct act_ctx *c)
{
  if (!c->a->assignee)
    return refuse(c, DSR_E_UNPROCESSABLE, "assign needs an assignee (staff user id or name)",
                  "/assignee");
  const char *fv[] = {c->a->assignee};
  PGresult *r = NULL;
  enum dsr_tx_status s = dsr_tx_exec(db, DSR_STMT_STAFF_FIND, 1, fv, &r);
  if (s != DSR_TX_COMMIT)
    return s;
  if (PQntuples(r) != 1) {
    PQclear(r);
    return refuse(c, DSR_E_UNPROCESSABLE, "no enabled staff user with this id or name",
                  "/assignee");
  }
  char uid[40];
  dsr_strlcpy(uid, PQgetvalue(r, 0, 0), sizeof uid);
  PQclear(r);
  const char *v[] = {c->id, uid, c->now};
  s = dsr_tx_exec(db, DSR_STMT_REQUEST_ASSIGN, 3, v, &r);
  if (s != DSR_TX_COMMIT)
    return s;
  PQclear(r);
  return dsr_tx_event(db, c->id, "request.assigned", c->actor,
                      json_pack("{s:s}", "staff_id", uid));
}

/*
 * A withdrawal on the requester's behalf (they phoned in, wrote a letter): the
 * reason is kept as an internal note (sealed) and the event names the note, so
 * the audit trail says who withdrew it and why; the subject is told as when they
 * withdraw themselves (the closing notice).
 */
static enum dsr_tx_status do_withdraw(struct dsr_db *db, struct act_ctx *c)
{
  if (!c->a->reason || !*c->a->reason)
    return refuse(c, DSR_E_UNPROCESSABLE,
                  "a withdrawal on the requester's behalf needs a reason (how they asked)",
                  "/reason");
  if (!dsr_request_status_open(c->status))
    return refuse(c, !strcmp(c->status, "expired") ? DSR_E_REQUEST_EXPIRED : DSR_E_REQUEST_CLOSED,
                  "the request is already closed", NULL);
  char *text = dsr_asprintf("Withdrawn on the requester's behalf: %s", c->a->reason);
  unsigned char *sealed = NULL;
  size_t sl = 0;
  bool ok = text && seal_text(text, &sealed, &sl);
  free(text);
  if (!ok)
    return refuse(c, DSR_E_INTERNAL, "cannot seal the reason", NULL);
  const char *v[] = {c->id, c->staff_id, (const char *)sealed, c->now};
  PGresult *r = NULL;
  enum dsr_tx_status s = exec_sealed(db, DSR_STMT_UI_NOTE_INSERT, 4, v, 2, sl, &r);
  free(sealed);
  if (s != DSR_TX_COMMIT)
    return s;
  json_int_t note = PQntuples(r) == 1 ? (json_int_t)atoll(PQgetvalue(r, 0, 0)) : 0;
  PQclear(r);
  if (note == 0)
    return refuse(c, DSR_E_NOT_FOUND, "no such request", NULL);
  enum dsr_ec ec = DSR_OK;
  s = dsr_request_withdraw_tx(db, c->id, c->actor, c->status,
                              json_pack("{s:b, s:I}", "on_behalf", 1, "note_id", note), &ec);
  if (s == DSR_TX_ROLLBACK)
    return refuse(c, ec != DSR_OK ? ec : DSR_E_INTERNAL,
                  ec == DSR_E_WITHDRAW_TOO_LATE ? "a part of the request is being or was carried out"
                                                : "the request is already closed",
                  NULL);
  return s;
}

/* The "verify" action: the verification module's manual path, with the API's wording. */
static enum dsr_ec verify_manually(struct dsr_db *db, struct act_ctx *c)
{
  struct dsr_verify_env env = {.policy = c->policy};
  struct dsr_verify_outcome out;
  const char *kind = c->a->identity;
  if (kind)
    dsr_verify_manual_identity(db, &env, c->id, c->actor, kind, c->a->note, &out);
  else
    dsr_verify_manual(db, &env, c->id, c->actor, c->a->note, &out);
  switch (out.ec) {
  case DSR_OK:
    return DSR_OK;
  case DSR_E_UNPROCESSABLE:
    refuse(c, out.ec, "manual verification needs a note", "/note");
    break;
  case DSR_E_FIELD_INVALID:
    refuse(c, out.ec, "the request gave no identity of this kind", "/identity");
    break;
  case DSR_E_CONFLICT:
    refuse(c, out.ec,
           !kind ? "only a request waiting for verification can be verified"
                 : "an identity can be verified by hand once the request is verified, and once",
           kind ? "/identity" : NULL);
    break;
  case DSR_E_REQUEST_EXPIRED:
    refuse(c, out.ec, "the request expired before it was verified", NULL);
    break;
  case DSR_E_REQUEST_CLOSED:
    refuse(c, out.ec, "the request is already closed", NULL);
    break;
  default:
    break;
  }
  return out.ec;
}

/* Nothing is sent to or done for an unverified requester but what the policy allows
 * (verification.before_verification); verification has its own path. */
static bool before_verification_ok(const struct act_ctx *c)
{
  if (strcmp(c->status, "received") != 0 && strcmp(c->status, "pending_verification") != 0)
    return true;
  return dsr_verify_allows_before(c->policy, c->a->action, c->a->reason);
}

static const char not_verified_detail[] =
    "the policy does not allow this action before the requester is verified "
    "(verification.before_verification)";

static enum dsr_tx_status act_body(struct dsr_db *db, void *arg)
{
  struct act_ctx *c = arg;
  c->ec = DSR_OK;
  const char *v[] = {c->id};
  PGresult *r = NULL;
  enum dsr_tx_status s = dsr_tx_exec(db, DSR_STMT_REQUEST_LOCK, 1, v, &r);
  if (s != DSR_TX_COMMIT)
    return s;
  if (PQntuples(r) != 1) {
    PQclear(r);
    return refuse(c, DSR_E_NOT_FOUND, "no such request", NULL);
  }
  dsr_strlcpy(c->type, PQgetvalue(r, 0, 1), sizeof c->type);
  dsr_strlcpy(c->jur, PQgetvalue(r, 0, 2), sizeof c->jur);
  dsr_strlcpy(c->status, PQgetvalue(r, 0, 3), sizeof c->status);
  c->received = atoll(PQgetvalue(r, 0, 4));
  c->extended = PQgetvalue(r, 0, 5)[0] == 't';
  c->held_at = PQgetisnull(r, 0, 6) ? 0 : atoll(PQgetvalue(r, 0, 6));
  dsr_strlcpy(c->due, PQgetvalue(r, 0, 7), sizeof c->due);
  PQclear(r);
  const char *a = c->a->action;
  if (!before_verification_ok(c))
    return refuse(c, DSR_E_NOT_VERIFIED_YET, not_verified_detail,
                  !strcmp(a, "deny") && dsr_verify_allows_before(c->policy, "deny_unverifiable",
                                                                 NULL)
                      ? "/reason"
                      : "/action");
  if (!strcmp(a, "approve"))
    return do_approve(db, c);
  if (!strcmp(a, "deny"))
    return do_deny(db, c);
  if (!strcmp(a, "extend"))
    return do_extend(db, c);
  if (!strcmp(a, "hold"))
    return do_hold(db, c);
  if (!strcmp(a, "release"))
    return do_release(db, c);
  if (!strcmp(a, "assign"))
    return do_assign(db, c);
  if (!strcmp(a, "withdraw"))
    return do_withdraw(db, c);
  return refuse(c, DSR_E_FIELD_INVALID, "unknown action", "/action");
}

enum dsr_ec dsr_admin_act(struct dsr_db *db, const struct dsr_policy *p, const char *staff_id,
                          const char *id, const struct dsr_admin_action *a, json_t **reply,
                          char *detail, size_t detlen, const char **field)
{
  const char *why;
  *field = NULL;
  detail[0] = '\0';
  if (!dsr_valid_uuid(id, &why))
    return DSR_E_NOT_FOUND;
  struct act_ctx c = {.policy = p, .a = a, .id = id, .staff_id = staff_id, .detail = detail,
                      .detlen = detlen, .field = field};
  snprintf(c.actor, sizeof c.actor, "staff:%s", staff_id);
  snprintf(c.now, sizeof c.now, "%lld", (long long)dsr_now());
  if (a->action && !strcmp(a->action, "verify") && !a->identity &&
      !dsr_verify_allows_before(p, "verify", NULL)) { /* the whole request: before verification */
    dsr_strlcpy(detail, not_verified_detail, detlen);
    *field = "/action";
    return DSR_E_NOT_VERIFIED_YET;
  }
  if (a->action && !strcmp(a->action, "verify")) {
    enum dsr_ec vec = verify_manually(db, &c);
    if (vec != DSR_OK)
      return vec;
  } else if (!dsr_db_tx(db, "READ COMMITTED", act_body, &c))
    return c.ec != DSR_OK ? c.ec : DSR_E_DB_UNAVAILABLE;
  const char *v[] = {id};
  PGresult *r = dsr_db_exec(db, DSR_STMT_REQUEST_ROUTING_GET, 1, v);
  enum dsr_ec ec = DSR_E_DB_UNAVAILABLE;
  if (dsr_db_ok(r) && PQntuples(r) == 1) {
    *reply = json_pack("{s:s, s:s, s:s}", "id", id, "action", a->action, "status",
                       PQgetvalue(r, 0, 3));
    ec = *reply ? DSR_OK : DSR_E_INTERNAL;
  }
  PQclear(r);
  return ec;
}

struct dsr_admin_action dsr_admin_action_of(const json_t *body)
{
  return (struct dsr_admin_action){
      .action = json_string_value(json_object_get(body, "action")),
      .reason = json_string_value(json_object_get(body, "reason")),
      .note = json_string_value(json_object_get(body, "note")),
      .part_id = json_string_value(json_object_get(body, "part_id")),
      .assignee = json_string_value(json_object_get(body, "assignee")),
      .identity = json_string_value(json_object_get(body, "identity")),
  };
}

/**
 * @file staff_admin.c
 * @brief Staff accounts managed in the staff UI: invite and reset with
 *        one-time set-password links, role, disable/enable, sessions. Every
 *        change is one transaction with its staff.* event (actor the admin,
 *        data the account's id), so the audit trail has it.
 */
#include "config.h"
#include "dsr/crypto.h"
#include "dsr/events.h"
#include "dsr/parts.h"
#include "dsr/staff_admin.h"
#include "dsr/ui_auth.h"
#include "dsr/util.h"
#include "dsr/validate.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct acct_ctx {
  const char *admin_id, *user_id;
  enum dsr_stmt st;        /* the change */
  const char *v[4];        /* its parameters ... */
  int nv;                  /* ... how many */
  bool link;               /* and a new set-password link */
  const char *purpose;     /* "invite" / "reset" */
  unsigned char token_hash[DSR_HASH_BYTES];
  bool drop_sessions;      /* end the account's sessions too */
  const char *kind;        /* the event */
  json_t *data;            /* extra event data (borrowed) */
  char new_id[40];         /* an invitation's account */
  int count;
  enum dsr_ec ec;          /* DSR_E_CONFLICT when the change changed nothing */
};

static enum dsr_tx_status run_stmt(struct dsr_db *db, struct acct_ctx *c, enum dsr_stmt st,
                                   int n, const char *const *v, PGresult **out)
{
  PGresult *r = dsr_db_exec(db, st, n, v);
  if (!dsr_db_ok(r)) {
    bool retry = dsr_db_is_retryable(r);
    PQclear(r);
    c->ec = DSR_E_DB_UNAVAILABLE;
    return retry ? DSR_TX_RETRY : DSR_TX_ROLLBACK;
  }
  if (out)
    *out = r;
  else
    PQclear(r);
  return DSR_TX_COMMIT;
}

static enum dsr_tx_status acct_body(struct dsr_db *db, void *arg)
{
  struct acct_ctx *c = arg;
  c->ec = DSR_OK;
  char now[24], hours[12];
  snprintf(now, sizeof now, "%lld", (long long)dsr_now());
  snprintf(hours, sizeof hours, "%d", DSR_PASSWORD_LINK_HOURS);
  PGresult *r = NULL;
  enum dsr_tx_status s = run_stmt(db, c, c->st, c->nv, c->v, &r);
  if (s != DSR_TX_COMMIT)
    return s;
  c->count = PQntuples(r);
  if (c->count > 0 && !c->user_id)
    dsr_strlcpy(c->new_id, PQgetvalue(r, 0, 0), sizeof c->new_id);
  PQclear(r);
  if (c->count == 0 && c->st != DSR_STMT_UI_SESSIONS_END) {
    c->ec = DSR_E_CONFLICT;
    return DSR_TX_ROLLBACK;
  }
  const char *uid = c->user_id ? c->user_id : c->new_id;
  if (c->drop_sessions) {
    const char *dv[] = {uid, NULL};
    s = run_stmt(db, c, DSR_STMT_UI_SESSIONS_END, 2, dv, NULL);
  }
  if (s == DSR_TX_COMMIT && c->link) {
    const char *lv[] = {uid, now};
    s = run_stmt(db, c, DSR_STMT_UI_LINKS_DROP_USER, 2, lv, NULL);
    const char *iv[] = {(const char *)c->token_hash, uid, c->purpose, c->admin_id, now, hours};
    const int lens[] = {DSR_HASH_BYTES, 0, 0, 0, 0, 0}, fmts[] = {1, 0, 0, 0, 0, 0};
    if (s == DSR_TX_COMMIT) {
      PGresult *ir = dsr_db_exec_bin(db, DSR_STMT_UI_LINK_INSERT, 6, iv, lens, fmts);
      if (!dsr_db_ok(ir)) {
        s = dsr_db_is_retryable(ir) ? DSR_TX_RETRY : DSR_TX_ROLLBACK;
        c->ec = DSR_E_DB_UNAVAILABLE;
      }
      PQclear(ir);
    }
  }
  if (s != DSR_TX_COMMIT)
    return s;
  if (c->st == DSR_STMT_UI_SESSIONS_END && c->count == 0)
    return DSR_TX_COMMIT; /* nothing ended: nothing to record */
  char actor[64];
  snprintf(actor, sizeof actor, "staff:%s", c->admin_id);
  json_t *d = c->data ? json_deep_copy(c->data) : json_object();
  json_object_set_new(d, "staff_id", json_string(uid));
  return dsr_tx_event(db, NULL, c->kind, actor, d);
}

/* Runs @p c; with a link, *token gets the link's token (caller frees). */
static enum dsr_ec run(struct dsr_db *db, struct acct_ctx *c, char **token)
{
  char *t = NULL;
  if (c->link) {
    t = dsr_token_new();
    if (!t)
      return DSR_E_INTERNAL;
    dsr_keyed_hash(DSR_KEY_TOKEN, t, strlen(t), c->token_hash);
  }
  bool ok = dsr_db_tx(db, "READ COMMITTED", acct_body, c);
  enum dsr_ec ec = ok ? DSR_OK : c->ec != DSR_OK ? c->ec : DSR_E_DB_UNAVAILABLE;
  if (ec == DSR_OK && token) {
    *token = t;
    t = NULL;
  }
  if (t) {
    sodium_memzero(t, strlen(t));
    free(t);
  }
  return ec;
}

static bool valid_id(const char *id)
{
  const char *why;
  return id && dsr_valid_uuid(id, &why);
}

enum dsr_ec dsr_staff_invite(struct dsr_db *db, const char *admin_id, const char *email,
                             const char *name, enum dsr_role role, char **token)
{
  char now[24];
  snprintf(now, sizeof now, "%lld", (long long)dsr_now());
  char *norm = dsr_normalize_email(email);
  if (!norm)
    return DSR_E_INTERNAL;
  json_t *d = json_pack("{s:s}", "role", dsr_role_name(role));
  struct acct_ctx c = {.admin_id = admin_id, .st = DSR_STMT_UI_STAFF_INVITE,
                       .v = {norm, name && *name ? name : NULL, dsr_role_name(role), now},
                       .nv = 4, .link = true, .purpose = "invite", .kind = "staff.invited",
                       .data = d};
  enum dsr_ec ec = run(db, &c, token);
  json_decref(d);
  free(norm);
  return ec;
}

enum dsr_ec dsr_staff_reset(struct dsr_db *db, const char *admin_id, const char *user_id,
                            char **token)
{
  if (!valid_id(user_id))
    return DSR_E_NOT_FOUND;
  char now[24];
  snprintf(now, sizeof now, "%lld", (long long)dsr_now());
  struct acct_ctx c = {.admin_id = admin_id, .user_id = user_id,
                       .st = DSR_STMT_UI_STAFF_CLEAR_PASSWORD, .v = {user_id, now}, .nv = 2,
                       .link = true, .purpose = "reset", .drop_sessions = true,
                       .kind = "staff.reset"};
  enum dsr_ec ec = run(db, &c, token);
  return ec == DSR_E_CONFLICT ? DSR_E_NOT_FOUND : ec;
}

enum dsr_ec dsr_staff_set_role(struct dsr_db *db, const char *admin_id, const char *user_id,
                               enum dsr_role role)
{
  if (!valid_id(user_id))
    return DSR_E_NOT_FOUND;
  json_t *d = json_pack("{s:s}", "role", dsr_role_name(role));
  struct acct_ctx c = {.admin_id = admin_id, .user_id = user_id,
                       .st = DSR_STMT_UI_STAFF_SET_ROLE,
                       .v = {user_id, dsr_role_name(role)}, .nv = 2,
                       .kind = "staff.role_changed", .data = d};
  enum dsr_ec ec = run(db, &c, NULL);
  json_decref(d);
  return ec;
}

enum dsr_ec dsr_staff_set_enabled(struct dsr_db *db, const char *admin_id, const char *user_id,
                                  bool enabled)
{
  if (!valid_id(user_id))
    return DSR_E_NOT_FOUND;
  struct acct_ctx c = {.admin_id = admin_id, .user_id = user_id,
                       .st = DSR_STMT_UI_STAFF_SET_STATUS,
                       .v = {user_id, enabled ? "enabled" : "disabled"}, .nv = 2,
                       .drop_sessions = !enabled,
                       .kind = enabled ? "staff.enabled" : "staff.disabled"};
  return run(db, &c, NULL);
}

enum dsr_ec dsr_staff_end_sessions(struct dsr_db *db, const char *admin_id, const char *user_id,
                                   const char *handle, int *n)
{
  if (!valid_id(user_id))
    return DSR_E_NOT_FOUND;
  struct acct_ctx c = {.admin_id = admin_id, .user_id = user_id,
                       .st = DSR_STMT_UI_SESSIONS_END, .v = {user_id, handle}, .nv = 2,
                       .kind = "staff.sessions_ended"};
  enum dsr_ec ec = run(db, &c, NULL);
  *n = c.count;
  return ec;
}

json_t *dsr_staff_accounts(struct dsr_db *db)
{
  PGresult *r = dsr_db_exec(db, DSR_STMT_UI_STAFF_ACCOUNTS, 0, NULL);
  if (!dsr_db_ok(r)) {
    PQclear(r);
    return NULL;
  }
  json_t *a = json_array();
  for (int i = 0; a && i < PQntuples(r); i++) {
    json_t *sessions = json_array();
    const char *v[] = {PQgetvalue(r, i, 0)};
    PGresult *s = atoll(PQgetvalue(r, i, 6)) > 0 ? dsr_db_exec(db, DSR_STMT_UI_SESSIONS_OF, 1, v)
                                                 : NULL;
    for (int k = 0; s && dsr_db_ok(s) && k < PQntuples(s); k++)
      json_array_append_new(sessions, json_pack("{s:s, s:s, s:s}", "handle", PQgetvalue(s, k, 0),
                                                "created_at", PQgetvalue(s, k, 1),
                                                "last_seen_at", PQgetvalue(s, k, 2)));
    PQclear(s);
    json_array_append_new(
        a, json_pack("{s:s, s:s, s:s, s:s, s:s, s:b, s:o}", "id", PQgetvalue(r, i, 0), "name",
                     PQgetvalue(r, i, 1), "email", PQgetvalue(r, i, 2), "role",
                     PQgetvalue(r, i, 3), "status", PQgetvalue(r, i, 4), "has_password",
                     PQgetvalue(r, i, 5)[0] == 't', "sessions", sessions));
  }
  PQclear(r);
  return a;
}

/* Runs link statement @p st (token hash, now) for @p token; NULL on a database error, then
 * *retry (when given) says whether it is worth another try. */
static PGresult *link_exec(struct dsr_db *db, enum dsr_stmt st, const char *token, bool *retry)
{
  unsigned char h[DSR_HASH_BYTES];
  dsr_keyed_hash(DSR_KEY_TOKEN, token, strlen(token), h);
  char now[24];
  snprintf(now, sizeof now, "%lld", (long long)dsr_now());
  const char *v[] = {(const char *)h, now};
  const int lens[] = {DSR_HASH_BYTES, 0}, fmts[] = {1, 0};
  PGresult *r = dsr_db_exec_bin(db, st, 2, v, lens, fmts);
  if (dsr_db_ok(r))
    return r;
  if (retry)
    *retry = dsr_db_is_retryable(r);
  PQclear(r);
  return NULL;
}

enum dsr_ec dsr_staff_link_check(struct dsr_db *db, const char *token, char email[256])
{
  PGresult *r = link_exec(db, DSR_STMT_UI_LINK_GET, token, NULL);
  enum dsr_ec ec = !r ? DSR_E_DB_UNAVAILABLE : PQntuples(r) == 1 ? DSR_OK : DSR_E_NOT_FOUND;
  if (ec == DSR_OK)
    dsr_strlcpy(email, PQgetvalue(r, 0, 1), 256);
  PQclear(r);
  return ec;
}

struct link_use_ctx {
  const char *token, *email, *hash;
  enum dsr_ec ec;
};

/* The link is used, the password set (sessions ended, lockout cleared) and staff.password_set
 * recorded in one transaction: a used link always leaves its password and its audit entry. */
static enum dsr_tx_status link_use_body(struct dsr_db *db, void *arg)
{
  struct link_use_ctx *c = arg;
  c->ec = DSR_E_DB_UNAVAILABLE;
  bool retry = false;
  PGresult *r = link_exec(db, DSR_STMT_UI_LINK_USE, c->token, &retry);
  if (!r)
    return retry ? DSR_TX_RETRY : DSR_TX_ROLLBACK;
  bool one = PQntuples(r) == 1;
  char uid[40] = "";
  if (one)
    dsr_strlcpy(uid, PQgetvalue(r, 0, 0), sizeof uid);
  PQclear(r);
  if (!one) {
    c->ec = DSR_E_NOT_FOUND;
    return DSR_TX_ROLLBACK;
  }
  char now[24], actor[64];
  snprintf(now, sizeof now, "%lld", (long long)dsr_now());
  enum dsr_tx_status s = dsr_ui_user_passwd_tx(db, c->email, c->hash, now, &c->ec);
  if (s != DSR_TX_COMMIT)
    return s;
  snprintf(actor, sizeof actor, "staff:%s", uid);
  return dsr_tx_event(db, NULL, "staff.password_set", actor, json_pack("{s:s}", "staff_id", uid));
}

enum dsr_ec dsr_staff_link_use(struct dsr_db *db, const char *token, const char *password)
{
  char email[256];
  enum dsr_ec ec = dsr_staff_link_check(db, token, email);
  if (ec != DSR_OK)
    return ec;
  char hash[crypto_pwhash_STRBYTES];
  if (strlen(password) < DSR_PASSWORD_MIN || !dsr_password_hash(password, hash, sizeof hash))
    return DSR_E_FIELD_INVALID;
  struct link_use_ctx c = {.token = token, .email = email, .hash = hash, .ec = DSR_OK};
  bool ok = dsr_db_tx(db, "READ COMMITTED", link_use_body, &c);
  sodium_memzero(hash, sizeof hash);
  return ok ? DSR_OK : c.ec != DSR_OK ? c.ec : DSR_E_DB_UNAVAILABLE;
}

/**
 * @file rights.c
 * @brief The rights job: restriction puts the subject's identities into the registry as
 *        keyed hashes, scoped to the part's tenant (customer parts) or
 *        everywhere (the controller part); objection, withdraw_consent and
 *        opt_out apply the policy's choices (rights_choices.c). See rights.h.
 */
#include "config.h"
#include "dsr/discovery.h"
#include "dsr/export.h"
#include "dsr/log.h"
#include "dsr/parts.h"
#include "dsr/planner.h"
#include "dsr/queue.h"
#include "dsr/rights.h"
#include "dsr/erasure.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum dsr_id_kind dsr_rights_guess_kind(const char *identity)
{
  if (strchr(identity, '@'))
    return DSR_ID_EMAIL;
  size_t digits = 0;
  bool phone = *identity == '+';
  for (const char *c = identity; *c; c++) {
    if (isdigit((unsigned char)*c))
      digits++;
    else if (!strchr("+ -().", *c))
      return DSR_ID_ACCOUNT;
  }
  return phone && digits >= 6 ? DSR_ID_PHONE : DSR_ID_ACCOUNT;
}

struct restrict_ctx {
  const char *part_id, *request_id, *scope;
  const struct dsr_subject_values *subj;
  int added;
  bool skipped;
};

static enum dsr_tx_status restrict_body(struct dsr_db *db, void *arg)
{
  struct restrict_ctx *c = arg;
  c->added = 0;
  bool go = false;
  enum dsr_tx_status s = dsr_part_lock_runnable(db, c->part_id, &go);
  if (s != DSR_TX_COMMIT)
    return s;
  PGresult *r = NULL;
  c->skipped = !go;
  if (!go)
    return DSR_TX_COMMIT;
  char now[24];
  snprintf(now, sizeof now, "%lld", (long long)dsr_now());
  for (int k = 0; k < DSR_ID_KIND_COUNT; k++) {
    unsigned char h[DSR_HASH_BYTES];
    if (!c->subj->value[k] || !dsr_identity_hash((enum dsr_id_kind)k, c->subj->value[k], h))
      continue;
    const char *iv[] = {c->request_id, c->part_id, (const char *)h, c->scope, now};
    const int lens[] = {0, 0, DSR_HASH_BYTES, 0, 0};
    const int fmts[] = {0, 0, 1, 0, 0};
    r = dsr_db_exec_bin(db, DSR_STMT_RESTRICTION_INSERT, 5, iv, lens, fmts);
    if (!dsr_db_ok(r)) {
      s = dsr_db_is_retryable(r) ? DSR_TX_RETRY : DSR_TX_ROLLBACK;
      PQclear(r);
      return s;
    }
    c->added += PQntuples(r);
    PQclear(r);
  }
  const char *pv[] = {c->part_id, "done", now};
  s = dsr_tx_exec(db, DSR_STMT_EXPORT_PART_SET_STATE, 3, pv, &r);
  if (s != DSR_TX_COMMIT)
    return s;
  PQclear(r);
  json_t *d = json_pack("{s:s, s:i, s:s?}", "part_id", c->part_id, "identities", c->added,
                        "scope", c->scope ? "tenant" : "everywhere");
  s = dsr_tx_event(db, c->request_id, "restriction.applied", "system", d);
  if (s != DSR_TX_COMMIT)
    return s;
  return dsr_request_settle(db, c->request_id, "system");
}

/* Objection, withdraw_consent, opt_out: the policy's choices on the platform, then the part. */
static int run_choice(struct dsr_db *db, const struct dsr_policy *p, const char *part_id,
                      const char *request_id, const char *type, const char *tenant, char *err,
                      size_t errlen)
{
  struct dsr_subject_values subj;
  json_t *changes = NULL;
  PGconn *conn = NULL;
  char *claimed = NULL;
  int rc = DSR_JOB_RETRY;
  const char *dsn = p ? dsr_policy_pg_dsn(p) : NULL;
  if (!dsn) {
    snprintf(err, errlen, "no policy with a postgresql store: choices cannot be applied");
    return DSR_JOB_FAIL;
  }
  if (!dsr_subject_load(db, request_id, &subj)) {
    snprintf(err, errlen, "cannot read the subject's identities");
    return DSR_JOB_RETRY;
  }
  PGresult *r = dsr_db_exec(db, DSR_STMT_RIGHTS_CLAIMED, 0, NULL);
  if (dsr_db_ok(r) && PQntuples(r) == 1)
    claimed = strdup(PQgetvalue(r, 0, 0));
  PQclear(r);
  if (!claimed) {
    snprintf(err, errlen, "database unavailable");
    goto cleanup;
  }
  conn = PQconnectdb(dsn);
  if (PQstatus(conn) != CONNECTION_OK) {
    snprintf(err, errlen, "the policy's postgresql store is not reachable");
    goto cleanup;
  }
  struct dsr_subject s = dsr_subject_of(&subj);
  if (!dsr_choices_apply(p, conn, type, &s, tenant, claimed, &changes, err, errlen))
    goto cleanup;
  DSR_INFO("choice.applied", "part=%s type=%s actions=%zu", part_id, type,
           json_array_size(changes));
  rc = dsr_rights_finish(db, part_id, request_id, "choice.applied",
                         json_pack("{s:s, s:s, s:O}", "part_id", part_id, "type", type, "changes",
                                   changes),
                         err, errlen);
cleanup:
  if (conn)
    PQfinish(conn);
  json_decref(changes);
  free(claimed);
  dsr_subject_free(&subj);
  return rc;
}

int dsr_rights_run(struct dsr_db *db, const struct dsr_policy *p, const char *part_id, char *err,
                   size_t errlen)
{
  const char *v[] = {part_id};
  PGresult *r = dsr_db_exec(db, DSR_STMT_EXPORT_PART_GET, 1, v);
  if (!dsr_db_ok(r)) {
    PQclear(r);
    snprintf(err, errlen, "database unavailable");
    return DSR_JOB_RETRY;
  }
  const char *type = PQntuples(r) == 1 ? PQgetvalue(r, 0, 1) : "";
  bool choice = !strcmp(type, "objection") || !strcmp(type, "withdraw_consent") ||
                !strcmp(type, "opt_out");
  bool rectify = !strcmp(type, "rectification");
  if ((strcmp(type, "restriction") != 0 && !choice && !rectify) || !strcmp(PQgetvalue(r, 0, 6), "on_hold") ||
      (strcmp(PQgetvalue(r, 0, 2), "approved") != 0 &&
       strcmp(PQgetvalue(r, 0, 2), "executing") != 0)) {
    PQclear(r);
    return DSR_JOB_DONE; /* gone, another type, done, or held (enqueued again on release) */
  }
  char request_id[40], scope[128], tname[32];
  dsr_strlcpy(request_id, PQgetvalue(r, 0, 0), sizeof request_id);
  bool scoped = !PQgetisnull(r, 0, 4);
  dsr_strlcpy(scope, PQgetvalue(r, 0, 4), sizeof scope);
  dsr_strlcpy(tname, type, sizeof tname);
  PQclear(r);
  if (choice)
    return run_choice(db, p, part_id, request_id, tname, scoped ? scope : NULL, err, errlen);
  if (rectify)
    return dsr_rectify_run(db, p, part_id, request_id, scoped ? scope : NULL, err, errlen);
  struct dsr_subject_values subj;
  if (!dsr_subject_load(db, request_id, &subj)) {
    snprintf(err, errlen, "cannot read the subject's identities");
    return DSR_JOB_RETRY;
  }
  struct restrict_ctx c = {.part_id = part_id, .request_id = request_id,
                           .scope = scoped ? scope : NULL, .subj = &subj};
  bool ok = dsr_db_tx(db, "READ COMMITTED", restrict_body, &c);
  dsr_subject_free(&subj);
  if (!ok) {
    snprintf(err, errlen, "recording the restriction failed");
    return DSR_JOB_RETRY;
  }
  if (!c.skipped)
    DSR_INFO("restriction.applied", "part=%s identities=%d", part_id, c.added);
  return DSR_JOB_DONE;
}

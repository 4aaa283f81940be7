/**
 * @file export_job.c
 * @brief Packages in dsrd (see export.h): enqueueing the export of approved
 *        parts, running it (plan, write, store, tell the subject), and
 *        destroying expired packages.
 */
#include "config.h"
#include "dsr/config.h"
#include "dsr/crypto.h"
#include "dsr/discovery.h"
#include "dsr/events.h"
#include "dsr/export.h"
#include "dsr/log.h"
#include "dsr/outbox.h"
#include "dsr/parts.h"
#include "dsr/queue.h"
#include "dsr/requests.h"
#include "dsr/timefmt.h"
#include "dsr/verify.h"
#include "dsr/words.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static enum dsr_tx_status enqueue_one(struct dsr_db *db, const char *kind, json_t *payload,
                                      const char *key, time_t run_at)
{
  struct dsr_job_opts o = {.dedupe_key = key, .run_at = run_at};
  bool enqueued = false, retry = false;
  bool ok = payload && dsr_queue_enqueue(db, kind, payload, &o, dsr_now(), &enqueued, &retry);
  json_decref(payload);
  return ok ? DSR_TX_COMMIT : (retry ? DSR_TX_RETRY : DSR_TX_ROLLBACK);
}

enum dsr_tx_status dsr_export_enqueue(struct dsr_db *db, const char *request_id,
                                      const char *part_id)
{
  const char *v[] = {request_id, part_id};
  PGresult *r = NULL;
  enum dsr_tx_status s = dsr_tx_exec(db, DSR_STMT_EXPORT_PARTS_TO_RUN, 2, v, &r);
  for (int i = 0; s == DSR_TX_COMMIT && i < PQntuples(r); i++) {
    char key[64];
    snprintf(key, sizeof key, "export:%s", PQgetvalue(r, i, 0));
    s = enqueue_one(db, DSR_JOB_EXPORT, json_pack("{s:s}", "part_id", PQgetvalue(r, i, 0)), key,
                    0);
  }
  PQclear(r);
  return s;
}

struct part_info {
  char request_id[40], type[32], state[32], owner[16], tenant[128], lang[16], jur[40];
  bool has_tenant;
};

static int load_part(struct dsr_db *db, const char *part_id, struct part_info *pi)
{
  const char *v[] = {part_id};
  PGresult *r = dsr_db_exec(db, DSR_STMT_EXPORT_PART_GET, 1, v);
  int rc = !dsr_db_ok(r) ? -1 : PQntuples(r) == 1 ? 1 : 0;
  if (rc == 1) {
    dsr_strlcpy(pi->request_id, PQgetvalue(r, 0, 0), sizeof pi->request_id);
    dsr_strlcpy(pi->type, PQgetvalue(r, 0, 1), sizeof pi->type);
    dsr_strlcpy(pi->state, PQgetvalue(r, 0, 2), sizeof pi->state);
    dsr_strlcpy(pi->owner, PQgetvalue(r, 0, 3), sizeof pi->owner);
    pi->has_tenant = !PQgetisnull(r, 0, 4);
    dsr_strlcpy(pi->tenant, PQgetvalue(r, 0, 4), sizeof pi->tenant);
    dsr_strlcpy(pi->lang, PQgetvalue(r, 0, 5), sizeof pi->lang);
    dsr_strlcpy(pi->jur, PQgetvalue(r, 0, 7), sizeof pi->jur);
    if (!strcmp(PQgetvalue(r, 0, 6), "on_hold"))
      dsr_strlcpy(pi->state, "held", sizeof pi->state);
  }
  PQclear(r);
  return rc;
}

/*
 * Which plan parts this dsrd part covers: a customer part its tenant only; the
 * controller part the controller's data and tenants no customer claims.
 */
static bool *select_parts(struct dsr_db *db, const struct dsr_plan *plan,
                          const struct part_info *pi)
{
  bool *inc = calloc(plan->nparts + 1, sizeof *inc);
  for (size_t i = 0; inc && i < plan->nparts; i++) {
    const char *t = plan->parts[i].tenant;
    if (pi->has_tenant) {
      inc[i] = t && !strcmp(t, pi->tenant);
      continue;
    }
    if (!t) {
      inc[i] = true;
      continue;
    }
    const char *v[] = {t};
    PGresult *r = dsr_db_exec(db, DSR_STMT_EXPORT_TENANT_CLAIMED, 1, v);
    bool ok = dsr_db_ok(r);
    inc[i] = ok && PQntuples(r) == 0;
    PQclear(r);
    if (!ok) {
      free(inc);
      return NULL;
    }
  }
  return inc;
}

struct finish_ctx {
  const char *part_id, *export_id, *file_name, *token;
  const struct dsr_policy *policy;
  const struct part_info *pi;
  const struct dsr_export_opts *o;
  const struct dsr_export_result *res;
  const unsigned char *key_sealed;
  size_t key_sealed_len;
  const struct dsr_subject_values *subj;
  time_t now;
  bool already;
};

static enum dsr_tx_status tell_subject(struct dsr_db *db, struct finish_ctx *c, time_t expires)
{
  const char *email = c->subj->value[DSR_ID_EMAIL], *phone = c->subj->value[DSR_ID_PHONE];
  if (!email && !phone)
    return DSR_TX_COMMIT; /* an account id alone: the status page carries the news */
  /* The download page, not the package: a link scanner that opens it counts nothing. */
  const char *base = c->o->base_url ? c->o->base_url : "";
  char *link = dsr_asprintf("%s/downloads/%s?token=%s", base, c->export_id, c->token);
  char *cap = dsr_status_link_cap(c->pi->request_id);
  char *status = cap ? dsr_asprintf("%s/requests/%s/status?k=%s", base, c->pi->request_id, cap)
                     : NULL;
  char exp[96], type_label[160];
  dsr_time_human(expires, c->pi->lang, true, exp, sizeof exp);
  dsr_words_get("type", c->pi->type, c->pi->lang, type_label, sizeof type_label);
  json_t *ctx = json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:o, s:b}", "request_id",
                          c->pi->request_id, "type", type_label, "link", link ? link : "",
                          "status_link", status ? status : "", "expires_at", exp,
                          "max_downloads", (json_int_t)c->o->max_downloads, "org",
                          dsr_org_json(c->policy), "portability",
                          !strcmp(c->pi->type, "portability"));
  free(link);
  free(status);
  free(cap);
  enum dsr_ec ec = DSR_OK;
  int s = ctx ? dsr_outbox_put(db, c->pi->request_id, email ? "email" : "sms",
                               email ? email : phone, "export", c->pi->lang, ctx, c->now, &ec)
              : DSR_TX_ROLLBACK;
  json_decref(ctx);
  return (enum dsr_tx_status)s;
}

static enum dsr_tx_status finish_body(struct dsr_db *db, void *arg)
{
  struct finish_ctx *c = arg;
  bool go = false;
  enum dsr_tx_status s = dsr_part_lock_runnable(db, c->part_id, &go);
  if (s != DSR_TX_COMMIT)
    return s;
  PGresult *r = NULL;
  c->already = !go;
  if (!go)
    return DSR_TX_COMMIT;
  unsigned char th[DSR_HASH_BYTES];
  dsr_keyed_hash(DSR_KEY_TOKEN, c->token, strlen(c->token), th);
  time_t expires = c->now + c->o->link_seconds;
  char bytes[24], rows[24], files[24], maxd[24], now[24], exp[24];
  snprintf(bytes, sizeof bytes, "%llu", (unsigned long long)c->res->plain_bytes);
  snprintf(rows, sizeof rows, "%lld", c->res->rows);
  snprintf(files, sizeof files, "%lld", c->res->files);
  snprintf(maxd, sizeof maxd, "%ld", c->o->max_downloads);
  snprintf(now, sizeof now, "%lld", (long long)c->now);
  snprintf(exp, sizeof exp, "%lld", (long long)expires);
  const char *iv[] = {c->export_id, c->pi->request_id, c->part_id, c->pi->type, c->file_name,
                      (const char *)c->key_sealed, (const char *)th, bytes, rows, files, maxd,
                      now, exp};
  int lens[13] = {0}, fmts[13] = {0};
  lens[5] = (int)c->key_sealed_len;
  fmts[5] = 1;
  lens[6] = DSR_HASH_BYTES;
  fmts[6] = 1;
  r = dsr_db_exec_bin(db, DSR_STMT_EXPORT_INSERT, 13, iv, lens, fmts);
  if (!dsr_db_ok(r)) {
    s = dsr_db_is_retryable(r) ? DSR_TX_RETRY : DSR_TX_ROLLBACK;
    PQclear(r);
    return s;
  }
  PQclear(r);
  const char *pv[] = {c->part_id, "done", now};
  s = dsr_tx_exec(db, DSR_STMT_EXPORT_PART_SET_STATE, 3, pv, &r);
  if (s != DSR_TX_COMMIT)
    return s;
  PQclear(r);
  s = dsr_tx_event(db, c->pi->request_id, "export.ready", "system",
                   json_pack("{s:s, s:s, s:s, s:I, s:I, s:I, s:I}", "part_id", c->part_id,
                             "export_id", c->export_id, "kind", c->pi->type, "rows",
                             (json_int_t)c->res->rows, "files", (json_int_t)c->res->files,
                             "bytes", (json_int_t)c->res->plain_bytes, "max_downloads",
                             (json_int_t)c->o->max_downloads));
  if (s == DSR_TX_COMMIT) {
    char key[64];
    snprintf(key, sizeof key, "export_expire:%s", c->export_id);
    s = enqueue_one(db, DSR_JOB_EXPORT_EXPIRE, json_pack("{s:s}", "export_id", c->export_id),
                    key, expires);
  }
  if (s == DSR_TX_COMMIT)
    s = tell_subject(db, c, expires);
  if (s == DSR_TX_COMMIT && !strcmp(c->pi->owner, "customer")) {
    json_t *extra = json_pack("{s:s}", "change", "exported");
    s = extra ? dsr_part_notify(db, c->part_id, "dsr.updated", extra) : DSR_TX_ROLLBACK;
    json_decref(extra);
  }
  if (s != DSR_TX_COMMIT)
    return s;
  return dsr_request_settle(db, c->pi->request_id, "system");
}

static enum dsr_tx_status start_body(struct dsr_db *db, void *arg)
{
  const char **ids = arg; /* part_id, request_id */
  const char *v[] = {ids[0]};
  PGresult *r = NULL;
  enum dsr_tx_status s = dsr_tx_exec(db, DSR_STMT_EXPORT_PART_LOCK, 1, v, &r);
  if (s != DSR_TX_COMMIT)
    return s;
  bool approved = PQntuples(r) == 1 && !strcmp(PQgetvalue(r, 0, 0), "approved");
  PQclear(r);
  if (!approved)
    return DSR_TX_COMMIT;
  char now[24];
  snprintf(now, sizeof now, "%lld", (long long)dsr_now());
  const char *pv[] = {ids[0], "executing", now};
  s = dsr_tx_exec(db, DSR_STMT_EXPORT_PART_SET_STATE, 3, pv, &r);
  if (s != DSR_TX_COMMIT)
    return s;
  PQclear(r);
  return dsr_tx_event(db, ids[1], "export.started", "system",
                      json_pack("{s:s}", "part_id", ids[0]));
}

int dsr_export_run(struct dsr_db *db, const struct dsr_policy *p,
                   const struct dsr_export_opts *o, const char *part_id, char *err,
                   size_t errlen)
{
  struct part_info pi;
  struct dsr_subject_values subj = {.unverified = 0};
  struct dsr_plan *plan = NULL;
  bool *inc = NULL;
  json_t *partial = NULL;
  PGconn *conn = NULL;
  char *path = NULL, *token = NULL;
  unsigned char *sealed = NULL;
  size_t sealed_len = 0;
  unsigned char key[DSR_XKEY_BYTES];
  int rc = DSR_JOB_RETRY;
  bool file_written = false;
  enum dsr_export_kind kind;
  int found = load_part(db, part_id, &pi);
  if (found <= 0) {
    snprintf(err, errlen, found < 0 ? "database unavailable" : "no such part");
    rc = found < 0 ? DSR_JOB_RETRY : DSR_JOB_DONE;
    goto cleanup;
  }
  if (!dsr_export_kind_of(pi.type, &kind) ||
      (strcmp(pi.state, "approved") != 0 && strcmp(pi.state, "executing") != 0)) {
    rc = DSR_JOB_DONE; /* not an export, already done, denied, or held (re-enqueued on release) */
    goto cleanup;
  }
  const char *ids[] = {part_id, pi.request_id};
  if (!dsr_db_tx(db, "READ COMMITTED", start_body, ids)) {
    snprintf(err, errlen, "database unavailable");
    goto cleanup;
  }
  if (!dsr_subject_load(db, pi.request_id, &subj)) {
    snprintf(err, errlen, "cannot read the subject's identities");
    goto cleanup;
  }
  const char *dsn = dsr_policy_pg_dsn(p);
  if (!dsn) {
    snprintf(err, errlen, "the policy's postgresql store has no DSN");
    rc = DSR_JOB_FAIL;
    goto cleanup;
  }
  conn = PQconnectdb(dsn);
  if (PQstatus(conn) != CONNECTION_OK) {
    snprintf(err, errlen, "the policy's postgresql store is not reachable");
    goto cleanup;
  }
  struct dsr_subject s = dsr_subject_of(&subj);
  plan = dsr_export_plan(p, conn, &s, part_id, err, errlen);
  if (!plan || !(inc = select_parts(db, plan, &pi)))
    goto cleanup;
  char export_id[40];
  {
    unsigned char u[16];
    randombytes_buf(u, sizeof u);
    u[6] = (unsigned char)((u[6] & 0x0f) | 0x40);
    u[8] = (unsigned char)((u[8] & 0x3f) | 0x80);
    snprintf(export_id, sizeof export_id,
             "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", u[0], u[1],
             u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12], u[13], u[14],
             u[15]);
  }
  char file_name[64];
  snprintf(file_name, sizeof file_name, "%s.dsrx", export_id);
  path = dsr_asprintf("%s/%s", o->dir, file_name);
  token = dsr_token_new();
  if (!path || !token)
    goto cleanup;
  crypto_secretstream_xchacha20poly1305_keygen(key);
  if (!dsr_seal(key, sizeof key, &sealed, &sealed_len))
    goto cleanup;
  if (dsr_verify_partial_info(db, p, pi.request_id, pi.lang, &partial) != DSR_OK) {
    snprintf(err, errlen, "database unavailable");
    goto cleanup;
  }
  struct dsr_export_spec spec = {.policy = p, .kind = kind, .request_id = pi.request_id,
                                 .part_id = part_id, .owner = pi.owner, .plan = plan,
                                 .include = inc, .generated_at = dsr_now(), .lang = pi.lang,
                                 .jurisdiction = pi.jur, .partial = partial};
  struct dsr_export_result res;
  if (!dsr_export_write(&spec, conn, path, key, &res, err, errlen))
    goto cleanup;
  file_written = true;
  struct finish_ctx fc = {.policy = p, .part_id = part_id, .export_id = export_id, .file_name = file_name,
                          .token = token, .pi = &pi, .o = o, .res = &res, .key_sealed = sealed,
                          .key_sealed_len = sealed_len, .subj = &subj, .now = dsr_now()};
  if (!dsr_db_tx(db, "READ COMMITTED", finish_body, &fc)) {
    snprintf(err, errlen, "storing the package failed");
    goto cleanup;
  }
  if (!fc.already)
    file_written = false; /* kept: it is the package now */
  DSR_INFO("export.ready", "part=%s export=%s rows=%lld files=%lld bytes=%llu", part_id,
           export_id, res.rows, res.files, (unsigned long long)res.plain_bytes);
  rc = DSR_JOB_DONE;
cleanup:
  if (file_written && path)
    unlink(path); /* not recorded: a retry writes a new one */
  sodium_memzero(key, sizeof key);
  if (token) {
    sodium_memzero(token, strlen(token));
    free(token);
  }
  free(sealed);
  free(path);
  free(inc);
  dsr_plan_free(plan);
  json_decref(partial);
  if (conn)
    PQfinish(conn);
  dsr_subject_free(&subj);
  return rc;
}

struct expire_ctx {
  const char *export_id, *dir;
  bool destroyed, early;
};

/* Locks the package, removes its file, marks it destroyed and records the event. */
static enum dsr_tx_status expire_body(struct dsr_db *db, void *arg)
{
  struct expire_ctx *c = arg;
  c->destroyed = c->early = false;
  char now[24];
  snprintf(now, sizeof now, "%lld", (long long)dsr_now());
  const char *v[] = {c->export_id, now};
  PGresult *r = NULL;
  enum dsr_tx_status s = dsr_tx_exec(db, DSR_STMT_EXPORT_LOCK, 2, v, &r);
  if (s != DSR_TX_COMMIT)
    return s;
  if (PQntuples(r) != 1 || strcmp(PQgetvalue(r, 0, 1), "ready") != 0) {
    PQclear(r);
    return DSR_TX_COMMIT; /* gone or destroyed already */
  }
  if (strcmp(PQgetvalue(r, 0, 8), "t") != 0) {
    PQclear(r);
    c->early = true; /* the clock was moved back: try later */
    return DSR_TX_COMMIT;
  }
  char request_id[40];
  dsr_strlcpy(request_id, PQgetvalue(r, 0, 0), sizeof request_id);
  char *path = dsr_asprintf("%s/%s", c->dir, PQgetvalue(r, 0, 2));
  PQclear(r);
  /* the row is locked: unlinking here cannot race a download starting */
  if (!path || (unlink(path) != 0 && errno != ENOENT)) {
    free(path);
    return DSR_TX_ROLLBACK;
  }
  free(path);
  s = dsr_tx_exec(db, DSR_STMT_EXPORT_DESTROY, 2, v, &r);
  if (s != DSR_TX_COMMIT)
    return s;
  PQclear(r);
  c->destroyed = true;
  return dsr_tx_event(db, request_id, "export.destroyed", "system",
                      json_pack("{s:s}", "export_id", c->export_id));
}

int dsr_export_expire(struct dsr_db *db, const struct dsr_export_opts *o, const char *export_id,
                      char *err, size_t errlen)
{
  struct expire_ctx c = {.export_id = export_id, .dir = o->dir};
  if (!dsr_db_tx(db, "READ COMMITTED", expire_body, &c)) {
    snprintf(err, errlen, "destroying the package failed");
    return DSR_JOB_RETRY;
  }
  if (c.early) {
    snprintf(err, errlen, "not expired yet");
    return DSR_JOB_RETRY;
  }
  if (c.destroyed)
    DSR_INFO("export.destroyed", "export=%s", export_id);
  return DSR_JOB_DONE;
}

bool dsr_export_dir(const struct dsr_config *cfg, char *out, size_t outlen)
{
  int n = cfg->export_dir ? snprintf(out, outlen, "%s", cfg->export_dir)
                          : snprintf(out, outlen, "%s/exports", cfg->state_dir);
  if (n < 0 || (size_t)n >= outlen)
    return false;
  return mkdir(out, 0700) == 0 || errno == EEXIST;
}

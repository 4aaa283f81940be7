/** @file outbox.c @brief The outbox of messages to subjects (see outbox.h). */
#include "config.h"
#include "dsr/outbox.h"
#include "dsr/crypto.h"
#include "dsr/events.h"
#include "dsr/log.h"
#include "dsr/template.h"
#include "dsr/transport.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Renders @p name into @p msg under @p key; false (with err) on failure. */
static bool render_into(json_t *msg, const char *key, const char *name, const char *lang,
                        const json_t *ctx, char *err, size_t errlen)
{
  char *out = NULL;
  if (!dsr_template_render(name, lang, ctx, &out, err, errlen))
    return false;
  size_t n = strlen(out);
  while (n > 0 && (out[n - 1] == '\n' || out[n - 1] == ' ') && !strcmp(key, "subject"))
    out[--n] = '\0';
  json_object_set_new(msg, key, json_string(out));
  sodium_memzero(out, strlen(out));
  free(out);
  return true;
}

static json_t *render_message(const char *channel, const char *recipient, const char *tmpl,
                              const char *lang, const json_t *ctx)
{
  char name[96], err[256];
  json_t *msg = json_pack("{s:s}", "to", recipient);
  bool ok = msg != NULL;
  if (ok && !strcmp(channel, "email")) {
    snprintf(name, sizeof name, "email_%s_subject.txt", tmpl);
    ok = render_into(msg, "subject", name, lang, ctx, err, sizeof err);
    snprintf(name, sizeof name, "email_%s.txt", tmpl);
    ok = ok && render_into(msg, "text", name, lang, ctx, err, sizeof err);
    snprintf(name, sizeof name, "email_%s.html", tmpl);
    ok = ok && render_into(msg, "html", name, lang, ctx, err, sizeof err);
  } else if (ok) {
    snprintf(name, sizeof name, "sms_%s.txt", tmpl);
    ok = render_into(msg, "text", name, lang, ctx, err, sizeof err);
  }
  if (!ok) {
    dsr_log(DSR_LOG_ERROR, "outbox.render_failed", "template=%s error=\"%s\"", tmpl,
            msg ? err : "out of memory");
    json_decref(msg);
    return NULL;
  }
  return msg;
}

int dsr_outbox_put(struct dsr_db *db, const char *request_id, const char *channel,
                   const char *recipient, const char *tmpl, const char *lang, const json_t *ctx,
                   time_t now, enum dsr_ec *ec)
{
  int st = DSR_TX_ROLLBACK;
  *ec = DSR_E_INTERNAL;
  json_t *msg = render_message(channel, recipient, tmpl, lang, ctx);
  char *text = msg ? json_dumps(msg, JSON_COMPACT) : NULL;
  unsigned char *sealed = NULL;
  size_t sl = 0;
  PGresult *r = NULL;
  json_t *payload = NULL;
  if (!text || !dsr_seal(text, strlen(text), &sealed, &sl))
    goto cleanup;
  char nows[24];
  snprintf(nows, sizeof nows, "%lld", (long long)now);
  const char *v[] = {request_id, channel, tmpl, (const char *)sealed, nows};
  const int lens[] = {0, 0, 0, (int)sl, 0};
  const int fmts[] = {0, 0, 0, 1, 0};
  r = dsr_db_exec_bin(db, DSR_STMT_OUTBOX_INSERT, 5, v, lens, fmts);
  if (!dsr_db_ok(r)) {
    st = dsr_db_is_retryable(r) ? DSR_TX_RETRY : DSR_TX_ROLLBACK;
    goto cleanup;
  }
  payload = json_pack("{s:I}", "outbox_id", (json_int_t)strtoll(PQgetvalue(r, 0, 0), NULL, 10));
  struct dsr_job_opts o = {.max_attempts = 10};
  bool enq = false, retry = false;
  if (!payload || !dsr_queue_enqueue(db, DSR_JOB_SEND_MESSAGE, payload, &o, now, &enq, &retry)) {
    st = retry ? DSR_TX_RETRY : DSR_TX_ROLLBACK;
    goto cleanup;
  }
  json_t *ev = json_pack("{s:s, s:s}", "channel", channel, "template", tmpl);
  bool evretry = false;
  bool recorded = ev && dsr_event_record(db, request_id, "message.queued", "system", ev, &evretry);
  json_decref(ev);
  if (!recorded) {
    st = evretry ? DSR_TX_RETRY : DSR_TX_ROLLBACK;
    goto cleanup;
  }
  st = DSR_TX_COMMIT;
  *ec = DSR_OK;
cleanup:
  if (text) {
    sodium_memzero(text, strlen(text));
    free(text);
  }
  free(sealed);
  PQclear(r);
  json_decref(payload);
  json_decref(msg);
  return st;
}

struct try_ctx {
  const char *ids, *error, *request_id;
  bool final;
};

/* Records a failed try; the last one marks the message failed, with its event. */
static enum dsr_tx_status record_try_body(struct dsr_db *db, void *arg)
{
  struct try_ctx *t = arg;
  const char *v[] = {t->ids, t->error, t->final ? "true" : "false"};
  PGresult *r = dsr_db_exec(db, DSR_STMT_OUTBOX_TRY_FAILED, 3, v);
  bool ok = dsr_db_ok(r), retry = dsr_db_is_retryable(r);
  PQclear(r);
  if (!ok)
    return retry ? DSR_TX_RETRY : DSR_TX_ROLLBACK;
  if (!t->final)
    return DSR_TX_COMMIT;
  json_t *ev = json_pack("{s:s}", "outbox_id", t->ids);
  ok = ev && dsr_event_record(db, t->request_id, "message.failed", "system", ev, &retry);
  json_decref(ev);
  return ok ? DSR_TX_COMMIT : retry ? DSR_TX_RETRY : DSR_TX_ROLLBACK;
}

static void record_try(struct dsr_db *db, const char *ids, const char *request_id,
                       const char *error, bool final)
{
  struct try_ctx t = {.ids = ids, .error = error, .request_id = request_id, .final = final};
  if (!dsr_db_tx(db, "READ COMMITTED", record_try_body, &t))
    DSR_WARN("outbox.record_failed", "outbox=%s", ids);
}

struct sent_ctx {
  const char *ids, *now;
};

/* Marks the message sent (erasing its body) and records the event, in one transaction. */
static enum dsr_tx_status mark_sent(struct dsr_db *db, void *arg)
{
  struct sent_ctx *sc = arg;
  const char *v[] = {sc->ids, sc->now};
  PGresult *u = dsr_db_exec(db, DSR_STMT_OUTBOX_SENT, 2, v);
  if (!dsr_db_ok(u)) {
    bool retry = dsr_db_is_retryable(u);
    PQclear(u);
    return retry ? DSR_TX_RETRY : DSR_TX_ROLLBACK;
  }
  enum dsr_tx_status st = DSR_TX_COMMIT;
  if (PQntuples(u) == 1) {
    json_t *ev = json_pack("{s:s, s:s}", "channel", PQgetvalue(u, 0, 1), "template",
                           PQgetvalue(u, 0, 2));
    bool retry = false;
    if (!ev || !dsr_event_record(db, PQgetisnull(u, 0, 0) ? NULL : PQgetvalue(u, 0, 0),
                                 "message.sent", "system", ev, &retry))
      st = retry ? DSR_TX_RETRY : DSR_TX_ROLLBACK;
    json_decref(ev);
  }
  PQclear(u);
  return st;
}

enum dsr_job_result dsr_outbox_send(struct dsr_db *db, const struct dsr_config *cfg, int64_t id,
                                    bool last_attempt, time_t now, char *err, size_t errlen)
{
  char ids[24], nows[24];
  snprintf(ids, sizeof ids, "%" PRId64, id);
  snprintf(nows, sizeof nows, "%lld", (long long)now);
  const char *v[] = {ids};
  PGresult *r = dsr_db_exec(db, DSR_STMT_OUTBOX_GET, 1, v);
  enum dsr_job_result res = DSR_JOB_RETRY;
  unsigned char *sealed = NULL, *plain = NULL;
  size_t sl = 0, pl = 0;
  json_t *msg = NULL;
  const char *rid = NULL;
  if (!dsr_db_ok(r)) {
    snprintf(err, errlen, "database: %s", dsr_db_sqlstate(r));
    goto cleanup;
  }
  if (PQntuples(r) == 0 || strcmp(PQgetvalue(r, 0, 1), "pending") != 0 || PQgetisnull(r, 0, 2)) {
    res = DSR_JOB_DONE; /* already sent, failed or deleted with its request */
    goto cleanup;
  }
  rid = PQgetisnull(r, 0, 3) ? NULL : PQgetvalue(r, 0, 3);
  sealed = PQunescapeBytea((const unsigned char *)PQgetvalue(r, 0, 2), &sl);
  if (!sealed || !dsr_unseal(sealed, sl, &plain, &pl) ||
      !(msg = json_loadb((const char *)plain, pl, 0, NULL))) {
    snprintf(err, errlen, "cannot open the sealed message (wrong secret key?)");
    record_try(db, ids, rid, err, true);
    res = DSR_JOB_FAIL;
    goto cleanup;
  }
  struct dsr_message m = {.channel = PQgetvalue(r, 0, 0),
                          .to = json_string_value(json_object_get(msg, "to")),
                          .subject = json_string_value(json_object_get(msg, "subject")),
                          .text = json_string_value(json_object_get(msg, "text")),
                          .html = json_string_value(json_object_get(msg, "html"))};
  if (!m.to || !m.text) {
    snprintf(err, errlen, "message without recipient or text");
    record_try(db, ids, rid, err, true);
    res = DSR_JOB_FAIL;
    goto cleanup;
  }
  if (!dsr_transport_send(cfg, &m, now, err, errlen)) {
    record_try(db, ids, rid, err, last_attempt);
    goto cleanup;
  }
  struct sent_ctx sc = {.ids = ids, .now = nows};
  if (!dsr_db_tx(db, "READ COMMITTED", mark_sent, &sc)) {
    /* Sent but not recorded: the retry sends again (at least once, never lost). */
    snprintf(err, errlen, "sent, but could not record it");
    goto cleanup;
  }
  res = DSR_JOB_DONE;
cleanup:
  if (plain) {
    sodium_memzero(plain, pl);
    free(plain);
  }
  PQfreemem(sealed);
  json_decref(msg);
  PQclear(r);
  return res;
}

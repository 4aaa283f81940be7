/** @file closing.c @brief The answer at the end of every request (see closing.h). */
#include "config.h"
#include "dsr/closing.h"
#include "dsr/events.h"
#include "dsr/log.h"
#include "dsr/notify.h"
#include "dsr/queue.h"
#include "dsr/requests.h"
#include "dsr/verify.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum dsr_tx_status dsr_closing_enqueue(struct dsr_db *db, const char *id)
{
  char key[64];
  snprintf(key, sizeof key, "closing:%s", id);
  json_t *payload = json_pack("{s:s}", "request_id", id);
  struct dsr_job_opts o = {.dedupe_key = key};
  bool enqueued = false, retry = false;
  bool ok = payload && dsr_queue_enqueue(db, DSR_JOB_CLOSING_NOTICE, payload, &o, dsr_now(),
                                         &enqueued, &retry);
  json_decref(payload);
  return ok ? DSR_TX_COMMIT : retry ? DSR_TX_RETRY : DSR_TX_ROLLBACK;
}

/* The plain label of collection @p name: its first category's label, else its own name. */
static const char *coll_label(const struct dsr_policy *p, const char *name)
{
  const struct dsr_pcollection *c = p ? dsr_policy_collection(p, name) : NULL;
  if (c && c->label)
    return c->label;
  const json_t *cats = dsr_policy_section(p, "categories");
  for (size_t i = 0; c && i < c->ncategories; i++) {
    const char *l = json_string_value(
        json_object_get(json_object_get(cats, c->categories[i]), "label"));
    if (l)
      return l;
  }
  return name;
}

/* Why collection @p name was kept, in plain words: its explanation, else its basis after "§..: ". */
static const char *kept_why(const struct dsr_policy *p, const char *name, const char *basis)
{
  const struct dsr_pcollection *c = p ? dsr_policy_collection(p, name) : NULL;
  if (c && c->action_explanation)
    return c->action_explanation;
  const char *colon = basis ? strstr(basis, ": ") : NULL;
  return colon ? colon + 2 : basis;
}

/* Adds @p label (and @p why) to array @p a unless already there. */
static void add_unique(json_t *a, const char *label, const char *why)
{
  size_t i;
  json_t *e;
  json_array_foreach(a, i, e)
  {
    if (!strcmp(json_string_value(json_object_get(e, "what")), label))
      return;
  }
  json_t *n = json_pack("{s:s}", "what", label);
  if (n && why)
    json_object_set_new(n, "why", json_string(why));
  json_array_append_new(a, n);
}

bool dsr_closing_erasure_summary(struct dsr_db *db, const struct dsr_policy *p, const char *id,
                            json_t *ctx)
{
  PGresult *r = dsr_db_exec(db, DSR_STMT_CLOSING_RECEIPTS, 1, (const char *const[]){id});
  if (!dsr_db_ok(r)) {
    PQclear(r);
    return false;
  }
  json_t *erased = json_array(), *kept = json_array();
  for (int i = 0; i < PQntuples(r); i++) {
    json_t *rc = json_loads(PQgetvalue(r, i, 0), 0, NULL);
    size_t k;
    json_t *e;
    json_array_foreach(json_object_get(rc, "collections"), k, e)
    {
      const char *coll = json_string_value(json_object_get(e, "collection"));
      const char *action = json_string_value(json_object_get(e, "action"));
      const char *basis = json_string_value(json_object_get(e, "basis"));
      if (!coll || !action || json_integer_value(json_object_get(e, "rows")) <= 0)
        continue;
      if (!strcmp(action, "retain"))
        add_unique(kept, coll_label(p, coll), kept_why(p, coll, basis));
      else
        add_unique(erased, coll_label(p, coll), NULL);
    }
    json_decref(rc);
  }
  PQclear(r);
  json_object_set_new(ctx, "has_erased", json_boolean(json_array_size(erased) > 0));
  json_object_set_new(ctx, "has_kept", json_boolean(json_array_size(kept) > 0));
  json_object_set_new(ctx, "erased", erased);
  json_object_set_new(ctx, "kept", kept);
  return true;
}

struct closing_ctx {
  const struct dsr_policy *policy;
  const char *link_base, *id;
  bool sent;
};

static enum dsr_tx_status closing_body(struct dsr_db *db, void *arg)
{
  struct closing_ctx *c = arg;
  c->sent = false;
  const char *v[] = {c->id};
  PGresult *r = dsr_db_exec(db, DSR_STMT_CLOSING_REQUEST, 1, v);
  enum dsr_tx_status s = DSR_TX_COMMIT;
  if (!dsr_db_ok(r)) {
    s = dsr_db_is_retryable(r) ? DSR_TX_RETRY : DSR_TX_ROLLBACK;
    PQclear(r);
    return s;
  }
  if (PQntuples(r) != 1 || PQgetvalue(r, 0, 6)[0] == 't') { /* gone, or told already */
    PQclear(r);
    return DSR_TX_COMMIT;
  }
  char status[32], type[32], outcome[32];
  dsr_strlcpy(status, PQgetvalue(r, 0, 0), sizeof status);
  dsr_strlcpy(type, PQgetvalue(r, 0, 1), sizeof type);
  dsr_strlcpy(outcome, PQgetvalue(r, 0, 3), sizeof outcome);
  json_t *ctx = json_object();
  char *cap = dsr_status_link_cap(c->id);
  char *link = cap ? dsr_asprintf("%s/requests/%s/status?k=%s", c->link_base ? c->link_base : "",
                                  c->id, cap)
                   : NULL;
  if (ctx && link)
    json_object_set_new(ctx, "status_link", json_string(link));
  free(link);
  free(cap);
  const char *kind = NULL;
  if (!strcmp(status, "withdrawn")) {
    kind = "withdrawn";
  } else if (!strcmp(status, "completed") && !strcmp(outcome, "no_data")) {
    kind = "no_data";
    if (ctx && !PQgetisnull(r, 0, 4))
      json_object_set_new(ctx, "message", json_string(PQgetvalue(r, 0, 4)));
  } else if (!strcmp(status, "completed") && !strcmp(outcome, "denied")) {
    kind = "refused";
  } else if (!strcmp(status, "completed")) {
    kind = "completed";
    if (ctx && !strcmp(type, "erasure") && !dsr_closing_erasure_summary(db, c->policy, c->id, ctx)) {
      PQclear(r);
      json_decref(ctx);
      return DSR_TX_RETRY;
    }
    json_t *partial = NULL;
    if (ctx && (!strcmp(type, "access") || !strcmp(type, "portability"))) {
      json_object_set_new(ctx, "export", json_true());
      if (dsr_verify_partial_info(db, c->policy, c->id, NULL, &partial) != DSR_OK) {
        PQclear(r);
        json_decref(ctx);
        return DSR_TX_RETRY;
      }
    }
    if (partial) /* answered from the confirmed identities only: the message says so */
      json_object_set_new(ctx, "partial", partial);
  }
  PQclear(r);
  if (!kind || !ctx) {
    json_decref(ctx);
    return kind ? DSR_TX_ROLLBACK : DSR_TX_COMMIT; /* not closed (yet): nothing to tell */
  }
  json_object_set_new(ctx, kind, json_true());
  json_object_set_new(ctx, "is_erasure", json_boolean(!strcmp(type, "erasure")));
  enum dsr_ec ec = DSR_OK;
  s = dsr_notify_subject(db, c->policy, c->id, ctx, dsr_now(), &ec);
  json_decref(ctx);
  if (s == DSR_TX_COMMIT) {
    bool retry = false;
    json_t *data = json_pack("{s:s}", "kind", kind);
    if (!data || !dsr_event_record(db, c->id, "subject.answered", "system", data, &retry))
      s = retry ? DSR_TX_RETRY : DSR_TX_ROLLBACK;
    json_decref(data);
  }
  c->sent = s == DSR_TX_COMMIT;
  return s;
}

bool dsr_closing_notice(struct dsr_db *db, const struct dsr_policy *policy,
                        const char *link_base, const char *id)
{
  struct closing_ctx c = {.policy = policy, .link_base = link_base, .id = id};
  bool ok = dsr_db_tx(db, "READ COMMITTED", closing_body, &c);
  if (ok && c.sent)
    DSR_INFO("request.answered", "id=%s", id);
  return ok;
}

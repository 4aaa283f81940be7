/**
 * @file ledger.c
 * @brief The erasure ledger's entries, the backup-set part of receipts and
 *        the residual-window events (see backup.h).
 */
#include "config.h"
#include "executor_int.h"
#include "dsr/backup.h"
#include "dsr/erasure.h"
#include "dsr/executor.h"
#include "dsr/parts.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void dsr_ledger_ids_of(const struct dsr_subject *s, struct dsr_ledger_ids *out)
{
  const char *given[DSR_ID_KIND_COUNT] = {s->email, s->phone, s->account_id};
  memset(out, 0, sizeof *out);
  for (int k = 0; k < DSR_ID_KIND_COUNT; k++) {
    unsigned char h[DSR_HASH_BYTES];
    if (given[k] && dsr_identity_hash((enum dsr_id_kind)k, given[k], h)) {
      sodium_bin2hex(out->hex[k], sizeof out->hex[k], h, sizeof h);
      out->has[k] = true;
    }
  }
}

json_t *dsr_ledger_ids_json(const struct dsr_ledger_ids *ids)
{
  json_t *a = json_array();
  for (int k = 0; a && k < DSR_ID_KIND_COUNT; k++)
    if (ids->has[k] &&
        json_array_append_new(a, json_pack("{s:s, s:s}", "kind",
                                           dsr_id_kind_name((enum dsr_id_kind)k), "hash",
                                           ids->hex[k])) != 0) {
      json_decref(a);
      return NULL;
    }
  return a;
}

bool dsr_ledger_ids_parse(const json_t *a, struct dsr_ledger_ids *out)
{
  memset(out, 0, sizeof *out);
  size_t i;
  const json_t *e;
  if (!json_is_array(a))
    return false;
  json_array_foreach((json_t *)a, i, e) {
    const char *kind = json_string_value(json_object_get(e, "kind"));
    const char *hash = json_string_value(json_object_get(e, "hash"));
    int k = 0;
    while (kind && k < DSR_ID_KIND_COUNT && strcmp(dsr_id_kind_name((enum dsr_id_kind)k), kind))
      k++;
    if (!kind || k == DSR_ID_KIND_COUNT || !hash || strlen(hash) != 2 * DSR_HASH_BYTES)
      return false;
    dsr_strlcpy(out->hex[k], hash, sizeof out->hex[k]);
    out->has[k] = true;
  }
  return true;
}

char *dsr_ledger_ids_literal(const struct dsr_ledger_ids *ids)
{
  struct dsr_buf b = {0};
  bool ok = dsr_buf_puts(&b, "{"), first = true;
  for (int k = 0; ok && k < DSR_ID_KIND_COUNT; k++)
    if (ids->has[k]) {
      ok = (first || dsr_buf_puts(&b, ",")) && dsr_buf_puts(&b, ids->hex[k]);
      first = false;
    }
  if (!ok || !dsr_buf_puts(&b, "}")) {
    dsr_buf_free(&b);
    return NULL;
  }
  return dsr_buf_steal(&b);
}

enum dsr_tx_status dsr_ledger_append(struct dsr_db *db, const char *run_id, const char *kind,
                                     time_t as_of, const char *tenant, const json_t *identities,
                                     const json_t *receipt_collections)
{
  struct dsr_buf colls = {0};
  char *ids = NULL;
  enum dsr_tx_status s = DSR_TX_ROLLBACK;
  bool ok = dsr_buf_puts(&colls, "{");
  size_t i, n = 0;
  const json_t *e;
  json_array_foreach((json_t *)receipt_collections, i, e) {
    const char *name = json_string_value(json_object_get(e, "collection"));
    const char *action = json_string_value(json_object_get(e, "action"));
    if (!ok || !name || !action || !strcmp(action, "retain"))
      continue;
    ok = dsr_sql_array_add(&colls, name, n++ == 0);
  }
  ok = ok && dsr_buf_puts(&colls, "}");
  ids = !ok ? NULL : identities ? json_dumps(identities, JSON_COMPACT) : strdup("[]");
  if (ids) {
    char now[24], asof[24];
    snprintf(now, sizeof now, "%lld", (long long)dsr_now());
    snprintf(asof, sizeof asof, "%lld", (long long)as_of);
    const char *v[] = {run_id, kind, now, as_of ? asof : NULL, tenant, ids, colls.data};
    PGresult *r = NULL;
    s = dsr_tx_exec(db, DSR_STMT_LEDGER_APPEND, 7, v, &r);
    PQclear(r);
  }
  free(ids);
  dsr_buf_free(&colls);
  return s;
}

static const char *mechanism_name(enum dsr_backup_mechanism m)
{
  return m == DSR_BACKUP_FILE_SET ? "file" : m == DSR_BACKUP_LEDGER ? "ledger" : "crypto_shred";
}

json_t *dsr_backup_sets_receipt(struct dsr_db *db, const struct dsr_policy *p,
                                const char *run_id, time_t now)
{
  json_t *out = json_array();
  struct dsr_buf names = {0};
  PGresult *r = NULL;
  bool ok = out && dsr_buf_puts(&names, "{");
  size_t nsets = 0;
  for (size_t i = 0; ok && i < dsr_policy_store_count(p); i++) {
    const struct dsr_pstore *s = dsr_policy_store_at(p, i);
    if (s->type != DSR_STORE_BACKUP_SET)
      continue;
    long long age = 0;
    if (!s->max_residual_age || !dsr_duration_parse(s->max_residual_age, &age))
      age = 0;
    char until[21];
    dsr_time_rfc3339(now + (time_t)age, until);
    json_t *e = json_pack("{s:s, s:s, s:s}", "backup_set", s->name, "mechanism",
                          mechanism_name(s->mechanism), "residual_until", until);
    if (e && s->mechanism == DSR_BACKUP_FILE_SET) {
      json_object_set_new(e, "files_removed", json_integer(0));
      json_object_set_new(e, "files_pending", json_integer(0));
      json_object_set_new(e, "copies", json_object());
      json_object_set_new(e, "root_configured", json_boolean(dsr_store_root(s) != NULL));
    }
    ok = e && json_array_append_new(out, e) == 0 &&
         dsr_sql_array_add(&names, s->name, nsets++ == 0);
  }
  ok = ok && dsr_buf_puts(&names, "}");
  if (ok) {
    const char *v[] = {run_id, names.data};
    r = dsr_db_exec(db, DSR_STMT_BACKUP_COPY_COUNTS, 2, v);
    ok = dsr_db_ok(r);
  }
  for (int i = 0; ok && i < PQntuples(r); i++) {
    size_t k;
    json_t *e;
    json_array_foreach(out, k, e) {
      if (strcmp(json_string_value(json_object_get(e, "backup_set")), PQgetvalue(r, i, 0)) != 0 ||
          !json_object_get(e, "copies"))
        continue;
      long long done = atoll(PQgetvalue(r, i, 2)), pending = atoll(PQgetvalue(r, i, 3));
      json_object_set_new(json_object_get(e, "copies"), PQgetvalue(r, i, 1), json_integer(done));
      json_object_set_new(e, "files_removed",
                          json_integer(json_integer_value(json_object_get(e, "files_removed")) +
                                       done));
      json_object_set_new(e, "files_pending",
                          json_integer(json_integer_value(json_object_get(e, "files_pending")) +
                                       pending));
    }
  }
  PQclear(r);
  dsr_buf_free(&names);
  if (!ok) {
    json_decref(out);
    return NULL;
  }
  return out;
}

enum dsr_tx_status dsr_backup_residual_events(struct dsr_db *db, const char *request_id,
                                              const json_t *sets)
{
  enum dsr_tx_status s = DSR_TX_COMMIT;
  size_t i;
  const json_t *e;
  json_array_foreach((json_t *)sets, i, e) {
    if (s != DSR_TX_COMMIT)
      break;
    json_t *data = json_pack("{s:O, s:O, s:O}", "backup_set", json_object_get(e, "backup_set"),
                             "mechanism", json_object_get(e, "mechanism"), "residual_until",
                             json_object_get(e, "residual_until"));
    s = data ? dsr_tx_event(db, request_id, "backup.residual_window", "system", data)
             : DSR_TX_ROLLBACK;
  }
  return s;
}

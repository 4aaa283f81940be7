/** @file notify.c @brief Notices to the subject through the outbox (see notify.h). */
#include "config.h"
#include "dsr/notify.h"
#include "dsr/outbox.h"
#include "dsr/timefmt.h"
#include "dsr/verify.h"
#include "dsr/words.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

char *dsr_identity_value(struct dsr_db *db, const char *id, const char *kind,
                         unsigned char lookup[DSR_HASH_BYTES], bool *found)
{
  const char *v[] = {id, kind};
  PGresult *r = dsr_db_exec(db, DSR_STMT_IDENTITY_GET, 2, v);
  char *out = NULL;
  *found = false;
  if (dsr_db_ok(r) && PQntuples(r) == 1) {
    *found = true;
    size_t sl = 0, pl = 0, ll = 0;
    unsigned char *sealed = PQunescapeBytea((const unsigned char *)PQgetvalue(r, 0, 0), &sl);
    unsigned char *lh = PQunescapeBytea((const unsigned char *)PQgetvalue(r, 0, 1), &ll);
    unsigned char *plain = NULL;
    if (sealed && dsr_unseal(sealed, sl, &plain, &pl))
      out = (char *)plain;
    if (lookup && lh && ll == DSR_HASH_BYTES)
      memcpy(lookup, lh, DSR_HASH_BYTES);
    PQfreemem(sealed);
    PQfreemem(lh);
  }
  PQclear(r);
  return out;
}

/*
 * A notice's codes as words in @p lang: the reason of a denial or an
 * extension when it is a reason code, a new due date, and the supervisory
 * authority of jurisdiction @p jur (policy: jurisdictions.J.supervisory_authority).
 */
static void humanize_notice(const struct dsr_policy *policy, const char *jur, const char *lang,
                            json_t *full)
{
  char buf[300];
  const char *reason = json_string_value(json_object_get(full, "reason"));
  if (reason && dsr_words_has("reason", reason, "en"))
    json_object_set_new(full, "reason", json_string(dsr_words_get("reason", reason, lang, buf,
                                                                  sizeof buf)));
  const json_t *j = json_object_get(dsr_policy_section(policy, "jurisdictions"), jur);
  const json_t *sa = json_object_get(j, "supervisory_authority");
  if (json_is_object(sa) && json_string_value(json_object_get(sa, "name")))
    json_object_set(full, "authority", (json_t *)sa);
  bool complain = json_is_true(json_object_get(full, "denied")) ||
                  json_is_true(json_object_get(full, "refused")) ||
                  json_is_true(json_object_get(full, "has_kept"));
  json_object_set_new(full, "complain", json_boolean(complain));
  if (json_string_value(json_object_get(j, "name")))
    json_object_set_new(full, "law", json_string(json_string_value(json_object_get(j, "name"))));
}

enum dsr_tx_status dsr_notify_subject(struct dsr_db *db, const struct dsr_policy *policy,
                                      const char *id, const json_t *ctx, time_t now,
                                      enum dsr_ec *ec)
{
  static const struct {
    const char *channel, *kind;
  } channels[] = {{"email", "email"}, {"sms", "phone"}};
  *ec = DSR_OK;
  PGresult *r = dsr_db_exec(db, DSR_STMT_REQUEST_NOTICE_INFO, 1, (const char *const[]){id});
  if (!dsr_db_ok(r) || PQntuples(r) != 1) {
    bool retry = dsr_db_is_retryable(r);
    *ec = retry ? DSR_OK : DSR_E_INTERNAL;
    PQclear(r);
    return retry ? DSR_TX_RETRY : DSR_TX_ROLLBACK;
  }
  char lang[36], type[160], due[96], jur[64];
  dsr_strlcpy(lang, PQgetvalue(r, 0, 1), sizeof lang);
  dsr_strlcpy(jur, PQgetvalue(r, 0, 3), sizeof jur);
  /* people read words and dates, never codes */
  dsr_words_get("type", PQgetvalue(r, 0, 0), lang, type, sizeof type);
  dsr_time_human_str(PQgetvalue(r, 0, 2), lang, false, due, sizeof due);
  json_t *full = json_pack("{s:o, s:s, s:s, s:s, s:s}", "org", dsr_org_json(policy), "type",
                           type, "type_code", PQgetvalue(r, 0, 0), "due_at", due, "request_id",
                           id);
  PQclear(r);
  if (!full || (ctx && json_object_update(full, (json_t *)ctx) != 0)) {
    json_decref(full);
    *ec = DSR_E_INTERNAL;
    return DSR_TX_ROLLBACK;
  }
  humanize_notice(policy, jur, lang, full);
  enum dsr_tx_status st = DSR_TX_COMMIT;
  for (size_t i = 0; st == DSR_TX_COMMIT && i < DSR_ARRAY_LEN(channels); i++) {
    bool found = false;
    char *to = dsr_identity_value(db, id, channels[i].kind, NULL, &found);
    if (to) {
      st = dsr_outbox_put(db, id, channels[i].channel, to, "notice", lang, full, now, ec);
      sodium_memzero(to, strlen(to));
      free(to);
    } else if (found) {
      *ec = DSR_E_INTERNAL; /* sealed with another key: never send it elsewhere */
      st = DSR_TX_ROLLBACK;
    }
  }
  json_decref(full);
  return st;
}

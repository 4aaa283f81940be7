/**
 * @file partial.c
 * @brief Whether a request is answered from part of the subject's identities
 *        only (a verification rule's "partial": "verified_identities"), in
 *        words for the subject (see verify.h). Read only; its own file so that
 *        the closing answer can say so without calling the verification code.
 */
#include "config.h"
#include "dsr/verify.h"
#include "dsr/validate.h"
#include "dsr/words.h"

#include <string.h>

/* The words of @p mask's identity channels (words: partial.*) joined with "and", into @p b. */
static bool identity_words(unsigned mask, const char *lang, struct dsr_buf *b)
{
  static const unsigned order[] = {DSR_CH_EMAIL, DSR_CH_SMS, DSR_CH_ACCOUNT};
  char w[160];
  bool first = true, ok = dsr_buf_puts(b, "");
  for (size_t i = 0; ok && i < DSR_ARRAY_LEN(order); i++) {
    if (!(mask & order[i]))
      continue;
    if (!first)
      ok = dsr_buf_puts(b, dsr_words_get("partial", "and", lang, w, sizeof w));
    ok = ok && dsr_buf_puts(b, dsr_words_get("partial", dsr_channel_name(order[i]), lang, w,
                                             sizeof w));
    first = false;
  }
  return ok;
}

enum dsr_ec dsr_verify_state_load(struct dsr_db *db, const struct dsr_policy *policy,
                                  const char *id, struct dsr_verify_state *st)
{
  memset(st, 0, sizeof *st);
  const char *why;
  if (!id || !dsr_valid_uuid(id, &why))
    return DSR_E_NOT_FOUND;
  PGresult *r = dsr_db_exec(db, DSR_STMT_REQUEST_NOTICE_INFO, 1, (const char *const[]){id});
  if (!dsr_db_ok(r) || PQntuples(r) != 1) {
    enum dsr_ec ec = dsr_db_ok(r) ? DSR_E_NOT_FOUND : DSR_E_DB_UNAVAILABLE;
    PQclear(r);
    return ec;
  }
  const char *type = PQgetvalue(r, 0, 0), *jur = PQgetvalue(r, 0, 3);
  st->n = dsr_verify_requirements(policy, type, jur, st->masks);
  st->partial = dsr_verify_partial_allowed(policy, type, jur);
  dsr_strlcpy(st->lang, PQgetvalue(r, 0, 1), sizeof st->lang);
  PQclear(r);
  return DSR_OK;
}

enum dsr_ec dsr_verify_channels_load(struct dsr_db *db, const char *id,
                                     struct dsr_verify_state *st)
{
  PGresult *r = dsr_db_exec(db, DSR_STMT_VERIFY_CHANNELS, 1, (const char *const[]){id});
  if (!dsr_db_ok(r)) {
    PQclear(r);
    return DSR_E_DB_UNAVAILABLE;
  }
  st->offered = st->verified = 0;
  for (int i = 0; i < PQntuples(r); i++) {
    unsigned bit = dsr_channel_bit(PQgetvalue(r, i, 0));
    st->offered |= bit;
    if (PQgetvalue(r, i, 1)[0] == 't')
      st->verified |= bit;
  }
  PQclear(r);
  return DSR_OK;
}

enum dsr_ec dsr_verify_partial_info(struct dsr_db *db, const struct dsr_policy *policy,
                                    const char *id, const char *lang, json_t **out)
{
  *out = NULL;
  struct dsr_verify_state st;
  enum dsr_ec ec = dsr_verify_state_load(db, policy, id, &st);
  if (ec != DSR_OK || !st.partial)
    return ec;
  if ((ec = dsr_verify_channels_load(db, id, &st)) != DSR_OK)
    return ec;
  if (!lang)
    lang = st.lang;
  const unsigned ids = DSR_CH_EMAIL | DSR_CH_SMS | DSR_CH_ACCOUNT;
  if (!(st.verified & ids) || dsr_verify_satisfied(st.masks, st.n, st.verified))
    return DSR_OK; /* not verified at all, or fully */
  /* what the nearest alternative that builds on a confirmed identity still lacks */
  unsigned missing = 0;
  int fewest = 99;
  for (size_t i = 0; i < st.n; i++) {
    int left = __builtin_popcount(st.masks[i] & ~st.verified);
    if ((st.masks[i] & st.verified) && !(st.masks[i] & ~ids) && left < fewest) {
      fewest = left;
      missing = st.masks[i] & ~st.verified;
    }
  }
  struct dsr_buf done = {0}, more = {0};
  bool ok =
      identity_words(st.verified & ids, lang, &done) && identity_words(missing, lang, &more);
  if (ok)
    *out = json_pack("{s:s, s:s, s:b}", "confirmed", done.data, "missing", more.data,
                     "has_missing", missing != 0);
  dsr_buf_free(&done);
  dsr_buf_free(&more);
  return *out ? DSR_OK : DSR_E_INTERNAL;
}

/**
 * @file corrections.c
 * @brief The corrections a rectification request carries
 *        ({"field": "collection.column", "value": "..."}): checked at intake
 *        against the policy's rectifiable fields and stored sealed in the
 *        intake's transaction (see rights.h; parts/rectify.c applies them).
 */
#include "config.h"
#include "dsr/crypto.h"
#include "dsr/rights.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_CORRECTIONS 20

/* The collection and column of "collection.column", when the column is rectifiable. */
static const struct dsr_pcollection *rectifiable(const struct dsr_policy *p, const char *field,
                                                 const char **column)
{
  const char *dot = field ? strchr(field, '.') : NULL;
  if (!dot || dot == field || (size_t)(dot - field) >= 128)
    return NULL;
  char name[128];
  memcpy(name, field, (size_t)(dot - field));
  name[dot - field] = '\0';
  const struct dsr_pcollection *c = dsr_policy_collection(p, name);
  for (size_t i = 0; c && i < c->nrectifiable; i++)
    if (!strcmp(c->rectifiable[i], dot + 1)) {
      *column = c->rectifiable[i];
      return c;
    }
  return NULL;
}

bool dsr_corrections_check(const struct dsr_policy *p, const char *type, const json_t *list,
                           char *field, size_t flen, char *detail, size_t dlen)
{
  if (!list)
    return true;
  snprintf(field, flen, "/corrections");
  if (strcmp(type, "rectification") != 0) {
    snprintf(detail, dlen, "only rectification requests carry corrections");
    return false;
  }
  if (!p) {
    snprintf(detail, dlen, "no policy names rectifiable fields");
    return false;
  }
  if (json_array_size(list) == 0 || json_array_size(list) > MAX_CORRECTIONS) {
    snprintf(detail, dlen, "between 1 and %d corrections", MAX_CORRECTIONS);
    return false;
  }
  size_t i;
  const json_t *e;
  json_array_foreach(list, i, e) {
    const char *f = json_string_value(json_object_get(e, "field"));
    const char *v = json_string_value(json_object_get(e, "value"));
    const char *col;
    if (!json_is_object(e) || json_object_size(e) != 2 || !f || !v) {
      snprintf(field, flen, "/corrections/%zu", i);
      snprintf(detail, dlen, "each correction is {\"field\": \"collection.column\", \"value\": \"...\"}");
      return false;
    }
    if (!rectifiable(p, f, &col)) {
      snprintf(field, flen, "/corrections/%zu/field", i);
      snprintf(detail, dlen, "not a field the policy lets subjects correct");
      return false;
    }
    size_t vl = json_string_length(json_object_get(e, "value"));
    if (vl == 0 || vl > 1000 || vl != strlen(v)) {
      snprintf(field, flen, "/corrections/%zu/value", i);
      snprintf(detail, dlen, "1 to 1000 bytes");
      return false;
    }
    for (const unsigned char *c = (const unsigned char *)v; *c; c++)
      if (*c < 0x20 || *c == 0x7f) {
        snprintf(field, flen, "/corrections/%zu/value", i);
        snprintf(detail, dlen, "a value holds no control characters (line breaks included)");
        return false;
      }
  }
  return true;
}

enum dsr_tx_status dsr_corrections_store(struct dsr_db *db, const char *request_id,
                                         const json_t *list)
{
  char now[24];
  snprintf(now, sizeof now, "%lld", (long long)dsr_now());
  size_t i;
  const json_t *e;
  json_array_foreach(list, i, e) {
    const char *f = json_string_value(json_object_get(e, "field"));
    const char *v = json_string_value(json_object_get(e, "value"));
    const char *dot = strchr(f, '.');
    char coll[128], idx[24];
    snprintf(coll, sizeof coll, "%.*s", (int)(dot - f), f);
    snprintf(idx, sizeof idx, "%zu", i);
    unsigned char *sealed = NULL;
    size_t sl = 0;
    if (!dsr_seal(v, strlen(v), &sealed, &sl))
      return DSR_TX_ROLLBACK;
    const char *pv[] = {request_id, idx, coll, dot + 1, (const char *)sealed, now};
    const int lens[] = {0, 0, 0, 0, (int)sl, 0};
    const int fmts[] = {0, 0, 0, 0, 1, 0};
    PGresult *r = dsr_db_exec_bin(db, DSR_STMT_CORRECTION_INSERT, 6, pv, lens, fmts);
    free(sealed);
    bool ok = dsr_db_ok(r);
    enum dsr_tx_status s = ok ? DSR_TX_COMMIT
                              : (dsr_db_is_retryable(r) ? DSR_TX_RETRY : DSR_TX_ROLLBACK);
    PQclear(r);
    if (!ok)
      return s;
  }
  return DSR_TX_COMMIT;
}

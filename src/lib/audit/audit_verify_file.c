/** @file audit_verify_file.c @brief Verifies an audit export offline (no database). */
#include "config.h"
#include "dsr/audit.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void broken(struct dsr_audit_verdict *v, long long pos, long long seq, const char *expected,
                   const char *found, const char *reason)
{
  v->ok = false;
  v->broken_pos = pos;
  v->broken_seq = seq;
  dsr_strlcpy(v->expected, expected, sizeof v->expected);
  dsr_strlcpy(v->found, found, sizeof v->found);
  dsr_strlcpy(v->reason, reason, sizeof v->reason);
}

static const char *str(const json_t *o, const char *k)
{
  return json_string_value(json_object_get(o, k));
}

/** Checks one entry line; updates @p prev on success. */
static bool check_entry(const json_t *j, long long want_pos, unsigned char prev[DSR_AUDIT_HASH_BYTES],
                        struct dsr_audit_verdict *v)
{
  json_t *jp = json_object_get(j, "pos"), *js = json_object_get(j, "seq");
  json_t *rid = json_object_get(j, "request_id");
  long long pos = json_is_integer(jp) ? (long long)json_integer_value(jp) : -1;
  long long seq = json_is_integer(js) ? (long long)json_integer_value(js) : -1;
  struct dsr_audit_entry e = {.pos = pos, .seq = seq, .at = str(j, "at"),
                              .request_id = json_is_null(rid) ? "" : json_string_value(rid),
                              .kind = str(j, "kind"), .actor = str(j, "actor"),
                              .data = str(j, "data")};
  char prev_hex[DSR_AUDIT_HEX_LEN], hex[DSR_AUDIT_HEX_LEN];
  dsr_audit_hex(prev, prev_hex);
  if (pos != want_pos) {
    char want[32], got[32];
    snprintf(want, sizeof want, "position %lld", want_pos);
    snprintf(got, sizeof got, "position %lld", pos);
    broken(v, want_pos, seq, want, got, "a link is missing from the export");
    return false;
  }
  if (!str(j, "prev_hash") || strcmp(str(j, "prev_hash"), prev_hex) != 0) {
    broken(v, pos, seq, prev_hex, str(j, "prev_hash") ? str(j, "prev_hash") : "(none)",
           "the link does not name the previous link's hash");
    return false;
  }
  if (seq < 1 || !e.at || !e.request_id || !e.kind || !e.actor || !e.data) {
    broken(v, pos, seq, str(j, "hash") ? str(j, "hash") : "", "(entry missing or malformed)",
           "the entry's fields are missing or malformed");
    return false;
  }
  unsigned char h[DSR_AUDIT_HASH_BYTES];
  if (!dsr_audit_link_hash(prev, &e, h)) {
    broken(v, pos, seq, "", "", "out of memory");
    return false;
  }
  dsr_audit_hex(h, hex);
  if (!str(j, "hash") || strcmp(hex, str(j, "hash")) != 0) {
    broken(v, pos, seq, str(j, "hash") ? str(j, "hash") : "(none)", hex,
           "the entry does not hash to the hash the chain recorded");
    return false;
  }
  memcpy(prev, h, DSR_AUDIT_HASH_BYTES);
  return true;
}

/** Reads the header: anchor position and hash, expected count and last hash. */
static bool read_header(const char *line, long long *anchor_pos,
                        unsigned char anchor[DSR_AUDIT_HASH_BYTES], long long *count,
                        char last[DSR_AUDIT_HEX_LEN], char *err, size_t errlen)
{
  json_t *h = json_loads(line, 0, NULL);
  json_t *a = json_object_get(h, "anchor"), *l = json_object_get(h, "last");
  bool ok = h && str(h, "format") && !strcmp(str(h, "format"), DSR_AUDIT_EXPORT_FORMAT) &&
            json_is_integer(json_object_get(a, "pos")) &&
            dsr_audit_unhex(str(a, "hash"), anchor) &&
            json_is_integer(json_object_get(h, "count")) && str(l, "hash") &&
            strlen(str(l, "hash")) == DSR_AUDIT_HEX_LEN - 1;
  if (ok) {
    *anchor_pos = (long long)json_integer_value(json_object_get(a, "pos"));
    *count = (long long)json_integer_value(json_object_get(h, "count"));
    dsr_strlcpy(last, str(l, "hash"), DSR_AUDIT_HEX_LEN);
  } else {
    snprintf(err, errlen, "not a %s file (bad header line)", DSR_AUDIT_EXPORT_FORMAT);
  }
  json_decref(h);
  return ok;
}

bool dsr_audit_verify_file(FILE *in, struct dsr_audit_verdict *v, char *err, size_t errlen)
{
  memset(v, 0, sizeof *v);
  v->ok = true;
  v->broken_seq = -1;
  char *line = NULL;
  size_t cap = 0;
  bool ok = false;
  long long anchor_pos = 0, count = 0;
  unsigned char prev[DSR_AUDIT_HASH_BYTES];
  char last[DSR_AUDIT_HEX_LEN];
  if (getline(&line, &cap, in) < 0) {
    snprintf(err, errlen, "empty file");
    goto cleanup;
  }
  if (!read_header(line, &anchor_pos, prev, &count, last, err, errlen))
    goto cleanup;
  v->first_pos = anchor_pos + 1;
  long long want = anchor_pos + 1;
  while (v->ok && getline(&line, &cap, in) >= 0) {
    json_t *j = json_loads(line, 0, NULL);
    if (!j)
      broken(v, want, -1, "a JSON object", "(unparsable line)", "a line is not JSON");
    else if (check_entry(j, want, prev, v)) {
      want++;
      v->verified++;
    }
    json_decref(j);
  }
  v->last_pos = want - 1;
  dsr_audit_hex(prev, v->head);
  if (v->ok && v->verified != count) {
    char e[32], f[32];
    snprintf(e, sizeof e, "%lld entries", count);
    snprintf(f, sizeof f, "%lld entries", v->verified);
    broken(v, want, -1, e, f, "the export is truncated or has extra lines");
  } else if (v->ok && strcmp(v->head, last) != 0) {
    broken(v, want - 1, -1, last, v->head, "the last link differs from the header");
  }
  ok = true;
cleanup:
  free(line);
  return ok;
}

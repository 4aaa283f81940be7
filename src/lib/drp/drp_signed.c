/**
 * @file drp_signed.c
 * @brief The agents directory and signed bodies of the Data Rights Protocol
 *        (see drp.h): parsing the directory, decoding verify keys, opening
 *        base64 Ed25519 combined-mode messages, agents' ISO 8601 times.
 */
#include "config.h"
#include "dsr/drp.h"
#include "dsr/jspec.h"
#include "dsr/timeparse.h"
#include "dsr/util.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Largest signed body opened: far more than any DRP message. */
#define MAX_SIGNED 65536

bool dsr_drp_key_decode(const char *text, unsigned char key[DSR_DRP_KEY_BYTES])
{
  size_t n = text ? strlen(text) : 0, bin = 0;
  if (n == 2 * DSR_DRP_KEY_BYTES && strspn(text, "0123456789abcdefABCDEF") == n)
    return sodium_hex2bin(key, DSR_DRP_KEY_BYTES, text, n, NULL, &bin, NULL) == 0 &&
           bin == DSR_DRP_KEY_BYTES;
  unsigned char buf[DSR_DRP_KEY_BYTES + 4];
  if (n == 0 || n > 64 ||
      sodium_base642bin(buf, sizeof buf, text, n, NULL, &bin, NULL,
                        sodium_base64_VARIANT_ORIGINAL) != 0 ||
      bin != DSR_DRP_KEY_BYTES)
    return false;
  memcpy(key, buf, DSR_DRP_KEY_BYTES);
  return true;
}

void dsr_drp_directory_free(struct dsr_drp_directory *d)
{
  if (!d)
    return;
  for (size_t i = 0; i < d->n; i++) {
    free(d->agents[i].id);
    free(d->agents[i].name);
    free(d->agents[i].web_url);
    free(d->agents[i].technical_contact);
  }
  free(d->agents);
  free(d);
}

static char *dup_or_null(const json_t *o, const char *k)
{
  const char *s = json_string_value(json_object_get(o, k));
  return s ? strdup(s) : NULL;
}

/* An agent id as the spec's directory writes them: letters, digits, "_", "-", ".". */
static bool agent_id_ok(const char *s)
{
  size_t n = s ? strlen(s) : 0;
  return n > 0 && n <= 64 &&
         strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-.") == n;
}

struct dsr_drp_directory *dsr_drp_directory_parse(const char *text, size_t len, char *err,
                                                  size_t errlen)
{
  json_error_t je;
  json_t *doc = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
  struct dsr_drp_directory *d = calloc(1, sizeof *d);
  json_t *list = json_is_object(doc) ? json_object_get(doc, "agents") : doc;
  if (!doc) {
    snprintf(err, errlen, "line %d: %s", je.line, je.text);
    goto fail;
  }
  if (!d || !json_is_array(list)) {
    snprintf(err, errlen, "%s", d ? "the directory must be a JSON array of agents" : "out of memory");
    goto fail;
  }
  d->agents = calloc(json_array_size(list) + 1, sizeof *d->agents);
  if (!d->agents) {
    snprintf(err, errlen, "out of memory");
    goto fail;
  }
  size_t i;
  json_t *e;
  json_array_foreach(list, i, e)
  {
    const char *id = json_string_value(json_object_get(e, "id"));
    struct dsr_drp_agent *a = &d->agents[d->n];
    if (!agent_id_ok(id)) {
      snprintf(err, errlen, "entry %zu: \"id\" must be 1 to 64 of A-Z a-z 0-9 _ - .", i);
      goto fail;
    }
    if (dsr_drp_agent_find(d, id)) {
      snprintf(err, errlen, "entry %zu: agent %s is listed twice", i, id);
      goto fail;
    }
    if (!dsr_drp_key_decode(json_string_value(json_object_get(e, "verify_key")), a->key)) {
      snprintf(err, errlen, "agent %s: \"verify_key\" must be base64 or 64 hex digits of a "
               "32-byte Ed25519 key", id);
      goto fail;
    }
    a->id = strdup(id);
    a->name = dup_or_null(e, "name");
    a->web_url = dup_or_null(e, "web_url");
    a->technical_contact = dup_or_null(e, "technical_contact");
    d->n++;
    if (!a->id) {
      snprintf(err, errlen, "out of memory");
      goto fail;
    }
  }
  json_decref(doc);
  return d;
fail:
  json_decref(doc);
  dsr_drp_directory_free(d);
  return NULL;
}

struct dsr_drp_directory *dsr_drp_directory_load(const char *path, char *err, size_t errlen)
{
  struct dsr_buf b = {0};
  FILE *f = fopen(path, "r");
  char chunk[4096];
  size_t got;
  bool ok = f != NULL;
  while (ok && (got = fread(chunk, 1, sizeof chunk, f)) > 0)
    ok = b.len + got <= 4u * 1024u * 1024u && dsr_buf_append(&b, chunk, got);
  ok = ok && !ferror(f);
  if (f)
    fclose(f);
  char *text = ok ? b.data : NULL;
  size_t len = b.len;
  if (!ok)
    dsr_buf_free(&b);
  if (!text) {
    snprintf(err, errlen, "cannot read the DRP agents directory %s", path);
    return NULL;
  }
  char why[200];
  struct dsr_drp_directory *d = dsr_drp_directory_parse(text, len, why, sizeof why);
  if (!d)
    snprintf(err, errlen, "%s: %s", path, why);
  dsr_buf_free(&b);
  return d;
}

const struct dsr_drp_agent *dsr_drp_agent_find(const struct dsr_drp_directory *d, const char *id)
{
  for (size_t i = 0; d && id && i < d->n; i++)
    if (d->agents[i].id && !strcmp(d->agents[i].id, id))
      return &d->agents[i];
  return NULL;
}

/* Whitespace around a body (never a NUL: strchr() would match the terminator). */
static bool is_space(char c)
{
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

enum dsr_drp_open dsr_drp_open_signed(const char *body, size_t len,
                                      const unsigned char key[DSR_DRP_KEY_BYTES], json_t **claims,
                                      unsigned char digest[32])
{
  *claims = NULL;
  while (len > 0 && is_space(body[len - 1]))
    len--;
  while (len > 0 && is_space(body[0])) {
    body++;
    len--;
  }
  if (len == 0 || len > MAX_SIGNED * 4 / 3 + 4)
    return DSR_DRP_OPEN_BASE64;
  size_t cap = len / 4 * 3 + 3, bin = 0;
  unsigned char *sm = malloc(cap), *m = malloc(cap);
  enum dsr_drp_open res = DSR_DRP_OPEN_BASE64;
  const char *end = NULL;
  if (!sm || !m ||
      /* line breaks inside are skipped: base64(1) wraps at 76 columns unless told not to */
      sodium_base642bin(sm, cap, body, len, "\r\n", &bin, &end, sodium_base64_VARIANT_ORIGINAL) != 0 ||
      end != body + len || bin <= crypto_sign_BYTES)
    goto cleanup;
  unsigned long long mlen = 0;
  res = DSR_DRP_OPEN_SIGNATURE;
  if (crypto_sign_open(m, &mlen, sm, bin, key) != 0)
    goto cleanup;
  res = DSR_DRP_OPEN_JSON;
  json_error_t je;
  if (!dsr_utf8_valid((const char *)m, (size_t)mlen))
    goto cleanup;
  json_t *j = json_loadb((const char *)m, (size_t)mlen, JSON_REJECT_DUPLICATES, &je);
  if (!json_is_object(j)) {
    json_decref(j);
    goto cleanup;
  }
  crypto_generichash(digest, 32, sm, bin, NULL, 0);
  *claims = j;
  res = DSR_DRP_OPEN_OK;
cleanup:
  free(sm);
  free(m);
  return res;
}

bool dsr_drp_time_parse(const char *s, time_t *out)
{
  /* "YYYY-MM-DDTHH:MM:SS" [".fraction"] ("Z" | "+HH:MM" | "-HH:MM"); the fraction is dropped. */
  char buf[40];
  size_t n = s ? strlen(s) : 0;
  if (n < 20 || n >= sizeof buf)
    return false;
  memcpy(buf, s, 19);
  size_t at = 19, used = 19;
  if (s[at] == '.') {
    at++;
    size_t digits = strspn(s + at, "0123456789");
    if (digits == 0 || digits > 9)
      return false;
    at += digits;
  }
  size_t rest = n - at;
  if (rest >= sizeof buf - used)
    return false;
  memcpy(buf + used, s + at, rest + 1);
  return dsr_time_parse(buf, out);
}

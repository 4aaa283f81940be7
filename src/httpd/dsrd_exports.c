/**
 * @file dsrd_exports.c
 * @brief GET /v1/exports/{id}: the download link of an access or portability
 *        package. The link's token comes as ?token= or Authorization: Bearer;
 *        only its keyed hash is stored. A wrong token (or an unknown id)
 *        answers 404, an expired or used-up link 410. The package is
 *        decrypted while it streams (bounded memory); one Range
 *        ("bytes=a-b", "bytes=a-", "bytes=-n") is honoured with 206, an
 *        unsatisfiable one answers 416. Every download that sends bytes is
 *        counted and recorded as an event.
 */
#include "config.h"
#include "httpd.h"
#include "dsr/crypto.h"
#include "dsr/events.h"
#include "dsr/export.h"
#include "dsr/log.h"
#include "dsr/parts.h"
#include "dsr/requests.h"
#include "dsr/timefmt.h"
#include "dsr/words.h"
#include "dsr/validate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct dl_ctx {
  const char *id, *token;
  const char *request_id; /* instead of a token: the request whose holder asks (status page) */
  bool has_range, suffix;
  uint64_t start, end; /* requested; end UINT64_MAX: to the end */
  /* out */
  enum dsr_ec ec;
  uint64_t size;
  char file_name[128];
  unsigned char *key_sealed;
  size_t key_sealed_len;
  int download;
};

/* One "bytes=" range; false when the header is absent or not one we serve (then: whole file). */
static bool parse_range(const char *h, struct dl_ctx *c)
{
  if (!h || strncasecmp(h, "bytes=", 6) != 0 || strchr(h, ','))
    return false;
  const char *p = h + 6;
  char *end;
  if (*p == '-') {
    if (p[1] < '0' || p[1] > '9')
      return false;
    c->start = strtoull(p + 1, &end, 10);
    c->suffix = true;
    return *end == '\0';
  }
  if (*p < '0' || *p > '9')
    return false;
  c->start = strtoull(p, &end, 10);
  if (*end != '-')
    return false;
  p = end + 1;
  if (!*p) {
    c->end = UINT64_MAX;
    return true;
  }
  if (*p < '0' || *p > '9')
    return false;
  c->end = strtoull(p, &end, 10);
  return *end == '\0' && c->end >= c->start;
}

static enum dsr_tx_status take_body(struct dsr_db *db, void *arg)
{
  struct dl_ctx *c = arg;
  c->ec = DSR_OK;
  free(c->key_sealed);
  c->key_sealed = NULL;
  char now[24];
  snprintf(now, sizeof now, "%lld", (long long)dsr_now());
  const char *v[] = {c->id, now};
  PGresult *r = NULL;
  enum dsr_tx_status s = dsr_tx_exec(db, DSR_STMT_EXPORT_LOCK, 2, v, &r);
  if (s != DSR_TX_COMMIT)
    return s;
  bool match;
  if (c->request_id) {
    match = PQntuples(r) == 1 && !strcmp(PQgetvalue(r, 0, 0), c->request_id);
  } else {
    unsigned char want[DSR_HASH_BYTES];
    dsr_keyed_hash(DSR_KEY_TOKEN, c->token, strlen(c->token), want);
    size_t hl = 0;
    unsigned char *have = PQntuples(r) == 1
                              ? PQunescapeBytea((const unsigned char *)PQgetvalue(r, 0, 4), &hl)
                              : NULL;
    match = have && hl == DSR_HASH_BYTES && sodium_memcmp(have, want, DSR_HASH_BYTES) == 0;
    PQfreemem(have);
  }
  if (!match) {
    PQclear(r);
    c->ec = DSR_E_NOT_FOUND;
    return DSR_TX_ROLLBACK;
  }
  char request_id[40];
  dsr_strlcpy(request_id, PQgetvalue(r, 0, 0), sizeof request_id);
  bool gone = strcmp(PQgetvalue(r, 0, 1), "ready") != 0 || !strcmp(PQgetvalue(r, 0, 8), "t");
  bool used = atol(PQgetvalue(r, 0, 6)) >= atol(PQgetvalue(r, 0, 7));
  c->size = strtoull(PQgetvalue(r, 0, 5), NULL, 10);
  dsr_strlcpy(c->file_name, PQgetvalue(r, 0, 2), sizeof c->file_name);
  if (!gone && !used)
    c->key_sealed = PQunescapeBytea((const unsigned char *)PQgetvalue(r, 0, 3), &c->key_sealed_len);
  PQclear(r);
  if (gone || used) {
    c->ec = gone ? DSR_E_EXPORT_EXPIRED : DSR_E_EXPORT_USED_UP;
    return DSR_TX_ROLLBACK;
  }
  if (!c->key_sealed)
    return DSR_TX_ROLLBACK;
  if (c->has_range) {
    if (c->suffix) {
      uint64_t n = c->start;
      c->start = n >= c->size ? 0 : c->size - n;
      c->end = c->size ? c->size - 1 : 0;
      if (n == 0 || c->size == 0) {
        c->ec = DSR_E_RANGE_NOT_SATISFIABLE;
        return DSR_TX_ROLLBACK;
      }
    } else {
      if (c->start >= c->size) {
        c->ec = DSR_E_RANGE_NOT_SATISFIABLE;
        return DSR_TX_ROLLBACK;
      }
      if (c->end >= c->size)
        c->end = c->size - 1;
    }
  } else {
    c->start = 0;
    c->end = c->size ? c->size - 1 : 0;
  }
  s = dsr_tx_exec(db, DSR_STMT_EXPORT_COUNT_DOWNLOAD, 1, v, &r);
  if (s != DSR_TX_COMMIT)
    return s;
  c->download = atoi(PQgetvalue(r, 0, 0));
  PQclear(r);
  return dsr_tx_event(db, request_id, "export.downloaded", "subject",
                      json_pack("{s:s, s:i, s:b, s:I, s:I}", "export_id", c->id, "download",
                                c->download, "partial", c->has_range, "from",
                                (json_int_t)c->start, "to", (json_int_t)c->end));
}

struct stream {
  struct dsr_xsource src;
  uint64_t left;
};

static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
  (void)pos;
  struct stream *st = cls;
  if (st->left == 0)
    return MHD_CONTENT_READER_END_OF_STREAM;
  size_t want = st->left < max ? (size_t)st->left : max;
  ssize_t n = dsr_xsource_read(&st->src, buf, want);
  if (n <= 0) {
    DSR_ERROR("export.stream_failed", "reason=%s", n < 0 ? "corrupt" : "short");
    return MHD_CONTENT_READER_END_WITH_ERROR;
  }
  st->left -= (uint64_t)n;
  return n;
}

static void stream_free(void *cls)
{
  struct stream *st = cls;
  dsr_xsource_close(&st->src);
  free(st);
}

static enum MHD_Result reply_416(struct dsr_hreq *r, uint64_t size)
{
  json_t *p = dsr_problem_json(DSR_E_RANGE_NOT_SATISFIABLE, NULL, NULL);
  char *body = p ? json_dumps(p, JSON_COMPACT) : NULL;
  json_decref(p);
  if (!body)
    return MHD_NO;
  struct MHD_Response *resp =
      MHD_create_response_from_buffer(strlen(body), body, MHD_RESPMEM_MUST_FREE);
  if (!resp) {
    free(body);
    return MHD_NO;
  }
  char cr[64];
  snprintf(cr, sizeof cr, "bytes */%llu", (unsigned long long)size);
  MHD_add_response_header(resp, "Content-Range", cr);
  return dsr_reply_stream(r, MHD_HTTP_RANGE_NOT_SATISFIABLE, resp, "application/problem+json");
}

static const char *token_of(struct dsr_hreq *r)
{
  const char *t = MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, "token");
  if (t && *t)
    return t;
  const char *h = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND,
                                              MHD_HTTP_HEADER_AUTHORIZATION);
  if (h && !strncasecmp(h, "Bearer ", 7) && h[7])
    return h + 7;
  return NULL;
}

/* Streams the package of *c (its token or request checked, the download counted). */
static enum MHD_Result serve(struct dsr_hreq *r, struct dl_ctx *cp)
{
  struct dl_ctx c = *cp;
  c.has_range = parse_range(
      MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_RANGE), &c);
  struct dsr_db *db = dsr_db_acquire(r->app->pool);
  if (!db)
    return dsr_reply_problem(r, DSR_E_DB_UNAVAILABLE, NULL, NULL);
  bool ok = dsr_db_tx(db, "READ COMMITTED", take_body, &c);
  dsr_db_release(db);
  enum MHD_Result ret;
  struct stream *st = NULL;
  unsigned char *key = NULL;
  size_t keylen = 0;
  char *path = NULL;
  char dir[1024];
  if (!ok) {
    if (c.ec == DSR_E_RANGE_NOT_SATISFIABLE)
      ret = reply_416(r, c.size);
    else
      ret = dsr_reply_problem(r, c.ec != DSR_OK ? c.ec : DSR_E_DB_UNAVAILABLE, NULL, NULL);
    goto cleanup;
  }
  st = calloc(1, sizeof *st);
  if (!st || !dsr_export_dir(r->app->cfg, dir, sizeof dir) ||
      !(path = dsr_asprintf("%s/%s", dir, c.file_name)) ||
      !dsr_unseal(c.key_sealed, c.key_sealed_len, &key, &keylen) || keylen != DSR_XKEY_BYTES ||
      !dsr_xsource_open(&st->src, path, key) || !dsr_xsource_skip(&st->src, c.start)) {
    DSR_ERROR("export.open_failed", "export=%s", c.id);
    if (st)
      dsr_xsource_close(&st->src);
    free(st);
    st = NULL;
    ret = dsr_reply_problem(r, DSR_E_INTERNAL, NULL, NULL);
    goto cleanup;
  }
  st->left = c.size ? c.end - c.start + 1 : 0;
  struct MHD_Response *resp =
      MHD_create_response_from_callback(st->left, 65536, stream_read, st, stream_free);
  if (!resp) {
    stream_free(st);
    st = NULL;
    ret = MHD_NO;
    goto cleanup;
  }
  st = NULL; /* the response owns it */
  char disp[128], cr[96];
  snprintf(disp, sizeof disp, "attachment; filename=\"dsr-export-%s.zip\"", c.id);
  MHD_add_response_header(resp, "Content-Disposition", disp);
  MHD_add_response_header(resp, "Accept-Ranges", "bytes");
  if (c.has_range) {
    snprintf(cr, sizeof cr, "bytes %llu-%llu/%llu", (unsigned long long)c.start,
             (unsigned long long)c.end, (unsigned long long)c.size);
    MHD_add_response_header(resp, "Content-Range", cr);
  }
  DSR_INFO("export.download", "export=%s download=%d partial=%d", c.id, c.download,
           c.has_range ? 1 : 0);
  ret = dsr_reply_stream(r, c.has_range ? MHD_HTTP_PARTIAL_CONTENT : MHD_HTTP_OK, resp,
                         "application/zip");
cleanup:
  if (key) {
    sodium_memzero(key, keylen);
    free(key);
  }
  free(path);
  free(c.key_sealed);
  return ret;
}

enum MHD_Result dsrd_exports_get(struct dsr_hreq *r)
{
  struct dl_ctx c = {.id = r->args[0]};
  const char *why;
  c.token = token_of(r);
  if (!dsr_valid_uuid(c.id, &why) || !c.token || strlen(c.token) > 512)
    return dsr_reply_problem(r, DSR_E_NOT_FOUND, NULL, NULL);
  return serve(r, &c);
}

const struct dsr_jspec dsrd_download_form[] = {
    {.name = "token", .type = DSR_JT_STRING, .required = true, .max_len = 512},
    {0},
};

enum MHD_Result dsrd_download_post(struct dsr_hreq *r)
{
  struct dl_ctx c = {.id = r->args[0], .token = dsr_json_str(r->json, "token")};
  const char *why;
  if (r->input_invalid || !dsr_valid_uuid(c.id, &why) || !c.token)
    return dsr_reply_problem(r, DSR_E_NOT_FOUND, NULL, NULL);
  return serve(r, &c);
}

enum MHD_Result dsrd_export_serve_for_request(struct dsr_hreq *r, const char *export_id,
                                              const char *request_id)
{
  struct dl_ctx c = {.id = export_id, .request_id = request_id};
  const char *why;
  if (!export_id || !dsr_valid_uuid(export_id, &why))
    return dsr_reply_problem(r, DSR_E_NOT_FOUND, NULL, NULL);
  return serve(r, &c);
}

/* "1.4 MB": a size people read. */
static void human_size(uint64_t n, char *out, size_t len)
{
  if (n < 1000)
    snprintf(out, len, "%llu B", (unsigned long long)n);
  else if (n < 1000000)
    snprintf(out, len, "%.1f kB", (double)n / 1e3);
  else if (n < 1000000000)
    snprintf(out, len, "%.1f MB", (double)n / 1e6);
  else
    snprintf(out, len, "%.1f GB", (double)n / 1e9);
}

/* One package of row @p i of @p r (DSR_STMT_EXPORT_INFO / _FOR_REQUEST from column @p c0 =
 * kind) as the pages show it. */
static json_t *offer_json(const PGresult *r, int i, int kind, int state, int bytes, int dl,
                          int maxdl, int exp, int past, int rows, int files, const char *lang)
{
  char size[32], until[96];
  human_size(strtoull(PQgetvalue(r, i, bytes), NULL, 10), size, sizeof size);
  dsr_time_human((time_t)strtoll(PQgetvalue(r, i, exp), NULL, 10), lang, true, until,
                 sizeof until);
  long used = atol(PQgetvalue(r, i, dl)), max = atol(PQgetvalue(r, i, maxdl));
  bool expired = strcmp(PQgetvalue(r, i, state), "ready") != 0 || PQgetvalue(r, i, past)[0] == 't';
  bool used_up = !expired && used >= max;
  return json_pack("{s:s, s:b, s:s, s:s, s:I, s:I, s:I, s:b, s:b, s:b, s:I, s:I}", "kind",
                   PQgetvalue(r, i, kind), "portability",
                   !strcmp(PQgetvalue(r, i, kind), "portability"), "size", size, "expires",
                   until, "downloads", (json_int_t)used, "max_downloads", (json_int_t)max,
                   "downloads_left", (json_int_t)(used < max ? max - used : 0), "expired",
                   expired, "used_up", used_up, "available", !expired && !used_up, "rows",
                   (json_int_t)atoll(PQgetvalue(r, i, rows)), "files",
                   (json_int_t)atoll(PQgetvalue(r, i, files)));
}

json_t *dsrd_export_offers(struct dsr_db *db, const char *request_id, const char *lang)
{
  char now[24];
  snprintf(now, sizeof now, "%lld", (long long)dsr_now());
  const char *v[] = {request_id, now};
  PGresult *r = dsr_db_exec(db, DSR_STMT_EXPORT_FOR_REQUEST, 2, v);
  json_t *out = dsr_db_ok(r) ? json_array() : NULL;
  for (int i = 0; out && i < PQntuples(r); i++) {
    json_t *o = offer_json(r, i, 1, 2, 3, 4, 5, 6, 7, 8, 9, lang);
    if (o)
      json_object_set_new(o, "export_id", json_string(PQgetvalue(r, i, 0)));
    json_array_append_new(out, o);
  }
  PQclear(r);
  return out;
}

enum MHD_Result dsrd_download_page(struct dsr_hreq *r)
{
  const char *id = r->args[0], *why;
  const char *token = MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, "token");
  if (!dsr_valid_uuid(id, &why) || !token || !*token || strlen(token) > 512)
    return dsr_reply_problem(r, DSR_E_NOT_FOUND, "This download link is not complete. Open it "
                             "again from the message we sent you.", NULL);
  struct dsr_db *db = dsr_db_acquire(r->app->pool);
  if (!db)
    return dsr_reply_problem(r, DSR_E_DB_UNAVAILABLE, NULL, NULL);
  char now[24];
  snprintf(now, sizeof now, "%lld", (long long)dsr_now());
  const char *v[] = {id, now};
  PGresult *res = dsr_db_exec(db, DSR_STMT_EXPORT_INFO, 2, v);
  dsr_db_release(db);
  if (!dsr_db_ok(res)) {
    PQclear(res);
    return dsr_reply_problem(r, DSR_E_DB_UNAVAILABLE, NULL, NULL);
  }
  bool match = false;
  if (PQntuples(res) == 1) {
    unsigned char want[DSR_HASH_BYTES];
    dsr_keyed_hash(DSR_KEY_TOKEN, token, strlen(token), want);
    size_t hl = 0;
    unsigned char *have = PQunescapeBytea((const unsigned char *)PQgetvalue(res, 0, 3), &hl);
    match = have && hl == DSR_HASH_BYTES && sodium_memcmp(have, want, DSR_HASH_BYTES) == 0;
    PQfreemem(have);
  }
  if (!match) {
    PQclear(res);
    return dsr_reply_problem(r, DSR_E_NOT_FOUND, "This download link is not valid. Open it "
                             "again from the message we sent you.", NULL);
  }
  const char *lang = dsrd_page_lang(r, NULL);
  json_t *ctx = offer_json(res, 0, 1, 2, 4, 5, 6, 7, 8, 9, 10, lang);
  char *cap = dsr_status_link_cap(PQgetvalue(res, 0, 0));
  if (ctx) {
    char title[120];
    json_object_set_new(ctx, "title", json_string(dsr_words_get("title", "download", lang, title,
                                                                sizeof title)));
    json_object_set_new(ctx, "id", json_string(id));
    json_object_set_new(ctx, "token", json_string(token));
    json_object_set_new(ctx, "request_id", json_string(PQgetvalue(res, 0, 0)));
    json_object_set_new(ctx, "lang", json_string(lang));
    if (cap)
      json_object_set_new(ctx, "k", json_string(cap));
  }
  free(cap);
  PQclear(res);
  bool gone = ctx && !json_is_true(json_object_get(ctx, "available"));
  enum MHD_Result ret = ctx ? dsr_reply_html(r, gone ? 410 : 200, "page_download.html", ctx)
                            : dsr_reply_problem(r, DSR_E_INTERNAL, NULL, NULL);
  json_decref(ctx);
  return ret;
}

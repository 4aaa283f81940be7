/**
 * @file dispatch.c
 * @brief The one dispatcher: request ids, path and header limits, body
 *        limits, routing, authentication extraction, JSON parsing against the
 *        route's spec, and per-request cleanup. Handlers see only valid input.
 */
#include "config.h"
#include "httpd.h"
#include "forms.h"
#include "conn_guard.h"
#include "dsr/log.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Bytes of an oversized chunked body we read and drop before closing the connection. */
#define DISCARD_LIMIT (64u * 1024u * 1024u)

struct header_tally {
  size_t bytes;
  bool bad;
};

static enum MHD_Result tally_header(void *cls, enum MHD_ValueKind kind, const char *key,
                                    const char *value)
{
  struct header_tally *t = cls;
  t->bytes += strlen(key) + (value ? strlen(value) : 0) + 4;
  if (value)
    for (const unsigned char *p = (const unsigned char *)value; *p; p++)
      if (*p < 0x20 && *p != '\t')
        t->bad = true;
  return MHD_YES;
}

/*
 * True when the media-type parameters @p rest (after the type) name no charset
 * or UTF-8: a body declared in another charset (utf-7, latin1) is not JSON we read.
 */
static bool charset_utf8(const char *rest)
{
  for (const char *p = rest; (p = strchr(p, ';')) != NULL;) {
    p++;
    p += strspn(p, " \t");
    if (strncasecmp(p, "charset=", 8) != 0)
      continue;
    p += 8;
    bool quoted = *p == '"';
    p += quoted;
    if (strncasecmp(p, "utf-8", 5) != 0)
      return false;
    p += 5;
    p += quoted && *p == '"';
    p += strspn(p, " \t");
    if (*p != '\0' && *p != ';')
      return false;
  }
  return true;
}

static bool json_content_type(const char *ct)
{
  if (!ct)
    return false;
  static const char want[] = "application/json";
  if (strncasecmp(ct, want, sizeof want - 1) != 0)
    return false;
  const char *rest = ct + sizeof want - 1;
  return (*rest == '\0' || *rest == ';' || *rest == ' ') && charset_utf8(rest);
}

static bool form_content_type(const char *ct)
{
  static const char want[] = "application/x-www-form-urlencoded";
  if (!ct || strncasecmp(ct, want, sizeof want - 1) != 0)
    return false;
  const char *rest = ct + sizeof want - 1;
  return *rest == '\0' || *rest == ';' || *rest == ' ';
}

/* text/plain (DRP's signed bodies), in UTF-8 or no declared charset. */
static bool text_content_type(const char *ct)
{
  static const char want[] = "text/plain";
  if (!ct || strncasecmp(ct, want, sizeof want - 1) != 0)
    return false;
  const char *rest = ct + sizeof want - 1;
  return (*rest == '\0' || *rest == ';' || *rest == ' ') && charset_utf8(rest);
}

/* The peer's address as text, for rate limits only. */
static void client_of(struct MHD_Connection *conn, char *out, size_t outlen)
{
  const union MHD_ConnectionInfo *ci =
      MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
  out[0] = '\0';
  if (!ci || !ci->client_addr)
    return;
  const struct sockaddr *sa = ci->client_addr;
  if (sa->sa_family == AF_INET)
    inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, out,
              (socklen_t)outlen);
  else if (sa->sa_family == AF_INET6)
    inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, out,
              (socklen_t)outlen);
}

/*
 * Request ids are 128 random bits. Drawing them from a per-thread pool of
 * random bytes, refilled 256 ids at a time, spares every request a getrandom()
 * system call (bench/README.md, status reads).
 */
#define RID_BYTES 16
#define RID_POOL (RID_BYTES * 256)

static void new_rid(char out[2 * RID_BYTES + 1])
{
  static _Thread_local unsigned char pool[RID_POOL];
  static _Thread_local size_t used = RID_POOL;
  if (used == RID_POOL) {
    randombytes_buf(pool, sizeof pool);
    used = 0;
  }
  sodium_bin2hex(out, 2 * RID_BYTES + 1, pool + used, RID_BYTES);
  sodium_memzero(pool + used, RID_BYTES);
  used += RID_BYTES;
}

/* What the strict checks count among the headers (strict_headers). */
struct header_census {
  int hosts, lengths;
  bool te, nul, length_bad, length_conflict;
  const char *length;
};

static enum MHD_Result census_header(void *cls, enum MHD_ValueKind kind, const char *key,
                                     size_t key_size, const char *value, size_t value_size)
{
  struct header_census *c = cls;
  (void)kind;
  if (!key || strlen(key) != key_size || (value && strlen(value) != value_size)) {
    c->nul = true;
    return MHD_YES;
  }
  /*
   * libmicrohttpd 0.9.75 measures values with strlen() and keeps them where it
   * read them, with the line's CR LF overwritten by two NULs: a value's NUL
   * followed by anything but the second one is a NUL inside the line ("Bearer
   * <token>\0junk"), or a bare LF or folded line, which strict parsing refuses
   * as well. (Newer versions report the full size, caught just above.)
   */
  if (value && value[value_size + 1] != '\0') {
    c->nul = true;
    return MHD_YES;
  }
  if (!strcasecmp(key, "Host")) {
    c->hosts++;
  } else if (!strcasecmp(key, "Transfer-Encoding")) {
    c->te = true;
  } else if (!strcasecmp(key, "Content-Length")) {
    if (!value || !*value || strspn(value, "0123456789") != strlen(value))
      c->length_bad = true;
    else if (c->length && strcmp(c->length, value) != 0)
      c->length_conflict = true;
    c->length = value;
    c->lengths++;
  }
  return MHD_YES;
}

/*
 * Strict parsing (libmicrohttpd 0.9.75 is lenient): a NUL inside a header (which
 * would cut it short: "Bearer <valid>\0junk"), Content-Lengths that disagree or
 * are not numbers, Content-Length with Transfer-Encoding, no Host or several on
 * HTTP/1.1 — the shapes of request smuggling — get 400.
 */
static const char *strict_headers(struct MHD_Connection *conn, const char *version)
{
  struct header_census c = {0};
  MHD_get_connection_values_n(conn, MHD_HEADER_KIND, census_header, &c);
  if (c.nul)
    return "a header holds a NUL byte";
  if (c.length_bad)
    return "Content-Length must be a number";
  if (c.length_conflict)
    return "two Content-Length headers disagree";
  if (c.lengths && c.te)
    return "Content-Length and Transfer-Encoding together";
  if (c.hosts > 1)
    return "more than one Host header";
  if (c.hosts == 0 && version && !strcmp(version, MHD_HTTP_VERSION_1_1))
    return "HTTP/1.1 requests need a Host header";
  return NULL;
}

/* First call for a request: everything that can be decided from the headers alone. */
static enum MHD_Result on_headers(struct dsr_hreq *r, const char *url)
{
  struct header_tally t = {0};
  MHD_get_connection_values(r->conn, MHD_HEADER_KIND, tally_header, &t);
  if (t.bytes > (size_t)r->app->cfg->max_header_bytes)
    return dsr_reply_problem(r, DSR_E_HEADERS_TOO_LARGE, NULL, NULL);
  if (t.bad)
    return dsr_reply_problem(r, DSR_E_BAD_HEADER, "a header value holds control characters",
                             NULL);
  if (strlen(url) >= sizeof r->path || !dsr_path_safe(url))
    return dsr_reply_problem(r, DSR_E_BAD_PATH, NULL, NULL);
  dsr_strlcpy(r->path, url, sizeof r->path);
  bool known = false;
  r->route = dsr_route_match(r->app->routes, r->method, r->path, r->args, r->argbuf,
                             sizeof r->argbuf, &known);
  if (!r->route)
    return dsr_reply_problem(r, known ? DSR_E_METHOD_NOT_ALLOWED : DSR_E_NOT_FOUND, NULL, NULL);
  const char *cl = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND,
                                               MHD_HTTP_HEADER_CONTENT_LENGTH);
  if (cl && strtoull(cl, NULL, 10) > (unsigned long long)r->app->cfg->max_body_bytes)
    return dsr_reply_problem(r, DSR_E_BODY_TOO_LARGE, NULL, NULL);
  client_of(r->conn, r->client, sizeof r->client);
  if (r->route->rate != DSR_RATE_NONE && !dsr_rate_ok(r, r->route->rate, r->client))
    return dsr_reply_problem(r, DSR_E_RATE_LIMITED, "too many requests from your address", NULL);
  if (r->route->text) {
    const char *ct = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND,
                                                 MHD_HTTP_HEADER_CONTENT_TYPE);
    /* A DELETE may come without a Content-Type (curl -X DELETE -d sends none of ours). */
    if (!(ct ? text_content_type(ct) : !strcmp(r->method, "DELETE")))
      return dsr_reply_problem(r, DSR_E_UNSUPPORTED_MEDIA,
                               "the body must be text/plain: base64 of the signed message", NULL);
  }
  if (r->route->body || r->route->form) {
    const char *ct = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND,
                                                 MHD_HTTP_HEADER_CONTENT_TYPE);
    if (r->route->body ? !json_content_type(ct) : !form_content_type(ct))
      return dsr_reply_problem(r, DSR_E_UNSUPPORTED_MEDIA,
                               r->route->body ? NULL
                                              : "the body must be application/x-www-form-urlencoded",
                               NULL);
  }
  if (r->route->auth != DSR_AUTH_NONE) {
    r->bearer = dsr_bearer_of(r->conn);
    /* Staff API routes also take the staff UI session (auth.c). */
    bool session = r->route->auth == DSR_AUTH_STAFF &&
                   MHD_lookup_connection_value(r->conn, MHD_COOKIE_KIND, DSR_UI_COOKIE);
    if (!r->bearer && r->route->auth != DSR_AUTH_UI && !session)
      return dsr_reply_problem(r, DSR_E_UNAUTHORIZED,
                               r->route->auth == DSR_AUTH_STATUS_TOKEN
                                   ? "send the status token as Authorization: Bearer <token>"
                               : r->route->auth == DSR_AUTH_STAFF
                                   ? "send your API token as Authorization: Bearer <token>, "
                                     "or sign in to the staff UI"
                               : r->route->auth == DSR_AUTH_AGENT
                                   ? "send the pair-wise token (POST /v1/agent/{agent-id}) as "
                                     "Authorization: Bearer <token>"
                                   : "send your API token as Authorization: Bearer <token>",
                               NULL);
    enum MHD_Result ret;
    if (!dsr_dispatch_auth(r, &ret))
      return ret;
  }
  return MHD_YES;
}

/* Form routes: decode, check the CSRF token, validate; the handler sees any input error. */
static enum MHD_Result on_form(struct dsr_hreq *r)
{
  const char *why = NULL;
  r->json = dsr_form_decode(r->body.data ? r->body.data : "", r->body.len, &why);
  if (!r->json)
    return dsr_reply_problem(r, DSR_E_BAD_REQUEST, why, NULL);
  if (r->ui_expired) /* signed out meanwhile: sign in, then send the form again */
    return dsrd_ui_expired(r);
  if (!dsr_csrf_check(r, dsr_json_str(r->json, "csrf")))
    return dsr_reply_problem(r, DSR_E_CSRF, NULL, NULL);
  json_object_del(r->json, "csrf");
  enum MHD_Result ret;
  if (!dsr_dispatch_role_rules(r, &ret))
    return ret;
  r->input_invalid = !dsr_jspec_parse(r->json, r->route->form, &r->input_err);
  return r->route->handler(r);
}

/*
 * Idempotency-Key on authenticated JSON POSTs (staff, customers): the key is
 * reserved per route and caller before the handler runs, and its answer kept
 * (dsr_reply_idem_finish); a retry gets that answer again. Intake keeps its
 * answer inside its own transaction instead (requests.c). True: run the handler.
 */
static bool idem_begin(struct dsr_hreq *r, enum MHD_Result *ret)
{
  const char *key = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "Idempotency-Key");
  enum dsr_auth a = r->route->auth;
  if (!key || strcmp(r->method, "POST") != 0 || (a != DSR_AUTH_STAFF && a != DSR_AUTH_CUSTOMER))
    return true;
  if (!dsr_idem_key_ok(key)) {
    *ret = dsr_reply_problem(r, DSR_E_BAD_HEADER,
                             "Idempotency-Key must be 1 to 255 visible ASCII characters", NULL);
    return false;
  }
  char scope[192];
  snprintf(scope, sizeof scope, "%s %s %s:%s", r->method, r->route->pattern,
           a == DSR_AUTH_STAFF ? "staff" : "customer",
           a == DSR_AUTH_STAFF ? r->staff_id : r->customer_id);
  struct dsr_db *db = NULL;
  if (!dsr_idem_init(&r->idem, scope, key, r->path, r->json) ||
      !(db = dsr_db_acquire(r->app->pool))) {
    *ret = dsr_reply_problem(r, db ? DSR_E_INTERNAL : DSR_E_DB_UNAVAILABLE, NULL, NULL);
    return false;
  }
  unsigned int status = 0;
  json_t *reply = NULL;
  bool retry = false;
  enum dsr_idem_found f = dsr_idem_reserve(db, &r->idem, dsr_now(), &status, &reply, &retry);
  dsr_db_release(db);
  switch (f) {
  case DSR_IDEM_NONE:
    r->idem_pending = true;
    return true;
  case DSR_IDEM_REPLAY:
    DSR_INFO("http.idempotent_replay", "rid=%s route=%s status=%u", r->rid, r->route->pattern,
             status);
    *ret = dsr_reply_kept(r, status, reply);
    break;
  case DSR_IDEM_MISMATCH:
    *ret = dsr_reply_problem(r, DSR_E_IDEMPOTENCY_MISMATCH, NULL, NULL);
    break;
  case DSR_IDEM_BUSY:
  case DSR_IDEM_FAILED:
    r->retry_after = 1;
    *ret = f == DSR_IDEM_BUSY
               ? dsr_reply_problem(r, DSR_E_CONFLICT,
                                   "a request with this Idempotency-Key is still being answered",
                                   NULL)
               : dsr_reply_problem(r, DSR_E_DB_UNAVAILABLE, NULL, NULL);
    break;
  }
  json_decref(reply);
  return false;
}

/* Last call: the whole body is in; parse and check it, then run the handler. */
static enum MHD_Result on_complete(struct dsr_hreq *r)
{
  if (r->route->form)
    return on_form(r);
  if (r->route->text) {
    /* Signed bodies: the handler opens them (base64, signature, claims). */
    if (r->body.len == 0 && strcmp(r->method, "DELETE") != 0)
      return dsr_reply_problem(r, DSR_E_BAD_REQUEST, "the body is empty: send the signed message",
                               NULL);
    return r->route->handler(r);
  }
  if (!r->route->body) {
    if (r->body.len > 0)
      return dsr_reply_problem(r, DSR_E_BAD_REQUEST, "this endpoint takes no request body", NULL);
    return r->route->handler(r);
  }
  if (r->body.len == 0)
    return dsr_reply_problem(r, DSR_E_INVALID_JSON, "the request body is empty", NULL);
  if (!dsr_utf8_valid(r->body.data, r->body.len))
    return dsr_reply_problem(r, DSR_E_INVALID_UTF8, "the body is not valid UTF-8", NULL);
  json_error_t jerr;
  r->json = json_loadb(r->body.data, r->body.len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
  if (!r->json) {
    char detail[256];
    snprintf(detail, sizeof detail, "line %d, column %d: %.160s", jerr.line, jerr.column,
             jerr.text);
    return dsr_reply_problem(r, DSR_E_INVALID_JSON, detail, NULL);
  }
  struct dsr_jspec_error err;
  if (!dsr_jspec_parse(r->json, r->route->body, &err))
    return dsr_reply_problem(r, err.ec, err.detail, err.field);
  enum MHD_Result ret;
  if (!dsr_dispatch_role_rules(r, &ret) || !idem_begin(r, &ret))
    return ret;
  return r->route->handler(r);
}

/* More query parameters than any route reads, by far. */
#define MAX_QUERY_PARAMS 64

void *dsr_uri_seen(void *cls, const char *uri, struct MHD_Connection *conn)
{
  struct dsr_hreq *r = calloc(1, sizeof *r);
  if (!r)
    return NULL;
  r->conn = conn;
  r->app = cls;
  char *q = uri ? strchr(uri, '?') : NULL;
  if (q) {
    size_t params = 1;
    for (const char *p = q + 1; *p; p++)
      params += *p == '&' || *p == ';';
    if (params > MAX_QUERY_PARAMS) {
      /* The target is libmicrohttpd's own buffer, not yet split: end it after the "?". */
      q[1] = '\0';
      r->query_too_long = true;
    }
  }
  return r;
}

enum MHD_Result dsr_dispatch(void *cls, struct MHD_Connection *conn, const char *url,
                             const char *method, const char *version, const char *upload_data,
                             size_t *upload_data_size, void **con_cls)
{
  struct dsr_hreq *r = *con_cls;
  if (!r || !r->started) {
    if (!r)
      r = calloc(1, sizeof *r);
    if (!r)
      return MHD_NO;
    *con_cls = r;
    r->started = true;
    r->conn = conn;
    r->app = cls;
    dsr_strlcpy(r->method, method, sizeof r->method);
    r->started_ms = dsr_mono_ms();
    new_rid(r->rid);
    dsr_conn_guard_phase(r->app->guard, conn, DSR_GUARD_HEADERS_DONE);
    const char *bad = r->query_too_long ? "the query string has more parameters than any route reads"
                                        : strict_headers(conn, version);
    if (bad && strlen(url) < sizeof r->path && dsr_path_safe(url)) {
      /* The route, when there is one, only decides the shape of the answer (a page or JSON). */
      dsr_strlcpy(r->path, url, sizeof r->path);
      bool known = false;
      r->route =
          dsr_route_match(r->app->routes, r->method, r->path, r->args, r->argbuf,
                             sizeof r->argbuf, &known);
    }
    enum MHD_Result ret =
        bad ? dsr_reply_problem(r, r->query_too_long ? DSR_E_BAD_REQUEST : DSR_E_BAD_HEADER, bad,
                                NULL)
            : on_headers(r, url);
    return r->replied ? ret : MHD_YES;
  }
  if (r->replied) {
    /* Already answered (an error while the body was still arriving): discard the rest. */
    *upload_data_size = 0;
    return MHD_YES;
  }
  if (*upload_data_size) {
    /*
     * libmicrohttpd takes a reply only before the body or after all of it, so
     * an oversized body without Content-Length is read and dropped, then
     * answered; a sender that never stops is cut off.
     */
    if (r->too_large || r->body.len + *upload_data_size > (size_t)r->app->cfg->max_body_bytes) {
      r->too_large = true;
      r->discarded += *upload_data_size;
      *upload_data_size = 0;
      return r->discarded > DISCARD_LIMIT ? MHD_NO : MHD_YES;
    }
    if (!dsr_buf_append(&r->body, upload_data, *upload_data_size))
      return MHD_NO;
    *upload_data_size = 0;
    return MHD_YES;
  }
  dsr_conn_guard_phase(r->app->guard, conn, DSR_GUARD_BODY_DONE);
  if (r->too_large)
    return dsr_reply_problem(r, DSR_E_BODY_TOO_LARGE, NULL, NULL);
  return on_complete(r);
}

void dsr_dispatch_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                            enum MHD_RequestTerminationCode toe)
{
  struct dsr_hreq *r = *con_cls;
  if (!r)
    return;
  dsr_conn_guard_phase(r->app ? r->app->guard : NULL, conn, DSR_GUARD_ANSWERED);
  /*
   * Route patterns, never raw paths or query strings: those may carry identities. Written
   * a few lines at a time (dsr_log_later(); the guard's thread flushes what waits).
   */
  dsr_log_later(DSR_LOG_INFO, "http.request", "rid=%s method=%s route=%s status=%u ms=%.1f",
                r->rid, r->method, r->route ? r->route->pattern : "-", r->status,
                dsr_mono_ms() - r->started_ms);
  dsr_reply_observe(r);
  if (r->idem_pending) /* no JSON answer was queued: let a retry run again */
    dsr_reply_idem_finish(r, 500, "");
  json_decref(r->json);
  PQclear(r->handed_res);
  dsr_buf_free(&r->body);
  free(r);
  *con_cls = NULL;
}

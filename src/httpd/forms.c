/**
 * @file forms.c
 * @brief HTML form support for the dispatcher: urlencoded decoding into a
 *        JSON object (so forms reuse the JSON spec tables), cookies set on
 *        the reply, the double-submit CSRF token, and the rate-limit check
 *        shared by routes and handlers.
 */
#include "config.h"
#include "httpd.h"
#include "forms.h"
#include "dsr/crypto.h"
#include "dsr/log.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define CSRF_COOKIE "dsr_csrf"
#define CSRF_LEN 43 /* base64url of 32 random bytes */

static int hexval(char c)
{
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

/* Percent-decodes [s, s+n) ('+' is a space). Caller frees. NULL on a bad escape. */
static char *decode(const char *s, size_t n, size_t *outlen)
{
  char *out = malloc(n + 1);
  if (!out)
    return NULL;
  size_t o = 0;
  for (size_t i = 0; i < n; i++) {
    if (s[i] == '+') {
      out[o++] = ' ';
    } else if (s[i] == '%') {
      if (i + 2 >= n || hexval(s[i + 1]) < 0 || hexval(s[i + 2]) < 0) {
        free(out);
        return NULL;
      }
      out[o++] = (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
      i += 2;
    } else {
      out[o++] = s[i];
    }
  }
  out[o] = '\0';
  *outlen = o;
  return out;
}

json_t *dsr_form_decode(const char *body, size_t len, const char **why)
{
  json_t *obj = json_object();
  if (!obj) {
    *why = "out of memory";
    return NULL;
  }
  size_t i = 0;
  while (i < len) {
    size_t end = i;
    while (end < len && body[end] != '&')
      end++;
    const char *eq = memchr(body + i, '=', end - i);
    size_t kl = eq ? (size_t)(eq - (body + i)) : end - i;
    size_t klen = 0, vlen = 0;
    char *k = decode(body + i, kl, &klen);
    char *v = eq ? decode(eq + 1, (size_t)(body + end - eq - 1), &vlen) : strdup("");
    const char *bad = NULL;
    if (!k || !v)
      bad = "the form has a malformed %-escape";
    else if (!dsr_utf8_valid(k, klen) || !dsr_utf8_valid(v, vlen))
      bad = "the form is not valid UTF-8";
    else if (klen == 0 && vlen > 0)
      bad = "the form has a value without a name";
    else if (klen > 0 && json_object_get(obj, k))
      bad = "the form repeats a field";
    else if (klen > 0 && vlen > 0)
      json_object_set_new(obj, k, json_string(v)); /* empty fields count as absent */
    free(k);
    free(v);
    if (bad) {
      *why = bad;
      json_decref(obj);
      return NULL;
    }
    i = end + 1;
  }
  return obj;
}

bool dsr_reply_cookie(struct dsr_hreq *r, const char *cookie)
{
  if (r->ncookies >= (int)DSR_ARRAY_LEN(r->set_cookie))
    return false;
  if (!dsr_strlcpy(r->set_cookie[r->ncookies], cookie, sizeof r->set_cookie[0]))
    return false;
  r->ncookies++;
  return true;
}

static bool csrf_shape(const char *t)
{
  return t && strlen(t) == CSRF_LEN &&
         strspn(t, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") == CSRF_LEN;
}

/* Over TLS the cookie is Secure and named __Host- (no other host or path can set it). */
static bool over_tls(const struct dsr_hreq *r)
{
  const char *base = r->app->cfg->base_url;
  return base && !strncmp(base, "https:", 6);
}

static const char *csrf_cookie_name(const struct dsr_hreq *r)
{
  return over_tls(r) ? "__Host-" CSRF_COOKIE : CSRF_COOKIE;
}

/*
 * The token of a signed-in browser is bound to its session: a keyed hash of the
 * session id, so a token planted or read elsewhere (a cookie tossed from a
 * sibling host, another user's page) does not fit this session. NULL session: none.
 */
bool dsr_csrf_of_session(const char *session, char *out, size_t outlen)
{
  if (!session || !*session || strlen(session) > 256 || outlen < CSRF_LEN + 1)
    return false;
  struct dsr_buf b = {0};
  bool ok = dsr_buf_puts(&b, "csrf:") && dsr_buf_puts(&b, session);
  unsigned char h[DSR_HASH_BYTES];
  if (ok)
    dsr_keyed_hash(DSR_KEY_TOKEN, b.data, b.len, h);
  dsr_buf_free(&b);
  if (!ok)
    return false;
  sodium_bin2base64(out, CSRF_LEN + 1, h, sizeof h, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  return true;
}

static bool session_token(const struct dsr_hreq *r, char out[CSRF_LEN + 1])
{
  return dsr_csrf_of_session(MHD_lookup_connection_value(r->conn, MHD_COOKIE_KIND, DSR_UI_COOKIE),
                             out, CSRF_LEN + 1);
}

/*
 * A state change must come from our own pages: a browser that says the request
 * is cross-site (Sec-Fetch-Site) or comes from another origin (Origin) is refused
 * whatever token it carries. Clients that send neither (curl, tests) pass.
 */
static bool same_origin(const struct dsr_hreq *r)
{
  const char *site = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "Sec-Fetch-Site");
  if (site && strcmp(site, "same-origin") != 0 && strcmp(site, "none") != 0)
    return false;
  const char *origin = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "Origin");
  /* "null": our pages' no-referrer policy makes browsers send that for our own forms. */
  if (!origin || !strcmp(origin, "null"))
    return true;
  const char *base = r->app->cfg->base_url;
  if (base) {
    /* base_url's scheme://host[:port], without its path */
    const char *host = strstr(base, "://");
    size_t n = host ? (size_t)(host + 3 - base) + strcspn(host + 3, "/") : strlen(base);
    if (strlen(origin) == n && !strncasecmp(origin, base, n))
      return true;
  }
  const char *h = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "Host");
  const char *sep = strstr(origin, "://");
  return h && sep && !strcasecmp(sep + 3, h);
}

void dsr_csrf_session_cookie(struct dsr_hreq *r, const char *session)
{
  char t[CSRF_LEN + 1];
  struct dsr_buf b = {0};
  bool ok = dsr_buf_puts(&b, "csrf:") && dsr_buf_puts(&b, session);
  unsigned char h[DSR_HASH_BYTES];
  if (ok)
    dsr_keyed_hash(DSR_KEY_TOKEN, b.data, b.len, h);
  dsr_buf_free(&b);
  if (!ok)
    return;
  sodium_bin2base64(t, sizeof t, h, sizeof h, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  char cookie[200];
  snprintf(cookie, sizeof cookie, "%s=%s; Path=/; HttpOnly; SameSite=Strict%s",
           csrf_cookie_name(r), t, over_tls(r) ? "; Secure" : "");
  if (!dsr_reply_cookie(r, cookie))
    DSR_WARN("ui.csrf_cookie_failed", "rid=%s", r->rid);
}

void dsr_csrf_token(struct dsr_hreq *r, char *out, size_t outlen)
{
  char bound[CSRF_LEN + 1];
  if (session_token(r, bound)) {
    dsr_strlcpy(out, bound, outlen);
    return;
  }
  const char *name = csrf_cookie_name(r);
  size_t nlen = strlen(name);
  const char *have = MHD_lookup_connection_value(r->conn, MHD_COOKIE_KIND, name);
  if (csrf_shape(have)) {
    dsr_strlcpy(out, have, outlen);
    return;
  }
  for (int i = 0; i < r->ncookies; i++)
    if (!strncmp(r->set_cookie[i], name, nlen) && r->set_cookie[i][nlen] == '=') {
      dsr_strlcpy(out, r->set_cookie[i] + nlen + 1, CSRF_LEN + 1 < outlen ? CSRF_LEN + 1 : outlen);
      return;
    }
  char *t = dsr_token_new();
  if (!t) {
    out[0] = '\0';
    return;
  }
  dsr_strlcpy(out, t, outlen);
  char cookie[200];
  snprintf(cookie, sizeof cookie, "%s=%s; Path=/; HttpOnly; SameSite=Strict%s", name, t,
           over_tls(r) ? "; Secure" : "");
  if (!dsr_reply_cookie(r, cookie))
    out[0] = '\0';
  free(t);
}

bool dsr_csrf_match(const char *cookie, const char *field)
{
  return csrf_shape(cookie) && csrf_shape(field) && sodium_memcmp(cookie, field, CSRF_LEN) == 0;
}

bool dsr_csrf_check(struct dsr_hreq *r, const char *field)
{
  if (!same_origin(r))
    return false;
  char bound[CSRF_LEN + 1];
  if (session_token(r, bound))
    return dsr_csrf_match(bound, field);
  return dsr_csrf_match(MHD_lookup_connection_value(r->conn, MHD_COOKIE_KIND, csrf_cookie_name(r)),
                        field);
}

bool dsr_rate_ok(struct dsr_hreq *r, enum dsr_rate which, const char *key)
{
  struct dsr_ratelimit *rl = r->app->rl[which];
  if (!rl || !key)
    return true;
  char k[300];
  snprintf(k, sizeof k, "%d:%s", (int)which, key);
  long wait = 0;
  if (dsr_ratelimit_take(rl, k, strlen(k), dsr_mono_ms(), &wait))
    return true;
  r->retry_after = wait;
  return false;
}

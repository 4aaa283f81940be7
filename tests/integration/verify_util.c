/** @file verify_util.c @brief See verify_util.h. */
#include "config.h"
#include "verify_util.h"
#include "suites.h"

#include <dirent.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

/* Decodes every base64 body part of an RFC 5322 message and joins them. */
static char *decode_parts(const char *msg)
{
  struct dsr_tbuf {
    char *p;
    size_t n;
  } out = {calloc(1, 1), 0};
  const char *p = msg;
  while ((p = strcasestr(p, "Content-Transfer-Encoding: base64"))) {
    const char *body = strstr(p, "\n\n");
    const char *body2 = strstr(p, "\r\n\r\n");
    if (body2 && (!body || body2 < body))
      body = body2 + 4;
    else if (body)
      body += 2;
    if (!body)
      break;
    const char *end = strstr(body, "\n--");
    if (!end)
      end = body + strlen(body);
    size_t cap = (size_t)(end - body) + 1;
    unsigned char *bin = malloc(cap);
    size_t bl = 0;
    if (sodium_base642bin(bin, cap, body, (size_t)(end - body), " \r\n", &bl, NULL,
                          sodium_base64_VARIANT_ORIGINAL) == 0) {
      out.p = realloc(out.p, out.n + bl + 2);
      memcpy(out.p + out.n, bin, bl);
      out.n += bl;
      out.p[out.n++] = '\n';
      out.p[out.n] = '\0';
    }
    free(bin);
    p = end;
  }
  return out.p;
}

char *vu_wait_mail(const char *dir, const char *to, const char *needle, int timeout_s)
{
  char newdir[400], header[300];
  snprintf(newdir, sizeof newdir, "%s/new", dir);
  snprintf(header, sizeof header, "To: %s", to);
  time_t until = time(NULL) + timeout_s;
  while (time(NULL) <= until) {
    DIR *d = opendir(newdir);
    struct dirent *e;
    while (d && (e = readdir(d))) {
      if (e->d_name[0] == '.')
        continue;
      char path[700];
      snprintf(path, sizeof path, "%s/%s", newdir, e->d_name);
      char *msg = h_slurp(path, NULL);
      char *text = strstr(msg, header) ? decode_parts(msg) : NULL;
      free(msg);
      if (text && (!needle || strstr(text, needle))) {
        char cur[700];
        snprintf(cur, sizeof cur, "%s/cur/%s", dir, e->d_name);
        rename(path, cur);
        closedir(d);
        return text;
      }
      free(text);
    }
    if (d)
      closedir(d);
    struct timespec ts = {0, 50000000L}; /* polling for a delivery, not racing one */
    nanosleep(&ts, NULL);
  }
  ck_abort_msg("no mail to %s%s%s in %s within %d s", to, needle ? " containing " : "",
               needle ? needle : "", dir, timeout_s);
  return NULL;
}

void vu_code(const char *text, char out[7])
{
  for (const char *p = text; *p; p++) {
    if (strspn(p, "0123456789") == 6 && (p == text || !strchr("0123456789-:T", p[-1])) &&
        !strchr("0123456789-:TZ", p[6] ? p[6] : 'x')) {
      memcpy(out, p, 6);
      out[6] = '\0';
      return;
    }
  }
  ck_abort_msg("no code in: %s", text);
}

void vu_link_token(const char *text, char *out, size_t outlen)
{
  const char *t = strstr(text, "?t=");
  ck_assert_msg(t != NULL, "no link in: %s", text);
  t += 3;
  size_t n = strspn(t, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_");
  ck_assert(n < outlen);
  memcpy(out, t, n);
  out[n] = '\0';
}

/* Status tokens of the requests vu_create() made, so vu_verify() can send them. */
static struct {
  char id[40], token[64];
} known[256];
static size_t nknown;

static const char *token_of(const char *id)
{
  for (size_t i = 0; i < nknown; i++)
    if (!strcmp(known[i].id, id))
      return known[i].token;
  return NULL;
}

json_t *vu_create(const struct h_dsrd *d, const char *body, char id[40], char token[64])
{
  struct h_resp r;
  h_http(d, "POST", "/v1/requests", NULL, body, &r);
  ck_assert_msg(r.status == 202, "create: %ld %s", r.status, r.body);
  json_t *j = h_resp_json(&r);
  h_resp_free(&r);
  snprintf(id, 40, "%s", json_string_value(json_object_get(j, "id")));
  snprintf(token, 64, "%s", json_string_value(json_object_get(j, "status_token")));
  snprintf(known[nknown % 256].id, 40, "%s", id);
  snprintf(known[nknown % 256].token, 64, "%s", token);
  nknown++;
  return j;
}

long vu_verify(const struct h_dsrd *d, const char *id, const char *body, struct h_resp *out)
{
  char path[128];
  snprintf(path, sizeof path, "/v1/requests/%s/verify", id);
  const char *t = token_of(id);
  char auth[128];
  snprintf(auth, sizeof auth, "Authorization: Bearer %s", t ? t : "");
  const char *headers[] = {"Content-Type: application/json", t ? auth : NULL, NULL};
  h_http(d, "POST", path, headers, body, out);
  return out->status;
}

char *vu_status(const char *conninfo, const char *id)
{
  char sql[200];
  snprintf(sql, sizeof sql, "SELECT status FROM dsr_requests WHERE id = '%s'", id);
  PGresult *r = h_sql(conninfo, sql);
  ck_assert_int_eq(PQntuples(r), 1);
  char *s = strdup(PQgetvalue(r, 0, 0));
  PQclear(r);
  return s;
}

char *vu_database(const char *name)
{
  char sql[200];
  snprintf(sql, sizeof sql, "SELECT count(*) FROM pg_database WHERE datname = '%s'", name);
  if (h_sql_long(it_pg.conninfo, sql) == 0) {
    snprintf(sql, sizeof sql, "CREATE DATABASE %s", name);
    PQclear(h_sql(it_pg.conninfo, sql));
  }
  char *ci = NULL;
  H_REQUIRE1(asprintf(&ci, "%s dbname=%s", it_pg.conninfo, name) > 0);
  return ci;
}

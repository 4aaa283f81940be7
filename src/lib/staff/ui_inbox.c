/** @file ui_inbox.c @brief Reading the maildir transport's messages for the demo's dev inbox. */
#include "config.h"
#include "dsr/ui_inbox.h"

#include <dirent.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#define MAX_MESSAGE_BYTES (256u * 1024u)

/* A header's value (up to CRLF) from the header block of @p raw, or "" (caller frees). */
static char *header(const char *raw, const char *name)
{
  size_t n = strlen(name);
  const char *end = strstr(raw, "\r\n\r\n");
  for (const char *p = raw; p && (!end || p < end); p = strstr(p, "\r\n")) {
    if (p != raw)
      p += 2;
    if (!strncasecmp(p, name, n) && p[n] == ':') {
      const char *v = p + n + 1;
      while (*v == ' ')
        v++;
      size_t len = strcspn(v, "\r\n");
      char *out = malloc(len + 1);
      if (out) {
        memcpy(out, v, len);
        out[len] = '\0';
      }
      return out;
    }
  }
  return strdup("");
}

/* Decodes base64 text with CRLFs into a new string (NULL when malformed). */
static char *b64_decode(const char *s, size_t n)
{
  unsigned char *out = malloc(n + 1);
  size_t len = 0;
  if (!out)
    return NULL;
  if (sodium_base642bin(out, n, s, n, "\r\n", &len, NULL, sodium_base64_VARIANT_ORIGINAL) != 0) {
    free(out);
    return NULL;
  }
  out[len] = '\0';
  return (char *)out;
}

/* "=?UTF-8?B?...?=" decoded; anything else as it is (caller frees). */
static char *decode_subject(const char *s)
{
  size_t n = strlen(s);
  if (n > 12 && !strncmp(s, "=?UTF-8?B?", 10) && !strcmp(s + n - 2, "?="))
    return b64_decode(s + 10, n - 12);
  return strdup(s);
}

bool dsr_mail_parse(const char *raw, json_t **out)
{
  static const char marker[] = "Content-Type: text/plain; charset=utf-8\r\n"
                               "Content-Transfer-Encoding: base64\r\n\r\n";
  bool ok = false;
  char *to = header(raw, "To"), *subj_raw = header(raw, "Subject"), *date = header(raw, "Date");
  char *subject = subj_raw ? decode_subject(subj_raw) : NULL;
  char *text = NULL;
  const char *body = strstr(raw, marker);
  if (body) {
    body += sizeof marker - 1;
    size_t n = strspn(body, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=\r\n");
    const char *stop = strstr(body, "\r\n--");
    if (stop && (size_t)(stop - body) < n)
      n = (size_t)(stop - body);
    text = b64_decode(body, n);
  }
  if (to && subject && date && text && *to && dsr_utf8_valid(text, strlen(text)) &&
      dsr_utf8_valid(subject, strlen(subject))) {
    *out = json_pack("{s:s, s:s, s:s, s:s}", "to", to, "subject", subject, "date", date, "text",
                     text);
    ok = *out != NULL;
  }
  free(to);
  free(subj_raw);
  free(subject);
  free(date);
  free(text);
  return ok;
}

/* The whole file @p path when it is small enough (caller frees). */
static char *slurp(const char *path)
{
  FILE *f = fopen(path, "rb");
  if (!f)
    return NULL;
  char *buf = malloc(MAX_MESSAGE_BYTES + 1);
  size_t n = buf ? fread(buf, 1, MAX_MESSAGE_BYTES + 1, f) : 0;
  fclose(f);
  if (!buf || n > MAX_MESSAGE_BYTES) {
    free(buf);
    return NULL;
  }
  buf[n] = '\0';
  return buf;
}

static int by_name_desc(const void *a, const void *b)
{
  const char *x = json_string_value(json_object_get(*(json_t *const *)a, "file"));
  const char *y = json_string_value(json_object_get(*(json_t *const *)b, "file"));
  return strcmp(y, x);
}

json_t *dsr_maildir_list(const char *maildir, size_t max)
{
  json_t *all = json_array();
  static const char *const subdirs[] = {"new", "cur"};
  for (size_t s = 0; all && s < DSR_ARRAY_LEN(subdirs); s++) {
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/%s", maildir, subdirs[s]);
    DIR *d = opendir(dir);
    if (!d)
      continue;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
      if (e->d_name[0] == '.')
        continue;
      char path[4400];
      snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
      char *raw = slurp(path);
      json_t *m = NULL;
      if (raw && dsr_mail_parse(raw, &m)) {
        json_object_set_new(m, "file", json_string(e->d_name));
        json_array_append_new(all, m);
      }
      free(raw);
    }
    closedir(d);
  }
  if (!all)
    return NULL;
  size_t n = json_array_size(all);
  json_t **items = n ? malloc(n * sizeof *items) : NULL;
  json_t *out = json_array();
  if (n && items) {
    for (size_t i = 0; i < n; i++)
      items[i] = json_array_get(all, i);
    qsort(items, n, sizeof *items, by_name_desc);
    for (size_t i = 0; i < n && i < max && out; i++)
      json_array_append(out, items[i]);
  }
  free(items);
  json_decref(all);
  return out;
}

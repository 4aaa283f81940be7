/**
 * @file policy_diag.c
 * @brief Diagnostics of the policy validator and its declarative key checks:
 *        every message is "file:line:column: key: message (expected ...)",
 *        positioned with the JSON position index.
 */
#include "config.h"
#include "policy_int.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void dsr_diags_free(struct dsr_diags *d)
{
  if (!d)
    return;
  for (size_t i = 0; i < d->n; i++)
    free(d->v[i].text);
  free(d->v);
  memset(d, 0, sizeof *d);
}

static bool diags_push(struct dsr_diags *d, enum dsr_diag_level level, char *text)
{
  if (!text)
    return false;
  if (d->n == d->cap) {
    size_t ncap = d->cap ? d->cap * 2 : 16;
    struct dsr_diag *nv = realloc(d->v, ncap * sizeof *nv);
    if (!nv) {
      free(text);
      return false;
    }
    d->v = nv;
    d->cap = ncap;
  }
  d->v[d->n++] = (struct dsr_diag){level, text};
  if (level == DSR_DIAG_ERROR)
    d->errors++;
  else
    d->warnings++;
  return true;
}

bool dsr_diags_add(struct dsr_diags *d, enum dsr_diag_level level, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  va_list ap2;
  va_copy(ap2, ap);
  int n = vsnprintf(NULL, 0, fmt, ap);
  char *text = n >= 0 ? malloc((size_t)n + 1) : NULL;
  if (text)
    vsnprintf(text, (size_t)n + 1, fmt, ap2);
  va_end(ap2);
  va_end(ap);
  return diags_push(d, level, text);
}

/* "/collections/calls/references/0/parent" -> "collections.calls.references[0].parent" */
static bool key_of(const char *ptr, struct dsr_buf *out)
{
  bool ok = dsr_buf_puts(out, "");
  size_t start = out->len;
  const char *s = ptr;
  while (ok && *s == '/') {
    s++;
    const char *end = strchr(s, '/');
    size_t n = end ? (size_t)(end - s) : strlen(s);
    bool digits = n > 0;
    for (size_t i = 0; i < n; i++)
      if (!isdigit((unsigned char)s[i]))
        digits = false;
    if (digits) {
      ok = dsr_buf_puts(out, "[") && dsr_buf_append(out, s, n) && dsr_buf_puts(out, "]");
    } else {
      if (out->len > start)
        ok = dsr_buf_puts(out, ".");
      for (size_t i = 0; ok && i < n; i++) {
        if (s[i] == '~' && i + 1 < n) {
          ok = dsr_buf_puts(out, s[i + 1] == '1' ? "/" : "~");
          i++;
        } else {
          ok = dsr_buf_append(out, &s[i], 1);
        }
      }
    }
    s += n;
  }
  if (ok && out->len == start)
    ok = dsr_buf_puts(out, "(top level)");
  return ok;
}

void pdiag(struct pctx *c, enum dsr_diag_level lvl, const char *ptr, bool at_key, const char *fmt,
           ...)
{
  struct dsr_buf b = {0};
  struct dsr_jpos_at at = {1, 1};
  if (!ptr) {
    c->oom = true;
    return;
  }
  (void)dsr_jpos_find(c->ix, ptr, at_key, &at);
  bool ok = dsr_buf_printf(&b, "%s:%d:%d: ", c->path, at.line, at.col) && key_of(ptr, &b) &&
            dsr_buf_puts(&b, ": ");
  va_list ap;
  va_start(ap, fmt);
  va_list ap2;
  va_copy(ap2, ap);
  int n = vsnprintf(NULL, 0, fmt, ap);
  char *msg = n >= 0 ? malloc((size_t)n + 1) : NULL;
  if (msg)
    vsnprintf(msg, (size_t)n + 1, fmt, ap2);
  va_end(ap2);
  va_end(ap);
  ok = ok && msg && dsr_buf_puts(&b, msg);
  free(msg);
  if (!ok || !diags_push(c->d, lvl, ok ? dsr_buf_steal(&b) : NULL))
    c->oom = true;
  dsr_buf_free(&b);
}

char *pptr(const char *base, const char *token)
{
  struct dsr_buf b = {0};
  if (!dsr_buf_puts(&b, base) || !dsr_jpos_append(&b, token)) {
    dsr_buf_free(&b);
    return NULL;
  }
  return dsr_buf_steal(&b);
}

char *pptr_i(const char *base, size_t i)
{
  return dsr_asprintf("%s/%zu", base, i);
}

bool pone_of(const char *s, const char *const *names, int *idx)
{
  for (int i = 0; s && names[i]; i++)
    if (!strcmp(s, names[i])) {
      if (idx)
        *idx = i;
      return true;
    }
  return false;
}

void pjoin(const char *const *names, char *out, size_t outlen)
{
  size_t used = 0;
  out[0] = '\0';
  for (int i = 0; names[i]; i++) {
    int n = snprintf(out + used, outlen - used, "%s%s", i ? ", " : "", names[i]);
    if (n < 0 || (size_t)n >= outlen - used)
      return;
    used += (size_t)n;
  }
}

bool dsr_duration_parse(const char *s, long long *seconds)
{
  static const struct {
    const char *unit;
    long long secs;
  } units[] = {{"second", 1},       {"minute", 60},          {"hour", 3600},
               {"day", 86400},      {"week", 7 * 86400LL},   {"month", 30 * 86400LL},
               {"year", 365 * 86400LL}};
  if (!s || !isdigit((unsigned char)*s))
    return false;
  char *end = NULL;
  long long n = strtoll(s, &end, 10);
  if (n <= 0 || n > 100000 || *end != ' ')
    return false;
  const char *u = end + 1;
  size_t ulen = strlen(u);
  if (ulen > 1 && u[ulen - 1] == 's')
    ulen--;
  for (size_t i = 0; i < DSR_ARRAY_LEN(units); i++)
    if (strlen(units[i].unit) == ulen && !strncmp(u, units[i].unit, ulen)) {
      if (seconds)
        *seconds = n * units[i].secs;
      return true;
    }
  return false;
}

static const char *type_name(enum pt t)
{
  switch (t) {
  case PT_STR: return "a non-empty string";
  case PT_INT: return "an integer";
  case PT_BOOL: return "true or false";
  case PT_OBJ: return "an object";
  case PT_ARR: return "an array";
  case PT_STRARR: return "an array of non-empty strings";
  case PT_DUR: return "an interval such as \"90 days\"";
  case PT_NAMES: return "a column name or an array of 1 to 4 column names";
  case PT_ANY: break;
  }
  return "a value";
}

static bool type_ok(const json_t *v, enum pt t)
{
  switch (t) {
  case PT_STR: return json_is_string(v) && json_string_length(v) > 0;
  case PT_INT: return json_is_integer(v);
  case PT_BOOL: return json_is_boolean(v);
  case PT_OBJ: return json_is_object(v);
  case PT_ARR: return json_is_array(v);
  case PT_STRARR: {
    if (!json_is_array(v))
      return false;
    size_t i;
    const json_t *e;
    json_array_foreach(v, i, e) if (!json_is_string(e) || json_string_length(e) == 0) return false;
    return true;
  }
  case PT_DUR: return json_is_string(v) && dsr_duration_parse(json_string_value(v), NULL);
  case PT_NAMES:
    if (json_is_string(v))
      return json_string_length(v) > 0;
    return type_ok(v, PT_STRARR) && json_array_size(v) >= 1 && json_array_size(v) <= DSR_KEY_MAX;
  case PT_ANY: return true;
  }
  return false;
}

bool pcheck_obj(struct pctx *c, const json_t *obj, const char *ptr, const struct pkey *spec,
                const char *what)
{
  if (!json_is_object(obj)) {
    pdiag(c, DSR_DIAG_ERROR, ptr, false, "%s must be an object (expected {...})", what);
    return false;
  }
  const char *k;
  const json_t *v;
  json_object_foreach((json_t *)obj, k, v) {
    const struct pkey *hit = NULL;
    for (const struct pkey *s = spec; s->name; s++)
      if (!strcmp(s->name, k))
        hit = s;
    char *kp = pptr(ptr, k);
    if (!hit) {
      struct dsr_buf names = {0};
      bool ok = true;
      for (const struct pkey *s = spec; ok && s->name; s++)
        ok = dsr_buf_printf(&names, "%s%s", s == spec ? "" : ", ", s->name);
      pdiag(c, DSR_DIAG_ERROR, kp, true, "unknown key in %s (expected one of: %s)", what,
            ok && names.data ? names.data : "?");
      dsr_buf_free(&names);
    } else if (!type_ok(v, hit->type)) {
      if (hit->type == PT_DUR && json_is_string(v))
        pdiag(c, DSR_DIAG_ERROR, kp, false, "bad duration \"%s\" (expected %s)",
              json_string_value(v), type_name(hit->type));
      else
        pdiag(c, DSR_DIAG_ERROR, kp, false, "wrong type (expected %s)", type_name(hit->type));
    }
    free(kp);
  }
  for (const struct pkey *s = spec; s->name; s++)
    if (s->required && !json_object_get(obj, s->name))
      pdiag(c, DSR_DIAG_ERROR, ptr, false, "missing required key \"%s\" in %s", s->name, what);
  return true;
}

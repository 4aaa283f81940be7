/**
 * @file jpos.c
 * @brief JSON position index: a recursive-descent scanner that records, for
 *        every value, its JSON pointer and where it (and its key) starts.
 *        It accepts exactly RFC 8259 JSON; anything else fails the index.
 */
#include "config.h"
#include "dsr/jpos.h"

#include <stdlib.h>
#include <string.h>

#define JPOS_MAX_DEPTH 256

struct jpos_entry {
  char *pointer;
  struct dsr_jpos_at key; /* line 0 when the value is not an object member */
  struct dsr_jpos_at val;
};

struct dsr_jpos {
  struct jpos_entry *v;
  size_t n, cap;
  long dup; /* index of the first duplicated member, or -1 */
};

struct scan {
  const char *s;
  size_t len, i;
  int line, col;
  struct dsr_jpos *ix;
  struct dsr_buf ptr;
  int depth;
};

/* True when a member with the current pointer was already recorded since
 * entry @p from (the start of the enclosing object). */
static bool seen(const struct scan *sc, size_t from)
{
  for (size_t k = from; k < sc->ix->n; k++)
    if (!strcmp(sc->ix->v[k].pointer, sc->ptr.data))
      return true;
  return false;
}

static void adv(struct scan *sc)
{
  unsigned char c = (unsigned char)sc->s[sc->i++];
  if (c == '\n') {
    sc->line++;
    sc->col = 1;
  } else if ((c & 0xC0) != 0x80) {
    sc->col++;
  }
}

static void skip_ws(struct scan *sc)
{
  while (sc->i < sc->len && strchr(" \t\r\n", sc->s[sc->i]) && sc->s[sc->i])
    adv(sc);
}

static bool add(struct scan *sc, struct dsr_jpos_at key, struct dsr_jpos_at val)
{
  struct dsr_jpos *ix = sc->ix;
  if (ix->n == ix->cap) {
    size_t ncap = ix->cap ? ix->cap * 2 : 64;
    struct jpos_entry *nv = realloc(ix->v, ncap * sizeof *nv);
    if (!nv)
      return false;
    ix->v = nv;
    ix->cap = ncap;
  }
  char *p = strdup(sc->ptr.data ? sc->ptr.data : "");
  if (!p)
    return false;
  ix->v[ix->n++] = (struct jpos_entry){p, key, val};
  return true;
}

/* Scans a string; when @p out is given, appends its decoded bytes (escapes
 * other than \uXXXX decoded; \uXXXX kept verbatim, enough for pointers). */
static bool scan_string(struct scan *sc, struct dsr_buf *out)
{
  if (sc->i >= sc->len || sc->s[sc->i] != '"')
    return false;
  adv(sc);
  while (sc->i < sc->len) {
    unsigned char c = (unsigned char)sc->s[sc->i];
    if (c == '"') {
      adv(sc);
      return true;
    }
    if (c < 0x20)
      return false;
    if (c == '\\') {
      adv(sc);
      if (sc->i >= sc->len)
        return false;
      char e = sc->s[sc->i];
      const char *from = "\"\\/bfnrt";
      const char *to = "\"\\/\b\f\n\r\t";
      const char *hit = strchr(from, e);
      if (e == 'u') {
        if (sc->i + 4 >= sc->len)
          return false;
        for (int k = 1; k <= 4; k++)
          if (!strchr("0123456789abcdefABCDEF", sc->s[sc->i + (size_t)k]) || !sc->s[sc->i + (size_t)k])
            return false;
        if (out && (!dsr_buf_append(out, "\\", 1) || !dsr_buf_append(out, sc->s + sc->i, 5)))
          return false;
        for (int k = 0; k < 5; k++)
          adv(sc);
        continue;
      }
      if (!hit || !e)
        return false;
      if (out && !dsr_buf_append(out, to + (hit - from), 1))
        return false;
      adv(sc);
      continue;
    }
    if (out && !dsr_buf_append(out, &sc->s[sc->i], 1))
      return false;
    adv(sc);
  }
  return false;
}

static bool scan_number(struct scan *sc)
{
  size_t start = sc->i;
  if (sc->i < sc->len && sc->s[sc->i] == '-')
    adv(sc);
  if (sc->i >= sc->len)
    return false;
  if (sc->s[sc->i] == '0') {
    adv(sc);
  } else if (sc->s[sc->i] >= '1' && sc->s[sc->i] <= '9') {
    while (sc->i < sc->len && sc->s[sc->i] >= '0' && sc->s[sc->i] <= '9')
      adv(sc);
  } else {
    return false;
  }
  if (sc->i < sc->len && sc->s[sc->i] == '.') {
    adv(sc);
    size_t d = sc->i;
    while (sc->i < sc->len && sc->s[sc->i] >= '0' && sc->s[sc->i] <= '9')
      adv(sc);
    if (sc->i == d)
      return false;
  }
  if (sc->i < sc->len && (sc->s[sc->i] == 'e' || sc->s[sc->i] == 'E')) {
    adv(sc);
    if (sc->i < sc->len && (sc->s[sc->i] == '+' || sc->s[sc->i] == '-'))
      adv(sc);
    size_t d = sc->i;
    while (sc->i < sc->len && sc->s[sc->i] >= '0' && sc->s[sc->i] <= '9')
      adv(sc);
    if (sc->i == d)
      return false;
  }
  return sc->i > start;
}

static bool scan_literal(struct scan *sc, const char *word)
{
  size_t n = strlen(word);
  if (sc->len - sc->i < n || memcmp(sc->s + sc->i, word, n) != 0)
    return false;
  for (size_t k = 0; k < n; k++)
    adv(sc);
  return true;
}

static bool scan_value(struct scan *sc, struct dsr_jpos_at key);

static bool scan_object(struct scan *sc)
{
  size_t from = sc->ix->n;
  adv(sc); /* { */
  skip_ws(sc);
  if (sc->i < sc->len && sc->s[sc->i] == '}') {
    adv(sc);
    return true;
  }
  for (;;) {
    skip_ws(sc);
    struct dsr_jpos_at kpos = {sc->line, sc->col};
    struct dsr_buf name = {0};
    bool ok = scan_string(sc, &name);
    size_t saved = sc->ptr.len;
    ok = ok && dsr_jpos_append(&sc->ptr, name.data ? name.data : "");
    dsr_buf_free(&name);
    if (!ok)
      return false;
    if (sc->ix->dup < 0 && seen(sc, from))
      sc->ix->dup = (long)sc->ix->n; /* the entry scan_value() adds next */
    skip_ws(sc);
    if (sc->i >= sc->len || sc->s[sc->i] != ':')
      return false;
    adv(sc);
    if (!scan_value(sc, kpos))
      return false;
    sc->ptr.len = saved;
    sc->ptr.data[saved] = '\0';
    skip_ws(sc);
    if (sc->i >= sc->len)
      return false;
    if (sc->s[sc->i] == ',') {
      adv(sc);
      continue;
    }
    if (sc->s[sc->i] == '}') {
      adv(sc);
      return true;
    }
    return false;
  }
}

static bool scan_array(struct scan *sc)
{
  adv(sc); /* [ */
  skip_ws(sc);
  if (sc->i < sc->len && sc->s[sc->i] == ']') {
    adv(sc);
    return true;
  }
  for (size_t k = 0;; k++) {
    size_t saved = sc->ptr.len;
    if (!dsr_buf_printf(&sc->ptr, "/%zu", k))
      return false;
    if (!scan_value(sc, (struct dsr_jpos_at){0, 0}))
      return false;
    sc->ptr.len = saved;
    sc->ptr.data[saved] = '\0';
    skip_ws(sc);
    if (sc->i >= sc->len)
      return false;
    if (sc->s[sc->i] == ',') {
      adv(sc);
      continue;
    }
    if (sc->s[sc->i] == ']') {
      adv(sc);
      return true;
    }
    return false;
  }
}

static bool scan_value(struct scan *sc, struct dsr_jpos_at key)
{
  skip_ws(sc);
  if (sc->i >= sc->len || ++sc->depth > JPOS_MAX_DEPTH)
    return false;
  if (!add(sc, key, (struct dsr_jpos_at){sc->line, sc->col}))
    return false;
  bool ok;
  switch (sc->s[sc->i]) {
  case '{': ok = scan_object(sc); break;
  case '[': ok = scan_array(sc); break;
  case '"': ok = scan_string(sc, NULL); break;
  case 't': ok = scan_literal(sc, "true"); break;
  case 'f': ok = scan_literal(sc, "false"); break;
  case 'n': ok = scan_literal(sc, "null"); break;
  default: ok = scan_number(sc); break;
  }
  sc->depth--;
  return ok;
}

struct dsr_jpos *dsr_jpos_index(const char *text, size_t len)
{
  struct dsr_jpos *ix = calloc(1, sizeof *ix);
  struct scan sc = {.s = text, .len = len, .line = 1, .col = 1, .ix = ix};
  if (!ix || !dsr_buf_puts(&sc.ptr, ""))
    goto fail;
  ix->dup = -1;
  if (!scan_value(&sc, (struct dsr_jpos_at){0, 0}))
    goto fail;
  skip_ws(&sc);
  if (sc.i != sc.len)
    goto fail;
  dsr_buf_free(&sc.ptr);
  return ix;
fail:
  dsr_buf_free(&sc.ptr);
  dsr_jpos_free(ix);
  return NULL;
}

void dsr_jpos_free(struct dsr_jpos *ix)
{
  if (!ix)
    return;
  for (size_t k = 0; k < ix->n; k++)
    free(ix->v[k].pointer);
  free(ix->v);
  free(ix);
}

bool dsr_jpos_duplicate(const struct dsr_jpos *ix, const char **pointer, struct dsr_jpos_at *at)
{
  if (!ix || ix->dup < 0)
    return false;
  *pointer = ix->v[ix->dup].pointer;
  *at = ix->v[ix->dup].key;
  return true;
}

size_t dsr_jpos_count(const struct dsr_jpos *ix)
{
  return ix ? ix->n : 0;
}

bool dsr_jpos_find(const struct dsr_jpos *ix, const char *pointer, bool want_key,
                   struct dsr_jpos_at *out)
{
  if (!ix || !pointer)
    return false;
  size_t plen = strlen(pointer);
  for (;;) {
    for (size_t k = 0; k < ix->n; k++) {
      const struct jpos_entry *e = &ix->v[k];
      if (strlen(e->pointer) == plen && memcmp(e->pointer, pointer, plen) == 0) {
        *out = (want_key && e->key.line) ? e->key : e->val;
        return true;
      }
    }
    if (plen == 0)
      return false;
    while (plen > 0 && pointer[plen - 1] != '/')
      plen--;
    if (plen > 0)
      plen--; /* drop the '/' too */
    want_key = false;
  }
}

bool dsr_jpos_append(struct dsr_buf *pointer, const char *token)
{
  if (!dsr_buf_append(pointer, "/", 1))
    return false;
  for (const char *c = token; *c; c++) {
    const char *rep = *c == '~' ? "~0" : *c == '/' ? "~1" : NULL;
    if (rep ? !dsr_buf_puts(pointer, rep) : !dsr_buf_append(pointer, c, 1))
      return false;
  }
  return true;
}

/** @file template.c @brief The mustache-style renderer (see template.h). */
#include "config.h"
#include "dsr/template.h"
#include "dsr/embedded.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_STACK 32    /* nested sections */
#define MAX_PARTIALS 8  /* nested partials: deeper means a cycle */
#define MAX_NAME 128

/** One render: output, context stack and the first error. */
struct rctx {
  struct dsr_buf out;
  const json_t *stack[MAX_STACK];
  int sp;
  int partial_depth;
  const char *lang;
  char *err;
  size_t errlen;
  bool failed;
};

/** The template being walked: its label (for errors) and its whole text. */
struct src {
  const char *label;
  const char *text;
};

enum tag_kind { TAG_VAR, TAG_RAW, TAG_SECTION, TAG_INVERTED, TAG_CLOSE, TAG_COMMENT, TAG_PARTIAL };

struct tag {
  enum tag_kind kind;
  size_t start; /* offset of "{{" */
  size_t end;   /* offset just past the closing braces */
  char name[MAX_NAME];
};

static bool fail(struct rctx *c, const struct src *s, size_t at, const char *fmt, ...)
    DSR_PRINTF(4, 5);

static bool fail(struct rctx *c, const struct src *s, size_t at, const char *fmt, ...)
{
  if (c->failed)
    return false;
  c->failed = true;
  int line = 1;
  for (size_t i = 0; i < at && s->text[i]; i++)
    line += s->text[i] == '\n';
  char msg[256];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  snprintf(c->err, c->errlen, "template %s line %d: %s", s->label, line, msg);
  return false;
}

bool dsr_html_escape(struct dsr_buf *b, const char *s)
{
  for (const char *p = s; *p; p++) {
    const char *rep = NULL;
    switch (*p) {
    case '&': rep = "&amp;"; break;
    case '<': rep = "&lt;"; break;
    case '>': rep = "&gt;"; break;
    case '"': rep = "&quot;"; break;
    case '\'': rep = "&#39;"; break;
    default: break;
    }
    if (!(rep ? dsr_buf_puts(b, rep) : dsr_buf_append(b, p, 1)))
      return false;
  }
  return true;
}

static bool is_blank(char ch)
{
  return ch == ' ' || ch == '\t' || ch == '\r';
}

/*
 * Finds the next tag at or after @p from (before @p to). Returns 0 when there
 * is none, 1 with *t filled, -1 after an error.
 */
static int next_tag(struct rctx *c, const struct src *s, size_t from, size_t to, struct tag *t)
{
  const char *text = s->text;
  const char *open = NULL;
  for (size_t i = from; i + 1 < to; i++)
    if (text[i] == '{' && text[i + 1] == '{') {
      open = text + i;
      break;
    }
  if (!open)
    return 0;
  t->start = (size_t)(open - text);
  const char *p = open + 2;
  const char *close_seq = "}}";
  t->kind = TAG_VAR;
  switch (*p) {
  case '{': t->kind = TAG_RAW; close_seq = "}}}"; p++; break;
  case '&': t->kind = TAG_RAW; p++; break;
  case '#': t->kind = TAG_SECTION; p++; break;
  case '^': t->kind = TAG_INVERTED; p++; break;
  case '/': t->kind = TAG_CLOSE; p++; break;
  case '!': t->kind = TAG_COMMENT; p++; break;
  case '>': t->kind = TAG_PARTIAL; p++; break;
  case '=': return fail(c, s, t->start, "changing delimiters is not supported") ? 0 : -1;
  default: break;
  }
  const char *end = strstr(p, close_seq);
  if (!end || (size_t)(end - text) + strlen(close_seq) > to)
    return fail(c, s, t->start, "unclosed tag") ? 0 : -1;
  t->end = (size_t)(end - text) + strlen(close_seq);
  if (t->kind == TAG_COMMENT) {
    t->name[0] = '\0';
    return 1;
  }
  while (p < end && is_blank(*p))
    p++;
  const char *q = end;
  while (q > p && is_blank(q[-1]))
    q--;
  size_t n = (size_t)(q - p);
  if (n == 0)
    return fail(c, s, t->start, "empty tag name") ? 0 : -1;
  if (n >= MAX_NAME)
    return fail(c, s, t->start, "tag name too long") ? 0 : -1;
  for (size_t i = 0; i < n; i++) {
    char ch = p[i];
    bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '_' || ch == '.' || ch == '-';
    if (!ok)
      return fail(c, s, t->start, "invalid character in tag name") ? 0 : -1;
  }
  memcpy(t->name, p, n);
  t->name[n] = '\0';
  return 1;
}

/*
 * A section, close, comment or partial tag alone on its line: the line goes.
 * On true, *ls is where that line starts and *le just past its newline.
 */
static bool standalone(const struct src *s, const struct tag *t, size_t lower, size_t to,
                       size_t *ls, size_t *le)
{
  if (t->kind == TAG_VAR || t->kind == TAG_RAW)
    return false;
  size_t i = t->start;
  while (i > lower && is_blank(s->text[i - 1]))
    i--;
  if (i > lower && s->text[i - 1] != '\n')
    return false;
  if (i == lower && lower > 0 && s->text[lower - 1] != '\n')
    return false;
  size_t j = t->end;
  while (j < to && is_blank(s->text[j]))
    j++;
  if (j < to && s->text[j] != '\n')
    return false;
  *ls = i;
  *le = j < to ? j + 1 : j;
  return true;
}

/* Resolves a (dotted) name against the context stack; NULL when missing. */
static const json_t *lookup(const struct rctx *c, const char *name)
{
  if (!strcmp(name, "."))
    return c->sp > 0 ? c->stack[c->sp - 1] : NULL;
  char first[MAX_NAME];
  const char *dot = strchr(name, '.');
  size_t fl = dot ? (size_t)(dot - name) : strlen(name);
  memcpy(first, name, fl);
  first[fl] = '\0';
  const json_t *v = NULL;
  for (int i = c->sp - 1; i >= 0 && !v; i--)
    if (json_is_object(c->stack[i]))
      v = json_object_get(c->stack[i], first);
  while (v && dot) {
    const char *part = dot + 1;
    dot = strchr(part, '.');
    size_t pl = dot ? (size_t)(dot - part) : strlen(part);
    if (pl == 0 || pl >= MAX_NAME || !json_is_object(v))
      return NULL;
    char key[MAX_NAME];
    memcpy(key, part, pl);
    key[pl] = '\0';
    v = json_object_get(v, key);
  }
  return v;
}

static bool truthy(const json_t *v)
{
  if (!v || json_is_null(v) || json_is_false(v))
    return false;
  if (json_is_array(v))
    return json_array_size(v) > 0;
  if (json_is_string(v))
    return json_string_length(v) > 0;
  return true;
}

static bool put_value(struct rctx *c, const json_t *v, bool escape)
{
  char num[64];
  const char *text = NULL;
  if (json_is_string(v))
    text = json_string_value(v);
  else if (json_is_integer(v)) {
    snprintf(num, sizeof num, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
    text = num;
  } else if (json_is_real(v)) {
    snprintf(num, sizeof num, "%.15g", json_real_value(v));
    text = num;
  } else if (json_is_true(v))
    text = "true";
  if (!text)
    return true; /* missing, null, false, objects and arrays render as nothing */
  return escape ? dsr_html_escape(&c->out, text) : dsr_buf_puts(&c->out, text);
}

static bool render_range(struct rctx *c, const struct src *s, size_t from, size_t to);

/* Finds the close tag matching the section opened by @p open. */
static bool find_close(struct rctx *c, const struct src *s, const struct tag *open, size_t to,
                       struct tag *close)
{
  int depth = 0;
  size_t pos = open->end;
  for (;;) {
    int k = next_tag(c, s, pos, to, close);
    if (k < 0)
      return false;
    if (k == 0)
      return fail(c, s, open->start, "section \"%s\" is never closed", open->name);
    pos = close->end;
    if (close->kind == TAG_SECTION || close->kind == TAG_INVERTED) {
      if (++depth > 64)
        return fail(c, s, close->start, "sections nested too deeply");
    } else if (close->kind == TAG_CLOSE) {
      if (depth == 0) {
        if (strcmp(close->name, open->name) != 0)
          return fail(c, s, close->start, "\"%s\" closes section \"%s\"", close->name,
                      open->name);
        return true;
      }
      depth--;
    }
  }
}

static bool push(struct rctx *c, const struct src *s, size_t at, const json_t *v)
{
  if (c->sp >= MAX_STACK)
    return fail(c, s, at, "sections nested too deeply");
  c->stack[c->sp++] = v;
  return true;
}

static bool render_section(struct rctx *c, const struct src *s, const struct tag *open,
                           size_t inner_from, size_t inner_to)
{
  const json_t *v = lookup(c, open->name);
  bool on = truthy(v);
  if (open->kind == TAG_INVERTED)
    return on ? true : render_range(c, s, inner_from, inner_to);
  if (!on)
    return true;
  if (json_is_array(v)) {
    size_t i;
    const json_t *item;
    json_array_foreach(v, i, item)
    {
      if (!push(c, s, open->start, item))
        return false;
      bool ok = render_range(c, s, inner_from, inner_to);
      c->sp--;
      if (!ok)
        return false;
    }
    return true;
  }
  if (!push(c, s, open->start, v))
    return false;
  bool ok = render_range(c, s, inner_from, inner_to);
  c->sp--;
  return ok;
}

static bool render_partial(struct rctx *c, const struct src *s, const struct tag *t)
{
  if (c->partial_depth >= MAX_PARTIALS)
    return fail(c, s, t->start, "partials nested too deeply (a cycle?)");
  const char *chosen = NULL;
  const char *text = dsr_template_find(t->name, c->lang, &chosen);
  if (!text)
    return fail(c, s, t->start, "no partial named \"%s\"", t->name);
  struct src ps = {.label = chosen, .text = text};
  c->partial_depth++;
  bool ok = render_range(c, &ps, 0, strlen(text));
  c->partial_depth--;
  return ok;
}

static bool render_range(struct rctx *c, const struct src *s, size_t from, size_t to)
{
  size_t pos = from;
  for (;;) {
    struct tag t;
    int k = next_tag(c, s, pos, to, &t);
    if (k < 0)
      return false;
    if (k == 0)
      return dsr_buf_append(&c->out, s->text + pos, to - pos);
    size_t ls, le;
    bool alone = standalone(s, &t, from, to, &ls, &le);
    size_t lit_end = alone ? ls : t.start;
    size_t after = alone ? le : t.end;
    if (!dsr_buf_append(&c->out, s->text + pos, lit_end - pos))
      return false;
    switch (t.kind) {
    case TAG_VAR:
    case TAG_RAW:
      if (!put_value(c, lookup(c, t.name), t.kind == TAG_VAR))
        return false;
      break;
    case TAG_COMMENT:
      break;
    case TAG_PARTIAL:
      if (!render_partial(c, s, &t))
        return false;
      break;
    case TAG_CLOSE:
      return fail(c, s, t.start, "\"%s\" closes a section that is not open", t.name);
    case TAG_SECTION:
    case TAG_INVERTED: {
      struct tag close;
      if (!find_close(c, s, &t, to, &close))
        return false;
      size_t cls, cle;
      bool close_alone = standalone(s, &close, after, to, &cls, &cle);
      if (!render_section(c, s, &t, after, close_alone ? cls : close.start))
        return false;
      after = close_alone ? cle : close.end;
      break;
    }
    }
    pos = after;
  }
}

static bool render_text(const char *label, const char *text, const char *lang, const json_t *ctx,
                        char **out, char *err, size_t errlen)
{
  struct rctx c = {.lang = lang ? lang : "en", .err = err, .errlen = errlen};
  struct src s = {.label = label, .text = text};
  *out = NULL;
  if (ctx)
    c.stack[c.sp++] = ctx;
  bool ok = render_range(&c, &s, 0, strlen(text));
  if (!ok && !c.failed)
    snprintf(err, errlen, "template %s: out of memory", label);
  if (!ok) {
    dsr_buf_free(&c.out);
    return false;
  }
  *out = dsr_buf_steal(&c.out);
  if (!*out) {
    snprintf(err, errlen, "template %s: out of memory", label);
    return false;
  }
  return true;
}

bool dsr_template_render_text(const char *label, const char *text, const char *lang,
                              const json_t *ctx, char **out, char *err, size_t errlen)
{
  return render_text(label, text, lang, ctx, out, err, errlen);
}

static const struct dsr_embedded_file *find_file(const char *file)
{
  for (const struct dsr_embedded_file *f = dsr_templates; f->name; f++)
    if (!strcmp(f->name, file))
      return f;
  return NULL;
}

/* Tries stem.LANG.ext; fills *chosen on a hit. */
static const char *try_lang(const char *stem, size_t stem_len, const char *ext, const char *lang,
                            size_t lang_len, const char **chosen)
{
  char file[256];
  int n = snprintf(file, sizeof file, "%.*s.%.*s%s", (int)stem_len, stem, (int)lang_len, lang,
                   ext);
  if (n < 0 || (size_t)n >= sizeof file)
    return NULL;
  const struct dsr_embedded_file *f = find_file(file);
  if (!f)
    return NULL;
  if (chosen)
    *chosen = f->name;
  return f->text;
}

const char *dsr_template_find(const char *name, const char *lang, const char **chosen)
{
  const char *dot = strrchr(name, '.');
  if (!dot || dot == name)
    return NULL;
  size_t stem_len = (size_t)(dot - name);
  if (!lang || !*lang)
    lang = "en";
  size_t lang_len = strlen(lang);
  const char *t = try_lang(name, stem_len, dot, lang, lang_len, chosen);
  const char *dash = strchr(lang, '-');
  if (!t && dash)
    t = try_lang(name, stem_len, dot, lang, (size_t)(dash - lang), chosen);
  if (!t)
    t = try_lang(name, stem_len, dot, "en", 2, chosen);
  return t;
}

bool dsr_template_render(const char *name, const char *lang, const json_t *ctx, char **out,
                         char *err, size_t errlen)
{
  const char *chosen = NULL;
  const char *text = dsr_template_find(name, lang, &chosen);
  *out = NULL;
  if (!text) {
    snprintf(err, errlen, "no template named %.100s", name);
    return false;
  }
  return render_text(chosen, text, lang, ctx, out, err, errlen);
}

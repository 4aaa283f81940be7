/**
 * @file report_csv.c
 * @brief The report as CSV (RFC 4180): columns section,item,field,value.
 *        section is the top-level key; item names an element of a list (its
 *        first member's value, e.g. a customer id) and is empty otherwise;
 *        field is the dotted path inside; value is the number (fractions
 *        rounded: 3 decimals below 10, else 1) or text (empty for null). Every JSON leaf appears exactly once.
 */
#include "config.h"
#include "dsr/report.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/** One cell; @p text cells that a spreadsheet would run as a formula are kept text. */
static bool cell(struct dsr_buf *b, const char *s, bool text)
{
  bool quote = strpbrk(s, ",\"\r\n") != NULL;
  bool guard = text && (s[0] == '=' || s[0] == '+' || s[0] == '-' || s[0] == '@');
  if (!quote && !guard)
    return dsr_buf_puts(b, s);
  if (!dsr_buf_puts(b, guard ? "\"'" : "\""))
    return false;
  for (const char *p = s; *p; p++)
    if (!(*p == '"' ? dsr_buf_puts(b, "\"\"") : dsr_buf_append(b, p, 1)))
      return false;
  return dsr_buf_puts(b, "\"");
}

static bool value_text(const json_t *v, char *num, size_t numlen, const char **out)
{
  switch (json_typeof(v)) {
  case JSON_STRING:
    *out = json_string_value(v);
    return true;
  case JSON_INTEGER:
    snprintf(num, numlen, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
    break;
  case JSON_REAL: { /* figures as people read them: 0.894, 89.4, 734400 (JSON keeps all digits) */
    double d = json_real_value(v);
    snprintf(num, numlen, fabs(d) < 10 ? "%.3f" : "%.1f", d);
    char *dot = strchr(num, '.');
    if (dot) {
      char *end = num + strlen(num);
      while (end > dot + 1 && end[-1] == '0')
        *--end = '\0';
      if (end == dot + 1)
        *dot = '\0';
    }
    if (!strcmp(num, "-0"))
      snprintf(num, numlen, "0");
    break;
  }
  case JSON_TRUE:
  case JSON_FALSE:
    snprintf(num, numlen, "%s", json_is_true(v) ? "true" : "false");
    break;
  default:
    num[0] = '\0';
    break;
  }
  *out = num;
  return true;
}

static bool row(struct dsr_buf *b, const char *section, const char *item, const char *field,
                const json_t *v)
{
  char num[64];
  const char *text;
  return value_text(v, num, sizeof num, &text) && cell(b, section, true) &&
         dsr_buf_puts(b, ",") && cell(b, item, true) && dsr_buf_puts(b, ",") &&
         cell(b, field, true) && dsr_buf_puts(b, ",") && cell(b, text, json_is_string(v)) &&
         dsr_buf_puts(b, "\r\n");
}

static bool walk(struct dsr_buf *b, const char *section, const char *item, const char *path,
                 const json_t *v);

static bool walk_object(struct dsr_buf *b, const char *section, const char *item,
                        const char *path, const json_t *v, const char *skip)
{
  const char *k;
  json_t *child;
  json_object_foreach((json_t *)v, k, child)
  {
    if (skip && !strcmp(k, skip))
      continue;
    char *sub = *path ? dsr_asprintf("%s.%s", path, k) : dsr_asprintf("%s", k);
    bool ok = sub && walk(b, section, item, sub, child);
    free(sub);
    if (!ok)
      return false;
  }
  return true;
}

static bool walk(struct dsr_buf *b, const char *section, const char *item, const char *path,
                 const json_t *v)
{
  if (json_is_object(v))
    return walk_object(b, section, item, path, v, NULL);
  if (!json_is_array(v))
    return row(b, section, item, path, v);
  /* A list of records: each is named by its first member, which is not repeated. */
  size_t i;
  json_t *el;
  json_array_foreach(v, i, el)
  {
    void *it = json_object_iter(el);
    if (!it)
      return false; /* the report has lists of objects only */
    char num[64];
    const char *id;
    if (!value_text(json_object_iter_value(it), num, sizeof num, &id))
      return false;
    char *name = *path ? dsr_asprintf("%s.%s", path, id) : dsr_asprintf("%s", id);
    bool ok = name && walk_object(b, section, name, "", el, json_object_iter_key(it));
    free(name);
    if (!ok)
      return false;
  }
  return true;
}

char *dsr_report_csv(const json_t *report)
{
  struct dsr_buf b = {0};
  bool ok = dsr_buf_puts(&b, "section,item,field,value\r\n");
  const char *k;
  json_t *v;
  json_object_foreach((json_t *)report, k, v)
  {
    if (!ok)
      break;
    ok = json_is_object(v) || json_is_array(v) ? walk(&b, k, "", "", v) : row(&b, k, "", "", v);
  }
  if (!ok) {
    dsr_buf_free(&b);
    return NULL;
  }
  return dsr_buf_steal(&b);
}

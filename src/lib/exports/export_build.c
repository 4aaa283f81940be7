/**
 * @file export_build.c
 * @brief The package writer (see export.h): each collection the plan
 *        reaches is read once, through one server-side cursor over every
 *        included part, one page at a time: each row goes into data.json,
 *        and its CSV form and its file paths into encrypted spools
 *        (export_spool.c); then each collection's CSV is copied from its
 *        spool, the subject's files are copied block by block, the summary
 *        is rendered and the manifest (counts and SHA-256 of every entry)
 *        closes the ZIP. data.json goes first because it is the larger
 *        form (its keys are repeated on every row): the spool, and the
 *        entries written after the rows are read, are the smaller ones.
 *        Everything is read in one REPEATABLE READ READ ONLY transaction,
 *        so it all comes from the same snapshot; with
 *        a keyed plan (dsr_plan_build_access_keyed) the cursor is declared
 *        once per collection over the session's tables the plan wrote, so
 *        the rows are those its counts counted.
 */
#include "config.h"
#include "export_int.h"
#include "dsr/filepath.h"
#include "dsr/embedded.h"
#include "dsr/template.h"
#include "dsr/timefmt.h"
#include "dsr/words.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CURSOR "dsr_export_cursor"

struct xb {
  const struct dsr_export_spec *sp;
  PGconn *conn;
  struct xzip z;
  char err[256];
  json_t *colls; /**< manifest collections [{name, label, rows, files}] */
  long long rows, files, missing;
  json_t *missing_why; /**< files left out: [{collection, label, column, reason, files}] (owned) */
  struct xspool *csvs;  /**< CSV rows of every collection, in order (owned) */
  struct xspool *media; /**< media records {file index, length, path} (owned) */
  struct dsr_buf jrow;  /**< the data.json text of the current row (owned) */
  struct dsr_buf jkeys; /**< the current collection's data.json keys, escaped (owned) */
  struct dsr_buf crow;  /**< the CSV text of the current row (owned) */
  /** per included collection, in b->colls order: what the spools hold (owned) */
  struct {
    long long csv_bytes, media;
  } *spooled;
  /**
   * per included collection, in b->colls order, what the summary for people
   * lists: {"records": [[{label, value | items}]], "more": n, "media":
   * [{path, date}], "more_media": n}; at most summary_rows of each (owned)
   */
  json_t *shown;
};

/* Rows (and files) the summary lists per collection; the rest is counted. */
static long summary_cap(const struct xb *b)
{
  return b->sp->summary_rows > 0 ? b->sp->summary_rows : 50;
}

/* Columns the package shows for @p c: portable fields, export fields, or all. */
static size_t out_columns(const struct xb *b, const struct dsr_pcollection *c, const char **out,
                          size_t max)
{
  size_t n = 0;
  if (b->sp->kind == DSR_EXPORT_PORTABILITY) {
    for (size_t i = 0; i < c->nportable && n < max; i++)
      out[n++] = c->portable[i];
  } else if (c->export_fields) {
    const char *k;
    const json_t *v;
    json_object_foreach((json_t *)c->export_fields, k, v) {
      if (n < max)
        out[n++] = k;
    }
  } else {
    for (size_t i = 0; i < c->ncolumns && n < max; i++)
      out[n++] = c->columns[i].name;
  }
  return n;
}

static const char *field_label(const struct dsr_pcollection *c, const char *col)
{
  const char *l = c->export_fields ? json_string_value(json_object_get(c->export_fields, col))
                                   : NULL;
  return l ? l : col;
}

/* The label people read for @p col: the policy's (export.fields), else the column's name in
 * words ("created_at" -> "Created at"). Caller frees. */
static char *human_field(const struct dsr_pcollection *c, const char *col)
{
  const char *l = field_label(c, col);
  char *h = strdup(l);
  if (!h || l != col)
    return h;
  for (char *q = h; *q; q++)
    if (*q == '_')
      *q = ' ';
  if (h[0] >= 'a' && h[0] <= 'z')
    h[0] = (char)(h[0] - 'a' + 'A');
  return h;
}

static bool included(const struct xb *b, const struct dsr_pcollection *c)
{
  if (b->sp->kind == DSR_EXPORT_PORTABILITY && c->nportable == 0)
    return false;
  const struct dsr_plan *p = b->sp->plan;
  for (size_t i = 0; i < p->nparts; i++)
    for (size_t k = 0; b->sp->include[i] && k < p->parts[i].nsteps; k++)
      if (p->parts[i].steps[k].coll == c && p->parts[i].steps[k].verb == DSR_STEP_SELECT)
        return true;
  return false;
}

/* The package's cursor over the plan's export_sql, or (keyed plans) over each of its
 * export_colls in turn: every included row, by collection, one page at a time. */
struct xcur {
  PGresult *r; /**< the current page (owned) */
  int row, nt;
  bool last;  /**< the current page is the last of the current statement */
  bool ended; /**< every statement is read */
  bool pending; /**< the next page is asked for (sent, its result not read yet) */
  long page;
  size_t next;         /**< the export_colls statement to declare next */
  struct dsr_buf lit;  /**< the included parts' tenants, a text[] literal (owned) */
  bool with_null;      /**< the controller part is included */
};

/* Declares the cursor over @p sql, its parameters the tenants of the included parts. */
static bool xcur_declare(struct xb *b, struct xcur *xc, const char *sql,
                         const struct dsr_plan_param *params, size_t nparams)
{
  char *decl = sql ? dsr_asprintf("DECLARE " CURSOR " NO SCROLL CURSOR FOR %s", sql) : NULL;
  const char **vals = decl ? calloc(nparams + 1, sizeof *vals) : NULL;
  for (size_t j = 0; vals && j < nparams; j++) {
    const struct dsr_plan_param *pp = &params[j];
    vals[j] = !strcmp(pp->label, "tenants")       ? xc->lit.data
              : !strcmp(pp->label, "tenant_null") ? (xc->with_null ? "true" : "false")
                                                  : pp->value;
  }
  PGresult *r = vals ? PQexecParams(b->conn, decl, (int)nparams, NULL, vals, NULL, NULL, 0) : NULL;
  bool ok = r && PQresultStatus(r) == PGRES_COMMAND_OK;
  PQclear(r);
  free(decl);
  free(vals);
  if (!ok)
    snprintf(b->err, sizeof b->err, "reading the subject's rows failed");
  return ok;
}

/* Declares the cursor over the first statement. */
static bool xcur_open(struct xb *b, struct xcur *xc)
{
  const struct dsr_plan *p = b->sp->plan;
  bool ok = dsr_buf_puts(&xc->lit, "{");
  for (size_t i = 0; ok && i < p->nparts; i++) {
    if (!b->sp->include[i])
      continue;
    if (p->parts[i].tenant)
      ok = dsr_sql_array_add(&xc->lit, p->parts[i].tenant, xc->lit.len <= 1);
    else
      xc->with_null = true;
  }
  ok = ok && dsr_buf_puts(&xc->lit, "}");
  xc->page = b->sp->fetch_rows > 0 ? b->sp->fetch_rows : 1000;
  if (!ok) {
    snprintf(b->err, sizeof b->err, "out of memory");
    return false;
  }
  if (!p->export_colls)
    return xcur_declare(b, xc, p->export_sql, p->export_params, p->nexport_params);
  xc->ended = p->nexport_colls == 0;
  xc->next = 1;
  return xc->ended || xcur_declare(b, xc, p->export_colls[0].sql, p->export_colls[0].params,
                                   p->export_colls[0].nparams);
}

/* After the last page of a statement: the next statement's cursor, if any. */
static bool xcur_next(struct xb *b, struct xcur *xc)
{
  const struct dsr_plan *p = b->sp->plan;
  PQclear(xc->r);
  xc->r = NULL;
  PQclear(PQexec(b->conn, "CLOSE " CURSOR));
  if (!p->export_colls || xc->next >= p->nexport_colls) {
    xc->ended = true;
    return true;
  }
  const struct dsr_plan_export *e = &p->export_colls[xc->next++];
  return xcur_declare(b, xc, e->sql, e->params, e->nparams);
}

/* The result of the page asked for ahead (PQsendQuery), the connection left idle. */
static PGresult *xcur_result(struct xb *b)
{
  PGresult *r = PQgetResult(b->conn), *more;
  while ((more = PQgetResult(b->conn)) != NULL)
    PQclear(more);
  return r;
}

/* The collection (topo index) of the next row, fetching a page when needed;
 * -1 at the end, -2 on an error. */
static long xcur_peek(struct xb *b, struct xcur *xc)
{
  for (;;) {
    if (xc->ended)
      return -1;
    if (xc->r && xc->row < xc->nt)
      return atol(PQgetvalue(xc->r, xc->row, 0));
    if (xc->r && xc->last) {
      if (!xcur_next(b, xc))
        return -2;
      continue;
    }
    PQclear(xc->r);
    char fetch[64];
    snprintf(fetch, sizeof fetch, "FETCH FORWARD %ld FROM " CURSOR, xc->page);
    xc->r = xc->pending ? xcur_result(b) : PQexec(b->conn, fetch);
    xc->pending = false;
    if (PQresultStatus(xc->r) != PGRES_TUPLES_OK) {
      snprintf(b->err, sizeof b->err, "reading the subject's rows failed");
      return -2;
    }
    xc->row = 0;
    xc->nt = PQntuples(xc->r);
    xc->last = xc->nt < xc->page;
    /* the server reads the next page while this one is written (not sent: read in turn) */
    xc->pending = !xc->last && PQsendQuery(b->conn, fetch) == 1;
  }
}

static void xcur_close(struct xb *b, struct xcur *xc)
{
  PQclear(xc->r);
  xc->r = NULL;
  if (xc->pending) /* a page asked for ahead and not read: an error stopped the package */
    PQclear(xcur_result(b));
  if (!xc->ended)
    PQclear(PQexec(b->conn, "CLOSE " CURSOR));
  dsr_buf_free(&xc->lit);
}

/* Positions in the cursor's row of @p cols of @p c; false (message set) if one is not read. */
static bool column_index(struct xb *b, const struct dsr_pcollection *c, const char *const *cols,
                         size_t n, int *idx)
{
  const char *read[DSR_PLAN_MAX_COLUMNS];
  size_t nr = dsr_plan_access_columns(c, read, DSR_ARRAY_LEN(read));
  for (size_t j = 0; j < n; j++) {
    idx[j] = -1;
    for (size_t k = 0; k < nr && idx[j] < 0; k++)
      if (!strcmp(cols[j], read[k]))
        idx[j] = (int)k + 2; /* after the collection and the rank */
    if (idx[j] < 0) {
      snprintf(b->err, sizeof b->err, "collection %s: column %s is not read", c->name, cols[j]);
      return false;
    }
  }
  return true;
}

/* --- CSV (RFC 4180) ------------------------------------------------------- */

static bool csv_field(struct dsr_buf *o, const char *s, bool first)
{
  bool ok = first || dsr_buf_puts(o, ",");
  if (!strpbrk(s, ",\"\r\n"))
    return ok && dsr_buf_puts(o, s);
  ok = ok && dsr_buf_puts(o, "\"");
  for (const char *q; ok && (q = strchr(s, '"')); s = q + 1)
    ok = dsr_buf_append(o, s, (size_t)(q - s + 1)) && dsr_buf_puts(o, "\"");
  return ok && dsr_buf_puts(o, s) && dsr_buf_puts(o, "\"");
}

/* The CSV line of @p fields, into @p o (reset first). */
static bool csv_line(struct dsr_buf *o, const char *const *fields, size_t ncols)
{
  bool ok = true;
  dsr_buf_reset(o);
  for (size_t j = 0; ok && j < ncols; j++)
    ok = csv_field(o, fields[j], j == 0);
  return ok && dsr_buf_puts(o, "\r\n");
}

/* One row of the collection's CSV (at most 256 columns, as row_pass), into the spool; returns
 * its length or -1. */
static long long csv_row(struct xb *b, PGresult *r, int row, const int *idx, size_t ncols)
{
  const char *fields[256];
  for (size_t j = 0; j < ncols && j < DSR_ARRAY_LEN(fields); j++)
    fields[j] = PQgetisnull(r, row, idx[j]) ? "" : PQgetvalue(r, row, idx[j]);
  bool ok = ncols <= DSR_ARRAY_LEN(fields) && csv_line(&b->crow, fields, ncols) &&
            xspool_write(b->csvs, b->crow.data, b->crow.len);
  return ok ? (long long)b->crow.len : -1;
}

/* --- data.json -------------------------------------------------------------- */

/* How data.json types a column: by its declared SQL type. */
enum jkind { JK_TEXT, JK_INT, JK_BOOL, JK_JSON };

static enum jkind jkind_of(const struct dsr_pcollection *c, const char *col)
{
  const char *t = dsr_pcollection_column_type(c, col);
  t = t ? t : "text";
  if (!strcmp(t, "bigint") || !strcmp(t, "integer") || !strcmp(t, "smallint") ||
      !strcmp(t, "int") || !strcmp(t, "int4") || !strcmp(t, "int8"))
    return JK_INT;
  if (!strcmp(t, "boolean") || !strcmp(t, "bool"))
    return JK_BOOL;
  if (!strcmp(t, "json") || !strcmp(t, "jsonb"))
    return JK_JSON;
  return JK_TEXT;
}

/* @p v as an integer (an int column's value); false when it is not one (it is then a string). */
static bool int_of(const char *v, long long *n)
{
  char *end;
  errno = 0;
  *n = strtoll(v, &end, 10);
  return !errno && !*end;
}

/* A cell as JSON, typed by its column's kind. */
static json_t *cell(enum jkind k, PGresult *r, int row, int i)
{
  if (PQgetisnull(r, row, i))
    return json_null();
  const char *v = PQgetvalue(r, row, i);
  long long n;
  if (k == JK_INT && int_of(v, &n))
    return json_integer(n);
  if (k == JK_BOOL)
    return json_boolean(v[0] == 't');
  if (k == JK_JSON) {
    json_t *j = json_loads(v, JSON_DECODE_ANY, NULL);
    if (j)
      return j;
  }
  return json_string(v);
}

/* Appends @p n bytes of @p s as a JSON string, escaped as jansson's compact dump escapes it.
 * 1: done; 0: not valid UTF-8 (jansson refuses such a string); -1: out of memory. */
static int json_str(struct dsr_buf *o, const char *s, size_t n)
{
  if (!dsr_utf8_valid(s, n))
    return 0;
  return dsr_buf_json_string(o, s, n) ? 1 : -1;
}

/* True when @p v is an integer written as "%lld" writes it (no sign but "-", no leading zero,
 * no space, at most 18 digits: never out of range): such a value is copied as it is. */
static bool int_canonical(const char *v)
{
  const char *d = v[0] == '-' ? v + 1 : v, *first = d;
  if (d[0] < '0' || d[0] > '9' || (d[0] == '0' && (d[1] || d != v)))
    return false;
  for (d++; *d; d++)
    if (*d < '0' || *d > '9')
      return false;
  return d - first <= 18;
}

/*
 * The keys of a collection's data.json rows, each escaped once: ,"name": (the first
 * without its comma) from koff[j] to koff[j + 1] of @p keys. False when a name is not valid
 * UTF-8 (its rows then go through jansson) or out of memory.
 */
static bool json_keys(const char *const *cols, size_t ncols, struct dsr_buf *keys, size_t *koff)
{
  dsr_buf_reset(keys);
  for (size_t j = 0; j < ncols; j++) {
    koff[j] = keys->len;
    if ((j && !dsr_buf_puts(keys, ",")) || json_str(keys, cols[j], strlen(cols[j])) != 1 ||
        !dsr_buf_puts(keys, ":"))
      return false;
  }
  koff[ncols] = keys->len;
  return true;
}

/*
 * One row of data.json written straight into @p o: the text jansson's compact dump of the
 * row's object gives, without the object; @p keys and @p koff are json_keys()'s. 1: done;
 * 0: a value jansson would treat otherwise (not valid UTF-8), for json_row()'s object; -1:
 * out of memory.
 */
static int json_row_text(const enum jkind *kinds, PGresult *r, int row, const int *idx,
                         const struct dsr_buf *keys, const size_t *koff, size_t ncols,
                         struct dsr_buf *o)
{
  dsr_buf_reset(o);
  int st = dsr_buf_puts(o, "{") ? 1 : -1;
  for (size_t j = 0; st == 1 && j < ncols; j++) {
    if (!dsr_buf_append(o, keys->data + koff[j], koff[j + 1] - koff[j])) {
      st = -1;
      break;
    }
    const char *v = PQgetisnull(r, row, idx[j]) ? NULL : PQgetvalue(r, row, idx[j]);
    long long n;
    if (!v)
      st = dsr_buf_puts(o, "null") ? 1 : -1;
    else if (kinds[j] == JK_INT && int_canonical(v))
      st = dsr_buf_puts(o, v) ? 1 : -1;
    else if (kinds[j] == JK_INT && int_of(v, &n))
      st = dsr_buf_printf(o, "%lld", n) ? 1 : -1;
    else if (kinds[j] == JK_BOOL)
      st = dsr_buf_puts(o, v[0] == 't' ? "true" : "false") ? 1 : -1;
    else
      st = json_str(o, v, (size_t)PQgetlength(r, row, idx[j]));
  }
  return st == 1 && !dsr_buf_puts(o, "}") ? -1 : st;
}

/* One row of data.json, into its entry. @p fast: the row's text may be written directly (no
 * json column, no column named twice, @p keys and @p koff its keys); else, or when a value
 * asks for it, through jansson's object. */
static bool json_row(struct xb *b, const enum jkind *kinds, bool fast, const struct dsr_buf *keys,
                     const size_t *koff, PGresult *r, int row, const int *idx,
                     const char *const *cols, size_t ncols, bool first)
{
  const char *sep = first ? "\n    " : ",\n    ";
  int st = fast ? json_row_text(kinds, r, row, idx, keys, koff, ncols, &b->jrow) : 0;
  if (st < 0)
    return false;
  if (st == 1)
    return xzip_puts(&b->z, sep) && xzip_write(&b->z, b->jrow.data, b->jrow.len);
  json_t *o = json_object();
  for (size_t j = 0; o && j < ncols; j++)
    json_object_set_new(o, cols[j], cell(kinds[j], r, row, idx[j]));
  char *s = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
  bool ok = s && xzip_puts(&b->z, sep) && xzip_puts(&b->z, s);
  free(s);
  json_decref(o);
  return ok;
}

static json_t *category_list(const struct xb *b, const struct dsr_pcollection *c)
{
  const json_t *cats = dsr_policy_section(b->sp->policy, "categories");
  json_t *a = json_array();
  for (size_t i = 0; a && i < c->ncategories; i++) {
    const char *l = json_string_value(
        json_object_get(json_object_get(cats, c->categories[i]), "label"));
    json_array_append_new(a, json_pack("{s:s, s:s}", "id", c->categories[i], "label",
                                       l ? l : c->categories[i]));
  }
  return a;
}

/* The collection's object up to its "rows" array (opened); its "count" follows the rows. */
static char *json_head(const struct xb *b, const struct dsr_pcollection *c, bool first)
{
  const char *cols[256];
  size_t n = out_columns(b, c, cols, DSR_ARRAY_LEN(cols));
  json_t *fields = json_array();
  for (size_t i = 0; fields && i < n; i++)
    json_array_append_new(fields, json_pack("{s:s, s:s, s:s}", "name", cols[i], "label",
                                            field_label(c, cols[i]), "type",
                                            dsr_pcollection_column_type(c, cols[i])
                                                ? dsr_pcollection_column_type(c, cols[i])
                                                : "text"));
  json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:o, s:o}", "name", c->name, "label",
                        c->export_label ? c->export_label : c->name, "description",
                        c->description ? c->description : "", "owner",
                        c->owner == DSR_OWNER_CONTROLLER ? "controller" : "processor",
                        "categories", category_list(b, c), "fields", fields);
  char *s = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
  json_decref(o);
  if (!s)
    return NULL;
  /* drop the closing brace: "rows" follows */
  s[strlen(s) - 1] = '\0';
  char *head = dsr_asprintf("%s  %s, \"rows\": [", first ? "\n" : ",\n", s);
  free(s);
  return head;
}

/* --- the records as people read them (summary.html / summary.txt) ---------- */

#define SHOWN_VALUE_MAX 2000 /* characters of one value in the summary; data.json has it all */

static bool is_time_type(const char *t)
{
  return t && (!strncmp(t, "timestamp", 9) || !strcmp(t, "date"));
}

/* The elements of a PostgreSQL array literal ("{billing,\"a b\",NULL}") as strings; nested
 * arrays come out flat. NULL when @p v is no array literal. */
static json_t *pg_array_items(const char *v)
{
  if (v[0] != '{')
    return NULL;
  json_t *a = json_array();
  struct dsr_buf e = {0};
  bool quoted = false, was_quoted = false, ok = a != NULL && dsr_buf_puts(&e, "");
  for (const char *q = v + 1; ok && *q; q++) {
    if (quoted) {
      if (*q == '\\' && q[1])
        ok = dsr_buf_printf(&e, "%c", *++q);
      else if (*q == '"')
        quoted = false;
      else
        ok = dsr_buf_printf(&e, "%c", *q);
    } else if (*q == '"') {
      quoted = was_quoted = true;
    } else if (*q == ',' || *q == '}') {
      if (e.len > 0 || was_quoted)
        ok = json_array_append_new(a, (!was_quoted && !strcmp(e.data, "NULL"))
                                          ? json_string("-")
                                          : json_string(e.data)) == 0;
      e.len = 0;
      e.data[0] = '\0';
      was_quoted = false;
    } else if (*q != '{') {
      ok = dsr_buf_printf(&e, "%c", *q);
    }
  }
  dsr_buf_free(&e);
  if (!ok) {
    json_decref(a);
    return NULL;
  }
  return a;
}

/* A date of the platform as people read it: in words of @p lang, with its offset (UTC). */
static void human_time(const char *v, const char *type, const char *lang, char *out, size_t n)
{
  char iso[48];
  bool date_only = type && !strcmp(type, "date");
  if (date_only)
    snprintf(iso, sizeof iso, "%.10sT00:00:00Z", v);
  else if (strlen(v) > 19 && (strchr(v + 19, '+') || strchr(v + 19, '-') || strchr(v + 19, 'Z')))
    snprintf(iso, sizeof iso, "%s", v);
  else /* timestamp without a zone: the platform's clock, taken as UTC */
    snprintf(iso, sizeof iso, "%s+00", v);
  dsr_time_human_str(iso, lang, !date_only, out, n);
}

/* Text of at most SHOWN_VALUE_MAX bytes (cut at a character boundary, with "…"). */
static json_t *shown_text(const char *v)
{
  size_t n = strlen(v);
  if (n <= SHOWN_VALUE_MAX)
    return json_string(v);
  size_t k = SHOWN_VALUE_MAX;
  while (k > 0 && ((unsigned char)v[k] & 0xC0) == 0x80)
    k--;
  char *cut = dsr_asprintf("%.*s\xe2\x80\xa6", (int)k, v);
  json_t *j = cut ? json_string(cut) : NULL;
  free(cut);
  return j;
}

/* One row as [{label, value} | {label, items, list: true}], the empty cells left out. */
static json_t *shown_row(const struct xb *b, const struct dsr_pcollection *c, PGresult *r,
                         int row, const int *idx, const char *const *cols, size_t n)
{
  const char *lang = b->sp->lang ? b->sp->lang : "en";
  json_t *out = json_array();
  for (size_t j = 0; out && j < n; j++) {
    if (PQgetisnull(r, row, idx[j]))
      continue;
    const char *v = PQgetvalue(r, row, idx[j]);
    const char *t = dsr_pcollection_column_type(c, cols[j]);
    char *label = human_field(c, cols[j]);
    json_t *cellv = NULL, *items = NULL;
    char buf[160];
    if (is_time_type(t)) {
      human_time(v, t, lang, buf, sizeof buf);
      cellv = json_string(buf);
    } else if (t && (strstr(t, "[]") || !strncmp(t, "_", 1)) && (items = pg_array_items(v))) {
      /* arrays as lists */
    } else if (t && (!strcmp(t, "boolean") || !strcmp(t, "bool"))) {
      cellv = json_string(dsr_words_get("value", v[0] == 't' ? "yes" : "no", lang, buf,
                                        sizeof buf));
    } else {
      cellv = shown_text(v);
    }
    json_t *e = label ? json_pack("{s:s}", "label", label) : NULL;
    if (e && items) {
      json_object_set_new(e, "items", items);
      json_object_set_new(e, "list", json_true());
      items = NULL;
    } else if (e && cellv) {
      json_object_set_new(e, "value", cellv);
      cellv = NULL;
    }
    json_decref(items);
    json_decref(cellv);
    free(label);
    if (!e || json_array_append_new(out, e) != 0) {
      json_decref(out);
      return NULL;
    }
  }
  return out;
}

/* The collection's entry of b->shown (created on first use). */
static json_t *shown_of(struct xb *b, size_t ci)
{
  json_t *e = json_array_get(b->shown, ci);
  while (!e && json_array_size(b->shown) <= ci) {
    if (json_array_append_new(b->shown, json_pack("{s:[], s:I, s:[], s:I}", "records", "more",
                                                  (json_int_t)0, "media", "more_media",
                                                  (json_int_t)0)) != 0)
      return NULL;
    e = json_array_get(b->shown, ci);
  }
  return e;
}

/* Adds 1 to the integer @p key of @p o. */
static void count_more(json_t *o, const char *key)
{
  json_object_set_new(o, key, json_integer(json_integer_value(json_object_get(o, key)) + 1));
}

/* --- media ---------------------------------------------------------------- */

/* Counts a file of @p c's column @p col left out of the package, and why (never its path). */
static void missing(struct xb *b, const struct dsr_pcollection *c, const char *col,
                    const char *reason, long long *coll_missing)
{
  b->missing++;
  (*coll_missing)++;
  size_t i;
  json_t *e;
  json_array_foreach(b->missing_why, i, e) {
    if (!strcmp(json_string_value(json_object_get(e, "collection")), c->name) &&
        !strcmp(json_string_value(json_object_get(e, "column")), col) &&
        !strcmp(json_string_value(json_object_get(e, "reason")), reason)) {
      json_object_set_new(e, "files",
                          json_integer(json_integer_value(json_object_get(e, "files")) + 1));
      return;
    }
  }
  json_array_append_new(b->missing_why,
                        json_pack("{s:s, s:s, s:s, s:s, s:i}", "collection", c->name, "label",
                                  c->export_label ? c->export_label : c->name, "column", col,
                                  "reason", reason, "files", 1));
}

/* Copies the file @p value of @p f into the package: resolved as erasure resolves it
 * (dsr/filepath.h); one that is refused or cannot be read is counted with its reason. */
static bool media_file(struct xb *b, const struct dsr_pcollection *c, const struct dsr_pfile *f,
                       const char *value, const char *date, json_t *shown, long long *files,
                       long long *coll_missing)
{
  struct dsr_fpath fp;
  enum dsr_fpath_status st = dsr_fpath_resolve(f->store, value, &fp);
  if (st != DSR_FPATH_OK) {
    missing(b, c, f->column, dsr_fpath_reason(st, 0), coll_missing);
    return true;
  }
  const char *base;
  int e = 0, dfd = dsr_fpath_open_dir(&fp, &base, &e);
  int fd = dfd >= 0 ? openat(dfd, base, O_RDONLY | O_CLOEXEC | O_NOFOLLOW) : -1;
  if (dfd >= 0 && fd < 0)
    e = errno;
  if (dfd >= 0)
    close(dfd);
  if (fd < 0) {
    missing(b, c, f->column,
            e == ENOENT ? "the file does not exist" : dsr_fpath_reason(DSR_FPATH_OK, e),
            coll_missing);
    return true;
  }
  /* media/<collection>/<file>: a path that already starts with the collection's name keeps it once */
  size_t cl = strlen(c->name);
  const char *rel = !strncmp(fp.rel, c->name, cl) && fp.rel[cl] == '/' ? fp.rel + cl + 1 : fp.rel;
  char *name = dsr_asprintf("media/%s/%s", c->name, rel);
  bool ok = name != NULL;
  if (ok) {
    ok = xzip_begin(&b->z, name, b->sp->generated_at);
    unsigned char buf[16384];
    ssize_t n;
    while (ok && (n = read(fd, buf, sizeof buf)) > 0)
      ok = xzip_write(&b->z, buf, (size_t)n);
    ok = ok && xzip_end(&b->z);
    if (ok) {
      (*files)++;
      b->files++;
    }
  }
  if (ok && shown) { /* the summary lists the file with its date (its row's, else its own) */
    json_t *list = json_object_get(shown, "media");
    char when[160];
    struct stat sb;
    if (date && *date)
      human_time(date, NULL, b->sp->lang ? b->sp->lang : "en", when, sizeof when);
    else if (fstat(fd, &sb) == 0)
      dsr_time_human(sb.st_mtime, b->sp->lang, true, when, sizeof when);
    else
      when[0] = '\0';
    if ((long)json_array_size(list) < summary_cap(b))
      ok = json_array_append_new(list, json_pack("{s:s, s:s}", "path", name, "date", when)) == 0;
    else
      count_more(shown, "more_media");
  }
  close(fd);
  free(name);
  if (!ok)
    snprintf(b->err, sizeof b->err, "writing a file of collection %s failed", c->name);
  return ok;
}

/* --- passes ----------------------------------------------------------------- */

/* One collection's pass: what each row adds to the CSV, to data.json and to the media. */
struct row_pass {
  const char *cols[256]; /**< the package's columns, then the file columns */
  size_t n;              /**< the package's columns */
  enum jkind kinds[256]; /**< how data.json types each of the package's columns */
  bool fast;             /**< rows' data.json text written directly (see json_row) */
  size_t koff[257];      /**< where each column's key is in b->jkeys (fast rows) */
  long long rows, csv_bytes, media;
  json_t *shown;         /**< the collection's entry of b->shown, or NULL (portability) */
  int date_col;          /**< the first of the package's columns holding a date, or -1 */
};

static bool pass_row(struct xb *b, const struct dsr_pcollection *c, PGresult *r, int row,
                     const int *idx, size_t ncols, struct row_pass *rp)
{
  long long cn = csv_row(b, r, row, idx, rp->n);
  if (cn < 0 || !json_row(b, rp->kinds, rp->fast, &b->jkeys, rp->koff, r, row, idx, rp->cols,
                          rp->n, rp->rows == 0))
    return false;
  rp->csv_bytes += cn;
  rp->rows++;
  if (rp->shown) { /* the first rows, for people; the others are counted */
    json_t *recs = json_object_get(rp->shown, "records");
    if ((long)json_array_size(recs) < summary_cap(b)) {
      json_t *one = shown_row(b, c, r, row, idx, rp->cols, rp->n);
      if (!one || json_array_append_new(recs, one) != 0)
        return false;
    } else {
      count_more(rp->shown, "more");
    }
  }
  const char *date = rp->date_col >= 0 && !PQgetisnull(r, row, idx[rp->date_col])
                         ? PQgetvalue(r, row, idx[rp->date_col])
                         : "";
  if (strlen(date) >= 64)
    date = ""; /* no date of the platform is this long: the file's own date instead */
  for (size_t k = rp->n; k < ncols; k++) {
    if (PQgetisnull(r, row, idx[k]))
      continue;
    const char *rel = PQgetvalue(r, row, idx[k]);
    uint32_t hdr[3] = {(uint32_t)(k - rp->n), (uint32_t)strlen(rel), (uint32_t)strlen(date)};
    if (!xspool_write(b->media, hdr, sizeof hdr) || !xspool_write(b->media, rel, hdr[1]) ||
        !xspool_write(b->media, date, hdr[2]))
      return false;
    rp->media++;
  }
  return true;
}

/* Copies @p n bytes of @p sp into the current entry. */
static bool copy_spool(struct xb *b, struct xspool *sp, long long n)
{
  char buf[16384];
  bool ok = true;
  while (ok && n > 0) {
    size_t k = n < (long long)sizeof buf ? (size_t)n : sizeof buf;
    ok = xspool_read(sp, buf, k) && xzip_write(&b->z, buf, k);
    n -= (long long)k;
  }
  return ok;
}

static char *iso_time(time_t t)
{
  struct tm tm;
  char s[32];
  gmtime_r(&t, &tm);
  strftime(s, sizeof s, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return strdup(s);
}

static const char *policy_version(const struct dsr_policy *p)
{
  const char *v = json_string_value(json_object_get(dsr_policy_json(p), "policy_version"));
  return v ? v : "";
}

static const char *kind_name(enum dsr_export_kind k)
{
  return k == DSR_EXPORT_PORTABILITY ? "portability" : "access";
}

/* data.json's opening, up to its "collections" array (opened). */
static bool data_json_begin(struct xb *b)
{
  char *when = iso_time(b->sp->generated_at);
  json_t *hdr = json_pack("{s:s, s:s, s:s, s:s, s:s}", "format", "dsrd-export/1", "request_id",
                          b->sp->request_id, "kind", kind_name(b->sp->kind), "policy_version",
                          policy_version(b->sp->policy), "generated_at", when ? when : "");
  char *s = hdr ? json_dumps(hdr, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
  json_decref(hdr);
  free(when);
  bool ok = s && xzip_begin(&b->z, "data.json", b->sp->generated_at);
  if (ok) {
    s[strlen(s) - 1] = '\0';
    ok = xzip_puts(&b->z, s) && xzip_puts(&b->z, ", \"collections\": [");
  }
  free(s);
  return ok;
}

/* Reads every included collection once: its rows go into data.json, their CSV lines and
 * media paths into the spools, for write_csvs() and write_media(). */
static bool write_rows(struct xb *b)
{
  bool media = b->sp->kind != DSR_EXPORT_PORTABILITY; /* portability: no media */
  struct xcur xc = {0};
  long at = xcur_open(b, &xc) ? xcur_peek(b, &xc) : -2;
  bool ok = at > -2 && data_json_begin(b);
  for (size_t i = 0; ok && i < dsr_policy_collection_count(b->sp->policy); i++) {
    const struct dsr_pcollection *c = dsr_policy_topo_at(b->sp->policy, i);
    if (!included(b, c)) {
      for (; at == (long)i; at = xcur_peek(b, &xc))
        xc.row++; /* rows of a collection the package leaves out */
      ok = at > -2;
      continue;
    }
    struct row_pass rp = {.date_col = -1};
    int idx[DSR_ARRAY_LEN(rp.cols)];
    rp.n = out_columns(b, c, rp.cols, DSR_ARRAY_LEN(rp.cols));
    rp.fast = true;
    for (size_t j = 0; j < rp.n; j++) {
      rp.kinds[j] = jkind_of(c, rp.cols[j]);
      rp.fast = rp.fast && rp.kinds[j] != JK_JSON;
      for (size_t k = 0; k < j; k++)
        rp.fast = rp.fast && strcmp(rp.cols[k], rp.cols[j]) != 0;
    }
    rp.fast = rp.fast && json_keys(rp.cols, rp.n, &b->jkeys, rp.koff);
    for (size_t j = 0; j < rp.n && rp.date_col < 0; j++)
      if (is_time_type(dsr_pcollection_column_type(c, rp.cols[j])))
        rp.date_col = (int)j;
    if (media) { /* access: the summary lists the records; portability is for machines */
      rp.shown = shown_of(b, json_array_size(b->colls));
      ok = ok && rp.shown != NULL;
    }
    size_t ncols = rp.n;
    for (size_t k = 0; media && k < c->nfiles && ncols < DSR_ARRAY_LEN(rp.cols); k++)
      rp.cols[ncols++] = c->files[k].column;
    char *name = dsr_asprintf("csv/%s.csv", c->name);
    char *head = json_head(b, c, json_array_size(b->colls) == 0);
    ok = name && head && column_index(b, c, rp.cols, ncols, idx) && xzip_puts(&b->z, head);
    free(head);
    for (; ok && at == (long)i; at = xcur_peek(b, &xc))
      ok = pass_row(b, c, xc.r, xc.row++, idx, ncols, &rp);
    char tail[64];
    snprintf(tail, sizeof tail, "%s], \"count\": %lld}", rp.rows == 0 ? "" : "\n  ", rp.rows);
    ok = ok && at > -2 && xzip_puts(&b->z, tail);
    b->spooled[json_array_size(b->colls)].csv_bytes = rp.csv_bytes;
    b->spooled[json_array_size(b->colls)].media = rp.media;
    ok = ok && json_array_append_new(b->colls,
                                     json_pack("{s:s, s:s, s:s, s:I, s:I}", "name", c->name,
                                               "label", c->export_label ? c->export_label : c->name,
                                               "csv", name, "rows", (json_int_t)rp.rows, "files",
                                               (json_int_t)0)) == 0;
    free(name);
    if (!ok && !b->err[0] && (b->csvs->failed || b->media->failed))
      snprintf(b->err, sizeof b->err, "writing the spool failed");
    b->rows += rp.rows;
  }
  xcur_close(b, &xc);
  return ok && xzip_puts(&b->z, "\n]}\n") && xzip_end(&b->z) && xspool_rewind(b->csvs) &&
         xspool_rewind(b->media);
}

/* Each included collection's CSV: its header, then its lines from the spool. */
static bool write_csvs(struct xb *b)
{
  bool ok = true;
  size_t ci = 0;
  for (size_t i = 0; ok && i < dsr_policy_collection_count(b->sp->policy); i++) {
    const struct dsr_pcollection *c = dsr_policy_topo_at(b->sp->policy, i);
    if (!included(b, c))
      continue;
    const char *cols[256];
    size_t n = out_columns(b, c, cols, DSR_ARRAY_LEN(cols));
    const char *name = json_string_value(json_object_get(json_array_get(b->colls, ci), "csv"));
    ok = name && xzip_begin(&b->z, name, b->sp->generated_at) && csv_line(&b->crow, cols, n) &&
         xzip_write(&b->z, b->crow.data, b->crow.len) &&
         copy_spool(b, b->csvs, b->spooled[ci].csv_bytes) && xzip_end(&b->z);
    ci++;
  }
  return ok;
}

static bool write_media(struct xb *b)
{
  if (b->sp->kind == DSR_EXPORT_PORTABILITY)
    return true; /* portability: the machine-readable formats only */
  size_t ci = 0;
  char *rel = NULL;
  bool ok = true;
  for (size_t i = 0; ok && i < dsr_policy_collection_count(b->sp->policy); i++) {
    const struct dsr_pcollection *c = dsr_policy_topo_at(b->sp->policy, i);
    if (!included(b, c))
      continue;
    long long n = b->spooled[ci].media, files = 0, gone = 0;
    json_t *m = json_array_get(b->colls, ci++);
    json_t *shown = json_array_get(b->shown, ci - 1);
    for (long long k = 0; ok && k < n; k++) {
      uint32_t hdr[3];
      char *nrel = NULL, date[64];
      ok = xspool_read(b->media, hdr, sizeof hdr) && hdr[0] < c->nfiles &&
           hdr[2] < sizeof date && (nrel = realloc(rel, (size_t)hdr[1] + 1)) != NULL;
      rel = nrel ? nrel : rel;
      ok = ok && xspool_read(b->media, rel, hdr[1]) && xspool_read(b->media, date, hdr[2]);
      if (ok) {
        rel[hdr[1]] = '\0';
        date[hdr[2]] = '\0';
        ok = media_file(b, c, &c->files[hdr[0]], rel, date, shown, &files, &gone);
      } else if (!b->err[0]) {
        snprintf(b->err, sizeof b->err, "reading the spool failed");
      }
    }
    json_object_set_new(m, "files", json_integer(files));
    json_object_set_new(m, "missing_files", json_integer(gone));
  }
  free(rel);
  return ok;
}

/*
 * Policy text for people: without its "§" reference ("CallOrbit §9: billing"
 * -> "billing"); NULL when it is nothing but a reference ("CallOS §5").
 */
static const char *plain(const char *s)
{
  const char *sect = s ? strstr(s, "\xc2\xa7") : NULL;
  if (!sect)
    return s;
  const char *colon = strstr(sect, ": ");
  return colon && colon[2] ? colon + 2 : NULL;
}

static const char *retention_text(const struct dsr_pcollection *c, char *buf, size_t n)
{
  const struct dsr_pretention *r = &c->retention;
  if (r->description && plain(r->description))
    return plain(r->description);
  switch (r->rule) {
  case DSR_RET_AGE: snprintf(buf, n, "%s", r->period); break;
  case DSR_RET_WITH_PARENT: snprintf(buf, n, "as long as the record it belongs to"); break;
  case DSR_RET_AFTER_EVENT: snprintf(buf, n, "%s after the end of the relationship", r->period); break;
  case DSR_RET_TENANT_SETTING:
    snprintf(buf, n, "as set by the customer (default %s)", r->period);
    break;
  case DSR_RET_INDEFINITE:
    snprintf(buf, n, "%s", r->basis && plain(r->basis) ? plain(r->basis) : "as long as the law requires");
    break;
  case DSR_RET_NONE: snprintf(buf, n, "-"); break;
  }
  return buf;
}

/* What people call collection @p c: its label, its export label, else its first category's. */
static const char *human_label(const struct xb *b, const struct dsr_pcollection *c,
                               const json_t *cats)
{
  (void)b;
  if (c->label)
    return c->label;
  if (c->export_label)
    return c->export_label;
  const char *l = json_string_value(json_object_get(json_array_get(cats, 0), "label"));
  return l ? l : c->name;
}

/* The summary for people in the subject's language: summary.html and summary.txt. */
static bool write_summary(struct xb *b)
{
  if (b->sp->kind == DSR_EXPORT_PORTABILITY)
    return true; /* portability: machine-readable formats only */
  const char *lang = b->sp->lang ? b->sp->lang : "en";
  json_t *list = json_array();
  size_t ci = 0;
  for (size_t i = 0; list && i < dsr_policy_collection_count(b->sp->policy); i++) {
    const struct dsr_pcollection *c = dsr_policy_topo_at(b->sp->policy, i);
    if (!included(b, c))
      continue;
    json_t *m = json_array_get(b->colls, ci++);
    if (json_integer_value(json_object_get(m, "rows")) == 0 &&
        json_integer_value(json_object_get(m, "files")) == 0)
      continue; /* nothing of the subject's there */
    char ret[256];
    json_t *cats = category_list(b, c);
    struct dsr_buf cl = {0};
    bool ok = dsr_buf_puts(&cl, "");
    for (size_t k = 0; ok && k < json_array_size(cats); k++)
      ok = dsr_buf_printf(&cl, "%s%s", k ? ", " : "",
                          json_string_value(json_object_get(json_array_get(cats, k), "label")));
    json_t *e = json_pack("{s:s, s:s, s:s, s:s, s:O, s:O}", "label", human_label(b, c, cats),
                          "name", c->name, "categories", ok ? cl.data : "", "kept",
                          retention_text(c, ret, sizeof ret), "rows", json_object_get(m, "rows"),
                          "files", json_object_get(m, "files"));
    json_decref(cats);
    if (e && json_integer_value(json_object_get(m, "files")) == 0)
      json_object_set_new(e, "files", json_null()); /* no "and 0 files" */
    if (e && c->purpose)
      json_object_set_new(e, "purpose", json_string(c->purpose));
    if (e && c->recipients)
      json_object_set_new(e, "recipients", json_string(c->recipients));
    if (e && c->source)
      json_object_set_new(e, "source", json_string(c->source));
    /* files left out of this collection: a number, or null (0 would still show) */
    json_int_t gone = json_integer_value(json_object_get(m, "missing_files"));
    if (e)
      json_object_set_new(e, "missing", gone > 0 ? json_integer(gone) : json_null());
    /* the records and files themselves (the first ones), and how many more the data holds */
    json_t *sh = json_array_get(b->shown, ci - 1);
    json_int_t more = json_integer_value(json_object_get(sh, "more"));
    json_int_t more_media = json_integer_value(json_object_get(sh, "more_media"));
    json_t *recs = json_array();
    size_t ri;
    json_t *rec;
    json_array_foreach(json_object_get(sh, "records"), ri, rec)
        json_array_append_new(recs, json_pack("{s:I, s:O}", "n", (json_int_t)ri + 1, "fields",
                                              rec));
    if (e) {
      json_object_set_new(e, "has_records", json_boolean(json_array_size(recs) > 0));
      json_object_set_new(e, "has_media",
                          json_boolean(json_array_size(json_object_get(sh, "media")) > 0));
      json_object_set_new(e, "records", recs);
      json_object_set(e, "media", json_object_get(sh, "media"));
      json_object_set_new(e, "more", more > 0 ? json_integer(more) : json_null());
      json_object_set_new(e, "more_media", more_media > 0 ? json_integer(more_media)
                                                          : json_null());
      json_object_set(e, "csv", json_object_get(m, "csv"));
    } else {
      json_decref(recs);
    }
    json_array_append_new(list, e);
    dsr_buf_free(&cl);
  }
  const json_t *org = dsr_policy_section(b->sp->policy, "organization");
  char when[96];
  dsr_time_human(b->sp->generated_at, lang, true, when, sizeof when);
  json_t *ctx = json_pack("{s:o, s:s, s:s, s:s, s:s, s:I, s:I, s:b, s:s}", "collections", list,
                          "request_id", b->sp->request_id, "kind", kind_name(b->sp->kind),
                          "generated_at", when, "policy_version", policy_version(b->sp->policy),
                          "rows", (json_int_t)b->rows, "files", (json_int_t)b->files,
                          "portability", b->sp->kind == DSR_EXPORT_PORTABILITY, "lang", lang);
  if (ctx && b->files == 0)
    json_object_set_new(ctx, "files", json_null()); /* no "and 0 files" */
  if (ctx) /* what could not be included: the count, and why per collection */
    json_object_set_new(ctx, "missing_files",
                        b->missing > 0 ? json_integer(b->missing) : json_null());
  if (ctx)
    json_object_set(ctx, "missing_why", b->missing_why);
  if (ctx && org)
    json_object_set(ctx, "org", (json_t *)org);
  if (ctx && b->sp->partial) /* answered from the confirmed identities only: it says so */
    json_object_set(ctx, "partial", (json_t *)b->sp->partial);
  const json_t *jur = b->sp->jurisdiction
                          ? json_object_get(dsr_policy_section(b->sp->policy, "jurisdictions"),
                                            b->sp->jurisdiction)
                          : NULL;
  if (ctx && json_string_value(json_object_get(jur, "name")))
    json_object_set(ctx, "law", json_object_get(jur, "name"));
  if (ctx && json_is_object(json_object_get(jur, "supervisory_authority")))
    json_object_set(ctx, "authority", json_object_get(jur, "supervisory_authority"));
  char *html = NULL, *text = NULL;
  bool ok = ctx &&
            dsr_template_render("export_summary.html", lang, ctx, &html, b->err, sizeof b->err) &&
            dsr_template_render("export_summary.txt", lang, ctx, &text, b->err, sizeof b->err) &&
            xzip_begin(&b->z, "summary.html", b->sp->generated_at) && xzip_puts(&b->z, html) &&
            xzip_end(&b->z) && xzip_begin(&b->z, "summary.txt", b->sp->generated_at) &&
            xzip_puts(&b->z, text) && xzip_end(&b->z);
  free(html);
  free(text);
  json_decref(ctx);
  return ok;
}

/* The schema data.json follows (docs/export.schema.json), so the package describes itself. */
static bool write_schema(struct xb *b)
{
  return xzip_begin(&b->z, "export.schema.json", b->sp->generated_at) &&
         xzip_puts(&b->z, dsr_export_schema_doc[0].text) && xzip_end(&b->z);
}

static bool write_manifest(struct xb *b)
{
  char *when = iso_time(b->sp->generated_at);
  json_t *m = json_pack("{s:s, s:s, s:s?, s:s, s:s, s:s, s:s, s:O, s:O, s:I, s:I, s:I}", "format",
                        "dsrd-export/1", "request_id", b->sp->request_id, "part_id",
                        b->sp->part_id, "kind", kind_name(b->sp->kind), "owner",
                        b->sp->owner ? b->sp->owner : "controller", "policy_version",
                        policy_version(b->sp->policy), "generated_at", when ? when : "",
                        "collections", b->colls, "files", b->z.files, "rows",
                        (json_int_t)b->rows, "media_files", (json_int_t)b->files,
                        "missing_files", (json_int_t)b->missing);
  free(when);
  if (m) /* which files are not in the package, and why (never their paths) */
    json_object_set(m, "files_missing", b->missing_why);
  char *s = m ? json_dumps(m, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
  json_decref(m);
  bool ok = s && xzip_begin(&b->z, "manifest.json", b->sp->generated_at) && xzip_puts(&b->z, s) &&
            xzip_puts(&b->z, "\n") && xzip_end(&b->z);
  free(s);
  return ok;
}

bool dsr_export_kind_of(const char *request_type, enum dsr_export_kind *kind)
{
  if (!strcmp(request_type, "access"))
    *kind = DSR_EXPORT_ACCESS;
  else if (!strcmp(request_type, "portability"))
    *kind = DSR_EXPORT_PORTABILITY;
  else
    return false;
  return true;
}

bool dsr_export_write(const struct dsr_export_spec *spec, PGconn *conn, const char *path,
                      const unsigned char key[DSR_XKEY_BYTES], struct dsr_export_result *res,
                      char *err, size_t errlen)
{
  struct xb b = {.sp = spec, .conn = conn};
  struct dsr_xsink sink = {.fd = -1};
  bool ok = false, in_tx = false, sink_open = false, zip_open = false;
  memset(res, 0, sizeof *res);
  b.colls = json_array();
  b.missing_why = json_array();
  b.shown = json_array();
  b.spooled = calloc(dsr_policy_collection_count(spec->policy) + 1, sizeof *b.spooled);
  b.csvs = calloc(1, sizeof *b.csvs);
  b.media = calloc(1, sizeof *b.media);
  if (!b.colls || !b.missing_why || !b.shown || !b.spooled || !b.csvs || !b.media)
    goto cleanup;
  b.csvs->fd = b.media->fd = -1;
  PGresult *r = PQexec(conn, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
  in_tx = PQresultStatus(r) == PGRES_COMMAND_OK;
  PQclear(r);
  if (!in_tx) {
    snprintf(b.err, sizeof b.err, "the platform store is not reachable");
    goto cleanup;
  }
  sink_open = dsr_xsink_open(&sink, path, key);
  if (!sink_open) {
    snprintf(b.err, sizeof b.err, "cannot create the package file");
    goto cleanup;
  }
  if (!xspool_open(b.csvs, path) || !xspool_open(b.media, path)) {
    snprintf(b.err, sizeof b.err, "cannot create the package's spool");
    goto cleanup;
  }
  zip_open = xzip_open(&b.z, &sink, spec->generated_at);
  if (!zip_open)
    goto cleanup;
  ok = write_rows(&b) && write_csvs(&b) && write_media(&b) && write_summary(&b) &&
       write_schema(&b) && write_manifest(&b);
cleanup:
  if (zip_open || b.z.a || b.z.files)
    ok = xzip_close(&b.z, !ok) && ok;
  bool created = sink.fd >= 0;
  if (created || sink.buf) {
    uint64_t plain = sink.plain_bytes;
    ok = dsr_xsink_close(&sink, !ok) && ok;
    res->plain_bytes = plain;
  }
  if (in_tx)
    PQclear(PQexec(conn, "ROLLBACK"));
  if (!ok && created)
    unlink(path);
  res->rows = b.rows;
  res->files = b.files;
  res->collections = (long long)json_array_size(b.colls);
  json_decref(b.colls);
  json_decref(b.missing_why);
  json_decref(b.shown);
  dsr_buf_free(&b.jrow);
  dsr_buf_free(&b.jkeys);
  dsr_buf_free(&b.crow);
  free(b.spooled);
  if (b.csvs)
    xspool_close(b.csvs);
  if (b.media)
    xspool_close(b.media);
  free(b.csvs);
  free(b.media);
  if (!ok)
    snprintf(err, errlen, "%s", b.err[0] ? b.err : "writing the package failed");
  return ok;
}

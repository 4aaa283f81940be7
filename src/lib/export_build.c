/**
 * @file export_build.c
 * @brief The package writer (see export.h): for each collection the plan
 *        reaches, rows are read through a server-side cursor one page at a
 *        time and written as CSV, then as part of data.json; then the
 *        subject's files are copied block by block, the summary is rendered
 *        and the manifest (counts and SHA-256 of every entry) closes the ZIP.
 *        Every pass runs in one REPEATABLE READ READ ONLY transaction, so all
 *        of them see the same snapshot.
 */
#include "config.h"
#include "export_int.h"
#include "dsr/template.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CURSOR "dsr_export_cursor"

struct xb {
  const struct dsr_export_spec *sp;
  PGconn *conn;
  struct xzip z;
  char err[256];
  json_t *colls; /**< manifest collections [{name, label, rows, files}] */
  long long rows, files, missing;
};

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

typedef bool (*row_fn)(struct xb *b, const struct dsr_pcollection *c, PGresult *r, int row,
                       const int *idx, size_t ncols, void *arg);

/* Runs @p fn on every row of @p c in the included parts, one cursor page at a time. */
static bool each_row(struct xb *b, const struct dsr_pcollection *c, const char *const *cols,
                     size_t ncols, row_fn fn, void *arg)
{
  const struct dsr_plan *p = b->sp->plan;
  long page = b->sp->fetch_rows > 0 ? b->sp->fetch_rows : 1000;
  char fetch[64];
  snprintf(fetch, sizeof fetch, "FETCH FORWARD %ld FROM " CURSOR, page);
  for (size_t i = 0; i < p->nparts; i++) {
    for (size_t k = 0; b->sp->include[i] && k < p->parts[i].nsteps; k++) {
      const struct dsr_plan_step *st = &p->parts[i].steps[k];
      if (st->coll != c || st->verb != DSR_STEP_SELECT)
        continue;
      char *sql = dsr_asprintf("DECLARE " CURSOR " NO SCROLL CURSOR FOR %s", st->sql);
      const char **vals = calloc(st->nparams + 1, sizeof *vals);
      bool ok = sql && vals;
      for (size_t j = 0; ok && j < st->nparams; j++)
        vals[j] = st->params[j].value;
      PGresult *r = ok ? PQexecParams(b->conn, sql, (int)st->nparams, NULL, vals, NULL, NULL, 0)
                       : NULL;
      ok = r && PQresultStatus(r) == PGRES_COMMAND_OK;
      PQclear(r);
      free(sql);
      free(vals);
      if (!ok) {
        snprintf(b->err, sizeof b->err, "reading collection %s failed", c->name);
        return false;
      }
      for (;;) {
        r = PQexec(b->conn, fetch);
        if (PQresultStatus(r) != PGRES_TUPLES_OK) {
          PQclear(r);
          snprintf(b->err, sizeof b->err, "reading collection %s failed", c->name);
          return false;
        }
        int idx[256];
        size_t nc = ncols < DSR_ARRAY_LEN(idx) ? ncols : DSR_ARRAY_LEN(idx);
        for (size_t j = 0; j < nc; j++)
          idx[j] = PQfnumber(r, cols[j]);
        for (size_t j = 0; j < nc; j++)
          if (idx[j] < 0) {
            PQclear(r);
            snprintf(b->err, sizeof b->err, "collection %s: column %s is not read", c->name,
                     cols[j]);
            return false;
          }
        int nt = PQntuples(r);
        for (int row = 0; row < nt; row++)
          if (!fn(b, c, r, row, idx, nc, arg)) {
            PQclear(r);
            return false;
          }
        PQclear(r);
        if (nt < page)
          break;
      }
      PQclear(PQexec(b->conn, "CLOSE " CURSOR));
    }
  }
  return true;
}

/* --- CSV (RFC 4180) ------------------------------------------------------- */

static bool csv_field(struct xzip *z, const char *s, bool first)
{
  bool ok = first || xzip_puts(z, ",");
  if (!strpbrk(s, ",\"\r\n"))
    return ok && xzip_puts(z, s);
  ok = ok && xzip_puts(z, "\"");
  for (const char *q; ok && (q = strchr(s, '"')); s = q + 1)
    ok = xzip_write(z, s, (size_t)(q - s + 1)) && xzip_puts(z, "\"");
  return ok && xzip_puts(z, s) && xzip_puts(z, "\"");
}

static bool csv_row(struct xb *b, const struct dsr_pcollection *c, PGresult *r, int row,
                    const int *idx, size_t ncols, void *arg)
{
  (void)c;
  long long *count = arg;
  bool ok = true;
  for (size_t j = 0; ok && j < ncols; j++)
    ok = csv_field(&b->z, PQgetisnull(r, row, idx[j]) ? "" : PQgetvalue(r, row, idx[j]), j == 0);
  (*count)++;
  return ok && xzip_puts(&b->z, "\r\n");
}

/* --- data.json -------------------------------------------------------------- */

/* A cell as JSON, typed by the column's declared SQL type. */
static json_t *cell(const struct dsr_pcollection *c, const char *col, PGresult *r, int row,
                    int i)
{
  if (PQgetisnull(r, row, i))
    return json_null();
  const char *v = PQgetvalue(r, row, i);
  const char *t = dsr_pcollection_column_type(c, col);
  t = t ? t : "text";
  if (!strcmp(t, "bigint") || !strcmp(t, "integer") || !strcmp(t, "smallint") ||
      !strcmp(t, "int") || !strcmp(t, "int4") || !strcmp(t, "int8")) {
    char *end;
    errno = 0;
    long long n = strtoll(v, &end, 10);
    if (!errno && !*end)
      return json_integer(n);
  } else if (!strcmp(t, "boolean") || !strcmp(t, "bool")) {
    return json_boolean(v[0] == 't');
  } else if (!strcmp(t, "json") || !strcmp(t, "jsonb")) {
    json_t *j = json_loads(v, JSON_DECODE_ANY, NULL);
    if (j)
      return j;
  }
  return json_string(v);
}

struct json_pass {
  bool first;
};

static bool json_row(struct xb *b, const struct dsr_pcollection *c, PGresult *r, int row,
                     const int *idx, size_t ncols, void *arg)
{
  struct json_pass *jp = arg;
  json_t *o = json_object();
  const char *cols[256];
  size_t n = out_columns(b, c, cols, DSR_ARRAY_LEN(cols));
  for (size_t j = 0; o && j < ncols && j < n; j++)
    json_object_set_new(o, cols[j], cell(c, cols[j], r, row, idx[j]));
  char *s = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
  bool ok = s && xzip_puts(&b->z, jp->first ? "\n    " : ",\n    ") && xzip_puts(&b->z, s);
  jp->first = false;
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

/* The collection's object up to its "rows" array (opened). */
static char *json_head(const struct xb *b, const struct dsr_pcollection *c, long long rows,
                       bool first)
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
  json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:o, s:o, s:I}", "name", c->name, "label",
                        c->export_label ? c->export_label : c->name, "description",
                        c->description ? c->description : "", "owner",
                        c->owner == DSR_OWNER_CONTROLLER ? "controller" : "processor",
                        "categories", category_list(b, c), "fields", fields, "count",
                        (json_int_t)rows);
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

/* --- media ---------------------------------------------------------------- */

static const char *store_root(const struct dsr_pstore *s)
{
  if (s->root)
    return s->root;
  const char *v = s->root_env ? getenv(s->root_env) : NULL;
  return v && *v ? v : NULL;
}

/* A relative path with no empty, "." or ".." segment. */
static bool rel_safe(const char *p)
{
  if (!*p || *p == '/')
    return false;
  for (const char *s = p; *s;) {
    const char *e = strchr(s, '/');
    size_t n = e ? (size_t)(e - s) : strlen(s);
    if (n == 0 || (n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.'))
      return false;
    s += n + (e ? 1 : 0);
  }
  return true;
}

struct media_pass {
  const struct dsr_pfile *f;
  long long files;
};

static bool media_row(struct xb *b, const struct dsr_pcollection *c, PGresult *r, int row,
                      const int *idx, size_t ncols, void *arg)
{
  (void)ncols;
  struct media_pass *mp = arg;
  if (PQgetisnull(r, row, idx[0]))
    return true;
  const char *rel = PQgetvalue(r, row, idx[0]);
  const char *root = store_root(mp->f->store);
  if (!root || !rel_safe(rel)) {
    b->missing++;
    return true;
  }
  char *path = dsr_asprintf("%s/%s", root, rel);
  char *name = dsr_asprintf("media/%s/%s", c->name, rel);
  int fd = path ? open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW) : -1;
  bool ok = name != NULL;
  if (fd < 0) {
    b->missing++;
  } else if (ok) {
    ok = xzip_begin(&b->z, name, b->sp->generated_at);
    unsigned char buf[16384];
    ssize_t n;
    while (ok && (n = read(fd, buf, sizeof buf)) > 0)
      ok = xzip_write(&b->z, buf, (size_t)n);
    ok = ok && xzip_end(&b->z);
    if (ok) {
      mp->files++;
      b->files++;
    }
  }
  if (fd >= 0)
    close(fd);
  free(path);
  free(name);
  if (!ok)
    snprintf(b->err, sizeof b->err, "writing a file of collection %s failed", c->name);
  return ok;
}

/* --- passes ----------------------------------------------------------------- */

static bool write_csvs(struct xb *b)
{
  for (size_t i = 0; i < dsr_policy_collection_count(b->sp->policy); i++) {
    const struct dsr_pcollection *c = dsr_policy_topo_at(b->sp->policy, i);
    if (!included(b, c))
      continue;
    const char *cols[256];
    size_t n = out_columns(b, c, cols, DSR_ARRAY_LEN(cols));
    char *name = dsr_asprintf("csv/%s.csv", c->name);
    bool ok = name && xzip_begin(&b->z, name, b->sp->generated_at);
    for (size_t j = 0; ok && j < n; j++)
      ok = csv_field(&b->z, cols[j], j == 0);
    ok = ok && xzip_puts(&b->z, "\r\n");
    long long count = 0;
    ok = ok && each_row(b, c, cols, n, csv_row, &count) && xzip_end(&b->z);
    ok = ok && json_array_append_new(b->colls,
                                     json_pack("{s:s, s:s, s:s, s:I, s:I}", "name", c->name,
                                               "label", c->export_label ? c->export_label : c->name,
                                               "csv", name, "rows", (json_int_t)count, "files",
                                               (json_int_t)0)) == 0;
    free(name);
    if (!ok)
      return false;
    b->rows += count;
  }
  return true;
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

static bool write_data_json(struct xb *b)
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
  size_t ci = 0;
  for (size_t i = 0; ok && i < dsr_policy_collection_count(b->sp->policy); i++) {
    const struct dsr_pcollection *c = dsr_policy_topo_at(b->sp->policy, i);
    if (!included(b, c))
      continue;
    json_t *m = json_array_get(b->colls, ci);
    char *head = json_head(b, c, json_integer_value(json_object_get(m, "rows")), ci == 0);
    ci++;
    const char *cols[256];
    size_t n = out_columns(b, c, cols, DSR_ARRAY_LEN(cols));
    struct json_pass jp = {.first = true};
    ok = head && xzip_puts(&b->z, head) && each_row(b, c, cols, n, json_row, &jp) &&
         xzip_puts(&b->z, jp.first ? "]}" : "\n  ]}");
    free(head);
  }
  return ok && xzip_puts(&b->z, "\n]}\n") && xzip_end(&b->z);
}

static bool write_media(struct xb *b)
{
  if (b->sp->kind == DSR_EXPORT_PORTABILITY)
    return true; /* portability: the machine-readable formats only */
  size_t ci = 0;
  for (size_t i = 0; i < dsr_policy_collection_count(b->sp->policy); i++) {
    const struct dsr_pcollection *c = dsr_policy_topo_at(b->sp->policy, i);
    if (!included(b, c))
      continue;
    json_t *m = json_array_get(b->colls, ci++);
    for (size_t k = 0; k < c->nfiles; k++) {
      struct media_pass mp = {.f = &c->files[k]};
      const char *cols[] = {c->files[k].column};
      if (!each_row(b, c, cols, 1, media_row, &mp))
        return false;
      json_object_set_new(m, "files",
                          json_integer(json_integer_value(json_object_get(m, "files")) +
                                       mp.files));
    }
  }
  return true;
}

static const char *retention_text(const struct dsr_pcollection *c, char *buf, size_t n)
{
  const struct dsr_pretention *r = &c->retention;
  if (r->description)
    return r->description;
  switch (r->rule) {
  case DSR_RET_AGE: snprintf(buf, n, "%s from %s", r->period, r->column); break;
  case DSR_RET_WITH_PARENT: snprintf(buf, n, "as long as the record it belongs to"); break;
  case DSR_RET_AFTER_EVENT: snprintf(buf, n, "%s after %s", r->period, r->column); break;
  case DSR_RET_TENANT_SETTING:
    snprintf(buf, n, "as set by the customer (default %s)", r->period);
    break;
  case DSR_RET_INDEFINITE: snprintf(buf, n, "kept: %s", r->basis ? r->basis : ""); break;
  case DSR_RET_NONE: snprintf(buf, n, "no fixed period"); break;
  }
  return buf;
}

static bool write_summary(struct xb *b)
{
  if (b->sp->kind == DSR_EXPORT_PORTABILITY)
    return true; /* portability: machine-readable formats only */
  json_t *list = json_array();
  size_t ci = 0;
  for (size_t i = 0; list && i < dsr_policy_collection_count(b->sp->policy); i++) {
    const struct dsr_pcollection *c = dsr_policy_topo_at(b->sp->policy, i);
    if (!included(b, c))
      continue;
    json_t *m = json_array_get(b->colls, ci++);
    char ret[256];
    json_t *cats = category_list(b, c);
    struct dsr_buf cl = {0};
    bool ok = dsr_buf_puts(&cl, "");
    for (size_t k = 0; ok && k < json_array_size(cats); k++)
      ok = dsr_buf_printf(&cl, "%s%s", k ? ", " : "",
                          json_string_value(json_object_get(json_array_get(cats, k), "label")));
    json_decref(cats);
    json_array_append_new(
        list, json_pack("{s:s, s:s, s:s, s:s, s:s, s:O, s:O}", "label",
                        c->export_label ? c->export_label : c->name, "name", c->name,
                        "categories", ok ? cl.data : "", "where", c->description ? c->description : "",
                        "kept", retention_text(c, ret, sizeof ret), "rows",
                        json_object_get(m, "rows"), "files", json_object_get(m, "files")));
    dsr_buf_free(&cl);
  }
  const json_t *org = dsr_policy_section(b->sp->policy, "organization");
  char *when = iso_time(b->sp->generated_at);
  json_t *ctx = json_pack("{s:o, s:s, s:s, s:s, s:s, s:I, s:I, s:b}", "collections", list,
                          "request_id", b->sp->request_id, "kind", kind_name(b->sp->kind),
                          "generated_at", when ? when : "", "policy_version",
                          policy_version(b->sp->policy), "rows", (json_int_t)b->rows, "files",
                          (json_int_t)b->files, "portability",
                          b->sp->kind == DSR_EXPORT_PORTABILITY);
  free(when);
  if (ctx && org)
    json_object_set(ctx, "org", (json_t *)org);
  char *html = NULL;
  bool ok = ctx && dsr_template_render("export_summary.html", "en", ctx, &html, b->err,
                                       sizeof b->err) &&
            xzip_begin(&b->z, "summary.html", b->sp->generated_at) && xzip_puts(&b->z, html) &&
            xzip_end(&b->z);
  free(html);
  json_decref(ctx);
  return ok;
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
  if (!b.colls)
    goto cleanup;
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
  zip_open = xzip_open(&b.z, &sink, spec->generated_at);
  if (!zip_open)
    goto cleanup;
  ok = write_csvs(&b) && write_data_json(&b) && write_media(&b) && write_summary(&b) &&
       write_manifest(&b);
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
  if (!ok)
    snprintf(err, errlen, "%s", b.err[0] ? b.err : "writing the package failed");
  return ok;
}

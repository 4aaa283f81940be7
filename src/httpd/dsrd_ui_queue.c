/**
 * @file dsrd_ui_queue.c
 * @brief GET /ui/: the privacy team's queue dashboard. Counts by status, due
 *        this week and overdue; the list filtered by status, type, queue and
 *        jurisdiction, sorted (newest, oldest, due date) and paginated.
 *        Filters are plain GET forms, so the page works without JavaScript.
 */
#include "config.h"
#include "httpd.h"
#include "dsr/jurisdiction.h"
#include "dsr/requests.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PAGE_SIZE 25
#define MAX_PAGE 10000

static const char *const statuses[] = {"received",  "pending_verification", "verified",
                                       "in_progress", "completed",          "denied",
                                       "withdrawn", "expired",              "on_hold",
                                       NULL};
static const char *const queues[] = {"controller", "escalated", "customer", NULL};
static const char *const sorts[] = {"newest", "oldest", "due", NULL};

static bool in_list(const char *const *list, const char *v)
{
  for (; *list; list++)
    if (!strcmp(*list, v))
      return true;
  return false;
}

/* The jurisdiction codes: the policy's, else the built-in table (borrowed; NULL-terminated). */
static json_t *jurisdiction_codes(const struct dsr_hreq *r)
{
  json_t *a = json_array();
  const json_t *table = dsr_policy_section(r->app->policy, "jurisdictions");
  if (json_is_object(table)) {
    const char *key;
    const json_t *j;
    json_object_foreach((json_t *)table, key, j)
      json_array_append_new(a, json_string(key));
  } else {
    for (const char *const *c = dsr_jurisdiction_codes(); *c; c++)
      json_array_append_new(a, json_string(*c));
  }
  return a;
}

/* One <select>'s options from @p values with @p sel selected. */
static json_t *options(const json_t *values, const char *sel)
{
  json_t *a = json_array();
  size_t i;
  const json_t *v;
  json_array_foreach(values, i, v)
    json_array_append_new(a, json_pack("{s:s, s:b}", "value", json_string_value(v), "selected",
                                       sel && !strcmp(sel, json_string_value(v))));
  return a;
}

static json_t *list_json(const char *const *list)
{
  json_t *a = json_array();
  for (; *list; list++)
    json_array_append_new(a, json_string(*list));
  return a;
}

struct queue_args {
  const char *status, *type, *queue, *jurisdiction, *sort;
  long page;
};

/* Reads and checks the query; false with *bad naming the parameter. */
static bool read_args(struct dsr_hreq *r, const json_t *jurs, struct queue_args *a,
                      const char **bad)
{
  struct {
    const char *name;
    const char **slot;
    const char *const *allowed;
  } p[] = {{"status", &a->status, statuses}, {"type", &a->type, dsr_request_types},
           {"queue", &a->queue, queues},     {"sort", &a->sort, sorts},
           {"jurisdiction", &a->jurisdiction, NULL}};
  for (size_t i = 0; i < DSR_ARRAY_LEN(p); i++) {
    const char *v = MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, p[i].name);
    if (v && !*v)
      v = NULL; /* "any" in the filter form */
    if (v && p[i].allowed && !in_list(p[i].allowed, v)) {
      *bad = p[i].name;
      return false;
    }
    if (v && !p[i].allowed) {
      bool found = false;
      size_t k;
      const json_t *j;
      json_array_foreach(jurs, k, j)
        found = found || !strcmp(json_string_value(j), v);
      if (!found) {
        *bad = p[i].name;
        return false;
      }
    }
    *p[i].slot = v;
  }
  if (!a->sort)
    a->sort = "newest";
  const char *pg = MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, "page");
  a->page = 1;
  if (pg && *pg) {
    char *end = NULL;
    a->page = strtol(pg, &end, 10);
    if (*end || a->page < 1 || a->page > MAX_PAGE) {
      *bad = "page";
      return false;
    }
  }
  return true;
}

/* The query string of this view with another page number (for the pager links). */
static json_t *page_link(const struct queue_args *a, long page)
{
  struct dsr_buf b = {0};
  const char *names[] = {"status", "type", "queue", "jurisdiction", "sort"};
  const char *vals[] = {a->status, a->type, a->queue, a->jurisdiction, a->sort};
  bool ok = dsr_buf_puts(&b, "/ui/?");
  for (size_t i = 0; ok && i < DSR_ARRAY_LEN(names); i++)
    if (vals[i]) /* values are from fixed lists: no escaping needed */
      ok = dsr_buf_printf(&b, "%s=%s&", names[i], vals[i]);
  ok = ok && dsr_buf_printf(&b, "page=%ld", page);
  json_t *s = ok ? json_string(b.data) : NULL;
  dsr_buf_free(&b);
  return s;
}

static bool add_counts(struct dsr_db *db, json_t *ctx, const char *now)
{
  PGresult *c = dsr_db_exec(db, DSR_STMT_UI_COUNTS, 0, NULL);
  const char *v[] = {now};
  PGresult *d = dsr_db_exec(db, DSR_STMT_UI_DUE, 1, v);
  bool ok = dsr_db_ok(c) && dsr_db_ok(d) && PQntuples(d) == 1;
  if (ok) {
    json_t *counts = json_array();
    long long total = 0;
    for (int i = 0; i < PQntuples(c); i++) {
      json_array_append_new(counts, json_pack("{s:s, s:I}", "status", PQgetvalue(c, i, 0),
                                              "count", (json_int_t)atoll(PQgetvalue(c, i, 1))));
      total += atoll(PQgetvalue(c, i, 1));
    }
    json_object_set_new(ctx, "counts", counts);
    json_object_set_new(ctx, "total", json_integer(total));
    json_object_set_new(ctx, "due_week", json_integer(atoll(PQgetvalue(d, 0, 0))));
    json_object_set_new(ctx, "overdue", json_integer(atoll(PQgetvalue(d, 0, 1))));
  }
  PQclear(c);
  PQclear(d);
  return ok;
}

static bool add_items(struct dsr_db *db, json_t *ctx, const struct queue_args *a,
                      const char *now)
{
  char limit[16], offset[24];
  snprintf(limit, sizeof limit, "%d", PAGE_SIZE + 1);
  snprintf(offset, sizeof offset, "%ld", (a->page - 1) * PAGE_SIZE);
  const char *v[] = {now, a->status, a->type, a->jurisdiction, a->queue, a->sort, limit, offset};
  PGresult *q = dsr_db_exec(db, DSR_STMT_UI_QUEUE, 8, v);
  if (!dsr_db_ok(q)) {
    PQclear(q);
    return false;
  }
  json_t *items = json_array();
  int rows = PQntuples(q), shown = rows > PAGE_SIZE ? PAGE_SIZE : rows;
  for (int i = 0; i < shown; i++)
    json_array_append_new(
        items, json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:b, s:s, s:I}", "id",
                         PQgetvalue(q, i, 0), "type", PQgetvalue(q, i, 1), "jurisdiction",
                         PQgetvalue(q, i, 2), "status", PQgetvalue(q, i, 3), "received_at",
                         PQgetvalue(q, i, 4), "due_at", PQgetvalue(q, i, 5), "overdue",
                         PQgetvalue(q, i, 6)[0] == 't', "assignee", PQgetvalue(q, i, 7),
                         "parts", (json_int_t)atoll(PQgetvalue(q, i, 8))));
  json_object_set_new(ctx, "items", items);
  json_object_set_new(ctx, "has_items", json_boolean(shown > 0));
  if (rows > PAGE_SIZE)
    json_object_set_new(ctx, "next", page_link(a, a->page + 1));
  if (a->page > 1)
    json_object_set_new(ctx, "prev", page_link(a, a->page - 1));
  json_object_set_new(ctx, "page", json_integer(a->page));
  PQclear(q);
  return true;
}

enum MHD_Result dsrd_ui_queue(struct dsr_hreq *r)
{
  json_t *jurs = jurisdiction_codes(r);
  struct queue_args a = {0};
  const char *bad = NULL;
  if (!read_args(r, jurs, &a, &bad)) {
    json_decref(jurs);
    char detail[96];
    snprintf(detail, sizeof detail, "The filter \"%s\" has a value this page does not know.", bad);
    return dsr_reply_problem(r, DSR_E_FIELD_INVALID, detail, NULL);
  }
  json_t *st = list_json(statuses), *ty = list_json(dsr_request_types), *qu = list_json(queues),
         *so = list_json(sorts);
  json_t *ctx = json_pack("{s:s, s:s, s:o, s:o, s:o, s:o, s:o}", "title", "Queue", "nav", "/ui/",
                          "statuses", options(st, a.status), "types", options(ty, a.type),
                          "queues", options(qu, a.queue), "jurisdictions",
                          options(jurs, a.jurisdiction), "sorts", options(so, a.sort));
  json_decref(st);
  json_decref(ty);
  json_decref(qu);
  json_decref(so);
  json_decref(jurs);
  if (!ctx)
    return dsr_reply_problem(r, DSR_E_INTERNAL, NULL, NULL);
  char now[24];
  snprintf(now, sizeof now, "%lld", (long long)dsr_now());
  struct dsr_db *db = dsr_db_acquire(r->app->pool);
  bool ok = db && add_counts(db, ctx, now) && add_items(db, ctx, &a, now);
  if (db)
    dsr_db_release(db);
  enum MHD_Result ret = ok ? dsrd_ui_page(r, 200, "ui_queue.html", ctx)
                           : dsr_reply_problem(r, DSR_E_DB_UNAVAILABLE, NULL, NULL);
  json_decref(ctx);
  return ret;
}

/**
 * @file dsrd_ui_queue.c
 * @brief GET /ui/: the privacy team's queue dashboard. Counts by status, due
 *        this week and overdue; a search box (request id prefix, or the
 *        subject's email or phone, found through the identities' keyed
 *        lookup hash); the list with a masked subject and the days left,
 *        filtered by status (or "needs action"), type, queue, jurisdiction,
 *        assignee, customer and agent (requests an authorized agent filed),
 *        sorted (newest, oldest, due date) and paginated. Requests still waiting for verification are hidden
 *        unless asked for (or searched). Filters are plain GET forms and
 *        links, so the page works without JavaScript, and every view is a URL.
 *        GET /ui/queue.csv answers the same filtered view as CSV (masked
 *        subjects only).
 */
#include "config.h"
#include "httpd.h"
#include "dsr/admin.h"
#include "dsr/drp.h"
#include "dsr/jurisdiction.h"
#include "dsr/log.h"
#include "dsr/mask.h"
#include "dsr/validate.h"
#include "dsr/requests.h"

#include <stdio.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#define PAGE_SIZE 25
#define MAX_PAGE 10000
#define CSV_MAX_ROWS 10000

static const char *const statuses[] = {"needs_action", "received",  "pending_verification", "verified",
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
  const char *q;        /**< the search text as typed */
  const char *assignee; /**< "me", "none" or a staff id */
  const char *customer; /**< a customer id */
  const char *agent;    /**< "any" (filed by an authorized agent) or an agent id of the directory */
  bool pending;         /**< show requests still waiting for verification */
  bool tick_all;        /**< every request of the page comes ticked (no script needed) */
  long page;
  enum dsr_queue_search qs;
  char prefix[40];
  unsigned char hash[DSR_HASH_BYTES];
};

/* "me", "none" or a UUID for the assignee; a UUID for the customer; "any" or a known agent. */
static bool free_args(struct dsr_hreq *r, struct queue_args *a, const char **bad)
{
  const char *why;
  a->q = MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, "q");
  a->assignee = MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, "assignee");
  a->customer = MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, "customer");
  a->agent = MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, "agent");
  const char *pend = MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, "pending");
  a->pending = pend && !strcmp(pend, "1");
  const char *tick = MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, "tick");
  if (tick && strcmp(tick, "all") != 0 && *tick) {
    *bad = "tick";
    return false;
  }
  a->tick_all = tick && *tick;
  if (a->q && !*a->q)
    a->q = NULL;
  if (a->assignee && !*a->assignee)
    a->assignee = NULL;
  if (a->customer && !*a->customer)
    a->customer = NULL;
  if (a->agent && !*a->agent)
    a->agent = NULL;
  if (a->q && (strlen(a->q) > 100 || !dsr_valid_text(a->q, &why))) {
    *bad = "q";
    return false;
  }
  if (a->assignee && strcmp(a->assignee, "me") && strcmp(a->assignee, "none") &&
      !dsr_valid_uuid(a->assignee, &why)) {
    *bad = "assignee";
    return false;
  }
  if (a->customer && !dsr_valid_uuid(a->customer, &why)) {
    *bad = "customer";
    return false;
  }
  if (a->agent && strcmp(a->agent, "any") && !dsr_drp_agent_find(r->app->drp_dir, a->agent)) {
    *bad = "agent";
    return false;
  }
  return true;
}

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
  if (!free_args(r, a, bad))
    return false;
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

/* The URL of this view with another page number, sort or "pending" choice (caller decrefs). */
static json_t *view_link_at(const char *path, const struct queue_args *a, long page,
                           const char *sort, bool pending)
{
  struct dsr_buf b = {0};
  const char *names[] = {"q",        "status",   "type",    "queue", "jurisdiction",
                         "assignee", "customer", "agent"};
  const char *vals[] = {a->q,        a->status,   a->type,  a->queue, a->jurisdiction,
                        a->assignee, a->customer, a->agent};
  bool ok = dsr_buf_puts(&b, path) && dsr_buf_puts(&b, "?");
  for (size_t i = 0; ok && i < DSR_ARRAY_LEN(names); i++)
    if (vals[i])
      ok = dsrd_url_param(&b, names[i], vals[i]);
  if (ok && pending)
    ok = dsr_buf_puts(&b, "pending=1&");
  ok = ok && dsrd_url_param(&b, "sort", sort) && dsr_buf_printf(&b, "page=%ld", page);
  json_t *s = ok ? json_string(b.data) : NULL;
  dsr_buf_free(&b);
  return s;
}

static json_t *view_link(const struct queue_args *a, long page, const char *sort, bool pending)
{
  return view_link_at("/ui/", a, page, sort, pending);
}

static json_t *page_link(const struct queue_args *a, long page)
{
  return view_link(a, page, a->sort, a->pending);
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

/* The masked subject of a row (sealed identity in columns 11, 12), "" when none. */
static void masked_subject(const PGresult *q, int i, char *out, size_t outlen)
{
  out[0] = '\0';
  if (PQgetisnull(q, i, 12))
    return;
  size_t n = 0, pl = 0;
  unsigned char *raw = PQunescapeBytea((const unsigned char *)PQgetvalue(q, i, 12), &n);
  unsigned char *plain = NULL;
  dsr_strlcpy(out, "***", outlen);
  if (raw && dsr_unseal(raw, n, &plain, &pl)) {
    dsr_mask_identity(PQgetvalue(q, i, 11), (const char *)plain, out, outlen);
    sodium_memzero(plain, pl);
  }
  free(plain);
  PQfreemem(raw);
}

/* "3 days left", "due today", "2 days overdue"; the class says how urgent. */
static json_t *days_left(const PGresult *q, int i)
{
  bool overdue = PQgetvalue(q, i, 6)[0] == 't', soon = PQgetvalue(q, i, 10)[0] == 't';
  long long d = atoll(PQgetvalue(q, i, 9));
  char text[48] = "";
  const char *cls = "";
  if (overdue) {
    long long late = d <= 0 ? 1 - d : 0;
    snprintf(text, sizeof text, "%lld day%s overdue", late, late == 1 ? "" : "s");
    cls = "bad-text";
  } else if (soon || d > 0) {
    snprintf(text, sizeof text, "%lld day%s left", d, d == 1 ? "" : "s");
    cls = soon ? "warn-text" : "";
  }
  return json_pack("{s:s, s:s, s:b}", "text", text, "class", cls, "soon", soon && !overdue);
}

/* Runs the queue statement for @p a (NULL on a database error; caller PQclears). */
static PGresult *queue_rows(struct dsr_db *db, const struct queue_args *a, const char *me,
                            const char *now, int limit, long offset)
{
  char lim[16], off[24];
  snprintf(lim, sizeof lim, "%d", limit);
  snprintf(off, sizeof off, "%ld", offset);
  const char *assignee = a->assignee && !strcmp(a->assignee, "me") ? me : a->assignee;
  const char *v[] = {now,     a->status,
                     a->type, a->jurisdiction,
                     a->queue, a->sort,
                     lim,     off,
                     a->qs == DSR_QS_ID ? a->prefix : NULL,
                     a->qs == DSR_QS_IDENTITY ? (const char *)a->hash : NULL,
                     a->pending || a->qs != DSR_QS_NONE ||
                             (a->status && strcmp(a->status, "needs_action"))
                         ? "true"
                         : "false",
                     assignee, a->customer, a->agent};
  int lens[14] = {0}, fmts[14] = {0};
  lens[9] = DSR_HASH_BYTES;
  fmts[9] = 1;
  PGresult *q = dsr_db_exec_bin(db, DSR_STMT_UI_QUEUE, 14, v, lens, fmts);
  if (!dsr_db_ok(q)) {
    PQclear(q);
    return NULL;
  }
  return q;
}

static bool add_items(struct dsr_db *db, json_t *ctx, const struct queue_args *a,
                      const char *me, const char *now)
{
  PGresult *q = queue_rows(db, a, me, now, PAGE_SIZE + 1, (a->page - 1) * PAGE_SIZE);
  if (!q)
    return false;
  json_t *items = json_array();
  int rows = PQntuples(q), shown = rows > PAGE_SIZE ? PAGE_SIZE : rows;
  for (int i = 0; i < shown; i++) {
    char subject[300];
    masked_subject(q, i, subject, sizeof subject);
    json_array_append_new(
        items, json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:b, s:s, s:I, s:s, s:o}", "id",
                         PQgetvalue(q, i, 0), "type", PQgetvalue(q, i, 1), "jurisdiction",
                         PQgetvalue(q, i, 2), "status", PQgetvalue(q, i, 3), "received_at",
                         PQgetvalue(q, i, 4), "due_at", PQgetvalue(q, i, 5), "overdue",
                         PQgetvalue(q, i, 6)[0] == 't', "assignee", PQgetvalue(q, i, 7),
                         "parts", (json_int_t)atoll(PQgetvalue(q, i, 8)), "subject", subject,
                         "left", days_left(q, i)));
    json_object_set_new(json_array_get(items, (size_t)i), "n", json_integer(i + 1));
  }
  json_object_set_new(ctx, "items", items);
  json_object_set_new(ctx, "has_items", json_boolean(shown > 0));
  if (rows > PAGE_SIZE)
    json_object_set_new(ctx, "next", page_link(a, a->page + 1));
  if (a->page > 1)
    json_object_set_new(ctx, "prev", page_link(a, a->page - 1));
  json_object_set_new(ctx, "page", json_integer(a->page));
  json_object_set_new(ctx, "ticked", json_boolean(a->tick_all));
  json_t *tick = page_link(a, a->page); /* the same page, every request ticked */
  const char *t = json_string_value(tick);
  char *all = t ? dsr_asprintf("%s&tick=all", t) : NULL;
  json_object_set_new(ctx, "tick_all", all ? json_string(all) : json_null());
  json_object_set_new(ctx, "untick", page_link(a, a->page));
  free(all);
  json_decref(tick);
  json_object_set_new(ctx, "csv", view_link_at("/ui/queue.csv", a, 1, a->sort, a->pending));
  PQclear(q);
  return true;
}

/* The agent filter's options: any authorized agent, then each agent of the DRP directory. */
static json_t *agent_options(const struct dsr_drp_directory *dir, const char *sel)
{
  json_t *list = json_array();
  json_array_append_new(list, json_pack("{s:s, s:s, s:b}", "value", "any", "label",
                                        "any authorized agent", "selected",
                                        sel && !strcmp(sel, "any")));
  for (size_t i = 0; dir && i < dir->n; i++) {
    const struct dsr_drp_agent *ag = &dir->agents[i];
    json_array_append_new(list, json_pack("{s:s, s:s, s:b}", "value", ag->id, "label",
                                          ag->name ? ag->name : ag->id, "selected",
                                          sel && !strcmp(sel, ag->id)));
  }
  return list;
}

/* The assignee, customer and agent filters' options, and how many requests the default view
 * hides. */
static bool add_choices(struct dsr_hreq *r, struct dsr_db *db, json_t *ctx,
                        const struct queue_args *a, const char *me)
{
  json_object_set_new(ctx, "agents", agent_options(r->app->drp_dir, a->agent));
  PGresult *st = dsr_db_exec(db, DSR_STMT_UI_STAFF_LIST, 0, NULL);
  PGresult *cu = dsr_db_exec(db, DSR_STMT_UI_CUSTOMER_NAMES, 0, NULL);
  PGresult *pc = dsr_db_exec(db, DSR_STMT_UI_PENDING_COUNT, 0, NULL);
  bool ok = dsr_db_ok(st) && dsr_db_ok(cu) && dsr_db_ok(pc) && PQntuples(pc) == 1;
  if (ok) {
    const char *sel = a->assignee && !strcmp(a->assignee, "me") ? me : a->assignee;
    json_t *staff = json_array(), *custs = json_array();
    for (int i = 0; i < PQntuples(st); i++)
      json_array_append_new(staff, json_pack("{s:s, s:s, s:s, s:b, s:b}", "value",
                                             PQgetvalue(st, i, 0), "label", PQgetvalue(st, i, 1),
                                             "role", PQgetvalue(st, i, 2), "selected",
                                             sel && !strcmp(sel, PQgetvalue(st, i, 0)), "me",
                                             !strcmp(me, PQgetvalue(st, i, 0))));
    for (int i = 0; i < PQntuples(cu); i++)
      json_array_append_new(custs, json_pack("{s:s, s:s, s:b}", "value", PQgetvalue(cu, i, 0),
                                             "label", PQgetvalue(cu, i, 1), "selected",
                                             a->customer &&
                                                 !strcmp(a->customer, PQgetvalue(cu, i, 0))));
    json_object_set_new(ctx, "staff", staff);
    json_object_set_new(ctx, "customers", custs);
    json_object_set_new(ctx, "assignee_none",
                        json_boolean(a->assignee && !strcmp(a->assignee, "none")));
    long long hidden = atoll(PQgetvalue(pc, 0, 0));
    bool hiding = !a->pending && a->qs == DSR_QS_NONE &&
                  (!a->status || !strcmp(a->status, "needs_action"));
    json_object_set_new(ctx, "pending_hidden", json_integer(hiding ? hidden : 0));
    if (hiding && hidden > 0)
      json_object_set_new(ctx, "show_pending", view_link(a, 1, a->sort, true));
    if (a->pending)
      json_object_set_new(ctx, "hide_pending", view_link(a, 1, a->sort, false));
  }
  PQclear(st);
  PQclear(cu);
  PQclear(pc);
  return ok;
}

/* The bulk actions this user may take from the queue, and the deny reasons. */
static void add_bulk(struct dsr_hreq *r, json_t *ctx)
{
  static const char *const acts[] = {"assign", "approve", "deny"};
  json_t *can = json_object();
  bool any = false;
  for (size_t i = 0; i < DSR_ARRAY_LEN(acts); i++) {
    bool ok = dsrd_ui_may(r, "POST", "/ui/bulk", acts[i]);
    json_object_set_new(can, acts[i], json_boolean(ok));
    any = any || ok;
  }
  json_object_set_new(ctx, "bulk", can);
  json_object_set_new(ctx, "can_bulk", json_boolean(any));
  json_t *reasons = json_array();
  for (const char *const *c = dsr_deny_reasons; *c; c++)
    json_array_append_new(reasons, json_string(*c));
  json_object_set_new(ctx, "deny_reasons", reasons);
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
  a.qs = dsr_queue_search_parse(a.q, a.prefix, a.hash);
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
  json_object_set_new(ctx, "q", json_string(a.q ? a.q : ""));
  add_bulk(r, ctx);
  json_object_set_new(ctx, "pending", json_boolean(a.pending));
  if (a.qs == DSR_QS_INVALID)
    json_object_set_new(ctx, "search_error",
                        json_string("Search by a request id (at least 4 characters), an email "
                                    "address, or a phone number with its country code."));
  char now[24];
  snprintf(now, sizeof now, "%lld", (long long)dsr_now());
  struct dsr_db *db = dsr_db_acquire(r->app->pool);
  bool ok = db && add_counts(db, ctx, now) && add_choices(r, db, ctx, &a, r->staff_id);
  if (ok && a.qs == DSR_QS_INVALID)
    json_object_set_new(ctx, "has_items", json_false());
  else if (ok)
    ok = add_items(db, ctx, &a, r->staff_id, now);
  if (db)
    dsr_db_release(db);
  enum MHD_Result ret = ok ? dsrd_ui_page(r, 200, "ui_queue.html", ctx)
                           : dsr_reply_problem(r, DSR_E_DB_UNAVAILABLE, NULL, NULL);
  json_decref(ctx);
  return ret;
}

/* One CSV field: quoted when it holds a comma, quote or line break; a leading =, +, - or @
 * (other than a negative number) is prefixed with ' so a spreadsheet never runs it. */
static bool csv_field(struct dsr_buf *b, const char *v, bool last)
{
  bool ok = true;
  bool negative = v[0] == '-' && v[1] && strspn(v + 1, "0123456789") == strlen(v + 1);
  if (v[0] && strchr("=+-@", v[0]) && !negative)
    ok = dsr_buf_puts(b, "'");
  if (strpbrk(v, ",\"\r\n")) {
    ok = ok && dsr_buf_puts(b, "\"");
    for (const char *p = v; ok && *p; p++)
      ok = *p == '"' ? dsr_buf_puts(b, "\"\"") : dsr_buf_append(b, p, 1);
    ok = ok && dsr_buf_puts(b, "\"");
  } else {
    ok = ok && dsr_buf_puts(b, v);
  }
  return ok && dsr_buf_puts(b, last ? "\r\n" : ",");
}

enum MHD_Result dsrd_ui_queue_csv(struct dsr_hreq *r)
{
  json_t *jurs = jurisdiction_codes(r);
  struct queue_args a = {0};
  const char *bad = NULL;
  bool args_ok = read_args(r, jurs, &a, &bad);
  json_decref(jurs);
  if (!args_ok)
    return dsr_reply_problem(r, DSR_E_FIELD_INVALID, "A filter has a value this page does not know.",
                             bad);
  a.qs = dsr_queue_search_parse(a.q, a.prefix, a.hash);
  if (a.qs == DSR_QS_INVALID)
    return dsr_reply_problem(r, DSR_E_FIELD_INVALID,
                             "Search by a request id, an email address or a phone number.", "q");
  char now[24];
  snprintf(now, sizeof now, "%lld", (long long)dsr_now());
  struct dsr_db *db = dsr_db_acquire(r->app->pool);
  PGresult *q = db ? queue_rows(db, &a, r->staff_id, now, CSV_MAX_ROWS, 0) : NULL;
  if (db)
    dsr_db_release(db);
  if (!q)
    return dsr_reply_problem(r, DSR_E_DB_UNAVAILABLE, NULL, NULL);
  struct dsr_buf b = {0};
  bool ok = dsr_buf_puts(&b, "request_id,subject,type,jurisdiction,status,received_at,due_at,"
                             "days_left,overdue,assigned_to,parts\r\n");
  for (int i = 0; ok && i < PQntuples(q); i++) {
    char subject[300];
    masked_subject(q, i, subject, sizeof subject);
    const char *f[] = {PQgetvalue(q, i, 0), subject, PQgetvalue(q, i, 1), PQgetvalue(q, i, 2),
                       PQgetvalue(q, i, 3), PQgetvalue(q, i, 4), PQgetvalue(q, i, 5),
                       PQgetvalue(q, i, 9), PQgetvalue(q, i, 6)[0] == 't' ? "yes" : "no",
                       PQgetvalue(q, i, 7), PQgetvalue(q, i, 8)};
    for (size_t k = 0; ok && k < DSR_ARRAY_LEN(f); k++)
      ok = csv_field(&b, f[k], k + 1 == DSR_ARRAY_LEN(f));
  }
  PQclear(q);
  if (!ok) {
    dsr_buf_free(&b);
    return dsr_reply_problem(r, DSR_E_INTERNAL, NULL, NULL);
  }
  DSR_INFO("ui.queue_exported", "rid=%s staff=%s", r->rid, r->staff_id);
  return dsr_reply_document(r, 200, dsr_buf_steal(&b), "text/csv; charset=utf-8");
}

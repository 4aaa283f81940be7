/**
 * @file dsrd_pages.c
 * @brief The public HTML pages: request form, verification (code entry and
 *        one-click link landing), status, re-send and withdraw. No script;
 *        every value goes through the template's HTML escaping. The status
 *        token of a request made with the form lives in an HttpOnly,
 *        SameSite=Strict cookie scoped to that request's path.
 */
#include "config.h"
#include "httpd.h"
#include "dsr/closing.h"
#include "dsr/jurisdiction.h"
#include "dsr/log.h"
#include "dsr/parts.h"
#include "dsr/requests.h"
#include "dsr/validate.h"
#include "dsr/timefmt.h"
#include "dsr/verify.h"
#include "dsr/words.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define STATUS_COOKIE "dsr_st"

/* The request types, in the form's order; their words are templates/words.*.txt "choice.*". */
static const char *const request_types[] = {"access",      "portability", "erasure",
                                            "rectification", "restriction", "objection",
                                            "withdraw_consent", "opt_out"};


const struct dsr_jspec dsrd_page_create_form[] = {
    {.name = "type", .type = DSR_JT_STRING, .required = true, .max_len = 32},
    {.name = "jurisdiction", .type = DSR_JT_STRING, .max_len = 32},
    {.name = "email", .type = DSR_JT_STRING, .max_len = 254, .validate = dsr_valid_email},
    {.name = "phone", .type = DSR_JT_STRING, .max_len = 32, .validate = dsr_valid_phone_written},
    {.name = "details", .type = DSR_JT_STRING, .max_len = 4000, .validate = dsr_valid_text},
    {.name = "language", .type = DSR_JT_STRING, .max_len = 35, .validate = dsr_valid_language},
    /* rectification: up to three corrections of the fields the policy lets subjects correct */
    {.name = "correction_field_1", .type = DSR_JT_STRING, .max_len = 160},
    {.name = "correction_value_1", .type = DSR_JT_STRING, .max_len = 1000},
    {.name = "correction_field_2", .type = DSR_JT_STRING, .max_len = 160},
    {.name = "correction_value_2", .type = DSR_JT_STRING, .max_len = 1000},
    {.name = "correction_field_3", .type = DSR_JT_STRING, .max_len = 160},
    {.name = "correction_value_3", .type = DSR_JT_STRING, .max_len = 1000},
    {0},
};

#define FORM_CORRECTIONS 3

/* A column's label for people: the policy's export label, else its name with spaces. */
static void column_label(const struct dsr_pcollection *c, const char *col, char *out, size_t len)
{
  const char *l = json_string_value(json_object_get(c->export_fields, col));
  dsr_strlcpy(out, l ? l : col, len);
  for (char *p = out; !l && *p; p++)
    if (*p == '_')
      *p = ' ';
}

/* What people call collection @p c: its label, its export label, else its first category's. */
static const char *collection_label(const struct dsr_policy *p, const struct dsr_pcollection *c)
{
  if (c->label)
    return c->label;
  if (c->export_label)
    return c->export_label;
  const json_t *cats = dsr_policy_section(p, "categories");
  const char *l = c->ncategories ? json_string_value(json_object_get(
                                       json_object_get(cats, c->categories[0]), "label"))
                                 : NULL;
  return l ? l : c->name;
}

/*
 * The correction rows of the form: FORM_CORRECTIONS slots, each with the
 * policy's rectifiable fields as options ("collection.column", labelled) and
 * what the subject chose and wrote; NULL when the policy names none.
 */
static json_t *correction_slots(const struct dsr_policy *p, const json_t *values)
{
  size_t n = p ? dsr_policy_collection_count(p) : 0;
  json_t *slots = json_array();
  bool any = false;
  for (int k = 1; slots && k <= FORM_CORRECTIONS; k++) {
    char fkey[32], vkey[32];
    snprintf(fkey, sizeof fkey, "correction_field_%d", k);
    snprintf(vkey, sizeof vkey, "correction_value_%d", k);
    const char *chosen = dsr_json_str(values, fkey), *val = dsr_json_str(values, vkey);
    json_t *opts = json_array();
    for (size_t i = 0; opts && i < n; i++) {
      const struct dsr_pcollection *c = dsr_policy_topo_at(p, i);
      for (size_t j = 0; j < c->nrectifiable; j++) {
        char value[200], col[120], label[300];
        snprintf(value, sizeof value, "%s.%s", c->name, c->rectifiable[j]);
        column_label(c, c->rectifiable[j], col, sizeof col);
        snprintf(label, sizeof label, "%s: %s", collection_label(p, c), col);
        json_array_append_new(opts, json_pack("{s:s, s:s, s:b}", "value", value, "label", label,
                                              "selected", chosen && !strcmp(chosen, value)));
        any = true;
      }
    }
    json_array_append_new(slots, json_pack("{s:i, s:o, s:s}", "n", k, "options", opts, "value",
                                           val ? val : ""));
  }
  if (!any) {
    json_decref(slots);
    return NULL;
  }
  return slots;
}

static const char *const code_channels[] = {"email", "sms", NULL};

const struct dsr_jspec dsrd_page_verify_form[] = {
    {.name = "channel", .type = DSR_JT_STRING, .max_len = 16, .one_of = code_channels},
    {.name = "code", .type = DSR_JT_STRING, .max_len = 16},
    {.name = "token", .type = DSR_JT_STRING, .max_len = 2048},
    {0},
};

const struct dsr_jspec dsrd_page_resend_form[] = {
    {.name = "channel", .type = DSR_JT_STRING, .required = true, .max_len = 16,
     .one_of = code_channels},
    {0},
};

const struct dsr_jspec dsrd_page_empty_form[] = {{0}};

/* "k": the status-link capability, when the page was opened from a mailed link. */
const struct dsr_jspec dsrd_page_withdraw_form[] = {
    {.name = "k", .type = DSR_JT_STRING, .max_len = 128},
    {0},
};

const struct dsr_jspec dsrd_page_download_form[] = {
    {.name = "export_id", .type = DSR_JT_STRING, .required = true, .max_len = 36},
    {.name = "k", .type = DSR_JT_STRING, .max_len = 128},
    {0},
};

/* Form choices: request types and the deployment's jurisdictions. */
static json_t *form_ctx(struct dsr_hreq *r, const json_t *values)
{
  const char *sel_type = dsr_json_str(values, "type");
  const char *sel_jur = dsr_json_str(values, "jurisdiction");
  json_t *types = json_array(), *jurs = json_array();
  const json_t *table = dsr_policy_section(r->app->policy, "jurisdictions");
  const char *def = json_string_value(dsr_policy_section(r->app->policy, "default_jurisdiction"));
  if (!def)
    def = r->app->cfg->default_jurisdiction;
  if (!sel_jur)
    sel_jur = def;
  const char *lang = dsrd_page_lang(r, dsr_json_str(values, "language"));
  json_t *phone_for = json_array();
  for (size_t i = 0; i < DSR_ARRAY_LEN(request_types); i++) {
    char label[200];
    const char *t = request_types[i];
    /* what this request will ask, before it is sent (the policy's rules) */
    char *asks = dsr_verify_asks(r->app->policy, t, sel_jur, lang);
    json_t *e = json_pack("{s:s, s:s, s:b}", "value", t, "label",
                          dsr_words_get("choice", t, lang, label, sizeof label), "selected",
                          sel_type && !strcmp(sel_type, t));
    if (e && asks)
      json_object_set_new(e, "asks", json_string(asks));
    if (e && asks && dsr_verify_partial_allowed(r->app->policy, t, sel_jur))
      json_object_set_new(e, "partial", json_true()); /* fewer codes: a partial answer */
    json_array_append_new(types, e);
    if (dsr_verify_needs(r->app->policy, t, sel_jur, DSR_CH_SMS))
      json_array_append_new(phone_for, json_pack("{s:s}", "label", label));
    free(asks);
  }
  if (json_is_object(table)) {
    const char *key;
    const json_t *j;
    json_object_foreach((json_t *)table, key, j)
    {
      const char *name = json_string_value(json_object_get(j, "name"));
      json_array_append_new(jurs, json_pack("{s:s, s:s, s:b}", "code", key, "name",
                                            name ? name : key, "selected", !strcmp(key, sel_jur)));
    }
  } else {
    for (const char *const *c = dsr_jurisdiction_codes(); *c; c++)
      json_array_append_new(jurs, json_pack("{s:s, s:s, s:b}", "code", *c, "name",
                                            dsr_jurisdiction_find(*c)->name, "selected",
                                            !strcmp(*c, sel_jur)));
  }
  /* "o" takes the new empty object over; "O" on it kept a second reference (a leak per view). */
  json_t *ctx = json_pack("{s:o, s:o, s:o, s:o, s:b, s:s}", "types", types, "jurisdictions", jurs,
                          "values", values ? json_deep_copy(values) : json_object(), "phone_for",
                          phone_for, "phone_needed", json_array_size(phone_for) > 0, "lang", lang);
  json_t *slots = ctx ? correction_slots(r->app->policy, values) : NULL;
  if (slots) {
    json_object_set_new(ctx, "corrections", slots);
    json_object_set_new(ctx, "can_correct", json_true());
  }
  return ctx;
}

static bool known_type(const char *t)
{
  for (size_t i = 0; t && i < DSR_ARRAY_LEN(request_types); i++)
    if (!strcmp(request_types[i], t))
      return true;
  return false;
}

/* The form's fields in page order (the order its problems are listed in). */
static const char *const form_fields[] = {
    "type",    "jurisdiction",       "email",
    "phone",   "correction_field_1", "correction_value_1",
    "correction_field_2", "correction_value_2", "correction_field_3",
    "correction_value_3", "details",  "language"};

/* Adds problem "form.<key>" (words, in @p lang) for @p field unless it already has one. */
static void add_problem(json_t *errors, const char *field, const char *key, const char *lang)
{
  char msg[300];
  if (!json_object_get(errors, field))
    json_object_set_new(errors, field, json_string(dsr_words_get("form", key, lang, msg,
                                                                 sizeof msg)));
}

/*
 * Every problem of the request form at once, as {"field": "message"}: each
 * field against the form's spec, then what the form as a whole needs (a
 * known type; an email or a phone; both when the chosen request needs both).
 */
static json_t *form_problems(struct dsr_hreq *r, const json_t *f, const char *lang)
{
  json_t *errors = json_object();
  for (const struct dsr_jspec *sp = dsrd_page_create_form; errors && sp->name; sp++) {
    const json_t *v = json_object_get(f, sp->name);
    if (!v)
      continue;
    const char *why = NULL, *sv = json_string_value(v);
    char key[48];
    if (!sv) {
      snprintf(key, sizeof key, "%s_invalid", sp->name);
      add_problem(errors, sp->name, key, lang);
    } else if (strlen(sv) > (sp->max_len ? sp->max_len : 1024)) {
      snprintf(key, sizeof key, "%s_invalid", sp->name);
      add_problem(errors, sp->name, strcmp(sp->name, "details") ? key : "too_long", lang);
    } else if (sp->validate && !sp->validate(sv, &why)) {
      snprintf(key, sizeof key, "%s_invalid", sp->name);
      add_problem(errors, sp->name, key, lang);
    }
  }
  const char *type = dsr_json_str(f, "type"), *jur = dsr_json_str(f, "jurisdiction");
  if (!errors)
    return NULL;
  for (int k = 1; type && !strcmp(type, "rectification") && k <= FORM_CORRECTIONS; k++) {
    char fkey[32], vkey[32];
    snprintf(fkey, sizeof fkey, "correction_field_%d", k);
    snprintf(vkey, sizeof vkey, "correction_value_%d", k);
    const char *fv = dsr_json_str(f, fkey), *vv = dsr_json_str(f, vkey);
    bool has_f = fv && *fv, has_v = vv && *vv;
    if (has_f && !has_v)
      add_problem(errors, vkey, "correction_value_missing", lang);
    else if (has_v && !has_f)
      add_problem(errors, fkey, "correction_field_missing", lang);
    for (const unsigned char *c = (const unsigned char *)(has_v ? vv : ""); *c; c++)
      if (*c < 0x20 || *c == 0x7f) {
        add_problem(errors, vkey, "correction_value_invalid", lang);
        break;
      }
  }
  if (!known_type(type))
    add_problem(errors, "type", "type_missing", lang);
  bool email = dsr_json_str(f, "email") != NULL, phone = dsr_json_str(f, "phone") != NULL;
  if (!email && !phone) {
    add_problem(errors, "email", "contact_missing", lang);
  } else if (known_type(type)) {
    if (!jur)
      jur = json_string_value(dsr_policy_section(r->app->policy, "default_jurisdiction"));
    if (!jur)
      jur = r->app->cfg->default_jurisdiction;
    if (!phone && dsr_verify_needs(r->app->policy, type, jur, DSR_CH_SMS))
      add_problem(errors, "phone", "phone_needed", lang);
    if (!email && dsr_verify_needs(r->app->policy, type, jur, DSR_CH_EMAIL))
      add_problem(errors, "email", "email_needed", lang);
  }
  return errors;
}

/*
 * The form again with its problems (@p errors, taken): a summary listing each
 * (linked to its field), and each next to its field (aria-invalid,
 * aria-describedby, see page_form.html).
 */
static enum MHD_Result form_page(struct dsr_hreq *r, unsigned status, const json_t *values,
                                 json_t *errors)
{
  json_t *ctx = form_ctx(r, values);
  const char *lang = ctx ? dsr_json_str(ctx, "lang") : "en";
  char title[120];
  if (ctx)
    json_object_set_new(ctx, "title", json_string(dsr_words_get("title", "form", lang, title,
                                                                sizeof title)));
  if (ctx && errors && json_object_size(errors) > 0) {
    json_t *list = json_array();
    for (size_t i = 0; i < DSR_ARRAY_LEN(form_fields); i++) {
      const char *m = dsr_json_str(errors, form_fields[i]);
      if (m)
        json_array_append_new(list, json_pack("{s:s, s:s, s:s}", "field", form_fields[i],
                                              "anchor", !strcmp(form_fields[i], "type")
                                                            ? "type-access"
                                                            : form_fields[i],
                                              "message", m));
    }
    json_object_set_new(ctx, "error_list", list);
    size_t i;
    json_t *slot;
    json_array_foreach(json_object_get(ctx, "corrections"), i, slot)
    { /* the rows' problems, next to their fields */
      char fkey[48], vkey[48];
      snprintf(fkey, sizeof fkey, "correction_field_%zu", i + 1);
      snprintf(vkey, sizeof vkey, "correction_value_%zu", i + 1);
      if (dsr_json_str(errors, fkey))
        json_object_set_new(slot, "field_error", json_string(dsr_json_str(errors, fkey)));
      if (dsr_json_str(errors, vkey))
        json_object_set_new(slot, "value_error", json_string(dsr_json_str(errors, vkey)));
    }
    json_object_set(ctx, "errors", errors);
    json_object_set_new(ctx, "has_errors", json_true());
  }
  json_decref(errors);
  enum MHD_Result ret = dsr_reply_html(r, status, "page_form.html", ctx);
  json_decref(ctx);
  return ret;
}

/* One problem for @p field (a JSON pointer such as "/subject/email", or a name) as words key @p key. */
static json_t *one_problem(const char *field, const char *key, const char *lang)
{
  json_t *errors = json_object();
  char slot[40];
  const char *name = field && *field ? strrchr(field, '/') : NULL;
  name = name ? name + 1 : field && *field ? field : "type";
  if (field && !strncmp(field, "/corrections", 12)) { /* "/corrections/1/value": the 2nd row */
    long n = field[12] == '/' ? strtol(field + 13, NULL, 10) : 0;
    snprintf(slot, sizeof slot, "correction_%s_%ld", strstr(field, "/value") ? "value" : "field",
             n >= 0 && n < FORM_CORRECTIONS ? n + 1 : 1);
    name = slot;
    key = strstr(field, "/value") ? "correction_value_invalid" : "correction_field_missing";
  }
  bool known = false;
  for (size_t i = 0; i < DSR_ARRAY_LEN(form_fields); i++)
    known |= !strcmp(form_fields[i], name);
  if (errors)
    add_problem(errors, known ? name : "type", key, lang);
  return errors;
}

enum MHD_Result dsrd_page_form(struct dsr_hreq *r)
{
  return form_page(r, 200, NULL, NULL);
}

/* Turns the flat form into the API's request body. */
static json_t *form_to_request(const json_t *f)
{
  json_t *subject = json_object();
  json_t *req = json_pack("{s:s}", "type", dsr_json_str(f, "type"));
  const char *skeys[] = {"email", "phone"};
  for (size_t i = 0; subject && i < DSR_ARRAY_LEN(skeys); i++)
    if (dsr_json_str(f, skeys[i]))
      json_object_set_new(subject, skeys[i], json_string(dsr_json_str(f, skeys[i])));
  const char *rkeys[] = {"jurisdiction", "details", "language"};
  for (size_t i = 0; req && i < DSR_ARRAY_LEN(rkeys); i++)
    if (dsr_json_str(f, rkeys[i]))
      json_object_set_new(req, rkeys[i], json_string(dsr_json_str(f, rkeys[i])));
  if (req && subject)
    json_object_set(req, "subject", subject);
  json_decref(subject);
  json_t *corr = json_array();
  for (int k = 1; req && corr && k <= FORM_CORRECTIONS; k++) {
    char fkey[32], vkey[32];
    snprintf(fkey, sizeof fkey, "correction_field_%d", k);
    snprintf(vkey, sizeof vkey, "correction_value_%d", k);
    const char *fv = dsr_json_str(f, fkey), *vv = dsr_json_str(f, vkey);
    if (fv && *fv && vv && *vv)
      json_array_append_new(corr, json_pack("{s:s, s:s}", "field", fv, "value", vv));
  }
  const char *type = dsr_json_str(f, "type");
  if (req && corr && json_array_size(corr) > 0 && type && !strcmp(type, "rectification"))
    json_object_set(req, "corrections", corr);
  json_decref(corr);
  return req;
}

enum MHD_Result dsrd_page_create(struct dsr_hreq *r)
{
  const char *lang = dsrd_page_lang(r, dsr_json_str(r->json, "language"));
  json_t *errors = form_problems(r, r->json, lang);
  if (!errors || json_object_size(errors) > 0 || r->input_invalid) {
    if (errors && r->input_invalid && json_object_size(errors) == 0)
      add_problem(errors, "type", "type_missing", lang);
    return form_page(r, 400, r->json, errors);
  }
  json_decref(errors);
  json_t *req = form_to_request(r->json);
  json_t *reply = NULL;
  unsigned int status = 0;
  const char *field = NULL;
  enum dsr_ec ec = req ? dsrd_intake(r, req, &reply, &status, &field) : DSR_E_INTERNAL;
  json_decref(req);
  if (ec != DSR_OK) {
    if (ec == DSR_E_RATE_LIMITED || ec == DSR_E_DB_UNAVAILABLE || ec == DSR_E_INTERNAL)
      return dsr_reply_problem(r, ec, NULL, NULL);
    bool bad_phone = field && !strcmp(field, "/subject/phone");
    const char *key = ec == DSR_E_CHANNEL_UNAVAILABLE ? "phone_needed"
                      : ec == DSR_E_RIGHT_NOT_OFFERED ? "right_not_offered"
                      : bad_phone                     ? "phone_invalid"
                                                      : "invalid";
    const char *at = ec == DSR_E_CHANNEL_UNAVAILABLE || bad_phone ? "phone"
                     : ec == DSR_E_RIGHT_NOT_OFFERED              ? "jurisdiction"
                                                                  : field;
    return form_page(r, dsr_ec_status(ec), r->json, one_problem(at, key, lang));
  }
  const char *id = json_string_value(json_object_get(reply, "id"));
  const char *token = json_string_value(json_object_get(reply, "status_token"));
  char cookie[400], location[128];
  bool secure = r->app->venv.link_base && !strncmp(r->app->venv.link_base, "https:", 6);
  snprintf(cookie, sizeof cookie,
           STATUS_COOKIE "=%s.%s; Path=/requests/%s; HttpOnly; SameSite=Strict; Max-Age=2592000%s",
           id, token, id, secure ? "; Secure" : "");
  snprintf(location, sizeof location, "/requests/%s/verify", id);
  enum MHD_Result ret = dsr_reply_cookie(r, cookie) ? dsr_reply_redirect(r, location)
                                                     : dsr_reply_problem(r, DSR_E_INTERNAL, NULL,
                                                                         NULL);
  json_decref(reply);
  return ret;
}

/* The status token for request @p id from this browser's cookie, or NULL. */
static const char *cookie_token(struct dsr_hreq *r, const char *id)
{
  const char *c = MHD_lookup_connection_value(r->conn, MHD_COOKIE_KIND, STATUS_COOKIE);
  size_t n = strlen(id);
  if (!c || strncmp(c, id, n) != 0 || c[n] != '.')
    return NULL;
  return c + n + 1;
}

static bool valid_request_id(const char *id)
{
  const char *why;
  return dsr_valid_uuid(id, &why);
}

/*
 * What is confirmed and what remains, for the holder of request @p id's status
 * token @p st (NULL: the caller checked a status link): "done", "remaining",
 * "needs_more", and "choose_<channel>" for the channel to preselect.
 */
static void add_progress(struct dsr_hreq *r, const char *id, const char *st, json_t *ctx)
{
  struct dsr_db *db = dsr_db_acquire(r->app->pool);
  if (!db)
    return;
  json_t *p = NULL;
  if ((!st || dsr_verify_status_token_check(db, id, st) == DSR_OK) &&
      dsr_verify_progress(db, r->app->policy, id, dsrd_page_lang(r, NULL), &p) == DSR_OK) {
    json_t *first = json_array_get(json_object_get(p, "remaining"), 0);
    const char *ch = first ? dsr_json_str(first, "channel") : NULL;
    json_object_set_new(ctx, "choose_sms", json_boolean(ch && !strcmp(ch, "sms")));
    json_object_set_new(ctx, "progress", p);
  } else {
    json_decref(p);
  }
  dsr_db_release(db);
}

static enum MHD_Result verify_page(struct dsr_hreq *r, unsigned status, const char *token,
                                   const char *error, const char *notice)
{
  const char *id = r->args[0];
  if (!valid_request_id(id))
    return dsr_reply_problem(r, DSR_E_NOT_FOUND, NULL, NULL);
  const char *st = cookie_token(r, id);
  char title[120];
  const char *lang = dsrd_page_lang(r, NULL);
  json_t *ctx = json_pack("{s:s, s:s, s:b, s:s}", "title",
                          dsr_words_get("title", "verify", lang, title, sizeof title), "id", id,
                          "can_resend", st != NULL, "lang", lang);
  if (ctx && st && !token)
    add_progress(r, id, st, ctx);
  if (ctx && token)
    json_object_set_new(ctx, "token", json_string(token));
  if (ctx && error)
    json_object_set_new(ctx, "error", json_string(error));
  if (ctx && notice)
    json_object_set_new(ctx, "notice", json_string(notice));
  enum MHD_Result ret = dsr_reply_html(r, status, "page_verify.html", ctx);
  json_decref(ctx);
  return ret;
}

/* A redirect to request @p id's status page by its status link (any device, no cookie). */
static enum MHD_Result to_status_by_link(struct dsr_hreq *r, const char *id)
{
  char *cap = dsr_status_link_cap(id);
  char *location = cap ? dsr_asprintf("/requests/%s/status?k=%s", id, cap) : NULL;
  enum MHD_Result ret = location ? dsr_reply_redirect(r, location)
                                 : dsr_reply_problem(r, DSR_E_INTERNAL, NULL, NULL);
  free(location);
  free(cap);
  return ret;
}

/*
 * Whether the confirmation link @p t of request @p id was already used (or the
 * request moved on): then the link leads to the status page instead.
 */
static bool link_done(struct dsr_hreq *r, const char *id, const char *t)
{
  struct dsr_db *db = dsr_db_acquire(r->app->pool);
  if (!db)
    return false;
  bool done = false;
  if (dsr_verify_link_known(db, id, t)) {
    char *cap = dsr_status_link_cap(id);
    json_t *view = NULL;
    if (cap && dsr_request_status_by_link(db, id, cap, &view) == DSR_OK)
      done = strcmp(dsr_json_str(view, "status"), "pending_verification") != 0;
    json_decref(view);
    free(cap);
  }
  dsr_db_release(db);
  return done;
}

enum MHD_Result dsrd_page_verify(struct dsr_hreq *r)
{
  const char *t = MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, "t");
  size_t n = t ? strlen(t) : 0;
  bool ok = n >= 16 && n <= 2048 &&
            strspn(t, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.") == n;
  if (ok && valid_request_id(r->args[0]) && link_done(r, r->args[0], t))
    return to_status_by_link(r, r->args[0]);
  return verify_page(r, 200, ok ? t : NULL, NULL, NULL);
}

/*
 * The words "verify.<key>" in the page's language into @p buf, with "{n}"
 * replaced by @p n; returns @p buf.
 */
static const char *say(struct dsr_hreq *r, const char *key, long n, char *buf, size_t len)
{
  char w[300];
  dsr_words_get("verify", key, dsrd_page_lang(r, NULL), w, sizeof w);
  const char *at = strstr(w, "{n}");
  if (at)
    snprintf(buf, len, "%.*s%ld%s", (int)(at - w), w, n, at + 3);
  else
    dsr_strlcpy(buf, w, len);
  return buf;
}

/* A failed verification as a sentence for the page. */
static const char *explain(struct dsr_hreq *r, const struct dsr_verify_outcome *o, char *buf,
                           size_t len)
{
  switch (o->ec) {
  case DSR_E_CODE_WRONG:
    return say(r, o->attempts_left == 1 ? "code_wrong_one" : "code_wrong", o->attempts_left, buf,
               len);
  case DSR_E_VERIFY_LOCKED:
    return say(r, "locked", 0, buf, len);
  case DSR_E_CODE_EXPIRED:
    return say(r, "code_expired", 0, buf, len);
  case DSR_E_CODE_USED:
    return say(r, "code_used", 0, buf, len);
  case DSR_E_REQUEST_EXPIRED:
    return say(r, "request_expired", 0, buf, len);
  case DSR_E_REQUEST_CLOSED:
    return say(r, "request_closed", 0, buf, len);
  case DSR_E_RESEND_TOO_SOON:
    return say(r, "resend_too_soon", o->retry_after, buf, len);
  case DSR_E_CHANNEL_UNAVAILABLE:
    return say(r, "channel_unavailable", 0, buf, len);
  default:
    return dsr_ec_title(o->ec);
  }
}

enum MHD_Result dsrd_page_verify_post(struct dsr_hreq *r)
{
  const char *token = dsr_json_str(r->json, "token");
  const char *channel = dsr_json_str(r->json, "channel");
  const char *code = dsr_json_str(r->json, "code");
  char buf[300];
  if (r->input_invalid || (!token && !(channel && code)))
    return verify_page(r, 400, NULL, say(r, "enter_code", 0, buf, sizeof buf), NULL);
  if (code && (strlen(code) != 6 || strspn(code, "0123456789") != 6))
    return verify_page(r, 400, NULL, say(r, "six_digits", 0, buf, sizeof buf), NULL);
  if (!valid_request_id(r->args[0]))
    return dsr_reply_problem(r, DSR_E_NOT_FOUND, NULL, NULL);
  /* A typed code counts only in the browser that made the request (its status-token cookie). */
  const char *status_token = token ? NULL : cookie_token(r, r->args[0]);
  if (!token && !status_token)
    return verify_page(r, 403, NULL, say(r, "other_browser", 0, buf, sizeof buf), NULL);
  struct dsr_db *db = dsr_db_acquire(r->app->pool);
  if (!db)
    return dsr_reply_problem(r, DSR_E_DB_UNAVAILABLE, NULL, NULL);
  enum dsr_ec ec = token ? DSR_OK : dsr_verify_status_token_check(db, r->args[0], status_token);
  if (ec == DSR_OK && !dsr_rate_ok(r, DSR_RATE_VERIFY_REQUEST, r->args[0]))
    ec = DSR_E_RATE_LIMITED;
  if (ec != DSR_OK) {
    dsr_db_release(db);
    return dsr_reply_problem(r, ec, NULL, NULL);
  }
  struct dsr_verify_outcome o;
  dsr_verify_submit(db, &r->app->venv, r->args[0], status_token, token ? NULL : channel,
                    token ? NULL : code, token, &o);
  if (o.ec == DSR_OK)
    dsrd_drp_changed(r, db, r->args[0]);
  /* The mailed link, on any device: it leads to the request's status, also when used before. */
  bool link = token && (o.ec == DSR_OK || o.ec == DSR_E_CODE_USED ||
                        o.ec == DSR_E_REQUEST_CLOSED || o.ec == DSR_E_REQUEST_EXPIRED) &&
              (o.ec == DSR_OK || dsr_verify_link_known(db, r->args[0], token));
  dsr_db_release(db);
  if (link)
    return to_status_by_link(r, r->args[0]);
  if (o.ec == DSR_OK) {
    /* one code of two: back to the verify page, which says what is still needed */
    char location[128];
    snprintf(location, sizeof location, "/requests/%s/%s", r->args[0],
             !strcmp(o.status, "pending_verification") ? "verify" : "status");
    return dsr_reply_redirect(r, location);
  }
  if (o.ec == DSR_E_NOT_FOUND)
    return dsr_reply_problem(r, o.ec, NULL, NULL);
  return verify_page(r, dsr_ec_status(o.ec), NULL, explain(r, &o, buf, sizeof buf), NULL);
}

enum MHD_Result dsrd_page_resend(struct dsr_hreq *r)
{
  const char *token = valid_request_id(r->args[0]) ? cookie_token(r, r->args[0]) : NULL;
  if (!token)
    return dsr_reply_problem(r, DSR_E_NOT_FOUND,
                             "open this page in the browser you made the request with", NULL);
  char buf[300];
  if (r->input_invalid)
    return verify_page(r, 400, NULL, say(r, "choose_channel", 0, buf, sizeof buf), NULL);
  struct dsr_db *db = dsr_db_acquire(r->app->pool);
  if (!db)
    return dsr_reply_problem(r, DSR_E_DB_UNAVAILABLE, NULL, NULL);
  enum dsr_ec ec = dsr_verify_status_token_check(db, r->args[0], token);
  if (ec == DSR_OK && !dsr_rate_ok(r, DSR_RATE_VERIFY_REQUEST, r->args[0]))
    ec = DSR_E_RATE_LIMITED;
  if (ec != DSR_OK) {
    dsr_db_release(db);
    return dsr_reply_problem(r, ec, NULL, NULL);
  }
  struct dsr_verify_outcome o;
  dsr_verify_resend(db, &r->app->venv, r->args[0], token, dsr_json_str(r->json, "channel"), &o);
  dsr_db_release(db);
  if (o.ec == DSR_E_NOT_FOUND)
    return dsr_reply_problem(r, o.ec, NULL, NULL);
  if (o.ec == DSR_E_RESEND_TOO_SOON)
    r->retry_after = o.retry_after;
  return o.ec == DSR_OK ? verify_page(r, 200, NULL, NULL, say(r, "code_sent", 0, buf, sizeof buf))
                        : verify_page(r, dsr_ec_status(o.ec), NULL,
                                      explain(r, &o, buf, sizeof buf), NULL);
}

/* Sets view[@p key] to the date of view[@p from] in words. */
static void human_date(json_t *view, const char *key, const char *from, const char *lang,
                       bool with_time)
{
  const char *v = dsr_json_str(view, from);
  char buf[96];
  if (!v)
    return;
  dsr_time_human_str(v, lang, with_time, buf, sizeof buf);
  json_object_set_new(view, key, json_string(buf));
}

/* The law's name: the policy's jurisdiction name, else the built-in one, else the code. */
static const char *law_name(struct dsr_hreq *r, const char *code)
{
  const json_t *j = json_object_get(dsr_policy_section(r->app->policy, "jurisdictions"), code);
  const char *name = json_string_value(json_object_get(j, "name"));
  const struct dsr_jurisdiction *b = name ? NULL : dsr_jurisdiction_find(code);
  return name ? name : b ? b->name : code;
}

/*
 * The status view in words for people (status, request, law, dates, how it
 * ended and why, what an erasure erased and kept); codes stay for machines.
 */
static void human_status(struct dsr_hreq *r, json_t *view, const char *lang)
{
  char buf[300];
  const char *st = dsr_json_str(view, "status"), *type = dsr_json_str(view, "type");
  const char *outcome = dsr_json_str(view, "outcome");
  json_object_set_new(view, "status_label",
                      json_string(dsr_words_get("status", st, lang, buf, sizeof buf)));
  json_object_set_new(view, "type_label",
                      json_string(dsr_words_get("choice", type, lang, buf, sizeof buf)));
  json_object_set_new(view, "law", json_string(law_name(r, dsr_json_str(view, "jurisdiction"))));
  human_date(view, "received", "received_at", lang, true);
  human_date(view, "due", "due_at", lang, false);
  human_date(view, "closed", "updated_at", lang, true);
  json_t *ext = json_object_get(view, "extension");
  if (ext)
    human_date(view, "extended", "due_at", lang, false);
  bool completed = !strcmp(st, "completed");
  bool no_data = completed && outcome && !strcmp(outcome, "no_data");
  bool refused = completed && outcome && !strcmp(outcome, "denied");
  json_object_set_new(view, "no_data", json_boolean(no_data));
  json_object_set_new(view, "refused", json_boolean(refused));
  json_object_set_new(view, "done", json_boolean(completed && !no_data && !refused));
  const char *reason = dsr_json_str(view, "close_reason");
  if (!strcmp(st, "denied") && reason)
    json_object_set_new(view, "reason",
                        json_string(dsr_words_get("reason", reason, lang, buf, sizeof buf)));
  bool denied = !strcmp(st, "denied") || refused;
  json_object_set_new(view, "denied", json_boolean(!strcmp(st, "denied")));
  const json_t *j = json_object_get(dsr_policy_section(r->app->policy, "jurisdictions"),
                                    dsr_json_str(view, "jurisdiction"));
  const json_t *sa = json_object_get(j, "supervisory_authority");
  if (json_is_object(sa) && json_string_value(json_object_get(sa, "name")))
    json_object_set(view, "authority", (json_t *)sa);
  bool answer = type && (!strcmp(type, "access") || !strcmp(type, "portability"));
  if (answer && strcmp(st, "pending_verification") != 0 && strcmp(st, "received") != 0) {
    /* answered from the confirmed identities only: the page says so, and what would add more */
    struct dsr_db *db = dsr_db_acquire(r->app->pool);
    json_t *partial = NULL;
    if (db && dsr_verify_partial_info(db, r->app->policy, dsr_json_str(view, "id"), lang,
                                      &partial) != DSR_OK)
      DSR_WARN("page.partial_info_failed", "rid=%s", r->rid);
    if (db)
      dsr_db_release(db);
    if (partial)
      json_object_set_new(view, "partial", partial);
  }
  bool erasure = completed && type && !strcmp(type, "erasure");
  if (erasure) {
    struct dsr_db *db = dsr_db_acquire(r->app->pool);
    if (db && !dsr_closing_erasure_summary(db, r->app->policy, dsr_json_str(view, "id"), view))
      DSR_WARN("page.erasure_summary_failed", "rid=%s", r->rid);
    if (db)
      dsr_db_release(db);
  }
  json_object_set_new(view, "complain",
                      json_boolean(denied || json_is_true(json_object_get(view, "has_kept"))));
}

/* The status-link capability of the URL ("?k="), when it is request @p id's. */
static const char *link_cap(struct dsr_hreq *r, const char *id)
{
  const char *k = MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, "k");
  return k && dsr_status_link_ok(id, k) ? k : NULL;
}

enum MHD_Result dsrd_page_status(struct dsr_hreq *r)
{
  bool valid = valid_request_id(r->args[0]);
  const char *token = valid ? cookie_token(r, r->args[0]) : NULL;
  const char *cap = valid && !token ? link_cap(r, r->args[0]) : NULL;
  if (!token && !cap)
    return dsr_reply_problem(r, DSR_E_NOT_FOUND,
                             "Open this page with the link in the last message we sent you, or "
                             "in the browser you made the request with.",
                             NULL);
  struct dsr_db *db = dsr_db_acquire(r->app->pool);
  if (!db)
    return dsr_reply_problem(r, DSR_E_DB_UNAVAILABLE, NULL, NULL);
  json_t *view = NULL;
  enum dsr_ec ec = token ? dsr_request_status(db, r->args[0], token, &view)
                         : dsr_request_status_by_link(db, r->args[0], cap, &view);
  bool under_way = false; /* a part carried out: too late to withdraw, so no button */
  const char *now_status = ec == DSR_OK ? dsr_json_str(view, "status") : NULL;
  if (now_status && !strcmp(now_status, "in_progress") &&
      !dsr_request_under_way(db, r->args[0], &under_way))
    ec = DSR_E_DB_UNAVAILABLE;
  dsr_db_release(db);
  if (ec != DSR_OK) {
    json_decref(view);
    return dsr_reply_problem(r, ec, NULL, NULL);
  }
  if (cap)
    json_object_set_new(view, "k", json_string(cap));
  const char *type = dsr_json_str(view, "type");
  if (type && (!strcmp(type, "access") || !strcmp(type, "portability"))) {
    db = dsr_db_acquire(r->app->pool);
    json_t *offers = db ? dsrd_export_offers(db, r->args[0], dsrd_page_lang(r, NULL)) : NULL;
    if (db)
      dsr_db_release(db);
    if (offers && json_array_size(offers) > 0)
      json_object_set_new(view, "downloads", offers);
    else
      json_decref(offers);
  }
  const char *st = dsr_json_str(view, "status");
  bool open = dsr_request_status_open(st);
  const char *lang = dsrd_page_lang(r, NULL);
  json_object_set_new(view, "lang", json_string(lang));
  char title[120];
  json_object_set_new(view, "title",
                      json_string(dsr_words_get("title", "status", lang, title, sizeof title)));
  json_object_set_new(view, "can_withdraw", json_boolean(open && !under_way));
  json_object_set_new(view, "under_way", json_boolean(open && under_way));
  json_object_set_new(view, "open", json_boolean(open));
  json_object_set_new(view, "pending", json_boolean(!strcmp(st, "pending_verification")));
  human_status(r, view, lang);
  if (!strcmp(st, "pending_verification"))
    add_progress(r, r->args[0], token, view);
  enum MHD_Result ret = dsr_reply_html(r, 200, "page_status.html", view);
  json_decref(view);
  return ret;
}

enum MHD_Result dsrd_page_withdraw(struct dsr_hreq *r)
{
  bool valid = valid_request_id(r->args[0]);
  const char *token = valid ? cookie_token(r, r->args[0]) : NULL;
  const char *k = dsr_json_str(r->json, "k");
  const char *cap = valid && !token && dsr_status_link_ok(r->args[0], k) ? k : NULL;
  if (!token && !cap)
    return dsr_reply_problem(r, DSR_E_NOT_FOUND, NULL, NULL);
  struct dsr_db *db = dsr_db_acquire(r->app->pool);
  if (!db)
    return dsr_reply_problem(r, DSR_E_DB_UNAVAILABLE, NULL, NULL);
  struct dsr_verify_outcome o;
  if (token)
    dsr_request_withdraw(db, r->args[0], token, &o);
  else
    dsr_request_withdraw_by_link(db, r->args[0], cap, &o);
  if (o.ec == DSR_OK)
    dsrd_drp_changed(r, db, r->args[0]);
  dsr_db_release(db);
  if (o.ec != DSR_OK)
    return dsr_reply_problem(r, o.ec, NULL, NULL);
  if (cap)
    return to_status_by_link(r, r->args[0]);
  char location[128];
  snprintf(location, sizeof location, "/requests/%s/status", r->args[0]);
  return dsr_reply_redirect(r, location);
}

enum MHD_Result dsrd_page_css(struct dsr_hreq *r)
{
  return dsr_reply_asset(r, "style.css", "text/css; charset=utf-8");
}

enum MHD_Result dsrd_page_icon(struct dsr_hreq *r)
{
  return dsr_reply_asset(r, "icon.svg", "image/svg+xml");
}

enum MHD_Result dsrd_page_download_post(struct dsr_hreq *r)
{
  bool valid = valid_request_id(r->args[0]);
  const char *token = valid ? cookie_token(r, r->args[0]) : NULL;
  const char *k = dsr_json_str(r->json, "k");
  bool by_link = valid && !token && dsr_status_link_ok(r->args[0], k);
  if (r->input_invalid || (!token && !by_link))
    return dsr_reply_problem(r, DSR_E_NOT_FOUND, NULL, NULL);
  if (token) {
    struct dsr_db *db = dsr_db_acquire(r->app->pool);
    if (!db)
      return dsr_reply_problem(r, DSR_E_DB_UNAVAILABLE, NULL, NULL);
    enum dsr_ec ec = dsr_verify_status_token_check(db, r->args[0], token);
    dsr_db_release(db);
    if (ec != DSR_OK)
      return dsr_reply_problem(r, ec, NULL, NULL);
  }
  return dsrd_export_serve_for_request(r, dsr_json_str(r->json, "export_id"), r->args[0]);
}

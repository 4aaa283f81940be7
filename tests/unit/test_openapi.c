/**
 * @file test_openapi.c
 * @brief docs/openapi.json (as compiled into dsrd) against the code: every
 *        route of the routing table is an operation and every operation a
 *        route; path parameters match; every field of a route's JSON or form
 *        spec is in its request body schema with the same type and
 *        requiredness, nested objects included, and the schema names no
 *        field the spec lacks; routes without a spec have no body; the
 *        Problem schema's codes and x-dsrd-error-codes are the error
 *        registry, statuses included; operationIds are unique.
 */
#include <stdio.h>
#include <string.h>
#include "suites.h"
#include "httpd.h"
#include "dsr/openapi.h"

static json_t *doc(void)
{
  ck_assert_str_eq(dsr_openapi_doc[0].name, "openapi.json");
  json_error_t e;
  json_t *d = json_loads(dsr_openapi_doc[0].text, 0, &e);
  ck_assert_msg(d != NULL, "docs/openapi.json: line %d: %s", e.line, e.text);
  return d;
}

static const char *jtype(enum dsr_jtype t)
{
  static const char *const names[] = {"string", "integer", "boolean", "object", "array"};
  return names[t];
}

/* Compares spec @p s with schema @p sch at @p where; counts compared fields in *n. */
static void same_fields(const struct dsr_jspec *s, json_t *sch, const char *where, int *n)
{
  ck_assert_msg(json_is_object(sch), "%s: no schema", where);
  json_t *props = json_object_get(sch, "properties");
  ck_assert_msg(json_is_object(props), "%s: schema without properties", where);
  json_t *req = json_object_get(sch, "required");
  size_t nspec = 0;
  for (const struct dsr_jspec *f = s; f->name; f++, nspec++) {
    json_t *p = json_object_get(props, f->name);
    ck_assert_msg(p != NULL, "%s: field \"%s\" of the spec is missing from the document", where,
                  f->name);
    ck_assert_msg(!strcmp(json_string_value(json_object_get(p, "type")), jtype(f->type)),
                  "%s/%s: type %s in the document, %s in the spec", where, f->name,
                  json_string_value(json_object_get(p, "type")), jtype(f->type));
    bool listed = false;
    size_t i;
    json_t *v;
    json_array_foreach(req, i, v) listed |= !strcmp(json_string_value(v), f->name);
    ck_assert_msg(listed == f->required, "%s/%s: required is %d in the spec", where, f->name,
                  f->required);
    if (f->one_of) {
      size_t k = 0;
      for (const char *const *o = f->one_of; *o; o++, k++) {
        bool in = false;
        json_array_foreach(json_object_get(p, "enum"), i, v) in |= !strcmp(json_string_value(v), *o);
        ck_assert_msg(in, "%s/%s: value \"%s\" missing from the enum", where, f->name, *o);
      }
      ck_assert_uint_eq(json_array_size(json_object_get(p, "enum")), k);
    }
    if (f->fields) {
      char sub[256];
      snprintf(sub, sizeof sub, "%s/%s", where, f->name);
      same_fields(f->fields, p, sub, n);
    }
    (*n)++;
  }
  const char *k;
  json_t *v;
  json_object_foreach(props, k, v)
  {
    bool known = false;
    for (const struct dsr_jspec *f = s; f->name; f++)
      known |= !strcmp(f->name, k);
    ck_assert_msg(known, "%s: the document names field \"%s\", which the spec lacks", where, k);
  }
  ck_assert_uint_eq(json_object_size(props), nspec);
}

START_TEST(document_matches_routes_and_request_specs)
{
  json_t *d = doc();
  ck_assert_str_eq(json_string_value(json_object_get(d, "openapi")), "3.1.0");
  json_t *paths = json_object_get(d, "paths");
  int routes = 0, fields = 0;
  for (const struct dsr_route *r = dsr_routes; r->method; r++, routes++) {
    char m[8];
    snprintf(m, sizeof m, "%s", r->method);
    for (char *p = m; *p; p++)
      *p = (char)(*p - 'A' + 'a');
    json_t *op = json_object_get(json_object_get(paths, r->pattern), m);
    ck_assert_msg(op != NULL, "route %s %s is missing from docs/openapi.json", r->method,
                  r->pattern);
    /* path parameters: exactly the {names} of the pattern */
    int want = 0, have = 0;
    for (const char *p = strchr(r->pattern, '{'); p; p = strchr(p + 1, '{')) {
      want++;
      char name[64];
      snprintf(name, sizeof name, "%.*s", (int)(strchr(p, '}') - p - 1), p + 1);
      bool found = false;
      size_t i;
      json_t *prm;
      json_array_foreach(json_object_get(op, "parameters"), i, prm) found |=
          !strcmp(json_string_value(json_object_get(prm, "in")) ?: "", "path") &&
          !strcmp(json_string_value(json_object_get(prm, "name")), name);
      ck_assert_msg(found, "%s %s: path parameter %s undocumented", r->method, r->pattern, name);
    }
    size_t i;
    json_t *prm;
    json_array_foreach(json_object_get(op, "parameters"), i, prm) have +=
        !strcmp(json_string_value(json_object_get(prm, "in")) ?: "", "path");
    ck_assert_int_eq(have, want);
    json_t *content = json_object_get(json_object_get(op, "requestBody"), "content");
    char where[200];
    snprintf(where, sizeof where, "%s %s", r->method, r->pattern);
    if (r->body)
      same_fields(r->body, json_object_get(json_object_get(content, "application/json"), "schema"),
                  where, &fields);
    else if (r->form)
      same_fields(r->form,
                  json_object_get(json_object_get(content, "application/x-www-form-urlencoded"),
                                  "schema"),
                  where, &fields);
    else if (r->text)
      ck_assert_msg(json_object_get(content, "text/plain") != NULL,
                    "%s: its text/plain body is undocumented", where);
    else
      ck_assert_msg(content == NULL, "%s: documented with a body the route does not take", where);
    ck_assert_msg(json_object_get(op, "responses") != NULL, "%s: no responses", where);
  }
  /* ... and nothing more: every documented operation is a route */
  int ops = 0;
  const char *path;
  json_t *item;
  json_t *ids = json_object();
  json_object_foreach(paths, path, item)
  {
    const char *method;
    json_t *op;
    json_object_foreach(item, method, op)
    {
      char up[8];
      snprintf(up, sizeof up, "%s", method);
      for (char *p = up; *p; p++)
        *p = (char)(*p - 'a' + 'A');
      bool found = false;
      for (const struct dsr_route *r = dsr_routes; r->method; r++)
        found |= !strcmp(r->pattern, path) && !strcmp(r->method, up);
      ck_assert_msg(found, "docs/openapi.json names %s %s, which the routing table lacks", up,
                    path);
      const char *id = json_string_value(json_object_get(op, "operationId"));
      ck_assert_msg(id && !json_object_get(ids, id), "%s %s: operationId missing or repeated", up,
                    path);
      json_object_set_new(ids, id, json_true());
      ops++;
    }
  }
  ck_assert_int_eq(ops, routes);
  json_decref(ids);
  ck_assert_int_ge(fields, 10);
  fprintf(stderr, "openapi: %d routes, %d request fields match the document\n", routes, fields);
  json_decref(d);
}
END_TEST

START_TEST(problem_codes_are_the_error_registry)
{
  json_t *d = doc();
  json_t *codes = json_object_get(json_object_get(json_object_get(json_object_get(json_object_get(
                      json_object_get(d, "components"), "schemas"), "Problem"), "properties"),
                      "code"), "enum");
  json_t *reg = json_object_get(d, "x-dsrd-error-codes");
  /* every code but DSR_OK (200), which is no error */
  ck_assert_uint_eq(json_array_size(codes), DSR_EC_COUNT - 1);
  ck_assert_uint_eq(json_array_size(reg), DSR_EC_COUNT - 1);
  for (int i = 0; i < DSR_EC_COUNT; i++) {
    enum dsr_ec ec = (enum dsr_ec)i;
    if (ec == DSR_OK)
      continue;
    bool in_enum = false, in_reg = false;
    size_t k;
    json_t *v;
    json_array_foreach(codes, k, v) in_enum |= !strcmp(json_string_value(v), dsr_ec_code(ec));
    json_array_foreach(reg, k, v)
    {
      if (strcmp(json_string_value(json_object_get(v, "code")), dsr_ec_code(ec)))
        continue;
      in_reg = true;
      ck_assert_int_eq(json_integer_value(json_object_get(v, "status")), dsr_ec_status(ec));
      ck_assert_str_eq(json_string_value(json_object_get(v, "title")), dsr_ec_title(ec));
    }
    ck_assert_msg(in_enum && in_reg, "error code %s is not in the document", dsr_ec_code(ec));
  }
  json_decref(d);
}
END_TEST

Suite *suite_openapi(void)
{
  Suite *s = suite_create("openapi");
  TCase *tc = tcase_create("document");
  tcase_add_test(tc, document_matches_routes_and_request_specs);
  tcase_add_test(tc, problem_codes_are_the_error_registry);
  suite_add_tcase(s, tc);
  return s;
}

/** @file test_jspec.c @brief The declarative JSON spec parser names the offending field. */
#include <string.h>
#include "suites.h"
#include "dsr/jspec.h"
#include "dsr/validate.h"

static const char *const colours[] = {"red", "blue", NULL};
static const struct dsr_jspec inner[] = {
    {.name = "email", .type = DSR_JT_STRING, .validate = dsr_valid_email},
    {.name = "phone", .type = DSR_JT_STRING, .validate = dsr_valid_phone},
    {0},
};
static const struct dsr_jspec spec[] = {
    {.name = "colour", .type = DSR_JT_STRING, .required = true, .one_of = colours},
    {.name = "count", .type = DSR_JT_INT},
    {.name = "flag", .type = DSR_JT_BOOL},
    {.name = "note", .type = DSR_JT_STRING, .max_len = 5},
    {.name = "who", .type = DSR_JT_OBJECT, .fields = inner, .min_fields = 1},
    {0},
};

static struct dsr_jspec_error parse(const char *text, bool *ok)
{
  json_error_t je;
  json_t *j = json_loads(text, JSON_ALLOW_NUL, &je);
  ck_assert_msg(j != NULL, "test JSON does not parse: %s", text);
  struct dsr_jspec_error err;
  *ok = dsr_jspec_parse(j, spec, &err);
  json_decref(j);
  return err;
}

START_TEST(valid_body_passes)
{
  bool ok;
  parse("{\"colour\":\"red\",\"count\":3,\"flag\":true,\"who\":{\"email\":\"a@b.example\"}}", &ok);
  ck_assert(ok);
}
END_TEST

static const struct {
  const char *body;
  enum dsr_ec ec;
  const char *field;
} bad[] = {
    {"{}", DSR_E_FIELD_MISSING, "/colour"},
    {"{\"colour\":null}", DSR_E_FIELD_MISSING, "/colour"},
    {"{\"colour\":1}", DSR_E_FIELD_TYPE, "/colour"},
    {"{\"colour\":\"green\"}", DSR_E_FIELD_INVALID, "/colour"},
    {"{\"colour\":\"red\",\"count\":\"3\"}", DSR_E_FIELD_TYPE, "/count"},
    {"{\"colour\":\"red\",\"count\":1.5}", DSR_E_FIELD_TYPE, "/count"},
    {"{\"colour\":\"red\",\"flag\":\"yes\"}", DSR_E_FIELD_TYPE, "/flag"},
    {"{\"colour\":\"red\",\"note\":\"toolong\"}", DSR_E_FIELD_INVALID, "/note"},
    {"{\"colour\":\"red\",\"extra\":1}", DSR_E_FIELD_UNKNOWN, "/extra"},
    {"{\"colour\":\"red\",\"who\":[]}", DSR_E_FIELD_TYPE, "/who"},
    {"{\"colour\":\"red\",\"who\":{}}", DSR_E_FIELD_MISSING, "/who"},
    {"{\"colour\":\"red\",\"who\":{\"email\":\"nope\"}}", DSR_E_FIELD_INVALID, "/who/email"},
    {"{\"colour\":\"red\",\"who\":{\"mail\":\"a@b.example\"}}", DSR_E_FIELD_UNKNOWN, "/who/mail"},
    {"{\"colour\":\"red\",\"note\":\"a\\u0000b\"}", DSR_E_FIELD_INVALID, "/note"},
};

START_TEST(bad_bodies_name_the_field)
{
  bool ok;
  struct dsr_jspec_error err = parse(bad[_i].body, &ok);
  ck_assert_msg(!ok, "accepted %s", bad[_i].body);
  ck_assert_int_eq(err.ec, bad[_i].ec);
  ck_assert_str_eq(err.field, bad[_i].field);
  ck_assert_msg(strstr(err.detail, bad[_i].field) == err.detail, "detail \"%s\" should start with the field",
                err.detail);
}
END_TEST

START_TEST(non_object_rejected)
{
  json_t *j = json_array();
  struct dsr_jspec_error err;
  ck_assert(!dsr_jspec_parse(j, spec, &err));
  ck_assert_int_eq(err.ec, DSR_E_FIELD_TYPE);
  ck_assert_str_eq(err.field, "/");
  json_decref(j);
}
END_TEST

Suite *suite_jspec(void)
{
  Suite *s = suite_create("jspec");
  TCase *tc = tcase_create("parse");
  tcase_add_test(tc, valid_body_passes);
  tcase_add_loop_test(tc, bad_bodies_name_the_field, 0, (int)(sizeof bad / sizeof bad[0]));
  tcase_add_test(tc, non_object_rejected);
  suite_add_tcase(s, tc);
  return s;
}

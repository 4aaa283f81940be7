/**
 * @file test_phone.c
 * @brief Phone numbers through libphonenumber (dsr/phone.h): the written
 *        forms of numbers of several countries, declared stored formats,
 *        invalid input rejected; and redaction of the subject's number in
 *        free text in each written form, brackets included, by value and by
 *        keyed hash.
 */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include "suites.h"
#include "dsr/crypto.h"
#include "dsr/erasure.h"
#include "dsr/executor.h"
#include "dsr/phone.h"
#include "dsr/planner.h"
#include "dsr/policy.h"
#include "../../src/lib/parts/rights_int.h"

static bool has_written(const struct dsr_phone_forms *f, const char *w)
{
  for (size_t i = 0; i < f->nwritten; i++)
    if (!strcmp(f->written[i], w))
      return true;
  return false;
}

/* 1: an international sequence, 2: a national one, 0: not there. */
static int has_digits(const struct dsr_phone_forms *f, const char *d)
{
  for (size_t i = 0; i < f->ndigits; i++)
    if (!strcmp(f->digits[i].digits, d))
      return f->digits[i].national ? 2 : 1;
  return 0;
}

static void parse_ok(const char *number, const char *region, struct dsr_phone_forms *f)
{
  const char *why = NULL;
  ck_assert_msg(dsr_phone_parse(number, region, f, &why), "\"%s\" in %s: %s", number,
                region ? region : "-", why ? why : "?");
}

START_TEST(spain_every_written_form)
{
  struct dsr_phone_forms f;
  parse_ok("+34 699 507 918", "ES", &f);
  ck_assert_str_eq(f.e164, "+34699507918");
  ck_assert_str_eq(f.region, "ES");
  ck_assert_int_eq(f.country_code, 34);
  ck_assert_str_eq(f.national_digits, "699507918"); /* Spain has no trunk prefix */
  ck_assert(has_written(&f, "+34699507918"));
  ck_assert(has_written(&f, "+34 699 50 79 18"));
  ck_assert(has_written(&f, "+34-699-50-79-18"));
  ck_assert(has_written(&f, "+34.699.50.79.18"));
  ck_assert(has_written(&f, "(+34) 699 50 79 18"));
  ck_assert(has_written(&f, "0034 699 50 79 18"));
  ck_assert(has_written(&f, "0034699507918"));
  ck_assert(has_written(&f, "34699507918"));
  ck_assert(has_written(&f, "699 50 79 18"));
  ck_assert_int_eq(has_digits(&f, "0034699507918"), 1);
  ck_assert_int_eq(has_digits(&f, "34699507918"), 1);
  ck_assert_int_eq(has_digits(&f, "699507918"), 2);
  /* longest first */
  for (size_t i = 1; i < f.ndigits; i++)
    ck_assert_uint_ge(strlen(f.digits[i - 1].digits), strlen(f.digits[i].digits));
  dsr_phone_forms_free(&f);

  /* the local ways of writing it read back to the same number */
  static const char *const local[] = {"0034699507918", "0034 699 507 918", "699 507 918",
                                      "(+34) 699 507 918", "+34-699-507-918"};
  for (size_t i = 0; i < sizeof local / sizeof *local; i++) {
    parse_ok(local[i], "ES", &f);
    ck_assert_msg(!strcmp(f.e164, "+34699507918"), "%s gave %s", local[i], f.e164);
    dsr_phone_forms_free(&f);
  }
  /* outside its region the national digits are not this number: no national form */
  parse_ok("+34699507918", "DE", &f);
  ck_assert_int_eq(has_digits(&f, "699507918"), 0);
  ck_assert(!has_written(&f, "699 50 79 18"));
  ck_assert_int_eq(has_digits(&f, "0034699507918"), 1);
  dsr_phone_forms_free(&f);
  parse_ok("+34699507918", NULL, &f);
  ck_assert_int_eq(has_digits(&f, "699507918"), 0);
  dsr_phone_forms_free(&f);
}
END_TEST

START_TEST(germany_trunk_prefix)
{
  struct dsr_phone_forms f;
  parse_ok("030 123456", "DE", &f);
  ck_assert_str_eq(f.e164, "+4930123456");
  ck_assert_str_eq(f.region, "DE");
  ck_assert_int_eq(f.country_code, 49);
  ck_assert_str_eq(f.national_digits, "030123456");
  ck_assert(has_written(&f, "+49 30 123456"));
  ck_assert(has_written(&f, "030 123456"));       /* national, with its trunk 0 */
  ck_assert(has_written(&f, "+49 (0) 30 123456")); /* the trunk in brackets */
  ck_assert_int_eq(has_digits(&f, "49030123456"), 1);
  ck_assert_int_eq(has_digits(&f, "004930123456"), 1);
  ck_assert_int_eq(has_digits(&f, "030123456"), 2);
  dsr_phone_forms_free(&f);
  char *s = dsr_phone_format("+49 30 123456", NULL, DSR_PHONE_FMT_NATIONAL, "DE");
  ck_assert_str_eq(s, "030123456");
  free(s);
  s = dsr_phone_format("0049 30 123456", NULL, DSR_PHONE_FMT_DIGITS, NULL);
  ck_assert_str_eq(s, "4930123456");
  free(s);
  s = dsr_phone_format("030 123456", "DE", DSR_PHONE_FMT_E164, NULL);
  ck_assert_str_eq(s, "+4930123456");
  free(s);
  /* a Spanish number has no German national form */
  ck_assert_ptr_null(dsr_phone_format("+34699507918", NULL, DSR_PHONE_FMT_NATIONAL, "DE"));
  s = dsr_phone_format("+34699507918", NULL, DSR_PHONE_FMT_NATIONAL, "ES");
  ck_assert_str_eq(s, "699507918");
  free(s);
}
END_TEST

START_TEST(united_states_britain_india)
{
  struct dsr_phone_forms f;
  parse_ok("+1 650 253 0000", "US", &f);
  ck_assert_str_eq(f.e164, "+16502530000");
  ck_assert_str_eq(f.region, "US");
  ck_assert(has_written(&f, "(650) 253-0000"));
  ck_assert(has_written(&f, "+1 650-253-0000"));
  ck_assert_int_eq(has_digits(&f, "16502530000"), 1); /* trunk 1 + number = country code + number */
  ck_assert_int_eq(has_digits(&f, "6502530000"), 2);
  dsr_phone_forms_free(&f);
  /* seen from the US, another country's number is also written with 011 */
  parse_ok("+34699507918", "US", &f);
  ck_assert_int_eq(has_digits(&f, "01134699507918"), 1);
  dsr_phone_forms_free(&f);

  parse_ok("020 7946 0018", "GB", &f);
  ck_assert_str_eq(f.e164, "+442079460018");
  ck_assert_str_eq(f.national_digits, "02079460018");
  ck_assert(has_written(&f, "+44 20 7946 0018"));
  ck_assert(has_written(&f, "020 7946 0018"));
  ck_assert_int_eq(has_digits(&f, "4402079460018"), 1); /* +44 (0)20 ... */
  dsr_phone_forms_free(&f);

  parse_ok("+91 98765 43210", "IN", &f);
  ck_assert_str_eq(f.e164, "+919876543210");
  ck_assert_str_eq(f.region, "IN");
  ck_assert_str_eq(f.national_digits, "09876543210");
  ck_assert(has_written(&f, "+91 98765 43210"));
  ck_assert_int_eq(has_digits(&f, "00919876543210"), 1);
  ck_assert_int_eq(has_digits(&f, "09876543210"), 2);
  dsr_phone_forms_free(&f);
}
END_TEST

START_TEST(invalid_input_is_rejected)
{
  static const char *const bad[] = {"", "   ", "abc", "+", "12", "+999 123", "+34 abc",
                                    "0034", "12345678901234567890123456789012345678901234567890"
                                    "12345678901234567890"};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    struct dsr_phone_forms f;
    const char *why = NULL;
    ck_assert_msg(!dsr_phone_parse(bad[i], "ES", &f, &why), "accepted \"%s\"", bad[i]);
    ck_assert_ptr_nonnull(why);
    ck_assert(strstr(why, bad[i][0] ? bad[i] : "\x01") == NULL); /* the reason never holds the input */
    ck_assert_ptr_null(f.written);
    ck_assert_uint_eq(f.ndigits, 0);
    dsr_phone_forms_free(&f); /* safe on a failed parse */
    ck_assert_ptr_null(dsr_phone_e164(bad[i], "ES"));
  }
  struct dsr_phone_forms f;
  const char *why = NULL;
  ck_assert(!dsr_phone_parse(NULL, "ES", &f, &why));
  /* a national number needs a region to be read in */
  ck_assert(!dsr_phone_parse("699 507 918", NULL, &f, &why));
  ck_assert(!dsr_phone_parse("699 507 918", "XX", &f, &why));

  ck_assert(dsr_phone_region_valid("ES"));
  ck_assert(dsr_phone_region_valid("DE"));
  ck_assert(!dsr_phone_region_valid("es"));
  ck_assert(!dsr_phone_region_valid("XX"));
  ck_assert(!dsr_phone_region_valid("001"));
  ck_assert(!dsr_phone_region_valid(""));
  ck_assert(!dsr_phone_region_valid(NULL));

  enum dsr_phone_format fmt;
  char region[3];
  ck_assert(dsr_phone_format_parse("e164", &fmt, region) && fmt == DSR_PHONE_FMT_E164);
  ck_assert(dsr_phone_format_parse("digits", &fmt, region) && fmt == DSR_PHONE_FMT_DIGITS);
  ck_assert(dsr_phone_format_parse("any", &fmt, region) && fmt == DSR_PHONE_FMT_ANY);
  ck_assert(dsr_phone_format_parse("national:DE", &fmt, region) && fmt == DSR_PHONE_FMT_NATIONAL);
  ck_assert_str_eq(region, "DE");
  static const char *const bad_fmt[] = {"", "E164", "national", "national:", "national:de",
                                        "national:XX", "national:DEU", "international", NULL};
  for (size_t i = 0; bad_fmt[i]; i++)
    ck_assert_msg(!dsr_phone_format_parse(bad_fmt[i], &fmt, region), "accepted %s", bad_fmt[i]);
  ck_assert(!dsr_phone_format_parse(NULL, &fmt, region));
}
END_TEST

/* --- redaction of free text --------------------------------------------- */

static struct dsr_policy *pol;

static void setup(void)
{
  char path[512], err[512];
  snprintf(path, sizeof path, "%s/policies/callorbit.json", getenv("DSR_TOP_SRCDIR"));
  pol = dsr_policy_load(path, err, sizeof err);
  ck_assert_msg(pol != NULL, "%s", err);
}

static void teardown(void)
{
  dsr_policy_free(pol);
}

/* @p in redacted for @p s with the policy's phone pattern must be @p want. */
static void expect(const struct dsr_exec_subject *s, const char *in, const char *want)
{
  bool ch = false;
  char *r = dsr_redact_text(dsr_policy_pattern(pol, "phone"), s, in, &ch);
  ck_assert_ptr_nonnull(r);
  ck_assert_msg(!strcmp(r, want), "\"%s\" became \"%s\", expected \"%s\"", in, r, want);
  ck_assert_int_eq(ch, strcmp(in, want) != 0);
  free(r);
}

/* Every written form, by value and by keyed hash (a ledger replay). */
static const struct {
  const char *in, *want;
} spanish[] = {
    {"Llámame al 0034699507918.", "Llámame al [phone removed]."},
    {"Llámame al 0034 699 507 918.", "Llámame al [phone removed]."},
    {"Llámame al 699 507 918.", "Llámame al [phone removed]."},
    {"móvil: (+34) 699 507 918", "móvil: [phone removed]"},
    {"(+34)699507918 o nada", "[phone removed] o nada"},
    {"(0034) 699 507 918", "[phone removed]"},
    {"tel. (699) 507-918", "tel. [phone removed]"},
    {"(+34 699 507 918)", "([phone removed])"},
    {"+34-699-50-79-18", "[phone removed]"},
    {"+34.699.507.918", "[phone removed]"},
    {"34699507918", "[phone removed]"},
    {"+34699507918", "[phone removed]"},
    {"00 34 699 50 79 18!", "[phone removed]!"},
    /* other people's numbers stay */
    {"+44 699 507 918", "+44 699 507 918"},
    {"0044 699 507 918", "0044 699 507 918"},
    {"699 507 919", "699 507 919"},
    {"1699 507 918", "1699 507 918"},
    {"+34 699 507 9180", "+34 699 507 9180"},
    {"(+34) 699 507 919", "(+34) 699 507 919"},
    {"612 345 678 y 699 507 918", "612 345 678 y [phone removed]"},
};

START_TEST(redaction_every_written_form)
{
  struct dsr_subject s = {.phone = "+34699507918"};
  struct dsr_exec_subject es;
  ck_assert(dsr_exec_subject_init_in(&es, &s, "ES"));
  for (size_t i = 0; i < sizeof spanish / sizeof *spanish; i++)
    expect(&es, spanish[i].in, spanish[i].want);
  dsr_exec_subject_free(&es);

  /* the same, known only by the keyed hash of its E.164 form */
  static const unsigned char key[32] = {7, 7, 7};
  dsr_crypto_init_with_key(key);
  struct dsr_exec_subject byhash = {0};
  ck_assert(dsr_identity_hash(DSR_ID_PHONE, "+34699507918", byhash.phone_hash));
  byhash.has_phone_hash = true;
  memcpy(byhash.phone_region, "ES", 3);
  for (size_t i = 0; i < sizeof spanish / sizeof *spanish; i++)
    expect(&byhash, spanish[i].in, spanish[i].want);

  /* a subject given the local way is the same number */
  struct dsr_subject local = {.phone = "0034 699 507 918"};
  ck_assert(dsr_exec_subject_init_in(&es, &local, "ES"));
  ck_assert_str_eq(es.phone_digits, "34699507918");
  expect(&es, "móvil: (+34) 699 507 918", "móvil: [phone removed]");
  expect(&es, "699 507 918", "[phone removed]");
  dsr_exec_subject_free(&es);

  /* with no region, the national form is another number: kept */
  ck_assert(dsr_exec_subject_init_in(&es, &s, NULL));
  expect(&es, "699 507 918", "699 507 918");
  expect(&es, "(+34) 699 507 918", "[phone removed]");
  expect(&es, "0034 699 507 918", "[phone removed]");
  dsr_exec_subject_free(&es);
}
END_TEST

START_TEST(redaction_trunk_prefix_and_brackets)
{
  struct dsr_subject s = {.phone = "+49 30 123456"};
  struct dsr_exec_subject es;
  ck_assert(dsr_exec_subject_init_in(&es, &s, "DE"));
  expect(&es, "Ruf an: 030 123456.", "Ruf an: [phone removed].");
  expect(&es, "Ruf an: (030) 123456.", "Ruf an: [phone removed].");
  expect(&es, "+49 (0)30 123456", "[phone removed]");
  expect(&es, "+49 (0) 30 123456", "[phone removed]");
  expect(&es, "(+49) 30 123456", "[phone removed]");
  expect(&es, "0049 30 123456", "[phone removed]");
  expect(&es, "030 1234567", "030 1234567");
  dsr_exec_subject_free(&es);

  /* a number libphonenumber cannot read is still found by its digits, as before */
  struct dsr_subject odd = {.phone = "+999 1234567"};
  ck_assert(dsr_exec_subject_init_in(&es, &odd, "ES"));
  expect(&es, "call +999 123 4567 now", "call [phone removed] now");
  dsr_exec_subject_free(&es);
}
END_TEST

/* --- identity columns of declared formats ----------------------------- */

START_TEST(declared_formats_in_the_policy)
{
  char path[512], err[512];
  snprintf(path, sizeof path, "%s/tests/data/phone/policy.json", getenv("DSR_TOP_SRCDIR"));
  struct dsr_policy *p = dsr_policy_load(path, err, sizeof err);
  ck_assert_msg(p != NULL, "%s", err);
  ck_assert_str_eq(dsr_policy_phone_region(p), "ES");
  const struct dsr_pcollection *lines = dsr_policy_collection(p, "lines");
  const struct dsr_pcollection *contacts = dsr_policy_collection(p, "contacts");
  ck_assert_uint_eq(lines->nidentities, 4);
  ck_assert_int_eq(lines->identities[0].format, DSR_PHONE_FMT_E164);
  ck_assert_int_eq(lines->identities[1].format, DSR_PHONE_FMT_DIGITS);
  ck_assert_int_eq(lines->identities[2].format, DSR_PHONE_FMT_NATIONAL);
  ck_assert_str_eq(lines->identities[2].format_region, "ES");
  ck_assert_int_eq(contacts->identities[0].format, DSR_PHONE_FMT_ANY);

  /* the subject's number, written any way, in each column's format */
  static const char *const want[] = {"+34699507918", "34699507918", "699507918", NULL};
  for (size_t i = 0; i < 4; i++) {
    bool any = true;
    char *v = dsr_identity_match_value(&lines->identities[i], "0034 699 507 918", "ES", &any);
    if (want[i])
      ck_assert_str_eq(v, want[i]);
    else
      ck_assert_ptr_null(v); /* national:DE: a Spanish number has no German form */
    ck_assert(!any);
    free(v);
  }
  bool any = false;
  char *v = dsr_identity_match_value(&contacts->identities[0], "+34699507918", "ES", &any);
  ck_assert(any);
  ck_assert_str_eq(v, "{0034699507918,34699507918,699507918}");
  free(v);

  /* rights (restriction, choices, rectification) compare columns the same way */
  struct dsr_subject subj = {.phone = "+34 699 507 918"};
  struct scope sc = {.subj = &subj, .now = "0", .phone_region = "ES"};
  struct q q = {0};
  ck_assert(q_identity(&q, contacts, &sc));
  ck_assert_str_eq(q.sql.data, "(regexp_replace(x.\"phone\"::text, '[^0-9]', '', 'g') = ANY($1::text[]))");
  ck_assert_str_eq(q.vals[0], "{0034699507918,34699507918,699507918}");
  q_free(&q);
  memset(&q, 0, sizeof q);
  ck_assert(q_identity(&q, lines, &sc));
  ck_assert_str_eq(q.sql.data, "(x.\"e164\" = $1 OR x.\"digits\" = $2 OR x.\"nat_es\" = $3)");
  ck_assert_int_eq(q.n, 3);
  ck_assert_str_eq(q.vals[2], "699507918");
  q_free(&q);
  dsr_policy_free(p);
}
END_TEST

Suite *suite_phone(void)
{
  Suite *s = suite_create("phone");
  TCase *tc = tcase_create("forms");
  tcase_add_test(tc, spain_every_written_form);
  tcase_add_test(tc, germany_trunk_prefix);
  tcase_add_test(tc, united_states_britain_india);
  tcase_add_test(tc, invalid_input_is_rejected);
  tcase_add_test(tc, declared_formats_in_the_policy);
  suite_add_tcase(s, tc);
  tc = tcase_create("redaction");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, redaction_every_written_form);
  tcase_add_test(tc, redaction_trunk_prefix_and_brackets);
  suite_add_tcase(s, tc);
  return s;
}

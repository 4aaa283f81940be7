/**
 * @file test_phone.c
 * @brief Phone numbers stored and written the local way (issue 16), on a real
 *        PostgreSQL: the contact book of tests/data/phone (default region ES)
 *        holds the subject's +34 699 507 918 as "0034699507918",
 *        "0034 699 507 918", "699 507 918", "(+34) 699 507 918" and in columns
 *        of declared formats. The plan finds exactly those rows and the notes
 *        that mention the number; an erasure run through discovery, approval
 *        and the erasure job deletes them and redacts the notes, brackets
 *        included, and leaves everyone else's numbers as they were.
 */
#include "erasure_fixture.h"
#include "dsr/admin.h"
#include "dsr/planner.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SUBJECT "+34699507918"

static char *book; /* the platform's conninfo */

static char *fixture_path(const char *name)
{
  char *p = NULL;
  H_REQUIRE1(asprintf(&p, "%s/tests/data/phone/%s", getenv("DSR_TOP_SRCDIR"), name) > 0);
  return p;
}

static void book_setup(void)
{
  book = it_fresh_db("phone_book");
  PQclear(h_sql(book, "SET client_min_messages = warning; DROP SCHEMA IF EXISTS ph CASCADE"));
  char *path = fixture_path("schema.sql");
  char *sql = h_slurp(path, NULL);
  H_REQUIRE1(sql != NULL);
  PQclear(h_sql(book, sql));
  free(sql);
  free(path);
  H_REQUIRE1(setenv("DSR_PHONE_DSN", book, 1) == 0);
}

static void book_teardown(void)
{
  free(book);
  book = NULL;
}

static const struct dsr_plan_step *find_step(const struct dsr_plan *plan, const char *coll)
{
  for (size_t i = 0; i < plan->nparts; i++)
    for (size_t k = 0; k < plan->parts[i].nsteps; k++)
      if (!strcmp(plan->parts[i].steps[k].coll->name, coll))
        return &plan->parts[i].steps[k];
  return NULL;
}

/* The ids of @p table, comma-separated in order ("" when none). Static. */
static const char *ids_of(const char *table)
{
  static char out[256];
  char q[160];
  snprintf(q, sizeof q, "SELECT coalesce(string_agg(id::text, ',' ORDER BY id), '') FROM ph.%s", table);
  PGresult *r = h_sql(book, q);
  dsr_strlcpy(out, PQgetvalue(r, 0, 0), sizeof out);
  PQclear(r);
  return out;
}

static const char *note(int id)
{
  static char out[256];
  char q[96];
  snprintf(q, sizeof q, "SELECT body FROM ph.note WHERE id = %d", id);
  PGresult *r = h_sql(book, q);
  dsr_strlcpy(out, PQgetvalue(r, 0, 0), sizeof out);
  PQclear(r);
  return out;
}

START_TEST(plan_finds_every_local_form)
{
  char *pp = fixture_path("policy.json");
  char err[512];
  struct dsr_policy *p = dsr_policy_load(pp, err, sizeof err);
  ck_assert_msg(p != NULL, "%s", err);
  ck_assert_str_eq(dsr_policy_phone_region(p), "ES");
  PGconn *conn = PQconnectdb(book);
  ck_assert_int_eq(PQstatus(conn), CONNECTION_OK);
  struct dsr_subject subj = {.phone = SUBJECT};
  struct dsr_plan *plan = dsr_plan_build(p, conn, DSR_PLAN_ERASURE, &subj, err, sizeof err);
  ck_assert_msg(plan != NULL, "%s", err);
  /* contacts 1-6: 00, 00 with spaces, national, bracketed, E.164, dashes */
  ck_assert_int_eq(dsr_plan_rows(plan, "contacts"), 6);
  /* lines 1-3: one per declared format (e164, digits, national:ES); national:DE has no form */
  ck_assert_int_eq(dsr_plan_rows(plan, "lines"), 3);
  const struct dsr_plan_step *st = find_step(plan, "notes");
  ck_assert_ptr_nonnull(st);
  ck_assert_int_eq(st->mentions, 4); /* notes 1, 2, 3, 5 */
  /* the number is a parameter, never SQL text */
  for (size_t i = 0; i < plan->nparts; i++)
    for (size_t k = 0; k < plan->parts[i].nsteps; k++) {
      const struct dsr_plan_step *s = &plan->parts[i].steps[k];
      ck_assert_ptr_null(s->sql ? strstr(s->sql, "699") : NULL);
      ck_assert_ptr_null(s->keys_sql ? strstr(s->keys_sql, "699") : NULL);
    }
  dsr_plan_free(plan);

  /* the same subject written the local way plans the same rows */
  struct dsr_subject local = {.phone = "0034 699 507 918"};
  plan = dsr_plan_build(p, conn, DSR_PLAN_ACCESS, &local, err, sizeof err);
  ck_assert_msg(plan != NULL, "%s", err);
  ck_assert_int_eq(dsr_plan_rows(plan, "contacts"), 6);
  ck_assert_int_eq(dsr_plan_rows(plan, "lines"), 3);
  dsr_plan_free(plan);

  /* someone else: only their own row */
  struct dsr_subject other = {.phone = "+34 612 345 678"};
  plan = dsr_plan_build(p, conn, DSR_PLAN_ERASURE, &other, err, sizeof err);
  ck_assert_msg(plan != NULL, "%s", err);
  ck_assert_int_eq(dsr_plan_rows(plan, "contacts"), 1);
  ck_assert_int_eq(dsr_plan_rows(plan, "lines"), 0);
  dsr_plan_free(plan);
  PQfinish(conn);
  dsr_policy_free(p);
  free(pp);
}
END_TEST

START_TEST(erasure_removes_every_local_form)
{
  char *pp = fixture_path("policy.json");
  struct ef_dsrd d;
  ef_dsrd_open(&d, "dsr_phone", pp, NULL);
  char *others_before = NULL;
  PGresult *r = h_sql(book, "SELECT md5(string_agg(c::text, '|' ORDER BY id)) FROM ph.contact c WHERE id > 10");
  others_before = strdup(PQgetvalue(r, 0, 0));
  PQclear(r);

  char id[40];
  dsr_strlcpy(id, ef_request(&d, NULL, SUBJECT), sizeof id);
  ck_assert_int_ge(ef_run_jobs(&d), 1); /* discovery */
  /* staff's dry run shows the number masked, in every parameter built from it */
  json_t *dry = NULL;
  ck_assert_int_eq(dsr_admin_plan(d.db, d.policy, id, &dry), DSR_OK);
  /* the request's random id may hold any three digits ("...-9507-..."): not a parameter */
  json_object_del(dry, "request_id");
  char *text = json_dumps(dry, 0);
  ck_assert_ptr_nonnull(text);
  ck_assert_ptr_nonnull(strstr(text, "\"phone_digits\""));
  ck_assert_ptr_nonnull(strstr(text, "\"phone_regex\""));
  ck_assert_msg(strstr(text, "699507918") == NULL && strstr(text, "507") == NULL &&
                    strstr(text, "9[-. ()]*5") == NULL,
                "%s", text);
  free(text);
  json_decref(dry);
  ef_approve(&d, id);
  ck_assert_int_ge(ef_run_jobs(&d), 1); /* the erasure */
  ck_assert_int_eq(ef_long(d.conninfo, "SELECT count(*) FROM dsr_requests WHERE id = '%s' AND"
                                       " status = 'completed'", id), 1);

  ck_assert_str_eq(ids_of("contact"), "11,12,13,14,15");
  ck_assert_str_eq(ids_of("line"), "4,5");
  ck_assert_str_eq(note(1), "Llamar al [phone removed] mañana.");
  ck_assert_str_eq(note(2), "Dijo: [phone removed], no el +34 699 507 919.");
  ck_assert_str_eq(note(3), "Su fijo: [phone removed]; el de su hermano: 612 345 678.");
  ck_assert_str_eq(note(4), "Nada que ver: +44 699 507 918 y 0034699507910.");
  ck_assert_str_eq(note(5), "Anotado como [phone removed] (móvil).");
  /* no contact holds the subject's number in any form */
  ck_assert_int_eq(ef_long(book, "SELECT count(*) FROM ph.contact WHERE regexp_replace(phone, '[^0-9]', '',"
                                 " 'g') IN ('0034699507918', '34699507918', '699507918')"), 0);
  /* everyone else's rows are byte for byte as they were */
  r = h_sql(book, "SELECT md5(string_agg(c::text, '|' ORDER BY id)) FROM ph.contact c WHERE id > 10");
  ck_assert_str_eq(PQgetvalue(r, 0, 0), others_before);
  PQclear(r);
  free(others_before);
  ef_dsrd_close(&d);
  free(pp);
}
END_TEST

Suite *suite_phone(void)
{
  Suite *s = suite_create("phone");
  TCase *tc = tcase_create("local_forms");
  tcase_add_checked_fixture(tc, book_setup, book_teardown);
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, plan_finds_every_local_form);
  tcase_add_test(tc, erasure_removes_every_local_form);
  suite_add_tcase(s, tc);
  return s;
}

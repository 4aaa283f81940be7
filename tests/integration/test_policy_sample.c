/**
 * @file test_policy_sample.c
 * @brief The five policies against a generated sample platform of 10,000
 *        subjects: `dsrctl policy explain` for a designated subject who is a
 *        caller in 3 workspaces and an account holder shows a controller part
 *        and 3 customer parts, with counts equal to direct SQL counts, and
 *        explaining leaves every table's checksum unchanged.
 */
#include "suites.h"
#include "dsr/pgembed.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#define SUBJ_EMAIL "pat.subject@example.org"
#define SUBJ_PHONE "+14155550199"

static char *plat;

static char *run_dsrctl(const char *args, int *rc)
{
  char *prog = h_program("dsrctl");
  const char *top = getenv("DSR_TOP_SRCDIR");
  char *cmd = NULL;
  H_REQUIRE1(asprintf(&cmd, "cd '%s' && '%s' %s", top, prog, args) > 0);
  free(prog);
  FILE *f = popen(cmd, "r");
  free(cmd);
  H_REQUIRE1(f != NULL);
  struct dsr_buf b = {0};
  char chunk[4096];
  size_t n;
  H_REQUIRE1(dsr_buf_puts(&b, ""));
  while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
    H_REQUIRE1(dsr_buf_append(&b, chunk, n));
  int st = pclose(f);
  *rc = WIFEXITED(st) ? WEXITSTATUS(st) : 128;
  return dsr_buf_steal(&b);
}

static void sample_setup(void)
{
  char err[512];
  H_REQUIRE(dsr_pgembed_ensure_db(it_pg.embed, "policy_p10k", err, sizeof err), "%s", err);
  plat = dsr_pgembed_conninfo(it_pg.embed, "policy_p10k");
  H_REQUIRE1(plat != NULL);
  char *args = NULL;
  H_REQUIRE1(asprintf(&args,
                      "sample generate --platform-url '%s' --reset --subjects 10000 --seed 7 "
                      "--now 2026-01-01 --no-media --subject-email " SUBJ_EMAIL
                      " --subject-phone " SUBJ_PHONE " --subject-workspaces 3 --subject-account "
                      "2>&1",
                      plat) > 0);
  int rc;
  char *out = run_dsrctl(args, &rc);
  H_REQUIRE(rc == 0, "sample generate: %s", out);
  free(out);
  free(args);
  H_REQUIRE1(setenv("DSR_PLATFORM_DSN", plat, 1) == 0);
}

static void sample_teardown(void)
{
  free(plat);
  plat = NULL;
}

/* One checksum per table of the platform, in one string. */
static char *platform_checksum(void)
{
  PGresult *t = h_sql(plat, "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1");
  struct dsr_buf b = {0};
  ck_assert(dsr_buf_puts(&b, ""));
  for (int i = 0; i < PQntuples(t); i++) {
    char sql[256];
    snprintf(sql, sizeof sql, "SELECT md5(coalesce(string_agg(md5(x::text), '' ORDER BY md5(x::text)), '')) FROM public.\"%s\" x",
             PQgetvalue(t, i, 0));
    PGresult *r = h_sql(plat, sql);
    ck_assert(dsr_buf_printf(&b, "%s=%s;", PQgetvalue(t, i, 0), PQgetvalue(r, 0, 0)));
    PQclear(r);
  }
  PQclear(t);
  return dsr_buf_steal(&b);
}

static const json_t *find_part(const json_t *plan, const char *tenant)
{
  size_t i;
  const json_t *p;
  json_array_foreach(json_object_get(plan, "parts"), i, p) {
    const json_t *t = json_object_get(p, "tenant");
    if ((!tenant && json_is_null(t)) ||
        (tenant && json_is_string(t) && !strcmp(json_string_value(t), tenant)))
      return p;
  }
  return NULL;
}

static long long rows_in(const json_t *part, const char *coll)
{
  size_t i;
  const json_t *s;
  long long n = 0;
  json_array_foreach(json_object_get(part, "steps"), i, s)
    if (!strcmp(json_string_value(json_object_get(s, "collection")), coll) &&
        json_integer_value(json_object_get(s, "mentions")) == 0)
      n += json_integer_value(json_object_get(s, "rows"));
  return n;
}

static json_t *explain(const char *policy)
{
  char args[512];
  snprintf(args, sizeof args,
           "policy explain --policy policies/%s --phone '" SUBJ_PHONE "' --email " SUBJ_EMAIL " --json",
           policy);
  int rc;
  char *out = run_dsrctl(args, &rc);
  ck_assert_msg(rc == 0, "%s: %s", policy, out);
  json_error_t je;
  json_t *plan = json_loads(out, 0, &je);
  ck_assert_msg(plan != NULL, "%s: not JSON: %s", policy, out);
  free(out);
  return plan;
}

/* The subject's calls, as direct SQL (phone on either side, or a contact of theirs). */
#define SUBJ_CALLS                                                                          \
  "SELECT id, workspace_id FROM calls WHERE caller_number = '" SUBJ_PHONE "'"              \
  " OR called_number = '" SUBJ_PHONE "' OR contact_id IN (SELECT id FROM contacts WHERE"    \
  " phone = '" SUBJ_PHONE "' OR lower(email) = '" SUBJ_EMAIL "')"

START_TEST(sample_explain_three_customers)
{
  const char *policies[] = {"callorbit.json", "callcenter-ai.json", "callos.json",
                            "callers360.json", "call-manager.json"};
  char *before = platform_checksum();
  /* the workspaces where the subject's processor data lives, by direct SQL */
  PGresult *ws = h_sql(plat,
                       "SELECT DISTINCT workspace_id::text FROM (" SUBJ_CALLS ") c UNION "
                       "SELECT workspace_id::text FROM contacts WHERE phone = '" SUBJ_PHONE "' OR "
                       "lower(email) = '" SUBJ_EMAIL "' UNION SELECT workspace_id::text FROM messages "
                       "WHERE from_address IN ('" SUBJ_PHONE "', '" SUBJ_EMAIL "') OR to_address IN ('" SUBJ_PHONE
                       "', '" SUBJ_EMAIL "') UNION SELECT workspace_id::text FROM voicemails WHERE "
                       "caller_number = '" SUBJ_PHONE "' UNION SELECT workspace_id::text FROM consents WHERE "
                       "workspace_id IS NOT NULL AND (phone = '" SUBJ_PHONE "' OR lower(email) = '" SUBJ_EMAIL
                       "') UNION SELECT workspace_id::text FROM suppressions WHERE workspace_id IS NOT NULL "
                       "AND phone = '" SUBJ_PHONE "' UNION SELECT workspace_id::text FROM dncr_checks WHERE "
                       "phone = '" SUBJ_PHONE "' ORDER BY 1");
  ck_assert_int_eq(PQntuples(ws), 3);
  for (size_t k = 0; k < DSR_ARRAY_LEN(policies); k++) {
    json_t *plan = explain(policies[k]);
    const json_t *ctl = find_part(plan, NULL);
    ck_assert_msg(ctl != NULL, "%s: no controller part", policies[k]);
    size_t customers = json_array_size(json_object_get(plan, "parts")) - 1;
    /* exactly one customer part per workspace holding the subject's content */
    ck_assert_msg(customers == 3, "%s: %zu customer parts", policies[k], customers);
    for (int i = 0; i < PQntuples(ws); i++) {
      const char *w = PQgetvalue(ws, i, 0);
      const json_t *part = find_part(plan, w);
      ck_assert_msg(part != NULL, "%s: no part for workspace %s", policies[k], w);
      char sql[2048];
      snprintf(sql, sizeof sql, "SELECT count(*) FROM (" SUBJ_CALLS ") c WHERE workspace_id = %s", w);
      ck_assert_int_eq(rows_in(part, "calls"), h_sql_long(plat, sql));
      snprintf(sql, sizeof sql, "SELECT count(*) FROM recordings WHERE call_id IN (SELECT id FROM (" SUBJ_CALLS ") c) AND workspace_id = %s", w);
      ck_assert_int_eq(rows_in(part, "recordings"), h_sql_long(plat, sql));
      snprintf(sql, sizeof sql, "SELECT count(*) FROM transcripts WHERE recording_id IN (SELECT id FROM recordings WHERE call_id IN (SELECT id FROM (" SUBJ_CALLS ") c)) AND workspace_id = %s", w);
      ck_assert_int_eq(rows_in(part, "transcripts"), h_sql_long(plat, sql));
      snprintf(sql, sizeof sql, "SELECT count(*) FROM ai_summaries WHERE call_id IN (SELECT id FROM (" SUBJ_CALLS ") c) AND workspace_id = %s", w);
      ck_assert_int_eq(rows_in(part, "ai_summaries"), h_sql_long(plat, sql));
      snprintf(sql, sizeof sql, "SELECT count(*) FROM contacts WHERE (phone = '" SUBJ_PHONE "' OR lower(email) = '" SUBJ_EMAIL "') AND workspace_id = %s", w);
      ck_assert_int_eq(rows_in(part, "contacts"), h_sql_long(plat, sql));
    }
    /* the controller part: the account holder */
    ck_assert_int_eq(rows_in(ctl, "users"),
                     h_sql_long(plat, "SELECT count(*) FROM users WHERE lower(email) = '" SUBJ_EMAIL
                                      "' OR phone = '" SUBJ_PHONE "'"));
    ck_assert_int_eq(rows_in(ctl, "users"), 1);
    ck_assert_int_eq(rows_in(ctl, "invoices"),
                     h_sql_long(plat, "SELECT count(*) FROM invoices WHERE lower(billing_email) = '" SUBJ_EMAIL
                                      "' OR user_id IN (SELECT id FROM users WHERE lower(email) = '"
                                      SUBJ_EMAIL "' OR phone = '" SUBJ_PHONE "')"));
    ck_assert_int_eq(rows_in(ctl, "web_sessions"),
                     h_sql_long(plat, "SELECT count(*) FROM web_sessions WHERE user_id IN (SELECT id FROM "
                                      "users WHERE lower(email) = '" SUBJ_EMAIL "')"));
    json_decref(plan);
  }
  PQclear(ws);
  char *after = platform_checksum();
  ck_assert_str_eq(before, after); /* five dry runs changed nothing */
  free(before);
  free(after);
}
END_TEST

START_TEST(sample_policies_lint_live)
{
  const char *policies[] = {"callorbit.json", "callcenter-ai.json", "callos.json",
                            "callers360.json", "call-manager.json"};
  for (size_t k = 0; k < DSR_ARRAY_LEN(policies); k++) {
    char args[256];
    snprintf(args, sizeof args, "policy lint --live policies/%s", policies[k]);
    int rc;
    char *out = run_dsrctl(args, &rc);
    ck_assert_msg(rc == 0 && strstr(out, ": 0 errors, 0 warnings"), "%s: %s", policies[k], out);
    free(out);
  }
}
END_TEST

Suite *suite_policy_sample(void)
{
  Suite *s = suite_create("policy_sample");
  TCase *tc = tcase_create("p10k");
  tcase_add_unchecked_fixture(tc, sample_setup, sample_teardown);
  tcase_set_timeout(tc, 300);
  tcase_add_test(tc, sample_explain_three_customers);
  tcase_add_test(tc, sample_policies_lint_live);
  suite_add_tcase(s, tc);
  return s;
}

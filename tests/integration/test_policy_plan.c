/**
 * @file test_policy_plan.c
 * @brief The planner against a real PostgreSQL: the alternate platform of
 *        tests/data/policy-alt (other names, a chain of four references, two
 *        identity columns of one kind in one table) explained with
 *        `dsrctl policy explain --json`; its counts are checked against
 *        hand-written SQL, its statements run in a transaction that is rolled
 *        back, and a checksum proves that explaining changes nothing.
 */
#include "suites.h"
#include "dsr/pgembed.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

static char *alt_conninfo;

/* Creates and fills the alternate platform once per test process. */
static void alt_setup(void)
{
  char err[512];
  H_REQUIRE(dsr_pgembed_ensure_db(it_pg.embed, "policy_alt", err, sizeof err), "%s", err);
  alt_conninfo = dsr_pgembed_conninfo(it_pg.embed, "policy_alt");
  H_REQUIRE1(alt_conninfo != NULL);
  PQclear(h_sql(alt_conninfo, "SET client_min_messages = warning; DROP SCHEMA IF EXISTS hd CASCADE; DROP SCHEMA IF EXISTS acct CASCADE"));
  const char *top = getenv("DSR_TOP_SRCDIR");
  H_REQUIRE1(top != NULL);
  const char *files[] = {"schema.sql", "data.sql"};
  for (size_t i = 0; i < 2; i++) {
    char path[512];
    snprintf(path, sizeof path, "%s/tests/data/policy-alt/%s", top, files[i]);
    char *sql = h_slurp(path, NULL);
    PQclear(h_sql(alt_conninfo, sql));
    free(sql);
  }
  H_REQUIRE1(setenv("DSR_ALT_DSN", alt_conninfo, 1) == 0);
}

static void alt_teardown(void)
{
  free(alt_conninfo);
  alt_conninfo = NULL;
}

/* Runs dsrctl with @p args (a shell-quoted string); returns stdout, *rc the exit status. */
static char *dsrctl(const char *args, int *rc)
{
  char *prog = h_program("dsrctl");
  const char *top = getenv("DSR_TOP_SRCDIR");
  char cmd[2048];
  snprintf(cmd, sizeof cmd, "cd '%s' && '%s' %s", top, prog, args);
  free(prog);
  FILE *f = popen(cmd, "r");
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

static json_t *explain_json(const char *who)
{
  char args[512];
  snprintf(args, sizeof args, "policy explain --policy tests/data/policy-alt/policy.json %s --json",
           who);
  int rc;
  char *out = dsrctl(args, &rc);
  ck_assert_msg(rc == 0, "explain failed: %s", out);
  json_error_t je;
  json_t *j = json_loads(out, 0, &je);
  ck_assert_msg(j != NULL, "not JSON: %s", out);
  free(out);
  return j;
}

static const json_t *part(const json_t *plan, const char *tenant)
{
  size_t i;
  const json_t *p;
  json_array_foreach(json_object_get(plan, "parts"), i, p) {
    const json_t *t = json_object_get(p, "tenant");
    if ((!tenant && json_is_null(t)) || (tenant && json_is_string(t) && !strcmp(json_string_value(t), tenant)))
      return p;
  }
  return NULL;
}

static const json_t *step(const json_t *prt, const char *coll)
{
  size_t i;
  const json_t *s;
  json_array_foreach(json_object_get(prt, "steps"), i, s)
    if (!strcmp(json_string_value(json_object_get(s, "collection")), coll))
      return s;
  return NULL;
}

static long long rows_of(const json_t *prt, const char *coll)
{
  const json_t *s = step(prt, coll);
  return s ? json_integer_value(json_object_get(s, "rows")) : 0;
}

static const char *checksum_sql =
    "SELECT md5(string_agg(x, '|' ORDER BY x)) FROM ("
    " SELECT 'm' || t::text x FROM acct.member t UNION ALL SELECT 'c' || t::text FROM acct.charge t"
    " UNION ALL SELECT 'a' || t::text FROM acct.audit_trail t UNION ALL SELECT 'e' || t::text FROM hd.engagement t"
    " UNION ALL SELECT 's' || t::text FROM hd.session t UNION ALL SELECT 'k' || t::text FROM hd.clip t"
    " UNION ALL SELECT 'x' || t::text FROM hd.clip_text t UNION ALL SELECT 'g' || t::text FROM hd.clip_tag t) q";

static char *checksum(void)
{
  PGresult *r = h_sql(alt_conninfo, checksum_sql);
  char *s = strdup(PQgetvalue(r, 0, 0));
  PQclear(r);
  return s;
}

START_TEST(alt_explain_counts_match_sql)
{
  char *before = checksum();
  json_t *plan = explain_json("--phone '+1 555 000 1111' --email sam@example.org");
  char *after = checksum();
  ck_assert_str_eq(before, after); /* a dry run */
  ck_assert_str_eq(json_string_value(json_object_get(plan, "plan")), "erasure");
  ck_assert_uint_eq(json_array_size(json_object_get(plan, "parts")), 4);
  const json_t *ctl = part(plan, NULL), *t10 = part(plan, "10"), *t20 = part(plan, "20"),
               *t30 = part(plan, "30");
  ck_assert(ctl && t10 && t20 && t30);
  /* the controller part: two identity columns of one kind (login_mail, alt_mail) */
  ck_assert_int_eq(rows_of(ctl, "members"),
                   h_sql_long(alt_conninfo, "SELECT count(*) FROM acct.member WHERE lower(login_mail) = "
                                            "'sam@example.org' OR lower(alt_mail) = 'sam@example.org'"));
  ck_assert_int_eq(rows_of(ctl, "members"), 2);
  ck_assert_int_eq(rows_of(ctl, "charges"),
                   h_sql_long(alt_conninfo, "SELECT count(*) FROM acct.charge c JOIN acct.member m USING "
                                            "(member_no) WHERE lower(m.alt_mail) = 'sam@example.org' OR "
                                            "lower(m.login_mail) = 'sam@example.org'"));
  ck_assert_str_eq(json_string_value(json_object_get(step(ctl, "charges"), "action")), "retain");
  ck_assert_str_eq(json_string_value(json_object_get(step(ctl, "charges"), "reason")), "tax law: 10 years");
  /* member 1 is still referenced by retained charges: kept */
  ck_assert_int_eq(json_integer_value(json_object_get(step(ctl, "members"), "kept")), 1);
  /* customer parts through the chain of four references, tenant inherited */
  const char *chain =
      "SELECT count(*) FROM hd.clip_tag g JOIN hd.clip_text x ON g.text_ref = x.text_id"
      " JOIN hd.clip k ON x.clip_ref = k.clip_id JOIN hd.session s ON k.sess_ref = s.sess_id"
      " JOIN hd.engagement e ON s.eng_ref = e.eng_id WHERE e.contact_msisdn = '+15550001111'"
      " AND s.org_ref = ";
  char q[1024];
  snprintf(q, sizeof q, "%s10", chain);
  ck_assert_int_eq(rows_of(t10, "clip_tags"), h_sql_long(alt_conninfo, q));
  snprintf(q, sizeof q, "%s20", chain);
  ck_assert_int_eq(rows_of(t20, "clip_tags"), h_sql_long(alt_conninfo, q));
  ck_assert_int_eq(rows_of(t10, "clips"),
                   h_sql_long(alt_conninfo, "SELECT count(*) FROM hd.clip k JOIN hd.session s ON k.sess_ref = "
                                            "s.sess_id JOIN hd.engagement e ON s.eng_ref = e.eng_id WHERE "
                                            "e.contact_msisdn = '+15550001111' AND s.org_ref = 10"));
  ck_assert_int_eq(json_integer_value(json_object_get(step(t10, "clips"), "files")),
                   h_sql_long(alt_conninfo, "SELECT count(blob_uri) FROM hd.clip k JOIN hd.session s ON "
                                            "k.sess_ref = s.sess_id JOIN hd.engagement e ON s.eng_ref = "
                                            "e.eng_id WHERE e.contact_msisdn = '+15550001111' AND s.org_ref = 10"));
  ck_assert_int_eq(rows_of(t20, "engagements"),
                   h_sql_long(alt_conninfo, "SELECT count(*) FROM hd.engagement WHERE org_ref = 20 AND "
                                            "(contact_msisdn = '+15550001111' OR contact_mail = 'sam@example.org')"));
  ck_assert_str_eq(json_string_value(json_object_get(step(t20, "engagements"), "action")), "mask");
  /* tenant 30 holds no row of the subject, only a transcript mentioning them */
  ck_assert_uint_eq(json_array_size(json_object_get(t30, "steps")), 1);
  ck_assert_str_eq(json_string_value(json_object_get(step(t30, "clip_texts"), "action")), "redact");
  ck_assert_int_eq(json_integer_value(json_object_get(step(t30, "clip_texts"), "mentions")), 1);
  /* values are parameters, never in the SQL text */
  size_t i, k;
  const json_t *p, *s;
  json_array_foreach(json_object_get(plan, "parts"), i, p) json_array_foreach(json_object_get(p, "steps"), k, s) {
    const char *sql = json_string_value(json_object_get(s, "sql"));
    ck_assert(!sql || (!strstr(sql, "5550001111") && !strstr(sql, "sam@")));
  }
  json_decref(plan);
  free(before);
  free(after);
}
END_TEST

/* Every statement of the plan runs, touches exactly the counted rows, and
 * redaction keeps everything but the subject; then all is rolled back. */
START_TEST(alt_plan_statements_execute)
{
  json_t *plan = explain_json("--phone '+15550001111' --email sam@example.org");
  PGconn *c = PQconnectdb(alt_conninfo);
  ck_assert_int_eq(PQstatus(c), CONNECTION_OK);
  PQclear(PQexec(c, "BEGIN"));
  size_t i, k, n;
  const json_t *p, *s, *prm;
  json_array_foreach(json_object_get(plan, "parts"), i, p) json_array_foreach(json_object_get(p, "steps"), k, s) {
    const char *sql = json_string_value(json_object_get(s, "sql"));
    if (!sql)
      continue;
    const json_t *params = json_object_get(s, "params");
    const char *vals[32] = {0};
    ck_assert_uint_lt(json_array_size(params), 32);
    json_array_foreach(params, n, prm) {
      const json_t *v = json_object_get(prm, "value");
      const char *label = json_string_value(json_object_get(prm, "label"));
      /* the executor supplies the padded HMAC keys; any 64-byte value will do here */
      vals[n] = json_is_string(v) ? json_string_value(v)
                : !strncmp(label, "hmac_", 5)
                    ? "\\x3636363636363636363636363636363636363636363636363636363636363636"
                      "36363636363636363636363636363636363636363636363636363636363636"
                    : NULL;
    }
    PGresult *r = PQexecParams(c, sql, (int)json_array_size(params), NULL, vals, NULL, NULL, 0);
    ck_assert_msg(PQresultStatus(r) == PGRES_COMMAND_OK, "%s: %s", sql, PQresultErrorMessage(r));
    long long want = json_integer_value(json_object_get(s, "rows")) -
                     json_integer_value(json_object_get(s, "kept"));
    ck_assert_msg(atoll(PQcmdTuples(r)) == want, "%s: %s rows, planned %lld",
                  json_string_value(json_object_get(s, "collection")), PQcmdTuples(r), want);
    PQclear(r);
  }
  PGresult *r = PQexec(c, "SELECT body FROM hd.clip_text WHERE text_id = 402");
  const char *body = PQgetvalue(r, 0, 0);
  ck_assert_str_eq(body, "please call my friend on [phone removed] or mail [email removed]");
  PQclear(r);
  r = PQexec(c, "SELECT body FROM hd.clip_text WHERE text_id = 403");
  ck_assert_str_eq(PQgetvalue(r, 0, 0), "nobody else is mentioned, 5550001111999 is a long number");
  PQclear(r);
  r = PQexec(c, "SELECT count(*) FROM hd.engagement WHERE contact_msisdn = '+15550001111'");
  ck_assert_str_eq(PQgetvalue(r, 0, 0), "0");
  PQclear(r);
  r = PQexec(c, "SELECT count(*) FROM acct.member");
  ck_assert_str_eq(PQgetvalue(r, 0, 0), "2"); /* member 3 gone, member 1 kept by its charges */
  PQclear(r);
  PQclear(PQexec(c, "ROLLBACK"));
  PQfinish(c);
  json_decref(plan);
}
END_TEST

START_TEST(alt_access_plan)
{
  json_t *plan = explain_json("--account-id 1 --access");
  ck_assert_str_eq(json_string_value(json_object_get(plan, "plan")), "access");
  const json_t *ctl = part(plan, NULL);
  ck_assert_ptr_nonnull(ctl);
  ck_assert_int_eq(rows_of(ctl, "members"), 1);
  ck_assert_int_eq(rows_of(ctl, "charges"), 2);
  const json_t *s = step(ctl, "members");
  ck_assert_str_eq(json_string_value(json_object_get(s, "action")), "select");
  ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(s, "sql")), "x.\"login_mail\", x.\"display\""));
  json_decref(plan);
  /* nobody: no parts, exit 0 */
  plan = explain_json("--phone +19990000000");
  ck_assert_uint_eq(json_array_size(json_object_get(plan, "parts")), 0);
  json_decref(plan);
}
END_TEST

START_TEST(lint_live_and_usage)
{
  int rc;
  char *out = dsrctl("policy lint --live tests/data/policy-alt/policy.json", &rc);
  ck_assert_int_eq(rc, 0);
  ck_assert_ptr_nonnull(strstr(out, "collections.audit.references[0]: warning: no index on reference column "
                                    "member_no (erasure scans the table); run: CREATE INDEX ON "
                                    "\"acct\".\"audit_trail\" (\"member_no\");"));
  ck_assert_ptr_nonnull(strstr(out, "0 errors, 1 warning"));
  free(out);
  PQclear(h_sql(alt_conninfo, "ALTER TABLE hd.clip_tag RENAME COLUMN label TO tag_label"));
  out = dsrctl("policy lint --live tests/data/policy-alt/policy.json", &rc);
  ck_assert_int_eq(rc, 1);
  ck_assert_ptr_nonnull(strstr(out, "collections.clip_tags.columns.label: error: no column label in table hd.clip_tag"));
  free(out);
  PQclear(h_sql(alt_conninfo, "ALTER TABLE hd.clip_tag RENAME COLUMN tag_label TO label"));
  out = dsrctl("policy lint tests/data/policies/broken/06-reference-cycle.json", &rc);
  ck_assert_int_eq(rc, 1);
  free(out);
  out = dsrctl("policy lint 2>/dev/null", &rc);
  ck_assert_int_eq(rc, 2);
  free(out);
  out = dsrctl("policy explain --policy tests/data/policy-alt/policy.json 2>/dev/null", &rc);
  ck_assert_int_eq(rc, 2);
  free(out);
}
END_TEST

Suite *suite_policy_plan(void)
{
  Suite *s = suite_create("policy_plan");
  TCase *tc = tcase_create("alt");
  tcase_add_unchecked_fixture(tc, alt_setup, alt_teardown);
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, alt_explain_counts_match_sql);
  tcase_add_test(tc, alt_plan_statements_execute);
  tcase_add_test(tc, alt_access_plan);
  tcase_add_test(tc, lint_live_and_usage);
  suite_add_tcase(s, tc);
  return s;
}

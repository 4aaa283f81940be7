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
#include "dsr/config.h"
#include "dsr/crypto.h"
#include "dsr/db.h"
#include "dsr/pgembed.h"
#include "dsr/planner.h"
#include "dsr/policy.h"
#include "dsr/sweep.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static char *alt_conninfo;

/* Creates and fills the alternate platform once per test process. */
static void alt_setup(void)
{
  alt_conninfo = it_load_platform("policy_alt", "tests/data/policy-alt",
                                  "DROP SCHEMA IF EXISTS hd CASCADE; DROP SCHEMA IF EXISTS acct CASCADE");
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
  return it_dsrctl(args, rc);
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

/* The number of keys a step's page query lists from the start (at most 10,000). */
static int page_keys(PGconn *c, const struct dsr_plan_step *st)
{
  const char *vals[32] = {0};
  ck_assert_uint_lt(st->nkeys_params, 32);
  for (size_t i = 0; i < st->nkeys_params; i++)
    vals[i] = !strcmp(st->keys_params[i].label, "limit") ? "10000" : st->keys_params[i].value;
  PGresult *r = PQexecParams(c, st->keys_sql, (int)st->nkeys_params, NULL, vals, NULL, NULL, 0);
  ck_assert_msg(PQresultStatus(r) == PGRES_TUPLES_OK, "%s", PQresultErrorMessage(r));
  int n = PQntuples(r);
  PQclear(r);
  return n;
}

/* An erasure's keyed plan (the subject's rows in the session's tables) counts what the plan
 * counts, its page queries read those tables and list the same keys, and a second one on the
 * same session replaces them. */
START_TEST(keyed_plan_matches_the_plan)
{
  char err[512], path[700];
  snprintf(path, sizeof path, "%s/tests/data/policy-alt/policy.json", getenv("DSR_TOP_SRCDIR"));
  struct dsr_policy *policy = dsr_policy_load(path, err, sizeof err);
  ck_assert_msg(policy != NULL, "%s", err);
  struct dsr_subject subj = {.email = "sam@example.org", .phone = "+15550001111"};
  PGconn *c = PQconnectdb(alt_conninfo);
  ck_assert_int_eq(PQstatus(c), CONNECTION_OK);
  struct dsr_plan *plain = dsr_plan_build(policy, c, DSR_PLAN_ERASURE, &subj, err, sizeof err);
  ck_assert_msg(plain != NULL, "%s", err);
  for (int round = 0; round < 2; round++) {
    struct dsr_plan *keyed = dsr_plan_build_keyed(policy, c, &subj, err, sizeof err);
    ck_assert_msg(keyed != NULL, "%s", err);
    ck_assert_uint_eq(keyed->nparts, plain->nparts);
    size_t paged = 0;
    for (size_t i = 0; i < plain->nparts; i++) {
      const struct dsr_plan_part *a = &plain->parts[i], *b = &keyed->parts[i];
      ck_assert_uint_eq(b->nsteps, a->nsteps);
      for (size_t k = 0; k < a->nsteps; k++) {
        const struct dsr_plan_step *x = &a->steps[k], *y = &b->steps[k];
        ck_assert_str_eq(y->coll->name, x->coll->name);
        ck_assert_int_eq(y->verb, x->verb);
        ck_assert_int_eq(y->rows, x->rows);
        ck_assert_int_eq(y->kept, x->kept);
        ck_assert_int_eq(y->files, x->files);
        if (!x->keys_sql)
          continue;
        ck_assert_ptr_null(strstr(x->keys_sql, "pg_temp."));
        if (x->verb != DSR_STEP_REDACT || x->rows > x->mentions)
          ck_assert_ptr_nonnull(strstr(y->keys_sql, "pg_temp.\"__dsr_s"));
        ck_assert_int_eq(page_keys(c, y), page_keys(c, x));
        paged++;
      }
    }
    ck_assert_uint_gt(paged, 3);
    dsr_plan_free(keyed);
  }
  /* the tables are the session's (temporary, visible to it, not to another session) */
  const char *tables = "SELECT count(*) FROM pg_class WHERE relname LIKE '\\_\\_dsr\\_s%' "
                       "AND relkind = 'r' AND relpersistence = 't' AND pg_table_is_visible(oid)";
  PGresult *r = PQexec(c, tables);
  ck_assert_int_gt(atoi(PQgetvalue(r, 0, 0)), 3);
  PQclear(r);
  PGconn *other = PQconnectdb(alt_conninfo);
  r = PQexec(other, tables);
  ck_assert_str_eq(PQgetvalue(r, 0, 0), "0");
  PQclear(r);
  PQfinish(other);
  dsr_plan_free(plain);
  PQfinish(c);
  dsr_policy_free(policy);
}
END_TEST

/* Both plans' rows of every collection, step by step. */
static void same_steps(const struct dsr_plan *a, const struct dsr_plan *b)
{
  ck_assert_uint_eq(b->nparts, a->nparts);
  for (size_t i = 0; i < a->nparts; i++) {
    ck_assert_uint_eq(b->parts[i].nsteps, a->parts[i].nsteps);
    for (size_t k = 0; k < a->parts[i].nsteps; k++) {
      ck_assert_str_eq(b->parts[i].steps[k].coll->name, a->parts[i].steps[k].coll->name);
      ck_assert_int_eq(b->parts[i].steps[k].rows, a->parts[i].steps[k].rows);
    }
  }
}

static char *show(PGconn *c, const char *setting)
{
  char sql[64];
  snprintf(sql, sizeof sql, "SHOW %s", setting);
  PGresult *r = PQexec(c, sql);
  ck_assert_int_eq(PQresultStatus(r), PGRES_TUPLES_OK);
  char *v = strdup(PQgetvalue(r, 0, 0));
  PQclear(r);
  return v;
}

/* Pings reached from two parents, one of them large (12,000 trips of the subject): a keyed
 * plan ORs the conditions over the parents' tables hashed (psql_or_hash_kb()). Its rows are
 * the plain plan's (a ping reached both ways counted once), the session's work_mem is its own
 * again afterwards, and the session got its local buffers for the tables. */
START_TEST(keyed_plan_ors_a_large_parent)
{
  char *dsn = it_load_platform("policy_or", "tests/data/policy-or",
                               "DROP SCHEMA IF EXISTS ops CASCADE");
  ck_assert_int_eq(setenv("DSR_OR_DSN", dsn, 1), 0);
  char err[512], path[700];
  snprintf(path, sizeof path, "%s/tests/data/policy-or/policy.json", getenv("DSR_TOP_SRCDIR"));
  struct dsr_policy *policy = dsr_policy_load(path, err, sizeof err);
  ck_assert_msg(policy != NULL, "%s", err);
  struct dsr_subject subj = {.email = "ana@example.org", .phone = "+15550002222"};
  PGconn *c = PQconnectdb(dsn);
  ck_assert_int_eq(PQstatus(c), CONNECTION_OK);
  PQclear(PQexec(c, "SET work_mem = '3MB'"));
  for (int k = 0; k < 2; k++) {
    enum dsr_plan_kind kind = k ? DSR_PLAN_ERASURE : DSR_PLAN_ACCESS;
    struct dsr_plan *plain = dsr_plan_build(policy, c, kind, &subj, err, sizeof err);
    ck_assert_msg(plain != NULL, "%s", err);
    struct dsr_plan *keyed = k ? dsr_plan_build_keyed(policy, c, &subj, err, sizeof err)
                               : dsr_plan_build_access_keyed(policy, c, &subj, err, sizeof err);
    ck_assert_msg(keyed != NULL, "%s", err);
    ck_assert_int_eq(dsr_plan_rows(plain, "trips"), 12000);
    ck_assert_int_eq(dsr_plan_rows(plain, "shifts"), 40);
    /* 12,000 trips' pings (20 of them in a shift too) and 40 shifts' own */
    ck_assert_int_eq(dsr_plan_rows(plain, "pings"), 12040);
    same_steps(plain, keyed);
    dsr_plan_free(plain);
    dsr_plan_free(keyed);
    char *wm = show(c, "work_mem");
    ck_assert_str_eq(wm, "3MB");
    free(wm);
  }
  char *tb = show(c, "temp_buffers");
  ck_assert_str_eq(tb, "512MB");
  free(tb);
  PQfinish(c);
  free(dsn);
  dsr_policy_free(policy);
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

/*
 * lint --live prepares what the sweep would run: a retention rule whose SQL
 * takes other parameters than dsrd binds is an error at lint time, with
 * PostgreSQL's own message for a statement that does not prepare.
 */
START_TEST(lint_live_prepares_every_statement)
{
  int rc;
  /* A retention column the policy and the table both call text: every column matches its
   * declaration, yet no statement comparing it with a time can run. */
  char src[600], variant[] = "/tmp/dsr-alt-policy-XXXXXX", args[700];
  snprintf(src, sizeof src, "%s/tests/data/policy-alt/policy.json", getenv("DSR_TOP_SRCDIR"));
  json_error_t je;
  json_t *pol = json_load_file(src, 0, &je);
  ck_assert_ptr_nonnull(pol);
  json_object_set_new(json_object_get(json_object_get(json_object_get(pol, "collections"), "clips"),
                                      "columns"), "made", json_string("text"));
  int fd = mkstemp(variant);
  ck_assert_int_ge(fd, 0);
  close(fd);
  ck_assert_int_eq(json_dump_file(pol, variant, JSON_INDENT(2)), 0);
  json_decref(pol);
  PQclear(h_sql(alt_conninfo, "ALTER TABLE hd.clip ALTER COLUMN made TYPE text"));
  snprintf(args, sizeof args, "policy lint --live %s", variant);
  char *out = dsrctl(args, &rc);
  PQclear(h_sql(alt_conninfo, "ALTER TABLE hd.clip ALTER COLUMN made TYPE timestamptz USING made::timestamptz"));
  unlink(variant);
  ck_assert_int_eq(rc, 1);
  ck_assert_msg(strstr(out, "collections.clips: error: the retention sweep's page statement does "
                            "not prepare: ERROR:  operator does not exist: text <") != NULL,
                "%s", out);
  free(out);
  /* a declared key that is not a key */
  PQclear(h_sql(alt_conninfo, "CREATE TABLE hd.loose (n bigint, v text)"));
  out = dsrctl("policy lint --live tests/data/policy-alt/policy.json", &rc);
  ck_assert_int_eq(rc, 0);
  free(out);
  PQclear(h_sql(alt_conninfo, "ALTER TABLE hd.clip_tag DROP CONSTRAINT clip_tag_pkey"));
  out = dsrctl("policy lint --live tests/data/policy-alt/policy.json", &rc);
  PQclear(h_sql(alt_conninfo, "ALTER TABLE hd.clip_tag ADD PRIMARY KEY (tag_id); DROP TABLE hd.loose"));
  ck_assert_int_eq(rc, 1);
  ck_assert_msg(strstr(out, "collections.clip_tags.primary_key: error: no unique index on "
                            "hd.clip_tag (tag_id)") != NULL, "%s", out);
  free(out);
}
END_TEST

/* Rows a plan's steps touch in collection @p coll, over every part. */
static long long rows_in(const json_t *plan, const char *coll)
{
  long long n = 0;
  size_t i, k;
  const json_t *p, *st;
  json_array_foreach(json_object_get(plan, "parts"), i, p)
    json_array_foreach(json_object_get(p, "steps"), k, st)
      if (!strcmp(json_string_value(json_object_get(st, "collection")), coll))
        n += json_integer_value(json_object_get(st, "rows"));
  return n;
}

/*
 * Reach per plan: a session of the subject's engagement is hers to see
 * ("access": true) but not hers to erase ("erasure": false); what hangs from
 * it follows. Counts checked with hand-written SQL.
 */
START_TEST(reference_reach_differs_for_access_and_erasure)
{
  char src[600], variant[] = "/tmp/dsr-alt-reach-XXXXXX", args[800];
  snprintf(src, sizeof src, "%s/tests/data/policy-alt/policy.json", getenv("DSR_TOP_SRCDIR"));
  json_error_t je;
  json_t *pol = json_load_file(src, 0, &je);
  ck_assert_ptr_nonnull(pol);
  json_t *ref = json_array_get(json_object_get(json_object_get(json_object_get(pol, "collections"),
                                                               "sessions"), "references"), 0);
  json_object_set_new(ref, "cascade", json_pack("{s:b, s:b}", "access", 1, "erasure", 0));
  int fd = mkstemp(variant);
  ck_assert_int_ge(fd, 0);
  close(fd);
  ck_assert_int_eq(json_dump_file(pol, variant, JSON_INDENT(2)), 0);
  int rc;
  json_t *plans[2];
  for (int k = 0; k < 2; k++) {
    snprintf(args, sizeof args, "policy explain --policy %s --phone +15550001111 --json%s",
             variant, k ? "" : " --access");
    char *out = dsrctl(args, &rc);
    ck_assert_msg(rc == 0, "%s", out);
    plans[k] = json_loads(out, 0, &je);
    ck_assert_msg(plans[k] != NULL, "%s", out);
    free(out);
  }
  long sessions = h_sql_long(alt_conninfo, "SELECT count(*) FROM hd.session s JOIN hd.engagement e"
                                           " ON e.eng_id = s.eng_ref WHERE e.contact_msisdn ="
                                           " '+15550001111'");
  ck_assert_int_eq(sessions, 3);
  ck_assert_int_eq(rows_in(plans[0], "sessions"), sessions); /* access: hers to see */
  ck_assert_int_gt(rows_in(plans[0], "clips"), 0);
  ck_assert_int_eq(rows_in(plans[1], "sessions"), 0); /* erasure: not hers to erase */
  ck_assert_int_eq(rows_in(plans[1], "clips"), 0);
  ck_assert_int_gt(rows_in(plans[1], "engagements"), 0); /* her own rows still are */
  json_decref(plans[0]);
  json_decref(plans[1]);
  /* any other shape is a lint error at its position */
  json_object_set_new(ref, "cascade", json_pack("{s:s}", "access", "yes"));
  ck_assert_int_eq(json_dump_file(pol, variant, JSON_INDENT(2)), 0);
  snprintf(args, sizeof args, "policy lint %s", variant);
  char *out = dsrctl(args, &rc);
  ck_assert_int_eq(rc, 1);
  ck_assert_msg(strstr(out, "collections.sessions.references[0].cascade") != NULL ||
                    strstr(out, "cascade must be true, false or") != NULL, "%s", out);
  free(out);
  json_decref(pol);
  unlink(variant);
}
END_TEST

/*
 * Per-tenant retention through a chain: clips have no tenant column of their
 * own (tenant_via: session), and each organisation keeps them for its own
 * period (org_prefs.keep_clips_days, default 90 days, between 7 days and 3
 * years). The sweep deletes exactly the clips past their own organisation's
 * period — compared with hand-written SQL — and their files.
 */
START_TEST(alt_sweep_per_tenant_retention_through_a_chain)
{
  char err[512], clips[] = "/tmp/dsr-alt-clips-XXXXXX";
  ck_assert_ptr_nonnull(mkdtemp(clips));
  ck_assert(setenv("DSR_ALT_CLIPS", clips, 1) == 0);
  char dir[600];
  snprintf(dir, sizeof dir, "%s/clips", clips);
  ck_assert_int_eq(mkdir(dir, 0700), 0);
  PGresult *r = h_sql(alt_conninfo, "SELECT blob_uri FROM hd.clip WHERE blob_uri IS NOT NULL");
  for (int i = 0; i < PQntuples(r); i++) {
    char f[700];
    snprintf(f, sizeof f, "%s/%s", clips, PQgetvalue(r, i, 0));
    FILE *fp = fopen(f, "w");
    ck_assert_ptr_nonnull(fp);
    fputs("RIFF", fp);
    fclose(fp);
  }
  PQclear(r);
  /* Org 10 keeps 30 days, org 20 the default 90, org 30 keeps 60 days. Ages straddle each. */
  PQclear(h_sql(alt_conninfo,
                "DELETE FROM hd.clip_tag;"
                " UPDATE hd.clip SET made = now() - CASE clip_id WHEN 300 THEN interval '40 days'"
                " WHEN 301 THEN interval '20 days' WHEN 302 THEN interval '100 days'"
                " WHEN 303 THEN interval '50 days' ELSE interval '70 days' END"));
  const char *expect_sql =
      "SELECT string_agg(c.clip_id::text, ',' ORDER BY c.clip_id) FROM hd.clip c"
      " JOIN hd.session s ON s.sess_id = c.sess_ref LEFT JOIN hd.org_prefs o ON o.org_ref ="
      " s.org_ref WHERE c.made < now() - make_interval(days => least(greatest(coalesce("
      "o.keep_clips_days, 90), 7), 3 * 365))";
  r = h_sql(alt_conninfo, expect_sql);
  char expected[64];
  snprintf(expected, sizeof expected, "%s", PQgetvalue(r, 0, 0));
  PQclear(r);
  ck_assert_str_eq(expected, "300,302,304");
  long texts_before = h_sql_long(alt_conninfo, "SELECT count(*) FROM hd.clip_text");

  /* dsrd's own database for the sweep's ledger and durable file deletions */
  static const unsigned char key[32] = {9, 8, 7};
  dsr_crypto_init_with_key(key);
  char *dsrdb = it_fresh_db("alt_sweep");
  struct dsr_db *db = it_connect(dsrdb);
  char path[600];
  snprintf(path, sizeof path, "%s/tests/data/policy-alt/policy.json", getenv("DSR_TOP_SRCDIR"));
  struct dsr_policy *p = dsr_policy_load(path, err, sizeof err);
  ck_assert_msg(p != NULL, "%s", err);
  struct dsr_config cfg;
  ck_assert(dsr_config_defaults(&cfg));
  struct dsr_sweep_opts o;
  dsr_sweep_opts_init(&o, &cfg);
  o.own_data = false;
  json_t *rc = NULL;
  ck_assert_msg(dsr_sweep_run(db, p, &o, &rc, err, sizeof err) == DSR_SWEEP_DONE, "%s", err);
  json_decref(rc);
  r = h_sql(alt_conninfo, "SELECT coalesce(string_agg(clip_id::text, ',' ORDER BY clip_id), '')"
                          " FROM hd.clip");
  ck_assert_str_eq(PQgetvalue(r, 0, 0), "301,303"); /* exactly the others are left */
  PQclear(r);
  /* their transcripts went with them (with_parent), the others' stayed */
  ck_assert_int_eq(h_sql_long(alt_conninfo, "SELECT count(*) FROM hd.clip_text"),
                   texts_before - 3);
  char f[700];
  snprintf(f, sizeof f, "%s/clips/302.wav", clips);
  ck_assert_int_ne(access(f, F_OK), 0);
  snprintf(f, sizeof f, "%s/clips/303.wav", clips);
  ck_assert_int_eq(access(f, F_OK), 0);
  dsr_config_free(&cfg);
  dsr_policy_free(p);
  it_disconnect(db);
  free(dsrdb);
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
  tcase_add_test(tc, keyed_plan_matches_the_plan);
  tcase_add_test(tc, keyed_plan_ors_a_large_parent);
  tcase_add_test(tc, alt_access_plan);
  tcase_add_test(tc, lint_live_and_usage);
  tcase_add_test(tc, lint_live_prepares_every_statement);
  tcase_add_test(tc, reference_reach_differs_for_access_and_erasure);
  tcase_add_test(tc, alt_sweep_per_tenant_retention_through_a_chain); /* last: it deletes */
  suite_add_tcase(s, tc);
  return s;
}

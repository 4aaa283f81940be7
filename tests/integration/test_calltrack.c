/**
 * @file test_calltrack.c
 * @brief A second test platform that is not the sample: CallTrack
 *        (tests/data/platform-calltrack), a call-tracking service for sales
 *        teams. Its calls inherit their tenant through a handset and the
 *        agent's account, a controller collection; the call log is a
 *        partitioned table with soft-deleted rows; a handset is the agent's
 *        to see but not hers to erase; a call of another caller was forwarded
 *        to a lead (another party's column, masked on her erasure); a note
 *        names a lead the local way,
 *        "(415) 555-0101" (the policy's default region is US). Lint (with
 *        --live), the plans, an erasure and a per-organisation retention
 *        sweep are each compared with hand-written SQL.
 */
#include "erasure_fixture.h"
#include "dsr/customer_api.h"
#include "dsr/sweep.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define LEAD "+14155550101"
#define AGENT "ana@calltrack.example"

static char *ct;          /* the platform's conninfo */
static char audio[256];   /* the audio store's root */
static char objects[256]; /* where the prefix s3://ct-audio/ points */
static char policy[512];  /* the fixture's policy with that prefix */

static void write_file(const char *dir, const char *name)
{
  char path[600];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  char *slash = strrchr(path, '/');
  *slash = '\0';
  H_REQUIRE1(mkdir(path, 0755) == 0 || errno == EEXIST);
  *slash = '/';
  FILE *f = fopen(path, "w");
  H_REQUIRE1(f != NULL);
  fputs("RIFF voicemail", f);
  H_REQUIRE1(fclose(f) == 0);
}

static bool exists_in(const char *dir, const char *name)
{
  char path[600];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  return access(path, F_OK) == 0;
}

/*
 * In each test: the platform as the fixture files make it, its voicemails' audio
 * on disk (901 as an absolute path under the root, 902 as an object key), and the
 * policy with the object store's prefix.
 */
static void setup(void)
{
  ct = it_load_platform("calltrack", "tests/data/platform-calltrack",
                        "DROP SCHEMA IF EXISTS ct CASCADE");
  H_REQUIRE1(setenv("DSR_CALLTRACK_DSN", ct, 1) == 0);
  h_tmpdir(audio, sizeof audio, "ct-audio");
  h_tmpdir(objects, sizeof objects, "ct-objects");
  H_REQUIRE1(setenv("DSR_CALLTRACK_AUDIO", audio, 1) == 0);
  write_file(audio, "org-1/vm-900.wav");
  write_file(audio, "org-1/vm-901.wav");
  write_file(audio, "org-1/vm-903.wav");
  write_file(objects, "org-2/vm-902.wav");
  char sql[800];
  snprintf(sql, sizeof sql, "UPDATE ct.voicemail SET audio = '%s/org-1/vm-901.wav' WHERE"
                            " vm_id = 901; UPDATE ct.voicemail SET audio ="
                            " 's3://ct-audio/org-2/vm-902.wav' WHERE vm_id = 902", audio);
  PQclear(h_sql(ct, sql));
  char *src = NULL;
  H_REQUIRE1(asprintf(&src, "%s/tests/data/platform-calltrack/policy.json",
                      getenv("DSR_TOP_SRCDIR")) > 0);
  json_error_t je;
  json_t *doc = json_load_file(src, JSON_PRESERVE_ORDER, &je);
  H_REQUIRE(doc != NULL, "%s: %s", src, je.text);
  json_t *store = json_object_get(json_object_get(doc, "stores"), "audio");
  H_REQUIRE1(json_object_set_new(store, "prefixes",
                                 json_pack("{s:s}", "s3://ct-audio/", objects)) == 0);
  snprintf(policy, sizeof policy, "%s/policy.json", objects);
  H_REQUIRE1(json_dump_file(doc, policy, JSON_INDENT(2) | JSON_PRESERVE_ORDER) == 0);
  json_decref(doc);
  free(src);
}

static void teardown(void)
{
  free(ct);
  ct = NULL;
}

static char *policy_file(void)
{
  char *p = strdup(policy);
  H_REQUIRE1(p != NULL);
  return p;
}

static json_t *explain(const char *who, bool access)
{
  char args[1024];
  snprintf(args, sizeof args,
           "policy explain --policy %s %s --json%s", policy, who,
           access ? " --access" : "");
  int rc;
  char *out = it_dsrctl(args, &rc);
  ck_assert_msg(rc == 0, "explain: %s", out);
  json_error_t je;
  json_t *j = json_loads(out, 0, &je);
  ck_assert_msg(j != NULL, "not JSON: %s", out);
  free(out);
  return j;
}

/* Rows of collection @p coll in the part of @p tenant (NULL: the controller part). */
static long long rows_of(const json_t *plan, const char *tenant, const char *coll)
{
  size_t i, k;
  const json_t *p, *st;
  long long n = 0;
  json_array_foreach(json_object_get(plan, "parts"), i, p)
  {
    const char *t = json_string_value(json_object_get(p, "tenant"));
    if ((tenant == NULL) != (t == NULL) || (tenant && strcmp(tenant, t) != 0))
      continue;
    json_array_foreach(json_object_get(p, "steps"), k, st)
      if (!strcmp(json_string_value(json_object_get(st, "collection")), coll))
        n += json_integer_value(json_object_get(st, "rows"));
  }
  return n;
}

/* Rows of @p sql's one-column, two-row-shape answer "tenant, count" for @p tenant. */
static long long sql_count(const char *sql)
{
  return h_sql_long(ct, sql);
}

START_TEST(lint_live_is_clean)
{
  int rc;
  char args[600];
  snprintf(args, sizeof args, "policy lint --live %s", policy);
  char *out = it_dsrctl(args, &rc);
  ck_assert_msg(rc == 0, "%s", out);
  ck_assert_msg(strstr(out, "0 errors, 0 warnings") != NULL, "%s", out);
  free(out);
  /* the published JSON schema accepts it too */
  char cmd[1024];
  snprintf(cmd, sizeof cmd,
           "cd '%s' && python3 -c 'import json,jsonschema; jsonschema.validate(json.load(open("
           "\"tests/data/platform-calltrack/policy.json\")), json.load(open("
           "\"policies/dsr-policy.schema.json\")))' 2>&1",
           getenv("DSR_TOP_SRCDIR"));
  FILE *f = popen(cmd, "r");
  ck_assert_ptr_nonnull(f);
  char buf[512] = "";
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  buf[n] = '\0';
  ck_assert_msg(pclose(f) == 0, "schema: %s", buf);
}
END_TEST

/* A lead's calls, by the organisation their handset's agent works for. */
START_TEST(a_leads_calls_belong_to_the_organisation_of_the_handset)
{
  json_t *plan = explain("--phone " LEAD, false);
  for (int org = 1; org <= 2; org++) {
    char tenant[8], sql[600];
    snprintf(tenant, sizeof tenant, "%d", org);
    /* her calls (soft-deleted ones too), and calls of others forwarded to her number */
    snprintf(sql, sizeof sql, "SELECT count(*) FROM ct.call_log c JOIN ct.handset h USING"
                              " (handset_id) JOIN ct.agent a USING (agent_id) WHERE"
                              " (c.counterpart = '" LEAD "' OR regexp_replace(c.forwarded_to,"
                              " '[^0-9]', '', 'g') = '14155550101' OR EXISTS (SELECT 1 FROM"
                              " unnest(c.conferenced) e WHERE regexp_replace(e, '[^0-9]', '',"
                              " 'g') = '14155550101')) AND a.org_id = %d", org);
    long long calls = sql_count(sql);
    ck_assert_int_gt(calls, 0);
    ck_assert_int_eq(rows_of(plan, tenant, "calls"), calls);
    snprintf(sql, sizeof sql, "SELECT count(*) FROM ct.lead WHERE phone = '" LEAD "' AND"
                              " org_id = %d", org);
    ck_assert_int_eq(rows_of(plan, tenant, "leads"), sql_count(sql));
  }
  /* a lead whose second number (an array column) is hers, and another lead whose document
   * names her as a referral (another party's value at a JSON path) */
  ck_assert_int_eq(rows_of(plan, "3", "leads"),
                   sql_count("SELECT count(*) FROM ct.lead WHERE '" LEAD "' = ANY(alt_phones) OR"
                             " EXISTS (SELECT 1 FROM jsonb_array_elements(meta -> 'referrals') r"
                             " WHERE regexp_replace(r ->> 'phone', '[^0-9]', '', 'g') ="
                             " '14155550101')"));
  ck_assert_int_eq(rows_of(plan, "3", "leads"), 2);
  /* notes: of the lead's calls (deleted with them), and another lead's note naming her */
  ck_assert_int_eq(rows_of(plan, "1", "call_notes"),
                   sql_count("SELECT count(*) FROM ct.call_note n JOIN ct.call_log c USING"
                             " (call_id) WHERE c.counterpart = '" LEAD "' OR n.body ~"
                             " '415[^0-9]*555[^0-9]*0101'"));
  ck_assert_int_eq(rows_of(plan, "3", "calls"), 0);
  ck_assert_int_eq(rows_of(plan, NULL, "agents"), 0); /* no controller rows: she is a lead */
  /* the tags of her note and their comments (keys of two and three columns) are hers too,
   * in the part of the organisation lent down the chain tag -> note -> call -> handset -> agent */
  ck_assert_int_eq(rows_of(plan, "1", "call_tags"), 2);
  ck_assert_int_eq(rows_of(plan, "1", "tag_comments"), 2);
  ck_assert_int_eq(rows_of(plan, "2", "tag_comments"), 2); /* others' comments naming her */
  /* a preview says which identities it took */
  ck_assert_str_eq(json_string_value(json_object_get(json_object_get(plan, "identities_used"),
                                                     "phone")),
                   LEAD);
  ck_assert_ptr_null(json_object_get(json_object_get(plan, "identities_used"), "email"));
  json_decref(plan);
}
END_TEST

/* An agent: her handset and its calls are hers to see, not hers to erase. */
START_TEST(an_agents_handset_is_hers_to_see_not_to_erase)
{
  json_t *access = explain("--email " AGENT, true), *erasure = explain("--email " AGENT, false);
  ck_assert_int_eq(rows_of(access, NULL, "agents"), 1);
  ck_assert_int_eq(rows_of(access, "1", "handsets"), 1); /* the tenant lent by her account */
  ck_assert_int_eq(rows_of(access, "1", "calls"),
                   sql_count("SELECT count(*) FROM ct.call_log c JOIN ct.handset h USING"
                             " (handset_id) JOIN ct.agent a USING (agent_id) WHERE"
                             " a.login_email = '" AGENT "'"));
  ck_assert_int_eq(rows_of(erasure, NULL, "agents"), 1);
  ck_assert_int_eq(rows_of(erasure, "1", "handsets"), 0);
  ck_assert_int_eq(rows_of(erasure, "1", "calls"), 0);
  json_decref(access);
  json_decref(erasure);
  /* an agent found by a number in her profile document (a JSON path) */
  json_t *by_profile = explain("--phone +14155550181", false);
  ck_assert_int_eq(rows_of(by_profile, NULL, "agents"), 1);
  json_decref(by_profile);
}
END_TEST

/*
 * Each organisation keeps calls for its own period, read along the chain
 * call -> handset -> agent (controller) -> org: 30 days, the default 90, and
 * 400 clamped to the policy's maximum of a year. Soft-deleted rows are no
 * special case.
 */
START_TEST(calls_are_swept_by_their_own_organisations_period)
{
  const char *expect = "SELECT string_agg(c.call_id::text, ',' ORDER BY c.call_id) FROM"
                       " ct.call_log c JOIN ct.handset h USING (handset_id) JOIN ct.agent a"
                       " USING (agent_id) JOIN ct.org o ON o.org_id = a.org_id WHERE c.started <"
                       " now() - make_interval(days => least(greatest(coalesce(o.keep_calls_days,"
                       " 90), 7), 365))";
  PGresult *r = h_sql(ct, expect);
  char expected[128];
  snprintf(expected, sizeof expected, "%s", PQgetvalue(r, 0, 0));
  PQclear(r);
  ck_assert_str_eq(expected, "2,3,1001,1004");
  char *keep = NULL;
  ck_assert(asprintf(&keep, "SELECT coalesce(string_agg(call_id::text, ',' ORDER BY call_id), '')"
                            " FROM ct.call_log WHERE NOT call_id = ANY('{%s}'::bigint[])",
                     expected) > 0);
  r = h_sql(ct, keep);
  char left[128];
  snprintf(left, sizeof left, "%s", PQgetvalue(r, 0, 0));
  PQclear(r);
  free(keep);

  struct ef_dsrd d;
  char *pf = policy_file();
  ef_dsrd_open(&d, "dsr_calltrack_sweep", pf, NULL);
  free(pf);
  struct dsr_sweep_opts o;
  dsr_sweep_opts_init(&o, &d.cfg);
  o.own_data = false;
  o.batch_rows = 1; /* a page per row: every cursor, composite keys' included, is used */
  json_t *rc = NULL;
  char err[512];
  ck_assert_msg(dsr_sweep_run(d.db, d.policy, &o, &rc, err, sizeof err) == DSR_SWEEP_DONE, "%s",
                err);
  json_decref(rc);
  r = h_sql(ct, "SELECT string_agg(call_id::text, ',' ORDER BY call_id) FROM ct.call_log");
  ck_assert_str_eq(PQgetvalue(r, 0, 0), left);
  PQclear(r);
  /* the notes of swept calls went with them */
  ck_assert_int_eq(sql_count("SELECT count(*) FROM ct.call_note WHERE note_id IN (5001, 5003)"),
                   0);
  ck_assert_int_eq(sql_count("SELECT count(*) FROM ct.call_note"), 2);
  /* ... and their tags and the tags' comments, keyed by two and three columns */
  r = h_sql(ct, "SELECT string_agg(note_id || '/' || tag, ',' ORDER BY note_id, tag) FROM"
                " ct.call_tag");
  ck_assert_str_eq(PQgetvalue(r, 0, 0), "5000/hot,5000/quote,5002/hot,5002/quote");
  PQclear(r);
  r = h_sql(ct, "SELECT string_agg(note_id || '/' || tag || '/' || seq, ',' ORDER BY note_id,"
                " tag, seq) FROM ct.tag_comment");
  ck_assert_str_eq(PQgetvalue(r, 0, 0), "5000/hot/1,5000/quote/1,5002/hot/1,5002/hot/2,"
                                        "5002/quote/1");
  PQclear(r);
  ef_dsrd_close(&d);
}
END_TEST

/*
 * md5 of a table's rows except those whose key (an expression over alias t, as
 * text) is in @p except (a text[] literal).
 */
static char *md5_except(const char *table, const char *key, const char *except)
{
  char sql[600];
  snprintf(sql, sizeof sql, "SELECT coalesce(md5(string_agg(t::text, '|' ORDER BY (%s)::text)),"
                            " '') FROM %s t WHERE NOT (%s)::text = ANY('%s'::text[])",
           key, table, key, except);
  PGresult *r = h_sql(ct, sql);
  char *out = strdup(PQgetvalue(r, 0, 0));
  PQclear(r);
  return out;
}

/* The lead's erasure, end to end, against hand-written SQL. */
START_TEST(a_leads_erasure_leaves_nothing_of_her_and_everything_else)
{
  static const struct {
    const char *table, *key, *gone;
  } t[] = {
      {"ct.call_log", "t.call_id", "{1,3,1001,4,1002}"}, /* 4, 1002: another caller's, masked */
      {"ct.call_note", "t.note_id", "{5000,5001}"}, /* 5001 is redacted, not deleted */
      {"ct.call_tag", "(t.note_id, t.tag)", "{\"(5000,hot)\",\"(5000,quote)\"}"},
      /* 5002's two comments name her: redacted in place */
      {"ct.tag_comment", "(t.note_id, t.tag, t.seq)",
       "{\"(5000,hot,1)\",\"(5000,quote,1)\",\"(5002,hot,1)\",\"(5002,quote,1)\"}"},
      {"ct.voicemail", "t.vm_id", "{900,901,902}"},
      {"ct.lead", "t.lead_id", "{700,701,702,703}"}, /* 703 names her: masked in place */
      {"ct.handset", "t.handset_id", "{}"},
      {"ct.agent", "t.agent_id", "{}"},
      {"ct.org", "t.org_id", "{}"},
  };
  char *before[DSR_ARRAY_LEN(t)];
  for (size_t i = 0; i < DSR_ARRAY_LEN(t); i++)
    before[i] = md5_except(t[i].table, t[i].key, t[i].gone);
  /* the two calls of others that hold her number, but for those columns */
  const char *call4 = "SELECT md5(string_agg(row(call_id, handset_id, counterpart, direction,"
                      " started, deleted_at)::text, '|' ORDER BY call_id)) FROM ct.call_log"
                      " WHERE call_id IN (4, 1002)";
  PGresult *r4 = h_sql(ct, call4);
  char call4_before[40];
  snprintf(call4_before, sizeof call4_before, "%s", PQgetvalue(r4, 0, 0));
  PQclear(r4);
  struct ef_dsrd d;
  char *pf = policy_file();
  ef_dsrd_open(&d, "dsr_calltrack_erasure", pf, NULL);
  free(pf);
  d.cfg.erasure_batch_rows = 1; /* a page per row: every cursor is used */
  d.cfg.erasure_page_ms = 0;     /* (pages that grow would skip some) */
  const char *req = ef_request(&d, NULL, LEAD);
  char id[40];
  dsr_strlcpy(id, req, sizeof id);
  ck_assert_int_ge(ef_run_jobs(&d), 1);
  /* no customer is registered: every part goes to the privacy team */
  ck_assert_int_eq(ef_long(d.conninfo, "SELECT count(*) FROM dsr_parts WHERE request_id = '%s'",
                           id), 1);
  ef_approve(&d, id);
  ck_assert_int_ge(ef_run_jobs(&d), 1);
  ck_assert_int_eq(ef_long(d.conninfo, "SELECT count(*) FROM dsr_requests WHERE id = '%s' AND"
                                       " status = 'completed'", id), 1);
  /* nothing of her: in the identity columns, and in free text however it was written */
  ck_assert_int_eq(sql_count("SELECT count(*) FROM ct.call_log WHERE counterpart = '" LEAD "'"), 0);
  ck_assert_int_eq(sql_count("SELECT count(*) FROM ct.lead WHERE phone = '" LEAD "' OR '" LEAD
                             "' = ANY(alt_phones) OR meta::text LIKE '%%555-0101%%'"), 0);
  ck_assert_int_eq(sql_count("SELECT count(*) FROM ct.call_note WHERE body ~"
                             " '415[^0-9]*555[^0-9]*0101'"), 0);
  PGresult *r = h_sql(ct, "SELECT body FROM ct.call_note WHERE note_id = 5001");
  ck_assert_str_eq(PQgetvalue(r, 0, 0),
                   "referred by the lead at [phone removed], not +1 415 555 0199");
  PQclear(r);
  ck_assert_int_eq(sql_count("SELECT count(*) FROM ct.call_note WHERE note_id = 5000"), 0);
  /* her voicemails and their audio, however the path was written; another caller's stays */
  ck_assert_int_eq(sql_count("SELECT count(*) FROM ct.voicemail WHERE caller = '" LEAD "'"), 0);
  ck_assert(!exists_in(audio, "org-1/vm-900.wav")); /* relative to the root */
  ck_assert(!exists_in(audio, "org-1/vm-901.wav")); /* absolute, under the root */
  ck_assert(!exists_in(objects, "org-2/vm-902.wav")); /* an object key through the prefix */
  ck_assert(exists_in(audio, "org-1/vm-903.wav"));
  /* her note's tags and their comments went with it; others' comments that name her, redacted */
  ck_assert_int_eq(sql_count("SELECT count(*) FROM ct.call_tag WHERE note_id = 5000"), 0);
  ck_assert_int_eq(sql_count("SELECT count(*) FROM ct.tag_comment WHERE note_id = 5000"), 0);
  ck_assert_int_eq(sql_count("SELECT count(*) FROM ct.tag_comment WHERE note_id = 5002 AND"
                             " seq = 1 AND body = 'copy [phone removed] in'"), 2);
  /* another caller's call forwarded to her: kept, her number masked to NULL, the rest as it was */
  ck_assert_int_eq(sql_count("SELECT count(*) FROM ct.call_log WHERE call_id = 4 AND"
                             " forwarded_to IS NULL"), 1);
  r4 = h_sql(ct, call4);
  ck_assert_str_eq(PQgetvalue(r4, 0, 0), call4_before);
  PQclear(r4);
  /* another lead's document: her referral's number masked to null, all else as it was */
  ck_assert_int_eq(sql_count("SELECT count(*) FROM ct.lead WHERE lead_id = 703 AND meta = '{"
                             "\"source\": \"fair\", \"referrals\": [{\"name\": \"Lena\","
                             " \"phone\": null}, {\"name\": \"Max\", \"phone\":"
                             " \"+14155550188\"}]}'::jsonb AND alt_phones = '{+14155550107}' AND"
                             " phone = '+14155550106'"), 1);
  /* a call she was conferenced into: her number leaves the array, the others stay */
  ck_assert_int_eq(sql_count("SELECT count(*) FROM ct.call_log WHERE call_id = 1002 AND"
                             " forwarded_to = '+14155550120' AND conferenced ="
                             " '{+14155550120}'::text[]"), 1);
  ck_assert_int_eq(sql_count("SELECT count(*) FROM ct.call_log WHERE call_id = 1004 AND"
                             " conferenced = '{+14155550199}'::text[]"), 1);
  /* everything else, byte for byte */
  for (size_t i = 0; i < DSR_ARRAY_LEN(t); i++) {
    char *after = md5_except(t[i].table, t[i].key, t[i].gone);
    ck_assert_msg(!strcmp(after, before[i]), "%s changed beyond the subject's rows", t[i].table);
    free(after);
    free(before[i]);
  }
  ef_dsrd_close(&d);
}
END_TEST

Suite *suite_calltrack(void)
{
  Suite *s = suite_create("calltrack");
  TCase *tc = tcase_create("calltrack");
  tcase_set_timeout(tc, 120);
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, lint_live_is_clean);
  tcase_add_test(tc, a_leads_calls_belong_to_the_organisation_of_the_handset);
  tcase_add_test(tc, an_agents_handset_is_hers_to_see_not_to_erase);
  tcase_add_test(tc, calls_are_swept_by_their_own_organisations_period);
  tcase_add_test(tc, a_leads_erasure_leaves_nothing_of_her_and_everything_else);
  suite_add_tcase(s, tc);
  return s;
}

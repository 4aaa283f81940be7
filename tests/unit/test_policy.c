/**
 * @file test_policy.c
 * @brief Unit tests of the policy module: the JSON position index, durations,
 *        the loader and data map, every broken policy in
 *        tests/data/policies/broken (exact expected diagnostics), the five
 *        shipped policies, and the planner's pure helpers.
 */
#include "suites.h"
#include "dsr/jpos.h"
#include "dsr/planner.h"
#include "../../src/lib/plan/planner_int.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Runs from the source tree so that paths in messages are relative. */
static void to_srcdir(void)
{
  const char *top = getenv("DSR_TOP_SRCDIR");
  ck_assert_msg(top && chdir(top) == 0, "DSR_TOP_SRCDIR not set or not reachable");
}

static char *slurp(const char *path)
{
  FILE *f = fopen(path, "rb");
  ck_assert_msg(f != NULL, "cannot open %s", path);
  struct dsr_buf b = {0};
  char chunk[4096];
  size_t n;
  ck_assert(dsr_buf_puts(&b, ""));
  while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
    ck_assert(dsr_buf_append(&b, chunk, n));
  fclose(f);
  return dsr_buf_steal(&b);
}

START_TEST(jpos_positions)
{
  const char *t = "{\n  \"a\": [1, {\"b\": \"x\\\"y\"}],\n  \"c/d\": {\"e~f\": true},\n  \"\xc3\xa9\": null, \"g\": -1.5e3\n}";
  struct dsr_jpos *ix = dsr_jpos_index(t, strlen(t));
  ck_assert_ptr_nonnull(ix);
  struct dsr_jpos_at at;
  ck_assert(dsr_jpos_find(ix, "", false, &at));
  ck_assert_int_eq(at.line, 1);
  ck_assert_int_eq(at.col, 1);
  ck_assert(dsr_jpos_find(ix, "/a", true, &at));
  ck_assert_int_eq(at.line, 2);
  ck_assert_int_eq(at.col, 3);
  ck_assert(dsr_jpos_find(ix, "/a", false, &at));
  ck_assert_int_eq(at.col, 8);
  ck_assert(dsr_jpos_find(ix, "/a/1/b", false, &at));
  ck_assert_int_eq(at.line, 2);
  ck_assert_int_eq(at.col, 18);
  ck_assert(dsr_jpos_find(ix, "/c~1d/e~0f", true, &at));
  ck_assert_int_eq(at.line, 3);
  ck_assert_int_eq(at.col, 11);
  /* columns count characters: "é" is one */
  ck_assert(dsr_jpos_find(ix, "/g", true, &at));
  ck_assert_int_eq(at.line, 4);
  ck_assert_int_eq(at.col, 14);
  /* unknown pointers fall back to the nearest ancestor */
  ck_assert(dsr_jpos_find(ix, "/a/1/zz", false, &at));
  ck_assert_int_eq(at.col, 12);
  ck_assert_uint_eq(dsr_jpos_count(ix), 9);
  const char *dp;
  ck_assert(!dsr_jpos_duplicate(ix, &dp, &at));
  dsr_jpos_free(ix);
}
END_TEST

START_TEST(jpos_rejects_and_duplicates)
{
  const char *bad[] = {"", "{", "{\"a\" 1}", "[1,]", "{\"a\":1,}", "01", "\"\\x\"", "tru", "[1] 2",
                       "\"a\nb\"", "1.", "-", "{\"a\":1}}"};
  for (size_t i = 0; i < DSR_ARRAY_LEN(bad); i++) {
    struct dsr_jpos *ix = dsr_jpos_index(bad[i], strlen(bad[i]));
    ck_assert_msg(ix == NULL, "accepted %s", bad[i]);
  }
  char deep[600];
  memset(deep, '[', 300);
  memset(deep + 300, ']', 300);
  ck_assert_ptr_null(dsr_jpos_index(deep, 600)); /* depth limit */
  const char *t = "{\"a\": {\"x\": 1, \"y\": {\"x\": 2}, \"x\": 3}}";
  struct dsr_jpos *ix = dsr_jpos_index(t, strlen(t));
  ck_assert_ptr_nonnull(ix);
  const char *dp;
  struct dsr_jpos_at at;
  ck_assert(dsr_jpos_duplicate(ix, &dp, &at));
  ck_assert_str_eq(dp, "/a/x");
  ck_assert_int_eq(at.col, 31);
  dsr_jpos_free(ix);
  struct dsr_buf b = {0};
  ck_assert(dsr_jpos_append(&b, "a/b~c"));
  ck_assert_str_eq(b.data, "/a~1b~0c");
  dsr_buf_free(&b);
}
END_TEST

static size_t count_values(const json_t *v)
{
  size_t n = 1, i;
  const char *k;
  const json_t *e;
  if (json_is_object(v))
    json_object_foreach((json_t *)v, k, e) n += count_values(e);
  else if (json_is_array(v))
    json_array_foreach(v, i, e) n += count_values(e);
  return n;
}

/* The index and jansson agree on every shipped file: same number of values,
 * and every member's key is found where the text has it. */
START_TEST(jpos_agrees_with_jansson)
{
  to_srcdir();
  const char *files[] = {"policies/callorbit.json", "policies/callcenter-ai.json",
                         "policies/callos.json", "policies/callers360.json",
                         "policies/call-manager.json", "tests/data/policy-alt/policy.json",
                         "policies/dsr-policy.schema.json"};
  for (size_t f = 0; f < DSR_ARRAY_LEN(files); f++) {
    char *text = slurp(files[f]);
    json_t *doc = json_loads(text, 0, NULL);
    struct dsr_jpos *ix = dsr_jpos_index(text, strlen(text));
    ck_assert_msg(doc && ix, "%s", files[f]);
    ck_assert_uint_eq(dsr_jpos_count(ix), count_values(doc));
    const char *k;
    const json_t *v;
    json_object_foreach(doc, k, v) {
      struct dsr_buf ptr = {0};
      struct dsr_jpos_at at;
      ck_assert(dsr_jpos_append(&ptr, k));
      ck_assert(dsr_jpos_find(ix, ptr.data, true, &at));
      /* walk to line:col in the text: a quote, then the key */
      const char *c = text;
      for (int line = 1; line < at.line; line++)
        c = strchr(c, '\n') + 1;
      c += at.col - 1; /* these files are ASCII up to the top-level keys */
      ck_assert_msg(*c == '"' && !strncmp(c + 1, k, strlen(k)), "%s: %s at %d:%d", files[f], k,
                    at.line, at.col);
      dsr_buf_free(&ptr);
    }
    dsr_jpos_free(ix);
    json_decref(doc);
    free(text);
  }
}
END_TEST

START_TEST(durations)
{
  long long s = 0;
  ck_assert(dsr_duration_parse("90 days", &s));
  ck_assert_int_eq(s, 90LL * 86400);
  ck_assert(dsr_duration_parse("1 month", &s));
  ck_assert(dsr_duration_parse("10 minutes", &s));
  ck_assert_int_eq(s, 600);
  ck_assert(dsr_duration_parse("3 years", NULL));
  const char *bad[] = {"", "days", "0 days", "-1 day", "90days", "90 dayz", "1.5 days",
                       "90  days", "999999 days", "1 fortnight", NULL};
  for (int i = 0; bad[i]; i++)
    ck_assert_msg(!dsr_duration_parse(bad[i], NULL), "accepted %s", bad[i]);
}
END_TEST

START_TEST(loader_data_map)
{
  to_srcdir();
  char err[512];
  struct dsr_policy *p = dsr_policy_load("tests/data/policy-alt/policy.json", err, sizeof err);
  ck_assert_msg(p != NULL, "%s", err);
  ck_assert_uint_eq(dsr_policy_collection_count(p), 9);
  /* every parent comes before its children */
  for (size_t i = 0; i < dsr_policy_collection_count(p); i++) {
    const struct dsr_pcollection *c = dsr_policy_topo_at(p, i);
    ck_assert_uint_eq(c->topo_index, i);
    for (size_t r = 0; r < c->nreferences; r++)
      ck_assert_uint_lt(c->references[r].parent->topo_index, i);
  }
  const struct dsr_pcollection *m = dsr_policy_collection(p, "members");
  ck_assert_uint_eq(m->nidentities, 4);
  ck_assert_int_eq(m->identities[1].norm, DSR_NORM_LOWER);
  ck_assert_int_eq(m->identities[2].norm, DSR_NORM_E164); /* default for phones */
  const struct dsr_pcollection *t = dsr_policy_collection(p, "clip_tags");
  ck_assert_ptr_nonnull(t->tenant_via);
  ck_assert_str_eq(t->tenant_via->parent->name, "clip_texts");
  ck_assert_int_eq(dsr_policy_collection(p, "charges")->action, DSR_ACT_RETAIN);
  ck_assert_str_eq(dsr_policy_collection(p, "charges")->action_basis, "tax law: 10 years");
  const struct dsr_pcollection *ct = dsr_policy_collection(p, "clip_texts");
  ck_assert_uint_eq(ct->nredact_patterns, 2);
  ck_assert_ptr_nonnull(ct->redact_patterns[0]->code);
  ck_assert_int_eq(ct->retention.rule, DSR_RET_WITH_PARENT);
  ck_assert_str_eq(ct->retention.via->parent->name, "clips");
  const struct dsr_pcollection *cl = dsr_policy_collection(p, "clips");
  ck_assert_int_eq(cl->retention.rule, DSR_RET_TENANT_SETTING);
  ck_assert_str_eq(cl->retention.setting->name, "org_prefs");
  ck_assert_int_eq(cl->files[0].store->type, DSR_STORE_FILES);
  const struct dsr_pstore *bs = dsr_policy_store(p, "clips_nightly");
  ck_assert_int_eq(bs->mechanism, DSR_BACKUP_FILE_SET);
  ck_assert_str_eq(bs->of->name, "clips");
  ck_assert_uint_eq(dsr_policy_suppression_kinds(p), (1u << DSR_ID_EMAIL) | (1u << DSR_ID_PHONE));
  ck_assert_str_eq(json_string_value(dsr_policy_section(p, "policy_version")), "alt-test-1");
  dsr_policy_free(p);
}
END_TEST

/* Every broken policy gives exactly the diagnostics of its .expected file. */
START_TEST(broken_policies)
{
  to_srcdir();
  const char *dir = "tests/data/policies/broken";
  DIR *d = opendir(dir);
  ck_assert_ptr_nonnull(d);
  struct dirent *e;
  int n = 0;
  while ((e = readdir(d))) {
    size_t len = strlen(e->d_name);
    if (len < 6 || strcmp(e->d_name + len - 5, ".json"))
      continue;
    char path[512], exp_path[512];
    snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
    snprintf(exp_path, sizeof exp_path, "%s/%.*s.expected", dir, (int)(len - 5), e->d_name);
    char *expected = slurp(exp_path);
    struct dsr_diags diags = {0};
    struct dsr_policy *p = dsr_policy_check(path, &diags);
    struct dsr_buf got = {0};
    ck_assert(dsr_buf_puts(&got, ""));
    for (size_t i = 0; i < diags.n; i++)
      ck_assert(dsr_buf_printf(&got, "%s\n", diags.v[i].text));
    ck_assert_msg(p == NULL, "%s was accepted", path);
    ck_assert_msg(!strcmp(got.data, expected), "%s:\n got: %s\nwant: %s", path, got.data, expected);
    /* dsr_policy_load() reports the first of them */
    char err[1024];
    ck_assert_ptr_null(dsr_policy_load(path, err, sizeof err));
    ck_assert_msg(!strncmp(err, expected, strcspn(expected, "\n")), "%s: %s", path, err);
    dsr_buf_free(&got);
    dsr_diags_free(&diags);
    free(expected);
    n++;
  }
  closedir(d);
  ck_assert_int_ge(n, 25);
}
END_TEST

START_TEST(shipped_policies)
{
  to_srcdir();
  const char *files[] = {"policies/callorbit.json", "policies/callcenter-ai.json",
                         "policies/callos.json", "policies/callers360.json",
                         "policies/call-manager.json"};
  for (size_t i = 0; i < DSR_ARRAY_LEN(files); i++) {
    struct dsr_diags d = {0};
    struct dsr_policy *p = dsr_policy_check(files[i], &d);
    ck_assert_msg(p != NULL && d.n == 0, "%s: %s", files[i], d.n ? d.v[0].text : "rejected");
    /* every collection and every retain action cites the seed policy */
    for (size_t k = 0; k < dsr_policy_collection_count(p); k++) {
      const struct dsr_pcollection *c = dsr_policy_topo_at(p, k);
      ck_assert_msg(strstr(c->description, "§") != NULL, "%s: %s cites no section", files[i], c->name);
      if (c->action == DSR_ACT_RETAIN)
        ck_assert_msg(strstr(c->action_basis, "§") != NULL, "%s: %s basis cites no section",
                      files[i], c->name);
    }
    dsr_policy_free(p);
    dsr_diags_free(&d);
  }
}
END_TEST

/* The example of docs/policy-sections.md (request-flow sections only) is valid. */
START_TEST(flow_sections_contract)
{
  to_srcdir();
  char err[512];
  struct dsr_policy *p = dsr_policy_load("tests/data/policies/flow-only.json", err, sizeof err);
  ck_assert_msg(p != NULL, "%s", err);
  ck_assert_uint_eq(dsr_policy_collection_count(p), 0);
  const json_t *v = dsr_policy_section(p, "verification");
  ck_assert_int_eq(json_integer_value(json_object_get(v, "max_attempts")), 5);
  ck_assert_ptr_null(dsr_policy_section(p, "collections"));
  dsr_policy_free(p);
}
END_TEST

/* SQL generation without a database: quoted identifiers from the policy,
 * values only as parameters, tenant inherited through the chain. */
START_TEST(planner_sql_generation)
{
  to_srcdir();
  char err[512];
  struct dsr_policy *p = dsr_policy_load("tests/data/policy-alt/policy.json", err, sizeof err);
  ck_assert_msg(p != NULL, "%s", err);
  struct plan_ctx pc = {.p = p, .ncolls = dsr_policy_collection_count(p)};
  pc.reached = calloc(pc.ncolls, sizeof *pc.reached);
  bool *need = calloc(pc.ncolls, sizeof *need);
  ck_assert(pc.reached && need);
  pc.ids[DSR_ID_PHONE][DSR_NORM_E164] = dsr_identity_normalize(DSR_NORM_E164, "+1 555 000 1111");
  for (size_t i = 0; i < pc.ncolls; i++) {
    const struct dsr_pcollection *c = dsr_policy_topo_at(p, i);
    for (size_t k = 0; k < c->nidentities; k++)
      if (pc.ids[c->identities[k].kind][c->identities[k].norm])
        pc.reached[i] = true;
    for (size_t r = 0; r < c->nreferences; r++)
      if (plan_reaches(&pc, &c->references[r]) && pc.reached[c->references[r].parent->topo_index])
        pc.reached[i] = true;
  }
  const struct dsr_pcollection *tags = dsr_policy_collection(p, "clip_tags");
  ck_assert(pc.reached[tags->topo_index]);
  ck_assert(pc.reached[dsr_policy_collection(p, "members")->topo_index]); /* phone_e164 */
  ck_assert(!pc.reached[dsr_policy_collection(p, "org_prefs")->topo_index]);
  psql_need(&pc, tags, need);
  struct psql s = {0};
  psql_ctes(&pc, &s, need, NULL);
  psql_printf(&s, "SELECT count(*) FROM s%zu x WHERE ", tags->topo_index);
  psql_tenant_filter(&s, tags, "20");
  ck_assert(!s.oom);
  const char *sql = s.sql.data;
  ck_assert_ptr_null(strstr(sql, "5550001111")); /* values are parameters */
  /* one condition selects the rows: on the table itself, not a join of it to itself */
  ck_assert_ptr_nonnull(strstr(sql, "FROM \"hd\".\"engagement\" a0 WHERE a0.\"contact_msisdn\" = $1::text)"));
  ck_assert_ptr_nonnull(strstr(sql, "a0.\"text_ref\" IN (SELECT x.\"text_id\" FROM s"));
  ck_assert_ptr_null(strstr(sql, " IN (SELECT b."));
  /* clip_tags inherits its tenant through clip_texts, clips and sessions */
  ck_assert_ptr_nonnull(strstr(sql, "(SELECT (a3.\"org_ref\")::text FROM \"hd\".\"session\" a3"));
  ck_assert_ptr_nonnull(strstr(sql, "x.\"__dsr_tenant\" = $2::text"));
  ck_assert_uint_eq(s.n, 2);
  ck_assert_str_eq(s.params[0].label, "phone");
  ck_assert_str_eq(s.params[0].value, "+15550001111");
  ck_assert_str_eq(s.params[1].label, "tenant");
  ck_assert_str_eq(s.params[1].value, "20");
  /* controller collections ignore the tenant; processors with none go to the controller */
  struct psql f = {0};
  psql_tenant_filter(&f, dsr_policy_collection(p, "members"), "20");
  ck_assert_str_eq(f.sql.data, "TRUE");
  psql_free(&f);
  psql_tenant_filter(&f, tags, NULL);
  ck_assert_str_eq(f.sql.data, "x.\"__dsr_tenant\" IS NULL");
  psql_free(&f);
  psql_free(&s);
  free(pc.ids[DSR_ID_PHONE][DSR_NORM_E164]);
  free(pc.reached);
  free(need);
  dsr_policy_free(p);
}
END_TEST

/* When a keyed table's conditions are ORed over its parents' tables hashed, and the work_mem
 * asked for it (psql_or_hash_kb()); its statement then reads each parent with IN (SELECT). */
START_TEST(planner_or_hash_choice)
{
  to_srcdir();
  char err[512];
  struct dsr_policy *p = dsr_policy_load("tests/data/policy-or/policy.json", err, sizeof err);
  ck_assert_msg(p != NULL, "%s", err);
  struct plan_ctx pc = {.p = p, .ncolls = dsr_policy_collection_count(p), .keyed = true};
  pc.reached = calloc(pc.ncolls, sizeof *pc.reached);
  pc.krows = calloc(pc.ncolls, sizeof *pc.krows);
  pc.or_hash = calloc(pc.ncolls, sizeof *pc.or_hash);
  ck_assert(pc.reached && pc.krows && pc.or_hash);
  for (size_t i = 0; i < pc.ncolls; i++)
    pc.reached[i] = true;
  const struct dsr_pcollection *pings = dsr_policy_collection(p, "pings");
  size_t trips = dsr_policy_collection(p, "trips")->topo_index;
  size_t shifts = dsr_policy_collection(p, "shifts")->topo_index;
  pc.krows[shifts] = 40;
  pc.krows[trips] = 9000; /* small parents: their keys as arrays (or_small()) */
  ck_assert(!psql_or_hash_candidate(&pc, pings));
  ck_assert_int_eq(psql_or_hash_kb(&pc, pings, 20100), 0);
  pc.krows[trips] = 12000;
  ck_assert(psql_or_hash_candidate(&pc, pings));
  ck_assert_int_eq(psql_or_hash_kb(&pc, pings, 20100), 4096); /* at least 4 MB */
  ck_assert_int_eq(psql_or_hash_kb(&pc, pings, -1), 0);       /* never analyzed */
  ck_assert_int_eq(psql_or_hash_kb(&pc, pings, 12000.0 * 50 + 1), 0); /* a small share */
  ck_assert_int_eq(psql_or_hash_kb(&pc, pings, 12000.0 * 50), 4096);
  pc.krows[trips] = 376000;
  ck_assert_int_eq(psql_or_hash_kb(&pc, pings, 1155000), 376000LL * 128 / 1024);
  pc.krows[trips] = 2000001; /* too large to hash */
  ck_assert_int_eq(psql_or_hash_kb(&pc, pings, 3000000), 0);
  pc.krows[shifts] = -1; /* a parent not built yet */
  pc.krows[trips] = 12000;
  ck_assert_int_eq(psql_or_hash_kb(&pc, pings, 20100), 0);
  pc.krows[shifts] = 40;
  pc.or_hash[pings->topo_index] = true;
  struct psql s = {0};
  psql_keys_table(&pc, &s, pings);
  ck_assert(!s.oom);
  ck_assert_ptr_nonnull(strstr(s.sql.data, "(a0.\"trip_ref\" IN (SELECT x.\"trip_id\" FROM s"));
  ck_assert_ptr_nonnull(
      strstr(s.sql.data, ") OR (a0.\"shift_ref\" IN (SELECT x.\"shift_id\" FROM s"));
  ck_assert_ptr_null(strstr(s.sql.data, "UNION"));
  ck_assert_ptr_null(strstr(s.sql.data, "ARRAY("));
  psql_free(&s);
  pc.or_hash[pings->topo_index] = false; /* the UNION of a scan per condition */
  psql_keys_table(&pc, &s, pings);
  ck_assert_ptr_nonnull(strstr(s.sql.data, "UNION"));
  psql_free(&s);
  free(pc.reached);
  free(pc.krows);
  free(pc.or_hash);
  dsr_policy_free(p);
}
END_TEST

START_TEST(planner_helpers)
{
  char *v = dsr_identity_normalize(DSR_NORM_E164, " +1 (555) 000-1111 ");
  ck_assert_str_eq(v, "+15550001111");
  free(v);
  v = dsr_identity_normalize(DSR_NORM_DIGITS, "+1 555");
  ck_assert_str_eq(v, "1555");
  free(v);
  v = dsr_identity_normalize(DSR_NORM_LOWER, " Ana@Example.COM ");
  ck_assert_str_eq(v, "ana@example.com");
  free(v);
  ck_assert_ptr_null(dsr_identity_normalize(DSR_NORM_E164, "+"));
  ck_assert_ptr_null(dsr_identity_normalize(DSR_NORM_EXACT, "   "));
  struct dsr_buf b = {0};
  ck_assert(dsr_sql_ident(&b, "we\"ird"));
  ck_assert_str_eq(b.data, "\"we\"\"ird\"");
  dsr_buf_free(&b);
  ck_assert_str_eq(dsr_step_verb_name(DSR_STEP_REDACT), "redact");
}
END_TEST

/* Policy paths into JSON columns become PostgreSQL jsonpaths with every name quoted. */
START_TEST(json_paths)
{
  static const struct {
    const char *path, *want;
  } ok[] = {
      {"referrals[*].phone", "$.\"referrals\"[*].\"phone\""},
      {"phones[*]", "$.\"phones\"[*]"},
      {"[*]", "$[*]"},
      {"[*].mail", "$[*].\"mail\""},
      {"a.b_2.c", "$.\"a\".\"b_2\".\"c\""},
  };
  for (size_t i = 0; i < DSR_ARRAY_LEN(ok); i++) {
    char *got = dsr_policy_jsonpath(ok[i].path);
    ck_assert_msg(got && !strcmp(got, ok[i].want), "%s -> %s", ok[i].path, got ? got : "NULL");
    free(got);
  }
  static const char *const bad[] = {"", ".", "a.", ".a", "a..b", "1a", "a[*]b", "a[0]",
                                    "a b", "a\"b", "a[*", "$.a"};
  for (size_t i = 0; i < DSR_ARRAY_LEN(bad); i++)
    ck_assert_msg(dsr_policy_jsonpath(bad[i]) == NULL, "%s accepted", bad[i]);
}
END_TEST

Suite *suite_policy(void)
{
  Suite *s = suite_create("policy");
  TCase *tc = tcase_create("policy");
  tcase_add_test(tc, json_paths);
  tcase_add_test(tc, jpos_positions);
  tcase_add_test(tc, jpos_rejects_and_duplicates);
  tcase_add_test(tc, jpos_agrees_with_jansson);
  tcase_add_test(tc, durations);
  tcase_add_test(tc, loader_data_map);
  tcase_add_test(tc, broken_policies);
  tcase_add_test(tc, shipped_policies);
  tcase_add_test(tc, planner_helpers);
  tcase_add_test(tc, flow_sections_contract);
  tcase_add_test(tc, planner_sql_generation);
  tcase_add_test(tc, planner_or_hash_choice);
  suite_add_tcase(s, tc);
  return s;
}

/**
 * @file test_erasure.c
 * @brief Erasure on generated sample platforms, end to end in this process
 *        with the real job handlers (discovery, erasure): a request verified
 *        by staff, split into parts, approved by staff and by a customer's
 *        "fulfill", executed. Checked with direct SQL and the file system:
 *        none of the subject's identifiers left in erased collections nor in
 *        any transcript (their number written with spaces in other people's
 *        calls is redacted, a neighbouring number is not); their media files
 *        gone; every other row of every table unchanged (checksums over the
 *        rows the plan does not cover) and every other file still there;
 *        retained collections intact; the suppression entry recorded; the
 *        receipt in the admin API and the events. Then legal holds, and each
 *        of the five seed policies end to end.
 */
#include "erasure_fixture.h"
#include "dsr/admin.h"
#include "dsr/crypto.h"
#include "dsr/customer_api.h"
#include "dsr/customers.h"
#include "dsr/erasure.h"
#include "dsr/planner.h"
#include "dsr/webhook.h"

#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define E_EMAIL "erin.subject@example.org"
#define E_PHONE "+15550100777"
/* the subject's number as a transcriber writes it, and as a PostgreSQL ARE */
#define E_PHONE_SPACED "+1 555 010 0777"
#define E_PHONE_RE "1[-. ()]*5[-. ()]*5[-. ()]*5[-. ()]*0[-. ()]*1[-. ()]*0[-. ()]*0[-. ()]*7[-. ()]*7[-. ()]*7([^0-9]|$)"

static char *policy_path(const char *name)
{
  char *p = NULL;
  H_REQUIRE1(asprintf(&p, "%s/policies/%s", getenv("DSR_TOP_SRCDIR"), name) > 0);
  return p;
}

/* What the plan covers, per table: {"table": {"pk": "id", "keys": "{...}", "verbs": [...]}}. */
static json_t *covered(const struct dsr_policy *p, const char *plat)
{
  char err[256];
  PGconn *c = PQconnectdb(plat);
  ck_assert(PQstatus(c) == CONNECTION_OK);
  struct dsr_subject s = {.email = E_EMAIL, .phone = E_PHONE};
  struct dsr_plan *plan = dsr_plan_build(p, c, DSR_PLAN_ERASURE, &s, err, sizeof err);
  ck_assert_msg(plan != NULL, "%s", err);
  json_t *out = json_object();
  for (size_t i = 0; i < plan->nparts; i++)
    for (size_t k = 0; k < plan->parts[i].nsteps; k++) {
      const struct dsr_plan_step *st = &plan->parts[i].steps[k];
      json_t *t = json_object_get(out, st->coll->table);
      if (!t) {
        t = json_pack("{s:s, s:[], s:[]}", "pk", st->coll->key[0], "keys", "verbs");
        json_object_set_new(out, st->coll->table, t);
      }
      json_array_append_new(json_object_get(t, "verbs"),
                            json_string(dsr_step_verb_name(st->verb)));
      if (!st->keys_sql)
        continue;
      const char **v = calloc(st->nkeys_params + 1, sizeof *v);
      for (size_t j = 0; j < st->nkeys_params; j++)
        v[j] = !strcmp(st->keys_params[j].label, "limit") ? "1000000000"
               : !strcmp(st->keys_params[j].label, "cursor") ? NULL
                                                             : st->keys_params[j].value;
      PGresult *r = PQexecParams(c, st->keys_sql, (int)st->nkeys_params, NULL, v, NULL, NULL, 0);
      free(v);
      ck_assert_msg(PQresultStatus(r) == PGRES_TUPLES_OK, "%s", PQresultErrorMessage(r));
      for (int j = 0; j < PQntuples(r); j++)
        json_array_append_new(json_object_get(t, "keys"), json_string(PQgetvalue(r, j, 0)));
      PQclear(r);
    }
  dsr_plan_free(plan);
  PQfinish(c);
  return out;
}

/* A text[] literal of the keys of @p t (numeric keys: no quoting needed). Caller frees. */
static char *keys_literal(const json_t *t)
{
  struct dsr_buf b = {0};
  ck_assert(dsr_buf_puts(&b, "{"));
  size_t i;
  json_t *k;
  json_array_foreach(json_object_get(t, "keys"), i, k)
    ck_assert(dsr_buf_printf(&b, "%s\"%s\"", i ? "," : "", json_string_value(k)));
  ck_assert(dsr_buf_puts(&b, "}"));
  return dsr_buf_steal(&b);
}

/* Per table, md5 of the rows the plan does not cover. */
static json_t *uncovered_md5(const char *plat, const json_t *cov)
{
  json_t *out = json_object();
  PGresult *t = h_sql(plat, "SELECT tablename FROM pg_tables WHERE schemaname = 'public'");
  for (int i = 0; i < PQntuples(t); i++) {
    const char *name = PQgetvalue(t, i, 0);
    const json_t *c = json_object_get(cov, name);
    char *lit = c ? keys_literal(c) : NULL;
    char *md5 = ef_table_md5(plat, name, c ? json_string_value(json_object_get(c, "pk")) : NULL,
                             lit);
    json_object_set_new(out, name, json_string(md5));
    free(md5);
    free(lit);
  }
  PQclear(t);
  return out;
}

/* Media paths of the subject's rows in @p table (from the covered keys). */
static json_t *files_of(const char *plat, const json_t *cov, const char *table)
{
  json_t *out = json_array();
  const json_t *c = json_object_get(cov, table);
  if (!c)
    return out;
  char *lit = keys_literal(c);
  char *sql = NULL;
  ck_assert(asprintf(&sql, "SELECT file_path FROM public.%s WHERE id::text = ANY('%s'::text[])",
                     table, lit) > 0);
  PGresult *r = h_sql(plat, sql);
  for (int i = 0; i < PQntuples(r); i++)
    json_array_append_new(out, json_string(PQgetvalue(r, i, 0)));
  PQclear(r);
  free(sql);
  free(lit);
  return out;
}

/* Rows of the subject still found by identity in collections the policy erases, minus the
 * rows the receipts say were kept because retained rows reference them. */
static void assert_identifiers_gone(const struct ef_dsrd *d, const char *plat, json_t *kept)
{
  for (size_t i = 0; i < dsr_policy_collection_count(d->policy); i++) {
    const struct dsr_pcollection *c = dsr_policy_topo_at(d->policy, i);
    if (c->action == DSR_ACT_RETAIN || c->action == DSR_ACT_REDACT)
      continue;
    struct dsr_buf cond = {0};
    ck_assert(dsr_buf_puts(&cond, "FALSE"));
    for (size_t k = 0; k < c->nidentities; k++) {
      const struct dsr_pidentity *id = &c->identities[k];
      if (id->kind != DSR_ID_ACCOUNT)
        ck_assert(dsr_buf_printf(&cond, " OR lower(\"%s\"::text) = lower('%s')", id->column,
                                 id->kind == DSR_ID_EMAIL ? E_EMAIL : E_PHONE));
    }
    long left = ef_long(plat, "SELECT count(*) FROM %s.\"%s\" WHERE %s", c->schema, c->table,
                        cond.data);
    dsr_buf_free(&cond);
    /* rows kept because retained rows reference them stay whole, unless the policy masks them */
    long allowed = c->action == DSR_ACT_DELETE && c->nmasks > 0
                       ? 0
                       : (long)json_integer_value(json_object_get(kept, c->name));
    ck_assert_msg(left <= allowed, "%s: %ld rows still carry the subject's identifiers (%ld kept)",
                  c->name, left, allowed);
  }
  /* transcripts: nobody's text mentions them any more (when the policy redacts mentions) */
  const struct dsr_pcollection *tr = dsr_policy_collection(d->policy, "transcripts");
  if (tr && tr->nredact_patterns > 0)
    ck_assert_int_eq(ef_long(plat, "SELECT count(*) FROM transcripts WHERE text ~ '%s' OR text ~* '%s'",
                           E_PHONE_RE, "erin\\.subject@example\\.org"),
                   0);
}

/* The subject's account: its id and full name (static), read before the erasure. */
struct account {
  char id[32];
  char name[128];
};

static void account_of(const char *plat, struct account *a)
{
  PGresult *r = h_sql(plat, "SELECT id::text, full_name FROM users WHERE lower(email) = '" E_EMAIL "'");
  ck_assert_int_eq(PQntuples(r), 1);
  dsr_strlcpy(a->id, PQgetvalue(r, 0, 0), sizeof a->id);
  dsr_strlcpy(a->name, PQgetvalue(r, 0, 1), sizeof a->name);
  PQclear(r);
}

/*
 * After the erasure the subject's account row is either gone or, when
 * retained rows still reference it, kept with none of the subject's
 * identifiers left: the email a keyed pseudonym, no phone, the name erased.
 * Returns whether it was kept.
 */
static bool assert_account_masked(const char *plat, const struct account *a)
{
  if (ef_long(plat, "SELECT count(*) FROM users WHERE id = %s", a->id) == 0)
    return false;
  /* kept only because something the policy keeps references it */
  ck_assert_int_gt(ef_long(plat, "SELECT (SELECT count(*) FROM invoices WHERE user_id = %s) +"
                                 " (SELECT count(*) FROM workspaces WHERE owner_user_id = %s)",
                           a->id, a->id), 0);
  char sql[256];
  snprintf(sql, sizeof sql, "SELECT email, (phone IS NULL)::text, full_name, row_to_json(u)::text"
                            " FROM users u WHERE id = %s", a->id);
  PGresult *r = h_sql(plat, sql);
  ck_assert_int_eq(PQntuples(r), 1);
  const char *email = PQgetvalue(r, 0, 0), *row = PQgetvalue(r, 0, 3);
  ck_assert_msg(strlen(email) == 64 && strspn(email, "0123456789abcdef") == 64,
                "email not pseudonymized: %s", row);
  ck_assert_str_eq(PQgetvalue(r, 0, 1), "true");
  ck_assert_str_eq(PQgetvalue(r, 0, 2), "[erased]");
  ck_assert_msg(strstr(row, "erin.subject") == NULL && strstr(row, "5550100777") == NULL &&
                strstr(row, "555 010 0777") == NULL && strstr(row, a->name) == NULL,
                "an identifier of the subject is left in %s", row);
  PQclear(r);
  return true;
}

/* Rows the erasure plan of the subject says each collection keeps (still referenced). */
static json_t *plan_kept(const struct ef_dsrd *d, const char *plat)
{
  struct dsr_subject subj = {.email = E_EMAIL, .phone = E_PHONE};
  PGconn *conn = PQconnectdb(plat);
  ck_assert_int_eq(PQstatus(conn), CONNECTION_OK);
  char err[512];
  struct dsr_plan *plan = dsr_plan_build(d->policy, conn, DSR_PLAN_ERASURE, &subj, err, sizeof err);
  ck_assert_msg(plan != NULL, "%s", err);
  json_t *out = json_object();
  for (size_t i = 0; i < plan->nparts; i++)
    for (size_t k = 0; k < plan->parts[i].nsteps; k++) {
      const struct dsr_plan_step *st = &plan->parts[i].steps[k];
      json_int_t n = json_integer_value(json_object_get(out, st->coll->name));
      if (st->kept > 0)
        json_object_set_new(out, st->coll->name, json_integer(n + st->kept));
    }
  dsr_plan_free(plan);
  PQfinish(conn);
  return out;
}

/* Rows each collection kept in the erasure runs of @p request's parts. */
static json_t *run_kept(const struct ef_dsrd *d, const char *request)
{
  char sql[512];
  snprintf(sql, sizeof sql, "SELECT s.collection, sum(s.kept) FROM dsr_erasure_steps s JOIN"
                            " dsr_erasure_runs r ON r.id = s.run_id JOIN dsr_parts p ON p.id ="
                            " r.part_id WHERE p.request_id = '%s' GROUP BY 1 HAVING"
                            " sum(s.kept) > 0", request);
  PGresult *r = h_sql(d->conninfo, sql);
  json_t *out = json_object();
  for (int i = 0; i < PQntuples(r); i++)
    json_object_set_new(out, PQgetvalue(r, i, 0), json_integer(atoll(PQgetvalue(r, i, 1))));
  PQclear(r);
  return out;
}

/* Rows kept per collection (still referenced), summed over the receipts of @p request. */
static json_t *kept_rows(struct ef_dsrd *d, const char *request)
{
  json_t *out = json_object();
  json_t *rcs = dsr_erasure_receipts(d->db, request);
  const char *k;
  json_t *rc;
  json_object_foreach(rcs, k, rc) {
    size_t i;
    json_t *e;
    json_array_foreach(json_object_get(rc, "collections"), i, e) {
      const char *basis = json_string_value(json_object_get(e, "basis"));
      if (!basis || strcmp(json_string_value(json_object_get(e, "action")), "retain") != 0)
        continue;
      const char *name = json_string_value(json_object_get(e, "collection"));
      json_int_t n = json_integer_value(json_object_get(out, name));
      json_object_set_new(out, name,
                          json_integer(n + json_integer_value(json_object_get(e, "rows"))));
    }
  }
  json_decref(rcs);
  return out;
}

static void assert_suppressed(struct ef_dsrd *d)
{
  unsigned char h[DSR_HASH_BYTES];
  ck_assert(dsr_identity_hash(DSR_ID_PHONE, E_PHONE_SPACED, h)); /* written any way */
  char hex[2 * DSR_HASH_BYTES + 1];
  sodium_bin2hex(hex, sizeof hex, h, sizeof h);
  ck_assert_int_eq(ef_long(d->conninfo, "SELECT count(*) FROM dsr_suppressions WHERE kind = "
                                        "'phone' AND hash = '\\x%s'::bytea", hex),
                   1);
}

#define SUBJECT_ARGS                                                                   \
  "--subject-email " E_EMAIL " --subject-phone " E_PHONE " --subject-workspaces 3 "   \
  "--subject-calls 40 --subject-account"

START_TEST(erasure_of_a_subject_on_the_sample_platform)
{
  struct ef_platform pl;
  ef_generate(&pl, "er_main", 600, true, SUBJECT_ARGS);
  ef_use(&pl);
  char *pp = policy_path("callorbit.json");
  struct ef_dsrd d;
  ef_dsrd_open(&d, "dsr_er_main", pp, NULL);
  const char *plat = pl.conninfo;
  /* Other people's calls mention the subject: spaced, bare, and next to someone else. */
  PQclear(h_sql(plat,
    "UPDATE transcripts t SET text = t.text || CASE WHEN t.id % 2 = 0"
    " THEN ' Caller: my neighbour is on " E_PHONE_SPACED ", not +1 555 010 0778.'"
    " ELSE ' Caller: write to " E_EMAIL " or call (" E_PHONE ").' END"
    " WHERE t.id IN (SELECT t2.id FROM transcripts t2 JOIN recordings r ON r.id = t2.recording_id"
    " JOIN calls c ON c.id = r.call_id WHERE c.caller_number <> '" E_PHONE "' AND"
    " c.called_number <> '" E_PHONE "' ORDER BY t2.id LIMIT 6)"));
  long planted = ef_long(plat, "SELECT count(*) FROM transcripts WHERE text LIKE '%%0778%%'");
  ck_assert_int_eq(planted, 3);
  /* One of the subject's workspaces is a customer of dsrd: its part is decided by it. */
  long ws = ef_long(plat, "SELECT min(workspace_id) FROM calls WHERE caller_number = '" E_PHONE
                          "' OR called_number = '" E_PHONE "'");
  char tenant[32], cust_id[40], why[128];
  snprintf(tenant, sizeof tenant, "%ld", ws);
  char *api_key = NULL, *whsec = NULL;
  struct dsr_webhook_opts wo = {.allow_http = true, .allow_private = true, .timeout_s = 5};
  ck_assert_int_eq(dsr_customer_add(d.db, &wo, NULL, "erasure-acme", tenant, "http://127.0.0.1:9/h",
                                    cust_id, &api_key, &whsec, why, sizeof why), DSR_OK);
  free(api_key);
  free(whsec);

  struct account acct;
  account_of(plat, &acct);
  json_t *cov = covered(d.policy, plat);
  json_t *before = uncovered_md5(plat, cov);
  json_t *rec_files = files_of(plat, cov, "recordings"), *vm_files = files_of(plat, cov, "voicemails");
  long subject_files = (long)(json_array_size(rec_files) + json_array_size(vm_files));
  long all_files = ef_count_files(pl.media);
  long invoices = ef_long(plat, "SELECT count(*) FROM invoices");
  char *inv_md5 = ef_table_md5(plat, "invoices", NULL, NULL);
  ck_assert_int_gt(json_array_size(rec_files), 10);

  json_t *planned_kept = plan_kept(&d, plat);
  const char *req = ef_request(&d, E_EMAIL, E_PHONE);
  char id[40];
  dsr_strlcpy(id, req, sizeof id);
  ck_assert_int_ge(ef_run_jobs(&d), 1); /* discovery */
  ck_assert_int_eq(ef_long(d.conninfo, "SELECT count(*) FROM dsr_parts WHERE request_id = '%s'", id), 2);
  /* Nothing runs before approval. */
  ck_assert_int_eq(ef_long(d.conninfo, "SELECT count(*) FROM dsr_jobs WHERE kind = 'erasure'"), 0);
  char part[40];
  PGresult *r = h_sql(d.conninfo, "SELECT id FROM dsr_parts WHERE customer_id IS NOT NULL");
  dsr_strlcpy(part, PQgetvalue(r, 0, 0), sizeof part);
  PQclear(r);
  json_t *reply = NULL;
  ck_assert_int_eq(dsr_customer_decide(d.db, cust_id, part, "fulfill", NULL, &reply), DSR_OK);
  json_decref(reply);
  ef_approve(&d, id);
  ck_assert_int_eq(ef_long(d.conninfo, "SELECT count(*) FROM dsr_jobs WHERE kind = 'erasure'"), 2);
  ck_assert_int_ge(ef_run_jobs(&d), 2);

  /* the request is complete, both parts done */
  ck_assert_int_eq(ef_long(d.conninfo, "SELECT count(*) FROM dsr_requests WHERE id = '%s' AND"
                                       " status = 'completed'", id), 1);
  ck_assert_int_eq(ef_long(d.conninfo, "SELECT count(*) FROM dsr_parts WHERE state = 'done'"), 2);
  /* one plan, one truth: the preview kept what execution kept */
  json_t *ran_kept = run_kept(&d, id);
  char *pk = json_dumps(planned_kept, JSON_SORT_KEYS), *rk = json_dumps(ran_kept, JSON_SORT_KEYS);
  ck_assert_msg(json_equal(planned_kept, ran_kept), "plan kept %s, execution kept %s", pk, rk);
  ck_assert_msg(json_object_size(ran_kept) > 0, "nothing kept: %s", rk); /* the account is */
  free(pk);
  free(rk);
  json_decref(planned_kept);
  json_decref(ran_kept);
  json_t *kept = kept_rows(&d, id);
  assert_identifiers_gone(&d, plat, kept);
  /* the account stays (retained invoices and workspaces reference it), masked, and the
   * receipt says so */
  ck_assert(assert_account_masked(plat, &acct));
  ck_assert_int_eq(json_integer_value(json_object_get(kept, "users")), 0);
  /* the planted mentions: the subject is gone from them, the neighbour is not */
  ck_assert_int_eq(ef_long(plat, "SELECT count(*) FROM transcripts WHERE text LIKE '%%+1 555 010"
                                 " 0778%%' AND text LIKE '%%[phone removed], not%%'"), 3);
  ck_assert_int_eq(ef_long(plat, "SELECT count(*) FROM transcripts WHERE text LIKE '%%write to"
                                 " [email removed] or call ([phone removed])%%'"), 3);
  /* every other row of every table is as it was */
  json_t *after = uncovered_md5(plat, cov);
  const char *tname;
  json_t *md5;
  json_object_foreach(before, tname, md5)
    ck_assert_msg(json_equal(md5, json_object_get(after, tname)), "table %s changed outside the "
                  "plan", tname);
  /* retained collections intact */
  ck_assert_int_eq(ef_long(plat, "SELECT count(*) FROM invoices"), invoices);
  char *inv_after = ef_table_md5(plat, "invoices", NULL, NULL);
  ck_assert_str_eq(inv_md5, inv_after);
  /* files: the subject's are gone, all others are still there */
  size_t i;
  json_t *f;
  json_array_foreach(rec_files, i, f)
    ck_assert_msg(!ef_file_exists(pl.media, json_string_value(f)), "recording left");
  json_array_foreach(vm_files, i, f)
    ck_assert_msg(!ef_file_exists(pl.media, json_string_value(f)), "voicemail left");
  ck_assert_int_eq(ef_count_files(pl.media), all_files - subject_files);
  assert_suppressed(&d);
  /* receipts: in the admin API and as events, with no personal data */
  json_t *detail = NULL;
  ck_assert_int_eq(dsr_admin_detail(d.db, id, &detail), DSR_OK);
  char *text = json_dumps(detail, 0);
  ck_assert(strstr(text, "5550100777") == NULL && strstr(text, "erin.subject") == NULL);
  long files_removed = 0, deleted = 0, redacted = 0;
  json_t *p;
  json_array_foreach(json_object_get(detail, "parts"), i, p) {
    json_t *rc = json_object_get(p, "receipt");
    ck_assert_msg(rc != NULL, "part without receipt: %s", text);
    ck_assert(json_array_size(json_object_get(rc, "collections")) > 0);
    ck_assert_ptr_nonnull(json_string_value(json_object_get(rc, "started_at")));
    ck_assert_ptr_nonnull(json_string_value(json_object_get(rc, "finished_at")));
    files_removed += (long)json_integer_value(json_object_get(rc, "files_removed"));
    deleted += (long)json_integer_value(json_object_get(rc, "rows_deleted"));
    redacted += (long)json_integer_value(json_object_get(rc, "rows_redacted"));
  }
  free(text);
  json_decref(detail);
  ck_assert_int_eq(files_removed, subject_files);
  ck_assert_int_gt(deleted, 100);
  ck_assert_int_eq(redacted, 6);
  ck_assert_int_eq(ef_long(d.conninfo, "SELECT count(*) FROM dsr_events WHERE kind = "
                                       "'erasure.receipt' AND request_id = '%s'", id), 2);
  ck_assert_int_eq(ef_long(d.conninfo, "SELECT count(*) FROM dsr_file_deletions WHERE state <> "
                                       "'done'"), 0);
  /* running a part again changes nothing */
  char err[256];
  char *sum = ef_checksums(plat);
  ck_assert_int_eq(dsr_erasure_run(d.db, d.policy, part, 0, 0, err, sizeof err),
                   DSR_ERASURE_NOTHING);
  char *sum2 = ef_checksums(plat);
  ck_assert_str_eq(sum, sum2);
  free(sum);
  free(sum2);
  free(inv_md5);
  free(inv_after);
  json_decref(kept);
  json_decref(before);
  json_decref(after);
  json_decref(cov);
  json_decref(rec_files);
  json_decref(vm_files);
  ef_dsrd_close(&d);
  ef_platform_free(&pl);
  free(pp);
}
END_TEST

/* A legal hold on the subject keeps what it covers; a hold on the request stops everything
 * until it is released. */
START_TEST(holds_keep_what_they_cover)
{
  struct ef_platform pl;
  ef_generate(&pl, "er_hold", 300, true, SUBJECT_ARGS);
  ef_use(&pl);
  char *pp = policy_path("callcenter-ai.json");
  struct ef_dsrd d;
  ef_dsrd_open(&d, "dsr_er_hold", pp, NULL);
  const char *plat = pl.conninfo;
  long recs = ef_long(plat, "SELECT count(*) FROM recordings r JOIN calls c ON c.id = r.call_id"
                            " WHERE c.caller_number = '" E_PHONE "' OR c.called_number = '" E_PHONE "'");
  ck_assert_int_gt(recs, 0);
  unsigned char h[DSR_HASH_BYTES];
  ck_assert(dsr_identity_hash(DSR_ID_PHONE, E_PHONE, h));
  char hex[2 * DSR_HASH_BYTES + 1];
  sodium_bin2hex(hex, sizeof hex, h, sizeof h);
  char sql[512];
  snprintf(sql, sizeof sql, "INSERT INTO dsr_holds (identity_kind, identity_hash, collections, "
           "basis, created_at) VALUES ('phone', '\\x%s'::bytea, '{recordings,transcripts}', "
           "'litigation 2026-17', now())", hex);
  PQclear(h_sql(d.conninfo, sql));

  char id[40];
  dsr_strlcpy(id, ef_request(&d, E_EMAIL, E_PHONE), sizeof id);
  ck_assert_int_ge(ef_run_jobs(&d), 1);
  /* a hold on the request: approval is refused; placed after approval, the job waits */
  ef_approve(&d, id);
  struct dsr_admin_action hold = {.action = "hold", .reason = "court order"};
  char detail[256];
  const char *field = NULL;
  json_t *reply = NULL;
  ck_assert_int_eq(dsr_admin_act(d.db, d.policy, d.staff_id, id, &hold, &reply, detail,
                                 sizeof detail, &field), DSR_OK);
  json_decref(reply);
  ef_run_jobs(&d);
  ck_assert_int_eq(ef_long(d.conninfo, "SELECT count(*) FROM dsr_parts WHERE request_id = '%s'"
                                       " AND state = 'approved'", id), 1);
  ck_assert_int_eq(ef_long(plat, "SELECT count(*) FROM calls WHERE caller_number = '" E_PHONE "'"
                                 " OR called_number = '" E_PHONE "'") > 0, 1);
  struct dsr_admin_action rel = {.action = "release"};
  ck_assert_int_eq(dsr_admin_act(d.db, d.policy, d.staff_id, id, &rel, &reply, detail,
                                 sizeof detail, &field), DSR_OK);
  json_decref(reply);
  ck_assert_int_ge(ef_run_jobs(&d), 1);
  ck_assert_int_eq(ef_long(d.conninfo, "SELECT count(*) FROM dsr_requests WHERE id = '%s' AND"
                                       " status = 'completed'", id), 1);
  /* the held recordings (and so their calls) stay; the receipt says why */
  ck_assert_int_eq(ef_long(plat, "SELECT count(*) FROM recordings r JOIN calls c ON c.id = "
                                 "r.call_id WHERE c.caller_number = '" E_PHONE "' OR "
                                 "c.called_number = '" E_PHONE "'"), recs);
  ck_assert_int_eq(ef_long(plat, "SELECT count(*) FROM consents WHERE phone = '" E_PHONE "'"), 0);
  json_t *rcs = dsr_erasure_receipts(d.db, id);
  char *text = json_dumps(rcs, 0);
  ck_assert_msg(strstr(text, "\"legal hold: litigation 2026-17\"") != NULL, "%s", text);
  ck_assert_msg(strstr(text, "still referenced by rows that are kept") != NULL, "%s", text);
  free(text);
  json_decref(rcs);
  ef_dsrd_close(&d);
  ef_platform_free(&pl);
  free(pp);
}
END_TEST

/* A file that cannot be removed keeps the part executing, is retried with back-off and
 * reported; once it can go, the part finishes. A file already missing is not an error. */
START_TEST(unremovable_files_are_retried_not_forgotten)
{
  struct ef_platform pl;
  ef_generate(&pl, "er_files", 200, true,
              "--subject-email " E_EMAIL " --subject-phone " E_PHONE " --subject-workspaces 1 "
              "--subject-calls 12");
  ef_use(&pl);
  char *pp = policy_path("callers360.json");
  struct ef_dsrd d;
  ef_dsrd_open(&d, "dsr_er_files", pp, NULL);
  json_t *cov = covered(d.policy, pl.conninfo);
  json_t *files = files_of(pl.conninfo, cov, "recordings");
  ck_assert_int_ge(json_array_size(files), 2);
  char stuck[700], gone[700], inside[760];
  snprintf(stuck, sizeof stuck, "%s/%s", pl.media, json_string_value(json_array_get(files, 0)));
  snprintf(gone, sizeof gone, "%s/%s", pl.media, json_string_value(json_array_get(files, 1)));
  /* one file is already gone; another cannot be unlinked (a non-empty directory now) */
  ck_assert_int_eq(unlink(gone), 0);
  ck_assert_int_eq(unlink(stuck), 0);
  ck_assert_int_eq(mkdir(stuck, 0700), 0);
  snprintf(inside, sizeof inside, "%s/x", stuck);
  FILE *f = fopen(inside, "w");
  ck_assert_ptr_nonnull(f);
  fclose(f);
  char id[40];
  dsr_strlcpy(id, ef_request(&d, E_EMAIL, E_PHONE), sizeof id);
  ef_run_jobs(&d);
  ef_approve(&d, id);
  ef_run_jobs(&d);
  ck_assert_int_eq(ef_long(d.conninfo, "SELECT count(*) FROM dsr_parts WHERE state = 'executing'"), 1);
  ck_assert_int_eq(ef_long(d.conninfo, "SELECT count(*) FROM dsr_file_deletions WHERE state = "
                                       "'due' AND attempts >= 1 AND last_error IS NOT NULL"), 1);
  ck_assert_int_eq(ef_long(d.conninfo, "SELECT count(*) FROM dsr_jobs WHERE kind = 'erasure' AND"
                                       " state = 'queued' AND last_error LIKE '%%could not be removed%%'"), 1);
  /* the rows are gone already; the file is reported, not forgotten */
  ck_assert_int_eq(ef_long(pl.conninfo, "SELECT count(*) FROM recordings r JOIN calls c ON c.id ="
                                        " r.call_id WHERE c.caller_number = '" E_PHONE "' OR "
                                        "c.called_number = '" E_PHONE "'"), 0);
  ck_assert_int_eq(unlink(inside), 0);
  ck_assert_int_eq(rmdir(stuck), 0);
  f = fopen(stuck, "w"); /* a plain file again: removable */
  ck_assert_ptr_nonnull(f);
  fclose(f);
  dsr_set_fake_now(time(NULL) + 7200); /* past the back-off */
  ck_assert_int_ge(ef_run_jobs(&d), 1);
  dsr_set_fake_now(0);
  ck_assert_int_eq(ef_long(d.conninfo, "SELECT count(*) FROM dsr_parts WHERE state = 'done'"), 1);
  ck_assert(!ef_file_exists(pl.media, json_string_value(json_array_get(files, 0))));
  ck_assert_int_eq(ef_long(d.conninfo, "SELECT count(*) FROM dsr_file_deletions WHERE state <> "
                                       "'done'"), 0);
  json_decref(files);
  json_decref(cov);
  ef_dsrd_close(&d);
  ef_platform_free(&pl);
  free(pp);
}
END_TEST

/* Each seed policy, end to end on its own platform. */
static void one_policy(const char *file, int idx)
{
  struct ef_platform pl;
  char db[32], ddb[32];
  snprintf(db, sizeof db, "er_pol%d", idx);
  snprintf(ddb, sizeof ddb, "dsr_er_pol%d", idx);
  ef_generate(&pl, db, 250, true, SUBJECT_ARGS);
  ef_use(&pl);
  char *pp = policy_path(file);
  struct ef_dsrd d;
  ef_dsrd_open(&d, ddb, pp, NULL);
  const char *plat = pl.conninfo;
  PQclear(h_sql(plat, "UPDATE transcripts SET text = text || ' They said " E_PHONE_SPACED ".'"
                      " WHERE id = (SELECT min(id) FROM transcripts)"));
  struct account acct;
  account_of(plat, &acct);
  json_t *cov = covered(d.policy, plat);
  json_t *rec_files = files_of(plat, cov, "recordings");
  json_t *before = uncovered_md5(plat, cov);
  json_t *planned_kept = plan_kept(&d, plat);
  char id[40];
  dsr_strlcpy(id, ef_request(&d, E_EMAIL, E_PHONE), sizeof id);
  ef_run_jobs(&d);
  ef_approve(&d, id);
  ef_run_jobs(&d);
  json_t *ran_kept = run_kept(&d, id);
  char *pk = json_dumps(planned_kept, JSON_SORT_KEYS), *rk = json_dumps(ran_kept, JSON_SORT_KEYS);
  ck_assert_msg(json_equal(planned_kept, ran_kept), "%s: plan kept %s, execution kept %s", file,
                pk, rk);
  free(pk);
  free(rk);
  json_decref(planned_kept);
  json_decref(ran_kept);
  ck_assert_msg(ef_long(d.conninfo, "SELECT count(*) FROM dsr_requests WHERE id = '%s' AND"
                                    " status = 'completed'", id) == 1, "%s: not completed", file);
  json_t *kept = kept_rows(&d, id);
  assert_identifiers_gone(&d, plat, kept);
  /* the account row: gone, or kept because retained rows reference it and then masked */
  bool acct_kept = assert_account_masked(plat, &acct);
  ck_assert_msg(acct_kept == (ef_long(d.conninfo, "SELECT count(*) FROM dsr_erasure_steps WHERE"
                                                  " collection = 'users' AND kept > 0") > 0),
                "%s: the account row and the receipt disagree", file);
  size_t i;
  json_t *f;
  json_array_foreach(rec_files, i, f)
    ck_assert_msg(!ef_file_exists(pl.media, json_string_value(f)), "%s: recording left", file);
  json_t *after = uncovered_md5(plat, cov);
  const char *tname;
  json_t *md5;
  json_object_foreach(before, tname, md5)
    ck_assert_msg(json_equal(md5, json_object_get(after, tname)), "%s: table %s changed outside"
                  " the plan", file, tname);
  assert_suppressed(&d);
  ck_assert_int_ge(ef_long(d.conninfo, "SELECT count(*) FROM dsr_events WHERE kind = "
                                       "'erasure.receipt'"), 1);
  json_decref(kept);
  json_decref(before);
  json_decref(after);
  json_decref(cov);
  json_decref(rec_files);
  ef_dsrd_close(&d);
  ef_platform_free(&pl);
  free(pp);
}

/*
 * retain with masked fields: the subject's invoices are kept for tax, under
 * their basis, with the billing email pseudonymised and the name replaced;
 * every other field and every other invoice stays byte for byte.
 */
START_TEST(retained_rows_keep_their_basis_and_lose_the_named_fields)
{
  struct ef_platform pl;
  ef_generate(&pl, "er_retain", 200, false, SUBJECT_ARGS);
  ef_use(&pl);
  char *src = policy_path("callorbit.json"), variant[] = "/tmp/dsr-retain-XXXXXX";
  json_error_t je;
  json_t *pol = json_load_file(src, 0, &je);
  ck_assert_ptr_nonnull(pol);
  free(src);
  json_t *er = json_object_get(json_object_get(json_object_get(pol, "collections"), "invoices"),
                               "erasure");
  json_object_set_new(er, "fields", json_pack("{s:{s:s}, s:{s:s, s:s}}", "billing_email",
                                              "strategy", "hmac", "billing_name", "strategy",
                                              "fixed", "value", "[erased]"));
  int fd = mkstemp(variant);
  ck_assert_int_ge(fd, 0);
  close(fd);
  ck_assert_int_eq(json_dump_file(pol, variant, JSON_INDENT(2)), 0);
  json_decref(pol);
  struct ef_dsrd d;
  ef_dsrd_open(&d, "dsr_er_retain", variant, NULL);
  const char *plat = pl.conninfo;
  long n = ef_long(plat, "SELECT count(*) FROM invoices WHERE lower(billing_email) = '" E_EMAIL "'");
  ck_assert_int_gt(n, 0);
  long all = ef_long(plat, "SELECT count(*) FROM invoices");
  PGresult *r = h_sql(plat, "SELECT '{' || string_agg(id::text, ',') || '}' FROM invoices WHERE"
                            " lower(billing_email) = '" E_EMAIL "'");
  char keys[2048];
  snprintf(keys, sizeof keys, "%s", PQgetvalue(r, 0, 0));
  PQclear(r);
  char *others = ef_table_md5(plat, "invoices", "id", keys);
  char *amounts_sql = NULL;
  ck_assert(asprintf(&amounts_sql, "SELECT md5(string_agg(number || amount_cents || currency ||"
                                   " status || billing_address, ',' ORDER BY id)) FROM invoices"
                                   " WHERE id = ANY('%s'::bigint[])", keys) > 0);
  r = h_sql(plat, amounts_sql);
  char amounts[40];
  snprintf(amounts, sizeof amounts, "%s", PQgetvalue(r, 0, 0));
  PQclear(r);

  const char *req = ef_request(&d, E_EMAIL, E_PHONE);
  char id[40];
  dsr_strlcpy(id, req, sizeof id);
  ck_assert_int_ge(ef_run_jobs(&d), 1);
  PGresult *parts = h_sql(d.conninfo, "SELECT id::text, customer_id::text FROM dsr_parts WHERE"
                                      " state = 'forwarded'");
  for (int i = 0; i < PQntuples(parts); i++) {
    json_t *reply = NULL;
    ck_assert_int_eq(dsr_customer_decide(d.db, PQgetvalue(parts, i, 1), PQgetvalue(parts, i, 0),
                                         "fulfill", NULL, &reply), DSR_OK);
    json_decref(reply);
  }
  PQclear(parts);
  ef_approve(&d, id);
  ck_assert_int_ge(ef_run_jobs(&d), 1);
  ck_assert_int_eq(ef_long(d.conninfo, "SELECT count(*) FROM dsr_requests WHERE id = '%s' AND"
                                       " status = 'completed'", id), 1);
  /* kept: every invoice, the subject's with their fields masked, the rest untouched */
  ck_assert_int_eq(ef_long(plat, "SELECT count(*) FROM invoices"), all);
  ck_assert_int_eq(ef_long(plat, "SELECT count(*) FROM invoices WHERE lower(billing_email) = '"
                                 E_EMAIL "'"), 0);
  ck_assert_int_eq(ef_long(plat, "SELECT count(*) FROM invoices WHERE id = ANY('%s'::bigint[])"
                                 " AND billing_name = '[erased]' AND billing_email <> ''", keys), n);
  r = h_sql(plat, amounts_sql);
  ck_assert_str_eq(PQgetvalue(r, 0, 0), amounts);
  PQclear(r);
  char *others_after = ef_table_md5(plat, "invoices", "id", keys);
  ck_assert_str_eq(others_after, others);
  /* the receipt: a mask of the invoices, under the retention basis */
  json_t *rcs = dsr_erasure_receipts(d.db, id);
  char *text = json_dumps(rcs, 0);
  ck_assert_msg(strstr(text, "\"collection\": \"invoices\"") != NULL, "%s", text);
  ck_assert_msg(strstr(text, "billing records and records we must retain by law (tax); identifying"
                             " fields masked") != NULL, "%s", text);
  ck_assert_ptr_null(strstr(text, E_EMAIL));
  free(text);
  json_decref(rcs);
  free(amounts_sql);
  free(others);
  free(others_after);
  unlink(variant);
  ef_dsrd_close(&d);
  ef_platform_free(&pl);
}
END_TEST

START_TEST(each_seed_policy_end_to_end)
{
  static const char *const files[] = {"callorbit.json", "callcenter-ai.json", "callos.json",
                                      "callers360.json", "call-manager.json"};
  one_policy(files[_i], _i);
}
END_TEST

Suite *suite_erasure(void)
{
  Suite *s = suite_create("erasure");
  TCase *tc = tcase_create("erasure");
  tcase_set_timeout(tc, 300);
  tcase_add_test(tc, erasure_of_a_subject_on_the_sample_platform);
  tcase_add_test(tc, holds_keep_what_they_cover);
  tcase_add_test(tc, unremovable_files_are_retried_not_forgotten);
  tcase_add_test(tc, retained_rows_keep_their_basis_and_lose_the_named_fields);
  tcase_add_loop_test(tc, each_seed_policy_end_to_end, 0, 5);
  suite_add_tcase(s, tc);
  return s;
}

/**
 * @file test_audit.c
 * @brief The audit chain against real PostgreSQL: append-only guards, tamper
 *        detection (online and offline), concurrent appends and sealing, the
 *        order of entries behind an open transaction, dsrd's sealer.
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "suites.h"
#include "dsr/audit.h"
#include "dsr/events.h"

/** Records one event through the real entry point, in its own transaction. */
static void record(struct dsr_db *db, const char *kind, const char *actor, json_t *data)
{
  PGresult *r = PQexec(db->conn, "BEGIN");
  PQclear(r);
  bool retry = false;
  ck_assert(dsr_event_record(db, NULL, kind, actor, data, &retry));
  r = PQexec(db->conn, "COMMIT");
  ck_assert_int_eq(PQresultStatus(r), PGRES_COMMAND_OK);
  PQclear(r);
  json_decref(data);
}

static void seal_all(struct dsr_db *db)
{
  long long n = 0;
  ck_assert(dsr_audit_seal_all(db, &n));
}

static void verify_ok(struct dsr_db *db, long long want)
{
  struct dsr_audit_verdict v;
  char err[256];
  ck_assert_msg(dsr_audit_verify_db(db, &v, err, sizeof err), "%s", err);
  ck_assert_msg(v.ok, "broken at %lld: %s", v.broken_pos, v.reason);
  ck_assert_int_eq(v.verified, want);
  ck_assert_int_eq(v.unsealed, 0);
}

/** Runs SQL expecting it to fail; returns the error text (caller frees). */
static char *sql_fails(const char *conninfo, const char *sql)
{
  PGconn *c = PQconnectdb(conninfo);
  ck_assert_int_eq(PQstatus(c), CONNECTION_OK);
  PGresult *r = PQexec(c, sql);
  ck_assert_msg(PQresultStatus(r) == PGRES_FATAL_ERROR, "%s succeeded", sql);
  char *msg = strdup(PQresultErrorMessage(r));
  PQclear(r);
  PQfinish(c);
  return msg;
}

static bool contains_file(const char *path, const char *needle)
{
  char *text = h_slurp(path, NULL);
  bool found = strstr(text, needle) != NULL;
  free(text);
  return found;
}

START_TEST(append_only_and_tamper_is_named)
{
  char *ci = it_fresh_db("audit_tamper");
  struct dsr_db *db = it_connect(ci);
  for (int i = 0; i < 20; i++)
    record(db, i % 2 ? "request.extended" : "sweep.receipt", "system",
           json_pack("{s:i, s:s}", "n", i, "reason", "volume"));
  seal_all(db);
  verify_ok(db, 20);

  /* The guard: no UPDATE, DELETE or TRUNCATE, on entries or links. */
  const char *refused[] = {"UPDATE dsr_audit_entries SET kind = 'x' WHERE seq = 3",
                           "DELETE FROM dsr_audit_entries WHERE seq = 3",
                           "TRUNCATE dsr_audit_entries CASCADE",
                           "UPDATE dsr_audit_chain SET sealed_at = now() WHERE pos = 3",
                           "DELETE FROM dsr_audit_chain WHERE pos = 20",
                           "TRUNCATE dsr_audit_chain"};
  for (size_t i = 0; i < sizeof refused / sizeof *refused; i++) {
    char *msg = sql_fails(ci, refused[i]);
    ck_assert_msg(strstr(msg, "append-only") != NULL, "%s: %s", refused[i], msg);
    free(msg);
  }
  /* A forged link that does not extend the head is refused too. */
  char *msg = sql_fails(ci, "INSERT INTO dsr_audit_chain VALUES (21, 999, '\\x00', '\\x00', now())");
  free(msg);
  msg = sql_fails(ci, "INSERT INTO dsr_audit_chain SELECT 21, 999, hash, hash, now()"
                      " FROM dsr_audit_chain WHERE pos = 19");
  ck_assert(strstr(msg, "does not extend") != NULL);
  free(msg);

  /* An untouched chain verifies through the CLI, online and offline. */
  char url[600], out[300], exp[300], exp_arg[320];
  snprintf(url, sizeof url, "--database-url=%s", ci);
  snprintf(out, sizeof out, "%s/verify.out", it_pg.dir);
  snprintf(exp, sizeof exp, "%s/audit.jsonl", it_pg.dir);
  snprintf(exp_arg, sizeof exp_arg, "--out=%s", exp);
  const char *verify[] = {"dsrctl", url, "audit", "verify", NULL};
  ck_assert_int_eq(it_run(verify, out), 0);
  ck_assert(contains_file(out, "OK, 20 entries sealed and verified (positions 1-20)"));
  const char *export[] = {"dsrctl", url, "audit", "export", "--from", "2000-01-01", "--to",
                          "2100-01-01", "--out", exp, NULL};
  ck_assert_int_eq(it_run(export, NULL), 0);
  const char *offline[] = {"dsrctl", "audit", "verify", "--file", exp, NULL};
  ck_assert_int_eq(it_run(offline, out), 0);
  ck_assert(contains_file(out, "audit export: OK, 20 entries sealed and verified"));

  /* Past the guard, as superuser: change what entry 7 says. */
  long seq7 = h_sql_long(ci, "SELECT seq FROM dsr_audit_chain WHERE pos = 7");
  PGresult *hr = h_sql(ci, "SELECT encode(hash, 'hex') FROM dsr_audit_chain WHERE pos = 7");
  char *h7 = strdup(PQgetvalue(hr, 0, 0));
  PQclear(hr);
  char tamper[300];
  snprintf(tamper, sizeof tamper,
           "SET session_replication_role = replica;"
           " UPDATE dsr_audit_entries SET data = '{\"n\":6,\"reason\":\"forged\"}'"
           " WHERE seq = %ld", seq7);
  PQclear(h_sql(ci, tamper));

  struct dsr_audit_verdict v;
  char err[256];
  ck_assert(dsr_audit_verify_db(db, &v, err, sizeof err));
  ck_assert(!v.ok);
  ck_assert_int_eq(v.broken_pos, 7);
  ck_assert_int_eq(v.broken_seq, seq7);
  ck_assert_int_eq(v.verified, 6);
  ck_assert_str_eq(v.expected, h7);
  ck_assert_str_ne(v.found, h7);

  char want[200];
  snprintf(want, sizeof want, "BROKEN at position 7 (entry %ld)", seq7);
  ck_assert_int_eq(it_run(verify, out), 1);
  ck_assert(contains_file(out, want));
  ck_assert(contains_file(out, h7));
  /* The export taken now carries the forged entry: offline verification names it too. */
  ck_assert_int_eq(it_run(export, NULL), 0);
  ck_assert_int_eq(it_run(offline, out), 1);
  ck_assert(contains_file(out, want));
  free(h7);
  it_disconnect(db);
  free(ci);
}
END_TEST

START_TEST(deleted_link_and_changed_hash_are_named)
{
  char *ci = it_fresh_db("audit_links");
  struct dsr_db *db = it_connect(ci);
  for (int i = 0; i < 5; i++)
    record(db, "policy.loaded", "system", json_pack("{s:i}", "version", i));
  seal_all(db);
  verify_ok(db, 5);
  PQclear(h_sql(ci, "SET session_replication_role = replica;"
                    " UPDATE dsr_audit_chain SET hash = sha256(hash) WHERE pos = 4"));
  struct dsr_audit_verdict v;
  char err[256];
  ck_assert(dsr_audit_verify_db(db, &v, err, sizeof err));
  ck_assert(!v.ok);
  ck_assert_int_eq(v.broken_pos, 4);
  PQclear(h_sql(ci, "SET session_replication_role = replica;"
                    " DELETE FROM dsr_audit_chain WHERE pos = 2"));
  ck_assert(dsr_audit_verify_db(db, &v, err, sizeof err));
  ck_assert(!v.ok);
  ck_assert_int_eq(v.broken_pos, 2);
  ck_assert(strstr(v.reason, "missing") != NULL);
  it_disconnect(db);
  free(ci);
}
END_TEST

START_TEST(entries_behind_an_open_transaction_wait_then_keep_order)
{
  char *ci = it_fresh_db("audit_order");
  struct dsr_db *a = it_connect(ci), *b = it_connect(ci);
  PGresult *r = PQexec(a->conn, "BEGIN");
  PQclear(r);
  bool retry;
  json_t *d = json_pack("{s:s}", "who", "a");
  ck_assert(dsr_event_record(a, NULL, "test.a", "system", d, &retry));
  json_decref(d);
  record(b, "test.b", "system", json_pack("{s:s}", "who", "b"));
  /* b committed, but a (older, lower sequence number) is still open: nothing may be sealed
   * yet, or a would have to come after b although it was appended first. */
  seal_all(b);
  struct dsr_audit_verdict v;
  char err[256];
  ck_assert(dsr_audit_verify_db(b, &v, err, sizeof err));
  ck_assert(v.ok);
  ck_assert_int_eq(v.verified, 0);
  ck_assert_int_eq(v.unsealed, 1);
  ck_assert_int_eq(v.sealable, 0);
  r = PQexec(a->conn, "COMMIT");
  PQclear(r);
  seal_all(b);
  verify_ok(b, 2);
  ck_assert_int_eq(h_sql_long(ci, "SELECT count(*) FROM dsr_audit_chain c JOIN dsr_audit_entries"
                                  " e USING (seq) WHERE c.pos = 1 AND e.kind = 'test.a'"), 1);
  it_disconnect(a);
  it_disconnect(b);
  free(ci);
}
END_TEST

struct writer {
  const char *conninfo;
  int id;
  int committed;
};

#define WRITERS 6
#define PER_WRITER 150

static void *write_events(void *arg)
{
  struct writer *w = arg;
  struct dsr_db *db = it_connect(w->conninfo);
  for (int i = 0; i < PER_WRITER; i++) {
    PGresult *r = PQexec(db->conn, "BEGIN");
    PQclear(r);
    json_t *d = json_pack("{s:i, s:i}", "writer", w->id, "i", i);
    bool retry;
    bool ok = dsr_event_record(db, NULL, "test.concurrent", "system", d, &retry);
    json_decref(d);
    /* Every fifth transaction rolls back: its sequence number becomes a gap. */
    bool commit = ok && i % 5 != 4;
    r = PQexec(db->conn, commit ? "COMMIT" : "ROLLBACK");
    PQclear(r);
    w->committed += commit;
  }
  it_disconnect(db);
  return NULL;
}

struct sealer_arg {
  const char *conninfo;
  volatile int *stop;
  long long sealed;
};

static void *seal_loop(void *arg)
{
  struct sealer_arg *s = arg;
  struct dsr_db *db = it_connect(s->conninfo);
  while (!*s->stop) {
    long long n = 0;
    bool more;
    if (dsr_audit_seal_pass(db, 50, &n, &more))
      s->sealed += n;
  }
  it_disconnect(db);
  return NULL;
}

START_TEST(concurrent_appends_and_sealers_never_fork)
{
  char *ci = it_fresh_db("audit_concurrent");
  pthread_t wt[WRITERS], st[2];
  struct writer w[WRITERS];
  volatile int stop = 0;
  struct sealer_arg s[2] = {{ci, &stop, 0}, {ci, &stop, 0}};
  for (int i = 0; i < 2; i++)
    pthread_create(&st[i], NULL, seal_loop, &s[i]);
  for (int i = 0; i < WRITERS; i++) {
    w[i] = (struct writer){ci, i, 0};
    pthread_create(&wt[i], NULL, write_events, &w[i]);
  }
  int committed = 0;
  for (int i = 0; i < WRITERS; i++) {
    pthread_join(wt[i], NULL);
    committed += w[i].committed;
  }
  stop = 1;
  for (int i = 0; i < 2; i++)
    pthread_join(st[i], NULL);
  ck_assert_int_eq(committed, WRITERS * PER_WRITER * 4 / 5);
  struct dsr_db *db = it_connect(ci);
  seal_all(db);
  verify_ok(db, committed);
  ck_assert_int_eq(h_sql_long(ci, "SELECT count(DISTINCT seq) FROM dsr_audit_chain"), committed);
  ck_assert_int_eq(h_sql_long(ci, "SELECT max(pos) FROM dsr_audit_chain"), committed);
  ck_assert_int_eq(h_sql_long(ci, "SELECT count(*) FROM dsr_events"), committed);
  it_disconnect(db);
  free(ci);
}
END_TEST

START_TEST(dsrd_seals_what_it_recorded_before_it_stops)
{
  char *ci = it_fresh_db("audit_daemon");
  char url[600];
  snprintf(url, sizeof url, "--database-url=%s", ci);
  /* An interval far longer than the test: only the final pass at shutdown can seal. */
  const char *args[] = {url, "--audit-seal-interval-ms=600000", "--workers=0", NULL};
  struct h_dsrd d;
  h_dsrd_start(&d, NULL, args);
  for (int i = 0; i < 3; i++) {
    struct h_resp r;
    h_http(&d, "POST", "/v1/requests", NULL,
           "{\"type\":\"access\",\"subject\":{\"email\":\"seal@example.com\"}}", &r);
    ck_assert_int_eq(r.status, 202);
    h_resp_free(&r);
  }
  /* Intake records request.received and what verification queues; workers are off. */
  ck_assert_int_eq(h_sql_long(ci, "SELECT count(*) FROM dsr_events"
                                  " WHERE kind = 'request.received'"), 3);
  long entries = h_sql_long(ci, "SELECT count(*) FROM dsr_audit_entries");
  ck_assert_int_ge(entries, 3);
  ck_assert_int_eq(h_sql_long(ci, "SELECT count(*) FROM dsr_events"), entries);
  ck_assert_int_eq(h_dsrd_stop(&d, SIGTERM), 0);
  struct dsr_db *db = it_connect(ci);
  verify_ok(db, (int)entries);
  /* The entries carry no personal data. */
  ck_assert_int_eq(h_sql_long(ci, "SELECT count(*) FROM dsr_audit_entries"
                                  " WHERE data LIKE '%example.com%' OR actor LIKE '%@%'"), 0);
  it_disconnect(db);
  free(ci);
}
END_TEST

/** Creates a staff token with @p role through dsrctl, sharing it_dsrd's database and key. */
static void staff_token(const char *role, char *tok, size_t n)
{
  char url[600], key[400], name[64], out[300];
  snprintf(url, sizeof url, "--database-url=%s", it_pg.conninfo);
  snprintf(key, sizeof key, "--secret-key-file=%s/secret.key", it_dsrd.state_dir);
  snprintf(name, sizeof name, "audit-%s-%d", role, (int)getpid());
  snprintf(out, sizeof out, "%s/token-%s.out", it_pg.dir, role);
  const char *argv[] = {"dsrctl", url, key, "staff", "token", "create", "--role", role,
                        "--name", name, NULL};
  ck_assert_int_eq(it_run(argv, out), 0);
  char *text = h_slurp(out, NULL);
  const char *p = strstr(text, "token: ");
  ck_assert_ptr_nonnull(p);
  p += 7;
  size_t len = strcspn(p, "\n");
  ck_assert_uint_lt(len, n);
  memcpy(tok, p, len);
  tok[len] = '\0';
  free(text);
}

static long get(const char *path, const char *token, struct h_resp *out)
{
  char auth[256];
  snprintf(auth, sizeof auth, "Authorization: Bearer %s", token ? token : "");
  const char *hdrs[] = {auth, NULL};
  h_http(&it_dsrd, "GET", path, token ? hdrs : NULL, NULL, out);
  return out->status;
}

START_TEST(admin_api_serves_the_chain_and_reports)
{
  struct h_resp r;
  h_http(&it_dsrd, "POST", "/v1/requests", NULL,
         "{\"type\":\"erasure\",\"subject\":{\"email\":\"api@example.com\"}}", &r);
  ck_assert_int_eq(r.status, 202);
  h_resp_free(&r);
  struct dsr_db *db = it_connect(it_pg.conninfo);
  seal_all(db);
  char auditor[128], triager[128], admin[128];
  staff_token("auditor", auditor, sizeof auditor);
  staff_token("triager", triager, sizeof triager);
  staff_token("admin", admin, sizeof admin);

  ck_assert_int_eq(get("/v1/admin/audit", NULL, &r), 401);
  h_resp_free(&r);
  ck_assert_int_eq(get("/v1/admin/audit", triager, &r), 403);
  h_resp_free(&r);
  ck_assert_int_eq(get("/v1/admin/audit?limit=0", auditor, &r), 400);
  ck_assert(strstr(r.body, "\"field\":\"limit\"") != NULL);
  h_resp_free(&r);
  ck_assert_int_eq(get("/v1/admin/audit?after=-1", auditor, &r), 400);
  h_resp_free(&r);

  /* Page through the chain two entries at a time and recompute every link. */
  unsigned char prev[DSR_AUDIT_HASH_BYTES] = {0};
  long long after = 0, seen = 0, head = -1;
  for (;;) {
    char path[80];
    snprintf(path, sizeof path, "/v1/admin/audit?after=%lld&limit=2", after);
    ck_assert_int_eq(get(path, auditor, &r), 200);
    json_t *j = h_resp_json(&r);
    h_resp_free(&r);
    head = json_integer_value(json_object_get(json_object_get(j, "head"), "pos"));
    size_t i;
    json_t *e;
    json_array_foreach(json_object_get(j, "entries"), i, e)
    {
      const json_t *rid = json_object_get(e, "request_id");
      struct dsr_audit_entry en = {
          .pos = json_integer_value(json_object_get(e, "pos")),
          .seq = json_integer_value(json_object_get(e, "seq")),
          .at = json_string_value(json_object_get(e, "at")),
          .request_id = json_is_string(rid) ? json_string_value(rid) : "",
          .kind = json_string_value(json_object_get(e, "kind")),
          .actor = json_string_value(json_object_get(e, "actor")),
          .data = json_string_value(json_object_get(e, "data"))};
      ck_assert_int_eq(en.pos, after + 1);
      unsigned char h[DSR_AUDIT_HASH_BYTES];
      char hex[DSR_AUDIT_HEX_LEN];
      ck_assert(dsr_audit_link_hash(prev, &en, h));
      dsr_audit_hex(h, hex);
      ck_assert_str_eq(hex, json_string_value(json_object_get(e, "hash")));
      memcpy(prev, h, sizeof prev);
      after = en.pos;
      seen++;
    }
    bool more = json_is_integer(json_object_get(j, "next_after"));
    json_decref(j);
    if (!more)
      break;
  }
  ck_assert_int_gt(seen, 0);
  ck_assert_int_eq(seen, head);

  ck_assert_int_eq(get("/v1/admin/reports/compliance?from=2020-01-01&to=2030-01-01", auditor, &r),
                   200);
  json_t *rep = h_resp_json(&r);
  ck_assert_int_ge(json_integer_value(json_object_get(json_object_get(rep, "requests"),
                                                      "received")), 1);
  ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(rep, "audit"), "head_pos")),
                   head);
  json_decref(rep);
  h_resp_free(&r);
  ck_assert_int_eq(get("/v1/admin/reports/compliance?from=2020-01-01&to=2030-01-01&format=csv",
                       admin, &r), 200);
  ck_assert_str_eq(r.content_type, "text/csv; charset=utf-8");
  ck_assert(strncmp(r.body, "section,item,field,value\r\n", 26) == 0);
  h_resp_free(&r);
  ck_assert_int_eq(get("/v1/admin/reports/compliance?from=2020-01-01&to=2030-01-01&format=html",
                       auditor, &r), 200);
  ck_assert_str_eq(r.content_type, "text/html; charset=utf-8");
  ck_assert(strstr(r.headers, "style-src 'unsafe-inline'") != NULL);
  ck_assert(strstr(r.headers, "script-src") == NULL);
  ck_assert(strstr(r.body, "<svg") != NULL);
  h_resp_free(&r);
  ck_assert_int_eq(get("/v1/admin/reports/compliance?from=2020-01-01&to=2030-01-01", triager, &r),
                   403);
  h_resp_free(&r);
  ck_assert_int_eq(get("/v1/admin/reports/compliance?to=2100-01-01", auditor, &r), 400);
  ck_assert(strstr(r.body, "\"field\":\"from\"") != NULL);
  h_resp_free(&r);
  ck_assert_int_eq(get("/v1/admin/reports/compliance?from=2026-02-01&to=2026-01-01", auditor, &r),
                   400);
  h_resp_free(&r);
  ck_assert_int_eq(
      get("/v1/admin/reports/compliance?from=2026-01-01&to=2026-02-01&format=pdf", auditor, &r),
      400);
  h_resp_free(&r);
  it_disconnect(db);
}
END_TEST

Suite *suite_audit(void)
{
  Suite *s = suite_create("audit");
  TCase *tc = tcase_create("chain");
  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, append_only_and_tamper_is_named);
  tcase_add_test(tc, deleted_link_and_changed_hash_are_named);
  tcase_add_test(tc, entries_behind_an_open_transaction_wait_then_keep_order);
  tcase_add_test(tc, concurrent_appends_and_sealers_never_fork);
  tcase_add_test(tc, dsrd_seals_what_it_recorded_before_it_stops);
  tcase_add_test(tc, admin_api_serves_the_chain_and_reports);
  suite_add_tcase(s, tc);
  return s;
}

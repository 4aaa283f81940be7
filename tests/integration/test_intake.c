/** @file test_intake.c @brief POST /v1/requests and GET /v1/requests/{id} against real PostgreSQL. */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "suites.h"
#include "dsr/util.h"

static const char *const json_hdr[] = {"Content-Type: application/json", NULL};

/** POSTs @p body and returns the parsed 202 answer. */
static json_t *create(const char *body, const char *const *headers)
{
  struct h_resp r;
  h_http(&it_dsrd, "POST", "/v1/requests", headers ? headers : json_hdr, body, &r);
  ck_assert_msg(r.status == 202, "expected 202, got %ld: %s", r.status, r.body);
  json_t *j = h_resp_json(&r);
  h_resp_free(&r);
  return j;
}

static const char *jstr(const json_t *j, const char *k)
{
  const char *s = json_string_value(json_object_get(j, k));
  ck_assert_msg(s != NULL, "answer lacks string %s", k);
  return s;
}

START_TEST(health_and_readiness)
{
  struct h_resp r;
  h_http(&it_dsrd, "GET", "/healthz", NULL, NULL, &r);
  ck_assert_int_eq(r.status, 200);
  ck_assert(strstr(r.body, "\"ok\"") != NULL);
  h_resp_free(&r);
  h_http(&it_dsrd, "GET", "/readyz", NULL, NULL, &r);
  ck_assert_int_eq(r.status, 200);
  ck_assert(strstr(r.body, "\"ready\"") != NULL);
  ck_assert(strstr(r.headers, "X-Request-Id: ") != NULL);
  h_resp_free(&r);
}
END_TEST

START_TEST(create_then_status)
{
  json_t *j = create("{\"type\":\"erasure\",\"subject\":{\"email\":\"Ana.Silva@example.com\","
                     "\"phone\":\"+4915112345678\",\"name\":\"Ana Silva\"},\"details\":\"please\"}",
                     NULL);
  const char *id = jstr(j, "id");
  ck_assert_uint_eq(strlen(id), 36);
  ck_assert_str_eq(jstr(j, "status"), "pending_verification");
  ck_assert_uint_eq(strlen(jstr(j, "status_token")), 43);
  const char *recv = jstr(j, "received_at");
  const char *due = jstr(j, "due_at");
  ck_assert_uint_eq(strlen(recv), 20);
  ck_assert(recv[19] == 'Z');
  /* GDPR: one calendar month; computed here by hand from received_at. */
  struct tm tm = {0};
  strptime(recv, "%Y-%m-%dT%H:%M:%SZ", &tm);
  tm.tm_mon += 1;
  time_t expect = timegm(&tm);
  char want[21];
  strftime(want, sizeof want, "%Y-%m-%dT%H:%M:%SZ", gmtime(&expect));
  ck_assert_str_eq(due, want);
  json_t *ver = json_object_get(j, "verification");
  ck_assert_str_eq(json_string_value(json_array_get(json_object_get(ver, "channels"), 0)), "email");
  ck_assert_str_eq(json_string_value(json_array_get(json_object_get(ver, "channels"), 1)), "sms");
  ck_assert_ptr_nonnull(json_object_get(ver, "expires_at"));

  char path[80], auth[128];
  snprintf(path, sizeof path, "/v1/requests/%s", id);
  snprintf(auth, sizeof auth, "Authorization: Bearer %s", jstr(j, "status_token"));
  const char *hdrs[] = {auth, NULL};
  struct h_resp r;
  h_http(&it_dsrd, "GET", path, hdrs, NULL, &r);
  ck_assert_int_eq(r.status, 200);
  json_t *s = h_resp_json(&r);
  ck_assert_str_eq(jstr(s, "id"), id);
  ck_assert_str_eq(jstr(s, "status"), "pending_verification");
  ck_assert_str_eq(jstr(s, "type"), "erasure");
  ck_assert_str_eq(jstr(s, "jurisdiction"), "gdpr");
  ck_assert_str_eq(jstr(s, "due_at"), due);
  /* The status view carries no personal data. */
  ck_assert(strcasestr(r.body, "ana") == NULL);
  ck_assert(strstr(r.body, "4915112345678") == NULL);
  json_decref(s);
  h_resp_free(&r);

  char sql[200];
  snprintf(sql, sizeof sql,
           "SELECT count(*) FROM dsr_events WHERE request_id = '%s' AND kind = 'request.received'",
           id);
  ck_assert_int_eq(h_sql_long(it_pg.conninfo, sql), 1);
  snprintf(sql, sizeof sql, "SELECT count(*) FROM dsr_identities WHERE request_id = '%s'", id);
  ck_assert_int_eq(h_sql_long(it_pg.conninfo, sql), 3);
  json_decref(j);
}
END_TEST

START_TEST(wrong_token_and_unknown_id_look_the_same)
{
  json_t *j = create("{\"type\":\"access\",\"subject\":{\"email\":\"b@example.com\"}}", NULL);
  char path[80];
  snprintf(path, sizeof path, "/v1/requests/%s", jstr(j, "id"));
  const char *wrong[] = {"Authorization: Bearer AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", NULL};
  struct h_resp a, b, c;
  h_http(&it_dsrd, "GET", path, wrong, NULL, &a);
  h_http(&it_dsrd, "GET", "/v1/requests/00000000-0000-4000-8000-000000000000", wrong, NULL, &b);
  char auth[128];
  snprintf(auth, sizeof auth, "Authorization: Bearer %s", jstr(j, "status_token"));
  const char *right[] = {auth, NULL};
  h_http(&it_dsrd, "GET", "/v1/requests/00000000-0000-4000-8000-000000000000", right, NULL, &c);
  ck_assert_int_eq(a.status, 404);
  ck_assert_int_eq(b.status, 404);
  ck_assert_int_eq(c.status, 404);
  ck_assert_str_eq(a.body, b.body);
  ck_assert_str_eq(a.body, c.body);
  ck_assert_str_eq(a.content_type, "application/problem+json");
  h_resp_free(&a);
  h_resp_free(&b);
  h_resp_free(&c);
  json_decref(j);
}
END_TEST

START_TEST(deadline_per_jurisdiction)
{
  static const struct {
    const char *jur;
    int days;
  } cases[] = {{"ccpa", 45}, {"lgpd", 15}, {"pipeda", 30}};
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    char body[200];
    snprintf(body, sizeof body,
             "{\"type\":\"access\",\"jurisdiction\":\"%s\",\"subject\":{\"phone\":\"+14155550123\"}}",
             cases[i].jur);
    json_t *j = create(body, NULL);
    struct tm a = {0}, b = {0};
    strptime(jstr(j, "received_at"), "%Y-%m-%dT%H:%M:%SZ", &a);
    strptime(jstr(j, "due_at"), "%Y-%m-%dT%H:%M:%SZ", &b);
    ck_assert_int_eq((long)(timegm(&b) - timegm(&a)), cases[i].days * 86400L);
    json_decref(j);
  }
}
END_TEST

START_TEST(idempotent_retry_returns_first_answer)
{
  const char *hdrs[] = {"Content-Type: application/json", "Idempotency-Key: retry-test-1", NULL};
  const char *body = "{\"type\":\"opt_out\",\"subject\":{\"phone\":\"+14155550199\"}}";
  json_t *first = create(body, hdrs);
  json_t *second = create(body, hdrs);
  ck_assert_str_eq(jstr(first, "id"), jstr(second, "id"));
  ck_assert_str_eq(jstr(first, "status_token"), jstr(second, "status_token"));
  char sql[160];
  snprintf(sql, sizeof sql, "SELECT count(*) FROM dsr_requests WHERE id = '%s'", jstr(first, "id"));
  ck_assert_int_eq(h_sql_long(it_pg.conninfo, sql), 1);
  struct h_resp r;
  h_http(&it_dsrd, "POST", "/v1/requests", hdrs,
         "{\"type\":\"erasure\",\"subject\":{\"phone\":\"+14155550199\"}}", &r);
  ck_assert_int_eq(r.status, 422);
  ck_assert(strstr(r.body, "\"idempotency_key_reused\"") != NULL);
  h_resp_free(&r);
  json_decref(first);
  json_decref(second);
}
END_TEST

struct racer {
  const char *body;
  const char *const *hdrs;
  char id[40];
  long status;
};

static void *race(void *arg)
{
  struct racer *r = arg;
  struct h_resp resp;
  h_http(&it_dsrd, "POST", "/v1/requests", r->hdrs, r->body, &resp);
  r->status = resp.status;
  json_t *j = json_loadb(resp.body, resp.len, 0, NULL);
  snprintf(r->id, sizeof r->id, "%s", j ? json_string_value(json_object_get(j, "id")) : "");
  json_decref(j);
  h_resp_free(&resp);
  return NULL;
}

START_TEST(concurrent_retries_create_one_request)
{
  const char *hdrs[] = {"Content-Type: application/json", "Idempotency-Key: race-7f3a", NULL};
  const char *body = "{\"type\":\"access\",\"subject\":{\"email\":\"race@example.com\"}}";
  long before = h_sql_long(it_pg.conninfo, "SELECT count(*) FROM dsr_requests");
  pthread_t t[8];
  struct racer r[8];
  for (int i = 0; i < 8; i++) {
    r[i] = (struct racer){.body = body, .hdrs = hdrs};
    pthread_create(&t[i], NULL, race, &r[i]);
  }
  for (int i = 0; i < 8; i++)
    pthread_join(t[i], NULL);
  for (int i = 0; i < 8; i++) {
    ck_assert_int_eq(r[i].status, 202);
    ck_assert_str_eq(r[i].id, r[0].id);
  }
  long after = h_sql_long(it_pg.conninfo, "SELECT count(*) FROM dsr_requests");
  ck_assert_int_eq(after - before, 1);
}
END_TEST

START_TEST(no_raw_identity_or_token_in_database)
{
  json_t *j = create("{\"type\":\"erasure\",\"subject\":{\"email\":\"secret.person@example.org\","
                     "\"phone\":\"+4930123456789\",\"account_id\":\"acct-991\"},"
                     "\"details\":\"my neighbour Zebedee\"}",
                     (const char *const[]){"Content-Type: application/json",
                                           "Idempotency-Key: dump-check-key", NULL});
  /* A plain-text dump of the whole database, as an attacker with a backup would see it. */
  char dump[300];
  snprintf(dump, sizeof dump, "%s/dump.sql", it_pg.dir);
  char cmd[1200];
  snprintf(cmd, sizeof cmd, "%s/pg_dump -d \"%s\" -f %s", getenv("DSR_PG_BINDIR"), it_pg.conninfo,
           dump);
  ck_assert_int_eq(system(cmd), 0);
  size_t len;
  char *text = h_slurp(dump, &len);
  ck_assert_uint_gt(len, 1000);
  ck_assert(strstr(text, "dsr_identities") != NULL); /* the dump really holds our tables */
  const char *needles[] = {"secret.person", "4930123456789", "acct-991", "Zebedee",
                           jstr(j, "status_token"), "dump-check-key"};
  for (size_t i = 0; i < sizeof needles / sizeof *needles; i++)
    ck_assert_msg(strstr(text, needles[i]) == NULL, "found \"%s\" in pg_dump", needles[i]);
  free(text);
  remove(dump);
  json_decref(j);
}
END_TEST

/* The lookup hash of request @p id's phone identity, as hex (static buffer). */
static const char *phone_hash(const char *id)
{
  static char out[160];
  char sql[200];
  snprintf(sql, sizeof sql,
           "SELECT encode(lookup_hash, 'hex') FROM dsr_identities WHERE request_id = '%s'"
           " AND kind = 'phone'", id);
  PGresult *r = h_sql(it_pg.conninfo, sql);
  ck_assert_int_eq(PQntuples(r), 1);
  snprintf(out, sizeof out, "%s", PQgetvalue(r, 0, 0));
  PQclear(r);
  return out;
}

/* POSTs a request with phone @p phone to @p d; returns the HTTP status, the id into @p id. */
static long file_phone(struct h_dsrd *d, const char *phone, char id[40], char field[40])
{
  char body[300];
  snprintf(body, sizeof body,
           "{\"type\":\"erasure\",\"subject\":{\"email\":\"written.%u@example.com\","
           "\"phone\":\"%s\"}}", (unsigned)strlen(phone), phone);
  struct h_resp r;
  h_http(d, "POST", "/v1/requests", json_hdr, body, &r);
  json_t *j = h_resp_json(&r);
  long status = r.status;
  snprintf(id, 40, "%s", status == 202 ? json_string_value(json_object_get(j, "id")) : "");
  const char *f = json_string_value(json_object_get(j, "field"));
  snprintf(field, 40, "%s", f ? f : "");
  json_decref(j);
  h_resp_free(&r);
  return status;
}

/*
 * People write phone numbers with spaces, dashes and brackets, and with a
 * national prefix where the deployment names its region: every form of one
 * number is stored as the same E.164 identity (one lookup hash), so duplicate
 * detection, limits and discovery see one number. What is not a possible
 * number is a 400 naming /subject/phone.
 */
START_TEST(phone_numbers_in_any_written_form)
{
  char id[40], ref[40], field[40], want[160];
  ck_assert_int_eq(file_phone(&it_dsrd, "+4915112340077", ref, field), 202);
  snprintf(want, sizeof want, "%s", phone_hash(ref));
  const char *same[] = {"+49 151 1234 0077", "+49 (151) 1234-0077", "+49.151.12340077"};
  for (size_t i = 0; i < DSR_ARRAY_LEN(same); i++) {
    ck_assert_int_eq(file_phone(&it_dsrd, same[i], id, field), 202);
    ck_assert_msg(!strcmp(phone_hash(id), want), "\"%s\" stored as another number", same[i]);
  }
  /* no region configured: a national number is not understood */
  const char *refused[] = {"0151 12340077", "+49 151", "+49 151 1234 0077\\n", "+49 151 abc"};
  for (size_t i = 0; i < DSR_ARRAY_LEN(refused); i++) {
    ck_assert_int_eq(file_phone(&it_dsrd, refused[i], id, field), 400);
    ck_assert_str_eq(field, "/subject/phone");
  }
  /* a German deployment: the national form is the same number */
  char url_arg[512];
  snprintf(url_arg, sizeof url_arg, "--database-url=%s", it_pg.conninfo);
  const char *args[] = {url_arg, "--phone-region=DE", "--rate-intake-per-address=1000000",
                        "--rate-intake-per-identity=1000000", NULL};
  struct h_dsrd de;
  h_dsrd_start(&de, NULL, args); /* its own master key: compare hashes it made only */
  ck_assert_int_eq(file_phone(&de, "+4915112340077", ref, field), 202);
  snprintf(want, sizeof want, "%s", phone_hash(ref));
  ck_assert_int_eq(file_phone(&de, "0151 12340077", id, field), 202);
  ck_assert_str_eq(phone_hash(id), want);
  ck_assert_int_eq(file_phone(&de, "+1 415 555 0199", id, field), 202); /* others keep their + */
  ck_assert_str_ne(phone_hash(id), want);
  ck_assert_int_eq(h_dsrd_stop(&de, SIGTERM), 0);
}
END_TEST

/*
 * Status reads from many clients at once go out pipelined, several to a
 * batch on one database connection (db_async.c): every answer must still be
 * its own request's, and wrong tokens and unknown ids must stay 404 in the
 * middle of a batch of 200s.
 */
#define PAR_REQUESTS 12
/* 8 readers at once, 80 GETs each: each GET is a new connection, and one address may hold
 * 32 at a time (max_connections_per_address); 16 readers, their closed connections not yet
 * reaped by a busy dsrd, went over it in CI and had a connection dropped */
#define PAR_THREADS 8
#define PAR_GETS 80

struct par_req {
  char id[40];
  char auth[128];
};

struct par_reader {
  const struct par_req *reqs;
  int t;
  int ok, missing, failed;
  char first_failure[300];
};

static void par_fail(struct par_reader *rd, const char *what, int k, const struct h_resp *r)
{
  if (!rd->failed++)
    snprintf(rd->first_failure, sizeof rd->first_failure, "thread %d get %d (%s): %ld %.200s",
             rd->t, k, what, r->status, r->body ? r->body : "");
}

static void *par_read(void *arg)
{
  struct par_reader *rd = arg;
  for (int k = 0; k < PAR_GETS; k++) {
    const struct par_req *q = &rd->reqs[(rd->t * 7 + k) % PAR_REQUESTS];
    const struct par_req *other = &rd->reqs[(rd->t * 7 + k + 1) % PAR_REQUESTS];
    char path[80];
    const char *hdrs[] = {q->auth, NULL};
    int kind = (rd->t + k) % 5; /* 0-2: right token, 3: another's token, 4: unknown id */
    if (kind == 3)
      hdrs[0] = other->auth;
    if (kind == 4)
      snprintf(path, sizeof path, "/v1/requests/%08x-%04x-4000-8000-000000000000",
               (unsigned)rd->t, (unsigned)k);
    else
      snprintf(path, sizeof path, "/v1/requests/%s", q->id);
    struct h_resp r;
    h_http(&it_dsrd, "GET", path, hdrs, NULL, &r);
    json_t *j = json_loadb(r.body, r.len, 0, NULL);
    const char *id = json_string_value(json_object_get(j, "id"));
    const char *code = json_string_value(json_object_get(j, "code"));
    if (kind < 3 && (r.status != 200 || !id || strcmp(id, q->id) ||
                     strcmp(r.content_type, "application/json; charset=utf-8") ||
                     !json_string_value(json_object_get(j, "status"))))
      par_fail(rd, "right token", k, &r);
    else if (kind >= 3 && (r.status != 404 || !code || strcmp(code, "not_found") ||
                           strcmp(r.content_type, "application/problem+json") ||
                           strstr(r.body, q->id)))
      par_fail(rd, kind == 3 ? "another's token" : "unknown id", k, &r);
    else if (kind < 3)
      rd->ok++;
    else
      rd->missing++;
    json_decref(j);
    h_resp_free(&r);
  }
  return NULL;
}

START_TEST(status_reads_in_parallel_each_get_their_own_answer)
{
  struct par_req reqs[PAR_REQUESTS];
  for (int i = 0; i < PAR_REQUESTS; i++) {
    char body[160];
    snprintf(body, sizeof body,
             "{\"type\":\"%s\",\"subject\":{\"email\":\"parallel-%d@example.com\"}}",
             i % 2 ? "access" : "erasure", i);
    json_t *j = create(body, NULL);
    snprintf(reqs[i].id, sizeof reqs[i].id, "%s", jstr(j, "id"));
    snprintf(reqs[i].auth, sizeof reqs[i].auth, "Authorization: Bearer %s",
             jstr(j, "status_token"));
    json_decref(j);
  }
  pthread_t t[PAR_THREADS];
  struct par_reader rd[PAR_THREADS];
  for (int i = 0; i < PAR_THREADS; i++) {
    rd[i] = (struct par_reader){.reqs = reqs, .t = i};
    ck_assert_int_eq(pthread_create(&t[i], NULL, par_read, &rd[i]), 0);
  }
  int ok = 0, missing = 0;
  for (int i = 0; i < PAR_THREADS; i++) {
    pthread_join(t[i], NULL);
    ck_assert_msg(rd[i].failed == 0, "%d wrong answers; first: %s", rd[i].failed,
                  rd[i].first_failure);
    ok += rd[i].ok;
    missing += rd[i].missing;
  }
  ck_assert_int_eq(ok + missing, PAR_THREADS * PAR_GETS);
  ck_assert_int_eq(ok, PAR_THREADS * PAR_GETS * 3 / 5);
}
END_TEST

Suite *suite_intake(void)
{
  Suite *s = suite_create("intake");
  TCase *tc = tcase_create("public");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, health_and_readiness);
  tcase_add_test(tc, create_then_status);
  tcase_add_test(tc, wrong_token_and_unknown_id_look_the_same);
  tcase_add_test(tc, deadline_per_jurisdiction);
  tcase_add_test(tc, idempotent_retry_returns_first_answer);
  tcase_add_test(tc, concurrent_retries_create_one_request);
  tcase_add_test(tc, status_reads_in_parallel_each_get_their_own_answer);
  tcase_add_test(tc, no_raw_identity_or_token_in_database);
  tcase_add_test(tc, phone_numbers_in_any_written_form);
  suite_add_tcase(s, tc);
  return s;
}

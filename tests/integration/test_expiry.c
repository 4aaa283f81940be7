/**
 * @file test_expiry.c
 * @brief Time and limits: codes that expire, requests that expire through the
 *        expire_request job, and rate limits. A second dsrd runs with
 *        test_clock_offset (its clock in the future) against the same
 *        database, so nothing sleeps; rate limits use daemons of their own.
 */
#include "config.h"
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include "suites.h"
#include "verify_util.h"

/* Starts a dsrd on the shared database whose clock runs @p offset seconds ahead. */
static void start_future(struct h_dsrd *d, long offset, int workers)
{
  char url[512], off[64], w[32], key[400];
  snprintf(url, sizeof url, "--database-url=%s", it_pg.conninfo);
  snprintf(off, sizeof off, "--test-clock-offset=%ld", offset);
  snprintf(w, sizeof w, "--workers=%d", workers);
  /* the same master key as the shared daemon: hashes and sealed values must match */
  snprintf(key, sizeof key, "--secret-key-file=%s/secret.key", it_dsrd.state_dir);
  const char *args[] = {url, off, w, key, NULL};
  h_dsrd_start(d, NULL, args);
}

static void read_code(const char *email, const char *id, char code[7])
{
  char dir[400];
  snprintf(dir, sizeof dir, "%s/maildir", it_dsrd.state_dir);
  char *mail = vu_wait_mail(dir, email, id, 20);
  vu_code(mail, code);
  free(mail);
}

START_TEST(code_expires_after_its_ttl)
{
  char id[40], token[64], code[7];
  json_t *j = vu_create(&it_dsrd,
                        "{\"type\":\"access\",\"subject\":{\"email\":\"ttl.case@example.org\"}}",
                        id, token);
  read_code("ttl.case@example.org", id, code);
  struct h_dsrd later;
  start_future(&later, 11 * 60, 0); /* 11 minutes on: the 10-minute code is gone */
  char body[100];
  snprintf(body, sizeof body, "{\"channel\":\"email\",\"code\":\"%s\"}", code);
  struct h_resp r;
  ck_assert_int_eq(vu_verify(&later, id, body, &r), 410);
  ck_assert(strstr(r.body, "\"code_expired\"") != NULL);
  h_resp_free(&r);
  ck_assert_int_eq(h_dsrd_stop(&later, SIGTERM), 0);
  /* now (real clock) the same code still works */
  ck_assert_int_eq(vu_verify(&it_dsrd, id, body, &r), 200);
  h_resp_free(&r);
  json_decref(j);
}
END_TEST

START_TEST(unverified_request_expires_and_subject_is_told)
{
  char id[40], token[64], code[7];
  json_t *j = vu_create(&it_dsrd,
                        "{\"type\":\"erasure\",\"subject\":{\"email\":\"expire.case@example.org\"}}",
                        id, token);
  read_code("expire.case@example.org", id, code);
  char *st = vu_status(it_pg.conninfo, id);
  ck_assert_str_eq(st, "pending_verification");
  free(st);
  struct h_dsrd later;
  start_future(&later, 8 * 86400, 1); /* 8 days on: past the 7-day request expiry */
  char sql[300];
  snprintf(sql, sizeof sql,
           "SELECT count(*) FROM dsr_requests WHERE id = '%s' AND status = 'expired'", id);
  time_t until = time(NULL) + 30;
  while (h_sql_long(it_pg.conninfo, sql) == 0 && time(NULL) < until) {
    struct timespec ts = {0, 50000000L}; /* polling for the worker's result */
    nanosleep(&ts, NULL);
  }
  ck_assert_int_eq(h_sql_long(it_pg.conninfo, sql), 1);
  snprintf(sql, sizeof sql,
           "SELECT count(*) FROM dsr_events WHERE request_id = '%s' AND kind = 'request.expired'",
           id);
  ck_assert_int_eq(h_sql_long(it_pg.conninfo, sql), 1);
  snprintf(sql, sizeof sql,
           "SELECT count(*) FROM dsr_outbox WHERE request_id = '%s' AND template = 'notice'", id);
  ck_assert_int_eq(h_sql_long(it_pg.conninfo, sql), 1);
  char body[100];
  snprintf(body, sizeof body, "{\"channel\":\"email\",\"code\":\"%s\"}", code);
  struct h_resp r;
  ck_assert_int_eq(vu_verify(&it_dsrd, id, body, &r), 410);
  ck_assert(strstr(r.body, "\"request_expired\"") != NULL);
  h_resp_free(&r);
  ck_assert_int_eq(h_dsrd_stop(&later, SIGTERM), 0);
  json_decref(j);
}
END_TEST

START_TEST(rate_limits_answer_429_with_retry_after)
{
  char url[512];
  snprintf(url, sizeof url, "--database-url=%s", it_pg.conninfo);
  const char *args[] = {url, "--rate-intake-per-address=4", "--rate-intake-per-identity=2",
                        "--rate-verify-per-request=3", "--workers=0", NULL};
  struct h_dsrd d;
  h_dsrd_start(&d, NULL, args);
  const char *same = "{\"type\":\"access\",\"subject\":{\"email\":\"rate.limited@example.org\"}}";
  struct h_resp r;
  char id[40], token[64];
  json_decref(vu_create(&d, same, id, token));
  json_decref(vu_create(&d, same, id, token));
  h_http(&d, "POST", "/v1/requests", NULL, same, &r); /* third for the same identity */
  ck_assert_int_eq(r.status, 429);
  ck_assert(strstr(r.body, "\"rate_limited\"") != NULL);
  ck_assert(strstr(r.headers, "Retry-After: ") != NULL);
  h_resp_free(&r);
  json_decref(vu_create(&d, "{\"type\":\"access\",\"subject\":{\"email\":\"other@example.org\"}}",
                        id, token));
  h_http(&d, "POST", "/v1/requests", NULL,
         "{\"type\":\"access\",\"subject\":{\"email\":\"third@example.org\"}}", &r);
  ck_assert_int_eq(r.status, 429); /* fifth from this address */
  ck_assert(strstr(r.headers, "Retry-After: ") != NULL);
  h_resp_free(&r);
  /* verification: per request */
  for (int i = 0; i < 3; i++) {
    ck_assert_int_eq(vu_verify(&d, id, "{\"channel\":\"email\",\"code\":\"000000\"}", &r) == 422 ||
                         r.status == 200,
                     1);
    h_resp_free(&r);
  }
  ck_assert_int_eq(vu_verify(&d, id, "{\"channel\":\"email\",\"code\":\"000000\"}", &r), 429);
  ck_assert(strstr(r.body, "\"rate_limited\"") != NULL);
  ck_assert(strstr(r.headers, "Retry-After: ") != NULL);
  h_resp_free(&r);
  ck_assert_int_eq(h_dsrd_stop(&d, SIGTERM), 0);
}
END_TEST

Suite *suite_expiry(void)
{
  Suite *s = suite_create("expiry");
  TCase *tc = tcase_create("clock");
  tcase_set_timeout(tc, 90);
  tcase_add_test(tc, code_expires_after_its_ttl);
  tcase_add_test(tc, unverified_request_expires_and_subject_is_told);
  tcase_add_test(tc, rate_limits_answer_429_with_retry_after);
  suite_add_tcase(s, tc);
  return s;
}

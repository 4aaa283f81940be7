/**
 * @file test_verify.c
 * @brief Verification against a real dsrd and PostgreSQL: codes by email and
 *        SMS (maildir transport), wrong codes, lockout, reuse, codes of other
 *        requests, links, account assertions, resend cool-down, withdraw,
 *        duplicates, expiry (daemons with a shifted clock), rate limits, no
 *        enumeration, and no raw secrets in a pg_dump.
 */
#include "config.h"
#include <ctype.h>
#include <sodium.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include "suites.h"
#include "verify_util.h"
#include "dsr/crypto.h"
#include "dsr/verify.h"

#define ASSERTION_KEY "test-assertion-key-0123456789abcdef"

static char maildir[400];

static void setup(void)
{
  snprintf(maildir, sizeof maildir, "%s/maildir", it_dsrd.state_dir);
}

/* A unique email per call, so tests never read each other's mail. */
static void unique_email(char *out, size_t n, const char *tag)
{
  unsigned char r[6];
  randombytes_buf(r, sizeof r);
  char hex[13];
  sodium_bin2hex(hex, sizeof hex, r, sizeof r);
  snprintf(out, n, "%s.%s@example.org", tag, hex);
}

static void unique_phone(char *out, size_t n)
{
  snprintf(out, n, "+4915%09u", (unsigned)randombytes_uniform(1000000000));
}

/* Creates a request for @p email (and @p phone) and returns the email code. */
static json_t *create_and_read(const char *type, const char *email, const char *phone,
                               char id[40], char token[64], char code[7])
{
  char body[600];
  snprintf(body, sizeof body, "{\"type\":\"%s\",\"subject\":{\"email\":\"%s\"%s%s%s}}", type,
           email, phone ? ",\"phone\":\"" : "", phone ? phone : "", phone ? "\"" : "");
  json_t *j = vu_create(&it_dsrd, body, id, token);
  char *mail = vu_wait_mail(maildir, email, id, 20);
  vu_code(mail, code);
  free(mail);
  return j;
}

/* A 6-digit code that differs from @p code in its last digit. */
static void wrong_code_of(const char *code, char out[7])
{
  memcpy(out, code, 6);
  out[5] = (char)('0' + (code[5] - '0' + 1) % 10);
  out[6] = '\0';
}

START_TEST(email_code_wrong_then_right_then_reused)
{
  char email[100], id[40], token[64], code[7], wrong[7];
  unique_email(email, sizeof email, "flow");
  json_t *j = create_and_read("erasure", email, NULL, id, token, code);
  json_t *chs = json_object_get(json_object_get(j, "verification"), "channels");
  ck_assert_str_eq(json_string_value(json_array_get(chs, 0)), "email");
  wrong_code_of(code, wrong);
  struct h_resp r;
  char body[100];
  snprintf(body, sizeof body, "{\"channel\":\"email\",\"code\":\"%s\"}", wrong);
  ck_assert_int_eq(vu_verify(&it_dsrd, id, body, &r), 422);
  ck_assert(strstr(r.body, "\"attempts_left\":4") != NULL);
  ck_assert(strstr(r.body, "\"verification_failed\"") != NULL);
  h_resp_free(&r);
  snprintf(body, sizeof body, "{\"channel\":\"email\",\"code\":\"%s\"}", code);
  ck_assert_int_eq(vu_verify(&it_dsrd, id, body, &r), 200);
  ck_assert(strstr(r.body, "\"status\":\"verified\"") != NULL);
  h_resp_free(&r);
  char path[100], auth[128];
  snprintf(path, sizeof path, "/v1/requests/%s", id);
  snprintf(auth, sizeof auth, "Authorization: Bearer %s", token);
  h_http(&it_dsrd, "GET", path, (const char *const[]){auth, NULL}, NULL, &r);
  ck_assert(strstr(r.body, "\"status\":\"verified\"") != NULL);
  h_resp_free(&r);
  /* a used code never works again */
  ck_assert_int_eq(vu_verify(&it_dsrd, id, body, &r), 410);
  ck_assert(strstr(r.body, "\"code_used\"") != NULL);
  h_resp_free(&r);
  char sql[300];
  snprintf(sql, sizeof sql,
           "SELECT count(*) FROM dsr_events WHERE request_id = '%s' AND kind IN "
           "('verification.failed', 'verification.succeeded', 'request.verified')",
           id);
  ck_assert_int_eq(h_sql_long(it_pg.conninfo, sql), 3);
  json_decref(j);
}
END_TEST

START_TEST(sms_code_verifies_too)
{
  char email[100], phone[20], id[40], token[64], code[7];
  unique_email(email, sizeof email, "sms");
  unique_phone(phone, sizeof phone);
  json_t *j = create_and_read("objection", email, phone, id, token, code);
  char *sms = vu_wait_mail(maildir, phone, NULL, 20);
  char smscode[7];
  vu_code(sms, smscode);
  ck_assert(strstr(sms, "privacy request code") != NULL);
  free(sms);
  struct h_resp r;
  char body[100];
  /* the email code is not the SMS code */
  if (strcmp(code, smscode) != 0) {
    snprintf(body, sizeof body, "{\"channel\":\"sms\",\"code\":\"%s\"}", code);
    ck_assert_int_eq(vu_verify(&it_dsrd, id, body, &r), 422);
    h_resp_free(&r);
  }
  snprintf(body, sizeof body, "{\"channel\":\"sms\",\"code\":\"%s\"}", smscode);
  ck_assert_int_eq(vu_verify(&it_dsrd, id, body, &r), 200);
  ck_assert(strstr(r.body, "\"verified_channels\":[\"sms\"]") != NULL);
  h_resp_free(&r);
  json_decref(j);
}
END_TEST

START_TEST(code_of_another_request_is_wrong)
{
  char e1[100], e2[100], id1[40], id2[40], t1[64], t2[64], c1[7], c2[7];
  unique_email(e1, sizeof e1, "a");
  unique_email(e2, sizeof e2, "b");
  json_t *a = create_and_read("access", e1, NULL, id1, t1, c1);
  json_t *b = create_and_read("access", e2, NULL, id2, t2, c2);
  struct h_resp r;
  char body[100];
  snprintf(body, sizeof body, "{\"channel\":\"email\",\"code\":\"%s\"}", c2);
  if (strcmp(c1, c2) != 0) {
    ck_assert_int_eq(vu_verify(&it_dsrd, id1, body, &r), 422);
    h_resp_free(&r);
  }
  ck_assert_int_eq(vu_verify(&it_dsrd, id2, body, &r), 200);
  h_resp_free(&r);
  json_decref(a);
  json_decref(b);
}
END_TEST

START_TEST(five_wrong_codes_lock_the_channel)
{
  char email[100], id[40], token[64], code[7], wrong[7];
  unique_email(email, sizeof email, "lock");
  json_t *j = create_and_read("erasure", email, NULL, id, token, code);
  wrong_code_of(code, wrong);
  char body[100];
  snprintf(body, sizeof body, "{\"channel\":\"email\",\"code\":\"%s\"}", wrong);
  struct h_resp r;
  for (int i = 1; i <= 4; i++) {
    ck_assert_int_eq(vu_verify(&it_dsrd, id, body, &r), 422);
    char want[40];
    snprintf(want, sizeof want, "\"attempts_left\":%d", 5 - i);
    ck_assert_msg(strstr(r.body, want) != NULL, "%s", r.body);
    h_resp_free(&r);
  }
  ck_assert_int_eq(vu_verify(&it_dsrd, id, body, &r), 429);
  ck_assert(strstr(r.body, "\"verification_locked\"") != NULL);
  h_resp_free(&r);
  snprintf(body, sizeof body, "{\"channel\":\"email\",\"code\":\"%s\"}", code);
  ck_assert_int_eq(vu_verify(&it_dsrd, id, body, &r), 429); /* even the right code now */
  h_resp_free(&r);
  char *st = vu_status(it_pg.conninfo, id);
  ck_assert_str_eq(st, "pending_verification");
  free(st);
  json_decref(j);
}
END_TEST

START_TEST(one_click_link_token_verifies)
{
  char email[100], id[40], token[64];
  unique_email(email, sizeof email, "link");
  char body[300];
  snprintf(body, sizeof body, "{\"type\":\"access\",\"subject\":{\"email\":\"%s\"}}", email);
  json_t *j = vu_create(&it_dsrd, body, id, token);
  char *mail = vu_wait_mail(maildir, email, id, 20);
  char link[100];
  vu_link_token(mail, link, sizeof link);
  ck_assert_uint_ge(strlen(link), 43); /* 256 bits */
  ck_assert(strstr(mail, "/requests/") != NULL);
  free(mail);
  struct h_resp r;
  snprintf(body, sizeof body, "{\"token\":\"%sX\"}", link);
  ck_assert_int_eq(vu_verify(&it_dsrd, id, body, &r), 422);
  h_resp_free(&r);
  snprintf(body, sizeof body, "{\"token\":\"%s\"}", link);
  ck_assert_int_eq(vu_verify(&it_dsrd, id, body, &r), 200);
  ck_assert(strstr(r.body, "\"verified\"") != NULL);
  h_resp_free(&r);
  json_decref(j);
}
END_TEST

START_TEST(account_assertion_verifies)
{
  char id[40], token[64];
  json_t *j = vu_create(&it_dsrd,
                        "{\"type\":\"access\",\"subject\":{\"account_id\":\"acct-4711\"}}", id,
                        token);
  const unsigned char *key = (const unsigned char *)ASSERTION_KEY;
  size_t kl = strlen(ASSERTION_KEY);
  char *other = dsr_assertion_make(key, kl, "acct-9999", id, time(NULL));
  char *stale = dsr_assertion_make(key, kl, "acct-4711", id, time(NULL) - 3600);
  char *elsewhere = dsr_assertion_make(key, kl, "acct-4711",
                                       "00000000-0000-4000-8000-000000000000", time(NULL));
  char *forged = dsr_assertion_make((const unsigned char *)"another-key-of-enough-length", 28,
                                    "acct-4711", id, time(NULL));
  char *good = dsr_assertion_make(key, kl, "acct-4711", id, time(NULL));
  const char *bad[] = {other, stale, elsewhere, forged};
  struct h_resp r;
  char body[1200];
  for (size_t i = 0; i < 4; i++) {
    snprintf(body, sizeof body, "{\"token\":\"%s\"}", bad[i]);
    ck_assert_int_eq(vu_verify(&it_dsrd, id, body, &r), 422);
    h_resp_free(&r);
  }
  snprintf(body, sizeof body, "{\"token\":\"%s\"}", good);
  ck_assert_int_eq(vu_verify(&it_dsrd, id, body, &r), 200);
  ck_assert(strstr(r.body, "\"account\"") != NULL);
  h_resp_free(&r);
  free(other);
  free(stale);
  free(elsewhere);
  free(forged);
  free(good);
  json_decref(j);
}
END_TEST

START_TEST(resend_has_a_cooldown)
{
  char email[100], id[40], token[64], code[7];
  unique_email(email, sizeof email, "resend");
  json_t *j = create_and_read("access", email, NULL, id, token, code);
  char path[100], auth[128];
  snprintf(path, sizeof path, "/v1/requests/%s/resend", id);
  snprintf(auth, sizeof auth, "Authorization: Bearer %s", token);
  struct h_resp r;
  h_http(&it_dsrd, "POST", path,
         (const char *const[]){auth, "Content-Type: application/json", NULL},
         "{\"channel\":\"email\"}", &r);
  ck_assert_int_eq(r.status, 429);
  ck_assert(strstr(r.body, "\"resend_too_soon\"") != NULL);
  ck_assert(strstr(r.headers, "Retry-After: ") != NULL);
  h_resp_free(&r);
  /* without the status token the request does not exist */
  h_http(&it_dsrd, "POST", path,
         (const char *const[]){"Authorization: Bearer AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
                               "Content-Type: application/json", NULL},
         "{\"channel\":\"email\"}", &r);
  ck_assert_int_eq(r.status, 404);
  h_resp_free(&r);
  json_decref(j);
}
END_TEST

START_TEST(withdraw_with_the_status_token)
{
  char email[100], id[40], token[64], code[7];
  unique_email(email, sizeof email, "withdraw");
  json_t *j = create_and_read("erasure", email, NULL, id, token, code);
  char path[100], auth[128];
  snprintf(path, sizeof path, "/v1/requests/%s/withdraw", id);
  snprintf(auth, sizeof auth, "Authorization: Bearer %s", token);
  struct h_resp r;
  h_http(&it_dsrd, "POST", path,
         (const char *const[]){"Authorization: Bearer AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
                               NULL},
         NULL, &r);
  ck_assert_int_eq(r.status, 404);
  h_resp_free(&r);
  h_http(&it_dsrd, "POST", path, (const char *const[]){auth, NULL}, NULL, &r);
  ck_assert_int_eq(r.status, 200);
  ck_assert(strstr(r.body, "\"withdrawn\"") != NULL);
  h_resp_free(&r);
  h_http(&it_dsrd, "POST", path, (const char *const[]){auth, NULL}, NULL, &r);
  ck_assert_int_eq(r.status, 409);
  h_resp_free(&r);
  char body[100];
  snprintf(body, sizeof body, "{\"channel\":\"email\",\"code\":\"%s\"}", code);
  ck_assert_int_eq(vu_verify(&it_dsrd, id, body, &r), 409);
  ck_assert(strstr(r.body, "\"request_closed\"") != NULL);
  h_resp_free(&r);
  json_decref(j);
}
END_TEST

START_TEST(duplicate_is_linked_and_not_run_twice)
{
  char email[100], id1[40], id2[40], t1[64], t2[64], c1[7], c2[7];
  unique_email(email, sizeof email, "dup");
  json_t *a = create_and_read("erasure", email, NULL, id1, t1, c1);
  struct h_resp r;
  char body[100];
  snprintf(body, sizeof body, "{\"channel\":\"email\",\"code\":\"%s\"}", c1);
  ck_assert_int_eq(vu_verify(&it_dsrd, id1, body, &r), 200);
  h_resp_free(&r);
  json_t *b = create_and_read("erasure", email, NULL, id2, t2, c2);
  ck_assert_str_eq(json_string_value(json_object_get(b, "status")), "pending_verification");
  snprintf(body, sizeof body, "{\"channel\":\"email\",\"code\":\"%s\"}", c2);
  ck_assert_int_eq(vu_verify(&it_dsrd, id2, body, &r), 200);
  ck_assert(strstr(r.body, "\"status\":\"denied\"") != NULL);
  h_resp_free(&r);
  char path[100], auth[128];
  snprintf(path, sizeof path, "/v1/requests/%s", id2);
  snprintf(auth, sizeof auth, "Authorization: Bearer %s", t2);
  h_http(&it_dsrd, "GET", path, (const char *const[]){auth, NULL}, NULL, &r);
  json_t *s = h_resp_json(&r);
  ck_assert_str_eq(json_string_value(json_object_get(s, "duplicate_of")), id1);
  ck_assert_str_eq(json_string_value(json_object_get(s, "close_reason")), "duplicate");
  json_decref(s);
  h_resp_free(&r);
  /* the subject is told, by mail */
  char *notice = vu_wait_mail(maildir, email, "will not be carried out a second time", 20);
  ck_assert(strstr(notice, id1) != NULL);
  free(notice);
  /* another type is not a duplicate */
  char id3[40], t3[64], c3[7];
  json_t *c = create_and_read("access", email, NULL, id3, t3, c3);
  snprintf(body, sizeof body, "{\"channel\":\"email\",\"code\":\"%s\"}", c3);
  ck_assert_int_eq(vu_verify(&it_dsrd, id3, body, &r), 200);
  ck_assert(strstr(r.body, "\"status\":\"verified\"") != NULL);
  h_resp_free(&r);
  json_decref(a);
  json_decref(b);
  json_decref(c);
}
END_TEST

START_TEST(idempotent_retry_sends_one_code)
{
  char email[100], body[300], key[140];
  unique_email(email, sizeof email, "idem");
  snprintf(body, sizeof body, "{\"type\":\"access\",\"subject\":{\"email\":\"%s\"}}", email);
  snprintf(key, sizeof key, "Idempotency-Key: %s", email);
  const char *hdrs[] = {"Content-Type: application/json", key, NULL};
  struct h_resp r1, r2;
  h_http(&it_dsrd, "POST", "/v1/requests", hdrs, body, &r1);
  h_http(&it_dsrd, "POST", "/v1/requests", hdrs, body, &r2);
  ck_assert_int_eq(r1.status, 202);
  ck_assert_str_eq(r1.body, r2.body);
  json_t *j = h_resp_json(&r1);
  char sql[200];
  snprintf(sql, sizeof sql, "SELECT count(*) FROM dsr_outbox WHERE request_id = '%s'",
           json_string_value(json_object_get(j, "id")));
  ck_assert_int_eq(h_sql_long(it_pg.conninfo, sql), 1);
  json_decref(j);
  h_resp_free(&r1);
  h_resp_free(&r2);
}
END_TEST

/* The keys of a JSON object, sorted, as one string. */
static void keys_of(const json_t *o, char *out, size_t n)
{
  json_t *copy = json_deep_copy(o);
  const char *k;
  json_t *v;
  json_object_foreach(copy, k, v) json_object_set_new(copy, k, json_null());
  char *s = json_dumps(copy, JSON_SORT_KEYS | JSON_COMPACT);
  snprintf(out, n, "%s", s);
  free(s);
  json_decref(copy);
}

static double ms_now(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000.0 + ts.tv_nsec / 1e6;
}

START_TEST(intake_answers_the_same_for_any_identity)
{
  /*
   * Intake never reads platform data: the answer for an identity the platform
   * knows and one it cannot know have the same shape, status, headers and
   * (within noise) time. The request store itself is the only thing touched.
   */
  const char *known = "known.customer@callorbit.example";
  double total[2] = {0, 0};
  char shape[2][600] = {"", ""};
  for (int round = 0; round < 6; round++) {
    for (int w = 0; w < 2; w++) {
      char body[300], unknown[80];
      snprintf(unknown, sizeof unknown, "nobody.%u@nowhere.example", (unsigned)randombytes_random());
      snprintf(body, sizeof body, "{\"type\":\"access\",\"subject\":{\"email\":\"%s\"}}",
               w == 0 ? known : unknown);
      struct h_resp r;
      double t0 = ms_now();
      h_http(&it_dsrd, "POST", "/v1/requests", NULL, body, &r);
      total[w] += ms_now() - t0;
      ck_assert_int_eq(r.status, 202);
      ck_assert_str_eq(r.content_type, "application/json; charset=utf-8");
      json_t *j = h_resp_json(&r);
      char k[600];
      keys_of(j, k, sizeof k);
      if (!shape[w][0])
        snprintf(shape[w], sizeof shape[w], "%s", k);
      ck_assert_str_eq(k, shape[w]);
      ck_assert_str_eq(json_string_value(json_object_get(j, "status")), "pending_verification");
      json_decref(j);
      h_resp_free(&r);
    }
  }
  ck_assert_str_eq(shape[0], shape[1]);
  double a = total[0] / 6, b = total[1] / 6;
  ck_assert_msg(a < b * 3 + 20 && b < a * 3 + 20, "mean times differ: %.1f vs %.1f ms", a, b);
}
END_TEST

/* True when @p needle occurs in @p hay as a whole token (not inside a longer run of [0-9a-zA-Z]). */
static bool occurs_alone(const char *hay, const char *needle)
{
  size_t n = strlen(needle);
  for (const char *p = hay; (p = strstr(p, needle)); p++) {
    bool left = p == hay || !isalnum((unsigned char)p[-1]);
    bool right = !isalnum((unsigned char)p[n]);
    if (left && right)
      return true;
  }
  return false;
}

START_TEST(no_raw_code_link_or_token_in_dump)
{
  char email[100], phone[20], id[40], token[64], body[300];
  unique_email(email, sizeof email, "dump");
  unique_phone(phone, sizeof phone);
  snprintf(body, sizeof body, "{\"type\":\"erasure\",\"subject\":{\"email\":\"%s\",\"phone\":\"%s\"}}",
           email, phone);
  json_t *j = vu_create(&it_dsrd, body, id, token);
  char *mail = vu_wait_mail(maildir, email, id, 20);
  char *sms = vu_wait_mail(maildir, phone, NULL, 20);
  char code[7], smscode[7], link[100];
  vu_code(mail, code);
  vu_code(sms, smscode);
  vu_link_token(mail, link, sizeof link);
  /* one code is used, so both a pending and a used code are in the database */
  struct h_resp r;
  snprintf(body, sizeof body, "{\"channel\":\"sms\",\"code\":\"%s\"}", smscode);
  ck_assert_int_eq(vu_verify(&it_dsrd, id, body, &r), 200);
  h_resp_free(&r);
  char dump[300], cmd[1200];
  snprintf(dump, sizeof dump, "%s/verify-dump.sql", it_pg.dir);
  snprintf(cmd, sizeof cmd, "%s/pg_dump -d \"%s\" -f %s", getenv("DSR_PG_BINDIR"),
           it_pg.conninfo, dump);
  ck_assert_int_eq(system(cmd), 0);
  char *text = h_slurp(dump, NULL);
  ck_assert(strstr(text, "dsr_verifications") != NULL);
  ck_assert(strstr(text, "dsr_outbox") != NULL);
  ck_assert_msg(strstr(text, token) == NULL, "status token in pg_dump");
  ck_assert_msg(strstr(text, link) == NULL, "link token in pg_dump");
  ck_assert_msg(!occurs_alone(text, code), "email code %s in pg_dump", code);
  ck_assert_msg(!occurs_alone(text, smscode), "SMS code %s in pg_dump", smscode);
  ck_assert_msg(strstr(text, email) == NULL, "email address in pg_dump");
  ck_assert_msg(strstr(text, phone + 1) == NULL, "phone number in pg_dump");
  /* sent messages keep no body at all */
  char sql[200];
  snprintf(sql, sizeof sql,
           "SELECT count(*) FROM dsr_outbox WHERE request_id = '%s' AND status = 'sent' "
           "AND body_sealed IS NULL", id);
  ck_assert_int_eq(h_sql_long(it_pg.conninfo, sql), 2);
  free(text);
  free(mail);
  free(sms);
  remove(dump);
  json_decref(j);
}
END_TEST

START_TEST(manual_verification_by_staff_is_audited)
{
  char id[40], token[64];
  json_decref(vu_create(&it_dsrd, "{\"type\":\"erasure\",\"subject\":{\"phone\":\"+4930555123\"}}",
                        id, token));
  char err[256];
  PGconn *c = dsr_db_connect(it_pg.conninfo, err, sizeof err);
  ck_assert_msg(c != NULL, "%s", err);
  struct dsr_db *db = dsr_db_wrap(c);
  struct dsr_verify_env env = {.link_base = "http://127.0.0.1"};
  struct dsr_verify_outcome o;
  static const unsigned char key[32] = {7}; /* this process seals the note */
  dsr_crypto_init_with_key(key);
  dsr_verify_manual(db, &env, id, "staff:42", NULL, &o); /* a note is required */
  ck_assert_int_eq(o.ec, DSR_E_UNPROCESSABLE);
  dsr_verify_manual(db, &env, id, "staff:42", "identity document checked", &o);
  ck_assert_int_eq(o.ec, DSR_OK);
  ck_assert_str_eq(o.status, "verified");
  ck_assert_uint_eq(o.verified & DSR_CH_MANUAL, DSR_CH_MANUAL);
  dsr_verify_manual(db, &env, id, "staff:42", "again", &o); /* once only */
  ck_assert_int_eq(o.ec, DSR_E_CONFLICT);
  dsr_verify_manual(db, &env, "00000000-0000-4000-8000-000000000000", "staff:42", "x", &o);
  ck_assert_int_eq(o.ec, DSR_E_NOT_FOUND);
  dsr_db_unwrap(db);
  PQfinish(c);
  char sql[300];
  /* The note is kept, sealed, with the request; the report counts the channel as manual. */
  snprintf(sql, sizeof sql,
           "SELECT count(*) FROM dsr_requests WHERE id = '%s' AND manual_note_sealed IS NOT NULL"
           " AND position('identity document' IN encode(manual_note_sealed, 'escape')) = 0", id);
  ck_assert_int_eq(h_sql_long(it_pg.conninfo, sql), 1);
  snprintf(sql, sizeof sql,
           "SELECT count(*) FROM dsr_events WHERE request_id = '%s' AND kind ="
           " 'verification.succeeded' AND data->>'channel' = 'manual'", id);
  ck_assert_int_eq(h_sql_long(it_pg.conninfo, sql), 1);
  snprintf(sql, sizeof sql,
           "SELECT count(*) FROM dsr_events WHERE request_id = '%s' AND kind = "
           "'verification.manual' AND actor = 'staff:42' AND data->>'has_note' = 'true'", id);
  ck_assert_int_eq(h_sql_long(it_pg.conninfo, sql), 1);
  /* The note itself (it may describe the person) never reaches the append-only events. */
  snprintf(sql, sizeof sql,
           "SELECT count(*) FROM dsr_events WHERE data::text LIKE '%%identity document%%'");
  ck_assert_int_eq(h_sql_long(it_pg.conninfo, sql), 0);
  /*
   * Verified and not a duplicate: discovery was queued in the same transaction.
   * The shared daemon has no policy, so its workers leave the job dead, not gone.
   */
  snprintf(sql, sizeof sql,
           "SELECT count(*) FROM dsr_jobs WHERE kind = 'discovery' AND payload->>'request_id' = '%s'",
           id);
  ck_assert_int_eq(h_sql_long(it_pg.conninfo, sql), 1);
  char *st = vu_status(it_pg.conninfo, id);
  ck_assert_str_eq(st, "verified");
  free(st);
}
END_TEST

START_TEST(message_language_follows_the_request)
{
  char email[100], id[40], token[64], body[300];
  unique_email(email, sizeof email, "sprache");
  snprintf(body, sizeof body,
           "{\"type\":\"access\",\"language\":\"de-AT\",\"subject\":{\"email\":\"%s\"}}", email);
  json_decref(vu_create(&it_dsrd, body, id, token));
  char *mail = vu_wait_mail(maildir, email, id, 20);
  ck_assert(strstr(mail, "Guten Tag") != NULL);
  free(mail);
}
END_TEST

/* A dsrd with a policy: its own jurisdictions and a rule that needs email and SMS for access. */
START_TEST(policy_rules_and_jurisdictions_apply)
{
  char dir[256], path[300];
  h_tmpdir(dir, sizeof dir, "policy");
  snprintf(path, sizeof path, "%s/policy.json", dir);
  FILE *f = fopen(path, "w");
  fputs("{\"organization\":{\"name\":\"CallOrbit Ltd\"},\"default_jurisdiction\":\"quebec\","
        "\"jurisdictions\":{\"quebec\":{\"name\":\"Quebec Law 25\",\"deadline\":\"30 days\","
        "\"rights\":[\"access\",\"erasure\"]}},"
        "\"verification\":{\"rules\":[{\"types\":[\"access\"],\"jurisdictions\":[\"*\"],"
        "\"require\":[[\"email\",\"sms\"]]}]}}", f);
  fclose(f);
  char url[512], pol[400], key[400];
  snprintf(url, sizeof url, "--database-url=%s", it_pg.conninfo);
  snprintf(pol, sizeof pol, "--policy-file=%s", path);
  snprintf(key, sizeof key, "--secret-key-file=%s/secret.key", it_dsrd.state_dir);
  const char *args[] = {url, pol, key, "--workers=0", NULL};
  struct h_dsrd d;
  h_dsrd_start(&d, NULL, args); /* no workers: the shared daemon's send its mail */
  struct h_resp r;
  h_http(&d, "POST", "/v1/requests", NULL,
         "{\"type\":\"opt_out\",\"subject\":{\"email\":\"q1@example.org\"}}", &r);
  ck_assert_int_eq(r.status, 422);
  ck_assert(strstr(r.body, "\"right_not_offered\"") != NULL);
  h_resp_free(&r);
  h_http(&d, "POST", "/v1/requests", NULL,
         "{\"type\":\"access\",\"jurisdiction\":\"gdpr\",\"subject\":{\"email\":\"q1@example.org\"}}",
         &r);
  ck_assert_int_eq(r.status, 400); /* gdpr is not in this deployment's table */
  h_resp_free(&r);
  h_http(&d, "POST", "/v1/requests", NULL,
         "{\"type\":\"access\",\"subject\":{\"email\":\"q1@example.org\"}}", &r);
  ck_assert_int_eq(r.status, 422);
  ck_assert(strstr(r.body, "\"channel_unavailable\"") != NULL);
  h_resp_free(&r);
  char email[100], phone[20], id[40], token[64], body[300];
  unique_email(email, sizeof email, "quebec");
  unique_phone(phone, sizeof phone);
  snprintf(body, sizeof body,
           "{\"type\":\"access\",\"subject\":{\"email\":\"%s\",\"phone\":\"%s\"}}", email, phone);
  json_t *j = vu_create(&d, body, id, token);
  struct tm a = {0}, b = {0};
  strptime(json_string_value(json_object_get(j, "received_at")), "%Y-%m-%dT%H:%M:%SZ", &a);
  strptime(json_string_value(json_object_get(j, "due_at")), "%Y-%m-%dT%H:%M:%SZ", &b);
  ck_assert_int_eq((long)(timegm(&b) - timegm(&a)), 30 * 86400L);
  char *mail = vu_wait_mail(maildir, email, id, 20);
  ck_assert(strstr(mail, "CallOrbit Ltd") != NULL);
  char code[7], smscode[7];
  vu_code(mail, code);
  free(mail);
  char *sms = vu_wait_mail(maildir, phone, NULL, 20);
  vu_code(sms, smscode);
  free(sms);
  snprintf(body, sizeof body, "{\"channel\":\"email\",\"code\":\"%s\"}", code);
  ck_assert_int_eq(vu_verify(&d, id, body, &r), 200);
  ck_assert(strstr(r.body, "\"status\":\"pending_verification\"") != NULL); /* SMS still needed */
  h_resp_free(&r);
  snprintf(body, sizeof body, "{\"channel\":\"sms\",\"code\":\"%s\"}", smscode);
  ck_assert_int_eq(vu_verify(&d, id, body, &r), 200);
  ck_assert(strstr(r.body, "\"status\":\"verified\"") != NULL);
  h_resp_free(&r);
  ck_assert_int_eq(h_dsrd_stop(&d, SIGTERM), 0);
  json_decref(j);
}
END_TEST

Suite *suite_verify(void)
{
  Suite *s = suite_create("verify");
  TCase *tc = tcase_create("codes");
  tcase_add_checked_fixture(tc, setup, NULL);
  tcase_set_timeout(tc, 90);
  tcase_add_test(tc, email_code_wrong_then_right_then_reused);
  tcase_add_test(tc, sms_code_verifies_too);
  tcase_add_test(tc, code_of_another_request_is_wrong);
  tcase_add_test(tc, five_wrong_codes_lock_the_channel);
  tcase_add_test(tc, one_click_link_token_verifies);
  tcase_add_test(tc, account_assertion_verifies);
  tcase_add_test(tc, resend_has_a_cooldown);
  tcase_add_test(tc, withdraw_with_the_status_token);
  tcase_add_test(tc, duplicate_is_linked_and_not_run_twice);
  tcase_add_test(tc, idempotent_retry_sends_one_code);
  tcase_add_test(tc, intake_answers_the_same_for_any_identity);
  tcase_add_test(tc, no_raw_code_link_or_token_in_dump);
  tcase_add_test(tc, manual_verification_by_staff_is_audited);
  tcase_add_test(tc, message_language_follows_the_request);
  tcase_add_test(tc, policy_rules_and_jurisdictions_apply);
  suite_add_tcase(s, tc);
  return s;
}

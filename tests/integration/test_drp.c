/**
 * @file test_drp.c
 * @brief Authorized agents (issue 18): an agent written here, with its own
 *        Ed25519 keys (libsodium), drives a real dsrd through the Data Rights
 *        Protocol 1.0 — key setup, every action, status, revoke, and every
 *        malformed or mis-signed call — and the OSIRAA reference
 *        implementation's public development keypair works as a directory
 *        entry. Status mapping is checked against request states set in the
 *        database (this dsrd runs no workers).
 */
#include "config.h"
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include "suites.h"
#include "webhook_receiver.h"
#include "dsr/closing.h"
#include "dsr/crypto.h"
#include "dsr/db.h"
#include "dsr/drp.h"
#include "dsr/pgembed.h"
#include "dsr/routing_sweep.h"
#include "dsr/webhook.h"
#include "routing_jobs.h"
#include "worker.h"

#define BUSINESS "DSRD_TEST_CB_001"
#define AGENT "TEST_AGENT_001"
#define OTHER "TEST_AGENT_002"
/* OSIRAA's public development keypair (drp_aa_mvp/drp_aa_mvp/settings.py): test data only. */
#define OSIRAA_ID "CR_AA_DRP_ID_001_LOCAL"
#define OSIRAA_SEED_B64 "098LMB1ayJW1N45oQ4J22ddU96gXr3/x5hEmKnPFpP0="
#define OSIRAA_VERIFY_B64 "jkX15E7+NA/0E7K5YAp7+GndMP6/Fa0dJJYyr1GJPoQ="

struct agent {
  const char *id;
  unsigned char pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];
  char token[128];
};

static struct h_dsrd dd;
static char *dconninfo; /* this suite's own database: no other daemon's workers touch its outbox */
static char keyfile[400];
static struct agent me = {.id = AGENT}, other = {.id = OTHER}, osiraa = {.id = OSIRAA_ID};
/* Generated per run and never in the directory: its signatures must never count. */
static struct agent stranger = {.id = AGENT};

static void osiraa_keys(struct agent *a)
{
  unsigned char seed[crypto_sign_SEEDBYTES];
  size_t n = 0;
  H_REQUIRE1(sodium_base642bin(seed, sizeof seed, OSIRAA_SEED_B64, strlen(OSIRAA_SEED_B64), NULL,
                               &n, NULL, sodium_base64_VARIANT_ORIGINAL) == 0 &&
             n == sizeof seed);
  crypto_sign_seed_keypair(a->pk, a->sk, seed);
}

static void suite_setup(void)
{
  H_REQUIRE1(sodium_init() >= 0);
  crypto_sign_keypair(me.pk, me.sk);
  crypto_sign_keypair(other.pk, other.sk);
  crypto_sign_keypair(stranger.pk, stranger.sk);
  osiraa_keys(&osiraa);
  char dir[256], policy[400], agents[400];
  h_tmpdir(dir, sizeof dir, "drp");
  snprintf(policy, sizeof policy, "%s/policy.json", dir);
  snprintf(agents, sizeof agents, "%s/agents.json", dir);
  FILE *f = fopen(policy, "w");
  H_REQUIRE1(f != NULL);
  fputs("{\"organization\":{\"name\":\"CallOrbit Ltd\",\"url\":\"https://callorbit.example\"},"
        "\"default_jurisdiction\":\"ccpa\",\"jurisdictions\":{\"ccpa\":{\"name\":\"CCPA\","
        "\"deadline\":\"45 days\",\"extension\":\"45 days\",\"rights\":[\"access\",\"erasure\",\"opt_out\"]}},"
        "\"verification\":{\"rules\":[{\"types\":[\"*\"],\"jurisdictions\":[\"*\"],"
        "\"require\":[[\"agent\"],[\"email\"]]}]}}",
        f);
  fclose(f);
  /* Our agent's key as base64 (the spec's form), the other's as hex (OSIRAA's own directory). */
  char b64[64], hex[65], ob64[64];
  sodium_bin2base64(b64, sizeof b64, me.pk, sizeof me.pk, sodium_base64_VARIANT_ORIGINAL);
  sodium_bin2hex(hex, sizeof hex, other.pk, sizeof other.pk);
  sodium_bin2base64(ob64, sizeof ob64, osiraa.pk, sizeof osiraa.pk, sodium_base64_VARIANT_ORIGINAL);
  H_REQUIRE(!strcmp(ob64, OSIRAA_VERIFY_B64), "OSIRAA's seed gives %s", ob64);
  f = fopen(agents, "w");
  H_REQUIRE1(f != NULL);
  fprintf(f,
          "[{\"id\":\"%s\",\"name\":\"Test Agent\",\"verify_key\":\"%s\","
          "\"web_url\":\"https://agent.example\",\"technical_contact\":\"tech@agent.example\"},"
          "{\"id\":\"%s\",\"name\":\"Other Agent\",\"verify_key\":\"%s\"},"
          "{\"id\":\"%s\",\"name\":\"OSIRAA Local Test Instance\",\"verify_key\":\"%s\","
          "\"web_url\":\"http://127.0.0.1:8003\"}]",
          AGENT, b64, OTHER, hex, OSIRAA_ID, OSIRAA_VERIFY_B64);
  fclose(f);
  char err[512];
  H_REQUIRE(dsr_pgembed_ensure_db(it_pg.embed, "dsr_drp", err, sizeof err), "%s", err);
  dconninfo = dsr_pgembed_conninfo(it_pg.embed, "dsr_drp");
  H_REQUIRE1(dconninfo != NULL);
  char url[512], pol[500], ag[500], key[500];
  snprintf(url, sizeof url, "--database-url=%s", dconninfo);
  snprintf(pol, sizeof pol, "--policy-file=%s", policy);
  snprintf(ag, sizeof ag, "--drp-agents-file=%s", agents);
  snprintf(keyfile, sizeof keyfile, "%s/secret.key", it_dsrd.state_dir);
  snprintf(key, sizeof key, "--secret-key-file=%s", keyfile);
  /* Callbacks go to a receiver on loopback over http: allowed as in the webhook tests. */
  const char *args[] = {url, pol, ag, key, "--drp-business-id=" BUSINESS, "--workers=0",
                        "--webhook-allow-http=true", "--webhook-allow-private=true", NULL};
  h_dsrd_start(&dd, NULL, args);
}

static void suite_teardown(void)
{
  int st = h_dsrd_stop(&dd, SIGTERM);
  H_REQUIRE(st == 0, "drp dsrd exited with %d; log: %s", st, dd.log);
  free(dconninfo);
  dconninfo = NULL;
}

/* ---- the agent ---- */

static void iso(time_t t, char out[40])
{
  struct tm tm;
  gmtime_r(&t, &tm);
  strftime(out, 40, "%Y-%m-%dT%H:%M:%S+00:00", &tm);
}

/* The envelope claims, valid from now for 10 minutes (offsets move both times). */
static json_t *envelope(const char *agent_id, const char *business, long issued_off,
                        long expires_off)
{
  char is[40], ex[40];
  iso(time(NULL) + issued_off, is);
  iso(time(NULL) + expires_off, ex);
  /* A JWT "jti" makes two messages of the same second differ (else the second is a replay). */
  char jti[24];
  snprintf(jti, sizeof jti, "%08x%08x", randombytes_random(), randombytes_random());
  return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "agent-id", agent_id, "business-id",
                   business, "issued-at", is, "expires-at", ex, "drp.version", "1.0", "jti", jti);
}

/* base64 of the combined-mode signature of @p claims' JSON (stolen) under @p a's key. */
static char *sign(const struct agent *a, json_t *claims)
{
  char *m = json_dumps(claims, JSON_COMPACT);
  json_decref(claims);
  size_t mlen = strlen(m);
  unsigned char *sm = malloc(mlen + crypto_sign_BYTES);
  unsigned long long smlen = 0;
  crypto_sign(sm, &smlen, (const unsigned char *)m, mlen, a->sk);
  size_t blen = sodium_base64_ENCODED_LEN(smlen, sodium_base64_VARIANT_ORIGINAL);
  char *b = malloc(blen);
  sodium_bin2base64(b, blen, sm, smlen, sodium_base64_VARIANT_ORIGINAL);
  free(sm);
  free(m);
  return b;
}

/* One call; @p token NULL sends none; @p ctype NULL sends none. Returns the status. */
static long call(const char *method, const char *path, const char *token, const char *ctype,
                 const char *body, struct h_resp *r)
{
  char auth[200], ct[100];
  const char *h[3] = {NULL, NULL, NULL};
  int n = 0;
  if (token) {
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", token);
    h[n++] = auth;
  }
  if (ctype || body) {
    /* "Content-Type:" with no value makes libcurl send none (its default is a form's) */
    snprintf(ct, sizeof ct, "Content-Type:%s%s", ctype ? " " : "", ctype ? ctype : "");
    h[n++] = ct;
  }
  h_http(&dd, method, path, h, body, r);
  return r->status;
}

static long pair_raw(const char *url_agent, const char *body, struct h_resp *r)
{
  char path[200];
  snprintf(path, sizeof path, "/drp/v1/agent/%s", url_agent);
  return call("POST", path, NULL, "text/plain", body, r);
}

static void pair(struct agent *a)
{
  char *b = sign(a, envelope(a->id, BUSINESS, 0, 600));
  struct h_resp r;
  ck_assert_int_eq(pair_raw(a->id, b, &r), 200);
  json_t *j = h_resp_json(&r);
  ck_assert_str_eq(json_string_value(json_object_get(j, "agent-id")), a->id);
  const char *t = json_string_value(json_object_get(j, "token"));
  ck_assert(t && strlen(t) >= 32);
  snprintf(a->token, sizeof a->token, "%s", t);
  json_decref(j);
  h_resp_free(&r);
  free(b);
}

/* An exercise's claims: the envelope plus the request and identity claims. */
static json_t *exercise_claims(const struct agent *a, const char *exercise, const char *email,
                               bool verified)
{
  json_t *c = envelope(a->id, BUSINESS, 0, 600);
  char rid[40];
  snprintf(rid, sizeof rid, "ar-%u", randombytes_random());
  json_object_set_new(c, "agent-request-id", json_string(rid));
  json_object_set_new(c, "exercise", json_string(exercise));
  json_object_set_new(c, "regime", json_string("ccpa"));
  json_object_set_new(c, "relationships", json_pack("[s]", "customer"));
  json_object_set_new(c, "name", json_string("Dana Example"));
  json_object_set_new(c, "email", json_string(email));
  json_object_set_new(c, "email_verified", json_boolean(verified));
  json_object_set_new(c, "address", json_pack("{s:s}", "country", "US"));
  return c;
}

static void unique_email(char *out, size_t n)
{
  snprintf(out, n, "drp-%u-%ld@example.org", randombytes_random(), (long)time(NULL));
}

/* Files an exercise; returns the answer (caller decrefs) and its status. */
static json_t *exercise(struct agent *a, json_t *claims, long *status)
{
  char *b = sign(a, claims);
  struct h_resp r;
  *status = call("POST", "/drp/v1/data-rights-request", a->token, "text/plain", b, &r);
  json_t *j = h_resp_json(&r);
  h_resp_free(&r);
  free(b);
  return j;
}

/*
 * Files @p exercise for a new consumer (email verified by the agent when @p verified, status
 * callbacks to @p callback when not NULL); asserts 200. The answer (caller decrefs), its id in @p id.
 */
static json_t *file_request(struct agent *a, const char *what, bool verified, const char *callback,
                            char id[40])
{
  char email[100];
  unique_email(email, sizeof email);
  json_t *c = exercise_claims(a, what, email, verified);
  if (callback)
    json_object_set_new(c, "status_callback", json_string(callback));
  long st = 0;
  json_t *j = exercise(a, c, &st);
  ck_assert_msg(st == 200, "%s: %ld", what, st);
  snprintf(id, 40, "%s", json_string_value(json_object_get(j, "request_id")));
  return j;
}

static void assert_error(json_t *j, const char *code, bool fatal)
{
  ck_assert_msg(j != NULL, "no JSON body");
  ck_assert_str_eq(json_string_value(json_object_get(j, "code")), code);
  ck_assert(json_string_value(json_object_get(j, "message")) != NULL);
  ck_assert(json_is_true(json_object_get(j, "fatal")) == fatal);
}

/* The same for an answer's body. */
static void assert_resp_error(const struct h_resp *r, const char *code, bool fatal)
{
  json_t *j = h_resp_json(r);
  assert_error(j, code, fatal);
  json_decref(j);
}

/* @p sql with every "%s" standing for request @p id (replaced here, not by printf). */
static long sql_long(const char *sql, const char *id)
{
  char q[800];
  size_t used = 0;
  for (const char *p = sql; *p && used + 40 < sizeof q;) {
    if (p[0] == '%' && p[1] == 's') {
      used += (size_t)snprintf(q + used, sizeof q - used, "%s", id);
      p += 2;
    } else if (p[0] == '%' && p[1] == '%') {
      q[used++] = '%';
      p += 2;
    } else {
      q[used++] = *p++;
    }
  }
  q[used] = '\0';
  return h_sql_long(dconninfo, q);
}

/* ---- tests ---- */

START_TEST(directory_keys_decode)
{
  unsigned char k[DSR_DRP_KEY_BYTES], want[DSR_DRP_KEY_BYTES];
  ck_assert(dsr_drp_key_decode(OSIRAA_VERIFY_B64, k));
  ck_assert_mem_eq(k, osiraa.pk, sizeof k);
  char hex[65];
  sodium_bin2hex(hex, sizeof hex, osiraa.pk, sizeof osiraa.pk);
  ck_assert(dsr_drp_key_decode(hex, want));
  ck_assert_mem_eq(k, want, sizeof k);
  ck_assert(!dsr_drp_key_decode("jkX15E7+NA/0E7K5YAp7", k)); /* too short */
  ck_assert(!dsr_drp_key_decode("not base64 at all!", k));
  char err[200];
  const char *bad = "[{\"id\":\"A\",\"verify_key\":\"AAAA\"}]";
  ck_assert(dsr_drp_directory_parse(bad, strlen(bad), err, sizeof err) == NULL);
  ck_assert(strstr(err, "verify_key") != NULL);
  const char *twice = "[{\"id\":\"A\",\"verify_key\":\"" OSIRAA_VERIFY_B64 "\"},"
                      "{\"id\":\"A\",\"verify_key\":\"" OSIRAA_VERIFY_B64 "\"}]";
  ck_assert(dsr_drp_directory_parse(twice, strlen(twice), err, sizeof err) == NULL);
  time_t t1, t2;
  ck_assert(dsr_drp_time_parse("2023-04-24T19:15:00.123456+00:00", &t1));
  ck_assert(dsr_drp_time_parse("2023-04-24T19:15:00Z", &t2));
  ck_assert_int_eq((long)t1, (long)t2);
  ck_assert(!dsr_drp_time_parse("2023-04-24 19:15", &t1));
}
END_TEST

START_TEST(pairing_and_agent_information)
{
  pair(&me);
  struct h_resp r;
  char path[200];
  snprintf(path, sizeof path, "/drp/v1/agent/%s", AGENT);
  ck_assert_int_eq(call("GET", path, me.token, NULL, NULL, &r), 200);
  ck_assert_str_eq(r.body, "{}");
  h_resp_free(&r);
  /* the token is stored only as a keyed hash */
  ck_assert_int_eq(h_sql_long(dconninfo, "SELECT count(*) FROM dsr_drp_tokens WHERE "
                                              "agent_id = '" AGENT "' AND length(token_hash) = 32"),
                   1);
  /* another agent's id with our token: 403 */
  snprintf(path, sizeof path, "/drp/v1/agent/%s", OTHER);
  ck_assert_int_eq(call("GET", path, me.token, NULL, NULL, &r), 403);
  assert_resp_error(&r, "403", true);
  h_resp_free(&r);
  /* no token, unknown token: 401 in DRP's shape */
  ck_assert_int_eq(call("GET", path, NULL, NULL, NULL, &r), 401);
  ck_assert(strstr(r.content_type, "application/json") != NULL);
  assert_resp_error(&r, "401", false);
  h_resp_free(&r);
  ck_assert_int_eq(call("GET", path, "not-a-token", NULL, NULL, &r), 401);
  h_resp_free(&r);
  /* pairing again replaces the token: the old one stops working */
  char old[128];
  snprintf(old, sizeof old, "%s", me.token);
  pair(&me);
  snprintf(path, sizeof path, "/drp/v1/agent/%s", AGENT);
  ck_assert_int_eq(call("GET", path, old, NULL, NULL, &r), 401);
  h_resp_free(&r);
  ck_assert_int_eq(call("GET", path, me.token, NULL, NULL, &r), 200);
  h_resp_free(&r);
}
END_TEST

START_TEST(pairing_failures_are_403_without_body)
{
  struct {
    const char *url_agent;
    char *body;
  } cases[] = {
      /* the URL's agent differs from the claims' */
      {OTHER, sign(&me, envelope(AGENT, BUSINESS, 0, 600))},
      /* claims of the other agent, signed with our key */
      {OTHER, sign(&me, envelope(OTHER, BUSINESS, 0, 600))},
      /* an agent not in the directory */
      {"NOBODY", sign(&me, envelope("NOBODY", BUSINESS, 0, 600))},
      /* another business */
      {AGENT, sign(&me, envelope(AGENT, "SOMEONE_ELSE", 0, 600))},
      /* expired, and issued in the future */
      {AGENT, sign(&me, envelope(AGENT, BUSINESS, -1200, -600))},
      {AGENT, sign(&me, envelope(AGENT, BUSINESS, 3600, 4000))},
      /* a key the directory does not hold */
      {AGENT, sign(&stranger, envelope(AGENT, BUSINESS, 0, 600))},
      /* not base64 */
      {AGENT, strdup("%%% not base64 %%%")},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    struct h_resp r;
    ck_assert_msg(pair_raw(cases[i].url_agent, cases[i].body, &r) == 403, "case %zu: %ld", i,
                  r.status);
    ck_assert_msg(r.len == 0, "case %zu answered a body: %s", i, r.body);
    h_resp_free(&r);
    free(cases[i].body);
  }
  /* a replayed setup body: the first works, the second not */
  char *b = sign(&other, envelope(OTHER, BUSINESS, 0, 600));
  struct h_resp r;
  ck_assert_int_eq(pair_raw(OTHER, b, &r), 200);
  h_resp_free(&r);
  ck_assert_int_eq(pair_raw(OTHER, b, &r), 403);
  ck_assert_int_eq(r.len, 0);
  h_resp_free(&r);
  free(b);
  /* a JSON body is not what DRP sends */
  h_http(&dd, "POST", "/drp/v1/agent/" AGENT, (const char *const[]){"Content-Type: application/json", NULL},
         "{}", &r);
  ck_assert_int_eq(r.status, 415);
  assert_resp_error(&r, "415", false);
  h_resp_free(&r);
}
END_TEST

START_TEST(osiraa_keypair_pairs_and_files)
{
  pair(&osiraa);
  char id[40];
  json_t *j = file_request(&osiraa, "deletion", true, NULL, id);
  ck_assert_str_eq(json_string_value(json_object_get(j, "status")), "in_progress");
  json_decref(j);
}
END_TEST

/* Each action maps to its request type and is verified by the agent's word. */
START_TEST(every_action_verified_by_agent)
{
  pair(&me);
  const char *acts[][2] = {{"deletion", "erasure"}, {"access", "access"},
                           {"sale:opt-out", "opt_out"}};
  for (size_t i = 0; i < 3; i++) {
    char email[100];
    unique_email(email, sizeof email);
    json_t *c = exercise_claims(&me, acts[i][0], email, true);
    char arid[40];
    snprintf(arid, sizeof arid, "%s", json_string_value(json_object_get(c, "agent-request-id")));
    long st = 0;
    json_t *j = exercise(&me, c, &st);
    ck_assert_msg(st == 200, "%s: %ld", acts[i][0], st);
    const char *id = json_string_value(json_object_get(j, "request_id"));
    ck_assert(id != NULL);
    ck_assert_str_eq(json_string_value(json_object_get(j, "status")), "in_progress");
    ck_assert(json_object_get(j, "reason") == NULL);
    ck_assert_str_eq(json_string_value(json_object_get(j, "agent_request_id")), arid);
    ck_assert(json_string_value(json_object_get(j, "received_at")) != NULL);
    ck_assert(json_string_value(json_object_get(j, "expected_by")) != NULL);
    char q[300];
    snprintf(q, sizeof q, "SELECT count(*) FROM dsr_requests WHERE id = '%%s' AND type = '%s'"
             " AND jurisdiction = 'ccpa' AND status = 'verified'", acts[i][1]);
    ck_assert_int_eq(sql_long(q, id), 1);
    /* the vouched identity counts as verified (discovery acts on verified identities only) */
    ck_assert_int_eq(sql_long("SELECT count(*) FROM dsr_identities WHERE request_id = '%s'"
                              " AND kind = 'email' AND verified_at IS NOT NULL", id), 1);
    ck_assert_int_eq(sql_long("SELECT count(*) FROM dsr_verifications WHERE request_id = '%s'"
                              " AND channel = 'agent' AND verified_by = 'agent:" AGENT "'", id), 1);
    ck_assert_int_eq(sql_long("SELECT count(*) FROM dsr_jobs WHERE kind = 'discovery'"
                              " AND payload->>'request_id' = '%s'", id), 1);
    json_decref(j);
  }
}
END_TEST

START_TEST(unsupported_and_malformed_actions)
{
  pair(&me);
  char email[100];
  unique_email(email, sizeof email);
  long st = 0;
  json_t *j = exercise(&me, exercise_claims(&me, "sale:opt-in", email, true), &st);
  ck_assert_int_eq(st, 400);
  assert_error(j, "400", true);
  ck_assert_str_eq(json_string_value(json_object_get(j, "message")),
                   "Unsupported rights actions submitted.");
  json_decref(j);
  j = exercise(&me, exercise_claims(&me, "launch:missiles", email, true), &st);
  ck_assert_int_eq(st, 400);
  json_decref(j);
  json_t *c = exercise_claims(&me, "deletion", email, true);
  json_object_set_new(c, "regime", json_string("gdpr"));
  j = exercise(&me, c, &st);
  ck_assert_int_eq(st, 400);
  json_decref(j);
  c = exercise_claims(&me, "deletion", "not-an-email", true);
  j = exercise(&me, c, &st);
  ck_assert_int_eq(st, 400);
  json_decref(j);
  c = exercise_claims(&me, "deletion", email, true);
  json_object_set_new(c, "drp.version", json_string("0.9"));
  j = exercise(&me, c, &st);
  ck_assert_int_eq(st, 400);
  json_decref(j);
}
END_TEST

START_TEST(unverified_identity_needs_user_verification)
{
  pair(&me);
  char id[40];
  json_t *j = file_request(&me, "access", false, NULL, id);
  ck_assert_str_eq(json_string_value(json_object_get(j, "status")), "in_progress");
  ck_assert_str_eq(json_string_value(json_object_get(j, "reason")), "need_user_verification");
  const char *url = json_string_value(json_object_get(j, "user_verification_url"));
  ck_assert(url && strstr(url, id) && strstr(url, "/verify"));
  ck_assert_int_eq(sql_long("SELECT count(*) FROM dsr_requests WHERE id = '%s'"
                            " AND status = 'pending_verification'", id), 1);
  ck_assert_int_eq(sql_long("SELECT count(*) FROM dsr_identities WHERE request_id = '%s'"
                            " AND verified_at IS NOT NULL", id), 0);
  /* the consumer gets a code by email, as any subject does */
  ck_assert_int_eq(sql_long("SELECT count(*) FROM dsr_verifications WHERE request_id = '%s'"
                            " AND channel = 'email' AND code_hash IS NOT NULL", id), 1);
  json_decref(j);
}
END_TEST

START_TEST(signature_and_claim_failures)
{
  pair(&me);
  pair(&other);
  char email[100];
  unique_email(email, sizeof email);
  struct h_resp r;
  long st = 0;
  /* expired */
  json_t *c = exercise_claims(&me, "deletion", email, true);
  char is[40], ex[40];
  iso(time(NULL) - 1200, is);
  iso(time(NULL) - 600, ex);
  json_object_set_new(c, "issued-at", json_string(is));
  json_object_set_new(c, "expires-at", json_string(ex));
  json_t *j = exercise(&me, c, &st);
  ck_assert_int_eq(st, 400);
  assert_error(j, "400", true);
  ck_assert(strstr(json_string_value(json_object_get(j, "message")), "expired") != NULL);
  json_decref(j);
  /* another business */
  c = exercise_claims(&me, "deletion", email, true);
  json_object_set_new(c, "business-id", json_string("SOMEONE_ELSE"));
  j = exercise(&me, c, &st);
  ck_assert_int_eq(st, 403);
  json_decref(j);
  /* the other agent's claims under our token (signed by the other agent) */
  c = exercise_claims(&other, "deletion", email, true);
  char *b = sign(&other, c);
  ck_assert_int_eq(call("POST", "/drp/v1/data-rights-request", me.token, "text/plain", b, &r),
                   403);
  assert_resp_error(&r, "403", true);
  h_resp_free(&r);
  free(b);
  /* our claims, signed by a key the directory does not hold */
  b = sign(&stranger, exercise_claims(&me, "deletion", email, true));
  ck_assert_int_eq(call("POST", "/drp/v1/data-rights-request", me.token, "text/plain", b, &r),
                   403);
  h_resp_free(&r);
  free(b);
  /* not base64 */
  ck_assert_int_eq(call("POST", "/drp/v1/data-rights-request", me.token, "text/plain",
                        "this is * not base64", &r), 400);
  assert_resp_error(&r, "400", true);
  h_resp_free(&r);
  /* tampered claims: one byte of the signed message changed, re-encoded */
  b = sign(&me, exercise_claims(&me, "deletion", email, true));
  unsigned char sm[4096];
  size_t n = 0;
  ck_assert(sodium_base642bin(sm, sizeof sm, b, strlen(b), NULL, &n, NULL,
                              sodium_base64_VARIANT_ORIGINAL) == 0);
  unsigned char *at = memmem(sm, n, "deletion", 8);
  ck_assert(at != NULL);
  memcpy(at, "deletiox", 8);
  char tampered[6000];
  sodium_bin2base64(tampered, sizeof tampered, sm, n, sodium_base64_VARIANT_ORIGINAL);
  ck_assert_int_eq(call("POST", "/drp/v1/data-rights-request", me.token, "text/plain", tampered,
                        &r), 403);
  h_resp_free(&r);
  /* the untampered body works once (wrapped at 76 columns as base64(1) does), and a replay of
     it is refused, however it is wrapped */
  char wrapped[6000];
  size_t w = 0;
  for (size_t i = 0; b[i] && w + 3 < sizeof wrapped; i++) {
    if (i && i % 76 == 0)
      wrapped[w++] = '\n';
    wrapped[w++] = b[i];
  }
  wrapped[w++] = '\n';
  wrapped[w] = '\0';
  ck_assert_int_eq(call("POST", "/drp/v1/data-rights-request", me.token, "text/plain", wrapped,
                        &r), 200);
  h_resp_free(&r);
  ck_assert_int_eq(call("POST", "/drp/v1/data-rights-request", me.token, "text/plain", b, &r),
                   409);
  assert_resp_error(&r, "409", true);
  h_resp_free(&r);
  free(b);
  /* no token, JSON instead of text/plain, empty body */
  ck_assert_int_eq(call("POST", "/drp/v1/data-rights-request", NULL, "text/plain", "x", &r), 401);
  h_resp_free(&r);
  ck_assert_int_eq(call("POST", "/drp/v1/data-rights-request", me.token, "application/json",
                        "{}", &r), 415);
  assert_resp_error(&r, "415", false);
  h_resp_free(&r);
  ck_assert_int_eq(call("POST", "/drp/v1/data-rights-request", me.token, "text/plain", "", &r),
                   400);
  h_resp_free(&r);
}
END_TEST

START_TEST(status_and_revoke)
{
  pair(&me);
  pair(&other);
  char path[200], id[40];
  json_decref(file_request(&me, "deletion", true, NULL, id));
  json_t *j;
  snprintf(path, sizeof path, "/drp/v1/data-rights-request/%s", id);
  struct h_resp r;
  ck_assert_int_eq(call("GET", path, me.token, NULL, NULL, &r), 200);
  j = h_resp_json(&r);
  ck_assert_str_eq(json_string_value(json_object_get(j, "request_id")), id);
  ck_assert_str_eq(json_string_value(json_object_get(j, "status")), "in_progress");
  json_decref(j);
  h_resp_free(&r);
  /* another agent: 403; an unknown request: 404 */
  ck_assert_int_eq(call("GET", path, other.token, NULL, NULL, &r), 403);
  h_resp_free(&r);
  ck_assert_int_eq(call("GET", "/drp/v1/data-rights-request/7d1d5c52-0000-4000-8000-000000000000",
                        me.token, NULL, NULL, &r), 404);
  h_resp_free(&r);
  /* another agent cannot revoke it */
  char *b = sign(&other, json_pack("{s:s}", "reason", "not mine"));
  ck_assert_int_eq(call("DELETE", path, other.token, "text/plain", b, &r), 403);
  h_resp_free(&r);
  free(b);
  /* revoke with a signature that does not verify */
  b = sign(&stranger, json_pack("{s:s}", "reason", "changed my mind"));
  ck_assert_int_eq(call("DELETE", path, me.token, "text/plain", b, &r), 403);
  h_resp_free(&r);
  free(b);
  ck_assert_int_eq(sql_long("SELECT count(*) FROM dsr_requests WHERE id = '%s'"
                            " AND status = 'verified'", id), 1);
  /* revoke, with no Content-Type: revoked, and the request withdrawn */
  b = sign(&me, json_pack("{s:s}", "reason", "changed my mind"));
  ck_assert_int_eq(call("DELETE", path, me.token, NULL, b, &r), 200);
  j = h_resp_json(&r);
  ck_assert_str_eq(json_string_value(json_object_get(j, "status")), "revoked");
  json_decref(j);
  h_resp_free(&r);
  free(b);
  ck_assert_int_eq(sql_long("SELECT count(*) FROM dsr_requests WHERE id = '%s'"
                            " AND status = 'withdrawn'", id), 1);
  ck_assert_int_eq(sql_long("SELECT count(*) FROM dsr_events WHERE request_id = '%s'"
                            " AND kind = 'request.withdrawn' AND actor = 'agent:" AGENT "'", id),
                   1);
  ck_assert_int_eq(call("GET", path, me.token, NULL, NULL, &r), 200);
  ck_assert(strstr(r.body, "\"revoked\"") != NULL);
  h_resp_free(&r);
}
END_TEST

/* The request states of dsrd as Exercise Statuses (section 3.02). */
START_TEST(status_mapping)
{
  pair(&me);
  static const struct {
    const char *set, *status, *reason;
  } rows[] = {
      {"status = 'completed', outcome = 'fulfilled'", "fulfilled", NULL},
      {"status = 'completed', outcome = 'no_data'", "denied", "no_match"},
      {"status = 'denied', deny_reason = 'identity_not_verified'", "denied", "insuf_verification"},
      {"status = 'denied', deny_reason = 'manifestly_unfounded'", "denied", "suspected_fraud"},
      {"status = 'denied', deny_reason = 'legal_obligation'", "denied", "claim_not_covered"},
      {"status = 'expired'", "denied", "insuf_verification"},
      {"status = 'on_hold'", "in_progress", NULL},
      {"status = 'in_progress', extended_at = now(), due_at = due_at + interval '45 days'",
       "in_progress", NULL},
  };
  for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
    char id[40], q[400], path[200];
    json_t *j = file_request(&me, "deletion", true, NULL, id);
    char before[40];
    snprintf(before, sizeof before, "%s", json_string_value(json_object_get(j, "expected_by")));
    json_decref(j);
    snprintf(q, sizeof q, "UPDATE dsr_requests SET %s WHERE id = '%s'", rows[i].set, id);
    PQclear(h_sql(dconninfo, q));
    snprintf(path, sizeof path, "/drp/v1/data-rights-request/%s", id);
    struct h_resp r;
    ck_assert_int_eq(call("GET", path, me.token, NULL, NULL, &r), 200);
    j = h_resp_json(&r);
    ck_assert_msg(!strcmp(json_string_value(json_object_get(j, "status")), rows[i].status),
                  "%s: %s", rows[i].set, r.body);
    const char *reason = json_string_value(json_object_get(j, "reason"));
    if (rows[i].reason)
      ck_assert_msg(reason && !strcmp(reason, rows[i].reason), "%s: %s", rows[i].set, r.body);
    else
      ck_assert_msg(reason == NULL, "%s: %s", rows[i].set, r.body);
    ck_assert(json_string_value(json_object_get(j, "received_at")) != NULL);
    if (strstr(rows[i].set, "extended_at")) {
      ck_assert_str_ne(json_string_value(json_object_get(j, "expected_by")), before);
      ck_assert(json_string_value(json_object_get(j, "processing_details")) != NULL);
    }
    json_decref(j);
    h_resp_free(&r);
  }
}
END_TEST

START_TEST(drp_routes_only_under_their_base_and_business_document)
{
  struct h_resp r;
  h_http(&dd, "GET", "/v1/agent/" AGENT, NULL, NULL, &r);
  ck_assert_int_eq(r.status, 404);
  h_resp_free(&r);
  h_http(&dd, "PUT", "/drp/v1/data-rights-request", NULL, NULL, &r);
  ck_assert_int_eq(r.status, 405);
  h_resp_free(&r);
  char *out = it_dsrctl("--drp-business-id=" BUSINESS " --base-url=https://privacy.example"
                        " --drp-actions=deletion,access drp business-document",
                        &(int){0});
  ck_assert(out != NULL);
  json_error_t e;
  json_t *doc = json_loads(out, 0, &e);
  ck_assert_msg(doc != NULL, "%s", out);
  ck_assert_str_eq(json_string_value(json_object_get(doc, "id")), BUSINESS);
  ck_assert_str_eq(json_string_value(json_object_get(doc, "api_base")), "https://privacy.example/drp");
  ck_assert_int_eq(json_array_size(json_object_get(doc, "supported_actions")), 2);
  json_decref(doc);
  free(out);
}
END_TEST

/* The test process delivers the outbox itself, with the daemon's key and its own clock. */
static struct dsr_db *open_db(PGconn **conn)
{
  char err[512];
  ck_assert_msg(dsr_crypto_init(keyfile, err, sizeof err), "%s", err);
  *conn = dsr_db_connect(dconninfo, err, sizeof err);
  ck_assert_msg(*conn != NULL, "%s", err);
  return dsr_db_wrap(*conn);
}

static int deliver(struct dsr_db *db, bool allow_private)
{
  struct dsr_webhook_opts o = {.allow_http = true, .allow_private = allow_private,
                               .timeout_s = 15};
  int sent = 0;
  ck_assert(dsr_webhook_deliver_due(db, &o, 50, &sent));
  return sent;
}

/* Delivery @p i's body as JSON (caller decrefs). */
static json_t *hit(struct wh_receiver *w, int i)
{
  pthread_mutex_lock(&w->lock);
  json_error_t e;
  json_t *j = json_loads(w->hits[i].body, 0, &e);
  pthread_mutex_unlock(&w->lock);
  ck_assert_msg(j != NULL, "callback %d is not JSON", i);
  return j;
}

START_TEST(status_callbacks_on_every_change)
{
  PGconn *conn;
  struct dsr_db *db = open_db(&conn);
  (void)deliver(db, true); /* leftovers of earlier tests */
  struct wh_receiver w;
  wh_start(&w, NULL);
  pair(&me);
  char id[40];
  json_decref(file_request(&me, "deletion", true, w.url, id));
  json_t *j;
  /* the first status goes out at once */
  ck_assert_int_eq(deliver(db, true), 1);
  ck_assert_int_eq(wh_count(&w), 1);
  j = hit(&w, 0);
  ck_assert_str_eq(json_string_value(json_object_get(j, "request_id")), id);
  ck_assert_str_eq(json_string_value(json_object_get(j, "status")), "in_progress");
  json_decref(j);
  /* a change made elsewhere (staff, workers) goes out once: with the job that made it, or
   * else with the next sweep */
  struct dsr_verify_env venv = {0};
  struct dsr_config cfg;
  ck_assert(dsr_config_defaults(&cfg));
  struct dsr_drp_env env = {.cfg = &cfg, .venv = &venv};
  int queued = -1;
  ck_assert(dsr_drp_callbacks(db, &env, NULL, &queued));
  ck_assert_int_eq(queued, 0);
  char q[300];
  /* verified -> in_progress is no change to an agent: no callback */
  snprintf(q, sizeof q, "UPDATE dsr_requests SET status = 'in_progress' WHERE id = '%s'", id);
  PQclear(h_sql(dconninfo, q));
  ck_assert(dsr_drp_callbacks(db, &env, NULL, &queued));
  ck_assert_int_eq(queued, 0);
  snprintf(q, sizeof q, "UPDATE dsr_requests SET status = 'completed', outcome = 'fulfilled'"
           " WHERE id = '%s'", id);
  PQclear(h_sql(dconninfo, q));
  /* the request's closing job, queued with its completion, tells the agent at once */
  struct dsr_worker_env wenv = {.cfg = &cfg};
  json_t *payload = json_pack("{s:s}", "request_id", id);
  struct dsr_job cjob = {.kind = DSR_JOB_CLOSING_NOTICE, .attempts = 1, .max_attempts = 3,
                         .payload = payload};
  char err[200] = "";
  ck_assert_msg(dsr_job_closing_notice(db, &cjob, &wenv, err, sizeof err) == DSR_JOB_DONE, "%s",
                err);
  json_decref(payload);
  ck_assert_int_eq(sql_long("SELECT count(*) FROM dsr_webhook_outbox WHERE request_id = '%s'"
                            " AND state = 'pending'", id), 1);
  /* ... and the routing sweep, which sends what no job did, sends it no second time */
  struct dsr_job job = {.kind = DSR_JOB_ROUTING_SWEEP, .attempts = 1, .max_attempts = 3};
  ck_assert_msg(dsr_job_routing_sweep(db, &job, &wenv, err, sizeof err) == DSR_JOB_DONE, "%s", err);
  ck_assert_int_eq(sql_long("SELECT count(*) FROM dsr_webhook_outbox WHERE request_id = '%s'"
                            " AND state = 'pending'", id), 1);
  ck_assert(dsr_drp_callbacks(db, &env, NULL, &queued));
  ck_assert_int_eq(queued, 0);
  ck_assert_int_eq(deliver(db, true), 1);
  ck_assert_int_eq(wh_count(&w), 2);
  j = hit(&w, 1);
  ck_assert_str_eq(json_string_value(json_object_get(j, "status")), "fulfilled");
  json_decref(j);
  /* revoke: its callback at once */
  json_decref(file_request(&me, "access", true, w.url, id));
  char path[200];
  snprintf(path, sizeof path, "/drp/v1/data-rights-request/%s", id);
  char *b = sign(&me, json_pack("{s:s}", "reason", "no longer needed"));
  struct h_resp r;
  ck_assert_int_eq(call("DELETE", path, me.token, "text/plain", b, &r), 200);
  h_resp_free(&r);
  free(b);
  ck_assert_int_eq(deliver(db, true), 2);
  ck_assert_int_eq(wh_count(&w), 4);
  j = hit(&w, 3);
  ck_assert_str_eq(json_string_value(json_object_get(j, "status")), "revoked");
  ck_assert_str_eq(json_string_value(json_object_get(j, "request_id")), id);
  json_decref(j);
  ck_assert_int_eq(sql_long("SELECT count(*) FROM dsr_webhook_outbox WHERE request_id = '%s'"
                            " AND state = 'delivered' AND customer_id IS NULL", id), 2);
  /* staff see the agent and its callbacks */
  char cmd[1200];
  snprintf(cmd, sizeof cmd, "'--database-url=%s' '--secret-key-file=%s' staff token create"
           " --role admin --name drp-%d", dconninfo, keyfile, (int)getpid());
  int rc = 0;
  char *out = it_dsrctl(cmd, &rc);
  ck_assert_int_eq(rc, 0);
  char *t = strstr(out, "token: ");
  ck_assert(t != NULL);
  t += 7;
  t[strcspn(t, "\n")] = '\0';
  snprintf(path, sizeof path, "/v1/admin/requests/%s", id);
  ck_assert_int_eq(call("GET", path, t, NULL, NULL, &r), 200);
  j = h_resp_json(&r);
  json_t *agent = json_object_get(j, "agent");
  ck_assert_str_eq(json_string_value(json_object_get(agent, "agent_id")), AGENT);
  ck_assert_str_eq(json_string_value(json_object_get(agent, "agent_name")), "Test Agent");
  ck_assert_str_eq(json_string_value(json_object_get(agent, "exercise")), "access");
  ck_assert_int_eq(json_array_size(json_object_get(agent, "callbacks")), 2);
  json_decref(j);
  h_resp_free(&r);
  /* a staff action: the callback goes out at once, with the extension's new date and reason */
  json_t *first = file_request(&me, "deletion", true, w.url, id);
  ck_assert_int_eq(deliver(db, true), 1);
  snprintf(path, sizeof path, "/v1/admin/requests/%s/actions", id);
  const char *auth[1];
  char ah[200];
  snprintf(ah, sizeof ah, "Authorization: Bearer %s", t);
  auth[0] = ah;
  ck_assert_int_eq(h_json_call(&dd, "POST", path, auth, 1,
                               "{\"action\":\"extend\",\"reason\":\"many systems\"}", NULL),
                   200);
  ck_assert_int_eq(deliver(db, true), 1);
  ck_assert_int_eq(wh_count(&w), 6);
  j = hit(&w, 5);
  ck_assert_str_eq(json_string_value(json_object_get(j, "request_id")), id);
  ck_assert_str_eq(json_string_value(json_object_get(j, "status")), "in_progress");
  ck_assert_str_ne(json_string_value(json_object_get(j, "expected_by")),
                   json_string_value(json_object_get(first, "expected_by")));
  ck_assert_str_eq(json_string_value(json_object_get(j, "processing_details")),
                   "the deadline was extended: many systems");
  json_decref(j);
  json_decref(first);
  free(out);
  /* the SSRF guard holds for callbacks: a loopback URL is refused unless allowed */
  json_decref(file_request(&me, "deletion", true, w.url, id));
  ck_assert_int_eq(deliver(db, false), 1);
  ck_assert_int_eq(wh_count(&w), 6);
  ck_assert_int_eq(sql_long("SELECT count(*) FROM dsr_webhook_attempts a JOIN dsr_webhook_outbox o"
                            " ON o.id = a.outbox_id WHERE o.request_id = '%s'"
                            " AND a.error LIKE 'refused%%'", id), 1);
  dsr_config_free(&cfg);
  wh_stop(&w);
  dsr_db_unwrap(db);
  PQfinish(conn);
}
END_TEST

Suite *suite_drp(void)
{
  Suite *s = suite_create("drp");
  TCase *tc = tcase_create("agent");
  tcase_add_unchecked_fixture(tc, suite_setup, suite_teardown);
  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, directory_keys_decode);
  tcase_add_test(tc, pairing_and_agent_information);
  tcase_add_test(tc, pairing_failures_are_403_without_body);
  tcase_add_test(tc, osiraa_keypair_pairs_and_files);
  tcase_add_test(tc, every_action_verified_by_agent);
  tcase_add_test(tc, unsupported_and_malformed_actions);
  tcase_add_test(tc, unverified_identity_needs_user_verification);
  tcase_add_test(tc, signature_and_claim_failures);
  tcase_add_test(tc, status_and_revoke);
  tcase_add_test(tc, status_mapping);
  tcase_add_test(tc, drp_routes_only_under_their_base_and_business_document);
  tcase_add_test(tc, status_callbacks_on_every_change);
  suite_add_tcase(s, tc);
  return s;
}

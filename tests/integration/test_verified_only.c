/**
 * @file test_verified_only.c
 * @brief Only verified identities act. A request gives the subject's email
 *        and ANOTHER person's phone number and is verified by the email code
 *        alone: that number must reach no stage — not discovery's parts, the
 *        plan staff preview, the customers' webhook payloads, the erasure,
 *        or the access package. An identity verified later (by hand) makes
 *        discovery run again and add what it reaches.
 */
#include "config.h"
#include "erasure_fixture.h"
#include "erasure_jobs.h"
#include "export_jobs.h"
#include "routing_jobs.h"
#include "verify_util.h"
#include "webhook_receiver.h"
#include "dsr/admin.h"
#include "dsr/closing.h"
#include "dsr/crypto.h"
#include "dsr/customer_api.h"
#include "dsr/customers.h"
#include "dsr/discovery.h"
#include "dsr/erasure.h"
#include "dsr/export.h"
#include "dsr/requests.h"
#include "dsr/verify.h"
#include "dsr/webhook.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define A_EMAIL "vera.subject@example.org"
#define A_PHONE "+15550100888"
#define A_ARGS                                                                              \
  "--subject-email " A_EMAIL " --subject-phone " A_PHONE " --subject-workspaces 3 "         \
  "--subject-calls 30 --subject-account"
#define ASSERTION_KEY "a-shared-assertion-key-for-tests"

static struct ef_platform pl;
static struct ef_dsrd d;
static char b_phone[32];  /* the other person's number: a caller A has nothing to do with */
static char b_digits[16]; /* its last seven digits, however it is written */
static char b_tenant[32];
static char a_account[32]; /* A's users.id, read before any test erases A */
static struct wh_receiver rcv_a, rcv_b;
static char cust_a[40], cust_b[40];

static const struct dsr_job_kind registry[] = {
    {DSR_JOB_DISCOVERY, dsr_job_discovery, 300, NULL},
    {DSR_JOB_ERASURE, dsr_job_erasure, 900, NULL},
    {DSR_JOB_EXPORT, dsr_job_export, 900, NULL},
    {NULL, NULL, 0, NULL},
};

static int run_jobs(void)
{
  int total = 0, ran;
  while ((ran = dsr_queue_run_batch(d.db, registry, "verified-only", dsr_now(), 4, &d.env)) > 0)
    total += ran;
  ck_assert_int_eq(ran, 0);
  return total;
}

static void add_customer(const char *name, const char *tenant, struct wh_receiver *w,
                         char id[40])
{
  char *key = NULL, *whsec = NULL, why[160];
  struct dsr_webhook_opts wo = {.allow_http = true, .allow_private = true, .timeout_s = 5};
  ck_assert_int_eq(dsr_customer_add(d.db, &wo, NULL, name, tenant, w->url, id, &key, &whsec, why,
                                    sizeof why),
                   DSR_OK);
  snprintf(w->secret, sizeof w->secret, "%s", whsec);
  free(key);
  free(whsec);
}

/* Once, in the runner: the platform, and who B is. */
static void suite_setup(void)
{
  ef_generate(&pl, "vo_plat", 250, true, A_ARGS);
  ef_use(&pl);
  /* B: a caller in a workspace where A has no call at all. */
  PGresult *r = h_sql(pl.conninfo,
                      "SELECT caller_number, workspace_id::text FROM calls WHERE workspace_id NOT IN"
                      " (SELECT workspace_id FROM calls WHERE caller_number = '" A_PHONE
                      "' OR called_number = '" A_PHONE "') AND caller_number LIKE '+%'"
                      " AND caller_number <> '" A_PHONE "' ORDER BY id LIMIT 1");
  H_REQUIRE1(PQntuples(r) == 1);
  snprintf(b_phone, sizeof b_phone, "%s", PQgetvalue(r, 0, 0));
  snprintf(b_tenant, sizeof b_tenant, "%s", PQgetvalue(r, 0, 1));
  PQclear(r);
  snprintf(b_digits, sizeof b_digits, "%s", b_phone + strlen(b_phone) - 7);
  snprintf(a_account, sizeof a_account, "%ld",
           ef_long(pl.conninfo, "SELECT id FROM users WHERE lower(email) = '" A_EMAIL "'"));
}

static void suite_teardown(void)
{
  ef_platform_free(&pl);
}

/* In each (forked) test: a fresh dsrd database, and A's and B's workspaces as customers. */
static void setup(void)
{
  char *pp = NULL, err[256], dir[300];
  ck_assert(asprintf(&pp, "%s/policies/callorbit.json", getenv("DSR_TOP_SRCDIR")) > 0);
  /* a database of its own per test, whether Check forks or not */
  static int n;
  char name[64];
  snprintf(name, sizeof name, "dsr_vo_%d_%d", (int)getpid(), n++);
  ef_dsrd_open(&d, name, pp, NULL);
  free(pp);
  snprintf(dir, sizeof dir, "%s.exports", pl.media);
  ck_assert_msg(dsr_config_set(&d.cfg, "export_dir", dir, err, sizeof err), "%s", err);
  wh_start(&rcv_a, NULL);
  wh_start(&rcv_b, NULL);
  char a_tenant[32];
  snprintf(a_tenant, sizeof a_tenant, "%ld",
           ef_long(pl.conninfo, "SELECT min(workspace_id) FROM calls WHERE caller_number = '"
                                A_PHONE "' OR called_number = '" A_PHONE "'"));
  add_customer("vo-a", a_tenant, &rcv_a, cust_a);
  add_customer("vo-b", b_tenant, &rcv_b, cust_b);
}

static void teardown(void)
{
  wh_stop(&rcv_a);
  wh_stop(&rcv_b);
  ef_dsrd_close(&d);
}

static char status_token[128]; /* of the request filed last */

/* Files a request in this process; returns its id in @p id (its status token in status_token). */
static void file_request(const char *type, const char *email, const char *phone,
                         const char *account, char id[40])
{
  static struct dsr_verify_env venv;
  venv.policy = d.policy;
  struct dsr_intake in = {.type = type, .jurisdiction = "gdpr", .language = "en",
                          .email = email, .phone = phone, .account_id = account, .venv = &venv};
  json_t *reply = NULL;
  unsigned status = 0;
  ck_assert_int_eq(dsr_request_create(d.db, &in, &reply, &status), DSR_OK);
  snprintf(id, 40, "%s", json_string_value(json_object_get(reply, "id")));
  snprintf(status_token, sizeof status_token, "%s",
           json_string_value(json_object_get(reply, "status_token")));
  json_decref(reply);
}

/* The subject's side: the code from the mail the outbox holds for @p id, entered. */
static void verify_by_email_code(const char *id)
{
  char sql[300];
  snprintf(sql, sizeof sql, "SELECT body_sealed FROM dsr_outbox WHERE channel = 'email'"
                            " AND template = 'code' AND request_id = '%s'"
                            " ORDER BY id DESC LIMIT 1", id);
  PGresult *r = h_sql(d.conninfo, sql);
  ck_assert_int_eq(PQntuples(r), 1);
  size_t n = 0, pl_len = 0;
  unsigned char *raw = PQunescapeBytea((const unsigned char *)PQgetvalue(r, 0, 0), &n);
  unsigned char *plain = NULL;
  ck_assert(raw && dsr_unseal(raw, n, &plain, &pl_len));
  PQfreemem(raw);
  PQclear(r);
  json_t *msg = json_loadb((const char *)plain, pl_len, 0, NULL);
  free(plain);
  char code[7];
  vu_code(json_string_value(json_object_get(msg, "text")), code);
  json_decref(msg);
  struct dsr_verify_env env = {.policy = d.policy};
  struct dsr_verify_outcome out;
  dsr_verify_submit(d.db, &env, id, status_token, "email", code, NULL, &out);
  ck_assert_int_eq(out.ec, DSR_OK);
  ck_assert_str_eq(out.status, "verified");
}

static enum dsr_ec act(const char *id, const struct dsr_admin_action *a)
{
  json_t *reply = NULL;
  char detail[256];
  const char *field = NULL;
  enum dsr_ec ec = dsr_admin_act(d.db, d.policy, d.staff_id, id, a, &reply, detail,
                                 sizeof detail, &field);
  json_decref(reply);
  return ec;
}

/* Every forwarded part of @p id fulfilled by its customer, every waiting one approved. */
static void decide_all(const char *id)
{
  char sql[300];
  snprintf(sql, sizeof sql, "SELECT id::text, customer_id::text FROM dsr_parts WHERE"
                            " request_id = '%s' AND state = 'forwarded'", id);
  PGresult *r = h_sql(d.conninfo, sql);
  for (int i = 0; i < PQntuples(r); i++) {
    json_t *reply = NULL;
    ck_assert_int_eq(dsr_customer_decide(d.db, PQgetvalue(r, i, 1), PQgetvalue(r, i, 0),
                                         "fulfill", NULL, &reply),
                     DSR_OK);
    json_decref(reply);
  }
  PQclear(r);
  struct dsr_admin_action a = {.action = "approve"};
  (void)act(id, &a); /* a request with no waiting controller part answers 409: fine */
}

/*
 * Rows of the platform that hold B's number and have nothing to do with A: B's
 * calls with others, B's contact rows, and transcripts of such calls that
 * mention B. (A transcript of A's own call may quote B; it goes with A's call.)
 */
static long b_rows(void)
{
  char sql[1600];
  snprintf(sql, sizeof sql,
           "WITH bc AS (SELECT id FROM calls WHERE (caller_number = '%s' OR called_number = '%s')"
           " AND caller_number <> '" A_PHONE "' AND called_number <> '" A_PHONE "'),"
           " bt AS (SELECT t.id FROM transcripts t JOIN recordings r ON r.id = t.recording_id"
           " JOIN calls c ON c.id = r.call_id WHERE t.text LIKE '%%%s%%' AND"
           " c.caller_number <> '" A_PHONE "' AND c.called_number <> '" A_PHONE "')"
           " SELECT (SELECT count(*) FROM bc) + (SELECT count(*) FROM contacts WHERE phone = '%s')"
           " + (SELECT count(*) FROM bt)",
           b_phone, b_phone, b_digits, b_phone);
  return h_sql_long(pl.conninfo, sql);
}

static bool any_hit_mentions(struct wh_receiver *w, const char *needle)
{
  for (int i = 0; i < wh_count(w); i++)
    if (strstr(w->hits[i].body, needle))
      return true;
  return false;
}

START_TEST(another_persons_phone_reaches_no_stage_of_an_erasure)
{
  long b_before = b_rows();
  ck_assert_int_gt(b_before, 0);
  char id[40];
  file_request("erasure", A_EMAIL, b_phone, NULL, id);
  verify_by_email_code(id);
  ck_assert_int_eq(ef_long(d.conninfo, "SELECT count(*) FROM dsr_identities WHERE request_id ="
                                       " '%s' AND kind = 'phone' AND verified_at IS NULL", id),
                   1);
  dsr_set_fake_now(time(NULL) + 1);
  ck_assert_int_ge(run_jobs(), 1); /* discovery */

  /* Discovery: parts matched by the email only; B's customer holds nothing of A's email. */
  ck_assert_int_gt(ef_long(d.conninfo, "SELECT count(*) FROM dsr_parts WHERE request_id = '%s'",
                           id), 0);
  ck_assert_int_eq(ef_long(d.conninfo, "SELECT count(*) FROM dsr_parts WHERE request_id = '%s'"
                                       " AND 'phone' = ANY(identity_kinds)", id), 0);
  ck_assert_int_eq(ef_long(d.conninfo, "SELECT count(*) FROM dsr_parts WHERE request_id = '%s'"
                                       " AND customer_id = '%s'", id, cust_b), 0);

  /* The plan staff preview: searched by the email, the phone named as left out. */
  json_t *plan = NULL;
  ck_assert_int_eq(dsr_admin_plan(d.db, d.policy, id, &plan), DSR_OK);
  json_t *ids = json_object_get(plan, "identities");
  ck_assert_uint_eq(json_array_size(json_object_get(ids, "used")), 1);
  ck_assert_str_eq(json_string_value(json_array_get(json_object_get(ids, "used"), 0)), "email");
  ck_assert_str_eq(json_string_value(json_array_get(json_object_get(ids, "unverified"), 0)),
                   "phone");
  char *text = json_dumps(plan, 0);
  ck_assert_ptr_null(strstr(text, "\"label\": \"phone\""));
  ck_assert_ptr_null(strstr(text, "\"label\":\"phone\""));
  ck_assert_ptr_null(strstr(text, b_digits));
  free(text);
  json_decref(plan);

  /* Webhooks: what customers are sent names the email, never B's number. */
  int sent = 0;
  struct dsr_webhook_opts wo = {.allow_http = true, .allow_private = true, .timeout_s = 5};
  ck_assert(dsr_webhook_deliver_due(d.db, &wo, 50, &sent));
  ck_assert_int_ge(wh_count(&rcv_a), 1);
  ck_assert(any_hit_mentions(&rcv_a, A_EMAIL));
  ck_assert(!any_hit_mentions(&rcv_a, b_digits));
  ck_assert_int_eq(wh_count(&rcv_b), 0);

  /* The customer API shows the same: A's email, never B's number, even for a part whose
   * kinds named the phone (forced here): only verified identities are ever read. */
  PQclear(h_sql(d.conninfo, "UPDATE dsr_parts SET identity_kinds = '{email,phone}' WHERE"
                            " customer_id IS NOT NULL"));
  json_t *list = NULL;
  ck_assert_int_eq(dsr_customer_parts(d.db, cust_a, NULL, NULL, 0, "http://dsrd.test", &list), DSR_OK);
  json_t *item = json_array_get(json_object_get(list, "items"), 0);
  ck_assert_ptr_nonnull(item);
  json_t *pids = json_object_get(item, "identities");
  ck_assert_str_eq(json_string_value(json_object_get(pids, "email")), A_EMAIL);
  ck_assert_ptr_null(json_object_get(pids, "phone"));
  json_t *one = NULL;
  ck_assert_int_eq(dsr_customer_part(d.db, cust_a,
                                     json_string_value(json_object_get(item, "part_id")),
                                     "http://dsrd.test", &one),
                   DSR_OK);
  text = json_dumps(one, 0);
  ck_assert_ptr_nonnull(strstr(text, A_EMAIL));
  ck_assert_ptr_null(strstr(text, b_digits));
  free(text);
  json_decref(one);
  json_decref(list);
  ck_assert_int_eq(dsr_customer_parts(d.db, cust_b, NULL, NULL, 0, "http://dsrd.test", &list), DSR_OK);
  ck_assert_uint_eq(json_array_size(json_object_get(list, "items")), 0);
  json_decref(list);

  /* Erasure: every part runs; B's rows are all still there. */
  decide_all(id);
  ck_assert_int_ge(run_jobs(), 1);
  ck_assert_int_eq(ef_long(d.conninfo, "SELECT count(*) FROM dsr_requests WHERE id = '%s' AND"
                                       " status = 'completed'", id), 1);
  ck_assert_int_eq(b_rows(), b_before);
  ck_assert_int_eq(ef_long(pl.conninfo, "SELECT count(*) FROM users WHERE lower(email) = '"
                                        A_EMAIL "'"), 0);
  /* The ledger and suppression list hold no hash of B's number either. */
  ck_assert_int_eq(ef_long(d.conninfo, "SELECT count(*) FROM dsr_suppressions WHERE kind ="
                                       " 'phone'"), 0);
  dsr_set_fake_now(0);
}
END_TEST

START_TEST(an_identity_verified_later_is_searched_then)
{
  char id[40];
  file_request("restriction", A_EMAIL, A_PHONE, NULL, id);
  verify_by_email_code(id);
  dsr_set_fake_now(time(NULL) + 1);
  ck_assert_int_ge(run_jobs(), 1);
  long before = ef_long(d.conninfo, "SELECT count(*) FROM dsr_parts WHERE request_id = '%s'", id);
  ck_assert_int_eq(ef_long(d.conninfo, "SELECT count(*) FROM dsr_parts WHERE request_id = '%s'"
                                       " AND 'phone' = ANY(identity_kinds)", id), 0);

  /* Refused: no note, an identity the request did not give, a request not verified yet. */
  struct dsr_admin_action a = {.action = "verify", .identity = "phone"};
  ck_assert_int_eq(act(id, &a), DSR_E_UNPROCESSABLE);
  a.note = "called the number back";
  a.identity = "account_id";
  ck_assert_int_eq(act(id, &a), DSR_E_FIELD_INVALID);
  char waiting[40];
  file_request("objection", "someone.else@example.org", NULL, NULL, waiting);
  a.identity = "email";
  ck_assert_int_eq(act(waiting, &a), DSR_E_CONFLICT);

  /* Staff verify the phone by hand: discovery runs again and adds what the number reaches. */
  a.identity = "phone";
  ck_assert_int_eq(act(id, &a), DSR_OK);
  ck_assert_int_eq(act(id, &a), DSR_E_CONFLICT); /* once */
  ck_assert_int_eq(ef_long(d.conninfo, "SELECT count(*) FROM dsr_verification_notes WHERE"
                                       " request_id = '%s' AND identity_kind = 'phone'", id),
                   1);
  ck_assert_int_eq(ef_long(d.conninfo, "SELECT count(*) FROM dsr_events WHERE request_id = '%s'"
                                       " AND kind = 'identity.verified_later'", id),
                   1);
  ck_assert_int_ge(run_jobs(), 1);
  ck_assert_int_gt(ef_long(d.conninfo, "SELECT count(*) FROM dsr_parts WHERE request_id = '%s'"
                                       " AND 'phone' = ANY(identity_kinds)", id), 0);
  ck_assert_int_ge(ef_long(d.conninfo, "SELECT count(*) FROM dsr_parts WHERE request_id = '%s'",
                           id), before);
  ck_assert_int_eq(ef_long(d.conninfo, "SELECT count(*) FROM dsr_events WHERE request_id = '%s'"
                                       " AND kind = 'request.rediscovered'", id),
                   1);
  /* A repeated discovery job adds nothing and records nothing. */
  bool retry = false;
  ck_assert(dsr_discovery_enqueue_again(d.db, id, "repeat", &retry));
  ck_assert_int_eq(run_jobs(), 1);
  ck_assert_int_eq(ef_long(d.conninfo, "SELECT count(*) FROM dsr_events WHERE request_id = '%s'"
                                       " AND kind = 'request.rediscovered'", id),
                   1);
  dsr_set_fake_now(0);
}
END_TEST

/* The plaintext of @p entry ("data.json") of the first package of request @p id (caller frees). */
static char *package_entry(const char *id, const char *entry)
{
  char sql[300];
  snprintf(sql, sizeof sql, "SELECT file_name, key_sealed FROM dsr_exports WHERE"
                            " request_id = '%s' ORDER BY created_at LIMIT 1", id);
  PGresult *r = h_sql(d.conninfo, sql);
  ck_assert_int_eq(PQntuples(r), 1);
  char dir[1024], path[1200], zip[1300], cmd[2600];
  ck_assert(dsr_export_dir(&d.cfg, dir, sizeof dir));
  snprintf(path, sizeof path, "%s/%s", dir, PQgetvalue(r, 0, 0));
  size_t n = 0, kl = 0;
  unsigned char *raw = PQunescapeBytea((const unsigned char *)PQgetvalue(r, 0, 1), &n);
  unsigned char *key = NULL;
  ck_assert(raw && dsr_unseal(raw, n, &key, &kl) && kl == DSR_XKEY_BYTES);
  PQfreemem(raw);
  PQclear(r);
  struct dsr_xsource src;
  ck_assert(dsr_xsource_open(&src, path, key));
  snprintf(zip, sizeof zip, "%s.zip", path);
  int fd = open(zip, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  ck_assert_int_ge(fd, 0);
  char buf[16384];
  ssize_t got;
  while ((got = dsr_xsource_read(&src, buf, sizeof buf)) > 0)
    ck_assert_int_eq(write(fd, buf, (size_t)got), got);
  ck_assert_int_eq(got, 0);
  close(fd);
  dsr_xsource_close(&src);
  free(key);
  snprintf(cmd, sizeof cmd, "unzip -p '%s' '%s'", zip, entry);
  FILE *p = popen(cmd, "r");
  ck_assert_ptr_nonnull(p);
  size_t cap = 1 << 16, len = 0;
  char *out = malloc(cap);
  while (out && (got = (ssize_t)fread(out + len, 1, cap - len - 1, p)) > 0) {
    len += (size_t)got;
    if (len + 1 == cap)
      out = realloc(out, cap *= 2);
  }
  ck_assert_int_eq(pclose(p), 0);
  ck_assert_ptr_nonnull(out);
  out[len] = '\0';
  unlink(zip);
  return out;
}

START_TEST(an_access_package_holds_what_the_verified_identities_reach)
{
  ck_assert(setenv("PLATFORM_ASSERTION_KEY", ASSERTION_KEY, 1) == 0);
  const char *account = a_account;
  char id[40];
  file_request("access", A_EMAIL, b_phone, account, id);
  /* The platform's login system vouches for the account and its email; nobody for the phone. */
  char *tok = dsr_assertion_make_vouching((const unsigned char *)ASSERTION_KEY,
                                          strlen(ASSERTION_KEY), account, A_EMAIL, NULL, id,
                                          time(NULL));
  struct dsr_verify_env env = {.policy = d.policy};
  struct dsr_verify_outcome out;
  dsr_verify_submit(d.db, &env, id, NULL, NULL, NULL, tok, &out);
  free(tok);
  ck_assert_int_eq(out.ec, DSR_OK);
  ck_assert_str_eq(out.status, "verified");
  ck_assert_int_eq(ef_long(d.conninfo, "SELECT count(*) FROM dsr_identities WHERE request_id ="
                                       " '%s' AND verified_at IS NOT NULL", id),
                   2); /* account_id, and the vouched email */
  dsr_set_fake_now(time(NULL) + 1);
  ck_assert_int_ge(run_jobs(), 1);
  ck_assert_int_eq(ef_long(d.conninfo, "SELECT count(*) FROM dsr_parts WHERE request_id = '%s'"
                                       " AND customer_id = '%s'", id, cust_b), 0);
  decide_all(id);
  ck_assert_int_ge(run_jobs(), 1);
  char *data = package_entry(id, "data.json");
  ck_assert_ptr_nonnull(strstr(data, A_EMAIL));
  /* B's number as stored (every digit: seven alone can occur by chance in ids and times) */
  const char *hit = strstr(data, b_phone + 1);
  ck_assert_msg(hit == NULL, "B's number in A's package: %.80s", hit ? hit : "");
  free(data);
  dsr_set_fake_now(0);
}
END_TEST

/* The text of the newest email of @p template the outbox holds for request @p id (caller frees). */
static char *outbox_text(const char *id, const char *template)
{
  char sql[300];
  snprintf(sql, sizeof sql, "SELECT body_sealed FROM dsr_outbox WHERE channel = 'email'"
                            " AND template = '%s' AND request_id = '%s'"
                            " ORDER BY id DESC LIMIT 1", template, id);
  PGresult *r = h_sql(d.conninfo, sql);
  ck_assert_int_eq(PQntuples(r), 1);
  size_t n = 0, pl_len = 0;
  unsigned char *raw = PQunescapeBytea((const unsigned char *)PQgetvalue(r, 0, 0), &n);
  unsigned char *plain = NULL;
  ck_assert(raw && dsr_unseal(raw, n, &plain, &pl_len));
  PQfreemem(raw);
  PQclear(r);
  json_t *msg = json_loadb((const char *)plain, pl_len, 0, NULL);
  free(plain);
  char *text = strdup(json_string_value(json_object_get(msg, "text")));
  json_decref(msg);
  return text;
}

/*
 * CallOrbit's access rule needs email and SMS, with "partial": "verified_identities".
 * A subject who gives only an email is answered once the email is confirmed, with
 * what the email reaches: never what only the phone would reach (A's calls); the
 * package and the closing message say so. A subject who gave both is waited for.
 */
START_TEST(an_email_only_access_is_answered_from_the_email_alone)
{
  const char *pc = "SELECT count(*) FROM calls WHERE caller_number = '" A_PHONE
                   "' OR called_number = '" A_PHONE "'";
  ck_assert_int_gt(h_sql_long(pl.conninfo, pc), 0); /* there is phone-only data to leave out */
  char both[40];
  file_request("access", A_EMAIL, A_PHONE, NULL, both);
  char *mail = outbox_text(both, "code");
  char code[7];
  vu_code(mail, code);
  free(mail);
  struct dsr_verify_env env = {.policy = d.policy};
  struct dsr_verify_outcome out;
  dsr_verify_submit(d.db, &env, both, status_token, "email", code, NULL, &out);
  ck_assert_int_eq(out.ec, DSR_OK);
  ck_assert_str_eq(out.status, "pending_verification"); /* the phone given is waited for */

  char id[40];
  file_request("access", A_EMAIL, NULL, NULL, id);
  verify_by_email_code(id); /* asserts "verified" */
  ck_assert_int_eq(ef_long(d.conninfo, "SELECT count(*) FROM dsr_events WHERE request_id = '%s'"
                                       " AND kind = 'request.verified' AND data->>'partial' = 'true'",
                           id),
                   1);
  dsr_set_fake_now(time(NULL) + 1);
  ck_assert_int_ge(run_jobs(), 1);
  decide_all(id);
  ck_assert_int_ge(run_jobs(), 1);
  char *data = package_entry(id, "data.json");
  ck_assert_ptr_nonnull(strstr(data, A_EMAIL));
  /* the calls in the package: each reached through the email (A's contact entries or
   * A's user account), and A's calls that only the phone reaches are not there */
  json_t *doc = json_loads(data, 0, NULL);
  ck_assert_ptr_nonnull(doc);
  struct dsr_buf ids = {0};
  ck_assert(dsr_buf_puts(&ids, "{"));
  size_t i, k;
  json_t *c, *row;
  json_array_foreach(json_object_get(doc, "collections"), i, c) {
    if (strcmp(json_string_value(json_object_get(c, "name")), "calls") != 0)
      continue;
    json_array_foreach(json_object_get(c, "rows"), k, row)
      ck_assert(dsr_buf_printf(&ids, "%s%lld", ids.len > 1 ? "," : "",
                               (long long)json_integer_value(json_object_get(row, "id"))));
  }
  ck_assert(dsr_buf_puts(&ids, "}"));
  json_decref(doc);
  const char *by_email = "(contact_id IN (SELECT id FROM contacts WHERE lower(email) = '" A_EMAIL
                         "') OR agent_user_id IN (SELECT id FROM users WHERE lower(email) = '"
                         A_EMAIL "'))";
  ck_assert_int_eq(ef_long(pl.conninfo, "SELECT count(*) FROM calls WHERE id = ANY('%s'::bigint[])"
                                        " AND NOT %s", ids.data, by_email),
                   0);
  ck_assert_int_gt(ef_long(pl.conninfo, "SELECT count(*) FROM calls WHERE (caller_number = '"
                                        A_PHONE "' OR called_number = '" A_PHONE "') AND NOT"
                                        " id = ANY('%s'::bigint[])", ids.data),
                   0);
  dsr_buf_free(&ids);
  free(data);
  char *summary = package_entry(id, "summary.txt");
  ck_assert_msg(strstr(summary, "This answer covers only the data we found with what you "
                                "confirmed:\nyour email address.") != NULL, "%s", summary);
  ck_assert_ptr_nonnull(strstr(summary, "Data we can find only with your mobile phone number is"
                                        " not included"));
  free(summary);
  ck_assert(dsr_closing_notice(d.db, d.policy, "https://privacy.example", id));
  char *closing = outbox_text(id, "notice");
  ck_assert_msg(strstr(closing, "This answer covers only the data we found with what you "
                                "confirmed:\nyour email address.") != NULL, "%s", closing);
  free(closing);
  dsr_set_fake_now(0);
}
END_TEST

Suite *suite_verified_only(void)
{
  Suite *s = suite_create("verified_only");
  TCase *tc = tcase_create("two_people");
  tcase_set_timeout(tc, 600);
  tcase_add_unchecked_fixture(tc, suite_setup, suite_teardown);
  tcase_add_checked_fixture(tc, setup, teardown);
  /* The erasure comes last: the others read A's data. */
  tcase_add_test(tc, an_access_package_holds_what_the_verified_identities_reach);
  tcase_add_test(tc, an_email_only_access_is_answered_from_the_email_alone);
  tcase_add_test(tc, an_identity_verified_later_is_searched_then);
  tcase_add_test(tc, another_persons_phone_reaches_no_stage_of_an_erasure);
  suite_add_tcase(s, tc);
  return s;
}

/**
 * @file test_ops_metrics.c
 * @brief GET /metrics on a real dsrd: Prometheus text format that
 *        `promtool check metrics` (Debian's prometheus package) accepts
 *        without a lint message; only for metrics_allow addresses or the
 *        metrics_token; HTTP, job and database figures that follow what was
 *        done; database counts cached for metrics_cache_seconds; no personal
 *        data in any label.
 */
#include "config.h"
#include "ops_util.h"
#include "dsr/metrics.h"

#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* promtool from PATH: required (scripts/install-deps installs it), never skipped. */
static char *promtool_path(void)
{
  const char *path = getenv("PATH");
  char *copy = strdup(path ? path : "/usr/bin:/bin");
  char *found = NULL, *save = NULL;
  for (char *d = strtok_r(copy, ":", &save); d && !found; d = strtok_r(NULL, ":", &save)) {
    char *p = NULL;
    ck_assert(asprintf(&p, "%s/promtool", d) > 0);
    if (access(p, X_OK) == 0)
      found = p;
    else
      free(p);
  }
  free(copy);
  ck_assert_msg(found != NULL, "promtool not found (apt-get install prometheus; "
                               "scripts/install-deps does)");
  return found;
}

/* Runs `promtool check metrics` on @p text; returns its exit status, its output in @p out. */
static int promtool_check(const char *text, char **out)
{
  char dir[256], in[300], res[300];
  h_tmpdir(dir, sizeof dir, "promtool");
  snprintf(in, sizeof in, "%s/metrics.txt", dir);
  snprintf(res, sizeof res, "%s/out", dir);
  ops_write(in, text);
  char *tool = promtool_path();
  pid_t pid = fork();
  ck_assert(pid >= 0);
  if (pid == 0) {
    int i = open(in, O_RDONLY), o = open(res, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (i < 0 || o < 0 || dup2(i, 0) < 0 || dup2(o, 1) < 0 || dup2(o, 2) < 0)
      _exit(126);
    execl(tool, tool, "check", "metrics", (char *)NULL);
    _exit(127);
  }
  int st = 0;
  ck_assert(waitpid(pid, &st, 0) == pid);
  *out = h_slurp(res, NULL);
  unlink(in);
  unlink(res);
  rmdir(dir);
  free(tool);
  return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* The value of the sample line that starts with @p series ("name{...}" or "name"); -1: none. */
static double value_of(const char *text, const char *series)
{
  size_t n = strlen(series);
  for (const char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
    if (!strncmp(p, series, n) && p[n] == ' ')
      return strtod(p + n + 1, NULL);
  }
  return -1;
}

static char *scrape(const struct h_dsrd *d, const char *auth, long *status)
{
  const char *hdr[] = {auth, NULL};
  struct h_resp r;
  h_http(d, "GET", "/metrics", auth ? hdr : NULL, NULL, &r);
  *status = r.status;
  if (r.status == 200)
    ck_assert_str_eq(r.content_type, DSR_METRICS_CONTENT_TYPE);
  char *body = strdup(r.body ? r.body : "");
  h_resp_free(&r);
  return body;
}

START_TEST(promtool_accepts_the_exposition_and_figures_follow_the_work)
{
  char url[600];
  snprintf(url, sizeof url, "--database-url=%s", it_pg.conninfo);
  /* Loopback is not allowed here: only the token opens /metrics. Counts cached for an hour. */
  const char *args[] = {url, "--metrics-allow=10.9.8.0/24,fd00::/8",
                        "--metrics-token=metrics-test-token-123",
                        "--metrics-cache-seconds=3600", NULL};
  struct h_dsrd d;
  h_dsrd_start(&d, NULL, args);
  long st = 0;
  char *body = scrape(&d, NULL, &st);
  ck_assert_int_eq(st, 404);
  free(body);
  body = scrape(&d, "Authorization: Bearer metrics-test-token-12", &st);
  ck_assert_int_eq(st, 404);
  free(body);

  static const char *const emails[] = {"mia.metrics@example.org", "noah.metrics@example.org"};
  for (size_t i = 0; i < 2; i++) {
    char req[256];
    snprintf(req, sizeof req, "{\"type\":\"erasure\",\"subject\":{\"email\":\"%s\"}}", emails[i]);
    json_t *j = NULL;
    ck_assert_int_eq(h_json_call(&d, "POST", "/v1/requests", NULL, 0, req, &j), 202);
    json_decref(j);
  }
  struct h_resp nf;
  h_http(&d, "GET", "/no/such/path", NULL, NULL, &nf);
  ck_assert_int_eq(nf.status, 404);
  h_resp_free(&nf);

  const char *auth = "Authorization: Bearer metrics-test-token-123";
  char *m1 = scrape(&d, auth, &st);
  ck_assert_int_eq(st, 200);
  char *lint = NULL;
  int rc = promtool_check(m1, &lint);
  ck_assert_msg(rc == 0 && lint[0] == '\0', "promtool check metrics: exit %d: %s", rc, lint);
  free(lint);
  for (size_t i = 0; i < 2; i++)
    ck_assert_msg(strstr(m1, emails[i]) == NULL, "personal data in /metrics");
  ck_assert(value_of(m1, "dsrd_build_info{version=\"" PACKAGE_VERSION "\",role=\"all\"}") == 1);
  ck_assert(value_of(m1, "dsrd_http_requests_total{route=\"/v1/requests\",method=\"POST\","
                         "status=\"202\"}") >= 2);
  ck_assert(value_of(m1, "dsrd_http_requests_total{route=\"unmatched\",method=\"GET\","
                         "status=\"404\"}") >= 1);
  ck_assert(value_of(m1, "dsrd_http_request_duration_seconds_count{route=\"/v1/requests\","
                         "method=\"POST\"}") >= 2);
  ck_assert(value_of(m1, "dsrd_http_request_duration_seconds_bucket{route=\"/v1/requests\","
                         "method=\"POST\",le=\"+Inf\"}") >= 2);
  ck_assert(value_of(m1, "dsrd_metrics_db_up") == 1);
  ck_assert(value_of(m1, "dsrd_metrics_db_reads_total") == 1);
  ck_assert(value_of(m1, "dsrd_db_pool_connections") >= 1);
  long open_db = h_sql_long(it_pg.conninfo, "SELECT count(*) FROM dsr_requests WHERE status IN "
                                            "('received', 'pending_verification', 'verified', "
                                            "'in_progress', 'on_hold')");
  ck_assert(value_of(m1, "dsrd_requests_open") == (double)open_db);
  ck_assert(value_of(m1, "dsrd_requests_overdue") >= 0);
  ck_assert(value_of(m1, "dsrd_requests_due_this_week") >= 0);
  ck_assert(value_of(m1, "dsrd_audit_sealed_position") >= 0);
  ck_assert_ptr_nonnull(strstr(m1, "\ndsrd_jobs{kind=\""));
  ck_assert_ptr_nonnull(strstr(m1, "\ndsrd_verifications{channel=\"email\",outcome=\""));
  ck_assert_ptr_nonnull(strstr(m1, "# TYPE dsrd_job_duration_seconds histogram\n"));
  ck_assert_ptr_nonnull(strstr(m1, "# TYPE dsrd_webhook_delivery_duration_seconds histogram\n"));

  /* Another request, another scrape: the HTTP figures move, the database counts are the
   * cached ones (read once per metrics_cache_seconds, not per scrape). */
  json_t *j = NULL;
  ck_assert_int_eq(h_json_call(&d, "POST", "/v1/requests", NULL, 0,
                               "{\"type\":\"access\",\"subject\":{\"email\":"
                               "\"ola.metrics@example.org\",\"phone\":\"+15550100400\"}}",
                               &j),
                   202);
  json_decref(j);
  char *m2 = scrape(&d, auth, &st);
  ck_assert_int_eq(st, 200);
  ck_assert(value_of(m2, "dsrd_http_requests_total{route=\"/v1/requests\",method=\"POST\","
                         "status=\"202\"}") >= 3);
  ck_assert(value_of(m2, "dsrd_metrics_db_reads_total") == 1);
  ck_assert(value_of(m2, "dsrd_requests_open") == value_of(m1, "dsrd_requests_open"));
  ck_assert(value_of(m2, "dsrd_http_requests_total{route=\"/metrics\",method=\"GET\","
                         "status=\"200\"}") >= 1);
  free(m1);
  free(m2);
  ck_assert_int_eq(h_dsrd_stop(&d, SIGTERM), 0);

  /* The shared daemon keeps the default metrics_allow (loopback): no token needed. */
  body = scrape(&it_dsrd, NULL, &st);
  ck_assert_int_eq(st, 200);
  rc = promtool_check(body, &lint);
  ck_assert_msg(rc == 0 && lint[0] == '\0', "promtool check metrics: exit %d: %s", rc, lint);
  fprintf(stderr, "metrics: %zu bytes from the shared dsrd, promtool clean\n", strlen(body));

  /* The example alert rules of contrib/ are valid and name only metrics that exist. */
  char rules[512];
  snprintf(rules, sizeof rules, "%s/contrib/prometheus/dsrd-alerts.yml", getenv("DSR_TOP_SRCDIR"));
  char *tool = promtool_path();
  pid_t pid = fork();
  ck_assert(pid >= 0);
  if (pid == 0) {
    int null = open("/dev/null", O_WRONLY);
    if (null < 0 || dup2(null, 1) < 0)
      _exit(126);
    execl(tool, tool, "check", "rules", rules, (char *)NULL);
    _exit(127);
  }
  int wst = 0;
  ck_assert(waitpid(pid, &wst, 0) == pid);
  ck_assert_msg(WIFEXITED(wst) && WEXITSTATUS(wst) == 0, "promtool check rules %s failed", rules);
  free(tool);
  char *text = h_slurp(rules, NULL);
  static const char *const names[] = {
      "dsrd_requests_overdue", "dsrd_requests_due_this_week", "dsrd_jobs{", "dsrd_jobs_runnable",
      "dsrd_webhook_endpoints_disabled", "dsrd_webhook_messages{", "dsrd_audit_seal_lag_seconds",
      "dsrd_metrics_db_up", "dsrd_http_requests_total{", "dsrd_db_pool_waiting",
      "dsrd_http_request_duration_seconds_bucket{"};
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
    ck_assert_msg(strstr(text, names[i]) != NULL, "rules lack %s", names[i]);
    char family[96];
    snprintf(family, sizeof family, "%.*s", (int)strcspn(names[i], "{"), names[i]);
    char *bucket = strstr(family, "_bucket");
    if (bucket)
      *bucket = '\0';
    char type[128];
    snprintf(type, sizeof type, "# TYPE %s ", family);
    ck_assert_msg(strstr(body, type) != NULL, "rules name %s, which /metrics lacks", family);
  }
  free(text);
  free(lint);
  free(body);
}
END_TEST

START_TEST(allow_list_matches_addresses_and_ranges)
{
  static const struct {
    const char *allow, *addr;
    bool ok;
  } cases[] = {
      {"127.0.0.1,::1", "127.0.0.1", true},
      {"127.0.0.1,::1", "::1", true},
      {"127.0.0.1,::1", "127.0.0.2", false},
      {"10.0.0.0/8", "10.200.3.4", true},
      {"10.0.0.0/8", "11.0.0.1", false},
      {"192.168.1.0/25", "192.168.1.127", true},
      {"192.168.1.0/25", "192.168.1.128", false},
      {"fd00::/8", "fd12:3456::1", true},
      {"fd00::/8", "fe80::1", false},
      {"127.0.0.1", "::ffff:127.0.0.1", true},
      {" 10.1.1.1 , 127.0.0.0/8 ", "127.9.9.9", true},
      {"0.0.0.0/0", "203.0.113.9", true},
      {"", "127.0.0.1", false},
      {"not-an-address,127.0.0.1/33", "127.0.0.1", false},
      {"127.0.0.1", "not-an-address", false},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
    ck_assert_msg(dsr_metrics_addr_allowed(cases[i].allow, cases[i].addr) == cases[i].ok,
                  "allow \"%s\" addr %s", cases[i].allow, cases[i].addr);
  ck_assert(!dsr_metrics_addr_allowed(NULL, "127.0.0.1"));
}
END_TEST

Suite *suite_ops_metrics(void)
{
  Suite *s = suite_create("ops_metrics");
  TCase *tc = tcase_create("ops_metrics");
  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, promtool_accepts_the_exposition_and_figures_follow_the_work);
  tcase_add_test(tc, allow_list_matches_addresses_and_ranges);
  suite_add_tcase(s, tc);
  return s;
}

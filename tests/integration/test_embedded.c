/**
 * @file test_embedded.c
 * @brief dsrd without database_url: the embedded cluster is created, shared by a
 *        second dsrd, survives kill -9 of dsrd (and of PostgreSQL itself), is
 *        used by dsrctl, and is stopped by the last dsrd with nothing left behind.
 */
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "suites.h"

static json_t *post(const struct h_dsrd *d)
{
  struct h_resp r;
  h_http(d, "POST", "/v1/requests", NULL,
         "{\"type\":\"erasure\",\"subject\":{\"email\":\"embedded@example.com\"}}", &r);
  ck_assert_msg(r.status == 202, "POST: %ld %s", r.status, r.body);
  json_t *j = h_resp_json(&r);
  h_resp_free(&r);
  return j;
}

static long status_of(const struct h_dsrd *d, const json_t *created)
{
  char path[80], auth[128];
  snprintf(path, sizeof path, "/v1/requests/%s", json_string_value(json_object_get(created, "id")));
  snprintf(auth, sizeof auth, "Authorization: Bearer %s",
           json_string_value(json_object_get(created, "status_token")));
  const char *hdrs[] = {auth, NULL};
  struct h_resp r;
  h_http(d, "GET", path, hdrs, NULL, &r);
  long st = r.status;
  h_resp_free(&r);
  return st;
}

/** Processes whose command line mentions @p needle (the state directory). */
static int processes_mentioning(const char *needle)
{
  int count = 0;
  DIR *proc = opendir("/proc");
  struct dirent *e;
  while (proc && (e = readdir(proc))) {
    if (e->d_name[0] < '0' || e->d_name[0] > '9')
      continue;
    char path[300], buf[4096];
    snprintf(path, sizeof path, "/proc/%s/cmdline", e->d_name);
    FILE *f = fopen(path, "r");
    if (!f)
      continue;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    for (size_t i = 0; i < n; i++)
      if (buf[i] == '\0')
        buf[i] = ' ';
    buf[n] = '\0';
    if (strstr(buf, needle))
      count++;
  }
  if (proc)
    closedir(proc);
  return count;
}

static pid_t postmaster_pid(const char *state)
{
  char path[400];
  snprintf(path, sizeof path, "%s/pg/data/postmaster.pid", state);
  FILE *f = fopen(path, "r");
  if (!f)
    return 0;
  long pid = 0;
  if (fscanf(f, "%ld", &pid) != 1)
    pid = 0;
  fclose(f);
  return (pid_t)pid;
}

START_TEST(embedded_cluster_lifecycle)
{
  char state[256];
  h_tmpdir(state, sizeof state, "embed");
  struct h_dsrd a, b, c, d;
  h_dsrd_start(&a, state, NULL);
  json_t *req = post(&a);
  pid_t pm = postmaster_pid(state);
  ck_assert_int_gt(pm, 0);

  /* A second dsrd on the same state directory shares the running cluster. */
  h_dsrd_start(&b, state, NULL);
  ck_assert_int_eq(status_of(&b, req), 200);
  ck_assert_int_eq(postmaster_pid(state), pm);
  ck_assert_int_eq(h_dsrd_stop(&b, SIGTERM), 0);
  ck_assert_int_eq(status_of(&a, req), 200); /* b leaving did not stop a's database */

  /* kill -9 of dsrd: the next start joins the cluster that kept running. */
  ck_assert_int_eq(h_dsrd_stop(&a, SIGKILL), 128 + SIGKILL);
  h_dsrd_start(&c, state, NULL);
  ck_assert_int_eq(status_of(&c, req), 200);

  /* dsrctl shares it too, and finds nothing left to migrate. */
  char *ctl = h_program("dsrctl");
  char cmd[1200];
  snprintf(cmd, sizeof cmd, "%s --state-dir=%s migrate > %s/migrate.out 2>&1", ctl, state, state);
  ck_assert_int_eq(system(cmd), 0);
  snprintf(cmd, sizeof cmd, "%s/migrate.out", state);
  char *out = h_slurp(cmd, NULL);
  ck_assert_msg(strstr(out, "applied 0 migrations") != NULL, "%s", out);
  free(out);
  free(ctl);

  /* kill -9 of dsrd and of PostgreSQL itself: the next start recovers the cluster. */
  pm = postmaster_pid(state);
  ck_assert_int_eq(h_dsrd_stop(&c, SIGKILL), 128 + SIGKILL);
  ck_assert_int_eq(kill(pm, SIGKILL), 0);
  for (int i = 0; i < 100 && kill(pm, 0) == 0; i++)
    usleep(50000); /* waiting for the kernel to reap it, not for a race */
  h_dsrd_start(&d, state, NULL);
  ck_assert_int_eq(status_of(&d, req), 200);
  json_t *again = post(&d);
  ck_assert_int_eq(status_of(&d, again), 200);

  /* The last dsrd out stops the cluster, leaving no process behind. */
  ck_assert_int_eq(h_dsrd_stop(&d, SIGTERM), 0);
  ck_assert_int_eq(postmaster_pid(state), 0);
  char pgdir[300];
  snprintf(pgdir, sizeof pgdir, "%s/pg/data", state);
  ck_assert_int_eq(processes_mentioning(pgdir), 0);
  json_decref(req);
  json_decref(again);
}
END_TEST

START_TEST(unusable_state_dir_is_a_clear_error)
{
  char *prog = h_program("dsrd");
  char cmd[1200];
  snprintf(cmd, sizeof cmd, "%s --state-dir=/proc/nonexistent/dsrd --port=1 2>/dev/null", prog);
  int st = system(cmd);
  ck_assert(WIFEXITED(st) && WEXITSTATUS(st) != 0);
  snprintf(cmd, sizeof cmd, "%s --no-such-flag 2>/dev/null", prog);
  st = system(cmd);
  ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 2);
  free(prog);
}
END_TEST

START_TEST(unreachable_database_answers_503_not_500)
{
  struct h_dsrd d;
  const char *args[] = {"--database-url=host=/nonexistent/socket-dir dbname=dsrd connect_timeout=2",
                        "--migrate-on-start=false", NULL};
  h_dsrd_start(&d, NULL, args);
  struct h_resp r;
  h_http(&d, "GET", "/readyz", NULL, NULL, &r);
  ck_assert_int_eq(r.status, 503);
  ck_assert(strstr(r.body, "\"db_unavailable\"") != NULL);
  h_resp_free(&r);
  h_http(&d, "POST", "/v1/requests", NULL,
         "{\"type\":\"access\",\"subject\":{\"email\":\"x@example.com\"}}", &r);
  ck_assert_int_eq(r.status, 503);
  ck_assert_str_eq(r.content_type, "application/problem+json");
  h_resp_free(&r);
  h_http(&d, "GET", "/healthz", NULL, NULL, &r);
  ck_assert_int_eq(r.status, 200); /* the process itself is fine */
  h_resp_free(&r);
  ck_assert_int_eq(h_dsrd_stop(&d, SIGTERM), 0);
}
END_TEST

Suite *suite_embedded(void)
{
  Suite *s = suite_create("embedded");
  TCase *tc = tcase_create("cluster");
  tcase_set_timeout(tc, 300);
  tcase_add_test(tc, embedded_cluster_lifecycle);
  tcase_add_test(tc, unusable_state_dir_is_a_clear_error);
  tcase_add_test(tc, unreachable_database_answers_503_not_500);
  suite_add_tcase(s, tc);
  return s;
}

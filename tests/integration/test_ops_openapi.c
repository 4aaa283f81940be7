/**
 * @file test_ops_openapi.c
 * @brief The OpenAPI document in use: dsrd serves it at /openapi.json (the
 *        same bytes as docs/openapi.json); npm's @apidevtools/swagger-parser
 *        validates it against the OpenAPI 3.1 schema; a client built from
 *        it by openapi-client-axios files a request and reads its status;
 *        error type URIs are stable and lead to a page dsrd serves, or to
 *        problem_base_url when that is set. The node tools come from
 *        tests/openapi (package-lock.json, scripts/install-deps); without
 *        them the test fails, it never skips.
 */
#include "ops_util.h"

#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* tests/openapi with its node_modules: DSR_OPENAPI_DIR (scripts/check sets it for distcheck). */
static void openapi_dir(char *out, size_t len)
{
  const char *d = getenv("DSR_OPENAPI_DIR");
  if (d && *d)
    snprintf(out, len, "%s", d);
  else
    snprintf(out, len, "%s/tests/openapi", getenv("DSR_TOP_SRCDIR"));
  char mods[600];
  snprintf(mods, sizeof mods, "%s/node_modules/@apidevtools/swagger-parser", out);
  struct stat st;
  ck_assert_msg(stat(mods, &st) == 0,
                "%s is missing: run scripts/install-deps (npm ci in tests/openapi)", mods);
}

/* Runs node with @p script of tests/openapi and one argument; returns its output (caller frees). */
static char *node(const char *script, const char *arg, int *status)
{
  char dir[512], path[600];
  openapi_dir(dir, sizeof dir);
  snprintf(path, sizeof path, "%s/%s", dir, script);
  char tmp[256], outp[300];
  h_tmpdir(tmp, sizeof tmp, "node");
  snprintf(outp, sizeof outp, "%s/out", tmp);
  char *cmd = NULL;
  ck_assert(asprintf(&cmd, "node '%s' '%s' >'%s' 2>&1 </dev/null", path, arg, outp) > 0);
  int st = system(cmd);
  free(cmd);
  *status = WIFEXITED(st) ? WEXITSTATUS(st) : 128;
  char *out = h_slurp(outp, NULL);
  unlink(outp);
  rmdir(tmp);
  return out;
}

START_TEST(served_document_is_docs_openapi_json_and_valid)
{
  struct h_resp r;
  h_http(&it_dsrd, "GET", "/openapi.json", NULL, NULL, &r);
  ck_assert_int_eq(r.status, 200);
  char path[512];
  snprintf(path, sizeof path, "%s/docs/openapi.json", getenv("DSR_TOP_SRCDIR"));
  size_t len = 0;
  char *file = h_slurp(path, &len);
  ck_assert_uint_eq(r.len, len);
  ck_assert(memcmp(r.body, file, len) == 0);
  free(file);
  /* validate what was served */
  char tmp[256], served[300];
  h_tmpdir(tmp, sizeof tmp, "openapi");
  snprintf(served, sizeof served, "%s/openapi.json", tmp);
  ops_write(served, r.body);
  h_resp_free(&r);
  int st = 0;
  char *out = node("validate.mjs", served, &st);
  ck_assert_msg(st == 0, "swagger-parser: %s", out);
  ck_assert_ptr_nonnull(strstr(out, "is valid OpenAPI 3.1.0"));
  fprintf(stderr, "%s", out);
  free(out);
  unlink(served);
  rmdir(tmp);
}
END_TEST

START_TEST(generated_client_files_a_request_and_reads_its_status)
{
  int st = 0;
  char *out = node("client.mjs", it_dsrd.base, &st);
  ck_assert_msg(st == 0, "client.mjs: %s", out);
  ck_assert_ptr_nonnull(strstr(out, "openapi client: 4 checks passed"));
  fprintf(stderr, "%s", out);
  free(out);
}
END_TEST

START_TEST(error_types_are_stable_and_lead_to_a_page)
{
  /* default: BASE_URL/errors/CODE, a page dsrd serves */
  json_t *j = NULL;
  ck_assert_int_eq(h_json_call(&it_dsrd, "POST", "/v1/requests", NULL, 0, "{\"type\":1}", &j), 400);
  char want[128];
  snprintf(want, sizeof want, "%s/errors/%s", it_dsrd.base,
           json_string_value(json_object_get(j, "code")));
  ck_assert_str_eq(json_string_value(json_object_get(j, "type")), want);
  json_decref(j);
  struct h_resp r;
  h_http(&it_dsrd, "GET", "/errors/field_type", NULL, NULL, &r);
  ck_assert_int_eq(r.status, 200);
  ck_assert_ptr_nonnull(strstr(r.content_type, "text/html"));
  ck_assert_ptr_nonnull(strstr(r.body, "field_type"));
  ck_assert_ptr_nonnull(strstr(r.body, "HTTP 400"));
  h_resp_free(&r);
  h_http(&it_dsrd, "GET", "/errors/no_such_code", NULL, NULL, &r);
  ck_assert_int_eq(r.status, 404);
  h_resp_free(&r);

  /* configured: problem_base_url + code */
  char url[600];
  snprintf(url, sizeof url, "--database-url=%s", it_pg.conninfo);
  const char *args[] = {url, "--problem-base-url=https://docs.example.com/dsrd/errors/", NULL};
  struct h_dsrd d;
  h_dsrd_start(&d, NULL, args);
  h_http(&d, "GET", "/v1/no/such/route", NULL, NULL, &r);
  ck_assert_int_eq(r.status, 404);
  j = h_resp_json(&r);
  ck_assert_str_eq(json_string_value(json_object_get(j, "type")),
                   "https://docs.example.com/dsrd/errors/not_found");
  json_decref(j);
  h_resp_free(&r);
  ck_assert_int_eq(h_dsrd_stop(&d, SIGTERM), 0);
}
END_TEST

Suite *suite_ops_openapi(void)
{
  Suite *s = suite_create("ops_openapi");
  TCase *tc = tcase_create("ops_openapi");
  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, served_document_is_docs_openapi_json_and_valid);
  tcase_add_test(tc, generated_client_files_a_request_and_reads_its_status);
  tcase_add_test(tc, error_types_are_stable_and_lead_to_a_page);
  suite_add_tcase(s, tc);
  return s;
}

/**
 * @file test_malformed.c
 * @brief Throws every case of tests/data/malformed-requests.json at the running
 *        daemon over a raw socket; each must get its 4xx with a problem+json body
 *        naming the expected code, and the daemon must stay healthy.
 */
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include "suites.h"
#include "dsr/util.h"

static json_t *cases;

static void load_cases(void)
{
  char path[1024];
  snprintf(path, sizeof path, "%s/tests/data/malformed-requests.json", getenv("DSR_TOP_SRCDIR"));
  json_error_t e;
  cases = json_load_file(path, 0, &e);
  if (!cases) {
    fprintf(stderr, "%s:%d: %s\n", path, e.line, e.text);
    exit(99);
  }
}

static void repeat(struct dsr_buf *b, const json_t *spec)
{
  const char *text = json_string_value(json_object_get(spec, "text"));
  json_int_t n = json_integer_value(json_object_get(spec, "count"));
  for (json_int_t i = 0; i < n; i++)
    ck_assert(dsr_buf_puts(b, text));
}

/** Builds the raw HTTP/1.1 request of one case. */
static void build(const json_t *c, struct dsr_buf *req)
{
  struct dsr_buf body = {0};
  const char *s = json_string_value(json_object_get(c, "body"));
  const char *hex = json_string_value(json_object_get(c, "body_hex"));
  const json_t *rep = json_object_get(c, "body_repeat");
  const json_t *chunked = json_object_get(c, "chunked_repeat");
  if (s)
    ck_assert(dsr_buf_puts(&body, s));
  if (hex) {
    unsigned char bin[512];
    size_t bl = 0;
    ck_assert(sodium_hex2bin(bin, sizeof bin, hex, strlen(hex), NULL, &bl, NULL) == 0);
    ck_assert(dsr_buf_append(&body, bin, bl));
  }
  if (rep)
    repeat(&body, rep);
  if (chunked)
    repeat(&body, chunked);
  bool has_body = s || hex || rep || chunked;
  ck_assert(dsr_buf_printf(req, "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n",
                           json_string_value(json_object_get(c, "method")),
                           json_string_value(json_object_get(c, "path"))));
  size_t i;
  json_t *h;
  json_array_foreach(json_object_get(c, "headers"), i, h)
    ck_assert(dsr_buf_printf(req, "%s\r\n", json_string_value(h)));
  const json_t *hr = json_object_get(c, "header_repeat");
  if (hr) {
    ck_assert(dsr_buf_printf(req, "%s: ", json_string_value(json_object_get(hr, "name"))));
    for (json_int_t k = 0; k < json_integer_value(json_object_get(hr, "count")); k++)
      ck_assert(dsr_buf_puts(req, "x"));
    ck_assert(dsr_buf_puts(req, "\r\n"));
  }
  json_int_t many = json_integer_value(json_object_get(c, "many_headers"));
  for (json_int_t k = 0; k < many; k++)
    ck_assert(dsr_buf_printf(req, "X-Many-%lld: %s\r\n", (long long)k, "0123456789abcdef0123456789abcdef0123456789"));
  if (chunked) {
    ck_assert(dsr_buf_puts(req, "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"));
    for (size_t off = 0; off < body.len; off += 4096) {
      size_t n = body.len - off < 4096 ? body.len - off : 4096;
      ck_assert(dsr_buf_printf(req, "%zx\r\n", n));
      ck_assert(dsr_buf_append(req, body.data + off, n));
      ck_assert(dsr_buf_puts(req, "\r\n"));
    }
    ck_assert(dsr_buf_puts(req, "0\r\n\r\n"));
  } else {
    if (has_body)
      ck_assert(dsr_buf_printf(req, "Content-Length: %zu\r\n", body.len));
    ck_assert(dsr_buf_puts(req, "\r\n"));
    ck_assert(dsr_buf_append(req, body.data ? body.data : "", body.len));
  }
  dsr_buf_free(&body);
}

START_TEST(each_malformed_request_gets_its_problem)
{
  const json_t *c = json_array_get(cases, (size_t)_i);
  const char *name = json_string_value(json_object_get(c, "name"));
  struct dsr_buf req = {0};
  build(c, &req);
  struct h_resp r;
  h_raw(&it_dsrd, req.data, req.len, &r);
  long want = (long)json_integer_value(json_object_get(c, "expect_status"));
  const char *code = json_string_value(json_object_get(c, "expect_code"));
  ck_assert_msg(r.status == want, "[%s] expected %ld, got %ld: %.300s", name, want, r.status,
                r.body);
  ck_assert_msg(strcmp(r.content_type, "application/problem+json") == 0,
                "[%s] content type \"%s\"", name, r.content_type);
  json_t *p = json_loadb(r.body, r.len, 0, NULL);
  ck_assert_msg(p != NULL, "[%s] body is not JSON: %.200s", name, r.body);
  ck_assert_msg(strcmp(json_string_value(json_object_get(p, "code")), code) == 0,
                "[%s] expected code %s, got %s", name, code,
                json_string_value(json_object_get(p, "code")));
  ck_assert_int_eq(json_integer_value(json_object_get(p, "status")), want);
  ck_assert_ptr_nonnull(json_string_value(json_object_get(p, "type")));
  ck_assert_ptr_nonnull(json_string_value(json_object_get(p, "title")));
  ck_assert_ptr_nonnull(json_string_value(json_object_get(p, "detail")));
  json_decref(p);
  h_resp_free(&r);
  dsr_buf_free(&req);
}
END_TEST

START_TEST(daemon_healthy_after_all_cases)
{
  /* Runs after the loop (Check keeps order); also proves nothing accepted was lost. */
  struct h_resp r;
  h_http(&it_dsrd, "GET", "/readyz", NULL, NULL, &r);
  ck_assert_int_eq(r.status, 200);
  h_resp_free(&r);
  h_http(&it_dsrd, "POST", "/v1/requests", NULL,
         "{\"type\":\"access\",\"subject\":{\"email\":\"after@example.com\"}}", &r);
  ck_assert_int_eq(r.status, 202);
  h_resp_free(&r);
}
END_TEST

START_TEST(at_least_forty_cases)
{
  ck_assert_uint_ge(json_array_size(cases), 40);
}
END_TEST

Suite *suite_malformed(void)
{
  load_cases();
  Suite *s = suite_create("malformed");
  TCase *tc = tcase_create("requests");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, at_least_forty_cases);
  tcase_add_loop_test(tc, each_malformed_request_gets_its_problem, 0, (int)json_array_size(cases));
  tcase_add_test(tc, daemon_healthy_after_all_cases);
  suite_add_tcase(s, tc);
  return s;
}

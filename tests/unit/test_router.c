/** @file test_router.c @brief The routing table and path safety. */
#include <string.h>
#include "suites.h"
#include "httpd.h"

START_TEST(matches_and_captures)
{
  const char *args[DSR_MAX_PATH_ARGS] = {0};
  char buf[256];
  bool known;
  const struct dsr_route *r = dsr_route_match(dsr_routes,
                                              "GET", "/v1/requests/abc-123", args, buf, sizeof buf,
                                              &known);
  ck_assert_ptr_nonnull(r);
  ck_assert(known);
  ck_assert_ptr_eq(r->handler, dsrd_requests_get);
  ck_assert_str_eq(args[0], "abc-123");
  r = dsr_route_match(dsr_routes, "POST", "/v1/requests", args, buf, sizeof buf, &known);
  ck_assert_ptr_nonnull(r);
  ck_assert_ptr_eq(r->handler, dsrd_requests_create);
  ck_assert_ptr_nonnull(r->body);
  r = dsr_route_match(dsr_routes, "HEAD", "/healthz", args, buf, sizeof buf, &known);
  ck_assert_ptr_nonnull(r);
}
END_TEST

START_TEST(method_and_path_misses)
{
  const char *args[DSR_MAX_PATH_ARGS];
  char buf[256];
  bool known;
  ck_assert_ptr_null(dsr_route_match(dsr_routes,
                                     "DELETE", "/v1/requests", args, buf, sizeof buf, &known));
  ck_assert(known);
  ck_assert_ptr_null(dsr_route_match(dsr_routes,
                                     "GET", "/v1/nothing", args, buf, sizeof buf, &known));
  ck_assert(!known);
  ck_assert_ptr_null(dsr_route_match(dsr_routes,
                                     "GET", "/v1/requests/a/b", args, buf, sizeof buf, &known));
  ck_assert(!known);
  ck_assert_ptr_null(dsr_route_match(dsr_routes,
                                     "GET", "/v1/requests/", args, buf, sizeof buf, &known));
  char allow[64];
  dsr_route_allowed(dsr_routes, "/v1/requests", allow, sizeof allow);
  ck_assert_str_eq(allow, "POST");
}
END_TEST

START_TEST(unsafe_paths)
{
  static const char *const bad[] = {"", "v1", "/v1//requests", "/v1/../etc/passwd", "/v1/./x",
                                    "/..", "/v1/requests/..", "/a\\b", "/a%2e%2e", "/a b",
                                    "/caf\xc3\xa9", "/x\x01"};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
    ck_assert_msg(!dsr_path_safe(bad[i]), "accepted \"%s\"", bad[i]);
  ck_assert(dsr_path_safe("/v1/requests/0b6f1b0c-8d0e-4c39-9b8a-3f7a3c1e2d4f"));
  ck_assert(dsr_path_safe("/"));
  ck_assert(dsr_path_safe("/a/.well-known"));
}
END_TEST

START_TEST(every_route_is_well_formed)
{
  for (const struct dsr_route *r = dsr_routes; r->method; r++) {
    ck_assert_msg(r->pattern[0] == '/', "%s", r->pattern);
    ck_assert_ptr_nonnull(r->handler);
    ck_assert_msg(strcmp(r->method, "GET") != 0 || r->body == NULL, "GET %s takes a body",
                  r->pattern);
  }
}
END_TEST

/* DRP routes follow drp_base_path, and only DRP routes do. */
START_TEST(drp_routes_under_their_base_path)
{
  const char *args[DSR_MAX_PATH_ARGS] = {0};
  char buf[256];
  bool known;
  const struct dsr_route *r =
      dsr_route_match(dsr_routes, "GET", "/drp/v1/agent/MY_AGENT", args, buf, sizeof buf, &known);
  ck_assert_ptr_nonnull(r);
  ck_assert_ptr_eq(r->handler, dsrd_drp_agent);
  ck_assert(r->drp && r->auth == DSR_AUTH_AGENT);
  ck_assert_str_eq(args[0], "MY_AGENT");
  r = dsr_route_match(dsr_routes,
                      "DELETE", "/drp/v1/data-rights-request/x", args, buf, sizeof buf, &known);
  ck_assert_ptr_nonnull(r);
  ck_assert(r->text);
  dsr_routes_drp_base("/privacy/drp/");
  ck_assert_ptr_null(dsr_route_match(dsr_routes,
                                     "GET", "/drp/v1/agent/A", args, buf, sizeof buf, &known));
  ck_assert(!known);
  r = dsr_route_match(dsr_routes, "POST", "/privacy/drp/v1/agent/A", args, buf, sizeof buf, &known);
  ck_assert_ptr_nonnull(r);
  ck_assert_ptr_eq(r->handler, dsrd_drp_pair);
  ck_assert_str_eq(args[0], "A");
  ck_assert_ptr_null(dsr_route_match(dsr_routes,
                                     "GET", "/privacy/drpx/v1/agent/A", args, buf, sizeof buf,
                                     &known));
  char allow[64];
  dsr_route_allowed(dsr_routes, "/privacy/drp/v1/data-rights-request/x", allow, sizeof allow);
  ck_assert_str_eq(allow, "GET, DELETE");
  /* other routes never move */
  ck_assert_ptr_nonnull(dsr_route_match(dsr_routes,
                                        "GET", "/healthz", args, buf, sizeof buf, &known));
  ck_assert_ptr_null(dsr_route_match(dsr_routes,
                                     "GET", "/privacy/drp/healthz", args, buf, sizeof buf, &known));
  dsr_routes_drp_base(NULL);
  ck_assert_ptr_nonnull(dsr_route_match(dsr_routes,
                                        "GET", "/drp/v1/agent/A", args, buf, sizeof buf, &known));
}
END_TEST

Suite *suite_router(void)
{
  Suite *s = suite_create("router");
  TCase *tc = tcase_create("table");
  tcase_add_test(tc, matches_and_captures);
  tcase_add_test(tc, method_and_path_misses);
  tcase_add_test(tc, unsafe_paths);
  tcase_add_test(tc, every_route_is_well_formed);
  tcase_add_test(tc, drp_routes_under_their_base_path);
  suite_add_tcase(s, tc);
  return s;
}

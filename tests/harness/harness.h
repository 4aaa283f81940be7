/**
 * @file harness.h
 * @brief Integration-test harness: a throwaway PostgreSQL cluster (run as an
 *        unprivileged user), real dsrd processes on free loopback ports, an
 *        HTTP client (libcurl), a raw-socket sender for malformed requests,
 *        and SQL helpers. Failures abort the test: in CI a test that cannot
 *        get its database fails, it never skips.
 */
#ifndef DSR_HARNESS_H
#define DSR_HARNESS_H

#include <jansson.h>
#include <libpq-fe.h>
#include <stdbool.h>
#include <sys/types.h>
#include <check.h>
#include <stdio.h>
#include <stdlib.h>

/** A throwaway cluster; conninfo points at database "dsrd". */
struct h_pg {
  char dir[256];
  char *conninfo;
  void *embed; /* struct dsr_pgembed */
};

/** A running dsrd. */
struct h_dsrd {
  pid_t pid;
  unsigned port;
  char base[64];     /* http://127.0.0.1:PORT */
  char log[300];     /* its stderr */
  char state_dir[256];
};

/** An HTTP answer; body is NUL-terminated and owned (h_resp_free). */
struct h_resp {
  long status;
  char *body;
  size_t len;
  char content_type[128];
  char headers[4096];
};

/**
 * True while main() sets up the shared cluster and daemon, outside any test:
 * then a failed requirement prints and exits instead of failing a test.
 */
extern bool h_setup_phase;
/** Stops the cluster main() started during setup (none left running) and exits 1. */
_Noreturn void h_setup_fail(void);
#define H_REQUIRE(cond, ...)                                \
  do {                                                      \
    if (!(cond)) {                                          \
      if (h_setup_phase) {                                  \
        fprintf(stderr, "setup failed: " __VA_ARGS__);      \
        fputc('\n', stderr);                               \
        h_setup_fail();                                     \
      }                                                     \
      ck_abort_msg(__VA_ARGS__);                            \
    }                                                       \
  } while (0)
#define H_REQUIRE1(cond) H_REQUIRE(cond, "%s", #cond)

/** Makes an empty directory under /tmp that the cluster's user can enter. */
void h_tmpdir(char *out, size_t outlen, const char *tag);

/** Starts a cluster in a new temporary directory. */
void h_pg_start(struct h_pg *pg);
void h_pg_stop(struct h_pg *pg);

/**
 * Starts dsrd with @p args (NULL-terminated "--key=value" strings) plus a free
 * port and a fresh state dir unless @p state_dir is given; waits until /healthz
 * answers.
 */
void h_dsrd_start(struct h_dsrd *d, const char *state_dir, const char *const *args);
/** Starts dsrd as h_dsrd_start() does, without waiting for HTTP (e.g. --role=worker). */
void h_dsrd_spawn(struct h_dsrd *d, const char *state_dir, const char *const *args);
/** Sends @p sig and waits for the process; returns its exit status (or 128+signal). */
int h_dsrd_stop(struct h_dsrd *d, int sig);
/** Path of a built program (dsrd, dsrctl). Caller frees. */
char *h_program(const char *name);

/** One HTTP exchange; @p headers is NULL-terminated "Name: value" lines. */
void h_http(const struct h_dsrd *d, const char *method, const char *path,
            const char *const *headers, const char *body, struct h_resp *out);
void h_resp_free(struct h_resp *r);
/**
 * A JSON request (Content-Type: application/json) with the header lines
 * @p extra[0..n-1] that are not NULL; returns the status and, when @p json is
 * given, the parsed body (NULL when empty or not JSON; caller decrefs).
 */
long h_json_call(const struct h_dsrd *d, const char *method, const char *path,
                 const char *const *extra, size_t n, const char *body, json_t **json);
/** Parses the body as JSON (aborts the test if it is not). Caller decrefs. */
json_t *h_resp_json(const struct h_resp *r);

/** Sends raw bytes on a new connection and reads the whole answer. */
void h_raw(const struct h_dsrd *d, const void *req, size_t len, struct h_resp *out);

/** Runs SQL on a new connection; aborts the test on error. Caller PQclear()s. */
PGresult *h_sql(const char *conninfo, const char *sql);
/** First column of the first row as a long. */
long h_sql_long(const char *conninfo, const char *sql);

/** Reads a whole file (or aborts). Caller frees. */
char *h_slurp(const char *path, size_t *len);

#endif

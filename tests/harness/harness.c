/** @file harness.c @brief See harness.h. */
#include "config.h"
#include "harness.h"
#include "dsr/config.h"
#include "dsr/pgembed.h"

#include <arpa/inet.h>
#include <check.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

bool h_setup_phase;
/* The cluster started during setup: a failed setup stops it rather than leave it running. */
static struct h_pg *setup_pg;

void h_setup_fail(void)
{
  if (setup_pg && setup_pg->embed)
    h_pg_stop(setup_pg);
  exit(1);
}

static void rm_rf(const char *dir);

/* The directories this process made, removed when it exits: a full run makes about a
 * thousand, and a sample platform's is 100 MB. Check forks a process per test, which
 * inherits the list: each process removes only what it made itself. */
static struct {
  pid_t pid;
  char path[64];
} made[256];
static size_t nmade;

static void tmpdirs_remove(void)
{
  if (getenv("DSR_KEEP_TMP"))
    return;
  for (size_t i = 0; i < nmade; i++)
    if (made[i].pid == getpid())
      rm_rf(made[i].path);
}

void h_tmpdir(char *out, size_t outlen, const char *tag)
{
  snprintf(out, outlen, "/tmp/dsr-%s-XXXXXX", tag);
  H_REQUIRE(mkdtemp(out) != NULL, "mkdtemp: %s", strerror(errno));
  chmod(out, 0755); /* the cluster's user must be able to enter it */
  if (nmade == 0)
    atexit(tmpdirs_remove);
  if (nmade < DSR_ARRAY_LEN(made) && strlen(out) < sizeof made[0].path) {
    made[nmade].pid = getpid();
    memcpy(made[nmade].path, out, strlen(out) + 1);
    nmade++;
  }
}

static void base_config(struct dsr_config *cfg, const char *state)
{
  H_REQUIRE1(dsr_config_defaults(cfg));
  char err[256];
  H_REQUIRE1(dsr_config_set(cfg, "state_dir", state, err, sizeof err));
  const char *bindir = getenv("DSR_PG_BINDIR");
  if (bindir)
    H_REQUIRE1(dsr_config_set(cfg, "pg_bindir", bindir, err, sizeof err));
}

void h_pg_start(struct h_pg *pg)
{
  memset(pg, 0, sizeof *pg);
  h_tmpdir(pg->dir, sizeof pg->dir, "pg");
  struct dsr_config cfg;
  base_config(&cfg, pg->dir);
  char err[1024];
  struct dsr_pgembed *e = dsr_pgembed_acquire(&cfg, err, sizeof err);
  H_REQUIRE(e != NULL, "cannot start the test PostgreSQL: %s", err);
  pg->embed = e;
  if (h_setup_phase)
    setup_pg = pg;
  H_REQUIRE(dsr_pgembed_ensure_db(e, "dsrd", err, sizeof err), "%s", err);
  pg->conninfo = dsr_pgembed_conninfo(e, "dsrd");
  dsr_config_free(&cfg);
}

static void rm_rf(const char *dir)
{
  pid_t pid = fork();
  if (pid == 0) {
    execlp("rm", "rm", "-rf", "--", dir, (char *)NULL);
    _exit(127);
  }
  int st;
  waitpid(pid, &st, 0);
}

void h_pg_stop(struct h_pg *pg)
{
  if (pg == setup_pg)
    setup_pg = NULL;
  dsr_pgembed_release(pg->embed);
  pg->embed = NULL;
  free(pg->conninfo);
  pg->conninfo = NULL;
  if (!getenv("DSR_KEEP_TMP"))
    rm_rf(pg->dir);
}

char *h_program(const char *name)
{
  const char *top = getenv("DSR_TOP_BUILDDIR");
  H_REQUIRE(top != NULL, "DSR_TOP_BUILDDIR is not set (run through make check)");
  char *p = NULL;
  H_REQUIRE1(asprintf(&p, "%s/%s", top, name) > 0);
  return p;
}

static unsigned free_port(void)
{
  int s = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  H_REQUIRE1(bind(s, (struct sockaddr *)&a, sizeof a) == 0);
  socklen_t len = sizeof a;
  H_REQUIRE1(getsockname(s, (struct sockaddr *)&a, &len) == 0);
  close(s);
  return ntohs(a.sin_port);
}

static bool healthy(const struct h_dsrd *d)
{
  CURL *c = curl_easy_init();
  char url[128];
  snprintf(url, sizeof url, "%s/healthz", d->base);
  curl_easy_setopt(c, CURLOPT_URL, url);
  curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 1000L);
  long code = 0;
  if (curl_easy_perform(c) == CURLE_OK)
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
  curl_easy_cleanup(c);
  return code == 200;
}

void h_dsrd_spawn(struct h_dsrd *d, const char *state_dir, const char *const *args)
{
  memset(d, 0, sizeof *d);
  if (state_dir)
    snprintf(d->state_dir, sizeof d->state_dir, "%s", state_dir);
  else
    h_tmpdir(d->state_dir, sizeof d->state_dir, "state");
  d->port = free_port();
  snprintf(d->base, sizeof d->base, "http://127.0.0.1:%u", d->port);
  snprintf(d->log, sizeof d->log, "%s/dsrd-%u.log", d->state_dir, d->port);
  char port_arg[32], state_arg[300];
  snprintf(port_arg, sizeof port_arg, "--port=%u", d->port);
  snprintf(state_arg, sizeof state_arg, "--state-dir=%s", d->state_dir);
  char *prog = h_program("dsrd");
  /*
   * Suites share daemons and post many requests from one address: rate limits
   * start wide open; a test of the limits passes its own values, which come
   * later on the command line and win.
   */
  const char *argv[40] = {prog,
                          port_arg,
                          state_arg,
                          "--log-level=debug",
                          "--rate-intake-per-address=1000000",
                          "--rate-intake-per-identity=1000000",
                          "--rate-verify-per-address=1000000",
                          "--rate-verify-per-request=1000000"};
  int n = 8;
  for (int i = 0; args && args[i] && n < 39; i++)
    argv[n++] = args[i];
  argv[n] = NULL;
  d->pid = fork();
  H_REQUIRE1(d->pid >= 0);
  if (d->pid == 0) {
    int fd = open(d->log, O_WRONLY | O_CREAT | O_APPEND, 0644);
    int null = open("/dev/null", O_WRONLY);
    dup2(fd, STDERR_FILENO);
    dup2(null, STDOUT_FILENO);
    execv(prog, (char *const *)argv);
    _exit(127);
  }
  free(prog);
}

void h_dsrd_start(struct h_dsrd *d, const char *state_dir, const char *const *args)
{
  h_dsrd_spawn(d, state_dir, args);
  /* Readiness poll: dsrd may have to initdb first, which takes seconds. */
  for (int i = 0; i < 600; i++) {
    if (healthy(d))
      return;
    int st;
    if (waitpid(d->pid, &st, WNOHANG) == d->pid) {
      char *log = h_slurp(d->log, NULL);
      H_REQUIRE(false, "dsrd exited during start (status %d): %s", st, log);
    }
    struct timespec ts = {0, 100000000L};
    nanosleep(&ts, NULL);
  }
  H_REQUIRE(false, "dsrd did not become healthy on port %u", d->port);
}

int h_dsrd_stop(struct h_dsrd *d, int sig)
{
  if (d->pid <= 0)
    return -1;
  kill(d->pid, sig);
  int st = 0;
  while (waitpid(d->pid, &st, 0) < 0 && errno == EINTR)
    ;
  d->pid = 0;
  return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

struct sink {
  char *data;
  size_t len;
};

static size_t on_data(char *p, size_t size, size_t n, void *arg)
{
  struct sink *s = arg;
  size_t add = size * n;
  char *grown = realloc(s->data, s->len + add + 1);
  if (!grown)
    return 0;
  memcpy(grown + s->len, p, add);
  s->data = grown;
  s->len += add;
  s->data[s->len] = '\0';
  return add;
}

static size_t on_header(char *p, size_t size, size_t n, void *arg)
{
  struct h_resp *r = arg;
  size_t add = size * n;
  size_t used = strlen(r->headers);
  if (used + add + 1 < sizeof r->headers) {
    memcpy(r->headers + used, p, add);
    r->headers[used + add] = '\0';
  }
  if (add > 14 && strncasecmp(p, "Content-Type: ", 14) == 0) {
    size_t cl = add - 14;
    while (cl > 0 && (p[14 + cl - 1] == '\r' || p[14 + cl - 1] == '\n'))
      cl--;
    if (cl >= sizeof r->content_type)
      cl = sizeof r->content_type - 1;
    memcpy(r->content_type, p + 14, cl);
    r->content_type[cl] = '\0';
  }
  return add;
}

void h_http(const struct h_dsrd *d, const char *method, const char *path,
            const char *const *headers, const char *body, struct h_resp *out)
{
  memset(out, 0, sizeof *out);
  CURL *c = curl_easy_init();
  char url[1200];
  snprintf(url, sizeof url, "%s%s", d->base, path);
  struct curl_slist *hl = NULL;
  for (int i = 0; headers && headers[i]; i++)
    hl = curl_slist_append(hl, headers[i]);
  if (body && !headers)
    hl = curl_slist_append(hl, "Content-Type: application/json");
  struct sink s = {0};
  curl_easy_setopt(c, CURLOPT_URL, url);
  curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
  if (body) {
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
  }
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &s);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, out);
  curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
  CURLcode rc = curl_easy_perform(c);
  H_REQUIRE(rc == CURLE_OK, "%s %s: %s", method, path, curl_easy_strerror(rc));
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &out->status);
  out->body = s.data ? s.data : strdup("");
  out->len = s.len;
  curl_slist_free_all(hl);
  curl_easy_cleanup(c);
}

void h_resp_free(struct h_resp *r)
{
  free(r->body);
  r->body = NULL;
}

json_t *h_resp_json(const struct h_resp *r)
{
  json_error_t e;
  json_t *j = json_loadb(r->body, r->len, 0, &e);
  H_REQUIRE(j != NULL, "answer is not JSON (%ld): %.200s", r->status, r->body);
  return j;
}

void h_raw(const struct h_dsrd *d, const void *req, size_t len, struct h_resp *out)
{
  memset(out, 0, sizeof *out);
  int s = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)d->port),
                          .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  H_REQUIRE1(connect(s, (struct sockaddr *)&a, sizeof a) == 0);
  struct timeval tv = {10, 0};
  setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  size_t sent = 0;
  while (sent < len) {
    ssize_t w = send(s, (const char *)req + sent, len - sent, MSG_NOSIGNAL);
    if (w <= 0)
      break; /* the server may answer and close before reading everything */
    sent += (size_t)w;
  }
  shutdown(s, SHUT_WR);
  struct sink k = {0};
  char buf[8192];
  ssize_t n;
  while ((n = recv(s, buf, sizeof buf, 0)) > 0)
    on_data(buf, 1, (size_t)n, &k);
  close(s);
  H_REQUIRE(k.data != NULL, "no answer at all");
  sscanf(k.data, "HTTP/1.%*d %ld", &out->status);
  char *hdr_end = strstr(k.data, "\r\n\r\n");
  H_REQUIRE(hdr_end != NULL, "no header end in answer");
  size_t hl = (size_t)(hdr_end - k.data);
  if (hl >= sizeof out->headers)
    hl = sizeof out->headers - 1;
  memcpy(out->headers, k.data, hl);
  out->headers[hl] = '\0';
  char *ct = strcasestr(out->headers, "\r\nContent-Type: ");
  if (ct)
    sscanf(ct + 16, "%127[^\r\n]", out->content_type);
  out->body = strdup(hdr_end + 4);
  out->len = strlen(out->body);
  free(k.data);
}

PGresult *h_sql(const char *conninfo, const char *sql)
{
  PGconn *c = PQconnectdb(conninfo);
  H_REQUIRE(PQstatus(c) == CONNECTION_OK, "connect: %s", PQerrorMessage(c));
  PGresult *r = PQexec(c, sql);
  ExecStatusType st = PQresultStatus(r);
  H_REQUIRE(st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK, "%s: %s", sql,
                PQresultErrorMessage(r));
  PQfinish(c);
  return r;
}

long h_sql_long(const char *conninfo, const char *sql)
{
  PGresult *r = h_sql(conninfo, sql);
  H_REQUIRE(PQntuples(r) >= 1, "no row from %s", sql);
  long v = atol(PQgetvalue(r, 0, 0));
  PQclear(r);
  return v;
}

char *h_slurp(const char *path, size_t *len)
{
  FILE *f = fopen(path, "rb");
  H_REQUIRE(f != NULL, "cannot open %s", path);
  struct sink s = {0};
  char buf[8192];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, f)) > 0)
    on_data(buf, 1, n, &s);
  fclose(f);
  if (len)
    *len = s.len;
  return s.data ? s.data : strdup("");
}

long h_json_call(const struct h_dsrd *d, const char *method, const char *path,
                 const char *const *extra, size_t n, const char *body, json_t **json)
{
  const char *hdrs[12] = {"Content-Type: application/json"};
  size_t used = 1;
  for (size_t i = 0; i < n && used < 11; i++)
    if (extra[i])
      hdrs[used++] = extra[i];
  hdrs[used] = NULL;
  struct h_resp r = {0};
  h_http(d, method, path, hdrs, body, &r);
  if (json)
    *json = r.len ? json_loadb(r.body, r.len, 0, NULL) : NULL;
  long st = r.status;
  h_resp_free(&r);
  return st;
}

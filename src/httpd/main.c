/**
 * @file main.c
 * @brief dsrd: configuration, keys, database (embedded or configured),
 *        migrations, then the HTTP server until SIGINT or SIGTERM.
 */
#include "config.h"
#include "httpd.h"
#include "conn_guard.h"
#include "dsr/audit.h"
#include "dsr/crypto.h"
#include "dsr/db_async.h"
#include "dsr/dbsetup.h"
#include "dsr/log.h"
#include "dsr/phone.h"
#include "dsr/routing_sweep.h"
#include "dsr/sweep.h"
#include "dsr/validate.h"
#include "dsr/ratelimit.h"

#include <curl/curl.h>
#include "worker.h"

#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static void usage(FILE *out)
{
  fprintf(out, "usage: dsrd [-c FILE] [--role=http|worker|all] [--KEY=VALUE ...]\n"
               "Privacy-rights engine: HTTP API and workers. Settings (see dsrd.conf(5)):\n");
  for (const struct dsr_config_key *k = dsr_config_keys(); k->name; k++)
    fprintf(out, "  --%-22s %s\n", k->name, k->help);
}

/** Everything main() owns, released in one place. */
struct daemon_state {
  struct dsr_config cfg;
  struct dsr_dbsetup db;
  struct dsr_app app;
  struct dsr_policy *policy;
  struct dsr_drp_directory *drp_dir;
  struct MHD_Daemon *mhd;
  struct dsr_conn_guard *guard;
  struct dsr_workers *workers;
  struct dsr_worker_env env;
  struct dsr_audit_sealer *sealer;
  char *key_file;
  char *link_base;
};

#define RATE_SLOTS 65536

/* One token-bucket table per limit (ratelimit.h). */
static bool start_limits(struct daemon_state *s)
{
  const long per_hour[DSR_RATE_COUNT] = {
      [DSR_RATE_INTAKE_ADDRESS] = s->cfg.rate_intake_per_address,
      [DSR_RATE_VERIFY_ADDRESS] = s->cfg.rate_verify_per_address,
      [DSR_RATE_INTAKE_IDENTITY] = s->cfg.rate_intake_per_identity,
      [DSR_RATE_VERIFY_REQUEST] = s->cfg.rate_verify_per_request,
      [DSR_RATE_LOGIN_ADDRESS] = s->cfg.rate_login_per_address,
  };
  for (int i = 1; i < DSR_RATE_COUNT; i++)
    if (!(s->app.rl[i] = dsr_ratelimit_new(per_hour[i], RATE_SLOTS)))
      return false;
  return true;
}

static bool start_http(struct daemon_state *s, char *err, size_t errlen)
{
  struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)s->cfg.port)};
  if (inet_pton(AF_INET, s->cfg.listen_address, &addr.sin_addr) != 1) {
    snprintf(err, errlen, "listen_address \"%s\" is not an IPv4 address", s->cfg.listen_address);
    return false;
  }
  s->guard = s->app.guard =
      dsr_conn_guard_start(s->cfg.request_header_timeout, s->cfg.request_timeout);
  if (!s->guard) {
    snprintf(err, errlen, "cannot start the connection guard");
    return false;
  }
  /*
   * Status reads go out pipelined, in batches, on connections of their own: an eighth of
   * the pool's size (2 by default; 1 gave fewer reads a second, 4 more CPU per read on
   * 2 CPUs: bench/README.md, status reads).
   */
  s->app.dbq = dsr_dbq_start(s->app.pool,
                             s->cfg.db_pool_size >= 16 ? (unsigned)s->cfg.db_pool_size / 8 : 1);
  if (!s->app.dbq) {
    snprintf(err, errlen, "cannot start the status reads' runner");
    return false;
  }
  s->mhd = MHD_start_daemon(
      MHD_USE_EPOLL_INTERNAL_THREAD | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG,
      (uint16_t)s->cfg.port, NULL, NULL,
      dsr_dispatch, &s->app, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
      MHD_OPTION_THREAD_POOL_SIZE, (unsigned int)s->cfg.threads,
      /*
       * Larger than max_header_bytes (twice, for libmicrohttpd's per-header records), so
       * oversized headers reach us and get a problem+json. No larger: libmicrohttpd zeroes
       * the whole pool between the requests of a keep-alive connection, so its size is a
       * cost paid on every request (bench/README.md, status reads).
       */
      MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(s->cfg.max_header_bytes * 2 + 16384),
      MHD_OPTION_CONNECTION_TIMEOUT, 30u, MHD_OPTION_NOTIFY_COMPLETED, dsr_dispatch_completed,
      NULL,
      /* One address cannot hold every connection; slow senders meet deadlines (conn_guard.c). */
      MHD_OPTION_CONNECTION_LIMIT, (unsigned int)s->cfg.max_connections,
      MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned int)s->cfg.max_connections_per_address,
      MHD_OPTION_NOTIFY_CONNECTION, dsr_conn_guard_notify, s->guard,
      /* libmicrohttpd's own strict checks (no Host on HTTP/1.1, spaces in the URI); the
       * dispatcher adds the rest (dispatch.c, strict_headers). */
      MHD_OPTION_STRICT_FOR_CLIENT, (int)1, MHD_OPTION_URI_LOG_CALLBACK, dsr_uri_seen, &s->app,
      MHD_OPTION_END);
  if (!s->mhd) {
    snprintf(err, errlen, "cannot listen on %s:%ld: %s", s->cfg.listen_address, s->cfg.port,
             strerror(errno));
    return false;
  }
  const union MHD_DaemonInfo *info = MHD_get_daemon_info(s->mhd, MHD_DAEMON_INFO_BIND_PORT);
  unsigned port = info ? info->port : (unsigned)s->cfg.port;
  DSR_INFO("http.listening", "address=%s port=%u threads=%ld", s->cfg.listen_address, port,
           s->cfg.threads);
  printf("dsrd listening on http://%s:%u/\n", s->cfg.listen_address, port);
  fflush(stdout);
  return true;
}

static int wait_for_signal(void)
{
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  int sig = 0;
  while (sigwait(&set, &sig) != 0)
    ;
  return sig;
}

int main(int argc, char **argv)
{
  struct daemon_state s = {0};
  char err[1024] = "";
  int rc = 1;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
      usage(stdout);
      return 0;
    }
    if (!strcmp(argv[i], "--version")) {
      printf("dsrd %s\n", PACKAGE_VERSION);
      return 0;
    }
  }
  char **rest = calloc((size_t)argc + 1, sizeof *rest);
  int nrest = 0;
  if (!rest || !dsr_config_from_args(&s.cfg, argc, argv, rest, &nrest, err, sizeof err)) {
    fprintf(stderr, "dsrd: %s\n", rest ? err : "out of memory");
    free(rest);
    dsr_config_free(&s.cfg);
    return 2;
  }
  if (nrest > 0) {
    fprintf(stderr, "dsrd: unknown option %s (see dsrd --help)\n", rest[0]);
    free(rest);
    dsr_config_free(&s.cfg);
    return 2;
  }
  free(rest);
  enum dsr_log_level lvl;
  if (!dsr_log_parse_level(s.cfg.log_level, &lvl)) {
    fprintf(stderr, "dsrd: log_level must be debug, info, warn or error\n");
    dsr_config_free(&s.cfg);
    return 2;
  }
  dsr_log_set_level(lvl);
  if (s.cfg.test_clock_offset) {
    dsr_set_clock_offset(s.cfg.test_clock_offset);
    DSR_WARN("clock.offset", "seconds=%ld note=\"test_clock_offset is for tests only\"",
             s.cfg.test_clock_offset);
  }
  bool run_http = !strcmp(s.cfg.role, "http") || !strcmp(s.cfg.role, "all");
  bool run_workers = !strcmp(s.cfg.role, "worker") || !strcmp(s.cfg.role, "all");
  if (!run_http && !run_workers) {
    fprintf(stderr, "dsrd: role must be http, worker or all\n");
    dsr_config_free(&s.cfg);
    return 2;
  }

  /* Signals go to the main thread only; every thread created later inherits the mask. */
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, NULL);
  signal(SIGPIPE, SIG_IGN);
  curl_global_init(CURL_GLOBAL_DEFAULT); /* before any thread: libcurl's rule */

  if (mkdir(s.cfg.state_dir, 0755) != 0 && errno != EEXIST) {
    snprintf(err, sizeof err, "cannot create state_dir %s: %s", s.cfg.state_dir, strerror(errno));
    goto cleanup;
  }
  s.key_file = s.cfg.secret_key_file ? strdup(s.cfg.secret_key_file)
                                     : dsr_asprintf("%s/secret.key", s.cfg.state_dir);
  if (!s.key_file || !dsr_crypto_init(s.key_file, err, sizeof err))
    goto cleanup;
  if (!dsr_validate_init()) {
    snprintf(err, sizeof err, "cannot compile the validation patterns");
    goto cleanup;
  }
  if (s.cfg.policy_file) {
    s.policy = dsr_policy_load(s.cfg.policy_file, err, sizeof err);
    if (!s.policy)
      goto cleanup;
    s.app.policy = s.policy;
  }
  if (s.cfg.drp_agents_file) {
    s.drp_dir = dsr_drp_directory_load(s.cfg.drp_agents_file, err, sizeof err);
    if (!s.drp_dir)
      goto cleanup;
    s.app.drp_dir = s.drp_dir;
  }
  if (s.cfg.drp_base_path && (s.cfg.drp_base_path[0] != '/' || s.cfg.drp_base_path[1] == '\0' ||
                              !dsr_path_safe(s.cfg.drp_base_path))) {
    snprintf(err, sizeof err, "drp_base_path must be a path such as /drp");
    goto cleanup;
  }
  if (s.cfg.phone_region && !dsr_phone_region_valid(s.cfg.phone_region)) {
    snprintf(err, sizeof err, "phone_region must be a region code such as DE or BR");
    goto cleanup;
  }
  dsr_routes_drp_base(s.cfg.drp_base_path);
  if (!dsr_dbsetup_open(&s.cfg, s.cfg.migrate_on_start, &s.db, err, sizeof err))
    goto cleanup;
  s.app.cfg = &s.cfg;
  s.app.routes = dsr_routes;
  s.link_base = s.cfg.base_url ? strdup(s.cfg.base_url)
                               : dsr_asprintf("http://%s:%ld", s.cfg.listen_address, s.cfg.port);
  if (s.link_base && *s.link_base && s.link_base[strlen(s.link_base) - 1] == '/')
    s.link_base[strlen(s.link_base) - 1] = '\0';
  s.app.venv = (struct dsr_verify_env){.policy = s.policy, .link_base = s.link_base};
  if (!s.link_base || !start_limits(&s)) {
    snprintf(err, sizeof err, "out of memory");
    goto cleanup;
  }
  s.app.pool = dsr_db_pool_new(s.db.conninfo, (unsigned)s.cfg.db_pool_size);
  if (!s.app.pool) {
    snprintf(err, sizeof err, "out of memory");
    goto cleanup;
  }
  s.env = (struct dsr_worker_env){.cfg = &s.cfg, .policy = s.policy};
  if (run_workers && s.cfg.workers > 0) {
    s.workers = dsr_workers_start(s.db.conninfo, (int)s.cfg.workers, &s.env, err, sizeof err);
    if (!s.workers)
      goto cleanup;
    /* The routing sweep reschedules itself; this starts the chain (once per slot). */
    struct dsr_db *db = dsr_db_acquire(s.app.pool);
    if (!db || !dsr_routing_schedule(db, s.cfg.routing_sweep_interval))
      DSR_WARN("routing.schedule_failed", "retry=next_start");
    /* Likewise the retention sweep, when there is a policy to sweep by. */
    if (db && s.policy && !dsr_sweep_schedule(db, s.cfg.retention_sweep_interval))
      DSR_WARN("sweep.schedule_failed", "retry=next_start");
    dsr_db_release(db);
  }
  s.sealer = dsr_audit_sealer_start(s.app.pool, s.cfg.audit_seal_interval_ms);
  if (!s.sealer) {
    snprintf(err, sizeof err, "cannot start the audit sealer");
    goto cleanup;
  }
  if (run_http && !start_http(&s, err, sizeof err))
    goto cleanup;
  int sig = wait_for_signal();
  DSR_INFO("dsrd.stopping", "signal=%d", sig);
  rc = 0;
cleanup:
  dsr_log_flush(); /* the access lines held, before anything else is written */
  if (rc != 0)
    fprintf(stderr, "dsrd: %s\n", err);
  /* every read handed over is answered, so no connection stays suspended past here */
  dsr_dbq_stop(s.app.dbq);
  if (s.mhd)
    MHD_stop_daemon(s.mhd);
  dsr_log_flush(); /* the last requests' access lines */
  dsr_dbq_free(s.app.dbq);
  dsr_conn_guard_stop(s.guard);
  dsr_workers_stop(s.workers);
  for (int i = 0; i < DSR_RATE_COUNT; i++)
    dsr_ratelimit_free(s.app.rl[i]);
  free(s.link_base);
  dsr_audit_sealer_stop(s.sealer); /* after the last request: seals what they recorded */
  dsr_db_pool_free(s.app.pool);
  dsr_dbsetup_close(&s.db);
  dsr_validate_done();
  dsr_policy_free(s.policy);
  dsr_drp_directory_free(s.drp_dir);
  free(s.key_file);
  dsr_config_free(&s.cfg);
  curl_global_cleanup();
  if (rc == 0)
    DSR_INFO("dsrd.stopped", NULL);
  return rc;
}

/** @file pgembed.c @brief The embedded PostgreSQL cluster (see pgembed.h for the protocol). */
#include "config.h"
#include "dsr/pgembed.h"
#include "dsr/log.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <time.h>
#include <grp.h>
#include <libpq-fe.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define PG_PORT "5432"
#define SOCKET_NAME "/.s.PGSQL." PG_PORT

struct dsr_pgembed {
  char *bindir;
  char *pgdir;   /* STATE/pg */
  char *datadir; /* STATE/pg/data */
  char *sockdir; /* STATE/pg/run */
  char *logfile; /* STATE/pg/postgres.log */
  int lock_fd;   /* STATE/pg.lock: held exclusively while starting or stopping */
  int users_fd;  /* STATE/pg.users: held shared while in use */
  bool as_other; /* run server programs as run_uid/run_gid */
  uid_t run_uid;
  gid_t run_gid;
  char run_user[64];
};

static bool mkdir_p(const char *path, mode_t mode)
{
  char tmp[PATH_MAX];
  if (!dsr_strlcpy(tmp, path, sizeof tmp))
    return false;
  for (char *p = tmp + 1; *p; p++) {
    if (*p == '/') {
      *p = '\0';
      if (mkdir(tmp, mode) != 0 && errno != EEXIST)
        return false;
      *p = '/';
    }
  }
  return mkdir(tmp, mode) == 0 || errno == EEXIST;
}

/**
 * Runs a PostgreSQL program in a new session (so a terminal's Ctrl-C reaches
 * dsrd, which then stops the cluster in order) as the cluster's user.
 * Output goes to @p log. Returns the exit status, or -1.
 */
static int run_pg(const struct dsr_pgembed *pg, const char *const argv[], const char *log)
{
  int logfd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
  if (logfd < 0)
    return -1;
  if (pg->as_other && fchown(logfd, pg->run_uid, pg->run_gid) != 0) {
    close(logfd);
    return -1;
  }
  pid_t pid = fork();
  if (pid < 0) {
    close(logfd);
    return -1;
  }
  if (pid == 0) {
    setsid();
    int devnull = open("/dev/null", O_RDONLY);
    if (devnull >= 0)
      dup2(devnull, STDIN_FILENO);
    dup2(logfd, STDOUT_FILENO);
    dup2(logfd, STDERR_FILENO);
    if (pg->as_other &&
        (setgid(pg->run_gid) != 0 || initgroups(pg->run_user, pg->run_gid) != 0 ||
         setuid(pg->run_uid) != 0)) {
      fprintf(stderr, "dsrd: cannot switch to user %s\n", pg->run_user);
      _exit(125);
    }
    if (chdir(pg->pgdir) != 0) {
      fprintf(stderr, "dsrd: %s cannot enter %s: %s\n", pg->run_user, pg->pgdir,
              strerror(errno));
      _exit(126);
    }
    char *const envp[] = {"PATH=/usr/bin:/bin", "LC_ALL=C", "TZ=UTC", NULL};
    execve(argv[0], (char *const *)argv, envp);
    fprintf(stderr, "dsrd: cannot run %s: %s\n", argv[0], strerror(errno));
    _exit(127);
  }
  close(logfd);
  int status;
  while (waitpid(pid, &status, 0) < 0)
    if (errno != EINTR)
      return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
  return remove(path);
}

/** Removes @p path and everything below it; a missing path is fine. */
static bool rm_tree(const char *path)
{
  struct stat st;
  if (lstat(path, &st) != 0)
    return errno == ENOENT;
  return nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS) == 0;
}

static char *prog(const struct dsr_pgembed *pg, const char *name)
{
  return dsr_asprintf("%s/%s", pg->bindir, name);
}

static bool write_conf(const struct dsr_pgembed *pg, const char *datadir)
{
  char *path = dsr_asprintf("%s/postgresql.conf", datadir);
  FILE *f = path ? fopen(path, "a") : NULL;
  free(path);
  if (!f)
    return false;
  /*
   * No TCP at all: only processes that can reach the socket directory can
   * connect. The directory itself is given at each start (-k), never written
   * here, so a copied or restored state directory's cluster still starts.
   */
  (void)pg;
  fprintf(f, "\n# added by dsrd for its embedded cluster\n"
             "listen_addresses = ''\n"
             "unix_socket_permissions = 0700\n"
             "max_connections = 200\n"
             "shared_buffers = 128MB\n"
             "log_min_messages = warning\n");
  return fclose(f) == 0;
}

static bool initdb(struct dsr_pgembed *pg, char *err, size_t errlen)
{
  struct stat st;
  if (stat(pg->datadir, &st) == 0)
    return true;
  /* Initialise aside and rename, so an interrupted initdb never leaves a half cluster. */
  char *tmp = dsr_asprintf("%s.init", pg->datadir);
  char *bin = prog(pg, "initdb");
  char *setup_log = dsr_asprintf("%s/setup.log", pg->pgdir);
  bool ok = false;
  if (!tmp || !bin || !setup_log)
    goto cleanup;
  if (!rm_tree(tmp)) {
    snprintf(err, errlen, "cannot remove the leftover %s: %s", tmp, strerror(errno));
    goto cleanup;
  }
  DSR_INFO("pg.initdb", "dir=%s", pg->pgdir);
  const char *argv[] = {bin, "-D", tmp, "-U", "dsrd", "-A", "trust", "-E", "UTF8", "--locale=C",
                        "--no-instructions", NULL};
  int rc = run_pg(pg, argv, setup_log);
  if (rc != 0) {
    snprintf(err, errlen, "initdb failed (exit %d); see %s", rc, setup_log);
    goto cleanup;
  }
  if (!write_conf(pg, tmp) || rename(tmp, pg->datadir) != 0) {
    snprintf(err, errlen, "cannot finish the new cluster in %s: %s", pg->datadir, strerror(errno));
    goto cleanup;
  }
  ok = true;
cleanup:
  if (!ok && !*err)
    snprintf(err, errlen, "out of memory");
  free(tmp);
  free(bin);
  free(setup_log);
  return ok;
}

static bool running(const struct dsr_pgembed *pg)
{
  char *bin = prog(pg, "pg_ctl");
  char *log = dsr_asprintf("%s/setup.log", pg->pgdir);
  bool up = false;
  if (bin && log) {
    const char *argv[] = {bin, "status", "-D", pg->datadir, NULL};
    up = run_pg(pg, argv, log) == 0;
  }
  free(bin);
  free(log);
  return up;
}

static bool start(const struct dsr_pgembed *pg, char *err, size_t errlen)
{
  char *bin = prog(pg, "pg_ctl");
  char *log = dsr_asprintf("%s/setup.log", pg->pgdir);
  char *opts = NULL;
  bool ok = false;
  if (!bin || !log)
    goto cleanup;
  DSR_INFO("pg.start", "dir=%s", pg->pgdir);
  /* The socket directory of this start (it wins over an older cluster's pinned one). */
  if (strchr(pg->sockdir, '\'') || strchr(pg->sockdir, '\\')) {
    snprintf(err, errlen, "the state directory's path may not hold ' or \\: %s", pg->sockdir);
    goto cleanup;
  }
  opts = dsr_asprintf("-k '%s'", pg->sockdir);
  if (!opts)
    goto cleanup;
  const char *argv[] = {bin,  "start", "-D", pg->datadir, "-l", pg->logfile, "-o", opts,
                        "-w", "-t",    "120", "-s",       NULL};
  int rc = run_pg(pg, argv, log);
  if (rc != 0) {
    snprintf(err, errlen, "the embedded PostgreSQL did not start (exit %d); see %s", rc,
             pg->logfile);
    goto cleanup;
  }
  ok = true;
cleanup:
  free(opts);
  free(bin);
  free(log);
  return ok;
}

/** The postmaster's pid from postmaster.pid, or 0. */
static pid_t postmaster_pid(const struct dsr_pgembed *pg)
{
  char *path = dsr_asprintf("%s/postmaster.pid", pg->datadir);
  FILE *f = path ? fopen(path, "r") : NULL;
  long pid = 0;
  if (f && fscanf(f, "%ld", &pid) != 1)
    pid = 0;
  if (f)
    fclose(f);
  free(path);
  return (pid_t)pid;
}

static void stop(const struct dsr_pgembed *pg)
{
  char *bin = prog(pg, "pg_ctl");
  char *log = dsr_asprintf("%s/setup.log", pg->pgdir);
  pid_t pid = postmaster_pid(pg);
  if (bin && log) {
    DSR_INFO("pg.stop", "dir=%s", pg->pgdir);
    const char *argv[] = {bin, "stop", "-D", pg->datadir, "-m", "fast", "-w", "-t", "60", "-s",
                          NULL};
    if (run_pg(pg, argv, log) != 0)
      DSR_WARN("pg.stop_failed", "dir=%s", pg->pgdir);
  }
  /*
   * pg_ctl returns once postmaster.pid is gone, which the postmaster removes
   * just before it exits: wait (bounded) for the process itself, so that when
   * dsrd exits no PostgreSQL process of this cluster is left.
   */
  for (int i = 0; pid > 0 && i < 500 && kill(pid, 0) == 0; i++) {
    struct timespec ts = {0, 20 * 1000 * 1000};
    nanosleep(&ts, NULL);
  }
  free(bin);
  free(log);
}

static void pg_free(struct dsr_pgembed *pg)
{
  if (pg->lock_fd >= 0)
    close(pg->lock_fd);
  if (pg->users_fd >= 0)
    close(pg->users_fd);
  free(pg->bindir);
  free(pg->pgdir);
  free(pg->datadir);
  free(pg->sockdir);
  free(pg->logfile);
  free(pg);
}

static bool set_owner(struct dsr_pgembed *pg, const struct dsr_config *cfg, char *err,
                      size_t errlen)
{
  if (geteuid() != 0)
    return true;
  struct passwd *pw = getpwnam(cfg->pg_user);
  if (!pw) {
    snprintf(err, errlen,
             "running as root, the embedded PostgreSQL needs the unprivileged user \"%s\" "
             "(install postgresql or set pg_user)",
             cfg->pg_user);
    return false;
  }
  if (pw->pw_uid == 0) {
    snprintf(err, errlen, "pg_user must not be root: PostgreSQL refuses to run as root");
    return false;
  }
  pg->as_other = true;
  pg->run_uid = pw->pw_uid;
  pg->run_gid = pw->pw_gid;
  dsr_strlcpy(pg->run_user, cfg->pg_user, sizeof pg->run_user);
  if (chown(pg->pgdir, pg->run_uid, pg->run_gid) != 0 ||
      chown(pg->sockdir, pg->run_uid, pg->run_gid) != 0) {
    snprintf(err, errlen, "cannot hand %s to %s: %s", pg->pgdir, cfg->pg_user, strerror(errno));
    return false;
  }
  return true;
}

static int open_lock(const char *state, const char *name)
{
  char *path = dsr_asprintf("%s/%s", state, name);
  int fd = path ? open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600) : -1;
  free(path);
  return fd;
}

struct dsr_pgembed *dsr_pgembed_acquire(const struct dsr_config *cfg, char *err, size_t errlen)
{
  err[0] = '\0';
  struct dsr_pgembed *pg = calloc(1, sizeof *pg);
  if (!pg) {
    snprintf(err, errlen, "out of memory");
    return NULL;
  }
  pg->lock_fd = pg->users_fd = -1;
  char state[PATH_MAX];
  if (!mkdir_p(cfg->state_dir, 0755) || !realpath(cfg->state_dir, state)) {
    snprintf(err, errlen, "state directory %s: %s", cfg->state_dir, strerror(errno));
    goto fail;
  }
  pg->bindir = strdup(cfg->pg_bindir);
  pg->pgdir = dsr_asprintf("%s/pg", state);
  pg->datadir = dsr_asprintf("%s/pg/data", state);
  pg->sockdir = dsr_asprintf("%s/pg/run", state);
  pg->logfile = dsr_asprintf("%s/pg/postgres.log", state);
  if (!pg->bindir || !pg->pgdir || !pg->datadir || !pg->sockdir || !pg->logfile) {
    snprintf(err, errlen, "out of memory");
    goto fail;
  }
  if (strlen(pg->sockdir) + strlen(SOCKET_NAME) >= 108) {
    snprintf(err, errlen,
             "state directory path too long for a Unix socket (%zu bytes); use a shorter "
             "state_dir",
             strlen(state));
    goto fail;
  }
  char *initdb_bin = prog(pg, "initdb");
  bool have_bin = initdb_bin && access(initdb_bin, X_OK) == 0;
  free(initdb_bin);
  if (!have_bin) {
    snprintf(err, errlen,
             "no initdb in %s: install the Debian package postgresql, or set pg_bindir, or "
             "set database_url",
             pg->bindir);
    goto fail;
  }
  if (!mkdir_p(pg->sockdir, 0700) || chmod(pg->pgdir, 0700) != 0) {
    snprintf(err, errlen, "cannot create %s: %s", pg->sockdir, strerror(errno));
    goto fail;
  }
  if (!set_owner(pg, cfg, err, errlen))
    goto fail;
  pg->lock_fd = open_lock(state, "pg.lock");
  pg->users_fd = open_lock(state, "pg.users");
  if (pg->lock_fd < 0 || pg->users_fd < 0) {
    snprintf(err, errlen, "cannot open the lock files in %s: %s", state, strerror(errno));
    goto fail;
  }
  if (flock(pg->lock_fd, LOCK_EX) != 0) {
    snprintf(err, errlen, "cannot lock %s/pg.lock: %s", state, strerror(errno));
    goto fail;
  }
  bool ok = initdb(pg, err, errlen) && (running(pg) || start(pg, err, errlen));
  if (ok && flock(pg->users_fd, LOCK_SH) != 0) {
    snprintf(err, errlen, "cannot lock %s/pg.users: %s", state, strerror(errno));
    ok = false;
  }
  flock(pg->lock_fd, LOCK_UN);
  if (!ok)
    goto fail;
  return pg;
fail:
  pg_free(pg);
  return NULL;
}

static char *quoted(const char *s)
{
  struct dsr_buf b = {0};
  bool ok = dsr_buf_puts(&b, "'");
  for (const char *p = s; ok && *p; p++) {
    if (*p == '\'' || *p == '\\')
      ok = dsr_buf_puts(&b, "\\");
    ok = ok && dsr_buf_append(&b, p, 1);
  }
  ok = ok && dsr_buf_puts(&b, "'");
  if (!ok) {
    dsr_buf_free(&b);
    return NULL;
  }
  return dsr_buf_steal(&b);
}

char *dsr_pgembed_conninfo(const struct dsr_pgembed *pg, const char *dbname)
{
  char *host = quoted(pg->sockdir);
  char *db = quoted(dbname);
  char *s = host && db ? dsr_asprintf("host=%s port=" PG_PORT " user=dsrd dbname=%s", host, db)
                       : NULL;
  free(host);
  free(db);
  return s;
}

bool dsr_pgembed_ensure_db(const struct dsr_pgembed *pg, const char *dbname, char *err,
                           size_t errlen)
{
  char *ci = dsr_pgembed_conninfo(pg, "postgres");
  PGconn *c = ci ? PQconnectdb(ci) : NULL;
  free(ci);
  bool ok = false;
  PGresult *r = NULL;
  if (!c || PQstatus(c) != CONNECTION_OK) {
    snprintf(err, errlen, "cannot connect to the embedded cluster: %s",
             c ? PQerrorMessage(c) : "out of memory");
    goto cleanup;
  }
  const char *params[] = {dbname};
  r = PQexecParams(c, "SELECT 1 FROM pg_database WHERE datname = $1", 1, NULL, params, NULL,
                   NULL, 0);
  if (PQresultStatus(r) != PGRES_TUPLES_OK) {
    snprintf(err, errlen, "%s", PQresultErrorMessage(r));
    goto cleanup;
  }
  if (PQntuples(r) == 0) {
    PQclear(r);
    char *ident = PQescapeIdentifier(c, dbname, strlen(dbname));
    char *sql = ident ? dsr_asprintf("CREATE DATABASE %s", ident) : NULL;
    PQfreemem(ident);
    r = sql ? PQexec(c, sql) : NULL;
    free(sql);
    /* Another process may have created it in between: 42P04 is success for us. */
    if (!r || (PQresultStatus(r) != PGRES_COMMAND_OK &&
               strcmp(PQresultErrorField(r, PG_DIAG_SQLSTATE) ?: "", "42P04") != 0)) {
      snprintf(err, errlen, "CREATE DATABASE %s: %s", dbname,
               r ? PQresultErrorMessage(r) : "out of memory");
      goto cleanup;
    }
  }
  ok = true;
cleanup:
  PQclear(r);
  PQfinish(c);
  return ok;
}

void dsr_pgembed_release(struct dsr_pgembed *pg)
{
  if (!pg)
    return;
  if (flock(pg->lock_fd, LOCK_EX) == 0) {
    /* Exclusive on pg.users succeeds only when no other process still uses the cluster. */
    if (flock(pg->users_fd, LOCK_EX | LOCK_NB) == 0)
      stop(pg);
    else
      DSR_INFO("pg.shared", "msg=\"other processes still use the cluster; leaving it running\"");
    flock(pg->lock_fd, LOCK_UN);
  }
  pg_free(pg);
}

/**
 * @file ctl_export.c
 * @brief dsrctl export --policy FILE (--email X | --phone Y | --account-id Z)
 *        [--portability] [--tenant T | --controller] --out FILE.zip: writes
 *        a subject's access (or portability) package with the same library
 *        code dsrd's export job runs (encrypted to a temporary file with a
 *        key held only in memory), then decrypts it to FILE.zip for the
 *        operator. Prints counts and the process's peak resident memory.
 */
#include "config.h"
#include "ctl.h"
#include "dsr/discovery.h"
#include "dsr/export.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* VmHWM of this process in KiB, or -1. */
static long peak_rss_kib(void)
{
  FILE *f = fopen("/proc/self/status", "r");
  char line[256];
  long v = -1;
  while (f && fgets(line, sizeof line, f))
    if (!strncmp(line, "VmHWM:", 6))
      v = strtol(line + 6, NULL, 10);
  if (f)
    fclose(f);
  return v;
}

static bool decrypt_to(const char *from, const char *to, const unsigned char *key)
{
  struct dsr_xsource src;
  bool ok = dsr_xsource_open(&src, from, key);
  int fd = ok ? open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600) : -1;
  ok = ok && fd >= 0;
  char buf[65536];
  ssize_t n;
  while (ok && (n = dsr_xsource_read(&src, buf, sizeof buf)) != 0)
    ok = n > 0 && write(fd, buf, (size_t)n) == n;
  if (fd >= 0 && close(fd) != 0)
    ok = false;
  dsr_xsource_close(&src);
  return ok;
}

int ctl_export(const struct dsr_config *cfg, int argc, char **argv)
{
  (void)cfg;
  struct dsr_subject subj = {ctl_opt(argc, argv, "--email"), ctl_opt(argc, argv, "--phone"),
                             ctl_opt(argc, argv, "--account-id")};
  const char *file = ctl_opt(argc, argv, "--policy"), *out = ctl_opt(argc, argv, "--out");
  const char *tenant = ctl_opt(argc, argv, "--tenant");
  bool portability = false, controller = false;
  for (int i = 1; i < argc; i++) {
    portability = portability || !strcmp(argv[i], "--portability");
    controller = controller || !strcmp(argv[i], "--controller");
  }
  const char *lang = ctl_opt(argc, argv, "--language"), *rows = ctl_opt(argc, argv, "--summary-rows");
  char *end = NULL;
  long summary_rows = rows ? strtol(rows, &end, 10) : 0;
  if (!file || !out || (!subj.email && !subj.phone && !subj.account_id) ||
      (rows && (end == rows || *end || summary_rows < 1))) {
    ctl_error("export: needs --policy, --out and an identity; --summary-rows takes a number "
              "from 1 (see dsrctl export --help)");
    return 2;
  }
  char err[1024];
  int rc = 1;
  PGconn *conn = NULL;
  struct dsr_plan *plan = NULL;
  bool *inc = NULL;
  char *tmp = NULL;
  unsigned char key[DSR_XKEY_BYTES];
  struct dsr_policy *p = dsr_policy_load(file, err, sizeof err);
  if (!p) {
    ctl_error("%s", err);
    goto cleanup;
  }
  const char *dsn = dsr_policy_pg_dsn(p);
  if (!dsn) {
    ctl_error("the policy's postgresql store has no DSN");
    goto cleanup;
  }
  conn = PQconnectdb(dsn);
  if (PQstatus(conn) != CONNECTION_OK) {
    ctl_error("the policy's postgresql store is not reachable");
    goto cleanup;
  }
  plan = dsr_export_plan(p, conn, &subj, NULL, err, sizeof err); /* as the export job's */
  inc = plan ? calloc(plan->nparts + 1, sizeof *inc) : NULL;
  if (!plan || !inc) {
    ctl_error("%s", plan ? "out of memory" : err);
    goto cleanup;
  }
  for (size_t i = 0; i < plan->nparts; i++) {
    const char *t = plan->parts[i].tenant;
    inc[i] = tenant ? (t && !strcmp(t, tenant)) : controller ? !t : true;
  }
  tmp = dsr_asprintf("%s.dsrx", out);
  /* before any other libsodium call, as dsrd does: it also picks the CPU's fastest ciphers
   * (without it the package's and spools' XChaCha20 ran the portable code) */
  if (!tmp || sodium_init() < 0)
    goto cleanup;
  crypto_secretstream_xchacha20poly1305_keygen(key);
  struct dsr_export_spec spec = {.policy = p,
                                 .kind = portability ? DSR_EXPORT_PORTABILITY : DSR_EXPORT_ACCESS,
                                 .request_id = "dsrctl",
                                 .owner = tenant ? "customer" : "controller",
                                 .plan = plan,
                                 .include = inc,
                                 .generated_at = dsr_now(),
                                 .lang = lang,
                                 .summary_rows = summary_rows};
  struct dsr_export_result res;
  unlink(tmp);
  if (!dsr_export_write(&spec, conn, tmp, key, &res, err, sizeof err)) {
    ctl_error("%s", err);
    goto cleanup;
  }
  bool ok = decrypt_to(tmp, out, key);
  unlink(tmp);
  if (!ok) {
    ctl_error("decrypting the package failed");
    goto cleanup;
  }
  printf("collections=%lld rows=%lld files=%lld bytes=%llu peak_rss_kib=%ld\n", res.collections,
         res.rows, res.files, (unsigned long long)res.plain_bytes, peak_rss_kib());
  rc = 0;
cleanup:
  sodium_memzero(key, sizeof key);
  free(tmp);
  free(inc);
  dsr_plan_free(plan);
  if (conn)
    PQfinish(conn);
  dsr_policy_free(p);
  return rc;
}

/** @file dsrctl.c @brief dsrctl's entry point and its table of commands. */
#include "config.h"
#include "ctl.h"
#include "dsr/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct ctl_command commands[] = {
    {"migrate", ctl_migrate, "migrate [--status]",
     "apply pending database migrations (--status lists them)"},
    {"customer", ctl_customer,
     "customer add|rotate-key|rotate-secret|enable",
     "manage customers: webhook endpoints, whsec_ secrets and API keys"},
    {"staff", ctl_staff, "staff token create --role R --name N",
     "create a staff API token (admin, triager, approver or auditor)"},
    {"user", ctl_user, "user add --role R --email E [--name N] | user passwd --email E",
     "staff UI accounts (password from standard input or prompted without echo)"},
    {"policy", ctl_policy, "policy lint|explain ...",
     "check a policy file; print a subject's plan (dry run)"},
    {"audit", ctl_audit, "audit verify|export|seal ...",
     "verify the audit hash chain, export a period for offline checks, seal"},
    {"report", ctl_report, "report --from T --to T ...",
     "compliance report for a period (json, csv or html)"},
    {"export", ctl_export, "export --policy FILE --email X --out F.zip",
     "write a subject's access or portability package (same code as dsrd)"},
    {"service-key", ctl_service, "service-key create --name N",
     "create a platform service key (restriction checks)"},
    {"sample", ctl_sample, "sample generate OPTIONS",
     "build the sample call-center platform (own database, media, backups)"},
    {"sweep", ctl_sweep, "sweep [--dry-run] [--policy F]",
     "apply the policy's retention rules now (and dsrd's own retention)"},
    {"hold", ctl_hold, "hold add|release|list ...",
     "legal holds that keep a request's or subject's data out of erasures"},
    {"backup", ctl_backup, "backup create|restore ...",
     "dump a platform store; restore one and replay the erasure ledger"},
    {"key", ctl_key, "key rotate|status",
     "rotate the master key of crypto-shredded media (rewraps data keys)"},
    {"media", ctl_media, "media get FILE [--out F]",
     "decrypt a crypto-shredded media file (fails once its key is destroyed)"},
    {"jobs", ctl_jobs, "jobs list|requeue ...",
     "list queued, running and dead jobs; put dead jobs back in the queue"},
    {"files", ctl_files, "files list|retry ...",
     "files an erasure left residual: list them, retry their removal"},
    {NULL, NULL, NULL, NULL},
};

void ctl_error(const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  fputs("dsrctl: ", stderr);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
}

static void usage(FILE *out)
{
  fprintf(out, "usage: dsrctl [-c FILE] [--KEY=VALUE ...] COMMAND [ARGS]\n\ncommands:\n");
  for (const struct ctl_command *c = commands; c->name; c++)
    fprintf(out, "  %-28s %s\n", c->usage, c->help);
  fprintf(out, "\nSettings are those of dsrd.conf(5); see dsrctl(1).\n");
}

int main(int argc, char **argv)
{
  struct dsr_config cfg;
  char err[512];
  char **rest = calloc((size_t)argc + 1, sizeof *rest);
  int nrest = 0;
  int rc = 2;
  if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") ||
      !strcmp(argv[1], "help")) {
    usage(argc < 2 ? stderr : stdout);
    free(rest);
    return argc < 2 ? 2 : 0;
  }
  if (!strcmp(argv[1], "--version")) {
    printf("dsrctl %s\n", PACKAGE_VERSION);
    free(rest);
    return 0;
  }
  if (!rest || !dsr_config_from_args(&cfg, argc, argv, rest, &nrest, err, sizeof err)) {
    ctl_error("%s", rest ? err : "out of memory");
    goto cleanup;
  }
  enum dsr_log_level lvl = DSR_LOG_WARN;
  if (!dsr_log_parse_level(cfg.log_level, &lvl)) {
    ctl_error("log_level must be debug, info, warn or error");
    goto cleanup;
  }
  /* The CLI talks to people: only warnings and errors unless asked for more. */
  dsr_log_set_level(lvl > DSR_LOG_WARN ? lvl : (lvl == DSR_LOG_DEBUG ? lvl : DSR_LOG_WARN));
  if (nrest == 0) {
    usage(stderr);
    goto cleanup;
  }
  for (const struct ctl_command *c = commands; c->name; c++) {
    if (!strcmp(c->name, rest[0])) {
      rc = c->run(&cfg, nrest, rest);
      goto cleanup;
    }
  }
  ctl_error("unknown command \"%s\" (see dsrctl --help)", rest[0]);
cleanup:
  dsr_config_free(&cfg);
  free(rest);
  return rc;
}

/** @file dsrctl.c @brief dsrctl's entry point and its table of commands. */
#include "config.h"
#include "ctl.h"
#include "dsr/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct ctl_command commands[] = {
    {"migrate", ctl_migrate, "migrate [--status]",
     "apply pending database migrations (--status lists them)",
     "migrate\nmigrate --status\n"},
    {"config", ctl_config, "config show [--json]",
     "print the effective configuration, each value's source, secrets redacted",
     "config show [--json]\n"},
    {"customer", ctl_customer, "customer add|rotate-key|...",
     "manage customers: webhook endpoints, whsec_ secrets and API keys",
     "customer add --name N --tenant T --webhook-url URL\n"
     "customer rotate-key --name N\n"
     "customer rotate-secret --name N [--grace-hours H]\n"
     "customer enable --name N\n"},
    {"staff", ctl_staff, "staff token create ...",
     "create a staff API token (admin, triager, approver or auditor)",
     "staff token create --role ROLE --name N\n"},
    {"user", ctl_user, "user add|passwd ...",
     "staff UI accounts (password from standard input or prompted without echo)",
     "user add --role ROLE --email E [--name N]\n"
     "user passwd --email E\n"},
    {"policy", ctl_policy, "policy lint|explain ...",
     "check a policy file; print a subject's plan (dry run)",
     "policy lint FILE [--live]\n"
     "policy explain --policy FILE [--email X] [--phone Y] [--account-id Z] [--access] [--json] "
     "[--sql]\n"},
    {"audit", ctl_audit, "audit verify|export|seal ...",
     "verify the audit hash chain, export a period for offline checks, seal",
     "audit verify [--require-sealed]\n"
     "audit verify --file FILE\n"
     "audit export --from TIME --to TIME [--out FILE]\n"
     "audit seal\n"},
    {"report", ctl_report, "report [--from T] [--to T] ...",
     "compliance report for a period, by default the last 30 days (json, csv or html)",
     "report [--from TIME] [--to TIME] [--format json|csv|html] [--out FILE]\n"},
    {"export", ctl_export, "export --policy F --email X ...",
     "write a subject's access or portability package (same code as dsrd)",
     "export --policy FILE (--email X | --phone Y | --account-id Z) [--portability] "
     "[--tenant T | --controller] [--language L] [--summary-rows N] --out FILE.zip\n"},
    {"service-key", ctl_service, "service-key create --name N",
     "create a platform service key (restriction checks)",
     "service-key create --name N\n"},
    {"sample", ctl_sample, "sample generate OPTIONS",
     "build the sample call-center platform (own database, media, backups)",
     "sample generate --subjects N --seed S [--calls-per-subject K] [--now DATE] "
     "[--media DIR | --no-media] [--backup-sets N] [--backup-dir DIR] [--platform-url URL] "
     "[--reset] [--json] [--manifest FILE] [--policy FILE] [--subject-email E --subject-phone P "
     "[--subject-name NAME] [--subject-workspaces N] [--subject-calls N] "
     "[--no-subject-account]]...\n"},
    {"sweep", ctl_sweep, "sweep [--dry-run] [--policy F]",
     "apply the policy's retention rules now (and dsrd's own retention)",
     "sweep [--dry-run] [--policy FILE] [--now DATE] [--json] [--no-dsrd-data]\n"},
    {"hold", ctl_hold, "hold add|release|list ...",
     "legal holds that keep a request's or subject's data out of erasures",
     "hold add --basis TEXT (--request ID | --email E | --phone P | --account-id A) "
     "[--collections a,b]\n"
     "hold release ID\n"
     "hold list\n"},
    {"backup", ctl_backup, "backup create|restore ...",
     "dump a platform store; restore one and replay the erasure ledger",
     "backup create --store NAME [--out FILE] [--policy FILE]\n"
     "backup restore --from FILE --into DB [--policy FILE] [--json]\n"},
    {"key", ctl_key, "key rotate|status",
     "rotate the master key of crypto-shredded media (rewraps data keys)",
     "key rotate\nkey status\n"},
    {"media", ctl_media, "media get FILE [--out F]",
     "decrypt a crypto-shredded media file (fails once its key is destroyed)",
     "media get FILE [--out FILE]\n"},
    {"jobs", ctl_jobs, "jobs list|requeue ...",
     "list queued, running and dead jobs; put dead jobs back in the queue",
     "jobs list [--dead] [--kind K] [--limit N]\n"
     "jobs requeue ID | --all-dead [--kind K]\n"},
    {"files", ctl_files, "files list|retry ...",
     "files an erasure left residual: list them, retry their removal",
     "files list --request ID\n"
     "files retry [--request ID] [--policy FILE]\n"},
    {"drp", ctl_drp, "drp business-document",
     "print the Data Rights Protocol business document (DRP 1.0 section 3.05.2)",
     "drp business-document\n"},
    {NULL, NULL, NULL, NULL, NULL},
};

static void usage(FILE *out)
{
  int w = 0;
  for (const struct ctl_command *c = commands; c->name; c++)
    if ((int)strlen(c->usage) > w)
      w = (int)strlen(c->usage);
  fprintf(out, "usage: dsrctl [-c FILE] [--KEY=VALUE ...] COMMAND [ARGS]\n"
               "       dsrctl COMMAND [SUBCOMMAND] --help | dsrctl --version\n\ncommands:\n");
  for (const struct ctl_command *c = commands; c->name; c++)
    fprintf(out, "  %-*s  %s\n", w, c->usage, c->help);
  fprintf(out, "\nSettings are those of dsrd.conf(5) (read from STATE_DIR/dsrd.conf when it\n"
               "exists, or -c FILE); see dsrctl(1).\n");
}

/* True when @p line ("backup create --store ...") is the synopsis of subcommand @p sub. */
static bool synopsis_of(const char *line, size_t len, const char *name, const char *sub)
{
  size_t n = strlen(name), m = strlen(sub);
  return len > n + m && !strncmp(line, name, n) && line[n] == ' ' &&
         !strncmp(line + n + 1, sub, m) && (line[n + 1 + m] == ' ' || line[n + 1 + m] == '\n');
}

/**
 * dsrctl COMMAND [SUBCOMMAND] --help: the command's synopsis lines (only the
 * subcommand's when one is named) to stdout. 0, or 2 for an unknown subcommand.
 */
static int command_help(const struct ctl_command *c, const char *sub)
{
  bool any = false;
  for (const char *p = c->synopsis; *p;) {
    const char *nl = strchr(p, '\n');
    size_t len = nl ? (size_t)(nl - p) + 1 : strlen(p);
    if (!sub || synopsis_of(p, len, c->name, sub)) {
      printf("%s dsrctl %.*s", any ? "      " : "usage:", (int)len, p);
      any = true;
    }
    p += len;
  }
  if (!any) {
    ctl_error("%s: unknown subcommand \"%s\" (see dsrctl %s --help)", c->name, sub, c->name);
    return 2;
  }
  printf("\n%s.\nGlobal options: -c FILE, --KEY=VALUE (dsrd.conf(5)). See dsrctl(1).\n",
         c->help);
  return 0;
}

int main(int argc, char **argv)
{
  struct dsr_config cfg;
  char err[512];
  char **rest = calloc((size_t)argc + 1, sizeof *rest);
  int nrest = 0;
  int rc = 2;
  if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") ||
      (!strcmp(argv[1], "help") && argc == 2)) {
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
  /* dsrctl help COMMAND [SUBCOMMAND] is COMMAND [SUBCOMMAND] --help. */
  bool asked_help = !strcmp(rest[0], "help") && nrest > 1;
  char **args = asked_help ? rest + 1 : rest;
  int nargs = asked_help ? nrest - 1 : nrest;
  for (const struct ctl_command *c = commands; c->name; c++) {
    if (strcmp(c->name, args[0]))
      continue;
    /* Every command and subcommand answers --help and --version the same way. */
    for (int i = 1; i < nargs && !asked_help; i++) {
      if (!strcmp(args[i], "--help") || !strcmp(args[i], "-h"))
        asked_help = true;
      else if (!strcmp(args[i], "--version")) {
        printf("dsrctl %s\n", PACKAGE_VERSION);
        rc = 0;
        goto cleanup;
      }
    }
    if (asked_help)
      rc = command_help(c, nargs > 1 && args[1][0] != '-' ? args[1] : NULL);
    else
      rc = c->run(&cfg, nargs, args);
    goto cleanup;
  }
  ctl_error("unknown command \"%s\" (see dsrctl --help)", rest[0]);
cleanup:
  dsr_config_free(&cfg);
  free(rest);
  return rc;
}

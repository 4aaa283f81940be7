/** @file ctl_audit.c @brief dsrctl audit verify|export|seal (docs/audit-format.md). */
#include "config.h"
#include "ctl.h"
#include "dsr/audit.h"
#include "dsr/timeparse.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Usage errors are one line; the synopsis is `dsrctl audit --help`. */
#define AUDIT_USAGE "(see dsrctl audit --help)"

static void print_verdict(const struct dsr_audit_verdict *v, bool file)
{
  const char *what = file ? "audit export" : "audit chain";
  if (v->ok) {
    if (v->verified > 0)
      printf("%s: OK, %lld entries sealed and verified (positions %lld-%lld)\n", what,
             v->verified, v->first_pos, v->last_pos);
    else
      printf("%s: OK, no entries to verify\n", what);
    printf("%s: head %lld %s\n", what, v->last_pos, v->head);
  } else {
    printf("%s: BROKEN at position %lld", what, v->broken_pos);
    if (v->broken_seq >= 0)
      printf(" (entry %lld)", v->broken_seq);
    printf(": %s\n", v->reason);
    printf("%s:   expected %s\n", what, v->expected);
    printf("%s:   found    %s\n", what, v->found);
    printf("%s: %lld entries verified before the break; last good hash %s\n", what,
           v->verified, v->head);
  }
  if (!file) {
    printf("%s: %lld entries not yet sealed", what, v->unsealed);
    if (v->unsealed > 0)
      printf(" (%lld sealable now, %lld behind open transactions; oldest recorded %s)",
             v->sealable, v->unsealed - v->sealable, v->oldest_unsealed);
    printf("\n");
  }
}

static int verify_file(const char *path)
{
  FILE *f = fopen(path, "r");
  if (!f) {
    ctl_error("cannot open %s: %s", path, strerror(errno));
    return 1;
  }
  struct dsr_audit_verdict v;
  char err[256];
  bool ok = dsr_audit_verify_file(f, &v, err, sizeof err);
  fclose(f);
  if (!ok) {
    ctl_error("%s: %s", path, err);
    return 1;
  }
  print_verdict(&v, true);
  return v.ok ? 0 : 1;
}

static int verify(const struct dsr_config *cfg, int argc, char **argv)
{
  const char *file = NULL;
  bool require_sealed = false;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--file") && i + 1 < argc)
      file = argv[++i];
    else if (!strncmp(argv[i], "--file=", 7))
      file = argv[i] + 7;
    else if (!strcmp(argv[i], "--require-sealed"))
      require_sealed = true;
    else {
      ctl_error("audit verify: unknown argument %s %s", argv[i], AUDIT_USAGE);
      return 2;
    }
  }
  if (file)
    return verify_file(file);
  struct ctl_session d;
  if (!ctl_session_open_plain(cfg, &d))
    return 1;
  struct dsr_audit_verdict v;
  char err[512];
  int rc = 1;
  if (!dsr_audit_verify_db(d.db, &v, err, sizeof err)) {
    ctl_error("%s", err);
    goto cleanup;
  }
  print_verdict(&v, false);
  rc = v.ok && !(require_sealed && v.sealable > 0) ? 0 : 1;
cleanup:
  ctl_session_close(&d);
  return rc;
}

static bool time_arg(const char *name, const char *value, time_t *out)
{
  if (dsr_time_parse(value, out))
    return true;
  ctl_error("%s: expected YYYY-MM-DD or an RFC 3339 time, got \"%.40s\"", name, value);
  return false;
}

static int export_cmd(const struct dsr_config *cfg, int argc, char **argv)
{
  const char *from = NULL, *to = NULL, *out = NULL;
  for (int i = 1; i < argc; i++) {
    const char **slot = !strcmp(argv[i], "--from") ? &from
                        : !strcmp(argv[i], "--to") ? &to
                        : !strcmp(argv[i], "--out") ? &out
                                                    : NULL;
    if (!slot || i + 1 >= argc) {
      ctl_error("audit export: bad argument %s %s", argv[i], AUDIT_USAGE);
      return 2;
    }
    *slot = argv[++i];
  }
  time_t f, t;
  if (!from || !to) {
    ctl_error("audit export needs --from and --to %s", AUDIT_USAGE);
    return 2;
  }
  if (!time_arg("--from", from, &f) || !time_arg("--to", to, &t))
    return 2;
  struct ctl_session d = {0};
  FILE *fp = NULL;
  int rc = 1;
  char tmp[4096] = "";
  if (!ctl_session_open_plain(cfg, &d))
    goto cleanup;
  if (out) {
    snprintf(tmp, sizeof tmp, "%s.tmp", out);
    fp = fopen(tmp, "w");
    if (!fp) {
      ctl_error("cannot write %s: %s", tmp, strerror(errno));
      goto cleanup;
    }
  }
  long long n = 0;
  char err[512];
  if (!dsr_audit_export(d.db, f, t, fp ? fp : stdout, &n, err, sizeof err)) {
    ctl_error("%s", err);
    goto cleanup;
  }
  if (fp) {
    bool closed = fclose(fp) == 0;
    fp = NULL;
    if (!closed || rename(tmp, out) != 0) {
      ctl_error("cannot write %s: %s", out, strerror(errno));
      goto cleanup;
    }
    tmp[0] = '\0';
    fprintf(stderr, "dsrctl: exported %lld audit entries to %s\n", n, out);
  }
  rc = 0;
cleanup:
  if (fp)
    fclose(fp);
  if (tmp[0])
    remove(tmp);
  ctl_session_close(&d);
  return rc;
}

static int seal(const struct dsr_config *cfg, int argc)
{
  if (argc != 1) {
    ctl_error("audit seal takes no arguments %s", AUDIT_USAGE);
    return 2;
  }
  struct ctl_session d;
  if (!ctl_session_open_plain(cfg, &d))
    return 1;
  long long n = 0;
  int rc = dsr_audit_seal_all(d.db, &n) ? 0 : 1;
  if (rc == 0)
    printf("sealed %lld audit entries\n", n);
  else
    ctl_error("sealing failed");
  ctl_session_close(&d);
  return rc;
}

int ctl_audit(const struct dsr_config *cfg, int argc, char **argv)
{
  if (argc < 2) {
    ctl_error("audit: expected verify, export or seal %s", AUDIT_USAGE);
    return 2;
  }
  if (!strcmp(argv[1], "verify"))
    return verify(cfg, argc - 1, argv + 1);
  if (!strcmp(argv[1], "export"))
    return export_cmd(cfg, argc - 1, argv + 1);
  if (!strcmp(argv[1], "seal"))
    return seal(cfg, argc - 1);
  ctl_error("unknown audit command %s %s", argv[1], AUDIT_USAGE);
  return 2;
}

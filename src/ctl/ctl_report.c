/** @file ctl_report.c @brief dsrctl report: the compliance report for a period. */
#include "config.h"
#include "ctl.h"
#include "dsr/report.h"
#include "dsr/timeparse.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


/** Renders @p rep in @p format; caller frees. */
static char *render(const json_t *rep, const char *format)
{
  if (!strcmp(format, "csv"))
    return dsr_report_csv(rep);
  if (!strcmp(format, "html"))
    return dsr_report_html(rep);
  char *s = json_dumps(rep, JSON_INDENT(2));
  char *nl = s ? dsr_asprintf("%s\n", s) : NULL;
  free(s);
  return nl;
}

static bool write_out(const char *path, const char *text)
{
  if (!path)
    return fputs(text, stdout) >= 0 && fflush(stdout) == 0;
  char *tmp = dsr_asprintf("%s.tmp", path);
  FILE *f = tmp ? fopen(tmp, "w") : NULL;
  bool ok = f && fputs(text, f) >= 0;
  if (f && fclose(f) != 0)
    ok = false;
  if (ok && rename(tmp, path) != 0)
    ok = false;
  if (!ok) {
    ctl_error("cannot write %s: %s", path, strerror(errno));
    if (tmp)
      remove(tmp);
  }
  free(tmp);
  return ok;
}

int ctl_report(const struct dsr_config *cfg, int argc, char **argv)
{
  const char *from = NULL, *to = NULL, *out = NULL, *format = "json";
  for (int i = 1; i < argc; i++) {
    const char **slot = !strcmp(argv[i], "--from")     ? &from
                        : !strcmp(argv[i], "--to")     ? &to
                        : !strcmp(argv[i], "--out")    ? &out
                        : !strcmp(argv[i], "--format") ? &format
                                                       : NULL;
    if (!slot || i + 1 >= argc) {
      ctl_error("report: bad argument %s (see dsrctl report --help)", argv[i]);
      return 2;
    }
    *slot = argv[++i];
  }
  /* Without a period: the last 30 days up to now (the staff UI's default too). */
  time_t t = dsr_now(), f = t - 30 * 86400;
  if ((from && !dsr_time_parse(from, &f)) || (to && !dsr_time_parse(to, &t)) || t <= f) {
    ctl_error("report: --from and --to are YYYY-MM-DD or RFC 3339, from before to "
              "(see dsrctl report --help)");
    return 2;
  }
  if (strcmp(format, "json") && strcmp(format, "csv") && strcmp(format, "html")) {
    ctl_error("report: --format must be json, csv or html");
    return 2;
  }
  struct ctl_session d;
  if (!ctl_session_open_plain(cfg, &d))
    return 1;
  json_t *rep = NULL;
  char *text = NULL;
  char err[512];
  int rc = 1;
  if (!dsr_report_build(d.db, f, t, dsr_now(), &rep, err, sizeof err)) {
    ctl_error("%s", err);
    goto cleanup;
  }
  text = render(rep, format);
  if (!text) {
    ctl_error("out of memory");
    goto cleanup;
  }
  rc = write_out(out, text) ? 0 : 1;
cleanup:
  free(text);
  json_decref(rep);
  ctl_session_close(&d);
  return rc;
}

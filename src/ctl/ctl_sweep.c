/**
 * @file ctl_sweep.c
 * @brief dsrctl sweep [--dry-run] [--policy FILE] [--now DATE] [--json]
 *        [--no-dsrd-data]: one retention sweep by the policy (the same one
 *        dsrd schedules), with a progress bar on a terminal and plain lines
 *        otherwise; prints what was removed per collection, or with
 *        --dry-run what would be.
 */
#include "config.h"
#include "ctl.h"
#include "dsr/policy.h"
#include "dsr/sweep.h"
#include "dsr/timeparse.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct bar {
  bool tty;
  char last[128];
  long long done, total;
};

/*
 * On a terminal: "recordings [##########..........] 50% 1200/2400"; otherwise one plain
 * line per collection when it ends. done == -2 marks the end of a collection.
 */
static void progress(void *ctx, const char *collection, long long done, long long total)
{
  struct bar *b = ctx;
  if (done == -2) {
    if (b->tty)
      fputs("\r\033[K", stderr);
    fprintf(stderr, "sweep: %s: %lld rows\n", collection, b->done);
    b->done = b->total = 0;
    return;
  }
  b->done = done;
  b->total = total;
  dsr_strlcpy(b->last, collection, sizeof b->last);
  if (!b->tty)
    return;
  int pct = total > 0 ? (int)(done * 100 / total) : 0;
  if (pct > 100)
    pct = 100;
  char bar[31];
  for (int i = 0; i < 30; i++)
    bar[i] = i < pct * 30 / 100 ? '#' : '.';
  bar[30] = '\0';
  fprintf(stderr, "\r\033[K%-20s [%s] %3d%% %lld/%lld", collection, bar, pct, done,
          total > 0 ? total : done);
  fflush(stderr);
}

static void print_table(const json_t *rc, bool dry)
{
  size_t i;
  const json_t *c;
  printf("%-24s %-8s %12s %10s%s\n", "collection", "action", dry ? "would_remove" : "rows",
         "files", dry ? "" : "  basis");
  json_array_foreach(json_object_get(rc, "collections"), i, c) {
    const char *basis = json_string_value(json_object_get(c, "basis"));
    printf("%-24s %-8s %12lld %10lld%s%s\n", json_string_value(json_object_get(c, "collection")),
           json_string_value(json_object_get(c, "action")),
           (long long)json_integer_value(json_object_get(c, "rows")),
           (long long)json_integer_value(json_object_get(c, "files")), basis ? "  " : "",
           basis ? basis : "");
  }
  if (dry)
    return;
  printf("sweep %s: %lld rows deleted, %lld files removed\n",
         json_string_value(json_object_get(rc, "sweep_id")),
         (long long)json_integer_value(json_object_get(rc, "rows_deleted")),
         (long long)json_integer_value(json_object_get(rc, "files_removed")));
  const char *k;
  const json_t *v;
  json_object_foreach((json_t *)json_object_get(rc, "dsrd_data"), k, v)
    printf("dsrd data: %s %lld removed\n", k, (long long)json_integer_value(v));
}

int ctl_sweep(const struct dsr_config *cfg, int argc, char **argv)
{
  struct dsr_sweep_opts o;
  dsr_sweep_opts_init(&o, cfg);
  const char *file = cfg->policy_file, *now = NULL;
  bool json = false;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--dry-run"))
      o.dry_run = true;
    else if (!strcmp(argv[i], "--json"))
      json = true;
    else if (!strcmp(argv[i], "--no-dsrd-data"))
      o.own_data = false;
    else if (!strcmp(argv[i], "--policy") && i + 1 < argc)
      file = argv[++i];
    else if (!strcmp(argv[i], "--now") && i + 1 < argc)
      now = argv[++i];
    else {
      ctl_error("sweep: bad argument %s (usage: dsrctl sweep [--dry-run] [--policy FILE] "
                "[--now DATE] [--json] [--no-dsrd-data])", argv[i]);
      return 2;
    }
  }
  if (now && !dsr_time_parse(now, &o.now)) {
    ctl_error("sweep: --now must be YYYY-MM-DD or an RFC 3339 time");
    return 2;
  }
  int rc = 1;
  struct dsr_policy *p = ctl_policy_open(file, "sweep", &rc);
  if (!p)
    return rc;
  char err[512];
  struct ctl_session s;
  rc = 1;
  json_t *receipt = NULL;
  if (!ctl_session_open(cfg, &s))
    goto cleanup;
  struct bar b = {.tty = isatty(STDERR_FILENO) == 1};
  o.progress = progress;
  o.progress_ctx = &b;
  o.progress_total = b.tty; /* only the bar shows a total: a log gets no count before each step */
  enum dsr_sweep_outcome out = dsr_sweep_run(s.db, p, &o, &receipt, err, sizeof err);
  if (b.tty)
    fputs("\r\033[K", stderr);
  if (out != DSR_SWEEP_DONE) {
    ctl_error("sweep: %s", err);
    goto cleanup;
  }
  if (json) {
    char *text = json_dumps(receipt, JSON_INDENT(2) | JSON_SORT_KEYS);
    if (text)
      puts(text);
    free(text);
  } else {
    print_table(receipt, o.dry_run);
  }
  rc = 0;
cleanup:
  json_decref(receipt);
  ctl_session_close(&s);
  dsr_policy_free(p);
  return rc;
}

/**
 * @file ctl_jobs.c
 * @brief dsrctl jobs list|requeue: look at the job queue and put dead jobs
 *        (attempts exhausted or failed for good) back once the cause is fixed.
 */
#include "config.h"
#include "ctl.h"
#include "dsr/queue.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Usage errors are one line; the synopsis is `dsrctl jobs --help`. */
#define JOBS_USAGE "(see dsrctl jobs --help)"

/* A positive decimal number that fits in @p max, or false. */
static bool parse_positive(const char *s, long long max, long long *out)
{
  if (!s || !*s || *s == '-' || *s == '+')
    return false;
  char *end = NULL;
  errno = 0;
  long long v = strtoll(s, &end, 10);
  if (errno || *end || v < 1 || v > max)
    return false;
  *out = v;
  return true;
}

static int list(const struct dsr_config *cfg, int argc, char **argv)
{
  bool dead = false;
  const char *kind = NULL, *limit = "100";
  for (int i = 2; i < argc; i++) {
    if (!strcmp(argv[i], "--dead"))
      dead = true;
    else if (!strcmp(argv[i], "--kind") && i + 1 < argc)
      kind = argv[++i];
    else if (!strcmp(argv[i], "--limit") && i + 1 < argc)
      limit = argv[++i];
    else {
      ctl_error("jobs list: unknown argument %s %s", argv[i], JOBS_USAGE);
      return 2;
    }
  }
  long long lim;
  if (!parse_positive(limit, 100000, &lim)) {
    ctl_error("jobs list: --limit must be a number from 1 to 100000");
    return 2;
  }
  struct ctl_session s;
  if (!ctl_session_open_plain(cfg, &s))
    return 1;
  const char *v[] = {dead ? "true" : "false", kind, limit};
  PGresult *r = dsr_db_exec(s.db, DSR_STMT_JOB_LIST, 3, v);
  int rc = 1;
  if (!dsr_db_ok(r)) {
    ctl_error("jobs list: cannot read the queue: %s", PQresultErrorMessage(r));
    goto cleanup;
  }
  printf("%-10s %-18s %-7s %-9s %-20s %s\n", "id", "kind", "state", "attempts", "run_at",
         "last_error");
  for (int i = 0; i < PQntuples(r); i++) {
    char att[24];
    snprintf(att, sizeof att, "%s/%s", PQgetvalue(r, i, 3), PQgetvalue(r, i, 4));
    printf("%-10s %-18s %-7s %-9s %-20s %.120s\n", PQgetvalue(r, i, 0), PQgetvalue(r, i, 1),
           PQgetvalue(r, i, 2), att, PQgetvalue(r, i, 5), PQgetvalue(r, i, 6));
  }
  if (PQntuples(r) == lim)
    fprintf(stderr, "dsrctl: showing the first %lld jobs (--limit for more)\n", lim);
  rc = 0;
cleanup:
  PQclear(r);
  ctl_session_close(&s);
  return rc;
}

static int requeue(const struct dsr_config *cfg, int argc, char **argv)
{
  bool all = false;
  const char *kind = NULL, *id_arg = NULL;
  for (int i = 2; i < argc; i++) {
    if (!strcmp(argv[i], "--all-dead"))
      all = true;
    else if (!strcmp(argv[i], "--kind") && i + 1 < argc)
      kind = argv[++i];
    else if (argv[i][0] != '-' && !id_arg)
      id_arg = argv[i];
    else {
      ctl_error("jobs requeue: unknown argument %s %s", argv[i], JOBS_USAGE);
      return 2;
    }
  }
  long long id = 0;
  if (all == (id_arg != NULL)) {
    ctl_error("jobs requeue: give one job ID or --all-dead %s", JOBS_USAGE);
    return 2;
  }
  if (id_arg && !parse_positive(id_arg, INT64_MAX, &id)) {
    ctl_error("jobs requeue: \"%.40s\" is not a job id (see dsrctl jobs list --dead)", id_arg);
    return 2;
  }
  struct ctl_session s;
  if (!ctl_session_open(cfg, &s))
    return 1;
  long n = 0;
  int rc = 1;
  if (!dsr_queue_requeue_dead(s.db, (int64_t)id, kind, CTL_ACTOR, dsr_now(), &n))
    ctl_error("jobs requeue: the database failed");
  else if (id && n == 0)
    ctl_error("jobs requeue: job %lld is not dead (or does not exist, or a queued or running "
              "job does the same work)", id);
  else {
    printf("requeued %ld job%s\n", n, n == 1 ? "" : "s");
    rc = 0;
  }
  ctl_session_close(&s);
  return rc;
}

int ctl_jobs(const struct dsr_config *cfg, int argc, char **argv)
{
  const char *sub = argc >= 2 ? argv[1] : "";
  if (!strcmp(sub, "list"))
    return list(cfg, argc, argv);
  if (!strcmp(sub, "requeue"))
    return requeue(cfg, argc, argv);
  ctl_error("jobs: unknown subcommand \"%.40s\" %s", sub, JOBS_USAGE);
  return 2;
}

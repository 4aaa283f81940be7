/**
 * @file test_ops_cli.c
 * @brief dsrctl's conventions, walking its command table as `dsrctl --help`
 *        prints it: every command and every subcommand its synopsis names
 *        answers --help (stdout, exit 0) and --version; usage errors exit 2
 *        with a one-line hint; the help columns line up; report defaults to
 *        the last 30 days. And the one configuration: dsrd and dsrctl read
 *        STATE_DIR/dsrd.conf, so `dsrctl sweep --dry-run` in a state
 *        directory needs no flags, and `dsrctl config show` names each
 *        value's source and never prints a secret.
 */
#include "config.h"
#include "ops_util.h"
#include "dsr/pgembed.h"
#include "dsr/util.h"

#include <ctype.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* The commands of `dsrctl --help`: first word of each line under "commands:". */
static int command_names(const char *help, char names[][32], int max, int *help_col)
{
  const char *p = strstr(help, "commands:\n");
  ck_assert_ptr_nonnull(p);
  p += strlen("commands:\n");
  int n = 0;
  *help_col = -1;
  while (*p == ' ' && n < max) {
    const char *nl = strchr(p, '\n');
    ck_assert_ptr_nonnull(nl);
    size_t w = strcspn(p + 2, " ");
    ck_assert(w > 0 && w < 32);
    memcpy(names[n], p + 2, w);
    names[n][w] = '\0';
    /* the description starts after the first run of two spaces past the usage */
    const char *gap = strstr(p + 2, "  ");
    ck_assert(gap && gap < nl);
    while (*gap == ' ')
      gap++;
    int col = (int)(gap - p);
    if (*help_col < 0)
      *help_col = col;
    ck_assert_msg(col == *help_col, "help of \"%s\" starts at column %d, not %d", names[n], col,
                  *help_col);
    n++;
    p = nl + 1;
  }
  return n;
}

START_TEST(every_command_and_subcommand_answers_help)
{
  struct ops_run r;
  const char *top[] = {"dsrctl", "--help", NULL};
  ops_run(&r, NULL, top);
  ck_assert_int_eq(r.status, 0);
  char names[64][32];
  int col = 0;
  int n = command_names(r.out, names, 64, &col);
  ops_run_free(&r);
  ck_assert_int_ge(n, 17);
  int subs = 0;
  for (int i = 0; i < n; i++) {
    const char *help[] = {"dsrctl", names[i], "--help", NULL};
    ops_run(&r, NULL, help);
    char want[2100];
    snprintf(want, sizeof want, "usage: dsrctl %s", names[i]);
    ck_assert_msg(r.status == 0, "dsrctl %s --help: exit %d: %s", names[i], r.status, r.err);
    ck_assert_msg(!strncmp(r.out, want, strlen(want)), "dsrctl %s --help: %s", names[i], r.out);
    ck_assert_str_eq(r.err, "");
    /* Each synopsis line "dsrctl NAME SUB ..." whose SUB is a word names a subcommand. */
    char seen[16][32];
    int nseen = 0;
    char prefix[2100];
    snprintf(prefix, sizeof prefix, "dsrctl %s ", names[i]);
    for (const char *p = strstr(r.out, prefix); p; p = strstr(p + 1, prefix)) {
      const char *s = p + strlen(prefix);
      size_t w = 0;
      while (islower((unsigned char)s[w]) || s[w] == '-')
        w++;
      if (w == 0 || s[0] == '-' || (s[w] != ' ' && s[w] != '\n') || nseen == 16)
        continue;
      char sub[32];
      snprintf(sub, sizeof sub, "%.*s", (int)w, s);
      bool dup = false;
      for (int k = 0; k < nseen; k++)
        dup |= !strcmp(seen[k], sub);
      if (!dup)
        snprintf(seen[nseen++], sizeof seen[0], "%s", sub);
    }
    ops_run_free(&r);
    for (int k = 0; k < nseen; k++) {
      const char *sh[] = {"dsrctl", names[i], seen[k], "--help", NULL};
      ops_run(&r, NULL, sh);
      char line[4200];
      snprintf(line, sizeof line, "usage: dsrctl %s %s", names[i], seen[k]);
      ck_assert_msg(r.status == 0 && !strncmp(r.out, line, strlen(line)),
                    "dsrctl %s %s --help: exit %d: %s%s", names[i], seen[k], r.status, r.out,
                    r.err);
      ops_run_free(&r);
      subs++;
    }
    if (nseen > 0) {
      const char *bad[] = {"dsrctl", names[i], "no-such-subcommand", "--help", NULL};
      ops_run(&r, NULL, bad);
      ck_assert_int_eq(r.status, 2);
      ck_assert_ptr_nonnull(strstr(r.err, "--help"));
      /* one line */
      ck_assert_ptr_eq(strchr(r.err, '\n'), r.err + strlen(r.err) - 1);
      ops_run_free(&r);
    }
    /* a usage error: exit 2, one line on stderr, nothing on stdout */
    const char *wrong[] = {"dsrctl", "--state-dir=/nonexistent/dsrd-state", names[i],
                           "--no-such-option", NULL};
    ops_run(&r, NULL, wrong);
    ck_assert_msg(r.status == 2, "dsrctl %s --no-such-option: exit %d", names[i], r.status);
    ck_assert_msg(!strncmp(r.err, "dsrctl: ", 8) && strchr(r.err, '\n') == r.err + strlen(r.err) - 1,
                  "dsrctl %s --no-such-option: not one line: %s", names[i], r.err);
    ck_assert_str_eq(r.out, "");
    ops_run_free(&r);
    const char *ver[] = {"dsrctl", names[i], "--version", NULL};
    ops_run(&r, NULL, ver);
    ck_assert_int_eq(r.status, 0);
    ck_assert_str_eq(r.out, "dsrctl " PACKAGE_VERSION "\n");
    ops_run_free(&r);
  }
  /* what the issue named: subcommands with options after them, and report */
  const char *named[][5] = {{"dsrctl", "backup", "create", "--help", NULL},
                            {"dsrctl", "customer", "add", "--help", NULL},
                            {"dsrctl", "report", "--help", NULL, NULL},
                            {"dsrctl", "help", "jobs", "requeue", NULL}};
  for (size_t i = 0; i < sizeof named / sizeof named[0]; i++) {
    ops_run(&r, NULL, named[i]);
    ck_assert_msg(r.status == 0 && !strncmp(r.out, "usage: dsrctl ", 14), "%s %s: %d %s",
                  named[i][1], named[i][2], r.status, r.err);
    ops_run_free(&r);
  }
  ck_assert_int_ge(subs, 25);
  fprintf(stderr, "cli: %d commands, %d subcommands answer --help; help column %d\n", n, subs,
          col);
}
END_TEST

START_TEST(usage_errors_exit_2_with_a_one_line_hint)
{
  const char *const cases[][6] = {
      {"dsrctl", "no-such-command", NULL},
      {"dsrctl", "report", "--format", "pdf", NULL},
      {"dsrctl", "report", "--from", "yesterday-ish", NULL},
      {"dsrctl", "config", "show", "--colour", NULL},
      {"dsrctl", "config", NULL},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    struct ops_run r;
    ops_run(&r, NULL, cases[i]);
    ck_assert_msg(r.status == 2, "%s %s: exit %d", cases[i][1], cases[i][2], r.status);
    ck_assert_msg(strncmp(r.err, "dsrctl: ", 8) == 0, "%s", r.err);
    ck_assert_str_eq(r.out, "");
    ops_run_free(&r);
  }
}
END_TEST

START_TEST(report_defaults_to_the_last_30_days)
{
  char *conninfo = it_fresh_db("ops_report");
  char url[600];
  snprintf(url, sizeof url, "--database-url=%s", conninfo);
  const char *argv[] = {"dsrctl", url, "report", NULL};
  struct ops_run r;
  time_t before = time(NULL);
  ops_run(&r, NULL, argv);
  time_t after = time(NULL);
  ck_assert_msg(r.status == 0, "report: %s", r.err);
  json_error_t e;
  json_t *rep = json_loads(r.out, 0, &e);
  ck_assert_msg(rep != NULL, "%s", e.text);
  const char *from = json_string_value(json_object_get(json_object_get(rep, "period"), "from"));
  const char *to = json_string_value(json_object_get(json_object_get(rep, "period"), "to"));
  ck_assert_ptr_nonnull(from);
  ck_assert_ptr_nonnull(to);
  struct tm tf = {0}, tt = {0};
  ck_assert_ptr_nonnull(strptime(from, "%Y-%m-%dT%H:%M:%SZ", &tf));
  ck_assert_ptr_nonnull(strptime(to, "%Y-%m-%dT%H:%M:%SZ", &tt));
  time_t f = timegm(&tf), t = timegm(&tt);
  ck_assert_int_ge(t, before);
  ck_assert_int_le(t, after);
  ck_assert_int_eq(t - f, 30 * 86400);
  json_decref(rep);
  ops_run_free(&r);
  free(conninfo);
}
END_TEST

/* A state directory like the demo's: STATE/dsrd.conf naming the database, the policy (its stores
 * named directly) and a secret; returns the parent directory (cwd with state_dir "./var"). */
static void make_state(char *parent, size_t len, char **dsrd_db)
{
  h_tmpdir(parent, len, "ops-conf");
  char state[400], media[400], backup[400], path[500];
  snprintf(state, sizeof state, "%s/var", parent);
  snprintf(media, sizeof media, "%s/media", parent);
  snprintf(backup, sizeof backup, "%s/media-backups", parent);
  ck_assert(mkdir(state, 0755) == 0 && mkdir(media, 0755) == 0 && mkdir(backup, 0755) == 0);
  /* the sample platform, small, in its own database */
  char err[512];
  ck_assert_msg(dsr_pgembed_ensure_db(it_pg.embed, "ops_platform", err, sizeof err), "%s", err);
  char *platform = dsr_pgembed_conninfo(it_pg.embed, "ops_platform");
  const char *gen[] = {"dsrctl", "sample", "generate", "--subjects", "30", "--seed", "7",
                       "--no-media", "--reset", "--platform-url", platform,
                       "--subject-email", "planted@example.org", "--subject-phone",
                       "+15550100321", NULL};
  struct ops_run r;
  ops_run(&r, NULL, gen);
  ck_assert_msg(r.status == 0, "sample generate: %s", r.err);
  /* the planted subjects are printed */
  ck_assert_ptr_nonnull(strstr(r.out, "\n  subject designated-1"));
  ck_assert_ptr_nonnull(strstr(r.out, "email planted@example.org phone +15550100321"));
  ops_run_free(&r);
  /* the policy with its stores named in the file, as scripts/demo writes it */
  snprintf(path, sizeof path, "%s/policies/callorbit.json", getenv("DSR_TOP_SRCDIR"));
  char *text = h_slurp(path, NULL);
  char dsn[800], mroot[500], broot[500];
  snprintf(dsn, sizeof dsn, "\"dsn\": \"%s\"", platform);
  snprintf(mroot, sizeof mroot, "\"root\": \"%s\"", media);
  snprintf(broot, sizeof broot, "\"root\": \"%s\"", backup);
  char *a = ops_replace(text, "\"dsn_env\": \"DSR_PLATFORM_DSN\"", dsn);
  char *b = ops_replace(a, "\"root_env\": \"DSR_MEDIA_ROOT\"", mroot);
  char *c = ops_replace(b, "\"root_env\": \"DSR_MEDIA_BACKUP_ROOT\"", broot);
  ck_assert_ptr_null(strstr(c, "_env\""));
  snprintf(path, sizeof path, "%s/policy.json", state);
  ops_write(path, c);
  *dsrd_db = it_fresh_db("ops_conf");
  char *conf = dsr_asprintf("# as scripts/demo writes it\n"
                            "database_url = %s\n"
                            "policy_file = %s/policy.json\n"
                            "smtp_password = \"file-secret-4711\"\n"
                            "threads = 3\n",
                            *dsrd_db, state);
  snprintf(path, sizeof path, "%s/dsrd.conf", state);
  ops_write(path, conf);
  free(conf);
  free(text);
  free(a);
  free(b);
  free(c);
  free(platform);
}

START_TEST(dsrd_and_dsrctl_read_state_dir_dsrd_conf)
{
  char parent[256];
  char *db = NULL;
  make_state(parent, sizeof parent, &db);
  struct ops_run r;

  /* no flags at all: dsrctl finds ./var/dsrd.conf, its database and its policy */
  const char *sweep[] = {"dsrctl", "sweep", "--dry-run", "--json", NULL};
  ops_run(&r, parent, sweep);
  ck_assert_msg(r.status == 0, "sweep --dry-run: exit %d: %s", r.status, r.err);
  json_t *rc = json_loads(r.out, 0, NULL);
  ck_assert_ptr_nonnull(rc);
  ck_assert(json_is_array(json_object_get(rc, "collections")));
  ck_assert_int_gt(json_array_size(json_object_get(rc, "collections")), 0);
  json_decref(rc);
  ops_run_free(&r);

  /* config show: the file, each value's source, secrets redacted */
  ck_assert(setenv("DSRD_DB_POOL_SIZE", "3", 1) == 0);
  ck_assert(setenv("DSRD_METRICS_TOKEN", "env-secret-0815", 1) == 0);
  const char *show[] = {"dsrctl", "--workers=5", "config", "show", NULL};
  ops_run(&r, parent, show);
  ck_assert_msg(r.status == 0, "%s", r.err);
  ck_assert_ptr_nonnull(strstr(r.out, "# configuration file: ./var/dsrd.conf\n"));
  ck_assert_ptr_null(strstr(r.out, "file-secret-4711"));
  ck_assert_ptr_null(strstr(r.out, "env-secret-0815"));
  ops_run_free(&r);
  const char *showj[] = {"dsrctl", "--workers=5", "config", "show", "--json", NULL};
  ops_run(&r, parent, showj);
  ck_assert_msg(r.status == 0, "%s", r.err);
  json_t *j = json_loads(r.out, 0, NULL);
  ck_assert_ptr_nonnull(j);
  json_t *set = json_object_get(j, "settings");
  static const char *const want[][3] = {
      {"threads", "3", "file"},         {"db_pool_size", "3", "environment"},
      {"workers", "5", "flag"},         {"port", "8080", "default"},
      {"smtp_password", "(redacted)", "file"}, {"metrics_token", "(redacted)", "environment"},
  };
  for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
    json_t *e = json_object_get(set, want[i][0]);
    ck_assert_msg(e != NULL, "%s missing", want[i][0]);
    ck_assert_str_eq(json_string_value(json_object_get(e, "value")), want[i][1]);
    ck_assert_str_eq(json_string_value(json_object_get(e, "source")), want[i][2]);
  }
  ck_assert(json_is_null(json_object_get(json_object_get(set, "sms_webhook_token"), "value")));
  ck_assert_str_eq(json_string_value(json_object_get(j, "config_file")), "./var/dsrd.conf");
  json_decref(j);
  ops_run_free(&r);
  unsetenv("DSRD_DB_POOL_SIZE");
  unsetenv("DSRD_METRICS_TOKEN");

  /* dsrd given only the state directory runs on the file's database and policy */
  char state[400];
  snprintf(state, sizeof state, "%s/var", parent);
  struct h_dsrd d;
  h_dsrd_start(&d, state, NULL);
  json_t *body = NULL;
  long st = h_json_call(&d, "POST", "/v1/requests", NULL, 0,
                        "{\"type\":\"access\",\"subject\":{\"email\":\"conf@example.org\","
                        "\"phone\":\"+15550100123\"}}",
                        &body);
  ck_assert_msg(st == 202, "intake answered %ld", st);
  json_decref(body);
  ck_assert_int_eq(h_sql_long(db, "SELECT count(*) FROM dsr_requests"), 1);
  ck_assert_int_eq(h_dsrd_stop(&d, SIGTERM), 0);
  free(db);
}
END_TEST

/* contrib/systemd: systemd-analyze verify accepts both units (ExecStart pointed at the built
 * dsrd, the template as an instance), without a warning, and they keep their hardening. */
START_TEST(systemd_units_verify)
{
  const char *tool = "/usr/bin/systemd-analyze";
  ck_assert_msg(access(tool, X_OK) == 0, "%s missing (Debian's systemd package)", tool);
  char dir[256];
  h_tmpdir(dir, sizeof dir, "units");
  char *dsrd = h_program("dsrd");
  static const char *const units[][2] = {{"dsrd.service", "dsrd.service"},
                                         {"dsrd-worker@.service", "dsrd-worker@1.service"}};
  for (size_t i = 0; i < 2; i++) {
    char src[512], dst[600];
    snprintf(src, sizeof src, "%s/contrib/systemd/%s", getenv("DSR_TOP_SRCDIR"), units[i][0]);
    snprintf(dst, sizeof dst, "%s/%s", dir, units[i][1]);
    char *text = h_slurp(src, NULL);
    static const char *const must[] = {"DynamicUser=yes\n", "ProtectSystem=strict\n",
                                       "NoNewPrivileges=yes\n", "ReadWritePaths=/var/lib/dsrd",
                                       "--role="};
    for (size_t k = 0; k < sizeof must / sizeof must[0]; k++)
      ck_assert_msg(strstr(text, must[k]) != NULL, "%s lacks %s", units[i][0], must[k]);
    char *unit = ops_replace(text, "/usr/local/sbin/dsrd", dsrd);
    ops_write(dst, unit);
    free(unit);
    free(text);
    char *cmd = NULL, out[700];
    snprintf(out, sizeof out, "%s/verify.out", dir);
    ck_assert(asprintf(&cmd, "cd '%s' && %s verify --man=no './%s' >'%s' 2>&1", dir, tool,
                       units[i][1], out) > 0);
    int st = system(cmd);
    free(cmd);
    char *said = h_slurp(out, NULL);
    ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0 && said[0] == '\0',
                  "systemd-analyze verify %s: %s", units[i][0], said);
    free(said);
    unlink(out);
    unlink(dst);
  }
  free(dsrd);
  rmdir(dir);
}
END_TEST

Suite *suite_ops_cli(void)
{
  Suite *s = suite_create("ops_cli");
  TCase *tc = tcase_create("ops_cli");
  tcase_set_timeout(tc, 180);
  tcase_add_test(tc, every_command_and_subcommand_answers_help);
  tcase_add_test(tc, usage_errors_exit_2_with_a_one_line_hint);
  tcase_add_test(tc, report_defaults_to_the_last_30_days);
  tcase_add_test(tc, dsrd_and_dsrctl_read_state_dir_dsrd_conf);
  tcase_add_test(tc, systemd_units_verify);
  suite_add_tcase(s, tc);
  return s;
}

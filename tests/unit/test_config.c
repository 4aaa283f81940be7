/** @file test_config.c @brief Configuration precedence, validation and errors. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "suites.h"
#include "dsr/config.h"

static char *write_tmp(const char *text)
{
  char *path = strdup("/tmp/dsr-conf-XXXXXX");
  int fd = mkstemp(path);
  ck_assert_int_ge(fd, 0);
  ck_assert_int_eq(write(fd, text, strlen(text)), (int)strlen(text));
  close(fd);
  return path;
}

START_TEST(defaults)
{
  struct dsr_config c;
  ck_assert(dsr_config_defaults(&c));
  ck_assert_str_eq(c.state_dir, "./var");
  ck_assert_int_eq(c.port, 8080);
  ck_assert_ptr_null(c.database_url);
  ck_assert(c.migrate_on_start);
  dsr_config_free(&c);
}
END_TEST

START_TEST(file_env_flags_precedence)
{
  char *path = write_tmp("# comment\nport = 9000\nthreads=3\nstate_dir = \"/tmp/x y\"\n"
                         "migrate_on_start = no\n");
  setenv("DSRD_PORT", "9100", 1);
  char *argv[] = {"dsrd", "-c", path, "--threads=7", "positional", "--log-level", "debug", NULL};
  char *rest[8];
  int nrest;
  char err[256];
  struct dsr_config c;
  ck_assert_msg(dsr_config_from_args(&c, 7, argv, rest, &nrest, err, sizeof err), "%s", err);
  ck_assert_int_eq(c.port, 9100);   /* env beats file */
  ck_assert_int_eq(c.threads, 7);   /* flag beats file */
  ck_assert_str_eq(c.state_dir, "/tmp/x y");
  ck_assert_str_eq(c.log_level, "debug");
  ck_assert(!c.migrate_on_start);
  ck_assert_int_eq(nrest, 1);
  ck_assert_str_eq(rest[0], "positional");
  unsetenv("DSRD_PORT");
  dsr_config_free(&c);
  unlink(path);
  free(path);
}
END_TEST

START_TEST(errors_name_line_and_key)
{
  char err[256];
  struct dsr_config c;
  ck_assert(dsr_config_defaults(&c));
  char *path = write_tmp("port = 80\nnot_a_key = 1\n");
  ck_assert(!dsr_config_load_file(&c, path, err, sizeof err));
  ck_assert_msg(strstr(err, ":2: unknown configuration key \"not_a_key\"") != NULL, "%s", err);
  unlink(path);
  free(path);
  path = write_tmp("port = eighty\n");
  ck_assert(!dsr_config_load_file(&c, path, err, sizeof err));
  ck_assert_msg(strstr(err, ":1: port: expected an integer") != NULL, "%s", err);
  unlink(path);
  free(path);
  path = write_tmp("just words\n");
  ck_assert(!dsr_config_load_file(&c, path, err, sizeof err));
  ck_assert_msg(strstr(err, ":1: expected \"key = value\"") != NULL, "%s", err);
  unlink(path);
  free(path);
  ck_assert(!dsr_config_set(&c, "threads", "0", err, sizeof err));
  ck_assert(!dsr_config_set(&c, "migrate_on_start", "maybe", err, sizeof err));
  ck_assert(!dsr_config_load_file(&c, "/nonexistent/dsrd.conf", err, sizeof err));
  dsr_config_free(&c);
}
END_TEST

/* The key table is the source of truth: the man page and the sample must follow it. */
static char *slurp(const char *rel)
{
  const char *top = getenv("DSR_TOP_SRCDIR");
  ck_assert_msg(top != NULL, "DSR_TOP_SRCDIR is not set (run through make check)");
  char path[1024];
  snprintf(path, sizeof path, "%s/%s", top, rel);
  FILE *f = fopen(path, "r");
  ck_assert_msg(f != NULL, "cannot open %s", path);
  static char buf[1 << 17];
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  buf[n] = '\0';
  fclose(f);
  return strdup(buf);
}

START_TEST(every_key_documented)
{
  char *man = slurp("man/dsrd.conf.5");
  char *sample = slurp("contrib/dsrd.conf.sample");
  for (const struct dsr_config_key *k = dsr_config_keys(); k->name; k++) {
    char needle[96];
    snprintf(needle, sizeof needle, ".B %s", k->name);
    ck_assert_msg(strstr(man, needle) != NULL, "man/dsrd.conf.5 lacks key %s", k->name);
    ck_assert_msg(strstr(man, k->env) != NULL, "man/dsrd.conf.5 lacks %s", k->env);
    snprintf(needle, sizeof needle, "%s =", k->name);
    ck_assert_msg(strstr(sample, needle) != NULL, "contrib/dsrd.conf.sample lacks key %s",
                  k->name);
  }
  free(man);
  free(sample);
}
END_TEST

/* dsrctl config show: secrets never leave as text, passwords inside DSNs neither. */
START_TEST(values_for_display_redact_secrets)
{
  static const char *const cases[][2] = {
      {"host=/run/pg password=hunter2 user=dsrd", "host=/run/pg password=*** user=dsrd"},
      {"password = 'a b\\' c' dbname=x", "password = *** dbname=x"},
      {"password=", "password=***"},
      {"postgresql://dsrd:s3cret@db.example:5432/dsrd", "postgresql://dsrd:***@db.example:5432/dsrd"},
      {"postgresql://db.example/dsrd", "postgresql://db.example/dsrd"},
      {"host=x mypassword=y", "host=x mypassword=y"},
  };
  const struct dsr_config_key *url = NULL, *smtp = NULL, *port = NULL;
  for (const struct dsr_config_key *k = dsr_config_keys(); k->name; k++) {
    if (!strcmp(k->name, "database_url"))
      url = k;
    if (!strcmp(k->name, "smtp_password"))
      smtp = k;
    if (!strcmp(k->name, "port"))
      port = k;
  }
  ck_assert(url && smtp && port);
  char err[256];
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    struct dsr_config c;
    ck_assert(dsr_config_defaults(&c));
    ck_assert(dsr_config_set(&c, "database_url", cases[i][0], err, sizeof err));
    char *v = dsr_config_value_text(&c, url);
    ck_assert_str_eq(v, cases[i][1]);
    free(v);
    dsr_config_free(&c);
  }
  struct dsr_config c;
  ck_assert(dsr_config_defaults(&c));
  ck_assert_ptr_null(dsr_config_value_text(&c, smtp)); /* unset */
  ck_assert(dsr_config_set(&c, "smtp_password", "topsecret", err, sizeof err));
  char *v = dsr_config_value_text(&c, smtp);
  ck_assert_str_eq(v, "(redacted)");
  free(v);
  v = dsr_config_value_text(&c, port);
  ck_assert_str_eq(v, "8080");
  free(v);
  ck_assert(dsr_config_key_secret("metrics_token") && !dsr_config_key_secret("port"));
  ck_assert_str_eq(dsr_config_source_name(DSR_CFG_SRC_ENV), "environment");
  dsr_config_free(&c);
}
END_TEST

Suite *suite_config(void)
{
  Suite *s = suite_create("config");
  TCase *tc = tcase_create("keys");
  tcase_add_test(tc, defaults);
  tcase_add_test(tc, file_env_flags_precedence);
  tcase_add_test(tc, errors_name_line_and_key);
  tcase_add_test(tc, every_key_documented);
  tcase_add_test(tc, values_for_display_redact_secrets);
  suite_add_tcase(s, tc);
  return s;
}

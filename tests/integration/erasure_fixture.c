/** @file erasure_fixture.c @brief Helpers of the erasure suites (see erasure_fixture.h). */
#include "erasure_fixture.h"
#include "dsr/admin.h"
#include "dsr/crypto.h"
#include "dsr/discovery.h"
#include "dsr/erasure.h"
#include "dsr/pgembed.h"
#include "dsr/queue.h"
#include "dsr/requests.h"
#include "dsr/staff.h"
#include "dsr/sweep.h"
#include "erasure_jobs.h"
#include "routing_jobs.h"

#include <dirent.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>

void ef_generate(struct ef_platform *pl, const char *db, long subjects, bool media,
                 const char *extra)
{
  char err[512];
  memset(pl, 0, sizeof *pl);
  H_REQUIRE(dsr_pgembed_ensure_db(it_pg.embed, db, err, sizeof err), "%s", err);
  pl->conninfo = dsr_pgembed_conninfo(it_pg.embed, db);
  H_REQUIRE1(pl->conninfo != NULL);
  char subj[32];
  snprintf(subj, sizeof subj, "%ld", subjects);
  if (media)
    h_tmpdir(pl->media, sizeof pl->media, "media");
  char *cmd = NULL;
  char *prog = h_program("dsrctl");
  H_REQUIRE1(asprintf(&cmd, "'%s' sample generate --platform-url '%s' --reset --subjects %s "
                            "--seed 11 --now 2026-01-01 --backup-sets 0 %s%s%s %s >/dev/null",
                      prog, pl->conninfo, subj, media ? "--media '" : "--no-media",
                      media ? pl->media : "", media ? "'" : "", extra ? extra : "") > 0);
  free(prog);
  int rc = system(cmd);
  free(cmd);
  H_REQUIRE(rc == 0, "sample generate failed (%d)", rc);
}

void ef_platform_free(struct ef_platform *pl)
{
  free(pl->conninfo);
  pl->conninfo = NULL;
}

void ef_use(const struct ef_platform *pl)
{
  H_REQUIRE1(setenv("DSR_PLATFORM_DSN", pl->conninfo, 1) == 0);
  H_REQUIRE1(setenv("DSR_MEDIA_ROOT", pl->media[0] ? pl->media : "/nonexistent", 1) == 0);
}

char *ef_table_md5(const char *conninfo, const char *table, const char *pk, const char *except)
{
  char *sql = NULL;
  if (pk)
    H_REQUIRE1(asprintf(&sql,
                        "SELECT md5(coalesce(string_agg(h, '' ORDER BY h), '')) FROM (SELECT "
                        "md5(x::text) h FROM public.\"%s\" x WHERE NOT (x.\"%s\"::text = "
                        "ANY('%s'::text[]))) q", table, pk, except ? except : "{}") > 0);
  else
    H_REQUIRE1(asprintf(&sql, "SELECT md5(coalesce(string_agg(md5(x::text), '' ORDER BY "
                              "md5(x::text)), '')) FROM public.\"%s\" x", table) > 0);
  PGresult *r = h_sql(conninfo, sql);
  free(sql);
  char *out = strdup(PQgetvalue(r, 0, 0));
  PQclear(r);
  return out;
}

void ef_assert_twins_agree(const char *sum_a0, char *sum_a, char *sum_b, char *fig_a,
                           char *fig_b)
{
  ck_assert_str_ne(sum_a, sum_a0);
  ck_assert_str_eq(sum_a, sum_b);
  ck_assert_str_eq(fig_a, fig_b);
  free(fig_a);
  free(fig_b);
  free(sum_a);
  free(sum_b);
}

char *ef_checksums(const char *conninfo)
{
  PGresult *t = h_sql(conninfo, "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
                                "ORDER BY 1");
  struct dsr_buf b = {0};
  H_REQUIRE1(dsr_buf_puts(&b, ""));
  for (int i = 0; i < PQntuples(t); i++) {
    char sql[400];
    snprintf(sql, sizeof sql,
             "SELECT md5(coalesce(string_agg(md5(x::text), '' ORDER BY md5(x::text)), '')), "
             "count(*) FROM public.\"%s\" x", PQgetvalue(t, i, 0));
    PGresult *r = h_sql(conninfo, sql);
    H_REQUIRE1(dsr_buf_printf(&b, "%s=%s/%s;", PQgetvalue(t, i, 0), PQgetvalue(r, 0, 1),
                              PQgetvalue(r, 0, 0)));
    PQclear(r);
  }
  PQclear(t);
  return dsr_buf_steal(&b);
}

long ef_count_files(const char *dir)
{
  DIR *d = opendir(dir);
  long n = 0;
  if (!d)
    return 0;
  struct dirent *e;
  while ((e = readdir(d))) {
    if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
      continue;
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
    struct stat st;
    if (lstat(path, &st) != 0)
      continue;
    n += S_ISDIR(st.st_mode) ? ef_count_files(path) : S_ISREG(st.st_mode);
  }
  closedir(d);
  return n;
}

bool ef_file_exists(const char *root, const char *rel)
{
  char path[1024];
  snprintf(path, sizeof path, "%s/%s", root, rel);
  struct stat st;
  return stat(path, &st) == 0;
}

long ef_long(const char *conninfo, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  char *sql = NULL;
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
  int n = vasprintf(&sql, fmt, ap);
#pragma GCC diagnostic pop
  va_end(ap);
  H_REQUIRE1(n > 0);
  long v = h_sql_long(conninfo, sql);
  free(sql);
  return v;
}

void ef_dsrd_open(struct ef_dsrd *d, const char *name, const char *policy_path,
                  const unsigned char *key32)
{
  static const unsigned char fixed[32] = {7, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15,
                                          16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28,
                                          29, 30, 31};
  char err[512];
  memset(d, 0, sizeof *d);
  dsr_crypto_init_with_key(key32 ? key32 : fixed);
  d->conninfo = it_fresh_db(name);
  d->db = it_connect(d->conninfo);
  d->policy = dsr_policy_load(policy_path, err, sizeof err);
  H_REQUIRE(d->policy != NULL, "%s", err);
  H_REQUIRE1(dsr_config_defaults(&d->cfg));
  d->env = (struct dsr_worker_env){.cfg = &d->cfg, .policy = d->policy};
  char *tok = NULL;
  H_REQUIRE1(dsr_staff_token_create(d->db, "operator:test", "erasure-admin", DSR_ROLE_ADMIN, &tok,
                                    d->staff_id) == DSR_OK);
  free(tok);
}

void ef_dsrd_close(struct ef_dsrd *d)
{
  it_disconnect(d->db);
  dsr_policy_free(d->policy);
  dsr_config_free(&d->cfg);
  free(d->conninfo);
  memset(d, 0, sizeof *d);
}

const char *ef_request(struct ef_dsrd *d, const char *email, const char *phone)
{
  static char id[40];
  struct dsr_intake in = {.type = "erasure", .jurisdiction = "gdpr", .language = "en",
                          .email = email, .phone = phone};
  json_t *reply = NULL;
  unsigned status = 0;
  H_REQUIRE1(dsr_request_create(d->db, &in, &reply, &status) == DSR_OK);
  dsr_strlcpy(id, json_string_value(json_object_get(reply, "id")), sizeof id);
  json_decref(reply);
  struct dsr_admin_action a = {.action = "verify", .note = "checked by phone call"};
  char detail[256];
  const char *field = NULL;
  reply = NULL;
  enum dsr_ec ec = dsr_admin_act(d->db, d->policy, d->staff_id, id, &a, &reply, detail,
                                 sizeof detail, &field);
  H_REQUIRE(ec == DSR_OK, "verify: %s %s", dsr_ec_code(ec), detail);
  json_decref(reply);
  return id;
}

static const struct dsr_job_kind registry[] = {
    {DSR_JOB_DISCOVERY, dsr_job_discovery, 300, NULL},
    {DSR_JOB_ERASURE, dsr_job_erasure, 900, NULL},
    {NULL, NULL, 0, NULL},
};

int ef_run_jobs(struct ef_dsrd *d)
{
  int total = 0, ran;
  while ((ran = dsr_queue_run_batch(d->db, registry, "erasure-test", dsr_now(), 4, &d->env)) > 0)
    total += ran;
  H_REQUIRE1(ran == 0);
  return total;
}

void ef_approve(struct ef_dsrd *d, const char *request_id)
{
  struct dsr_admin_action a = {.action = "approve"};
  char detail[256];
  const char *field = NULL;
  json_t *reply = NULL;
  enum dsr_ec ec = dsr_admin_act(d->db, d->policy, d->staff_id, request_id, &a, &reply, detail,
                                 sizeof detail, &field);
  H_REQUIRE(ec == DSR_OK, "approve: %s %s", dsr_ec_code(ec), detail);
  json_decref(reply);
}

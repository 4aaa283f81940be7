/**
 * @file test_files.c
 * @brief Files columns on a generated sample platform, erased in this
 *        process with the real job handlers and an injected clock: absolute
 *        paths under the media root and object keys mapped by a "prefixes"
 *        map are removed; a path outside every root is refused (the file
 *        stays) and does not stall the part; a file that cannot be removed is
 *        retried a bounded number of times with back-off, then left residual
 *        in the receipt (no paths in it) while the request completes; `dsrctl
 *        files retry` removes it once the cause is fixed. Access packages
 *        resolve files the same way and say which ones they miss; so do
 *        retention sweeps and `policy lint --live`.
 */
#include "erasure_fixture.h"
#include "dsr/executor.h"
#include "dsr/sweep.h"

#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define F_EMAIL "erin.subject@example.org"
#define F_PHONE "+15550100777"

/* The sample policy callers360.json, with @p prefixes (may be NULL) on its media store, written
 * under @p dir. Caller frees. */
static char *policy_with_prefixes(const char *dir, json_t *prefixes)
{
  char *src = NULL, *out = NULL;
  H_REQUIRE1(asprintf(&src, "%s/policies/callers360.json", getenv("DSR_TOP_SRCDIR")) > 0);
  json_error_t je;
  json_t *doc = json_load_file(src, 0, &je);
  ck_assert_msg(doc != NULL, "%s", je.text);
  if (prefixes)
    ck_assert_int_eq(json_object_set_new(json_object_get(json_object_get(doc, "stores"), "media"),
                                         "prefixes", prefixes), 0);
  H_REQUIRE1(asprintf(&out, "%s/policy.json", dir) > 0);
  ck_assert_int_eq(json_dump_file(doc, out, JSON_INDENT(2)), 0);
  json_decref(doc);
  free(src);
  return out;
}

/* The subject's recordings: [[id, file_path], ...] in id order. */
static json_t *subject_recordings(const char *plat)
{
  PGresult *r = h_sql(plat, "SELECT r.id::text, r.file_path FROM recordings r JOIN calls c ON"
                            " c.id = r.call_id WHERE c.caller_number = '" F_PHONE "' OR"
                            " c.called_number = '" F_PHONE "' ORDER BY r.id");
  json_t *a = json_array();
  for (int i = 0; i < PQntuples(r); i++)
    json_array_append_new(a, json_pack("[s, s]", PQgetvalue(r, i, 0), PQgetvalue(r, i, 1)));
  PQclear(r);
  return a;
}

static const char *rec_id(const json_t *recs, size_t i)
{
  return json_string_value(json_array_get(json_array_get(recs, i), 0));
}

static const char *rec_path(const json_t *recs, size_t i)
{
  return json_string_value(json_array_get(json_array_get(recs, i), 1));
}

/* Sets recording @p id's file column to @p value (test data only: plain ASCII, no quotes). */
static void set_path(const char *plat, const char *id, const char *value)
{
  ck_assert_ptr_null(strchr(value, '\''));
  char sql[1200];
  snprintf(sql, sizeof sql, "UPDATE recordings SET file_path = '%s' WHERE id = %s", value, id);
  PQclear(h_sql(plat, sql));
}

static bool exists(const char *path)
{
  struct stat st;
  return lstat(path, &st) == 0;
}

static void touch(const char *path)
{
  FILE *f = fopen(path, "w");
  ck_assert_msg(f != NULL, "cannot create a test file");
  fputs("x", f);
  fclose(f);
}

/* Runs the jobs with the clock moved on an hour each round until the part is final (at most
 * @p rounds); returns the rounds it took. */
static int run_until_done(struct ef_dsrd *d, time_t *clock, int rounds)
{
  for (int i = 1; i <= rounds; i++) {
    *clock += 3600;
    dsr_set_fake_now(*clock);
    ef_run_jobs(d);
    if (ef_long(d->conninfo, "SELECT count(*) FROM dsr_parts WHERE state <> 'done'") == 0)
      return i;
  }
  return -1;
}

/* The part's receipt (a new reference). */
static json_t *receipt(const struct ef_dsrd *d)
{
  PGresult *r = h_sql(d->conninfo, "SELECT receipt::text FROM dsr_erasure_runs WHERE kind ="
                                   " 'erasure' AND state = 'done'");
  ck_assert_int_eq(PQntuples(r), 1);
  json_t *rc = json_loads(PQgetvalue(r, 0, 0), 0, NULL);
  PQclear(r);
  ck_assert_ptr_nonnull(rc);
  return rc;
}

static void start(struct ef_platform *pl, const char *db)
{
  ef_generate(pl, db, 200, true,
              "--subject-email " F_EMAIL " --subject-phone " F_PHONE " --subject-workspaces 1 "
              "--subject-calls 12");
  ef_use(pl);
}

/* Absolute paths under the media root and object keys through the store's prefix map are
 * erased like relative ones; files of other people stay. */
START_TEST(absolute_paths_and_object_keys_are_erased)
{
  struct ef_platform pl;
  struct ef_dsrd d;
  char dir[256], objects[300];
  h_tmpdir(dir, sizeof dir, "files-keys");
  start(&pl, "fi_keys");
  /* the object store: a directory of its own, outside the media root */
  snprintf(objects, sizeof objects, "%s/objects", dir);
  ck_assert_int_eq(mkdir(objects, 0700), 0);
  char *pp = policy_with_prefixes(dir, json_pack("{s:s}", "s3://bucket/ws-12/", objects));
  ef_dsrd_open(&d, "dsr_fi_keys", pp, NULL);
  json_t *recs = subject_recordings(pl.conninfo);
  size_t n = json_array_size(recs);
  ck_assert_int_ge(n, 4);
  long all_media = ef_count_files(pl.media);
  char path[1200], moved[1200], key[1200];
  json_t *gone = json_array();
  for (size_t i = 0; i < n; i++) {
    const char *rel = rec_path(recs, i);
    snprintf(path, sizeof path, "%s/%s", pl.media, rel);
    ck_assert_msg(exists(path), "recording %zu missing before the erasure", i);
    if (i % 2 == 0) { /* an absolute path, with a detour through "." and ".." */
      snprintf(key, sizeof key, "%s/./elsewhere/../%s", pl.media, rel);
      set_path(pl.conninfo, rec_id(recs, i), key);
      json_array_append_new(gone, json_string(path));
    } else { /* an object key: the file moves to the mapped directory, flat */
      snprintf(moved, sizeof moved, "%s/rec-%zu.wav", objects, i);
      ck_assert_int_eq(rename(path, moved), 0);
      snprintf(key, sizeof key, "s3://bucket/ws-12/rec-%zu.wav", i);
      set_path(pl.conninfo, rec_id(recs, i), key);
      json_array_append_new(gone, json_string(moved));
    }
  }
  /* another object under the mapped directory that is not the subject's stays */
  snprintf(path, sizeof path, "%s/someone-else.wav", objects);
  touch(path);

  char id[40];
  dsr_strlcpy(id, ef_request(&d, F_EMAIL, F_PHONE), sizeof id);
  ef_run_jobs(&d);
  ef_approve(&d, id);
  time_t clock = time(NULL);
  ck_assert_int_eq(run_until_done(&d, &clock, 1), 1); /* nothing to retry: done at once */
  dsr_set_fake_now(0);

  size_t i;
  json_t *g;
  json_array_foreach(gone, i, g)
    ck_assert_msg(!exists(json_string_value(g)), "file %zu of the subject left", i);
  ck_assert(exists(path));
  ck_assert_int_eq(ef_count_files(objects), 1);
  /* every other media file is still there (half of the subject's had moved out) */
  ck_assert_int_eq(ef_count_files(pl.media), all_media - (long)n);
  ck_assert_int_eq(ef_long(d.conninfo, "SELECT count(*) FROM dsr_requests WHERE id = '%s' AND"
                                       " status = 'completed'", id), 1);
  json_t *rc = receipt(&d);
  ck_assert_int_eq(json_integer_value(json_object_get(rc, "files_residual")), 0);
  ck_assert_int_eq(json_integer_value(json_object_get(rc, "files_pending")), 0);
  ck_assert_int_ge(json_integer_value(json_object_get(rc, "files_removed")), (json_int_t)n);
  ck_assert_ptr_null(json_object_get(rc, "residual_files"));
  json_decref(rc);
  json_decref(gone);
  json_decref(recs);
  ef_dsrd_close(&d);
  ef_platform_free(&pl);
  free(pp);
}
END_TEST

/* Runs dsrctl on database @p conninfo with policy @p pp; stdout into *out (caller frees). */
static int files_ctl(const char *conninfo, const char *dir, const char *pp,
                     const char *const *args, char **out)
{
  char url[600], key[400], pol[400], path[320];
  snprintf(url, sizeof url, "--database-url=%s", conninfo);
  snprintf(key, sizeof key, "--secret-key-file=%s/secret.key", dir);
  snprintf(pol, sizeof pol, "--policy-file=%s", pp);
  snprintf(path, sizeof path, "%s/ctl-out.txt", dir);
  const char *argv[16] = {"dsrctl", url, key, pol, "files"};
  int n = 5;
  for (int i = 0; args[i] && n < 15; i++)
    argv[n++] = args[i];
  argv[n] = NULL;
  int rc = it_run(argv, path);
  *out = h_slurp(path, NULL);
  return rc;
}

/* A path outside every root is refused at once (the file there stays); a file that cannot be
 * removed is tried DSR_FILE_MAX_ATTEMPTS times with back-off, then left residual. Neither
 * stalls the part: the request completes, the receipt lists both with their reasons and no
 * path, and `dsrctl files retry` removes the one whose cause was fixed. */
START_TEST(refused_and_unremovable_files_end_residual)
{
  struct ef_platform pl;
  struct ef_dsrd d;
  char dir[256], outside[300], victim[400], escape[400];
  h_tmpdir(dir, sizeof dir, "files-residual");
  start(&pl, "fi_residual");
  char *pp = policy_with_prefixes(dir, NULL);
  ef_dsrd_open(&d, "dsr_fi_residual", pp, NULL);
  snprintf(outside, sizeof outside, "%s/outside", dir);
  ck_assert_int_eq(mkdir(outside, 0700), 0);
  snprintf(victim, sizeof victim, "%s/not-in-any-root.wav", outside);
  touch(victim);
  snprintf(escape, sizeof escape, "%s/escape.wav", outside);
  touch(escape);

  json_t *recs = subject_recordings(pl.conninfo);
  ck_assert_int_ge(json_array_size(recs), 5);
  char value[1200], stuck[1200], inside[1300], notdir[1200];
  /* 0: an absolute path outside every root; 1: a relative one that climbs out */
  set_path(pl.conninfo, rec_id(recs, 0), victim);
  /* enough ".." to reach "/" from the root whatever its depth, then the real file */
  snprintf(value, sizeof value, "../../../../../../../../..%s", escape);
  set_path(pl.conninfo, rec_id(recs, 1), value);
  /* 2: a non-empty directory in place of the file */
  snprintf(stuck, sizeof stuck, "%s/%s", pl.media, rec_path(recs, 2));
  ck_assert_int_eq(unlink(stuck), 0);
  ck_assert_int_eq(mkdir(stuck, 0700), 0);
  snprintf(inside, sizeof inside, "%s/x", stuck);
  touch(inside);
  /* 3: a path whose parent is a plain file */
  snprintf(value, sizeof value, "%s/child.wav", rec_path(recs, 3));
  set_path(pl.conninfo, rec_id(recs, 3), value);
  snprintf(notdir, sizeof notdir, "%s/%s", pl.media, rec_path(recs, 3));
  /* 4: an ordinary file, removed as always */
  char plain[1200];
  snprintf(plain, sizeof plain, "%s/%s", pl.media, rec_path(recs, 4));

  char id[40];
  dsr_strlcpy(id, ef_request(&d, F_EMAIL, F_PHONE), sizeof id);
  ef_run_jobs(&d);
  ef_approve(&d, id);
  time_t clock = time(NULL);
  dsr_set_fake_now(clock);
  ef_run_jobs(&d);
  /* the first attempt: the refused paths are residual at once, the others wait */
  ck_assert_int_eq(ef_long(d.conninfo, "SELECT count(*) FROM dsr_parts WHERE state ="
                                       " 'executing'"), 1);
  ck_assert_int_eq(ef_long(d.conninfo, "SELECT count(*) FROM dsr_file_deletions WHERE state ="
                                       " 'residual' AND attempts = 1 AND last_error LIKE"
                                       " 'refused: the path lies outside every root%%'"), 2);
  ck_assert_int_eq(ef_long(d.conninfo, "SELECT count(*) FROM dsr_file_deletions WHERE state ="
                                       " 'due' AND attempts = 1 AND next_attempt_at > now()"), 2);
  /* the jobs that run before the back-off has passed do not try again */
  ef_run_jobs(&d);
  ck_assert_int_eq(ef_long(d.conninfo, "SELECT max(attempts) FROM dsr_file_deletions WHERE"
                                       " state = 'due'"), 1);
  int rounds = run_until_done(&d, &clock, 20);
  ck_assert_int_ge(rounds, DSR_FILE_MAX_ATTEMPTS - 1);
  ck_assert_int_eq(ef_long(d.conninfo, "SELECT count(*) FROM dsr_requests WHERE id = '%s' AND"
                                       " status = 'completed'", id), 1);
  ck_assert_int_eq(ef_long(d.conninfo, "SELECT count(*) FROM dsr_file_deletions WHERE state ="
                                       " 'residual' AND attempts = %d", DSR_FILE_MAX_ATTEMPTS), 2);
  ck_assert_int_eq(ef_long(d.conninfo, "SELECT count(*) FROM dsr_file_deletions WHERE state ="
                                       " 'residual' AND last_error = 'Is a directory'"), 1);
  ck_assert_int_eq(ef_long(d.conninfo, "SELECT count(*) FROM dsr_file_deletions WHERE state ="
                                       " 'residual' AND last_error = 'Not a directory'"), 1);
  /* refused files were not touched; the ordinary one is gone */
  ck_assert(exists(victim));
  ck_assert(exists(escape));
  ck_assert(exists(inside));
  ck_assert(exists(notdir));
  ck_assert(!exists(plain));
  /* the receipt lists them with their reasons, never their paths */
  json_t *rc = receipt(&d);
  ck_assert_int_eq(json_integer_value(json_object_get(rc, "files_residual")), 4);
  ck_assert_int_eq(json_integer_value(json_object_get(rc, "files_pending")), 0);
  json_t *res = json_object_get(rc, "residual_files");
  ck_assert_int_eq(json_array_size(res), 4);
  size_t i;
  json_t *e;
  json_array_foreach(res, i, e) {
    ck_assert_str_eq(json_string_value(json_object_get(e, "store")), "media");
    ck_assert_ptr_nonnull(json_string_value(json_object_get(e, "reason")));
    ck_assert(json_integer_value(json_object_get(e, "id")) > 0);
  }
  char *text = json_dumps(rc, 0);
  ck_assert_ptr_null(strstr(text, dir));
  ck_assert_ptr_null(strstr(text, "not-in-any-root"));
  ck_assert_ptr_null(strstr(text, ".wav"));
  ck_assert_ptr_null(strstr(text, pl.media));
  free(text);
  json_decref(rc);
  dsr_set_fake_now(0);

  /* the operator fixes one cause; the retry removes that file and leaves the others */
  char *out = NULL;
  const char *bad[] = {"retry", "--request", "not-a-uuid", NULL};
  ck_assert_int_eq(files_ctl(d.conninfo, dir, pp, bad, &out), 2);
  free(out);
  const char *listing[] = {"list", "--request", id, NULL};
  ck_assert_int_eq(files_ctl(d.conninfo, dir, pp, listing, &out), 0);
  ck_assert_ptr_nonnull(strstr(out, "Is a directory"));
  ck_assert_ptr_null(strstr(out, ".wav"));
  free(out);
  ck_assert_int_eq(unlink(inside), 0);
  ck_assert_int_eq(rmdir(stuck), 0);
  touch(stuck);
  const char *retry[] = {"retry", "--request", id, NULL};
  ck_assert_int_eq(files_ctl(d.conninfo, dir, pp, retry, &out), 1); /* three remain */
  ck_assert_ptr_nonnull(strstr(out, "removed 1 file; 3 still residual"));
  free(out);
  ck_assert(!exists(stuck));
  ck_assert(exists(victim));
  ck_assert_int_eq(ef_long(d.conninfo, "SELECT count(*) FROM dsr_file_deletions WHERE state ="
                                       " 'residual'"), 3);
  ck_assert_int_eq(ef_long(d.conninfo, "SELECT count(*) FROM dsr_events WHERE kind ="
                                       " 'file.retried' AND request_id = '%s'", id), 4);
  json_decref(recs);
  ef_dsrd_close(&d);
  ef_platform_free(&pl);
  free(pp);
}
END_TEST

/* An access package resolves files as erasure does (an absolute path under the root is
 * included) and says which ones it could not include, and why, in manifest.json and in
 * summary.html. */
START_TEST(exports_say_which_files_are_missing)
{
  struct ef_platform pl;
  char dir[256], zip[300], out[300], cmd[1200], path[1400];
  h_tmpdir(dir, sizeof dir, "files-export");
  start(&pl, "fi_export");
  char *pp = policy_with_prefixes(dir, NULL);
  json_t *recs = subject_recordings(pl.conninfo);
  ck_assert_int_ge(json_array_size(recs), 3);
  /* 0: absolute under the root (included); 1: deleted from disk; 2: outside every root */
  snprintf(path, sizeof path, "%s/%s", pl.media, rec_path(recs, 0));
  set_path(pl.conninfo, rec_id(recs, 0), path);
  snprintf(path, sizeof path, "%s/%s", pl.media, rec_path(recs, 1));
  ck_assert_int_eq(unlink(path), 0);
  snprintf(path, sizeof path, "%s/outside.wav", dir);
  touch(path);
  set_path(pl.conninfo, rec_id(recs, 2), path);
  snprintf(zip, sizeof zip, "%s/access.zip", dir);
  snprintf(out, sizeof out, "%s/access", dir);
  const char *argv[] = {"dsrctl", "export", "--policy", pp, "--email", F_EMAIL, "--phone",
                        F_PHONE, "--out", zip, NULL};
  ck_assert_int_eq(it_run(argv, NULL), 0);
  snprintf(cmd, sizeof cmd, "unzip -q -o '%s' -d '%s'", zip, out);
  ck_assert_int_eq(system(cmd), 0);

  snprintf(path, sizeof path, "%s/manifest.json", out);
  json_error_t je;
  json_t *man = json_load_file(path, 0, &je);
  ck_assert_msg(man != NULL, "%s", je.text);
  ck_assert_int_eq(json_integer_value(json_object_get(man, "missing_files")), 2);
  json_t *why = json_object_get(man, "files_missing");
  ck_assert_int_eq(json_array_size(why), 2);
  bool absent = false, refused_seen = false;
  size_t i;
  json_t *e;
  json_array_foreach(why, i, e) {
    ck_assert_str_eq(json_string_value(json_object_get(e, "collection")), "recordings");
    ck_assert_int_eq(json_integer_value(json_object_get(e, "files")), 1);
    const char *reason = json_string_value(json_object_get(e, "reason"));
    absent |= !strcmp(reason, "the file does not exist");
    refused_seen |= !strncmp(reason, "refused: the path lies outside every root", 41);
  }
  ck_assert(absent && refused_seen);
  json_array_foreach(json_object_get(man, "collections"), i, e)
    if (!strcmp(json_string_value(json_object_get(e, "name")), "recordings"))
      ck_assert_int_eq(json_integer_value(json_object_get(e, "missing_files")), 2);
  char *text = json_dumps(man, 0);
  ck_assert_ptr_null(strstr(text, "outside.wav"));
  free(text);
  /* the absolute path's file is in the package under its path relative to the root, at
   * media/<collection>/<file> (a path that starts with the collection's name keeps it once) */
  const char *rel0 = rec_path(recs, 0);
  if (!strncmp(rel0, "recordings/", 11))
    rel0 += 11;
  snprintf(path, sizeof path, "%s/media/recordings/%s", out, rel0);
  ck_assert_msg(exists(path), "the file named by its absolute path is not in the package");
  json_decref(man);

  snprintf(path, sizeof path, "%s/summary.html", out);
  char *html = h_slurp(path, NULL);
  ck_assert_ptr_nonnull(html);
  ck_assert_ptr_nonnull(strstr(html, "2 of your files could not be included"));
  ck_assert_ptr_nonnull(strstr(html, "(2 files could not be included)")); /* per collection */
  ck_assert_ptr_nonnull(strstr(html, "the file does not exist"));
  free(html);
  json_decref(recs);
  ef_platform_free(&pl);
  free(pp);
}
END_TEST

/* `policy lint --live` resolves a sample of each files column and reports values outside every
 * root (by row key, never by path) before an erasure meets them. */
START_TEST(lint_live_reports_paths_outside_every_root)
{
  struct ef_platform pl;
  char dir[256], out[320];
  h_tmpdir(dir, sizeof dir, "files-lint");
  start(&pl, "fi_lint");
  char *pp = policy_with_prefixes(dir, json_pack("{s:s}", "s3://bucket/ws-12/", dir));
  snprintf(out, sizeof out, "%s/lint.txt", dir);
  const char *argv[] = {"dsrctl", "policy", "lint", "--live", pp, NULL};
  ck_assert_int_eq(it_run(argv, out), 0);
  char *text = h_slurp(out, NULL);
  ck_assert_ptr_nonnull(strstr(text, ": 0 errors"));
  free(text);
  json_t *recs = subject_recordings(pl.conninfo);
  ck_assert_int_ge(json_array_size(recs), 3);
  set_path(pl.conninfo, rec_id(recs, 0), "/etc/not-a-recording.wav");
  set_path(pl.conninfo, rec_id(recs, 1), "s3://other-bucket/x.wav");
  set_path(pl.conninfo, rec_id(recs, 2), "s3://bucket/ws-12/fine.wav"); /* mapped: fine */
  ck_assert_int_eq(it_run(argv, out), 1);
  text = h_slurp(out, NULL);
  ck_assert_ptr_nonnull(strstr(text, "collections.recordings.files[0]: error: 2 of "));
  ck_assert_ptr_nonnull(strstr(text, "sampled values are refused"));
  ck_assert_ptr_nonnull(strstr(text, ": 1 error"));
  ck_assert_ptr_null(strstr(text, "not-a-recording"));
  ck_assert_ptr_null(strstr(text, "other-bucket"));
  free(text);
  json_decref(recs);
  ef_platform_free(&pl);
  free(pp);
}
END_TEST

/* Runs one sweep at the real clock; returns its receipt (a new reference). */
static json_t *sweep_now(struct ef_dsrd *d)
{
  struct dsr_sweep_opts o;
  dsr_sweep_opts_init(&o, &d->cfg);
  o.own_data = false;
  json_t *rc = NULL;
  char err[256];
  ck_assert_msg(dsr_sweep_run(d->db, d->policy, &o, &rc, err, sizeof err) == DSR_SWEEP_DONE, "%s",
                err);
  return rc;
}

/* Retention sweeps resolve files as erasure does: absolute paths and object keys of expired
 * rows are removed; a refused one is left residual in the sweep's receipt, never a stall. */
START_TEST(sweeps_resolve_files_the_same_way)
{
  struct ef_platform pl;
  struct ef_dsrd d;
  char dir[256], objects[300], outside[400], moved[400], value[1200], path[1200];
  h_tmpdir(dir, sizeof dir, "files-sweep");
  start(&pl, "fi_sweep");
  snprintf(objects, sizeof objects, "%s/objects", dir);
  ck_assert_int_eq(mkdir(objects, 0700), 0);
  char *pp = policy_with_prefixes(dir, json_pack("{s:s}", "s3://bucket/ws-12/", objects));
  ef_dsrd_open(&d, "dsr_fi_sweep", pp, NULL);
  PGresult *r = h_sql(pl.conninfo, "SELECT id::text, file_path FROM recordings ORDER BY id LIMIT 3");
  ck_assert_int_eq(PQntuples(r), 3);
  /* 0: absolute under the root; 1: an object key; 2: outside every root */
  snprintf(value, sizeof value, "%s/%s", pl.media, PQgetvalue(r, 0, 1));
  set_path(pl.conninfo, PQgetvalue(r, 0, 0), value);
  char abs_file[1200];
  snprintf(abs_file, sizeof abs_file, "%s", value);
  snprintf(path, sizeof path, "%s/%s", pl.media, PQgetvalue(r, 1, 1));
  snprintf(moved, sizeof moved, "%s/swept.wav", objects);
  ck_assert_int_eq(rename(path, moved), 0);
  set_path(pl.conninfo, PQgetvalue(r, 1, 0), "s3://bucket/ws-12/swept.wav");
  snprintf(outside, sizeof outside, "%s/kept-outside.wav", dir);
  touch(outside);
  set_path(pl.conninfo, PQgetvalue(r, 2, 0), outside);
  PQclear(h_sql(pl.conninfo, "UPDATE recordings SET created_at = created_at - interval '50 years'"
                             " WHERE id IN (SELECT id FROM recordings ORDER BY id LIMIT 3)"));
  PQclear(r);
  /* the three are long past retention (so are others the generator made: relative paths) */
  ck_assert(exists(abs_file) && exists(moved));
  json_t *rc = sweep_now(&d);
  ck_assert(!exists(abs_file));
  ck_assert(!exists(moved));
  ck_assert(exists(outside));
  ck_assert_int_eq(ef_long(pl.conninfo, "SELECT count(*) FROM recordings WHERE created_at <"
                                        " '1990-01-01'"), 0);
  ck_assert_int_eq(json_integer_value(json_object_get(rc, "files_residual")), 1);
  json_t *res = json_array_get(json_object_get(rc, "residual_files"), 0);
  ck_assert_ptr_nonnull(res);
  ck_assert_str_eq(json_string_value(json_object_get(res, "reason")),
                   "refused: the path lies outside every root of its store");
  json_decref(rc);
  ef_dsrd_close(&d);
  ef_platform_free(&pl);
  free(pp);
}
END_TEST

Suite *suite_files(void)
{
  Suite *s = suite_create("files");
  TCase *tc = tcase_create("core");
  tcase_set_timeout(tc, 300);
  tcase_add_test(tc, absolute_paths_and_object_keys_are_erased);
  tcase_add_test(tc, refused_and_unremovable_files_end_residual);
  tcase_add_test(tc, exports_say_which_files_are_missing);
  tcase_add_test(tc, lint_live_reports_paths_outside_every_root);
  tcase_add_test(tc, sweeps_resolve_files_the_same_way);
  suite_add_tcase(s, tc);
  return s;
}

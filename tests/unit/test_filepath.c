/**
 * @file test_filepath.c
 * @brief The one resolver of files columns (dsr/filepath.h): relative paths,
 *        absolute paths under a root, object keys through a prefix map,
 *        "." and ".." by name, refusals, and links checked on disk.
 */
#include "config.h"
#include "suites.h"
#include "dsr/filepath.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* longest prefix first, as the policy loader sorts them */
static struct dsr_pprefix prefixes[] = {{"s3://bucket/ws-12/", "/srv/objects/ws-12"},
                                        {"s3://bucket/", "/srv/objects/all"}};

static struct dsr_pstore store(const char *root)
{
  return (struct dsr_pstore){.name = "media", .type = DSR_STORE_FILES, .root = root,
                             .prefixes = prefixes, .nprefixes = 2};
}

static void ok(const struct dsr_pstore *s, const char *value, const char *path, const char *rel)
{
  struct dsr_fpath fp;
  enum dsr_fpath_status st = dsr_fpath_resolve(s, value, &fp);
  ck_assert_msg(st == DSR_FPATH_OK, "%s: status %d", value, (int)st);
  ck_assert_str_eq(fp.path, path);
  ck_assert_str_eq(fp.rel, rel);
}

static void refused(const struct dsr_pstore *s, const char *value, enum dsr_fpath_status want)
{
  struct dsr_fpath fp;
  enum dsr_fpath_status st = dsr_fpath_resolve(s, value, &fp);
  ck_assert_msg(st == want, "%s: status %d, want %d", value, (int)st, (int)want);
  ck_assert_ptr_nonnull(strstr(dsr_fpath_reason(st, 0), st == DSR_FPATH_NO_ROOT ? "root" : "refused"));
}

START_TEST(relative_absolute_and_object_keys)
{
  struct dsr_pstore s = store("/srv/media/");
  ok(&s, "rec/2026/a.wav", "/srv/media/rec/2026/a.wav", "rec/2026/a.wav");
  ok(&s, "rec/./x/../a.wav", "/srv/media/rec/a.wav", "rec/a.wav");
  ok(&s, "rec//a.wav", "/srv/media/rec/a.wav", "rec/a.wav");
  ok(&s, "/srv/media/rec/a.wav", "/srv/media/rec/a.wav", "rec/a.wav");
  ok(&s, "/srv//media/./rec/../rec/a.wav", "/srv/media/rec/a.wav", "rec/a.wav");
  /* an object key: the longest prefix wins; the rest is relative to its directory */
  ok(&s, "s3://bucket/ws-12/calls/9.wav", "/srv/objects/ws-12/calls/9.wav", "calls/9.wav");
  ok(&s, "s3://bucket/ws-13/calls/9.wav", "/srv/objects/all/ws-13/calls/9.wav",
     "ws-13/calls/9.wav");
  /* an absolute path under a mapped directory is under one of the store's roots too */
  ok(&s, "/srv/objects/ws-12/calls/9.wav", "/srv/objects/ws-12/calls/9.wav", "calls/9.wav");
}
END_TEST

START_TEST(outside_every_root_is_refused)
{
  struct dsr_pstore s = store("/srv/media");
  refused(&s, "../etc/passwd", DSR_FPATH_OUTSIDE);
  refused(&s, "rec/../../etc/passwd", DSR_FPATH_OUTSIDE);
  refused(&s, "/etc/passwd", DSR_FPATH_OUTSIDE);
  refused(&s, "/srv/media/../etc/passwd", DSR_FPATH_OUTSIDE);
  refused(&s, "/srv/mediaX/a.wav", DSR_FPATH_OUTSIDE); /* a sibling that shares the name's start */
  refused(&s, "/srv/media", DSR_FPATH_OUTSIDE);        /* the root itself is no file */
  refused(&s, "s3://bucket/ws-12/../../x", DSR_FPATH_OUTSIDE);
  refused(&s, "s3://other-bucket/a.wav", DSR_FPATH_UNMAPPED); /* never a relative path */
  refused(&s, "gs://bucket/ws-12/a.wav", DSR_FPATH_UNMAPPED);
  ok(&s, "rec/s3://x", "/srv/media/rec/s3:/x", "rec/s3:/x"); /* "://" after a "/": a path */
  refused(&s, "", DSR_FPATH_EMPTY);
  refused(&s, "rec/..", DSR_FPATH_EMPTY);
  refused(&s, "s3://bucket/ws-12/", DSR_FPATH_EMPTY);
  char *longv = malloc(DSR_FPATH_MAX + 10);
  ck_assert_ptr_nonnull(longv);
  memset(longv, 'a', DSR_FPATH_MAX + 9);
  longv[DSR_FPATH_MAX + 9] = '\0';
  refused(&s, longv, DSR_FPATH_TOO_LONG);
  free(longv);
  /* no root configured: a relative path cannot be placed; an object key still can */
  struct dsr_pstore noroot = store(NULL);
  noroot.root_env = "DSR_TEST_FILEPATH_UNSET_ROOT";
  unsetenv("DSR_TEST_FILEPATH_UNSET_ROOT");
  refused(&noroot, "rec/a.wav", DSR_FPATH_NO_ROOT);
  ok(&noroot, "s3://bucket/x", "/srv/objects/all/x", "x");
  refused(&noroot, "/srv/media/a.wav", DSR_FPATH_OUTSIDE);
}
END_TEST

/* On disk: a link out of the root is refused, a missing directory means a missing file, a
 * parent that is no directory is an error to retry. */
START_TEST(links_are_resolved_on_disk)
{
  char tmpl[] = "/tmp/dsr-fpath-XXXXXX";
  ck_assert_ptr_nonnull(mkdtemp(tmpl));
  char root[256], outside[256], link[300], sub[300], file[300];
  snprintf(root, sizeof root, "%s/root", tmpl);
  snprintf(outside, sizeof outside, "%s/outside", tmpl);
  snprintf(link, sizeof link, "%s/out", root);
  snprintf(sub, sizeof sub, "%s/in", root);
  snprintf(file, sizeof file, "%s/plain", root);
  ck_assert_int_eq(mkdir(root, 0700), 0);
  ck_assert_int_eq(mkdir(outside, 0700), 0);
  ck_assert_int_eq(mkdir(sub, 0700), 0);
  ck_assert_int_eq(symlink(outside, link), 0);
  FILE *f = fopen(file, "w");
  ck_assert_ptr_nonnull(f);
  fclose(f);
  struct dsr_pstore s = store(root);
  struct dsr_fpath fp;
  const char *name;
  int err = 0, fd;

  ck_assert_int_eq(dsr_fpath_resolve(&s, "in/a.wav", &fp), DSR_FPATH_OK);
  fd = dsr_fpath_open_dir(&fp, &name, &err);
  ck_assert_int_ge(fd, 0);
  ck_assert_str_eq(name, "a.wav");
  close(fd);

  ck_assert_int_eq(dsr_fpath_resolve(&s, "out/a.wav", &fp), DSR_FPATH_OK); /* by name: fine */
  ck_assert_int_eq(dsr_fpath_open_dir(&fp, &name, &err), -1);             /* on disk: not */
  ck_assert_int_eq(err, EXDEV);
  ck_assert_ptr_nonnull(strstr(dsr_fpath_reason(DSR_FPATH_OK, err), "symbolic link"));

  ck_assert_int_eq(dsr_fpath_resolve(&s, "gone/a.wav", &fp), DSR_FPATH_OK);
  ck_assert_int_eq(dsr_fpath_open_dir(&fp, &name, &err), -1);
  ck_assert_int_eq(err, ENOENT);

  ck_assert_int_eq(dsr_fpath_resolve(&s, "plain/a.wav", &fp), DSR_FPATH_OK);
  ck_assert_int_eq(dsr_fpath_open_dir(&fp, &name, &err), -1);
  ck_assert_int_eq(err, ENOTDIR);

  ck_assert_int_eq(unlink(link), 0);
  ck_assert_int_eq(unlink(file), 0);
  ck_assert_int_eq(rmdir(sub), 0);
  ck_assert_int_eq(rmdir(outside), 0);
  ck_assert_int_eq(rmdir(root), 0);
  ck_assert_int_eq(rmdir(tmpl), 0);
}
END_TEST

Suite *suite_filepath(void)
{
  Suite *s = suite_create("filepath");
  TCase *tc = tcase_create("core");
  tcase_add_test(tc, relative_absolute_and_object_keys);
  tcase_add_test(tc, outside_every_root_is_refused);
  tcase_add_test(tc, links_are_resolved_on_disk);
  suite_add_tcase(s, tc);
  return s;
}

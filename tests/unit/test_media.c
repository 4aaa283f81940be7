/**
 * @file test_media.c
 * @brief Erasure that reaches backups, the pure parts: redaction of a subject
 *        known only by keyed identity hashes (the ledger's replay) gives what
 *        redaction by value gives; the master key file (versions, mode,
 *        malformed lines, crash-safe addition); the policy's crypto_shred.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "suites.h"
#include "dsr/backup.h"
#include "dsr/crypto.h"
#include "dsr/erasure.h"
#include "dsr/executor.h"
#include "dsr/media.h"
#include "dsr/policy.h"

static char *policy_file(const char *name)
{
  char *p = NULL;
  ck_assert(asprintf(&p, "%s/policies/%s", getenv("DSR_TOP_SRCDIR"), name) > 0);
  return p;
}

START_TEST(redaction_by_hash_matches_redaction_by_value)
{
  static const unsigned char key[32] = {9, 9, 9};
  dsr_crypto_init_with_key(key);
  char err[512];
  char *pp = policy_file("callorbit.json");
  struct dsr_policy *p = dsr_policy_load(pp, err, sizeof err);
  ck_assert_msg(p != NULL, "%s", err);
  struct dsr_subject s = {.email = "Erin.Subject@Example.org", .phone = "+1 (555) 010-0777"};
  struct dsr_exec_subject byval, byhash = {0};
  ck_assert(dsr_exec_subject_init(&byval, &s));
  struct dsr_ledger_ids ids;
  dsr_ledger_ids_of(&s, &ids);
  json_t *j = dsr_ledger_ids_json(&ids);
  struct dsr_ledger_ids back;
  ck_assert(dsr_ledger_ids_parse(j, &back));
  ck_assert_str_eq(back.hex[DSR_ID_PHONE], ids.hex[DSR_ID_PHONE]);
  char *text = json_dumps(j, 0);
  ck_assert(strstr(text, "555") == NULL && strstr(text, "erin") == NULL); /* hashes only */
  free(text);
  json_decref(j);
  size_t bin;
  ck_assert_int_eq(sodium_hex2bin(byhash.phone_hash, 32, ids.hex[DSR_ID_PHONE], 64, NULL, &bin,
                                  NULL), 0);
  ck_assert_int_eq(sodium_hex2bin(byhash.email_hash, 32, ids.hex[DSR_ID_EMAIL], 64, NULL, &bin,
                                  NULL), 0);
  byhash.has_phone_hash = byhash.has_email_hash = true;
  static const char *const texts[] = {
      "Call me on +1 555 010 0777 please.", "+15550100777", "(+1-555-010-0777) or +1 555 010 0778",
      "+1 555 010 0778 +1 555 010 0777", "dial 915550100777 now", "+1555010077", "",
      "mail ERIN.subject@example.ORG or erin@example.org", "xerin.subject@example.org",
      "Caller: write to erin.subject@example.org or call (+15550100777)."};
  for (size_t i = 0; i < sizeof texts / sizeof *texts; i++)
    for (int k = 0; k < 2; k++) {
      const struct dsr_ppattern *pat = dsr_policy_pattern(p, k ? "email" : "phone");
      bool c1 = false, c2 = false;
      char *a = dsr_redact_text(pat, &byval, texts[i], &c1);
      char *b = dsr_redact_text(pat, &byhash, texts[i], &c2);
      ck_assert_ptr_nonnull(a);
      ck_assert_ptr_nonnull(b);
      ck_assert_msg(!strcmp(a, b), "\"%s\": by value \"%s\", by hash \"%s\"", texts[i], a, b);
      ck_assert_int_eq(c1, c2);
      free(a);
      free(b);
    }
  dsr_exec_subject_free(&byval);
  dsr_policy_free(p);
  free(pp);
}
END_TEST

static void write_text(const char *path, const char *text, mode_t mode)
{
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
  ck_assert_int_ge(fd, 0);
  ck_assert_int_eq(fchmod(fd, mode), 0);
  ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
  close(fd);
}

START_TEST(master_key_file_versions)
{
  char dir[] = "/tmp/dsr-keys-XXXXXX", path[128], err[512];
  ck_assert_ptr_nonnull(mkdtemp(dir));
  snprintf(path, sizeof path, "%s/master.keys", dir);
  struct dsr_keyring kr;
  ck_assert(!dsr_keyring_load(path, &kr, err, sizeof err)); /* missing */
  ck_assert(!dsr_keyring_load(NULL, &kr, err, sizeof err));
  ck_assert_ptr_nonnull(strstr(err, "master_key_file"));
  /* created with version 1, mode 0600 */
  ck_assert_msg(dsr_keyring_add_version(path, &kr, err, sizeof err), "%s", err);
  ck_assert_int_eq(kr.n, 1);
  ck_assert_int_eq(kr.current, 1);
  struct stat st;
  ck_assert_int_eq(stat(path, &st), 0);
  ck_assert_int_eq(st.st_mode & 0777, 0600);
  unsigned char k1[32];
  memcpy(k1, kr.v[0].key, 32);
  ck_assert_msg(dsr_keyring_add_version(path, &kr, err, sizeof err), "%s", err);
  ck_assert_int_eq(kr.n, 2);
  ck_assert_int_eq(kr.current, 2);
  ck_assert(memcmp(kr.v[0].key, k1, 32) == 0); /* older versions stay */
  ck_assert(memcmp(kr.v[1].key, k1, 32) != 0);
  dsr_keyring_wipe(&kr);
  /* readable by others: refused */
  ck_assert_int_eq(chmod(path, 0644), 0);
  ck_assert(!dsr_keyring_load(path, &kr, err, sizeof err));
  ck_assert_ptr_nonnull(strstr(err, "0600"));
  /* malformed lines name their place */
  write_text(path, "# keys\n1 abcd\n", 0600);
  ck_assert(!dsr_keyring_load(path, &kr, err, sizeof err));
  ck_assert_msg(strstr(err, ":2:") != NULL, "%s", err);
  write_text(path, "3 0000000000000000000000000000000000000000000000000000000000000000\n"
                   "3 1111111111111111111111111111111111111111111111111111111111111111\n", 0600);
  ck_assert(!dsr_keyring_load(path, &kr, err, sizeof err));
  ck_assert_ptr_nonnull(strstr(err, "twice"));
  write_text(path, "# nothing\n", 0600);
  ck_assert(!dsr_keyring_load(path, &kr, err, sizeof err));
  ck_assert(unlink(path) == 0 && rmdir(dir) == 0);
}
END_TEST

/* The policy's crypto_shred: validated, and used by the seed policies. */
START_TEST(crypto_shred_in_the_policy)
{
  char err[512], tmp[] = "/tmp/dsr-pol-XXXXXX";
  char *pp = policy_file("callcenter-ai.json");
  struct dsr_policy *p = dsr_policy_load(pp, err, sizeof err);
  ck_assert_msg(p != NULL, "%s", err);
  const struct dsr_pcollection *rec = dsr_policy_collection(p, "recordings");
  ck_assert(rec->crypto_shred);
  ck_assert_str_eq(rec->crypto_key_column, "key_id");
  ck_assert_int_eq(rec->crypto_identity, DSR_ID_PHONE);
  dsr_policy_free(p);
  json_t *doc = json_load_file(pp, 0, NULL);
  ck_assert_ptr_nonnull(doc);
  json_t *colls = json_object_get(doc, "collections");
  json_object_set_new(json_object_get(colls, "calls"), "crypto_shred",
                      json_pack("{s:s, s:s}", "key_column", "nope", "identity", "fax"));
  int fd = mkstemp(tmp);
  ck_assert_int_ge(fd, 0);
  close(fd);
  ck_assert_int_eq(json_dump_file(doc, tmp, JSON_INDENT(2)), 0);
  struct dsr_diags d = {0};
  p = dsr_policy_check(tmp, &d);
  ck_assert_ptr_null(p);
  bool col = false, kind = false, files = false;
  for (size_t i = 0; i < d.n; i++) {
    col = col || (strstr(d.v[i].text, "crypto_shred.key_column") && strstr(d.v[i].text, "nope"));
    kind = kind || strstr(d.v[i].text, "\"fax\"");
    files = files || strstr(d.v[i].text, "without files");
  }
  ck_assert_msg(col && kind && files, "%s", d.n ? d.v[0].text : "no diagnostics");
  dsr_diags_free(&d);
  json_decref(doc);
  unlink(tmp);
  free(pp);
}
END_TEST

Suite *suite_media(void)
{
  Suite *s = suite_create("media");
  TCase *tc = tcase_create("media");
  tcase_add_test(tc, redaction_by_hash_matches_redaction_by_value);
  tcase_add_test(tc, master_key_file_versions);
  tcase_add_test(tc, crypto_shred_in_the_policy);
  suite_add_tcase(s, tc);
  return s;
}

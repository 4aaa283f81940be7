/**
 * @file test_backups.c
 * @brief Erasure that reaches backups, on generated sample platforms with the
 *        real job handlers and the real dsrctl:
 *        - media backup sets lose exactly the subject's files (every other
 *          file of every set byte-identical), counted per set in the receipt,
 *          with a residual window per set in the events and the compliance
 *          report;
 *        - a database backup taken with `dsrctl backup create`, then an
 *          erasure and a sweep, then `dsrctl backup restore`: the subject is
 *          absent, every other row is as in the backup, and the restored
 *          database equals the live one;
 *        - crypto-shredding: an encrypted recording copied out before the
 *          erasure decrypts before and not after; master key rotation, also
 *          resumed after a crash between its two steps.
 */
#include "erasure_fixture.h"
#include "dsr/backup.h"
#include "dsr/crypto.h"
#include "dsr/erasure.h"
#include "dsr/media.h"
#include "dsr/pgembed.h"
#include "dsr/report.h"
#include "dsr/sweep.h"
#include "dsr/timeparse.h"

#include <dirent.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define B_EMAIL "bea.backup@example.org"
#define B_PHONE "+15550100888"
#define B_PHONE_SPACED "+1 555 010 0888"
#define B_ARGS                                                                        \
  "--subject-email " B_EMAIL " --subject-phone " B_PHONE " --subject-workspaces 3 "  \
  "--subject-calls 30 --subject-account"

static const unsigned char test_key[32] = {42, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15,
                                           16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28,
                                           29, 30, 31};

static char *policy_path(const char *name)
{
  char *p = NULL;
  H_REQUIRE1(asprintf(&p, "%s/policies/%s", getenv("DSR_TOP_SRCDIR"), name) > 0);
  return p;
}

/*
 * dsrd in this process (the test key) and dsrctl pointed at the same database
 * and keys through the environment; @p dir receives a directory for key files.
 */
static void open_both(struct ef_dsrd *d, const char *db, const char *policy, char *dir,
                      size_t dirlen)
{
  ef_dsrd_open(d, db, policy, test_key);
  h_tmpdir(dir, dirlen, "keys");
  char path[512];
  snprintf(path, sizeof path, "%s/secret.key", dir);
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
  H_REQUIRE1(fd >= 0 && write(fd, test_key, sizeof test_key) == (ssize_t)sizeof test_key);
  close(fd);
  H_REQUIRE1(setenv("DSRD_SECRET_KEY_FILE", path, 1) == 0);
  snprintf(path, sizeof path, "%s/master.keys", dir);
  H_REQUIRE1(setenv("DSRD_MASTER_KEY_FILE", path, 1) == 0);
  H_REQUIRE1(setenv("DSRD_DATABASE_URL", d->conninfo, 1) == 0);
  H_REQUIRE1(setenv("DSRD_POLICY_FILE", policy, 1) == 0);
}

/* Files an erasure for the subject, approves it and runs it to the end. */
static const char *erase_subject(struct ef_dsrd *d)
{
  static char id[40];
  dsr_strlcpy(id, ef_request(d, B_EMAIL, B_PHONE), sizeof id);
  ef_run_jobs(d);
  ef_approve(d, id);
  ef_run_jobs(d);
  ck_assert_int_eq(ef_long(d->conninfo, "SELECT count(*) FROM dsr_requests WHERE id = '%s' AND"
                                        " status = 'completed'", id), 1);
  return id;
}

/* Every regular file under @p root (relative path -> BLAKE2b of its bytes) into @p out. */
static void tree(const char *root, const char *rel, json_t *out)
{
  char dir[1024];
  snprintf(dir, sizeof dir, "%s%s%s", root, *rel ? "/" : "", rel);
  DIR *d = opendir(dir);
  if (!d)
    return;
  struct dirent *e;
  while ((e = readdir(d))) {
    if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
      continue;
    char r[1024], path[2100];
    snprintf(r, sizeof r, "%s%s%s", rel, *rel ? "/" : "", e->d_name);
    snprintf(path, sizeof path, "%s/%s", root, r);
    struct stat st;
    ck_assert_int_eq(lstat(path, &st), 0);
    if (S_ISDIR(st.st_mode)) {
      tree(root, r, out);
      continue;
    }
    size_t len = 0;
    char *data = h_slurp(path, &len);
    unsigned char h[32];
    char hex[65];
    crypto_generichash(h, sizeof h, (const unsigned char *)data, len, NULL, 0);
    sodium_bin2hex(hex, sizeof hex, h, sizeof h);
    json_object_set_new(out, r, json_string(hex));
    free(data);
  }
  closedir(d);
}

static json_t *listing(const char *root)
{
  json_t *o = json_object();
  tree(root, "", o);
  return o;
}

/* The media paths the platform's rows point to. */
static json_t *referenced(const char *plat)
{
  json_t *o = json_object();
  PGresult *r = h_sql(plat, "SELECT file_path FROM recordings UNION ALL SELECT file_path FROM "
                            "voicemails");
  for (int i = 0; i < PQntuples(r); i++)
    json_object_set_new(o, PQgetvalue(r, i, 0), json_true());
  PQclear(r);
  return o;
}

START_TEST(media_backup_sets_lose_exactly_the_subjects_files)
{
  char sets[256], keys[256], extra[600];
  h_tmpdir(sets, sizeof sets, "sets");
  snprintf(extra, sizeof extra, B_ARGS " --backup-sets 3 --backup-dir '%s'", sets);
  struct ef_platform pl;
  ef_generate(&pl, "bk_sets", 300, true, extra);
  ef_use(&pl);
  ck_assert_int_eq(setenv("DSR_MEDIA_BACKUP_ROOT", sets, 1), 0);
  char *pp = policy_path("callorbit.json");
  struct ef_dsrd d;
  open_both(&d, "dsr_bk_sets", pp, keys, sizeof keys);
  json_t *sets_before = listing(sets), *media_before = listing(pl.media);
  json_t *refs_before = referenced(pl.conninfo);
  ck_assert_int_gt(json_object_size(sets_before), 100);
  time_t t0 = dsr_now();

  const char *id = erase_subject(&d);

  /* the files of the erased rows: gone from the media store... */
  json_t *refs_after = referenced(pl.conninfo), *media_after = listing(pl.media);
  json_t *gone = json_object();
  const char *k;
  json_t *v;
  json_object_foreach(refs_before, k, v)
    if (!json_object_get(refs_after, k))
      json_object_set_new(gone, k, json_true());
  ck_assert_int_gt(json_object_size(gone), 10);
  json_object_foreach(media_before, k, v)
    ck_assert_msg((json_object_get(media_after, k) != NULL) == !json_object_get(gone, k),
                  "media store: %s", k);
  /* ...and from every copy of the backup set; everything else byte-identical */
  json_t *expected = json_object();
  long removed = 0, per_set[3] = {0};
  json_object_foreach(sets_before, k, v) {
    const char *slash = strchr(k, '/');
    if (slash && json_object_get(gone, slash + 1)) {
      removed++;
      per_set[k[4] - '1']++;
      continue;
    }
    json_object_set(expected, k, v);
  }
  json_t *sets_after = listing(sets);
  ck_assert_int_gt(removed, json_object_size(gone)); /* older files are in several sets */
  ck_assert_msg(json_equal(expected, sets_after), "backup sets: %zu files expected, %zu left",
                json_object_size(expected), json_object_size(sets_after));
  /* the receipts count them per set and per copy */
  json_t *rcs = dsr_erasure_receipts(d.db, id);
  long counted = 0, copies[3] = {0};
  json_t *rc;
  json_object_foreach(rcs, k, rc) {
    size_t i;
    json_t *e;
    json_array_foreach(json_object_get(rc, "backup_sets"), i, e) {
      if (strcmp(json_string_value(json_object_get(e, "backup_set")), "media_backup") != 0)
        continue;
      ck_assert_str_eq(json_string_value(json_object_get(e, "mechanism")), "file");
      ck_assert_int_eq(json_integer_value(json_object_get(e, "files_pending")), 0);
      counted += (long)json_integer_value(json_object_get(e, "files_removed"));
      for (int s = 0; s < 3; s++) {
        char name[8];
        snprintf(name, sizeof name, "set-%d", s + 1);
        copies[s] += (long)json_integer_value(json_object_get(json_object_get(e, "copies"), name));
      }
    }
  }
  ck_assert_int_eq(counted, removed);
  for (int s = 0; s < 3; s++)
    ck_assert_int_eq(copies[s], per_set[s]);
  char *text = json_dumps(rcs, 0);
  ck_assert(strstr(text, "5550100888") == NULL && strstr(text, "bea.backup") == NULL);
  free(text);
  /* the residual window of each set, at erasure time, in the compliance report */
  ck_assert_int_ge(ef_long(d.conninfo, "SELECT count(*) FROM dsr_events WHERE kind = "
                                       "'backup.residual_window' AND request_id = '%s'", id), 2);
  json_t *rep = NULL;
  char err[256];
  time_t now = dsr_now();
  ck_assert_msg(dsr_report_build(d.db, t0 - 86400, now + 86400, now, &rep, err, sizeof err),
                "%s", err);
  size_t i;
  json_t *b;
  int seen = 0;
  json_array_foreach(json_object_get(rep, "backups"), i, b) {
    const char *set = json_string_value(json_object_get(b, "backup_set"));
    const char *mech = json_string_value(json_object_get(b, "mechanism"));
    time_t until = 0;
    ck_assert(dsr_time_parse(json_string_value(json_object_get(b, "residual_until")), &until));
    long days = !strcmp(set, "media_backup") ? 35 : 30;
    ck_assert_str_eq(mech, !strcmp(set, "media_backup") ? "file" : "ledger");
    ck_assert_int_ge(until, t0 + days * 86400);
    ck_assert_int_le(until, now + days * 86400);
    seen++;
  }
  ck_assert_int_eq(seen, 2);
  json_decref(rep);
  json_decref(rcs);
  json_decref(expected);
  json_decref(sets_before);
  json_decref(sets_after);
  json_decref(media_before);
  json_decref(media_after);
  json_decref(refs_before);
  json_decref(refs_after);
  json_decref(gone);
  ef_dsrd_close(&d);
  ef_platform_free(&pl);
  free(pp);
}
END_TEST

/* Per table, md5 of the rows except the keys the ledger erased ("{}" when none). */
static json_t *md5_except_ledger(const char *plat, const struct ef_dsrd *d)
{
  json_t *out = json_object();
  PGresult *t = h_sql(plat, "SELECT tablename FROM pg_tables WHERE schemaname = 'public'");
  for (int i = 0; i < PQntuples(t); i++) {
    const char *table = PQgetvalue(t, i, 0);
    const struct dsr_pcollection *c = NULL;
    for (size_t k = 0; !c && k < dsr_policy_collection_count(d->policy); k++)
      if (!strcmp(dsr_policy_topo_at(d->policy, k)->table, table))
        c = dsr_policy_topo_at(d->policy, k);
    char sql[400];
    snprintf(sql, sizeof sql, "SELECT coalesce(array_agg(DISTINCT k)::text, '{}') FROM "
             "dsr_erasure_ledger_keys l, unnest(l.keys) k WHERE l.collection = '%s'",
             c ? c->name : "");
    PGresult *r = h_sql(d->conninfo, sql);
    char *md5 = ef_table_md5(plat, table, c ? c->key[0] : NULL, PQgetvalue(r, 0, 0));
    json_object_set_new(out, table, json_string(md5));
    free(md5);
    PQclear(r);
  }
  PQclear(t);
  return out;
}

/* Runs `dsrctl backup restore` into a new database @p name; returns its conninfo. */
static char *restore_into(const char *dump, const char *name, const char *out)
{
  char err[256];
  H_REQUIRE(dsr_pgembed_ensure_db(it_pg.embed, name, err, sizeof err), "%s", err);
  char *ci = dsr_pgembed_conninfo(it_pg.embed, name);
  const char *argv[] = {"dsrctl", "backup", "restore", "--from", dump, "--into", ci, NULL};
  ck_assert_int_eq(it_run(argv, out), 0);
  return ci;
}

START_TEST(restore_replays_the_erasure_ledger)
{
  char keys[256], dump[300], out[300];
  struct ef_dsrd d;
  char *pp = policy_path("callorbit.json");
  open_both(&d, "dsr_bk_ledger", pp, keys, sizeof keys);
  struct ef_platform pl;
  ef_generate(&pl, "bk_ledger", 300, true, B_ARGS);
  ef_use(&pl);
  const char *plat = pl.conninfo;
  /* other people's transcripts mention the subject: the replay redacts them by hash */
  PQclear(h_sql(plat, "UPDATE transcripts t SET text = t.text || ' Caller: call " B_PHONE_SPACED
                      " or write to " B_EMAIL ".' WHERE t.id IN (SELECT t2.id FROM transcripts t2"
                      " JOIN recordings r ON r.id = t2.recording_id JOIN calls c ON c.id ="
                      " r.call_id WHERE c.caller_number <> '" B_PHONE "' AND c.called_number <>"
                      " '" B_PHONE "' ORDER BY t2.id LIMIT 4)"));
  snprintf(dump, sizeof dump, "%s/platform.dump", keys);
  snprintf(out, sizeof out, "%s/out.txt", keys);
  const char *create[] = {"dsrctl", "backup", "create", "--store", "platform", "--out", dump, NULL};
  ck_assert_int_eq(it_run(create, out), 0);
  ck_assert_int_eq(ef_long(d.conninfo, "SELECT count(*) FROM dsr_backups"), 1);
  /* a restore target that is not empty is refused, and nothing is replayed */
  const char *bad[] = {"dsrctl", "backup", "restore", "--from", dump, "--into", plat, NULL};
  ck_assert_int_eq(it_run(bad, "/dev/null"), 1);
  const char *unknown[] = {"dsrctl", "backup", "restore", "--from", pp, "--into", "x", NULL};
  ck_assert_int_eq(it_run(unknown, "/dev/null"), 1);
  char *raw = NULL; /* the backup as it is, without the ledger */
  char err[256];
  H_REQUIRE(dsr_pgembed_ensure_db(it_pg.embed, "bk_ledger_raw", err, sizeof err), "%s", err);
  raw = dsr_pgembed_conninfo(it_pg.embed, "bk_ledger_raw");
  char *cmd = NULL;
  ck_assert(asprintf(&cmd, "'%s/pg_restore' --no-owner -d '%s' '%s'", getenv("DSR_PG_BINDIR"),
                     raw, dump) > 0);
  ck_assert_int_eq(system(cmd), 0);
  free(cmd);

  erase_subject(&d);
  char *live = ef_checksums(plat);

  char *restored = restore_into(dump, "bk_ledger_restored", out);
  size_t len = 0;
  char *printed = h_slurp(out, &len);
  ck_assert_msg(strstr(printed, "replayed 1 erasure(s) and 0 sweep(s)") != NULL, "%s", printed);
  ck_assert_msg(strstr(printed, "recordings") && strstr(printed, "delete"), "%s", printed);
  ck_assert(strstr(printed, "5550100888") == NULL && strstr(printed, "bea.backup") == NULL);
  free(printed);
  /* the subject is absent: not in calls, contacts, messages, users; nowhere in transcripts */
  ck_assert_int_eq(ef_long(restored, "SELECT count(*) FROM calls WHERE caller_number = '" B_PHONE
                                     "' OR called_number = '" B_PHONE "'"), 0);
  ck_assert_int_eq(ef_long(restored, "SELECT count(*) FROM contacts WHERE phone = '" B_PHONE
                                     "' OR lower(email) = '" B_EMAIL "'"), 0);
  /* (what the policy keeps of an account, e.g. a referenced users row, stays as it stays live) */
  ck_assert_int_eq(ef_long(restored, "SELECT count(*) FROM users WHERE lower(email) = '" B_EMAIL
                                     "'"),
                   ef_long(plat, "SELECT count(*) FROM users WHERE lower(email) = '" B_EMAIL "'"));
  ck_assert_int_eq(ef_long(restored, "SELECT count(*) FROM transcripts WHERE text LIKE '%%"
                                     B_PHONE_SPACED "%%' OR text ILIKE '%%" B_EMAIL "%%'"), 0);
  ck_assert_int_eq(ef_long(restored, "SELECT count(*) FROM transcripts WHERE text LIKE "
                                     "'%%call [phone removed] or write to [email removed]%%'"), 4);
  ck_assert_int_gt(ef_long(raw, "SELECT count(*) FROM calls WHERE caller_number = '" B_PHONE
                                "' OR called_number = '" B_PHONE "'"), 0);
  /* everyone else exactly as in the backup */
  json_t *a = md5_except_ledger(raw, &d), *b = md5_except_ledger(restored, &d);
  const char *t;
  json_t *m;
  json_object_foreach(a, t, m)
    ck_assert_msg(json_equal(m, json_object_get(b, t)), "table %s differs from the backup", t);
  ck_assert_int_eq(json_object_size(a), json_object_size(b));
  /* and the restored database is the live one, table by table */
  char *sum = ef_checksums(restored);
  ck_assert_str_eq(sum, live);
  free(sum);

  /* a sweep after the backup is replayed too, at its cutoff */
  struct dsr_sweep_opts so = {.batch_rows = 500};
  ck_assert(dsr_time_parse("2026-01-01", &so.now));
  json_t *receipt = NULL;
  ck_assert_int_eq(dsr_sweep_run(d.db, d.policy, &so, &receipt, err, sizeof err), DSR_SWEEP_DONE);
  ck_assert_int_gt(json_integer_value(json_object_get(receipt, "rows_deleted")), 0);
  json_decref(receipt);
  free(live);
  live = ef_checksums(plat);
  char *restored2 = restore_into(dump, "bk_ledger_restored2", out);
  printed = h_slurp(out, &len);
  ck_assert_msg(strstr(printed, "replayed 1 erasure(s) and 1 sweep(s)") != NULL, "%s", printed);
  free(printed);
  sum = ef_checksums(restored2);
  ck_assert_str_eq(sum, live);
  free(sum);
  ck_assert_int_eq(ef_long(d.conninfo, "SELECT count(*) FROM dsr_events WHERE kind = "
                                       "'backup.restored'"), 2);
  /* the ledger is append-only */
  PGconn *c = PQconnectdb(d.conninfo);
  PGresult *r = PQexec(c, "DELETE FROM dsr_erasure_ledger");
  ck_assert_int_ne(PQresultStatus(r), PGRES_COMMAND_OK);
  PQclear(r);
  r = PQexec(c, "UPDATE dsr_erasure_ledger_keys SET keys = '{}'");
  ck_assert_int_ne(PQresultStatus(r), PGRES_COMMAND_OK);
  PQclear(r);
  PQfinish(c);
  json_decref(a);
  json_decref(b);
  free(live);
  free(raw);
  free(restored);
  free(restored2);
  ef_dsrd_close(&d);
  ef_platform_free(&pl);
  free(pp);
}
END_TEST

/* `dsrctl media get FILE --out OUT`: the exit status; OUT holds a WAV when it worked. */
static int media_get(const char *file, const char *out, const char *msgs)
{
  char *cmd = NULL, *prog = h_program("dsrctl");
  H_REQUIRE1(asprintf(&cmd, "'%s' media get '%s' --out '%s' 2>'%s'", prog, file, out, msgs) > 0);
  int rc = system(cmd);
  free(cmd);
  free(prog);
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : 128;
}

static bool is_wav(const char *path)
{
  size_t len = 0;
  char *data = h_slurp(path, &len);
  bool ok = data && len > 44 && !memcmp(data, "RIFF", 4) && !memcmp(data + 8, "WAVE", 4);
  free(data);
  return ok;
}

START_TEST(crypto_shredded_recordings_in_backups)
{
  char keys[256], sets[256], extra[900], copy[400], plain[400], msgs[400];
  struct ef_dsrd d;
  char *pp = policy_path("callcenter-ai.json");
  open_both(&d, "dsr_bk_crypto", pp, keys, sizeof keys);
  h_tmpdir(sets, sizeof sets, "csets");
  snprintf(extra, sizeof extra, B_ARGS " --backup-sets 2 --backup-dir '%s' --policy '%s'", sets,
           pp);
  struct ef_platform pl;
  ef_generate(&pl, "bk_crypto", 250, true, extra);
  ef_use(&pl);
  ck_assert_int_eq(setenv("DSR_MEDIA_BACKUP_ROOT", sets, 1), 0);
  const char *plat = pl.conninfo;
  /* every recording is sealed; keys are wrapped, per person and workspace */
  ck_assert_int_eq(ef_long(plat, "SELECT count(*) FROM recordings WHERE key_id IS NULL OR NOT "
                                 "encrypted"), 0);
  ck_assert_int_gt(ef_long(d.conninfo, "SELECT count(*) FROM dsr_data_keys"), 100);
  ck_assert_int_eq(ef_long(d.conninfo, "SELECT count(*) FROM dsr_data_keys WHERE "
                                       "octet_length(wrapped) <> 72 OR key_version <> 1"), 0);
  PGresult *r = h_sql(plat, "SELECT r.file_path FROM recordings r JOIN calls c ON c.id = "
                            "r.call_id WHERE c.caller_number = '" B_PHONE "' OR c.called_number = '"
                            B_PHONE "' ORDER BY r.id LIMIT 1");
  ck_assert_int_eq(PQntuples(r), 1);
  char rel[300], src[700];
  dsr_strlcpy(rel, PQgetvalue(r, 0, 0), sizeof rel);
  PQclear(r);
  r = h_sql(plat, "SELECT r.file_path FROM recordings r JOIN calls c ON c.id = r.call_id WHERE "
                  "c.caller_number <> '" B_PHONE "' AND c.called_number <> '" B_PHONE "' ORDER BY"
                  " r.id LIMIT 1");
  char other_rel[300], other[700];
  dsr_strlcpy(other_rel, PQgetvalue(r, 0, 0), sizeof other_rel);
  PQclear(r);
  snprintf(src, sizeof src, "%s/%s", pl.media, rel);
  snprintf(other, sizeof other, "%s/%s", pl.media, other_rel);
  ck_assert(!is_wav(src)); /* sealed at rest */
  /* an off-site copy the erasure cannot reach */
  snprintf(copy, sizeof copy, "%s/offsite-copy.wav", keys);
  snprintf(plain, sizeof plain, "%s/plain.wav", keys);
  snprintf(msgs, sizeof msgs, "%s/msgs.txt", keys);
  size_t len = 0;
  char *bytes = h_slurp(src, &len);
  int fd = open(copy, O_WRONLY | O_CREAT | O_TRUNC, 0600);
  ck_assert(fd >= 0 && write(fd, bytes, len) == (ssize_t)len);
  close(fd);
  free(bytes);
  ck_assert_int_eq(media_get(copy, plain, msgs), 0);
  ck_assert(is_wav(plain));
  /* a tampered copy does not authenticate */
  char bad[400];
  snprintf(bad, sizeof bad, "%s/bad.wav", keys);
  bytes = h_slurp(copy, &len);
  bytes[len - 5] ^= 1;
  fd = open(bad, O_WRONLY | O_CREAT | O_TRUNC, 0600);
  ck_assert(fd >= 0 && write(fd, bytes, len) == (ssize_t)len);
  close(fd);
  free(bytes);
  ck_assert_int_eq(media_get(bad, plain, msgs), 1);

  const char *id = erase_subject(&d);

  ck_assert(!ef_file_exists(pl.media, rel));
  ck_assert_int_eq(unlink(plain), 0);
  ck_assert_int_eq(media_get(copy, plain, msgs), 3);
  char *m = h_slurp(msgs, &len);
  ck_assert_msg(strstr(m, "destroyed") != NULL, "%s", m);
  free(m);
  ck_assert_int_eq(access(plain, F_OK), -1); /* nothing written */
  /* someone else's recording still decrypts */
  ck_assert_int_eq(media_get(other, plain, msgs), 0);
  ck_assert(is_wav(plain));
  /* the receipt says how many keys went; the keys table keeps no key of theirs */
  json_t *rcs = dsr_erasure_receipts(d.db, id);
  const char *k;
  json_t *rc;
  long destroyed = 0;
  json_object_foreach(rcs, k, rc)
    destroyed += (long)json_integer_value(json_object_get(rc, "keys_destroyed"));
  json_decref(rcs);
  ck_assert_int_ge(destroyed, 3); /* one per workspace they called */
  ck_assert_int_eq(ef_long(d.conninfo, "SELECT count(*) FROM dsr_data_keys WHERE destroyed_at IS"
                                       " NOT NULL AND wrapped IS NULL"), destroyed);
  ef_dsrd_close(&d);
  ef_platform_free(&pl);
  free(pp);
}
END_TEST

START_TEST(master_key_rotation_rewraps_every_data_key)
{
  char keys[256], kf[300], plain[400], msgs[400], err[512];
  struct ef_dsrd d;
  char *pp = policy_path("callcenter-ai.json");
  open_both(&d, "dsr_bk_rotate", pp, keys, sizeof keys);
  snprintf(kf, sizeof kf, "%s/master.keys", keys);
  /* the first rotation creates the file: version 1 */
  const char *rot[] = {"dsrctl", "key", "rotate", NULL};
  ck_assert_int_eq(it_run(rot, "/dev/null"), 0);
  struct dsr_keyring kr;
  ck_assert_msg(dsr_keyring_load(kf, &kr, err, sizeof err), "%s", err);
  ck_assert_int_eq(kr.current, 1);
  /* media sealed under version 1 */
  char file[400];
  snprintf(file, sizeof file, "%s/rec.wav", keys);
  static const unsigned char wav[] = "RIFF\x24\0\0\0WAVEfmt a recording of someone, 44+ bytes..";
  char kid[40], kid2[40];
  ck_assert_msg(dsr_media_put(d.db, &kr, DSR_ID_PHONE, "+1 555 010 0999", "7", wav, sizeof wav,
                              file, kid, err, sizeof err), "%s", err);
  unsigned char *sealed = NULL;
  size_t n = 0;
  for (int i = 0; i < 30; i++) { /* more subjects */
    char phone[32];
    snprintf(phone, sizeof phone, "+1555020%04d", i);
    ck_assert(dsr_media_seal(d.db, &kr, DSR_ID_PHONE, phone, "7", wav, sizeof wav, &sealed, &n,
                             kid2, err, sizeof err));
    free(sealed);
  }
  /* the same subject and workspace: the same key */
  ck_assert(dsr_media_seal(d.db, &kr, DSR_ID_PHONE, "+15550100999", "7", wav, 10, &sealed, &n,
                           kid2, err, sizeof err));
  free(sealed);
  ck_assert_str_eq(kid, kid2);
  dsr_keyring_wipe(&kr);
  ck_assert_int_eq(ef_long(d.conninfo, "SELECT count(*) FROM dsr_data_keys WHERE key_version = 1"),
                   31);
  char *before = ef_table_md5(d.conninfo, "dsr_data_keys", NULL, NULL);
  /* rotation: version 2, every key rewrapped, the file still decrypts */
  snprintf(plain, sizeof plain, "%s/plain.wav", keys);
  snprintf(msgs, sizeof msgs, "%s/msgs.txt", keys);
  char out[400];
  snprintf(out, sizeof out, "%s/rot.txt", keys);
  ck_assert_int_eq(it_run(rot, out), 0);
  size_t len = 0;
  char *printed = h_slurp(out, &len);
  ck_assert_msg(strstr(printed, "version 2: 31 data key(s) rewrapped") != NULL, "%s", printed);
  free(printed);
  ck_assert_int_eq(ef_long(d.conninfo, "SELECT count(*) FROM dsr_data_keys WHERE key_version = 2"),
                   31);
  char *after = ef_table_md5(d.conninfo, "dsr_data_keys", NULL, NULL);
  ck_assert_str_ne(before, after);
  ck_assert_int_eq(media_get(file, plain, msgs), 0);
  size_t plen = 0;
  char *got = h_slurp(plain, &plen);
  ck_assert_int_eq(plen, sizeof wav);
  ck_assert(memcmp(got, wav, plen) == 0);
  free(got);
  /* a crash between the two steps (new version written, nothing rewrapped): the next run
   * finishes that rotation instead of starting another */
  ck_assert(dsr_keyring_add_version(kf, &kr, err, sizeof err));
  ck_assert_int_eq(kr.current, 3);
  dsr_keyring_wipe(&kr);
  ck_assert_int_eq(it_run(rot, out), 0);
  printed = h_slurp(out, &len);
  ck_assert_msg(strstr(printed, "version 3: 31 data key(s) rewrapped") != NULL, "%s", printed);
  free(printed);
  ck_assert(dsr_keyring_load(kf, &kr, err, sizeof err));
  ck_assert_int_eq(kr.current, 3);
  dsr_keyring_wipe(&kr);
  ck_assert_int_eq(media_get(file, plain, msgs), 0);
  /* the key file is 0600 and the database never holds a master key */
  struct stat st;
  ck_assert_int_eq(stat(kf, &st), 0);
  ck_assert_int_eq(st.st_mode & 077, 0);
  ck_assert_int_eq(ef_long(d.conninfo, "SELECT count(*) FROM dsr_events WHERE kind = "
                                       "'key.rotated'"), 3);
  const char *status[] = {"dsrctl", "key", "status", NULL};
  ck_assert_int_eq(it_run(status, out), 0);
  printed = h_slurp(out, &len);
  ck_assert_msg(strstr(printed, "3 (current)") != NULL, "%s", printed);
  free(printed);
  free(before);
  free(after);
  ef_dsrd_close(&d);
  free(pp);
}
END_TEST

Suite *suite_backups(void)
{
  Suite *s = suite_create("backups");
  TCase *tc = tcase_create("backups");
  tcase_set_timeout(tc, 300);
  tcase_add_test(tc, media_backup_sets_lose_exactly_the_subjects_files);
  tcase_add_test(tc, restore_replays_the_erasure_ledger);
  tcase_add_test(tc, crypto_shredded_recordings_in_backups);
  tcase_add_test(tc, master_key_rotation_rewraps_every_data_key);
  suite_add_tcase(s, tc);
  return s;
}

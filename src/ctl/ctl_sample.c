/**
 * @file ctl_sample.c
 * @brief dsrctl sample generate: builds the sample call-center platform (its
 *        own database, WAV media files, media backup sets) from a seed.
 *        The generator itself is libdsrsample (src/lib/sample_*.c).
 */
#include "config.h"
#include "ctl.h"
#include "dsr/media.h"
#include "dsr/pgembed.h"
#include "dsr/policy.h"
#include "dsr/sample.h"
#include "dsr/util.h"

#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define PLATFORM_DB "platform"

/* Usage errors are one line with this hint; --help prints generate_usage. */
#define SAMPLE_HINT "(see dsrctl sample generate --help)"

static const char generate_usage[] =
    "usage: dsrctl sample generate --subjects N --seed S [--calls-per-subject K]\n"
    "         [--now DATE] [--media DIR | --no-media] [--backup-sets N] [--backup-dir DIR]\n"
    "         [--platform-url URL] [--reset] [--json] [--manifest FILE] [--policy FILE]\n"
    "         [--subject-email E --subject-phone P [--subject-name NAME]\n"
    "          [--subject-workspaces N] [--subject-calls N] [--no-subject-account]]...\n";

struct gen_args {
  struct dsr_sample_opts o;
  bool have_subjects, have_seed, no_media, reset, json;
  const char *media, *backup_dir, *platform_url, *manifest, *policy;
};

/** Parses a whole decimal number into [lo, hi]; false on anything else. */
static bool parse_long(const char *s, long lo, long hi, long *out)
{
  if (!s || !*s || strspn(s, "+-0123456789") != strlen(s))
    return false;
  errno = 0;
  char *end;
  long v = strtol(s, &end, 10);
  if (errno || *end || v < lo || v > hi)
    return false;
  *out = v;
  return true;
}

static bool parse_seed(const char *s, uint64_t *out)
{
  if (!s || !*s || strspn(s, "0123456789") != strlen(s))
    return false;
  errno = 0;
  char *end;
  unsigned long long v = strtoull(s, &end, 10);
  if (errno || *end)
    return false;
  *out = (uint64_t)v;
  return true;
}

/** "YYYY-MM-DD" or "YYYY-MM-DDTHH:MM:SSZ" (UTC). */
static bool parse_now(const char *s, time_t *out)
{
  struct tm tm;
  memset(&tm, 0, sizeof tm);
  const char *end = strptime(s, "%Y-%m-%d", &tm);
  if (end && *end == 'T')
    end = strptime(end, "T%H:%M:%SZ", &tm);
  if (!end || *end || tm.tm_year < 70 || tm.tm_year > 1100)
    return false;
  *out = timegm(&tm);
  return true;
}

/** Returns 0 when parsed, 2 (with a message) on a usage error. */
static int parse_args(int argc, char **argv, struct gen_args *a)
{
  memset(a, 0, sizeof *a);
  a->o.calls_per_subject = 5;
  a->o.now = dsr_now() / 86400 * 86400;
  struct dsr_sample_designated *d = NULL;
  for (int i = 2; i < argc; i++) {
    const char *arg = argv[i];
    const char *val = i + 1 < argc ? argv[i + 1] : NULL;
    long n;
    static const char *const flags[] = {"--no-media", "--reset", "--json", "--subject-account",
                                        "--no-subject-account"};
    static const char *const valued[] = {
        "--subjects", "--seed", "--calls-per-subject", "--now", "--media", "--backup-dir",
        "--platform-url", "--manifest", "--backup-sets", "--subject-email", "--subject-phone",
        "--subject-name", "--subject-workspaces", "--subject-calls", "--policy"};
    bool takes = false, known = false;
    for (size_t k = 0; k < DSR_ARRAY_LEN(flags); k++)
      known |= !strcmp(arg, flags[k]);
    for (size_t k = 0; k < DSR_ARRAY_LEN(valued); k++)
      if (!strcmp(arg, valued[k]))
        known = takes = true;
    if (!known) {
      if (strncmp(arg, "--", 2) == 0)
        ctl_error("sample generate: unknown option %s %s", arg, SAMPLE_HINT);
      else
        ctl_error("sample generate: unexpected argument \"%s\" %s", arg, SAMPLE_HINT);
      return 2;
    }
    if (takes && !val) {
      ctl_error("sample generate: %s needs a value", arg);
      return 2;
    }
    if (!strcmp(arg, "--subjects")) {
      if (!parse_long(val, 1, 100000000L, &n)) {
        ctl_error("sample generate: --subjects must be a whole number from 1 to 100000000, not \"%s\"",
                  val);
        return 2;
      }
      a->o.subjects = n;
      a->have_subjects = true;
    } else if (!strcmp(arg, "--seed")) {
      if (!parse_seed(val, &a->o.seed)) {
        ctl_error("sample generate: --seed must be a non-negative whole number, not \"%s\"", val);
        return 2;
      }
      a->have_seed = true;
    } else if (!strcmp(arg, "--calls-per-subject")) {
      if (!parse_long(val, 0, 1000, &n)) {
        ctl_error("sample generate: --calls-per-subject must be from 0 to 1000, not \"%s\"", val);
        return 2;
      }
      a->o.calls_per_subject = (int)n;
    } else if (!strcmp(arg, "--now")) {
      if (!parse_now(val, &a->o.now)) {
        ctl_error("sample generate: --now must be YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ, not \"%s\"",
                  val);
        return 2;
      }
    } else if (!strcmp(arg, "--media")) {
      a->media = val;
    } else if (!strcmp(arg, "--backup-dir")) {
      a->backup_dir = val;
    } else if (!strcmp(arg, "--platform-url")) {
      a->platform_url = val;
    } else if (!strcmp(arg, "--manifest")) {
      a->manifest = val;
    } else if (!strcmp(arg, "--policy")) {
      a->policy = val;
    } else if (!strcmp(arg, "--backup-sets")) {
      if (!parse_long(val, 0, 100, &n)) {
        ctl_error("sample generate: --backup-sets must be from 0 to 100, not \"%s\"", val);
        return 2;
      }
      a->o.backup_sets = (int)n;
    } else if (!strcmp(arg, "--no-media")) {
      a->no_media = true;
    } else if (!strcmp(arg, "--reset")) {
      a->reset = true;
    } else if (!strcmp(arg, "--json")) {
      a->json = true;
    } else if (!strcmp(arg, "--subject-email")) {
      if (a->o.ndesignated == DSR_SAMPLE_MAX_DESIGNATED) {
        ctl_error("sample generate: at most %d designated subjects", DSR_SAMPLE_MAX_DESIGNATED);
        return 2;
      }
      d = &a->o.designated[a->o.ndesignated++];
      d->email = val;
      d->workspaces = 3;
      d->calls = 10;
      d->account = true;
    } else if (!strncmp(arg, "--subject-", 10)) {
      if (!d) {
        ctl_error("sample generate: %s must follow --subject-email", arg);
        return 2;
      }
      if (!strcmp(arg, "--subject-phone")) {
        d->phone = val;
      } else if (!strcmp(arg, "--subject-name")) {
        d->name = val;
      } else if (!strcmp(arg, "--subject-workspaces")) {
        if (!parse_long(val, 1, 64, &n)) {
          ctl_error("sample generate: --subject-workspaces must be from 1 to 64, not \"%s\"", val);
          return 2;
        }
        d->workspaces = (int)n;
      } else if (!strcmp(arg, "--subject-calls")) {
        if (!parse_long(val, 0, 10000000L, &n)) {
          ctl_error("sample generate: --subject-calls must be from 0 to 10000000, not \"%s\"", val);
          return 2;
        }
        d->calls = n;
      } else if (!strcmp(arg, "--subject-account")) {
        d->account = true;
      } else if (!strcmp(arg, "--no-subject-account")) {
        d->account = false;
      } else {
        ctl_error("sample generate: unknown option %s %s", arg, SAMPLE_HINT);
        return 2;
      }
    } else {
      ctl_error("sample generate: unknown option %s %s", arg, SAMPLE_HINT);
      return 2;
    }
    if (takes)
      i++;
  }
  if (!a->have_subjects || !a->have_seed) {
    ctl_error("sample generate: --subjects and --seed are required %s", SAMPLE_HINT);
    return 2;
  }
  for (int j = 0; j < a->o.ndesignated; j++)
    if (!a->o.designated[j].phone) {
      ctl_error("sample generate: --subject-email %s needs a --subject-phone", a->o.designated[j].email);
      return 2;
    }
  if (a->no_media && (a->media || a->o.backup_sets > 0)) {
    ctl_error("sample generate: --no-media cannot be combined with --media or --backup-sets");
    return 2;
  }
  return 0;
}

/* --- progress --------------------------------------------------------------------- */

struct progress {
  bool tty;
  int last_pct;
  size_t last_index;
  double t0;
};

static void p_draw(void *ctx, size_t index, size_t count, const char *table, double fraction)
{
  struct progress *p = ctx;
  if (!p->tty)
    return;
  int pct = (int)(fraction * 100.0);
  if (pct == p->last_pct && index == p->last_index)
    return;
  p->last_pct = pct;
  p->last_index = index;
  char bar[31];
  int fill = pct * 30 / 100;
  for (int i = 0; i < 30; i++)
    bar[i] = i < fill ? '#' : '.';
  bar[30] = '\0';
  fprintf(stderr, "\r[%2zu/%zu] %-18s [%s] %3d%%", index + 1, count, table, bar, pct);
  fflush(stderr);
}

static void p_done(void *ctx, size_t index, size_t count, const char *table, long rows, double ms)
{
  struct progress *p = ctx;
  if (p->tty)
    fprintf(stderr, "\r\033[K");
  fprintf(stderr, "[%2zu/%zu] %-18s %10ld rows %8.1f s\n", index + 1, count, table, rows,
          ms / 1000.0);
  p->last_pct = -1;
}

static void p_phase(void *ctx, const char *what)
{
  struct progress *p = ctx;
  fprintf(stderr, "sample: %s (at %.1f s)\n", what, (dsr_mono_ms() - p->t0) / 1000.0);
}

/* --- media directories ------------------------------------------------------------- */

/** Refuses to mix with a previous run's files unless --reset, which removes them. */
static bool prepare_media(const struct gen_args *a, char *err, size_t errlen)
{
  static const char *const kinds[] = {"recordings", "voicemail"};
  char path[PATH_MAX];
  struct stat st;
  for (size_t i = 0; i < DSR_ARRAY_LEN(kinds); i++) {
    snprintf(path, sizeof path, "%s/%s", a->o.media_root, kinds[i]);
    if (lstat(path, &st) != 0)
      continue;
    if (!a->reset) {
      snprintf(err, errlen, "%.900s already holds media files; use --reset to replace them", path);
      return false;
    }
    if (!dsr_sample_rmtree(path)) {
      snprintf(err, errlen, "cannot remove %.900s: %s", path, strerror(errno));
      return false;
    }
  }
  for (int i = 1; i <= 100 && a->reset; i++) {
    snprintf(path, sizeof path, "%s/set-%d", a->o.backup_root, i);
    if (!dsr_sample_rmtree(path)) {
      snprintf(err, errlen, "cannot remove %.900s: %s", path, strerror(errno));
      return false;
    }
  }
  return true;
}

/* --- the manifest ------------------------------------------------------------------- */

/** The manifest (see dsrctl(1)). Caller decrefs; NULL on allocation failure. */
static json_t *manifest(const struct gen_args *a, struct dsr_sample *g, PGconn *c,
                        const struct dsr_sample_counts *counts)
{
  json_t *m = json_object(), *tables = json_object(), *sets = json_array();
  json_t *subjects = dsr_sample_subjects_json(g);
  if (!m || !tables || !sets || !subjects) {
    json_decref(m);
    m = NULL;
    goto cleanup;
  }
  char now[21];
  dsr_time_rfc3339(a->o.now, now);
  size_t nt;
  const struct dsr_sample_table *t = dsr_sample_tables(&nt);
  long long total = 0;
  for (size_t i = 0; i < nt && i < counts->ntables; i++) {
    json_object_set_new(tables, t[i].name, json_integer(counts->rows[i]));
    total += counts->rows[i];
  }
  long files;
  long long bytes;
  dsr_sample_media_stats(g, &files, &bytes);
  for (int i = 0; i < a->o.backup_sets; i++) {
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", a->o.backup_root, dsr_sample_backup_name(g, i));
    json_array_append_new(sets, json_pack("{s:s, s:s, s:I, s:s}", "name",
                                          dsr_sample_backup_name(g, i), "path", path, "files",
                                          (json_int_t)dsr_sample_backup_files(g, i), "index",
                                          "index.tsv"));
  }
  if (a->o.seed <= (uint64_t)INT64_MAX)
    json_object_set_new(m, "seed", json_integer((json_int_t)a->o.seed));
  else
    json_object_set_new(m, "seed", json_sprintf("%llu", (unsigned long long)a->o.seed));
  json_object_set_new(m, "subjects", json_integer(a->o.subjects));
  json_object_set_new(m, "calls_per_subject", json_integer(a->o.calls_per_subject));
  json_object_set_new(m, "now", json_string(now));
  json_object_set_new(m, "database", json_string(PQdb(c)));
  json_object_set_new(m, "media_root", a->o.media_root ? json_string(a->o.media_root) : json_null());
  json_object_set_new(m, "media_files", json_integer(files));
  json_object_set_new(m, "media_bytes", json_integer(bytes));
  json_object_set(m, "backup_sets", sets);
  json_object_set_new(m, "rows_total", json_integer(total));
  json_object_set(m, "tables", tables);
  json_object_set(m, "subjects_of_note", subjects);
cleanup:
  json_decref(tables);
  json_decref(sets);
  json_decref(subjects);
  return m;
}

/* --- crypto-shredded recordings -------------------------------------------------------- */

/* What the seal callback needs: dsrd's database and the master keys. */
struct sealer {
  struct ctl_session s;
  struct dsr_keyring kr;
  bool open;
};

static bool seal(void *ctx, const char *tenant, const char *phone, const unsigned char *in,
                 size_t len, unsigned char **out, size_t *outlen, char key_id[40], char *err,
                 size_t errlen)
{
  struct sealer *z = ctx;
  return dsr_media_seal(z->s.db, &z->kr, DSR_ID_PHONE, phone, tenant, in, len, out, outlen,
                        key_id, err, errlen);
}

/*
 * With --policy: when it marks the recordings crypto_shred, opens dsrd's
 * database and the master keys (creating master_key_file when missing) and
 * sets the seal callback. 0, or an exit status.
 */
static int sealer_open(const struct dsr_config *cfg, struct gen_args *a, struct sealer *z)
{
  char err[1024];
  memset(z, 0, sizeof *z);
  if (!a->policy)
    return 0;
  struct dsr_policy *p = dsr_policy_load(a->policy, err, sizeof err);
  if (!p) {
    ctl_error("%s", err);
    return 1;
  }
  bool recordings = false, other = false, phone = true;
  for (size_t i = 0; i < dsr_policy_collection_count(p); i++) {
    const struct dsr_pcollection *c = dsr_policy_topo_at(p, i);
    if (!c->crypto_shred)
      continue;
    bool rec = !strcmp(c->table, "recordings");
    recordings |= rec;
    other |= !rec;
    phone &= !rec || c->crypto_identity == DSR_ID_PHONE;
  }
  dsr_policy_free(p);
  if (other || !phone) {
    ctl_error("sample generate: the sample platform seals recordings only, by the caller's "
              "phone (crypto_shred elsewhere in %s)", a->policy);
    return 2;
  }
  if (!recordings)
    return 0;
  if (!cfg->master_key_file) {
    ctl_error("sample generate: the policy marks recordings crypto_shred: configure "
              "master_key_file (dsrd.conf(5))");
    return 2;
  }
  if (access(cfg->master_key_file, F_OK) != 0 ? !dsr_keyring_add_version(cfg->master_key_file,
                                                                          &z->kr, err, sizeof err)
                                              : !dsr_keyring_load(cfg->master_key_file, &z->kr,
                                                                  err, sizeof err)) {
    ctl_error("sample generate: %s", err);
    return 1;
  }
  if (!ctl_session_open(cfg, &z->s)) {
    dsr_keyring_wipe(&z->kr);
    return 1;
  }
  z->open = true;
  a->o.seal = seal;
  a->o.seal_ctx = z;
  return 0;
}

static void sealer_close(struct sealer *z)
{
  if (!z->open)
    return;
  ctl_session_close(&z->s);
  dsr_keyring_wipe(&z->kr);
  z->open = false;
}

/* --- the command ---------------------------------------------------------------------- */

static int generate(const struct dsr_config *cfg, int argc, char **argv)
{
  for (int i = 2; i < argc; i++)
    if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
      fputs(generate_usage, stdout);
      return 0;
    }
  struct gen_args a;
  int rc = parse_args(argc, argv, &a);
  if (rc)
    return rc;
  char err[1024];
  char media[PATH_MAX], backups[PATH_MAX];
  struct sealer z = {0};
  struct dsr_sample *g = NULL;
  struct dsr_pgembed *pg = NULL;
  char *conninfo = NULL;
  PGconn *c = NULL;
  json_t *m = NULL;
  rc = 1;
  snprintf(media, sizeof media, "%s/media", cfg->state_dir);
  snprintf(backups, sizeof backups, "%s/media-backups", cfg->state_dir);
  if (!a.no_media) {
    a.o.media_root = a.media ? a.media : media;
    a.o.backup_root = a.backup_dir ? a.backup_dir : backups;
  }
  /* Check every option before touching the database or the disk. */
  struct dsr_sample_opts check = a.o;
  check.media_root = NULL;
  check.backup_sets = 0;
  g = dsr_sample_new(&check, err, sizeof err);
  if (!g) {
    ctl_error("sample generate: %s", err);
    rc = 2;
    goto cleanup;
  }
  dsr_sample_free(g);
  g = NULL;

  const char *url = a.platform_url ? a.platform_url : cfg->database_url;
  if (url) {
    conninfo = strdup(url);
  } else {
    pg = dsr_pgembed_acquire(cfg, err, sizeof err);
    if (!pg) {
      ctl_error("%s", err);
      goto cleanup;
    }
    if (!dsr_pgembed_ensure_db(pg, PLATFORM_DB, err, sizeof err)) {
      ctl_error("%s", err);
      goto cleanup;
    }
    conninfo = dsr_pgembed_conninfo(pg, PLATFORM_DB);
  }
  if (!conninfo) {
    ctl_error("out of memory");
    goto cleanup;
  }
  c = PQconnectdb(conninfo);
  if (PQstatus(c) != CONNECTION_OK) {
    ctl_error("sample generate: cannot connect to the platform database: %s", PQerrorMessage(c));
    goto cleanup;
  }
  if (!dsr_sample_prepare_db(c, a.reset, err, sizeof err)) {
    ctl_error("sample generate: %s", err);
    goto cleanup;
  }
  if (a.o.media_root && !prepare_media(&a, err, sizeof err)) {
    ctl_error("sample generate: %s", err);
    goto cleanup;
  }
  if (a.o.media_root && (rc = sealer_open(cfg, &a, &z)) != 0)
    goto cleanup;
  rc = 1;
  g = dsr_sample_new(&a.o, err, sizeof err);
  if (!g) {
    ctl_error("sample generate: %s", err);
    goto cleanup;
  }
  double t0 = dsr_mono_ms();
  struct progress prog = {.tty = isatty(STDERR_FILENO) == 1, .last_pct = -1, .t0 = t0};
  struct dsr_sample_progress p = {p_draw, p_done, p_phase, &prog};
  struct dsr_sample_counts counts;
  if (!dsr_sample_load(c, conninfo, g, &p, &counts, err, sizeof err)) {
    if (prog.tty)
      fputc('\n', stderr);
    ctl_error("sample generate: %s", err);
    goto cleanup;
  }
  if (!dsr_sample_finish_media(g, err, sizeof err)) {
    ctl_error("sample generate: %s", err);
    goto cleanup;
  }
  m = manifest(&a, g, c, &counts);
  if (!m) {
    ctl_error("out of memory");
    goto cleanup;
  }
  fprintf(stderr, "sample: done in %.1f s\n", (dsr_mono_ms() - t0) / 1000.0);
  if (a.manifest && json_dump_file(m, a.manifest, JSON_INDENT(2) | JSON_SORT_KEYS) != 0) {
    ctl_error("sample generate: cannot write %s", a.manifest);
    goto cleanup;
  }
  if (a.json) {
    if (json_dumpf(m, stdout, JSON_INDENT(2) | JSON_SORT_KEYS) != 0) {
      ctl_error("sample generate: cannot write the manifest");
      goto cleanup;
    }
    fputc('\n', stdout);
  } else {
    printf("generated the sample platform in database \"%s\": %lld rows, %lld calls, %lld media files\n",
           PQdb(c), (long long)json_integer_value(json_object_get(m, "rows_total")),
           (long long)json_integer_value(json_object_get(json_object_get(m, "tables"), "calls")),
           (long long)json_integer_value(json_object_get(m, "media_files")));
    /* The planted subjects (synthetic people), to try requests with. */
    size_t i;
    json_t *subj;
    json_array_foreach(json_object_get(m, "subjects_of_note"), i, subj)
      printf("  subject %-16s email %s phone %s calls %lld\n",
             json_string_value(json_object_get(subj, "label")),
             json_string_value(json_object_get(subj, "email")),
             json_string_value(json_object_get(subj, "phone")),
             (long long)json_integer_value(json_object_get(subj, "calls")));
  }
  rc = 0;
cleanup:
  sealer_close(&z);
  json_decref(m);
  dsr_sample_free(g);
  PQfinish(c);
  free(conninfo);
  dsr_pgembed_release(pg);
  return rc;
}

int ctl_sample(const struct dsr_config *cfg, int argc, char **argv)
{
  if (argc >= 2 && !strcmp(argv[1], "generate"))
    return generate(cfg, argc, argv);
  if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
    fputs(generate_usage, stdout);
    return 0;
  }
  ctl_error("sample: expected \"generate\" %s", SAMPLE_HINT);
  return 2;
}

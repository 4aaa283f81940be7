/**
 * @file sample.h
 * @brief The sample call-center platform (DESIGN.md section 7): a deterministic
 *        synthetic data generator, its WAV media files and media backup sets.
 *
 * This is a fixture for demos, tests and benchmarks. It lives in its own
 * convenience library (libdsrsample) that only dsrctl and the tests link:
 * dsrd never depends on it, and nothing in libdsr refers to it.
 *
 * Everything generated is a function of the options alone (seed, sizes,
 * anchor time...): the same options give byte-identical rows and files.
 * Every value is derived from a counter-based PRNG keyed by (seed, kind,
 * index), so each table can be produced on its own, in any order, and a
 * table's rows are regenerated rather than kept in memory.
 */
#ifndef DSR_SAMPLE_H
#define DSR_SAMPLE_H

#include <jansson.h>
#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "dsr/embedded.h"
#include "dsr/util.h"

/** sample/schema.sql, compiled in (scripts/embed-files.sh). */
extern const struct dsr_embedded_file dsr_sample_schema[];
/** The line that splits the schema into "before loading" and "after loading". */
#define DSR_SAMPLE_SCHEMA_SPLIT "-- @@ post-load: indexes and foreign keys @@"

/* ---- PRNG ---------------------------------------------------------------- */

/** splitmix64 state. Streams are cheap: one per (seed, kind, index). */
struct dsr_sample_rng {
  uint64_t s;
};

/** The splitmix64 finaliser: a good 64-bit mixing function. */
uint64_t dsr_sample_mix64(uint64_t x);
/** A stream keyed by @p seed, a kind tag and an index. */
void dsr_sample_rng_init(struct dsr_sample_rng *r, uint64_t seed, uint64_t kind, uint64_t index);
uint64_t dsr_sample_rng_next(struct dsr_sample_rng *r);
/** Uniform in [0, n) (n > 0), without modulo bias worth speaking of (128-bit multiply). */
uint64_t dsr_sample_rng_below(struct dsr_sample_rng *r, uint64_t n);
/** Uniform in [lo, hi]. */
int64_t dsr_sample_rng_range(struct dsr_sample_rng *r, int64_t lo, int64_t hi);
/** True with probability @p percent / 100. */
bool dsr_sample_rng_pct(struct dsr_sample_rng *r, unsigned percent);

/* ---- WAV ----------------------------------------------------------------- */

/** Size in bytes of a WAV file of @p samples 16-bit mono samples. */
size_t dsr_sample_wav_size(uint32_t samples);
/**
 * Writes a RIFF/WAVE PCM file (mono, 16 bit, @p rate Hz) holding a triangle
 * tone of @p freq Hz with a short fade in and out, @p samples long, into
 * @p out (dsr_sample_wav_size(samples) bytes). Integer arithmetic only, so
 * the bytes are the same on every machine.
 */
void dsr_sample_wav_render(unsigned char *out, uint32_t samples, uint32_t rate, uint32_t freq);

/* ---- generator ----------------------------------------------------------- */

#define DSR_SAMPLE_MAX_DESIGNATED 16

/** A subject with chosen identity and calls (for tests and benchmarks). */
struct dsr_sample_designated {
  const char *email;   /**< borrowed; required */
  const char *phone;   /**< borrowed; required (E.164) */
  const char *name;    /**< borrowed; NULL: generated */
  int workspaces;      /**< caller (and contact) in this many workspaces, >= 1 */
  long calls;          /**< exactly this many calls, spread over those workspaces */
  bool account;        /**< also an account holder: a user who owns a workspace of its own */
};

struct dsr_sample_opts {
  uint64_t seed;
  long subjects;             /**< generated people, >= 1 */
  int calls_per_subject;     /**< mean calls per person (uniform 0..2K) */
  time_t now;                /**< anchor: every timestamp is relative to it */
  const char *media_root;    /**< borrowed; NULL: no files (rows only) */
  const char *backup_root;   /**< borrowed; where backup sets go */
  int backup_sets;           /**< copies of the media store; needs media_root */
  struct dsr_sample_designated designated[DSR_SAMPLE_MAX_DESIGNATED];
  int ndesignated;
  /**
   * Crypto-shredded recordings (NULL: plain WAV files). Called for every
   * recording file with its tenant (the workspace id as text) and the phone of
   * the person on the call; seals @p len bytes into *out (malloc'd, the
   * generator frees) under that person's data key, whose id goes to
   * @p key_id (recordings.key_id). Encryption is randomized: such files are
   * not byte-identical between runs. The backup sets get the sealed bytes.
   */
  bool (*seal)(void *ctx, const char *tenant, const char *phone, const unsigned char *in,
               size_t len, unsigned char **out, size_t *outlen, char key_id[40], char *err,
               size_t errlen);
  void *seal_ctx;
};

/** Where a generated table's COPY text goes, and how progress is shown. */
struct dsr_sample_sink {
  /** Receives complete COPY text lines; false stops the generation. */
  bool (*write)(void *ctx, const char *data, size_t len);
  /** Called now and then with the fraction done of the current table (may be NULL). */
  void (*progress)(void *ctx, double fraction);
  void *ctx;
};

/** One table of the platform, in load order (parents before children). */
struct dsr_sample_table {
  const char *name;
  const char *columns; /**< the COPY column list */
  bool identity;       /**< id is an identity column whose sequence must follow the data */
};

struct dsr_sample;

/** The tables in load order; *n receives their number. */
const struct dsr_sample_table *dsr_sample_tables(size_t *n);

/** Checks the options and builds the generator. Caller frees with dsr_sample_free(). */
struct dsr_sample *dsr_sample_new(const struct dsr_sample_opts *o, char *err, size_t errlen);
void dsr_sample_free(struct dsr_sample *g);

/**
 * Emits every row of table @p t (index into dsr_sample_tables()) to @p sink;
 * for recordings and voicemails also writes their files (and backup-set
 * copies) when a media root is set. Returns rows emitted, or -1 with @p err.
 */
DSR_MUST_USE long dsr_sample_emit(struct dsr_sample *g, size_t t, const struct dsr_sample_sink *sink,
                                  char *err, size_t errlen);

/** Files and bytes written so far (media store only, not the backup copies). */
void dsr_sample_media_stats(const struct dsr_sample *g, long *files, long long *bytes);
/** Files written into backup set @p i (0-based) so far. */
long dsr_sample_backup_files(const struct dsr_sample *g, int i);
/** Name of backup set @p i ("set-1"...). */
const char *dsr_sample_backup_name(const struct dsr_sample *g, int i);
/** Closes the backup sets' index files; false on a write error. */
DSR_MUST_USE bool dsr_sample_finish_media(struct dsr_sample *g, char *err, size_t errlen);

/**
 * Describes the subjects worth knowing by name (the designated ones and a few
 * found in the generated population) as a JSON array. Caller decrefs; NULL
 * on allocation failure.
 */
json_t *dsr_sample_subjects_json(const struct dsr_sample *g);

/* ---- loading ------------------------------------------------------------- */

/** Per-table row counts after dsr_sample_load(). */
struct dsr_sample_counts {
  long rows[32];
  size_t ntables;
};

/**
 * Progress callbacks for dsr_sample_load(). They are called from one thread
 * at a time (the loader serialises them), table_progress only for the tables
 * of the first lane.
 */
struct dsr_sample_progress {
  void (*table_progress)(void *ctx, size_t index, size_t count, const char *table,
                         double fraction);
  void (*table_done)(void *ctx, size_t index, size_t count, const char *table, long rows,
                     double ms);
  void (*phase)(void *ctx, const char *what);
  void *ctx;
};

/**
 * Prepares the database behind @p c: refuses a dsrd database; with @p reset
 * drops the public schema first; refuses a database that already holds the
 * platform.
 */
DSR_MUST_USE bool dsr_sample_prepare_db(PGconn *c, bool reset, char *err, size_t errlen);

/**
 * Loads the platform through @p c and a second connection to @p conninfo
 * (two lanes, so the database works on two tables at once): creates the
 * tables, COPYs every table from @p g (COPY FREEZE, each lane in one
 * transaction), moves the id sequences past the data, adds indexes and
 * foreign keys, and analyzes. A failure leaves a partial platform behind,
 * which --reset replaces.
 */
DSR_MUST_USE bool dsr_sample_load(PGconn *c, const char *conninfo, struct dsr_sample *g,
                                  const struct dsr_sample_progress *p,
                                  struct dsr_sample_counts *counts, char *err, size_t errlen);

/** Removes a directory tree (no symlinks followed); true if it is gone. */
DSR_MUST_USE bool dsr_sample_rmtree(const char *path);

#endif

/**
 * @file export.h
 * @brief Access and portability packages: a ZIP (libarchive)
 *        written through libsodium secretstream straight to a file, so the
 *        plaintext never reaches the disk; read back chunk by chunk for the
 *        download link. Memory stays bounded whatever the size: rows come
 *        from a server-side cursor in pages, files are copied in blocks.
 *
 * File format of a package (".dsrx"): the 24-byte secretstream header, then
 * chunks of DSR_XCHUNK plaintext bytes (the last one shorter, tagged FINAL),
 * each followed by its 17-byte authenticator. The 32-byte key is random per
 * package and stored only sealed (dsr_seal) in dsr_exports.
 */
#ifndef DSR_EXPORT_H
#define DSR_EXPORT_H

#include <jansson.h>
#include <libpq-fe.h>
#include <sodium.h>
#include <stdint.h>
#include "dsr/db.h"
#include "dsr/planner.h"
#include "dsr/policy.h"

#define DSR_XCHUNK 65536
#define DSR_XKEY_BYTES crypto_secretstream_xchacha20poly1305_KEYBYTES

/* --- encrypted file (export_crypt.c) ------------------------------------ */

/** Writer: owned by the caller of dsr_xsink_open(), ended by dsr_xsink_close(). */
struct dsr_xsink {
  int fd;
  crypto_secretstream_xchacha20poly1305_state st;
  unsigned char *buf; /**< DSR_XCHUNK bytes of pending plaintext */
  size_t n;
  uint64_t plain_bytes;
  bool failed;
};
/** Creates @p path (0600, must not exist) and writes the header. */
DSR_MUST_USE bool dsr_xsink_open(struct dsr_xsink *s, const char *path,
                                 const unsigned char key[DSR_XKEY_BYTES]);
DSR_MUST_USE bool dsr_xsink_write(struct dsr_xsink *s, const void *p, size_t len);
/** Writes the final chunk, fsyncs and closes; with @p abort just closes. False on failure. */
DSR_MUST_USE bool dsr_xsink_close(struct dsr_xsink *s, bool abort);

/** Reader: sequential plaintext of a package file. */
struct dsr_xsource {
  int fd;
  crypto_secretstream_xchacha20poly1305_state st;
  unsigned char *chunk; /**< one ciphertext chunk */
  unsigned char *plain; /**< its plaintext */
  size_t have, pos;     /**< plaintext bytes in plain, next to hand out */
  bool final, failed;
};
/** Opens @p path and checks its header. Free with dsr_xsource_close(). */
DSR_MUST_USE bool dsr_xsource_open(struct dsr_xsource *s, const char *path,
                                   const unsigned char key[DSR_XKEY_BYTES]);
/** Up to @p len plaintext bytes; 0 at the end, -1 on a corrupt or truncated file. */
ssize_t dsr_xsource_read(struct dsr_xsource *s, void *out, size_t len);
/** Skips @p n plaintext bytes (decrypting them: the stream has no random access). */
DSR_MUST_USE bool dsr_xsource_skip(struct dsr_xsource *s, uint64_t n);
void dsr_xsource_close(struct dsr_xsource *s);

/* --- package writer (export_zip.c, export_build.c) ---------------------- */

enum dsr_export_kind { DSR_EXPORT_ACCESS, DSR_EXPORT_PORTABILITY };

/** What goes into a package. Everything borrowed. */
struct dsr_export_spec {
  const struct dsr_policy *policy;
  enum dsr_export_kind kind;
  const char *request_id;
  const char *part_id;    /**< may be NULL (dsrctl) */
  const char *owner;      /**< "controller" or "customer" */
  const struct dsr_plan *plan;
  /** Plan parts to include: include[i] for plan->parts[i]. */
  const bool *include;
  time_t generated_at;
  long fetch_rows;        /**< rows per cursor page (0: 1000) */
  const char *lang;       /**< the subject's language for summary.html/.txt (NULL: "en") */
  const char *jurisdiction; /**< the request's law: rights and authority in the summary, or NULL */
  /**
   * Answered from part of the subject's identities only (dsr_verify_partial_info():
   * {"confirmed", "missing", "has_missing"} in words of @p lang), or NULL; borrowed.
   */
  const json_t *partial;
  /** Rows listed per collection in the summary for people (0: 50); the rest is counted. */
  long summary_rows;
};

/** What a package holds (counts only). */
struct dsr_export_result {
  long long rows;
  long long files;
  long long collections;
  uint64_t plain_bytes; /**< size of the ZIP */
};

/**
 * Writes the package of @p spec, encrypted with @p key, to the new file
 * @p path, reading rows from @p conn (the policy's platform store) inside one
 * read-only REPEATABLE READ transaction. On failure the file is removed and
 * @p err says why (no personal data).
 */
DSR_MUST_USE bool dsr_export_write(const struct dsr_export_spec *spec, PGconn *conn,
                                   const char *path, const unsigned char key[DSR_XKEY_BYTES],
                                   struct dsr_export_result *res, char *err, size_t errlen);

/**
 * The access plan of subject @p s that a package is written from: the keyed plan (the
 * subject's rows once, in @p conn's temporary tables), or, when the store refuses those, the
 * plan that computes them twice (logged, with @p part_id when there is one). NULL with
 * @p err set when neither can be built.
 */
struct dsr_plan *dsr_export_plan(const struct dsr_policy *p, PGconn *conn,
                                 const struct dsr_subject *s, const char *part_id, char *err,
                                 size_t errlen);

/** "access" / "portability" -> kind; false for other request types. */
bool dsr_export_kind_of(const char *request_type, enum dsr_export_kind *kind);

/* --- packages in dsrd (export_store.c, export_job.c) --------------------- */

#define DSR_JOB_EXPORT "export"
#define DSR_JOB_EXPORT_EXPIRE "export_expire"

/**
 * Inside the caller's transaction: enqueues the export job for part
 * @p part_id (NULL: every approved part) of request @p request_id when the
 * request is an access or portability request. DSR_TX_COMMIT when nothing
 * was to do.
 */
enum dsr_tx_status dsr_export_enqueue(struct dsr_db *db, const char *request_id,
                                      const char *part_id);

/** Where and for how long packages live. */
struct dsr_export_opts {
  const char *dir;        /**< directory of package files */
  const char *base_url;   /**< for the link in the message */
  char base_buf[160];     /**< holds the default base_url (http://listen_address:port) */
  long link_seconds;      /**< link lifetime */
  long max_downloads;
};

/**
 * Runs the export job of part @p part_id: plans, writes the package, then in
 * one transaction stores it, marks the part done, records export.ready,
 * tells the subject (outbox, with the link) and schedules its destruction.
 * Idempotent. Returns DSR_JOB_DONE / RETRY / FAIL with @p err.
 */
int dsr_export_run(struct dsr_db *db, const struct dsr_policy *p,
                   const struct dsr_export_opts *o, const char *part_id, char *err,
                   size_t errlen);

struct dsr_config;
/** The package directory (export_dir, or STATE_DIR/exports) into @p out; created (0700). */
DSR_MUST_USE bool dsr_export_dir(const struct dsr_config *cfg, char *out, size_t outlen);

/** Destroys package @p export_id when it has expired (the expiry job). */
int dsr_export_expire(struct dsr_db *db, const struct dsr_export_opts *o, const char *export_id,
                      char *err, size_t errlen);

#endif

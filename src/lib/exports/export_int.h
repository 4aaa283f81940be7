/**
 * @file export_int.h
 * @brief Internals of the package writer: ZIP entries through libarchive into
 *        an encrypted sink, each entry's SHA-256 and size recorded for the
 *        manifest.
 */
#ifndef DSR_EXPORT_INT_H
#define DSR_EXPORT_INT_H

#include <archive.h>
#include <archive_entry.h>
#include <pthread.h>
#include "dsr/export.h"

/* Buffers between the exporter and the ZIP's writer thread (see export_zip.c). */
#define XZIP_BUFS 8
#define XZIP_BUF_BYTES (64u * 1024u)

struct xzip {
  struct archive *a;
  struct dsr_xsink *sink;
  crypto_hash_sha256_state h;
  uint64_t entry_bytes;
  char *entry_name; /**< current entry (owned) */
  json_t *files;    /**< [{"name", "sha256", "bytes"}] of finished entries (owned) */
  bool failed;      /**< the exporter's view: anything failed */
  bool sink_failed; /**< set by sink writes, in the thread that holds the archive */
  /*
   * Two threads take the full buffers while the exporter fills the next one: the hasher
   * checksums them, the writer deflates and encrypts the ones already checksummed (on its
   * own, the writer took as long as the exporter and the database together). The exporter
   * owns cur, which is buf[(head + queued) % XZIP_BUFS]; the queued ones from head belong
   * to the threads: the first `hashed` of them are checksummed. The hash and entry_bytes are
   * the hasher's while buffers are queued, libarchive and the sink the writer's; the
   * exporter uses them once the queue is drained (entry boundaries, close). mu and cv guard
   * head, queued, hashed, stop and wfailed.
   */
  unsigned char *buf[XZIP_BUFS];
  size_t len[XZIP_BUFS];
  unsigned char *cur; /**< the buffer the exporter fills, wlen bytes so far */
  size_t wlen;
  unsigned head, queued, hashed;
  bool stop, wfailed, threaded, hashing;
  pthread_t writer, hasher;
  pthread_mutex_t mu;
  pthread_cond_t cv;
};

/** Starts a ZIP written into @p sink (borrowed). Free with xzip_close(). */
DSR_MUST_USE bool xzip_open(struct xzip *z, struct dsr_xsink *sink, time_t mtime);
/** Begins entry @p name (size unknown: streamed with a data descriptor). */
DSR_MUST_USE bool xzip_begin(struct xzip *z, const char *name, time_t mtime);
DSR_MUST_USE bool xzip_write(struct xzip *z, const void *p, size_t n);
DSR_MUST_USE bool xzip_puts(struct xzip *z, const char *s);
/** Ends the current entry and records its checksum. */
DSR_MUST_USE bool xzip_end(struct xzip *z);
/** Writes the central directory (unless @p abort) and frees everything. */
DSR_MUST_USE bool xzip_close(struct xzip *z, bool abort);

/**
 * A spool: an encrypted temporary file written once, then read back once in
 * order (xspool_rewind() switches). Bounded memory: one 64 KiB buffer.
 */
struct xspool {
  int fd;
  bool reading, failed;
  unsigned char key[crypto_stream_xchacha20_KEYBYTES];
  unsigned char nonce[crypto_stream_xchacha20_NONCEBYTES];
  unsigned char buf[65536]; /**< a multiple of the cipher's 64-byte block */
  size_t len, off;          /**< bytes in buf; read position in buf */
  uint64_t pos;             /**< file offset of buf */
};

/** Creates the spool next to @p near (already unlinked). Free with xspool_close(). */
DSR_MUST_USE bool xspool_open(struct xspool *sp, const char *near);
DSR_MUST_USE bool xspool_write(struct xspool *sp, const void *p, size_t n);
DSR_MUST_USE bool xspool_puts(struct xspool *sp, const char *s);
DSR_MUST_USE bool xspool_rewind(struct xspool *sp);
/** Reads exactly @p n bytes; false at the end or on an error. */
DSR_MUST_USE bool xspool_read(struct xspool *sp, void *p, size_t n);
void xspool_close(struct xspool *sp);

#endif

/**
 * @file audit.h
 * @brief The tamper-evident audit trail (docs/audit-format.md).
 *
 * dsr_event_record() appends every event to dsr_audit_entries in the caller's
 * transaction (cheap: a sequence number, no lock). A sealer (dsrd's sealer
 * thread, or `dsrctl audit seal`) links committed entries into the hash chain
 * dsr_audit_chain: link n = BLAKE2b-256(hash of link n-1 || canonical entry).
 * Verification recomputes every link, from the database or from an export.
 */
#ifndef DSR_AUDIT_H
#define DSR_AUDIT_H

#include <jansson.h>
#include <stdio.h>
#include "dsr/db.h"

#define DSR_AUDIT_HASH_BYTES 32
#define DSR_AUDIT_HEX_LEN (2 * DSR_AUDIT_HASH_BYTES + 1)
#define DSR_AUDIT_FORMAT "dsr-audit-v1"
#define DSR_AUDIT_EXPORT_FORMAT "dsr-audit-export-v1"

/** One sealed entry as hashed. Strings are borrowed; request_id "" when none. */
struct dsr_audit_entry {
  long long pos;
  long long seq;
  const char *at;         /**< RFC 3339 UTC, seconds */
  const char *request_id; /**< UUID or "" */
  const char *kind;
  const char *actor;
  const char *data;       /**< canonical JSON text, hashed byte for byte */
};

/**
 * Appends the canonical serialisation of @p e to @p out: netstrings
 * ("<len>:<bytes>,") of DSR_AUDIT_FORMAT, pos, seq, at, request_id, kind,
 * actor, data. False on allocation failure.
 */
DSR_MUST_USE bool dsr_audit_canonical(const struct dsr_audit_entry *e, struct dsr_buf *out);

/** out = BLAKE2b-256(prev || canonical(e)). False on allocation failure. */
DSR_MUST_USE bool dsr_audit_link_hash(const unsigned char prev[DSR_AUDIT_HASH_BYTES],
                                      const struct dsr_audit_entry *e,
                                      unsigned char out[DSR_AUDIT_HASH_BYTES]);

/** Lower-case hex of a hash into @p out. */
void dsr_audit_hex(const unsigned char h[DSR_AUDIT_HASH_BYTES], char out[DSR_AUDIT_HEX_LEN]);
/** Parses 64 hex digits; false if @p hex is anything else. */
bool dsr_audit_unhex(const char *hex, unsigned char out[DSR_AUDIT_HASH_BYTES]);

/**
 * One sealing pass of at most @p limit entries, in its own transaction. Does
 * nothing (and succeeds) when another sealer holds the lock. *sealed counts the
 * links added; *more is set when entries remain that could be sealed now.
 */
DSR_MUST_USE bool dsr_audit_seal_pass(struct dsr_db *db, int limit, long long *sealed,
                                      bool *more);
/** Seal passes until nothing sealable is left; *sealed sums them. */
DSR_MUST_USE bool dsr_audit_seal_all(struct dsr_db *db, long long *sealed);

/** The chain head: *pos 0 and the zero hash for an empty chain. */
DSR_MUST_USE bool dsr_audit_head(struct dsr_db *db, long long *pos,
                                 char hex[DSR_AUDIT_HEX_LEN]);

/** What a verification found. */
struct dsr_audit_verdict {
  bool ok;                        /**< every link checked out */
  long long verified;             /**< links verified before the first break (or all) */
  long long first_pos, last_pos;  /**< range of positions checked */
  char head[DSR_AUDIT_HEX_LEN];   /**< hash of the last verified link (or the anchor) */
  long long unsealed;             /**< entries not in the chain (database only) */
  long long sealable;             /**< of those, committed before every open transaction */
  char oldest_unsealed[24];       /**< RFC 3339 of the oldest unsealed entry, or "" */
  /* The first broken link, when !ok: */
  long long broken_pos;
  long long broken_seq;           /**< -1 when unknown */
  char expected[DSR_AUDIT_HEX_LEN];
  char found[DSR_AUDIT_HEX_LEN];
  char reason[160];
};

/** Verifies the whole chain in the database. False only when it could not be read. */
DSR_MUST_USE bool dsr_audit_verify_db(struct dsr_db *db, struct dsr_audit_verdict *v,
                                      char *err, size_t errlen);

/**
 * Verifies an export (JSON lines, see dsr_audit_export) with no database.
 * False only when the file is unreadable or not an export at all; a broken or
 * malformed line gives true with v->ok false.
 */
DSR_MUST_USE bool dsr_audit_verify_file(FILE *in, struct dsr_audit_verdict *v, char *err,
                                        size_t errlen);

/**
 * Writes the contiguous chain segment covering entries recorded in
 * [@p from, @p to) to @p out: a header line (the anchor: position and hash of
 * the link before the segment, and the segment's last link), then one line per
 * entry. *count receives the number of entries written.
 */
DSR_MUST_USE bool dsr_audit_export(struct dsr_db *db, time_t from, time_t to, FILE *out,
                                   long long *count, char *err, size_t errlen);

/**
 * Up to @p limit sealed entries after position @p after, in chain order, for
 * the admin API: {"head": {"pos", "hash"}, "entries": [{pos, seq, at,
 * request_id, kind, actor, data (stored text), prev_hash, hash, sealed_at}],
 * "next_after": pos | null}. *out is owned by the caller.
 */
DSR_MUST_USE bool dsr_audit_page(struct dsr_db *db, long long after, int limit, json_t **out);

struct dsr_db_pool;
struct dsr_audit_sealer;
/**
 * Starts a thread that seals every @p interval_ms (and once more when stopped).
 * NULL on failure. Stop and free with dsr_audit_sealer_stop().
 */
struct dsr_audit_sealer *dsr_audit_sealer_start(struct dsr_db_pool *pool, long interval_ms);
void dsr_audit_sealer_stop(struct dsr_audit_sealer *s);

#endif

/**
 * @file media.h
 * @brief Crypto-shredded media (DESIGN.md section 6). Collections a
 *        policy marks with "crypto_shred" keep their files encrypted
 *        (libsodium secretstream, XChaCha20-Poly1305) under a data key per
 *        subject and scope (the tenant whose media it is). dsrd's database
 *        holds data keys only wrapped by a master key version from
 *        master_key_file; erasure destroys the subject's keys, so every copy
 *        of those files, in any backup, becomes unreadable.
 *
 * A media file: "DSRMEDIA", a format byte (1), the data key id (36 chars),
 * the secretstream header, then chunks of up to 64 KiB of plaintext, the
 * last one tagged FINAL; every chunk authenticates the file header.
 *
 * master_key_file: one line per version, "VERSION HEX" (64 hex digits), '#'
 * comments; the highest version wraps new keys. Never readable by others
 * (mode 0600), never stored in the database.
 */
#ifndef DSR_MEDIA_H
#define DSR_MEDIA_H

#include <stdbool.h>
#include <stddef.h>
#include "dsr/db.h"
#include "dsr/policy.h"

#define DSR_KEYRING_MAX 32

/** The master key versions loaded from master_key_file. Wipe with dsr_keyring_wipe(). */
struct dsr_keyring {
  int n;
  int current; /**< the highest version */
  struct {
    int version;
    unsigned char key[32];
  } v[DSR_KEYRING_MAX];
};

/** Loads @p path; false with a message when missing, unreadable, too open, or malformed. */
DSR_MUST_USE bool dsr_keyring_load(const char *path, struct dsr_keyring *kr, char *err,
                                   size_t errlen);
void dsr_keyring_wipe(struct dsr_keyring *kr);
/**
 * Adds a random new version (the highest + 1; 1 for a new file) to @p path
 * crash-safely: a temporary file (0600) written and fsync'ed, renamed over
 * the old one, the directory fsync'ed. Reloads @p kr.
 */
DSR_MUST_USE bool dsr_keyring_add_version(const char *path, struct dsr_keyring *kr, char *err,
                                          size_t errlen);

/**
 * Encrypts @p len bytes of a file of the subject with identity @p value of
 * @p kind in @p scope (a tenant, "" for the controller's own media) under the
 * subject's data key, created (wrapped by the current master version) when
 * there is none. *out is malloc'd (caller frees); @p key_id receives the data
 * key's id. False with a message (no personal data).
 */
DSR_MUST_USE bool dsr_media_seal(struct dsr_db *db, const struct dsr_keyring *kr,
                                 enum dsr_id_kind kind, const char *value, const char *scope,
                                 const unsigned char *plain, size_t len, unsigned char **out,
                                 size_t *outlen, char key_id[40], char *err, size_t errlen);

/** dsr_media_seal() into a new file @p path (written to a temporary name, then renamed). */
DSR_MUST_USE bool dsr_media_put(struct dsr_db *db, const struct dsr_keyring *kr,
                                enum dsr_id_kind kind, const char *value, const char *scope,
                                const unsigned char *plain, size_t len, const char *path,
                                char key_id[40], char *err, size_t errlen);

enum dsr_media_result {
  DSR_MEDIA_OK,
  DSR_MEDIA_SHREDDED, /**< its data key was destroyed by an erasure: unreadable for good */
  DSR_MEDIA_BAD,      /**< not a media file, unknown key, or tampered with */
  DSR_MEDIA_ERROR     /**< I/O or database trouble */
};

/** Decrypts media file @p path to @p out_fd (nothing written unless it authenticates). */
enum dsr_media_result dsr_media_get(struct dsr_db *db, const struct dsr_keyring *kr,
                                    const char *path, int out_fd, char *err, size_t errlen);

/**
 * Inside the caller's transaction: destroys (clears) the live data keys whose
 * identity hash is in @p hashes (a text[] literal of hex) in scope @p tenant,
 * or, when @p tenant is NULL, in every scope except @p other_tenants (a
 * text[] literal). *n receives how many were destroyed.
 */
enum dsr_tx_status dsr_data_keys_destroy(struct dsr_db *db, const char *hashes,
                                         const char *tenant, const char *other_tenants,
                                         const char *run_id, long long *n);

/**
 * Master key rotation: unless a rotation is unfinished (live keys wrapped by
 * another version than the highest), adds a new version to @p key_file;
 * then rewraps every live data key under the highest version, 500 per
 * transaction. Re-running it after a crash finishes the same rotation.
 * Records "key.rotated". *version and *rewrapped tell what was done.
 */
DSR_MUST_USE bool dsr_keys_rotate(struct dsr_db *db, const char *key_file, int *version,
                                  long long *rewrapped, char *err, size_t errlen);

#endif

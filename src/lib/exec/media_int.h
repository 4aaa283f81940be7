/** @file media_int.h @brief Internals shared by media.c and media_keys.c. */
#ifndef DSR_MEDIA_INT_H
#define DSR_MEDIA_INT_H

#include "dsr/crypto.h"
#include "dsr/media.h"

#include <sys/types.h>

/** Master key of @p version, or NULL (borrowed from @p kr). */
const unsigned char *media_master(const struct dsr_keyring *kr, int version);
/**
 * Replaces @p path with @p n bytes crash-safely: a temporary file (mode
 * @p mode) written and fsync'ed, renamed over it, the directory fsync'ed.
 */
DSR_MUST_USE bool media_write_replace(const char *path, const void *data, size_t n, mode_t mode,
                                      char *err, size_t errlen);
/** The subject's data key in @p scope, created when missing; @p id receives its id. */
DSR_MUST_USE bool media_key_for(struct dsr_db *db, const struct dsr_keyring *kr,
                                enum dsr_id_kind kind, const char *value, const char *scope,
                                unsigned char key[32], char id[40], char *err, size_t errlen);
/** Data key @p id, unwrapped. */
enum dsr_media_result media_key_get(struct dsr_db *db, const struct dsr_keyring *kr,
                                    const char *id, unsigned char key[32], char *err,
                                    size_t errlen);

#endif

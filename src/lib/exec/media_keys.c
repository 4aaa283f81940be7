/**
 * @file media_keys.c
 * @brief Master key versions (master_key_file) and the per-subject data keys
 *        they wrap: creation, unwrapping, destruction by erasure, rotation
 *        (see media.h).
 */
#include "config.h"
#include "media_int.h"
#include "dsr/erasure.h"
#include "dsr/log.h"
#include "dsr/parts.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define WRAP_NONCE crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
#define WRAP_BYTES (WRAP_NONCE + 32 + crypto_aead_xchacha20poly1305_ietf_ABYTES)

void dsr_keyring_wipe(struct dsr_keyring *kr)
{
  sodium_memzero(kr, sizeof *kr);
}

bool dsr_keyring_load(const char *path, struct dsr_keyring *kr, char *err, size_t errlen)
{
  memset(kr, 0, sizeof *kr);
  if (!path || !*path) {
    snprintf(err, errlen, "no master_key_file is configured");
    return false;
  }
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  struct stat st;
  if (fd < 0 || fstat(fd, &st) != 0) {
    snprintf(err, errlen, "cannot read master_key_file %s: %s", path, strerror(errno));
    if (fd >= 0)
      close(fd);
    return false;
  }
  if (st.st_mode & 077) {
    close(fd);
    snprintf(err, errlen, "master_key_file %s is readable by others (expected mode 0600)", path);
    return false;
  }
  FILE *f = fdopen(fd, "r");
  if (!f) {
    close(fd);
    snprintf(err, errlen, "cannot read master_key_file %s", path);
    return false;
  }
  char line[256];
  int lineno = 0;
  bool ok = true;
  while (ok && fgets(line, sizeof line, f)) {
    lineno++;
    char *s = line;
    while (*s == ' ' || *s == '\t')
      s++;
    if (*s == '#' || *s == '\n' || *s == '\0')
      continue;
    char *end = NULL;
    long v = strtol(s, &end, 10);
    while (end && (*end == ' ' || *end == '\t'))
      end++;
    size_t hl = end ? strcspn(end, " \t\r\n") : 0;
    size_t bin = 0;
    if (v < 1 || v > 1000000 || hl != 64 || kr->n == DSR_KEYRING_MAX ||
        sodium_hex2bin(kr->v[kr->n].key, 32, end, hl, NULL, &bin, NULL) != 0 || bin != 32) {
      snprintf(err, errlen, "%s:%d: expected \"VERSION HEX\" (a version >= 1, 64 hex digits)",
               path, lineno);
      ok = false;
      break;
    }
    for (int i = 0; i < kr->n; i++)
      if (kr->v[i].version == (int)v) {
        snprintf(err, errlen, "%s:%d: version %ld appears twice", path, lineno, v);
        ok = false;
      }
    kr->v[kr->n++].version = (int)v;
    if (v > kr->current)
      kr->current = (int)v;
  }
  sodium_memzero(line, sizeof line);
  fclose(f);
  if (ok && kr->n == 0) {
    snprintf(err, errlen, "master_key_file %s holds no key", path);
    ok = false;
  }
  if (!ok)
    dsr_keyring_wipe(kr);
  return ok;
}

const unsigned char *media_master(const struct dsr_keyring *kr, int version)
{
  for (int i = 0; i < kr->n; i++)
    if (kr->v[i].version == version)
      return kr->v[i].key;
  return NULL;
}

/* fsync of the directory holding @p path. */
static bool sync_dir(const char *path)
{
  char dir[4096];
  dsr_strlcpy(dir, path, sizeof dir);
  char *slash = strrchr(dir, '/');
  if (slash == dir)
    slash[1] = '\0';
  else if (slash)
    *slash = '\0';
  else
    dsr_strlcpy(dir, ".", sizeof dir);
  int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return false;
  bool ok = fsync(fd) == 0;
  close(fd);
  return ok;
}

bool media_write_replace(const char *path, const void *data, size_t n, mode_t mode, char *err,
                         size_t errlen)
{
  char tmp[4200];
  if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp", path) >= sizeof tmp) {
    snprintf(err, errlen, "path too long");
    return false;
  }
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  bool ok = fd >= 0 && fchmod(fd, mode) == 0 && dsr_write_all(fd, data, n) && fsync(fd) == 0;
  if (fd >= 0 && close(fd) != 0)
    ok = false;
  if (!ok)
    snprintf(err, errlen, "cannot write %s: %s", tmp, strerror(errno));
  else if (!(ok = rename(tmp, path) == 0 && sync_dir(path)))
    snprintf(err, errlen, "cannot replace %s: %s", path, strerror(errno));
  if (!ok)
    (void)unlink(tmp);
  return ok;
}

bool dsr_keyring_add_version(const char *path, struct dsr_keyring *kr, char *err, size_t errlen)
{
  struct dsr_keyring old = {0};
  bool exists = access(path, F_OK) == 0;
  if (exists && !dsr_keyring_load(path, &old, err, errlen))
    return false;
  struct dsr_buf b = {0};
  bool ok = false;
  bool built = dsr_buf_puts(&b, "# dsrd master keys (master_key_file): VERSION HEX; the highest "
                                "version wraps new data keys.\n");
  for (int i = 0; built && i <= old.n; i++) {
    unsigned char fresh[32];
    const unsigned char *k = i < old.n ? old.v[i].key : fresh;
    int version = i < old.n ? old.v[i].version : old.current + 1;
    if (i == old.n)
      randombytes_buf(fresh, sizeof fresh);
    char hex[65];
    sodium_bin2hex(hex, sizeof hex, k, 32);
    built = dsr_buf_printf(&b, "%d %s\n", version, hex);
    sodium_memzero(hex, sizeof hex);
    sodium_memzero(fresh, sizeof fresh);
  }
  if (!built) {
    snprintf(err, errlen, "out of memory");
    goto cleanup;
  }
  ok = media_write_replace(path, b.data, b.len, 0600, err, errlen) &&
       dsr_keyring_load(path, kr, err, errlen);
cleanup:
  if (b.data)
    sodium_memzero(b.data, b.len);
  dsr_buf_free(&b);
  dsr_keyring_wipe(&old);
  return ok;
}

/* The additional data binding a wrapped key to its id and master version. */
static size_t wrap_ad(char *ad, size_t n, const char *id, int version)
{
  int w = snprintf(ad, n, "dsr-data-key:%s:%d", id, version);
  return w > 0 && (size_t)w < n ? (size_t)w : 0;
}

static bool wrap(const struct dsr_keyring *kr, int version, const char *id,
                 const unsigned char key[32], char hex[2 * WRAP_BYTES + 1])
{
  const unsigned char *mk = media_master(kr, version);
  unsigned char out[WRAP_BYTES];
  char ad[96];
  size_t adl = wrap_ad(ad, sizeof ad, id, version);
  if (!mk || !adl)
    return false;
  randombytes_buf(out, WRAP_NONCE);
  unsigned long long clen = 0;
  crypto_aead_xchacha20poly1305_ietf_encrypt(out + WRAP_NONCE, &clen, key, 32,
                                             (const unsigned char *)ad, adl, NULL, out, mk);
  sodium_bin2hex(hex, 2 * WRAP_BYTES + 1, out, sizeof out);
  return true;
}

static bool unwrap(const struct dsr_keyring *kr, int version, const char *id, const char *hex,
                   unsigned char key[32])
{
  const unsigned char *mk = media_master(kr, version);
  unsigned char in[WRAP_BYTES];
  size_t bin = 0;
  char ad[96];
  size_t adl = wrap_ad(ad, sizeof ad, id, version);
  unsigned long long klen = 0;
  return mk && adl && sodium_hex2bin(in, sizeof in, hex, strlen(hex), NULL, &bin, NULL) == 0 &&
         bin == sizeof in &&
         crypto_aead_xchacha20poly1305_ietf_decrypt(key, &klen, NULL, in + WRAP_NONCE,
                                                    sizeof in - WRAP_NONCE,
                                                    (const unsigned char *)ad, adl, in,
                                                    mk) == 0 &&
         klen == 32;
}

static void new_uuid(char out[40])
{
  unsigned char u[16];
  randombytes_buf(u, sizeof u);
  u[6] = (unsigned char)((u[6] & 0x0f) | 0x40);
  u[8] = (unsigned char)((u[8] & 0x3f) | 0x80);
  char hex[33];
  sodium_bin2hex(hex, sizeof hex, u, sizeof u);
  snprintf(out, 40, "%.8s-%.4s-%.4s-%.4s-%.12s", hex, hex + 8, hex + 12, hex + 16, hex + 20);
}

enum dsr_media_result media_key_get(struct dsr_db *db, const struct dsr_keyring *kr,
                                    const char *id, unsigned char key[32], char *err,
                                    size_t errlen)
{
  const char *v[] = {id};
  PGresult *r = dsr_db_exec(db, DSR_STMT_DKEY_GET, 1, v);
  enum dsr_media_result res = DSR_MEDIA_ERROR;
  if (!dsr_db_ok(r)) {
    snprintf(err, errlen, "cannot read the data key");
  } else if (PQntuples(r) != 1) {
    snprintf(err, errlen, "unknown data key");
    res = DSR_MEDIA_BAD;
  } else if (PQgetvalue(r, 0, 2)[0] == 't') {
    snprintf(err, errlen, "the data key was destroyed by an erasure (crypto-shredded)");
    res = DSR_MEDIA_SHREDDED;
  } else if (!unwrap(kr, atoi(PQgetvalue(r, 0, 1)), id, PQgetvalue(r, 0, 0), key)) {
    snprintf(err, errlen, "cannot unwrap the data key (master key version %s not in "
                          "master_key_file?)", PQgetvalue(r, 0, 1));
  } else {
    res = DSR_MEDIA_OK;
  }
  PQclear(r);
  return res;
}

bool media_key_for(struct dsr_db *db, const struct dsr_keyring *kr, enum dsr_id_kind kind,
                   const char *value, const char *scope, unsigned char key[32],
                   char id[40], char *err, size_t errlen)
{
  unsigned char h[DSR_HASH_BYTES];
  char hex[2 * DSR_HASH_BYTES + 1];
  if (!dsr_identity_hash(kind, value, h)) {
    snprintf(err, errlen, "the subject's identity is empty");
    return false;
  }
  sodium_bin2hex(hex, sizeof hex, h, sizeof h);
  const char *kn = dsr_id_kind_name(kind);
  for (int attempt = 0; attempt < 3; attempt++) {
    const char *fv[] = {kn, hex, scope};
    PGresult *r = dsr_db_exec(db, DSR_STMT_DKEY_FIND, 3, fv);
    if (!dsr_db_ok(r)) {
      PQclear(r);
      snprintf(err, errlen, "cannot read data keys");
      return false;
    }
    if (PQntuples(r) == 1) {
      dsr_strlcpy(id, PQgetvalue(r, 0, 0), 40);
      PQclear(r);
      return media_key_get(db, kr, id, key, err, errlen) == DSR_MEDIA_OK;
    }
    PQclear(r);
    char wrapped[2 * WRAP_BYTES + 1], ver[16], now[24];
    new_uuid(id);
    crypto_secretstream_xchacha20poly1305_keygen(key);
    if (!wrap(kr, kr->current, id, key, wrapped)) {
      snprintf(err, errlen, "cannot wrap a data key");
      return false;
    }
    snprintf(ver, sizeof ver, "%d", kr->current);
    snprintf(now, sizeof now, "%lld", (long long)dsr_now());
    const char *iv[] = {id, kn, hex, scope, wrapped, ver, now};
    r = dsr_db_exec(db, DSR_STMT_DKEY_INSERT, 7, iv);
    bool ok = dsr_db_ok(r), mine = ok && PQntuples(r) == 1;
    PQclear(r);
    if (!ok) {
      snprintf(err, errlen, "cannot store a data key");
      return false;
    }
    if (mine)
      return true;
    /* another writer created it first: use theirs */
  }
  snprintf(err, errlen, "cannot settle the subject's data key");
  return false;
}

enum dsr_tx_status dsr_data_keys_destroy(struct dsr_db *db, const char *hashes,
                                         const char *tenant, const char *other_tenants,
                                         const char *run_id, long long *n)
{
  char now[24];
  snprintf(now, sizeof now, "%lld", (long long)dsr_now());
  const char *v[] = {hashes, tenant, other_tenants ? other_tenants : "{}", now, run_id};
  PGresult *r = NULL;
  enum dsr_tx_status s = dsr_tx_exec(db, DSR_STMT_DKEY_DESTROY, 5, v, &r);
  if (s == DSR_TX_COMMIT)
    *n = atoll(PQgetvalue(r, 0, 0));
  PQclear(r);
  return s;
}

struct rewrap_ctx {
  const struct dsr_keyring *kr;
  int target;
  int moved;
  bool broken; /* a key that cannot be unwrapped */
};

static enum dsr_tx_status rewrap_body(struct dsr_db *db, void *arg)
{
  struct rewrap_ctx *c = arg;
  char target[16];
  snprintf(target, sizeof target, "%d", c->target);
  const char *v[] = {target};
  PGresult *r = NULL;
  enum dsr_tx_status s = dsr_tx_exec(db, DSR_STMT_DKEY_OLD_BATCH, 1, v, &r);
  if (s != DSR_TX_COMMIT)
    return s;
  struct dsr_buf ids = {0}, ws = {0};
  bool ok = dsr_buf_puts(&ids, "{") && dsr_buf_puts(&ws, "{");
  int n = PQntuples(r);
  for (int i = 0; ok && i < n; i++) {
    unsigned char key[32];
    char wrapped[2 * WRAP_BYTES + 1];
    const char *id = PQgetvalue(r, i, 0);
    if (!unwrap(c->kr, atoi(PQgetvalue(r, i, 2)), id, PQgetvalue(r, i, 1), key)) {
      c->broken = true;
      ok = false;
      break;
    }
    ok = wrap(c->kr, c->target, id, key, wrapped) &&
         dsr_buf_printf(&ids, "%s%s", i ? "," : "", id) &&
         dsr_buf_printf(&ws, "%s%s", i ? "," : "", wrapped);
    sodium_memzero(key, sizeof key);
  }
  PQclear(r);
  c->moved = n;
  if (ok && n > 0 && dsr_buf_puts(&ids, "}") && dsr_buf_puts(&ws, "}")) {
    const char *uv[] = {ids.data, ws.data, target};
    s = dsr_tx_exec(db, DSR_STMT_DKEY_REWRAP, 3, uv, &r);
    PQclear(r);
  } else if (!ok) {
    s = DSR_TX_ROLLBACK;
  }
  dsr_buf_free(&ids);
  dsr_buf_free(&ws);
  return s;
}

struct rotated_ctx {
  int version;
  long long n;
};

static enum dsr_tx_status rotated_body(struct dsr_db *db, void *arg)
{
  struct rotated_ctx *c = arg;
  return dsr_tx_event(db, NULL, "key.rotated", "system",
                      json_pack("{s:i, s:I}", "version", c->version, "rewrapped", (json_int_t)c->n));
}

bool dsr_keys_rotate(struct dsr_db *db, const char *key_file, int *version, long long *rewrapped,
                     char *err, size_t errlen)
{
  struct dsr_keyring kr = {0};
  bool ok = false;
  *rewrapped = 0;
  PGresult *r = dsr_db_exec(db, DSR_STMT_DKEY_VERSIONS, 0, NULL);
  if (!dsr_db_ok(r)) {
    PQclear(r);
    snprintf(err, errlen, "cannot read data keys");
    return false;
  }
  bool exists = access(key_file, F_OK) == 0;
  if (exists && !dsr_keyring_load(key_file, &kr, err, errlen)) {
    PQclear(r);
    return false;
  }
  bool unfinished = false; /* live keys under another version than the highest */
  for (int i = 0; i < PQntuples(r); i++)
    unfinished = unfinished || (atoi(PQgetvalue(r, i, 0)) != kr.current &&
                                atoll(PQgetvalue(r, i, 1)) > 0);
  PQclear(r);
  if (!exists || !unfinished) {
    dsr_keyring_wipe(&kr);
    if (!dsr_keyring_add_version(key_file, &kr, err, errlen))
      goto cleanup;
    DSR_INFO("keys.version_added", "version=%d", kr.current);
  }
  struct rewrap_ctx c = {.kr = &kr, .target = kr.current};
  do {
    if (!dsr_db_tx(db, "READ COMMITTED", rewrap_body, &c)) {
      snprintf(err, errlen, c.broken ? "a data key cannot be unwrapped by master_key_file (a "
                                       "version is missing?); nothing more was rewrapped"
                                     : "cannot rewrap data keys");
      goto cleanup;
    }
    *rewrapped += c.moved;
  } while (c.moved > 0);
  struct rotated_ctx rc = {kr.current, *rewrapped};
  if (!dsr_db_tx(db, "READ COMMITTED", rotated_body, &rc)) {
    snprintf(err, errlen, "cannot record the rotation");
    goto cleanup;
  }
  *version = kr.current;
  ok = true;
cleanup:
  dsr_keyring_wipe(&kr);
  return ok;
}

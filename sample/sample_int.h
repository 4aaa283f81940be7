/**
 * @file sample_int.h
 * @brief Internals shared by the sample generator's files: the population
 *        model (sample_model.c), the table writers (sample_tables.c) and the
 *        media store (sample_media.c).
 */
#ifndef DSR_SAMPLE_INT_H
#define DSR_SAMPLE_INT_H

#include <stdio.h>
#include "dsr/sample.h"

/** PRNG stream kinds: one stream per (kind, entity), so tables are independent. */
enum {
  K_PERSON = 1, K_PHONE, K_WS, K_WS_SETTINGS, K_USER, K_MEMBER, K_SLOT, K_CONTACT,
  K_CALL, K_MSG, K_CONSENT, K_DNCR, K_SUPP, K_CRM, K_INQUIRY, K_TICKET, K_ABUSE,
  K_SESSION, K_SECURITY, K_DEVICE, K_INVOICE, K_DESIGNATED, K_UUID
};

#define MAX_SLOTS 64  /**< workspaces a person can be a caller in */
#define MAX_AGENTS 8  /**< agents per workspace (besides the owner) */
#define DAY 86400

struct plan {
  long id;
  const char *code, *name;
  int retention_days;
  long price_cents;
};
extern const struct plan sample_plans[];
#define NPLANS 4

struct ws {
  char uuid[37];
  char name[80];
  char slug[64];
  int plan;                 /* index into sample_plans */
  const char *status;
  time_t created, closed;   /* closed 0: open */
  char country[3];
  char main_number[24];
  bool recording_enabled;
  int retention_days;
  bool webhook;
  long owner;               /* user index */
  int nagents;
  long agents[MAX_AGENTS];  /* user indices */
};

struct user {
  long index;               /* user index; id = index + 1 */
  long person;
  const char *status;
  time_t created, closed, last_login;
  bool closed_long_ago;
  bool has_phone;
};

struct person {
  long index;
  bool designated;
  int dj;                   /* designated index when designated */
  char first[32], last[32], name[80];
  char email[128];
  char phone[32];
  char country[3];
  bool minor;
  int by, bm, bd;           /* birth date */
  bool birth_known;
  int nslots;
  long slot_ws[MAX_SLOTS];  /* workspace indices */
  bool slot_contact[MAX_SLOTS];
  long ncalls;
  long user;                /* user index or -1 */
};

struct dsr_sample {
  struct dsr_sample_opts o;
  long N;                   /* generated people */
  long D;                   /* designated people (indices N..N+D-1) */
  long W;                   /* generated workspaces */
  long WT;                  /* plus one per designated account holder */
  long U;                   /* users drawn from the population */
  long UT;                  /* plus designated account holders */
  long *acc_person;         /* designated account holder a -> person index */
  long *person_acc;         /* designated j -> account ordinal or -1 */
  struct ws *ws;            /* WT entries */
  struct user *users;       /* UT entries */
  uint64_t phone_off;
  /* media */
  long media_files;
  long long media_bytes;
  bool *dir_made;           /* 2 * WT: recordings/ and voicemail/ dirs made */
  FILE **idx;               /* backup set index files */
  long *set_files;
  char (*set_names)[32];
  unsigned char *wav;       /* scratch buffer */
};

/** strlcpy: copies at most size-1 bytes and terminates; false if truncated.
 *  (libdsrsample does not link libdsr, so it carries its own.) */
static inline bool sample_strlcpy(char *dst, const char *src, size_t size)
{
  size_t n = 0;
  while (src[n] && n + 1 < size) {
    dst[n] = src[n];
    n++;
  }
  if (size)
    dst[n] = '\0';
  return src[n] == '\0';
}

/* sample_model.c */
void sample_person(const struct dsr_sample *g, long p, struct person *out);
bool sample_is_user_person(const struct dsr_sample *g, long p, long *user);
/** "YYYY-MM-DD HH:MM:SS+00" (23 bytes with NUL). */
void sample_ts(time_t t, char out[static 24]);
void sample_date(int y, int m, int d, char out[static 11]);
void sample_civil(time_t t, int *y, int *m, int *d);
void sample_uuid(struct dsr_sample_rng *r, char out[static 37]);
const char *sample_pick(struct dsr_sample_rng *r, const char *const *list, size_t n);
#define PICK(r, list) sample_pick((r), (list), DSR_ARRAY_LEN(list))
void sample_ip(struct dsr_sample_rng *r, char out[static 20]);
/** Builds the workspaces and users (owned by @p g, freed by dsr_sample_free()). */
DSR_MUST_USE bool sample_build(struct dsr_sample *g, char *err, size_t errlen);

/* sample_media.c */
DSR_MUST_USE bool sample_media_open(struct dsr_sample *g, char *err, size_t errlen);
/**
 * Writes one WAV file KIND/WORKSPACE-UUID/UUID.wav and its backup-set copies;
 * with @p key_id non-NULL and a seal callback, sealed for @p phone (key_id
 * receives the data key id, "" when plain). *written: the file's size.
 */
DSR_MUST_USE bool sample_media_write(struct dsr_sample *g, const char *kind, long ws, const char *uuid,
                                     time_t created, uint32_t samples, uint32_t freq,
                                     const char *phone, char *key_id, size_t *written, char *err,
                                     size_t errlen);
void sample_media_close(struct dsr_sample *g);
DSR_MUST_USE bool sample_mkdirs(const char *path, char *err, size_t errlen);

#endif

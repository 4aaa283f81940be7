/**
 * @file executor_mask.c
 * @brief New values of masked and redacted pages, computed in dsrd: masks
 *        (NULL, fixed, a keyed HMAC-SHA256 pseudonym under a subkey of the
 *        master key, random) and redaction of the subject's own identifiers
 *        in free text with the policy's pcre2 patterns.
 */
#include "config.h"
#include "executor_int.h"
#include "dsr/crypto.h"
#include "dsr/erasure.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <ctype.h>
#include <pcre2.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

bool dsr_exec_subject_init(struct dsr_exec_subject *s, const struct dsr_subject *subj)
{
  memset(s, 0, sizeof *s);
  if (subj->phone) {
    s->phone_digits = dsr_identity_normalize(DSR_NORM_DIGITS, subj->phone);
    if (!s->phone_digits)
      return false;
  }
  if (subj->email) {
    s->email_lower = dsr_identity_normalize(DSR_NORM_LOWER, subj->email);
    if (!s->email_lower) {
      dsr_exec_subject_free(s);
      return false;
    }
  }
  return true;
}

void dsr_exec_subject_free(struct dsr_exec_subject *s)
{
  free(s->phone_digits);
  free(s->email_lower);
  memset(s, 0, sizeof *s);
}

static bool is_sep(char c)
{
  return c == ' ' || c == '-' || c == '.' || c == '(' || c == ')';
}

/*
 * Length of the subject's number written at @p t[i..end): an optional "+",
 * then its digits in order with separators between them; 0 when it is not
 * there or runs on into more digits.
 */
static size_t phone_at(const char *t, size_t i, size_t end, size_t len, const char *digits)
{
  size_t j = i;
  if (j < end && t[j] == '+')
    j++;
  if (i > 0 && isdigit((unsigned char)t[i - 1]))
    return 0;
  for (const char *d = digits; *d; d++) {
    while (d != digits && j < end && is_sep(t[j]))
      j++;
    if (j >= end || t[j] != *d)
      return 0;
    j++;
  }
  if (j < len && isdigit((unsigned char)t[j]))
    return 0;
  return j - i;
}

/* Whether @p cand is the identity of @p kind whose keyed hash is @p want. */
static bool hash_is(enum dsr_id_kind kind, const char *cand, const unsigned char *want)
{
  unsigned char h[DSR_HASH_BYTES];
  return dsr_identity_hash(kind, cand, h) && sodium_memcmp(h, want, sizeof h) == 0;
}

/*
 * phone_at() for a subject known by hash only: the longest number written at
 * @p t[i..end) (an optional "+", digits, separators between them) whose
 * E.164 form has hash @p want; 0 when there is none.
 */
static size_t phone_hashed_at(const char *t, size_t i, size_t end, size_t len,
                              const unsigned char *want)
{
  char num[24] = "+";
  size_t nd = 0, j = i, found = 0;
  if (i > 0 && isdigit((unsigned char)t[i - 1]))
    return 0;
  if (j < end && t[j] == '+')
    j++;
  while (j < end && nd < 16) {
    size_t k = j;
    while (nd > 0 && k < end && is_sep(t[k]))
      k++;
    if (k >= end || !isdigit((unsigned char)t[k]))
      break;
    num[1 + nd++] = t[k];
    num[1 + nd] = '\0';
    j = k + 1;
    if (nd >= 4 && (j >= len || !isdigit((unsigned char)t[j])) &&
        hash_is(DSR_ID_PHONE, num, want))
      found = j - i;
  }
  return found;
}

/* Appends @p t[from..to) and returns success. */
static bool put(struct dsr_buf *b, const char *t, size_t from, size_t to)
{
  return to <= from || dsr_buf_append(b, t + from, to - from);
}

char *dsr_redact_text(const struct dsr_ppattern *pat, const struct dsr_exec_subject *subj,
                      const char *text, bool *changed)
{
  struct dsr_buf out = {0};
  pcre2_match_data *md = NULL;
  size_t len = strlen(text), last = 0, off = 0;
  const char *want = pat->kind == DSR_ID_PHONE ? subj->phone_digits
                     : pat->kind == DSR_ID_EMAIL ? subj->email_lower
                                                 : NULL;
  /* known by keyed hash only (a replay of the erasure ledger) */
  const unsigned char *hwant = want                        ? NULL
                               : pat->kind == DSR_ID_PHONE ? (subj->has_phone_hash ? subj->phone_hash : NULL)
                               : pat->kind == DSR_ID_EMAIL ? (subj->has_email_hash ? subj->email_hash : NULL)
                                                           : NULL;
  bool ok = dsr_buf_puts(&out, "");
  *changed = false;
  if (!ok || (!want && !hwant) || !pat->code)
    goto done; /* nothing of the subject's can match: copy */
  md = pcre2_match_data_create_from_pattern(pat->code, NULL);
  if (!md) {
    ok = false;
    goto done;
  }
  while (ok && off <= len &&
         pcre2_match(pat->code, (PCRE2_SPTR)text, len, off, 0, md, NULL) >= 0) {
    PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
    size_t s = ov[0], e = ov[1];
    if (pat->kind == DSR_ID_EMAIL) {
      bool is = false;
      if (want) {
        is = e - s == strlen(want) && !strncasecmp(text + s, want, e - s);
      } else if (e - s < 320) {
        char cand[320];
        memcpy(cand, text + s, e - s);
        cand[e - s] = '\0';
        is = hash_is(DSR_ID_EMAIL, cand, hwant);
      }
      if (is) {
        ok = put(&out, text, last, s) && dsr_buf_puts(&out, pat->replacement);
        last = e;
        *changed = true;
      }
    } else {
      /* the candidate may hold more than one number: find the subject's inside it */
      for (size_t i = s; ok && i < e;) {
        size_t n = !(text[i] == '+' || isdigit((unsigned char)text[i])) ? 0
                   : want ? phone_at(text, i, e, len, want)
                          : phone_hashed_at(text, i, e, len, hwant);
        if (n == 0) {
          i++;
          continue;
        }
        ok = put(&out, text, last, i) && dsr_buf_puts(&out, pat->replacement);
        last = i + n;
        i += n;
        *changed = true;
      }
    }
    off = e > s ? e : e + 1;
  }
done:
  ok = ok && put(&out, text, last, len);
  pcre2_match_data_free(md);
  if (!ok) {
    dsr_buf_free(&out);
    return NULL;
  }
  return dsr_buf_steal(&out);
}

size_t excols(const struct dsr_exec_step *st, const char **cols, size_t max)
{
  const struct dsr_pcollection *c = st->coll;
  size_t n = 0;
  if (st->verb == DSR_STEP_MASK)
    for (size_t i = 0; i < c->nmasks && n < max; i++)
      cols[n++] = c->masks[i].field;
  else if (st->verb == DSR_STEP_REDACT)
    for (size_t i = 0; i < c->nredact_columns && n < max; i++)
      cols[n++] = c->redact_columns[i];
  return n;
}

/* The masked value of @p v under @p m; *out NULL for SQL NULL. False on allocation failure. */
static bool mask_value(const struct dsr_pmask *m, const char *v, char **out)
{
  *out = NULL;
  switch (m->strategy) {
  case DSR_MASK_NULL: return true;
  case DSR_MASK_FIXED: return (*out = strdup(m->value)) != NULL;
  case DSR_MASK_HMAC: {
    if (!v)
      return true;
    unsigned char h[DSR_HASH_BYTES];
    dsr_keyed_hmac(DSR_KEY_PSEUDONYM, v, strlen(v), h);
    char *hex = malloc(2 * DSR_HASH_BYTES + 1);
    if (!hex)
      return false;
    sodium_bin2hex(hex, 2 * DSR_HASH_BYTES + 1, h, sizeof h);
    *out = hex;
    return true;
  }
  case DSR_MASK_RANDOM: {
    size_t n = m->length > 0 ? (size_t)m->length : 16;
    size_t nb = n / 2 + 1;
    unsigned char *raw = malloc(nb);
    char *hex = malloc(2 * nb + 1);
    if (!raw || !hex) {
      free(raw);
      free(hex);
      return false;
    }
    randombytes_buf(raw, nb);
    sodium_bin2hex(hex, 2 * nb + 1, raw, nb);
    hex[n] = '\0';
    free(raw);
    *out = hex;
    return true;
  }
  }
  return false;
}

static const struct dsr_pmask *mask_of(const struct dsr_pcollection *c, const char *field)
{
  for (size_t i = 0; i < c->nmasks; i++)
    if (!strcmp(c->masks[i].field, field))
      return &c->masks[i];
  return NULL;
}

bool extransform(const struct dsr_exec *ex, const struct dsr_exec_step *st, struct expage *pg,
                 bool *changed)
{
  const struct dsr_pcollection *c = st->coll;
  const char *cols[64];
  size_t n = excols(st, cols, DSR_ARRAY_LEN(cols));
  for (int r = 0; r < pg->nrows; r++) {
    changed[r] = st->verb == DSR_STEP_MASK; /* a masked row always counts */
    for (size_t k = 0; k < n; k++) {
      char **cell = &pg->vals[(size_t)r * pg->ncols + 1 + k];
      char *nv = NULL;
      if (st->verb == DSR_STEP_MASK) {
        if (!mask_value(mask_of(c, cols[k]), *cell, &nv))
          return false;
      } else {
        if (!*cell || !ex->subject)
          continue;
        nv = strdup(*cell);
        for (size_t p = 0; nv && p < c->nredact_patterns; p++) {
          bool ch = false;
          char *next = dsr_redact_text(c->redact_patterns[p], ex->subject, nv, &ch);
          free(nv);
          nv = next;
          changed[r] = changed[r] || ch;
        }
        if (!nv)
          return false;
      }
      if (*cell)
        sodium_memzero(*cell, strlen(*cell)); /* personal data leaves memory */
      free(*cell);
      *cell = nv;
    }
  }
  return true;
}

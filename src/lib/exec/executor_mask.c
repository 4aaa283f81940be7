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
#include "dsr/phone.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <ctype.h>
#include <jansson.h>
#include <pcre2.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

bool dsr_exec_subject_init(struct dsr_exec_subject *s, const struct dsr_subject *subj)
{
  return dsr_exec_subject_init_in(s, subj, NULL);
}

bool dsr_exec_subject_init_in(struct dsr_exec_subject *s, const struct dsr_subject *subj,
                              const char *region)
{
  memset(s, 0, sizeof *s);
  if (region && dsr_phone_region_valid(region))
    memcpy(s->phone_region, region, 3);
  if (subj->phone) {
    s->phone_digits = dsr_identity_normalize(DSR_NORM_DIGITS, subj->phone);
    if (!s->phone_digits)
      return false;
    struct dsr_phone_forms f;
    const char *why;
    if (dsr_phone_parse(subj->phone, region, &f, &why)) {
      free(s->phone_digits); /* a number given the local way: its E.164 digits */
      s->phone_digits = strdup(f.e164 + 1);
      s->phone_seqs = f.digits; /* taken over */
      s->nphone_seqs = f.ndigits;
      f.digits = NULL;
      f.ndigits = 0;
      dsr_phone_forms_free(&f);
      if (!s->phone_digits) {
        dsr_exec_subject_free(s);
        return false;
      }
    } else {
      /* not a number libphonenumber knows: its digits, as written */
      s->phone_seqs = calloc(1, sizeof *s->phone_seqs);
      if (!s->phone_seqs) {
        dsr_exec_subject_free(s);
        return false;
      }
      snprintf(s->phone_seqs[0].digits, sizeof s->phone_seqs[0].digits, "%s", s->phone_digits);
      s->nphone_seqs = 1;
    }
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
  free(s->phone_seqs);
  memset(s, 0, sizeof *s);
}

static bool is_sep(char c)
{
  return c == ' ' || c == '-' || c == '.' || c == '(' || c == ')';
}

/*
 * Whether a number may start at @p t[i]: not right after a digit; a
 * national one (@p national) also not after a "+" or a digit behind
 * separators ("+44 699 507 918" holds no Spanish "699 507 918").
 */
static bool starts_here(const char *t, size_t i, bool national)
{
  if (i > 0 && isdigit((unsigned char)t[i - 1]))
    return false;
  if (national) {
    size_t k = i;
    while (k > 0 && is_sep(t[k - 1]))
      k--;
    if (k > 0 && (isdigit((unsigned char)t[k - 1]) || t[k - 1] == '+'))
      return false;
  }
  return true;
}

/*
 * Length of digit sequence @p d written at @p t[i..end): an optional "+"
 * (not before a national sequence), then its digits in order with
 * separators between them; 0 when it is not there or runs on into more digits.
 */
static size_t seq_at(const char *t, size_t i, size_t end, size_t len, const struct dsr_phone_digits *d)
{
  size_t j = i;
  if (j < end && t[j] == '+') {
    if (d->national)
      return 0;
    j++;
  }
  if (!starts_here(t, i, d->national))
    return 0;
  for (const char *c = d->digits; *c; c++) {
    while (c != d->digits && j < end && is_sep(t[j]))
      j++;
    if (j >= end || t[j] != *c)
      return 0;
    j++;
  }
  if (j < len && isdigit((unsigned char)t[j]))
    return 0;
  return j - i;
}

/* The longest of the subject's written forms at @p t[i..end); 0 when none is there. */
static size_t phone_at(const char *t, size_t i, size_t end, size_t len,
                       const struct dsr_exec_subject *subj)
{
  size_t best = 0;
  for (size_t k = 0; k < subj->nphone_seqs; k++) {
    size_t n = seq_at(t, i, end, len, &subj->phone_seqs[k]);
    if (n > best)
      best = n;
  }
  return best;
}

/* Whether @p cand is the identity of @p kind whose keyed hash is @p want. */
static bool hash_is(enum dsr_id_kind kind, const char *cand, const unsigned char *want)
{
  unsigned char h[DSR_HASH_BYTES];
  return dsr_identity_hash(kind, cand, h) && sodium_memcmp(h, want, sizeof h) == 0;
}

/* Whether the digits @p num (after "+" at num[0]) written with or without a
 * "+" (@p plus) are the number whose E.164 hash is @p want: as E.164, or read
 * with the default region @p region ("0034...", or national "699..." where a
 * national number may start, @p national_ok). */
static bool phone_hash_is(const char *num, bool plus, const char *region, bool national_ok,
                          const unsigned char *want)
{
  bool intl = !strncmp(num + 1, "00", 2);
  if ((plus || !intl) && hash_is(DSR_ID_PHONE, num, want))
    return true;
  if (plus || (!intl && (!*region || !national_ok)))
    return false;
  char *e164 = dsr_phone_e164(num + 1, *region ? region : NULL);
  bool is = e164 && hash_is(DSR_ID_PHONE, e164, want);
  free(e164);
  return is;
}

/*
 * phone_at() for a subject known by hash only: the longest number written at
 * @p t[i..end) (an optional "+", digits, separators between them) whose
 * E.164 form, or its reading in the default region, has hash @p want; 0 when
 * there is none.
 */
static size_t phone_hashed_at(const char *t, size_t i, size_t end, size_t len,
                              const unsigned char *want, const char *region)
{
  char num[24] = "+";
  size_t nd = 0, j = i, found = 0;
  if (i > 0 && isdigit((unsigned char)t[i - 1]))
    return 0;
  bool plus = j < end && t[j] == '+', national_ok = starts_here(t, i, true);
  if (plus)
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
        phone_hash_is(num, plus, region, national_ok, want))
      found = j - i;
  }
  return found;
}

/*
 * Widens the match @p t[*a..*b) so that no bracket is left dangling: a ")"
 * in it without its "(" takes the "(" just before it ("(+34) 699 ..."), a
 * "(" without its ")" the ")" just after; never before @p floor (text
 * already copied).
 */
static void balance(const char *t, size_t floor, size_t len, size_t *a, size_t *b)
{
  int open = 0, unopened = 0;
  for (size_t k = *a; k < *b; k++) {
    if (t[k] == '(')
      open++;
    else if (t[k] == ')' && open > 0)
      open--;
    else if (t[k] == ')')
      unopened++;
  }
  for (; unopened > 0; unopened--) {
    size_t m = *a;
    while (m > floor && t[m - 1] == ' ')
      m--;
    if (m <= floor || t[m - 1] != '(')
      break;
    *a = m - 1;
  }
  for (; open > 0; open--) {
    size_t m = *b;
    while (m < len && t[m] == ' ')
      m++;
    if (m >= len || t[m] != ')')
      break;
    *b = m + 1;
  }
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
  const char *want = pat->kind == DSR_ID_PHONE ? (subj->nphone_seqs ? subj->phone_digits : NULL)
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
                   : want ? phone_at(text, i, e, len, subj)
                          : phone_hashed_at(text, i, e, len, hwant, subj->phone_region);
        if (n == 0) {
          i++;
          continue;
        }
        size_t a = i, b = i + n;
        balance(text, last, len, &a, &b);
        ok = put(&out, text, last, a) && dsr_buf_puts(&out, pat->replacement);
        last = b;
        i = b;
        *changed = true;
      }
    }
    off = e > s ? e : e + 1;
    if (off < last)
      off = last; /* a bracket taken after the candidate */
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
  else if (st->verb == DSR_STEP_REDACT) {
    for (size_t i = 0; i < c->nredact_columns && n < max; i++)
      cols[n++] = c->redact_columns[i];
    for (size_t i = 0; i < c->nothers && n < max; i++)
      if (c->others[i].match)
        cols[n++] = c->others[i].id.column;
  }
  return n;
}

/* The other-party column @p col of @p c (one that "match"es), or NULL. */
static const struct dsr_pother *other_of(const struct dsr_pcollection *c, const char *col)
{
  for (size_t i = 0; i < c->nothers; i++)
    if (c->others[i].match && !strcmp(c->others[i].id.column, col))
      return &c->others[i];
  return NULL;
}

/* Whether the whole of @p v (spaces aside) is the subject's identity of @p kind. */
static bool is_subject(const struct dsr_exec_subject *subj, enum dsr_id_kind kind, const char *v)
{
  while (*v == ' ')
    v++;
  size_t len = strlen(v);
  while (len > 0 && v[len - 1] == ' ')
    len--;
  if (len == 0 || len >= 320)
    return false;
  char cand[320];
  memcpy(cand, v, len);
  cand[len] = '\0';
  if (kind == DSR_ID_EMAIL) {
    for (char *ch = cand; *ch; ch++)
      *ch = (char)tolower((unsigned char)*ch);
    return subj->email_lower ? !strcmp(cand, subj->email_lower)
                             : subj->has_email_hash && hash_is(DSR_ID_EMAIL, cand, subj->email_hash);
  }
  if (kind == DSR_ID_PHONE)
    return subj->nphone_seqs ? phone_at(cand, 0, len, len, subj) == len
           : subj->has_phone_hash
               ? phone_hashed_at(cand, 0, len, len, subj->phone_hash, subj->phone_region) == len
               : false;
  return false;
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

/*
 * A one-dimensional PostgreSQL array literal ({a,"b c",NULL}) without the
 * elements that are the subject's identity of @p kind, into *out (owned);
 * *removed counts them. False when it is not such a literal, or out of memory.
 */
static bool array_without(const struct dsr_exec_subject *subj, enum dsr_id_kind kind,
                          const char *lit, char **out, int *removed)
{
  struct dsr_buf b = {0}, el = {0};
  bool ok = dsr_buf_puts(&b, "{") && dsr_buf_puts(&el, "");
  const char *p = lit;
  int kept = 0;
  *removed = 0;
  if (!ok || *p++ != '{')
    goto fail;
  while (ok && *p && *p != '}') {
    bool quoted = *p == '"', null = false;
    dsr_buf_reset(&el);
    if (quoted) {
      for (p++; *p && *p != '"'; p++) {
        if (*p == '\\' && p[1])
          p++;
        ok = ok && dsr_buf_append(&el, p, 1);
      }
      if (*p++ != '"')
        goto fail;
    } else {
      size_t n = strcspn(p, ",}");
      ok = dsr_buf_append(&el, p, n) && dsr_buf_puts(&el, "");
      null = n == 4 && !strncasecmp(p, "NULL", 4);
      p += n;
    }
    if (!null && is_subject(subj, kind, el.data)) {
      (*removed)++;
    } else {
      ok = ok && dsr_buf_puts(&b, kept++ ? "," : "");
      if (null) {
        ok = ok && dsr_buf_puts(&b, "NULL");
      } else {
        ok = ok && dsr_buf_puts(&b, "\"");
        for (const char *ch = el.data; ok && *ch; ch++)
          ok = (*ch == '"' || *ch == '\\') ? dsr_buf_printf(&b, "\\%c", *ch)
                                           : dsr_buf_append(&b, ch, 1);
        ok = ok && dsr_buf_puts(&b, "\"");
      }
    }
    if (*p == ',')
      p++;
  }
  if (!ok || *p != '}' || !dsr_buf_puts(&b, "}"))
    goto fail;
  if (el.data)
    sodium_memzero(el.data, el.len);
  dsr_buf_free(&el);
  *out = dsr_buf_steal(&b);
  return *out != NULL;
fail:
  if (el.data)
    sodium_memzero(el.data, el.len);
  dsr_buf_free(&el);
  dsr_buf_free(&b);
  return false;
}

/*
 * Masks, under @p m, every string at policy path @p path ("a[*].b") of
 * @p node that is the subject's identity of @p kind; counts them in *n.
 * False on allocation failure.
 */
static bool json_mask_at(json_t *node, const char *path, const struct dsr_exec_subject *subj,
                         enum dsr_id_kind kind, const struct dsr_pmask *m, int *n)
{
  if (!node)
    return true;
  size_t len = strcspn(path, ".[");
  if (len > 0) { /* a name: into the object's member */
    char key[128];
    if (len >= sizeof key || !json_is_object(node))
      return true;
    memcpy(key, path, len);
    key[len] = '\0';
    const char *rest = path + len;
    json_t *child = json_object_get(node, key);
    if (!*rest || (*rest == '.' && !rest[1])) { /* the leaf */
      const char *v = json_string_value(child);
      if (!v || !is_subject(subj, kind, v))
        return true;
      char *nv = NULL;
      if (!mask_value(m, v, &nv))
        return false;
      json_t *rep = nv ? json_string(nv) : json_null();
      free(nv);
      (*n)++;
      return rep && json_object_set_new(node, key, rep) == 0;
    }
    return json_mask_at(child, *rest == '.' ? rest + 1 : rest, subj, kind, m, n);
  }
  if (strncmp(path, "[*]", 3) != 0 || !json_is_array(node))
    return true;
  const char *rest = path + 3;
  size_t i;
  json_t *el;
  json_array_foreach(node, i, el) {
    if (!*rest) { /* every element is a leaf */
      const char *v = json_string_value(el);
      if (!v || !is_subject(subj, kind, v))
        continue;
      char *nv = NULL;
      if (!mask_value(m, v, &nv))
        return false;
      json_t *rep = nv ? json_string(nv) : json_null();
      free(nv);
      (*n)++;
      if (!rep || json_array_set_new(node, i, rep) != 0)
        return false;
    } else if (!json_mask_at(el, *rest == '.' ? rest + 1 : rest, subj, kind, m, n)) {
      return false;
    }
  }
  return true;
}

/* The document @p doc with the subject's values at @p o's path masked, into *out; *n counts them. */
static bool json_without(const struct dsr_exec_subject *subj, const struct dsr_pother *o,
                         const char *doc, char **out, int *n)
{
  *out = NULL;
  *n = 0;
  json_t *root = json_loads(doc, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
  if (!root)
    return true; /* not a document: nothing of the subject's is found in it */
  bool ok = json_mask_at(root, o->id.path, subj, o->id.kind, &o->mask, n);
  if (ok && *n > 0)
    ok = (*out = json_dumps(root, JSON_COMPACT | JSON_ENCODE_ANY)) != NULL;
  json_decref(root);
  return ok;
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
      } else if (other_of(c, cols[k])) { /* another party's column: masked where it is the subject */
        const struct dsr_pother *o = other_of(c, cols[k]);
        if (!*cell || !ex->subject)
          continue;
        if (o->id.jsonpath) {
          /* a document: the subject's values at the path masked in place */
          int masked = 0;
          if (!json_without(ex->subject, o, *cell, &nv, &masked))
            return false;
          if (masked == 0)
            continue;
        } else if (dsr_type_is_array(dsr_pcollection_column_type(c, cols[k]))) {
          /* an array: the subject's elements leave it, the others stay in order */
          int removed = 0;
          if (!array_without(ex->subject, o->id.kind, *cell, &nv, &removed))
            return false;
          if (removed == 0) {
            free(nv);
            continue;
          }
        } else if (!is_subject(ex->subject, o->id.kind, *cell)) {
          continue;
        } else if (!mask_value(&o->mask, *cell, &nv)) {
          return false;
        }
        changed[r] = true;
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

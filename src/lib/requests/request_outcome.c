/** @file request_outcome.c @brief The subject's status view: its fields, routing's part of them,
 *  and the two ways it is written (a json_t, or JSON text for the status reads). */
#include "config.h"
#include "dsr/crypto.h"
#include "dsr/requests.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

bool dsr_status_view_add(struct dsr_status_view *v, const char *key, const char *val, size_t len)
{
  if (v->n == DSR_STATUS_VIEW_FIELDS || (val && !dsr_utf8_valid(val, len)))
    return false;
  v->f[v->n++] = (struct dsr_status_field){.key = key, .val = val, .len = len};
  return true;
}

/* Adds column @p col of row @p row of @p r under @p key, unless it is NULL. */
static void add_column(struct dsr_status_view *v, const char *key, const PGresult *r, int row,
                       int col)
{
  if (!PQgetisnull(r, row, col))
    dsr_status_view_add(v, key, PQgetvalue(r, row, col), (size_t)PQgetlength(r, row, col));
}

void dsr_request_status_extra(const PGresult *r, int row, int col, struct dsr_status_view *v)
{
  add_column(v, "outcome", r, row, col);
  add_column(v, "message", r, row, col + 1);
  if (PQgetisnull(r, row, col + 2) ||
      !dsr_utf8_valid(PQgetvalue(r, row, col + 2), (size_t)PQgetlength(r, row, col + 2)) ||
      v->n + 4 > DSR_STATUS_VIEW_FIELDS)
    return;
  dsr_status_view_add(v, "extension", NULL, 0);
  add_column(v, "extended_at", r, row, col + 2);
  size_t n = 0, pl = 0;
  unsigned char *raw = PQunescapeBytea((const unsigned char *)PQgetvalue(r, row, col + 3), &n);
  unsigned char *plain = NULL;
  /* The reason is meant for the subject: the bearer of the status token. */
  if (raw && !v->owned && dsr_unseal(raw, n, &plain, &pl)) {
    if (dsr_status_view_add(v, "reason", (const char *)plain, pl)) {
      v->owned = plain;
      v->owned_len = pl;
      plain = NULL;
    }
  }
  if (plain)
    sodium_memzero(plain, pl);
  free(plain);
  PQfreemem(raw);
  dsr_status_view_add(v, NULL, NULL, 0);
}

json_t *dsr_status_view_json(const struct dsr_status_view *v)
{
  json_t *root = json_object(), *at[DSR_STATUS_VIEW_FIELDS + 1] = {root};
  size_t depth = 0;
  bool ok = root != NULL;
  for (size_t i = 0; ok && i < v->n; i++) {
    const struct dsr_status_field *f = &v->f[i];
    if (!f->key) {
      ok = depth > 0;
      depth -= ok;
      continue;
    }
    json_t *val = f->val ? json_stringn(f->val, f->len) : json_object();
    ok = json_object_set_new(at[depth], f->key, val) == 0;
    if (ok && !f->val)
      at[++depth] = val;
  }
  if (!ok) {
    json_decref(root);
    return NULL;
  }
  return root;
}

char *dsr_status_view_text(const struct dsr_status_view *v)
{
  struct dsr_buf b = {0};
  bool ok = dsr_buf_reserve(&b, 512) && dsr_buf_append(&b, "{", 1);
  bool first = true; /* no comma before the next field */
  for (size_t i = 0; ok && i < v->n; i++) {
    const struct dsr_status_field *f = &v->f[i];
    if (!f->key) {
      ok = dsr_buf_append(&b, "}", 1);
      first = false;
      continue;
    }
    ok = (first || dsr_buf_append(&b, ",", 1)) &&
         dsr_buf_json_string(&b, f->key, strlen(f->key)) && dsr_buf_append(&b, ":", 1) &&
         (f->val ? dsr_buf_json_string(&b, f->val, f->len) : dsr_buf_append(&b, "{", 1));
    first = !f->val;
  }
  if (!ok || !dsr_buf_append(&b, "}", 1)) {
    dsr_buf_free(&b);
    return NULL;
  }
  return dsr_buf_steal(&b);
}

void dsr_status_view_clear(struct dsr_status_view *v)
{
  if (v->owned)
    sodium_memzero(v->owned, v->owned_len);
  free(v->owned);
  *v = (struct dsr_status_view){0};
}

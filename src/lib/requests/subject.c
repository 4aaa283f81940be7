/** @file subject.c @brief Loading a request's identities (see subject.h). */
#include "config.h"
#include "dsr/crypto.h"
#include "dsr/subject.h"
#include "dsr/util.h"

#include <sodium.h>
#include <string.h>

void dsr_id_kinds_literal(unsigned k, char *out, size_t outlen)
{
  struct dsr_buf b = {0};
  bool ok = dsr_buf_puts(&b, "{");
  bool first = true;
  for (int i = 0; i < DSR_ID_KIND_COUNT; i++)
    if (k & DSR_IDBIT(i)) {
      ok = ok && dsr_buf_printf(&b, "%s%s", first ? "" : ",", dsr_id_kind_name(i));
      first = false;
    }
  ok = ok && dsr_buf_puts(&b, "}");
  dsr_strlcpy(out, ok ? b.data : "{}", outlen);
  dsr_buf_free(&b);
}

void dsr_subject_free(struct dsr_subject_values *s)
{
  for (size_t i = 0; i < DSR_ARRAY_LEN(s->value); i++) {
    if (s->value[i]) {
      sodium_memzero(s->value[i], strlen(s->value[i]));
      free(s->value[i]);
    }
    s->value[i] = NULL;
  }
  s->unverified = 0;
}

bool dsr_subject_load(struct dsr_db *db, const char *request_id, struct dsr_subject_values *s)
{
  memset(s, 0, sizeof *s);
  const char *v[] = {request_id};
  PGresult *r = dsr_db_exec(db, DSR_STMT_IDENTITIES_GET, 1, v);
  bool ok = dsr_db_ok(r);
  for (int row = 0; ok && row < PQntuples(r); row++) {
    for (int i = 0; i < DSR_ID_KIND_COUNT; i++) {
      if (strcmp(PQgetvalue(r, row, 0), dsr_id_kind_name(i)) != 0 || s->value[i])
        continue;
      if (PQgetvalue(r, row, 2)[0] != 't') {
        s->unverified |= DSR_IDBIT(i);
        continue;
      }
      size_t n = 0, pl = 0;
      unsigned char *raw = PQunescapeBytea((const unsigned char *)PQgetvalue(r, row, 1), &n);
      unsigned char *plain = NULL;
      if (!raw || !dsr_unseal(raw, n, &plain, &pl))
        ok = false;
      s->value[i] = (char *)plain;
      PQfreemem(raw);
    }
  }
  PQclear(r);
  if (!ok)
    dsr_subject_free(s);
  return ok;
}

struct dsr_subject dsr_subject_of(const struct dsr_subject_values *v)
{
  return (struct dsr_subject){v->value[DSR_ID_EMAIL], v->value[DSR_ID_PHONE],
                              v->value[DSR_ID_ACCOUNT]};
}

/**
 * @file ctl_hold.c
 * @brief dsrctl hold add|release|list: legal holds that keep what they cover
 *        out of erasures (dsr_holds). A hold names a request or a subject's
 *        identity (stored as a keyed hash only) and optionally collections.
 */
#include "config.h"
#include "ctl.h"
#include "dsr/erasure.h"
#include "dsr/validate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* "a,b" -> "{"a","b"}" (caller frees), or NULL when @p list is NULL. */
static char *collections_literal(const char *list, bool *oom)
{
  *oom = false;
  if (!list)
    return NULL;
  struct dsr_buf b = {0};
  bool ok = dsr_buf_puts(&b, "{\"");
  for (const char *c = list; ok && *c; c++)
    ok = *c == ',' ? dsr_buf_puts(&b, "\",\"")
         : (*c == '"' || *c == '\\') ? dsr_buf_printf(&b, "\\%c", *c)
                                     : dsr_buf_append(&b, c, 1);
  ok = ok && dsr_buf_puts(&b, "\"}");
  if (!ok) {
    *oom = true;
    dsr_buf_free(&b);
    return NULL;
  }
  return dsr_buf_steal(&b);
}

static int add(struct ctl_session *s, int argc, char **argv)
{
  const char *req = ctl_opt(argc, argv, "--request"), *basis = ctl_opt(argc, argv, "--basis");
  const char *cols = ctl_opt(argc, argv, "--collections");
  static const char *const opts[] = {"--email", "--phone", "--account-id"};
  const char *kind = NULL, *value = NULL;
  enum dsr_id_kind k = DSR_ID_EMAIL;
  for (int i = 0; i < DSR_ID_KIND_COUNT; i++)
    if (ctl_opt(argc, argv, opts[i])) {
      kind = dsr_id_kind_name((enum dsr_id_kind)i);
      value = ctl_opt(argc, argv, opts[i]);
      k = (enum dsr_id_kind)i;
    }
  const char *why;
  if (!basis || (!req && !value) || (req && !dsr_valid_uuid(req, &why))) {
    ctl_error("hold add: need --basis TEXT and --request ID or one of --email, --phone, "
              "--account-id [--collections a,b]");
    return 2;
  }
  unsigned char h[DSR_HASH_BYTES];
  if (value && !dsr_identity_hash(k, value, h)) {
    ctl_error("hold add: the identity is empty");
    return 2;
  }
  bool oom;
  char *lit = collections_literal(cols, &oom);
  char now[24];
  snprintf(now, sizeof now, "%lld", (long long)dsr_now());
  const char *v[] = {req, kind, value ? (const char *)h : NULL, lit, basis, now};
  const int lens[] = {0, 0, value ? DSR_HASH_BYTES : 0, 0, 0, 0};
  const int fmts[] = {0, 0, value ? 1 : 0, 0, 0, 0};
  PGresult *r = oom ? NULL : dsr_db_exec_bin(s->db, DSR_STMT_HOLD_ADD, 6, v, lens, fmts);
  free(lit);
  int rc = 1;
  if (dsr_db_ok(r) && PQntuples(r) == 1) {
    printf("hold: %s\n", PQgetvalue(r, 0, 0));
    rc = 0;
  } else {
    ctl_error("hold add: %s", r ? PQresultErrorMessage(r) : "out of memory");
  }
  PQclear(r);
  return rc;
}

static int release(struct ctl_session *s, int argc, char **argv)
{
  const char *why;
  if (argc < 3 || !dsr_valid_uuid(argv[2], &why)) {
    ctl_error("hold release: need the hold's id");
    return 2;
  }
  char now[24];
  snprintf(now, sizeof now, "%lld", (long long)dsr_now());
  const char *v[] = {argv[2], now};
  PGresult *r = dsr_db_exec(s->db, DSR_STMT_HOLD_RELEASE, 2, v);
  int rc = dsr_db_ok(r) && PQntuples(r) == 1 ? 0 : 1;
  if (rc)
    ctl_error("hold release: no active hold with this id");
  else
    printf("released: %s\n", argv[2]);
  PQclear(r);
  return rc;
}

static int list(struct ctl_session *s)
{
  PGresult *r = dsr_db_exec(s->db, DSR_STMT_HOLD_LIST, 0, NULL);
  if (!dsr_db_ok(r)) {
    PQclear(r);
    ctl_error("hold list: cannot read holds");
    return 1;
  }
  printf("%-36s %-36s %-10s %-24s %s\n", "id", "request", "identity", "collections", "basis");
  for (int i = 0; i < PQntuples(r); i++)
    printf("%-36s %-36s %-10s %-24s %s\n", PQgetvalue(r, i, 0), PQgetvalue(r, i, 1),
           PQgetvalue(r, i, 2), PQgetvalue(r, i, 3), PQgetvalue(r, i, 4));
  PQclear(r);
  return 0;
}

int ctl_hold(const struct dsr_config *cfg, int argc, char **argv)
{
  const char *sub = argc >= 2 ? argv[1] : "";
  if (strcmp(sub, "add") != 0 && strcmp(sub, "release") != 0 && strcmp(sub, "list") != 0) {
    ctl_error("hold: usage: dsrctl hold add|release ID|list");
    return 2;
  }
  struct ctl_session s;
  if (!ctl_session_open(cfg, &s))
    return 1;
  int rc = !strcmp(sub, "add")       ? add(&s, argc, argv)
           : !strcmp(sub, "release") ? release(&s, argc, argv)
                                     : list(&s);
  ctl_session_close(&s);
  return rc;
}

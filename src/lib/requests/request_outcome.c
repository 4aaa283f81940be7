/** @file request_outcome.c @brief The routing part of the subject's status view. */
#include "config.h"
#include "dsr/crypto.h"
#include "dsr/requests.h"

#include <sodium.h>
#include <stdlib.h>

void dsr_request_status_extra(const PGresult *r, int row, int col, json_t *reply)
{
  if (!PQgetisnull(r, row, col))
    json_object_set_new(reply, "outcome", json_string(PQgetvalue(r, row, col)));
  if (!PQgetisnull(r, row, col + 1))
    json_object_set_new(reply, "message", json_string(PQgetvalue(r, row, col + 1)));
  if (!PQgetisnull(r, row, col + 2)) {
    json_t *ext = json_pack("{s:s}", "extended_at", PQgetvalue(r, row, col + 2));
    size_t n = 0, pl = 0;
    unsigned char *raw =
        PQunescapeBytea((const unsigned char *)PQgetvalue(r, row, col + 3), &n);
    unsigned char *plain = NULL;
    /* The reason is meant for the subject: the bearer of the status token. */
    if (ext && raw && dsr_unseal(raw, n, &plain, &pl))
      json_object_set_new(ext, "reason", json_stringn((const char *)plain, pl));
    if (plain)
      sodium_memzero(plain, pl);
    free(plain);
    PQfreemem(raw);
    if (ext)
      json_object_set_new(reply, "extension", ext);
  }
}

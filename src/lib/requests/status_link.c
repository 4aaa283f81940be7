/**
 * @file status_link.c
 * @brief The capability of a request's status link (see requests.h): a keyed
 *        hash of the request id, never stored; a file of its own so that
 *        every part of requests/ can make or check one without calling each
 *        other in a circle.
 */
#include "config.h"
#include "dsr/crypto.h"
#include "dsr/requests.h"
#include "dsr/validate.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *dsr_status_link_cap(const char *id)
{
  char buf[64];
  unsigned char h[DSR_HASH_BYTES];
  snprintf(buf, sizeof buf, "status-link:%s", id);
  dsr_keyed_hash(DSR_KEY_TOKEN, buf, strlen(buf), h);
  return dsr_b64url(h, sizeof h);
}

bool dsr_status_link_ok(const char *id, const char *cap)
{
  const char *why;
  if (!id || !cap || !dsr_valid_uuid(id, &why))
    return false;
  char *want = dsr_status_link_cap(id);
  bool ok = want && strlen(cap) == strlen(want) && sodium_memcmp(cap, want, strlen(want)) == 0;
  free(want);
  return ok;
}

/**
 * @file outbox_fill.c
 * @brief bench helper: writes N webhook outbox rows for one customer through
 *        libdsr's dsr_outbox_add() (sealed body, its delivery job), 200 per
 *        transaction, as dsrd's routing does when a part changes.
 *
 * usage: outbox_fill CONNINFO KEY_FILE CUSTOMER_ID N
 * The payloads carry synthetic ids only.
 */
#include "config.h"
#include "dsr/crypto.h"
#include "dsr/db.h"
#include "dsr/log.h"
#include "dsr/webhook.h"

#include <stdio.h>
#include <stdlib.h>

#define PER_TX 200

static bool exec_simple(PGconn *c, const char *sql)
{
  PGresult *r = PQexec(c, sql);
  bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
  PQclear(r);
  return ok;
}

int main(int argc, char **argv)
{
  if (argc != 5) {
    fprintf(stderr, "usage: outbox_fill CONNINFO KEY_FILE CUSTOMER_ID N\n");
    return 2;
  }
  long n = atol(argv[4]);
  char err[512];
  dsr_log_set_level(DSR_LOG_WARN);
  if (n < 1 || !dsr_crypto_init(argv[2], err, sizeof err)) {
    fprintf(stderr, "outbox_fill: %s\n", n < 1 ? "N must be positive" : err);
    return 2;
  }
  PGconn *c = dsr_db_connect(argv[1], err, sizeof err);
  struct dsr_db *db = c ? dsr_db_wrap(c) : NULL;
  if (!db) {
    fprintf(stderr, "outbox_fill: %s\n", c ? "out of memory" : err);
    PQfinish(c);
    return 1;
  }
  int rc = 0;
  for (long done = 0; done < n && rc == 0;) {
    if (!exec_simple(c, "BEGIN")) {
      rc = 1;
      break;
    }
    for (int k = 0; k < PER_TX && done < n; k++, done++) {
      json_t *data = json_pack("{s:s, s:I}", "status", "forwarded", "bench_seq", (json_int_t)done);
      bool retry = false;
      bool ok = data && dsr_outbox_add(db, argv[3], NULL, "dsr.updated", data, &retry);
      json_decref(data);
      if (!ok) {
        fprintf(stderr, "outbox_fill: dsr_outbox_add failed at row %ld\n", done);
        rc = 1;
        break;
      }
    }
    if (!exec_simple(c, rc == 0 ? "COMMIT" : "ROLLBACK") && rc == 0)
      rc = 1;
  }
  dsr_db_unwrap(db);
  PQfinish(c);
  if (rc == 0)
    printf("%ld\n", n);
  return rc;
}

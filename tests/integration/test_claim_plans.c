/**
 * @file test_claim_plans.c
 * @brief Claims by id must read their row through its primary key, also once
 *        their prepared statement has gone generic: a "$n IS NULL OR id = $n"
 *        form walks every pending row instead (bench/README.md, webhooks).
 */
#include <string.h>
#include "suites.h"
#include "dsr/db.h"

static void sql_ok(const char *sql)
{
  PGresult *r = h_sql(it_pg.conninfo, sql);
  ck_assert_msg(PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK,
                "%s: %s", sql, PQresultErrorMessage(r));
  PQclear(r);
}

START_TEST(an_outbox_claim_by_id_reads_its_row_by_key)
{
  sql_ok("INSERT INTO dsr_customers (id, name, tenant_ref, webhook_url, secret_sealed,"
         " api_key_hash, created_at, updated_at) VALUES ('00000000-0000-4000-8000-00000000c1a1',"
         " 'plan-test', 'plan-test', 'https://example.invalid/h', '\\x00', '\\xc1a1', now(), now())");
  sql_ok("INSERT INTO dsr_webhook_outbox (webhook_id, customer_id, event, body_sealed, created_at,"
         " next_attempt_at) SELECT 'msg_plan_' || g, '00000000-0000-4000-8000-00000000c1a1',"
         " 'dsr.updated', '\\x00', now(), to_timestamp(1500000000 + g)"
         " FROM generate_series(1, 3000) g");
  sql_ok("ANALYZE dsr_webhook_outbox");
  long id = h_sql_long(it_pg.conninfo,
                       "SELECT max(id) FROM dsr_webhook_outbox WHERE webhook_id LIKE 'msg_plan_%'");
  char err[256];
  PGconn *c = dsr_db_connect(it_pg.conninfo, err, sizeof err);
  ck_assert_msg(c != NULL, "%s", err);
  struct dsr_db *db = dsr_db_wrap(c);
  PGresult *r = PQexec(c, "SET plan_cache_mode = force_generic_plan");
  PQclear(r);
  char ids[24];
  snprintf(ids, sizeof ids, "{%ld}", id);
  const char *v[] = {"2000000000", ids, "2000000300"};
  r = dsr_db_exec(db, DSR_STMT_WEBHOOK_OUTBOX_CLAIM_MANY, 3, v); /* prepares it here */
  ck_assert(dsr_db_ok(r));
  ck_assert_int_eq(PQntuples(r), 1);
  PQclear(r);
  char sql[160];
  snprintf(sql, sizeof sql,
           "EXPLAIN EXECUTE \"DSR_STMT_WEBHOOK_OUTBOX_CLAIM_MANY\"('2000000000', '{%ld}',"
           " '2000000300')",
           id);
  r = PQexec(c, sql);
  ck_assert_msg(PQresultStatus(r) == PGRES_TUPLES_OK, "%s", PQresultErrorMessage(r));
  struct dsr_buf plan = {0};
  for (int i = 0; i < PQntuples(r); i++)
    ck_assert(dsr_buf_printf(&plan, "%s\n", PQgetvalue(r, i, 0)));
  PQclear(r);
  ck_assert_msg(strstr(plan.data, "dsr_webhook_outbox_pkey") != NULL, "plan:\n%s", plan.data);
  ck_assert_msg(strstr(plan.data, "dsr_webhook_outbox_due") == NULL, "plan:\n%s", plan.data);
  dsr_buf_free(&plan);
  dsr_db_unwrap(db);
  PQfinish(c);
  sql_ok("DELETE FROM dsr_webhook_outbox WHERE webhook_id LIKE 'msg_plan_%'");
  sql_ok("DELETE FROM dsr_customers WHERE name = 'plan-test'");
}
END_TEST

Suite *suite_claim_plans(void)
{
  Suite *s = suite_create("claim_plans");
  TCase *tc = tcase_create("plans");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, an_outbox_claim_by_id_reads_its_row_by_key);
  suite_add_tcase(s, tc);
  return s;
}

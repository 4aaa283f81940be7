/**
 * @file test_queue_batch.c
 * @brief The job queue's batch path against real PostgreSQL: a batch is
 *        completed in one statement, a job whose lease was taken over during
 *        the batch is left to its new owner, failures are recorded at once,
 *        and a claim reads indexes rather than the whole backlog (bench/README.md).
 *        Time is passed in explicitly; nothing sleeps.
 */
#include <string.h>
#include "suites.h"
#include "dsr/queue.h"

#define T0 ((time_t)2000000000) /* a fixed "now" far from the real clock */

static struct dsr_db *open_db(void)
{
  char err[256];
  PGconn *c = dsr_db_connect(it_pg.conninfo, err, sizeof err);
  ck_assert_msg(c != NULL, "%s", err);
  struct dsr_db *db = dsr_db_wrap(c);
  ck_assert_ptr_nonnull(db);
  return db;
}

static void close_db(struct dsr_db *db)
{
  PGconn *c = db->conn;
  dsr_db_unwrap(db);
  PQfinish(c);
}

static void exec_ok(struct dsr_db *db, const char *sql)
{
  PGresult *r = PQexec(db->conn, sql);
  ck_assert_msg(PQresultStatus(r) == PGRES_COMMAND_OK, "%s: %s", sql, PQresultErrorMessage(r));
  PQclear(r);
}

static void put(struct dsr_db *db, const char *kind, int n)
{
  exec_ok(db, "BEGIN");
  json_t *p = json_pack("{s:i}", "n", n);
  bool enq = false, retry = false;
  ck_assert(dsr_queue_enqueue(db, kind, p, NULL, T0, &enq, &retry));
  ck_assert(enq);
  json_decref(p);
  exec_ok(db, "COMMIT");
}

/* Inserts @p n queued jobs of @p kind straight into the table (no enqueue), payload @p payload,
 * run_at to_timestamp(@p run_at), an expression of g = 1 .. n. */
static void raw_jobs(const char *kind, const char *payload, const char *run_at, int n)
{
  char sql[512];
  snprintf(sql, sizeof sql,
           "INSERT INTO dsr_jobs (kind, payload, run_at, max_attempts, created_at, updated_at)"
           " SELECT '%s', '%s', to_timestamp(%s), 8, now(), now() FROM generate_series(1, %d) g",
           kind, payload, run_at, n);
  PGresult *r = h_sql(it_pg.conninfo, sql);
  ck_assert_msg(PQresultStatus(r) == PGRES_COMMAND_OK, "%s", PQresultErrorMessage(r));
  PQclear(r);
}

static long count_kind(const char *kind)
{
  char sql[160];
  snprintf(sql, sizeof sql, "SELECT count(*) FROM dsr_jobs WHERE kind = '%s'", kind);
  return h_sql_long(it_pg.conninfo, sql);
}

/* Job n == 1 fails for good; job n == 2 has its lease taken over while it runs. */
static enum dsr_job_result batch_handler(struct dsr_db *db, const struct dsr_job *job, void *ctx,
                                         char *err, size_t errlen)
{
  json_int_t n = json_integer_value(json_object_get(job->payload, "n"));
  if (n == 1) {
    snprintf(err, errlen, "permanent");
    return DSR_JOB_FAIL;
  }
  if (n == 2) {
    char sql[160];
    snprintf(sql, sizeof sql, "UPDATE dsr_jobs SET lease_owner = 'thief' WHERE id = %lld",
             (long long)job->id);
    PGresult *r = h_sql(it_pg.conninfo, sql);
    ck_assert(PQresultStatus(r) == PGRES_COMMAND_OK);
    PQclear(r);
  }
  return DSR_JOB_DONE;
}

static const struct dsr_job_kind batch_reg[] = {{"t_batch", batch_handler, 60, NULL}, {NULL, NULL, 0, NULL}};

START_TEST(a_batch_completes_together_and_respects_takeovers)
{
  struct dsr_db *db = open_db();
  for (int i = 0; i < 6; i++)
    put(db, "t_batch", i);
  ck_assert_int_eq(dsr_queue_run_batch(db, batch_reg, "w-batch", T0, 8, NULL), 6);
  /* Left: the dead job (n=1) and the one whose lease "thief" now holds (n=2). */
  ck_assert_int_eq(count_kind("t_batch"), 2);
  ck_assert_int_eq(h_sql_long(it_pg.conninfo, "SELECT count(*) FROM dsr_jobs WHERE kind = "
                                              "'t_batch' AND state = 'dead' AND "
                                              "payload->>'n' = '1'"),
                   1);
  ck_assert_int_eq(h_sql_long(it_pg.conninfo, "SELECT count(*) FROM dsr_jobs WHERE kind = "
                                              "'t_batch' AND state = 'running' AND "
                                              "lease_owner = 'thief' AND payload->>'n' = '2'"),
                   1);
  close_db(db);
}
END_TEST

static enum dsr_job_result noop(struct dsr_db *db, const struct dsr_job *job, void *ctx,
                                char *err, size_t errlen)
{
  return DSR_JOB_DONE;
}

static const struct dsr_job_kind plan_reg[] = {{"t_plan", noop, 60, NULL}, {NULL, NULL, 0, NULL}};

START_TEST(a_claim_reads_indexes_not_the_backlog)
{
  struct dsr_db *db = open_db();
  raw_jobs("t_plan", "{}", "2000000000 - g % 100", 5000);
  PGresult *r = h_sql(it_pg.conninfo, "ANALYZE dsr_jobs");
  PQclear(r);
  /* The claim runs once (which prepares it on this connection), then its plan is read. */
  ck_assert_int_eq(dsr_queue_run_batch(db, plan_reg, "w-plan", T0, 8, NULL), 8);
  r = PQexec(db->conn, "EXPLAIN EXECUTE \"DSR_STMT_JOB_CLAIM\"('w-plan', '2000000000', '{60}',"
                       " '8', '{t_plan}', NULL, NULL)");
  ck_assert_msg(PQresultStatus(r) == PGRES_TUPLES_OK, "%s", PQresultErrorMessage(r));
  struct dsr_buf plan = {0};
  for (int i = 0; i < PQntuples(r); i++)
    ck_assert(dsr_buf_printf(&plan, "%s\n", PQgetvalue(r, i, 0)));
  PQclear(r);
  ck_assert_msg(strstr(plan.data, "Seq Scan on dsr_jobs") == NULL, "plan:\n%s", plan.data);
  ck_assert_msg(strstr(plan.data, "dsr_jobs_queued") != NULL, "plan:\n%s", plan.data);
  dsr_buf_free(&plan);
  r = h_sql(it_pg.conninfo, "DELETE FROM dsr_jobs WHERE kind = 't_plan'");
  PQclear(r);
  close_db(db);
}
END_TEST

static const struct dsr_job_kind pos_reg[] = {{"t_pos", noop, 60, NULL}, {NULL, NULL, 0, NULL}};

static long pos_left(void)
{
  return h_sql_long(it_pg.conninfo, "SELECT count(*) FROM dsr_jobs WHERE kind = 't_pos'");
}

/* A worker's claims start where its last full one ended, within a second of its clock;
 * a job behind that position is claimed by the next claim from the front. */
START_TEST(a_full_claim_moves_the_position_and_the_front_is_read_again)
{
  struct dsr_db *db = open_db();
  raw_jobs("t_pos", "{}", "2000000000 + g % 3", 10);
  struct dsr_queue_pos pos = {0};
  time_t now = 2000000010;
  ck_assert_int_eq(dsr_queue_run_batch_from(db, pos_reg, "w-pos", now, 4, NULL, &pos), 4);
  ck_assert(pos.set);
  ck_assert_int_eq(pos_left(), 6);
  /* A job behind the position (an earlier run_at), as one released unrun or committed late. */
  raw_jobs("t_pos", "{\"late\": true}", "1999999999", 1);
  ck_assert_int_eq(dsr_queue_run_batch_from(db, pos_reg, "w-pos", now, 4, NULL, &pos), 4);
  ck_assert_int_eq(h_sql_long(it_pg.conninfo, "SELECT count(*) FROM dsr_jobs WHERE kind ="
                                              " 't_pos' AND payload ? 'late'"),
                   1);
  /* The last two ahead of the position: a short claim, which forgets the position. */
  ck_assert_int_eq(dsr_queue_run_batch_from(db, pos_reg, "w-pos", now, 4, NULL, &pos), 2);
  ck_assert(!pos.set);
  ck_assert_int_eq(dsr_queue_run_batch_from(db, pos_reg, "w-pos", now, 4, NULL, &pos), 1);
  ck_assert_int_eq(pos_left(), 0);
  /* A new second starts from the front even after a full claim. */
  raw_jobs("t_pos", "{}", "2000000000 + g", 3);
  ck_assert_int_eq(dsr_queue_run_batch_from(db, pos_reg, "w-pos", now, 2, NULL, &pos), 2);
  raw_jobs("t_pos", "{}", "1999999998", 1);
  ck_assert_int_eq(dsr_queue_run_batch_from(db, pos_reg, "w-pos", now + 1, 1, NULL, &pos), 1);
  ck_assert_int_eq(h_sql_long(it_pg.conninfo, "SELECT count(*) FROM dsr_jobs WHERE kind ="
                                              " 't_pos' AND run_at = to_timestamp(1999999998)"),
                   0);
  PGresult *r = h_sql(it_pg.conninfo, "DELETE FROM dsr_jobs WHERE kind = 't_pos'");
  PQclear(r);
  close_db(db);
}
END_TEST

Suite *suite_queue_batch(void)
{
  Suite *s = suite_create("queue_batch");
  TCase *tc = tcase_create("batch");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, a_batch_completes_together_and_respects_takeovers);
  tcase_add_test(tc, a_claim_reads_indexes_not_the_backlog);
  tcase_add_test(tc, a_full_claim_moves_the_position_and_the_front_is_read_again);
  suite_add_tcase(s, tc);
  return s;
}

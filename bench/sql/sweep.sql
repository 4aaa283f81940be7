-- The reference of the retention-sweep figure: the bench sweep policy's rules
-- (recordings older than the cutoff, their transcripts and AI summaries with
-- them), written by
-- hand as batched SQL: one transaction per batch of recordings, children
-- first. Settings (PGOPTIONS="-c bench.as_of=... ..."): bench.as_of (epoch
-- seconds), bench.period (an interval), bench.batch (rows per batch: dsrd's
-- erasure_batch_rows).
\set ON_ERROR_STOP on
DO $$
DECLARE
  cutoff timestamptz := to_timestamp(current_setting('bench.as_of')::bigint)
                        - current_setting('bench.period')::interval;
  n int := current_setting('bench.batch')::int;
  ids bigint[];
BEGIN
  LOOP
    SELECT array_agg(id) INTO ids
      FROM (SELECT id FROM recordings WHERE created_at < cutoff ORDER BY id LIMIT n) s;
    EXIT WHEN ids IS NULL;
    DELETE FROM transcripts WHERE recording_id = ANY (ids);
    DELETE FROM ai_summaries WHERE recording_id = ANY (ids);
    DELETE FROM recordings WHERE id = ANY (ids);
    COMMIT;
  END LOOP;
END
$$;

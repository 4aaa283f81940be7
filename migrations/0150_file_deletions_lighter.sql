-- A lighter list of file deletions (issue 22: a retention sweep's
-- bookkeeping per file was most of its cost).
--
-- A batch's files are now unlinked right after the store's commit and enter
-- the list already 'done' (those that could not be removed enter as 'due',
-- handled as before), so most rows are written once and never updated.
-- The index of due rows stays as it is: made partial ("WHERE state = 'due'",
-- which would spare the rows entered done an index entry), it drew the
-- planner to scan it for the marks by id of a run with many due rows.

-- Rows are only ever inserted from the run's own steps (INSERT ... SELECT
-- from dsr_erasure_steps, whose run_id references the run): one check of
-- the run per batch instead of the foreign key's check per row. The run's
-- deletion still takes its files with it, once per statement.
ALTER TABLE dsr_file_deletions DROP CONSTRAINT dsr_file_deletions_run_id_fkey;

CREATE FUNCTION dsr_erasure_runs_drop_files() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM dsr_file_deletions f USING gone_runs g WHERE f.run_id = g.id;
  RETURN NULL;
END $$;

CREATE TRIGGER dsr_erasure_runs_files AFTER DELETE ON dsr_erasure_runs
  REFERENCING OLD TABLE AS gone_runs FOR EACH STATEMENT
  EXECUTE FUNCTION dsr_erasure_runs_drop_files();

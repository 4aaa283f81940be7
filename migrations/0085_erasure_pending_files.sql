-- The files of a batch in flight travel with its pending outcome (two
-- parallel arrays: file store names and paths) and enter dsr_file_deletions
-- as 'due' in the transaction that applies the outcome, instead of one
-- 'staged' row per file written before the store's commit and updated to
-- 'due' after it. 'staged' rows written before this migration are still
-- made due or dropped with their batch.
ALTER TABLE dsr_erasure_steps ADD COLUMN pend_fstores text[];
ALTER TABLE dsr_erasure_steps ADD COLUMN pend_fpaths text[];

-- Listing a run's due files page by page (id > last, ORDER BY id) reads an
-- index range instead of every due row of the run per page.
DROP INDEX dsr_file_deletions_due;
CREATE INDEX dsr_file_deletions_due ON dsr_file_deletions (run_id, state, id);

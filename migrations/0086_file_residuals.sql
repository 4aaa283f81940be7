-- Files never stall a part: a file that cannot be removed is retried a
-- bounded number of times with back-off (next_attempt_at), then left
-- 'residual' (with last_error as its reason), reported in the receipt, shown
-- to staff and retried on demand by `dsrctl files retry`.
ALTER TABLE dsr_file_deletions DROP CONSTRAINT dsr_file_deletions_state_check;
ALTER TABLE dsr_file_deletions ADD CONSTRAINT dsr_file_deletions_state_check
  CHECK (state IN ('staged', 'due', 'done', 'residual'));
ALTER TABLE dsr_file_deletions ADD COLUMN next_attempt_at timestamptz;
CREATE INDEX dsr_file_deletions_residual ON dsr_file_deletions (run_id) WHERE state = 'residual';

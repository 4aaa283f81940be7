-- The reference of the erasure figure: what dsrd's erasure of one subject
-- removes under the bench policy (policies/callcenter-ai.json), written by
-- hand as one transaction. psql variables: email, phone, files (a file that
-- receives the paths of the deleted rows' media files, one per line, with
-- psql -q -At; bench/run unlinks them after the commit, as dsrd does).
\set ON_ERROR_STOP on
BEGIN;
-- The subject: accounts, contacts, calls and recordings, by identity.
CREATE TEMP TABLE s_users ON COMMIT DROP AS
  SELECT id FROM users WHERE lower(email) = lower(:'email') OR phone = :'phone';
CREATE TEMP TABLE s_contacts ON COMMIT DROP AS
  SELECT id FROM contacts WHERE phone = :'phone' OR lower(email) = lower(:'email');
CREATE TEMP TABLE s_calls ON COMMIT DROP AS
  SELECT id FROM calls
   WHERE caller_number = :'phone' OR called_number = :'phone'
      OR contact_id IN (SELECT id FROM s_contacts);
CREATE TEMP TABLE s_recordings ON COMMIT DROP AS
  SELECT id FROM recordings WHERE call_id IN (SELECT id FROM s_calls);
-- Temporary tables are never analyzed by autovacuum: without statistics the
-- planner takes a large subject's call list for a few rows and probes it once
-- per row of crm_links (the 1,000,000-row subject's reference ran for more
-- than ten minutes). Keyed and analyzed, as dsrd's own plan does with its copy.
ALTER TABLE s_users ADD PRIMARY KEY (id);
ALTER TABLE s_contacts ADD PRIMARY KEY (id);
ALTER TABLE s_calls ADD PRIMARY KEY (id);
ALTER TABLE s_recordings ADD PRIMARY KEY (id);
ANALYZE s_users, s_contacts, s_calls, s_recordings;

DELETE FROM web_sessions WHERE user_id IN (SELECT id FROM s_users);
DELETE FROM consents WHERE phone = :'phone' OR lower(email) = lower(:'email');
DELETE FROM workspace_members WHERE user_id IN (SELECT id FROM s_users);
DELETE FROM devices WHERE sim_number = :'phone' OR user_id IN (SELECT id FROM s_users);
DELETE FROM support_tickets
 WHERE lower(requester_email) = lower(:'email') OR user_id IN (SELECT id FROM s_users);
DELETE FROM website_inquiries WHERE lower(email) = lower(:'email') OR phone = :'phone';
DELETE FROM dncr_checks WHERE phone = :'phone';
-- One DELETE per way a row is reached: "a IN (...) OR b IN (...)" cannot use a
-- hash of a large subject's calls and probes them once per row.
DELETE FROM crm_links WHERE contact_id IN (SELECT id FROM s_contacts);
DELETE FROM crm_links WHERE call_id IN (SELECT id FROM s_calls);
DELETE FROM messages
 WHERE from_address = :'phone' OR lower(from_address) = lower(:'email')
    OR to_address = :'phone' OR lower(to_address) = lower(:'email')
    OR contact_id IN (SELECT id FROM s_contacts);
\o :files
DELETE FROM voicemails WHERE caller_number = :'phone' RETURNING file_path;
DELETE FROM voicemails WHERE call_id IN (SELECT id FROM s_calls) RETURNING file_path;
DELETE FROM ai_summaries WHERE call_id IN (SELECT id FROM s_calls);
DELETE FROM transcripts WHERE recording_id IN (SELECT id FROM s_recordings);
DELETE FROM recordings WHERE id IN (SELECT id FROM s_recordings) RETURNING file_path;
\o
DELETE FROM calls WHERE id IN (SELECT id FROM s_calls);
DELETE FROM contacts WHERE id IN (SELECT id FROM s_contacts);
-- An account still referenced by rows the policy keeps (invoices...) stays.
DELETE FROM users u
 WHERE id IN (SELECT id FROM s_users)
   AND NOT EXISTS (SELECT 1 FROM workspaces r WHERE r.owner_user_id = u.id)
   AND NOT EXISTS (SELECT 1 FROM workspace_settings r WHERE r.updated_by_user_id = u.id)
   AND NOT EXISTS (SELECT 1 FROM calls r WHERE r.agent_user_id = u.id)
   AND NOT EXISTS (SELECT 1 FROM messages r WHERE r.agent_user_id = u.id)
   AND NOT EXISTS (SELECT 1 FROM invoices r WHERE r.user_id = u.id)
   AND NOT EXISTS (SELECT 1 FROM support_tickets r WHERE r.user_id = u.id)
   AND NOT EXISTS (SELECT 1 FROM security_events r WHERE r.user_id = u.id)
   AND NOT EXISTS (SELECT 1 FROM abuse_reports r WHERE r.user_id = u.id)
   AND NOT EXISTS (SELECT 1 FROM devices r WHERE r.user_id = u.id);
COMMIT;

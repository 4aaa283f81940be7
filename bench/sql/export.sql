-- The reference of the access-export figure: COPY ... TO STDOUT of the rows
-- the access package of one subject holds under the bench policy
-- (policies/callcenter-ai.json), every column. psql variables: email, phone.
-- A condition that ORs a large list of ids with another is a UNION of joins, as
-- a hand-writer would write it (as dsrd's plan does).
\set ON_ERROR_STOP on
BEGIN ISOLATION LEVEL REPEATABLE READ;
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
-- Keyed and analyzed: a large subject's calls (1,000,000 rows) would otherwise be
-- scanned once per row of a table whose condition ORs them with another.
ALTER TABLE s_calls ADD PRIMARY KEY (id);
ALTER TABLE s_recordings ADD PRIMARY KEY (id);
ANALYZE s_contacts, s_calls, s_recordings;
CREATE TEMP TABLE s_invoices ON COMMIT DROP AS
  SELECT id FROM invoices
   WHERE user_id IN (SELECT id FROM s_users) OR lower(billing_email) = lower(:'email');

COPY (SELECT * FROM users WHERE id IN (SELECT id FROM s_users) ORDER BY id) TO STDOUT;
COPY (SELECT * FROM workspace_members WHERE user_id IN (SELECT id FROM s_users) ORDER BY id) TO STDOUT;
COPY (SELECT * FROM consents WHERE phone = :'phone' OR lower(email) = lower(:'email') ORDER BY id) TO STDOUT;
COPY (SELECT * FROM invoices WHERE id IN (SELECT id FROM s_invoices) ORDER BY id) TO STDOUT;
COPY (SELECT * FROM payments WHERE invoice_id IN (SELECT id FROM s_invoices) ORDER BY id) TO STDOUT;
COPY (SELECT * FROM security_events WHERE user_id IN (SELECT id FROM s_users) ORDER BY id) TO STDOUT;
COPY (SELECT * FROM web_sessions WHERE user_id IN (SELECT id FROM s_users) ORDER BY id) TO STDOUT;
COPY (SELECT * FROM devices
       WHERE sim_number = :'phone' OR user_id IN (SELECT id FROM s_users) ORDER BY id) TO STDOUT;
COPY (SELECT * FROM support_tickets
       WHERE lower(requester_email) = lower(:'email') OR user_id IN (SELECT id FROM s_users)
       ORDER BY id) TO STDOUT;
COPY (SELECT * FROM website_inquiries
       WHERE lower(email) = lower(:'email') OR phone = :'phone' ORDER BY id) TO STDOUT;
COPY (SELECT * FROM abuse_reports
       WHERE lower(reporter_email) = lower(:'email') OR reporter_phone = :'phone'
          OR reported_number = :'phone' OR user_id IN (SELECT id FROM s_users) ORDER BY id) TO STDOUT;
COPY (SELECT * FROM suppressions WHERE phone = :'phone' ORDER BY id) TO STDOUT;
COPY (SELECT * FROM dncr_checks WHERE phone = :'phone' ORDER BY id) TO STDOUT;
COPY (SELECT * FROM contacts WHERE id IN (SELECT id FROM s_contacts) ORDER BY id) TO STDOUT;
COPY (SELECT * FROM calls WHERE id IN (SELECT id FROM s_calls) ORDER BY id) TO STDOUT;
COPY (SELECT * FROM recordings WHERE id IN (SELECT id FROM s_recordings) ORDER BY id) TO STDOUT;
COPY (SELECT * FROM transcripts WHERE recording_id IN (SELECT id FROM s_recordings) ORDER BY id) TO STDOUT;
COPY (SELECT * FROM ai_summaries WHERE call_id IN (SELECT id FROM s_calls) ORDER BY id) TO STDOUT;
COPY (SELECT * FROM voicemails WHERE id IN (
         SELECT id FROM voicemails WHERE caller_number = :'phone'
         UNION SELECT v.id FROM voicemails v JOIN s_calls c ON c.id = v.call_id) ORDER BY id) TO STDOUT;
COPY (SELECT * FROM messages
       WHERE from_address = :'phone' OR lower(from_address) = lower(:'email')
          OR to_address = :'phone' OR lower(to_address) = lower(:'email')
          OR contact_id IN (SELECT id FROM s_contacts) ORDER BY id) TO STDOUT;
COPY (SELECT * FROM crm_links WHERE id IN (
         SELECT l.id FROM crm_links l JOIN s_contacts c ON c.id = l.contact_id
         UNION SELECT l.id FROM crm_links l JOIN s_calls c ON c.id = l.call_id) ORDER BY id) TO STDOUT;
COMMIT;

-- Rows of CallTrack. Subjects: the lead +14155550101 (called from two
-- organisations, mentioned in another lead's note, and the number another
-- caller's call was forwarded to, a number conferenced into another call, and
-- the second number of a lead in org 3, a referral in another lead's document)
-- and the agent ana@calltrack.example (org 1).
INSERT INTO ct.org VALUES (1, 'Acme Sales', 30), (2, 'Borealis Realty', NULL), (3, 'Cobalt Cars', 400);
INSERT INTO ct.agent VALUES
  (10, 1, 'ana@calltrack.example', '+14155550110', NULL, '{}'),
  (11, 1, 'ben@calltrack.example', '+14155550111', NULL, '{"phones": ["+14155550181"]}'),
  (20, 2, 'cy@calltrack.example', '+14155550120', NULL, '{"phones": []}'),
  (30, 3, 'dee@calltrack.example', NULL, NULL, '{}');
INSERT INTO ct.handset VALUES (100, 10, '356938035643809', '+14155550190'),
  (101, 11, '356938035643810', NULL), (200, 20, '356938035643811', NULL),
  (300, 30, '356938035643812', NULL);
INSERT INTO ct.call_log VALUES
  (1, 100, '+14155550101', 'out', now() - interval '10 days', NULL, NULL, NULL),
  (2, 100, '+14155550102', 'out', now() - interval '40 days', NULL, NULL, NULL),
  (3, 101, '+14155550101', 'in', now() - interval '45 days', now() - interval '1 day', NULL, NULL),
  (4, 101, '+14155550103', 'in', now() - interval '5 days', NULL, '+1 415 555 0101', NULL),
  (1001, 200, '+14155550101', 'out', now() - interval '100 days', NULL, NULL, NULL),
  (1002, 200, '+14155550104', 'in', now() - interval '80 days', NULL, '+14155550120', '{+14155550120,"+1 415 555 0101"}'),
  (1003, 300, '+14155550105', 'out', now() - interval '300 days', NULL, NULL, NULL),
  (1004, 300, '+14155550106', 'out', now() - interval '500 days', now() - interval '2 days', NULL, '{+14155550199}');
INSERT INTO ct.call_note VALUES
  (5000, 1, 'wants a quote, call back on +1 415 555 0101'),
  (5001, 2, 'referred by the lead at (415) 555-0101, not +1 415 555 0199'),
  (5002, 1002, 'nobody else'),
  (5003, 1004, 'old deal');
INSERT INTO ct.call_tag VALUES
  (5000, 'hot', now() - interval '9 days'), (5000, 'quote', now() - interval '9 days'),
  (5001, 'referral', now() - interval '39 days'), (5002, 'hot', now() - interval '79 days'),
  (5002, 'quote', now() - interval '79 days'), (5003, 'stale', now() - interval '499 days');
INSERT INTO ct.tag_comment VALUES
  (5000, 'hot', 1, 'asked twice'), (5000, 'quote', 1, 'send it to +14155550101'),
  (5002, 'hot', 1, 'copy +1 415 555 0101 in'), (5002, 'hot', 2, 'nothing here'),
  (5002, 'quote', 1, 'copy +1 415 555 0101 in'), (5003, 'stale', 1, 'lost');
-- The tests write the audio files, and turn 901 into an absolute path under the
-- store's root and 902 into an object key.
INSERT INTO ct.voicemail VALUES
  (900, 100, '+14155550101', 'org-1/vm-900.wav', now() - interval '3 days'),
  (901, 101, '+14155550101', 'org-1/vm-901.wav', now() - interval '4 days'),
  (902, 200, '+14155550101', 'org-2/vm-902.wav', now() - interval '6 days'),
  (903, 100, '+14155550102', 'org-1/vm-903.wav', now() - interval '7 days');
INSERT INTO ct.lead VALUES
  (700, 1, '+14155550101', 'lena@example.org', '{}', '{}'),
  (701, 2, '+14155550101', NULL, '{}', '{}'),
  (702, 3, '+14155550105', 'other@example.org', '{+14155550101}', '{}'),
  (703, 3, '+14155550106', NULL, '{+14155550107}',
   '{"source": "fair", "referrals": [{"name": "Lena", "phone": "+1 (415) 555-0101"},
                                     {"name": "Max", "phone": "+14155550188"}]}');

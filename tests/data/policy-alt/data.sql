-- Rows for the alternate platform. The subject: phone +15550001111,
-- email sam@example.org (member 1 via alt_mail, in upper case).
INSERT INTO acct.member VALUES
  (1, 'samuel.work@corp.example', 'Sam@Example.org', '+15550009999', 'Sam', NULL),
  (2, 'other@example.net', NULL, '+15550002222', 'Other', NULL),
  (3, 'sam@example.org', NULL, NULL, 'Sam again', NULL);
INSERT INTO acct.charge VALUES (10, 1, 500, now()), (11, 1, 700, now()), (12, 2, 900, now());
INSERT INTO acct.audit_trail VALUES (20, 1, '192.0.2.1', now()), (21, 3, '192.0.2.3', now()),
  (22, 2, '192.0.2.2', now());
INSERT INTO hd.org_prefs VALUES (10, 30), (20, NULL), (30, 60);
INSERT INTO hd.engagement VALUES
  (100, 10, '+15550001111', NULL, now()),
  (101, 10, '+15550001111', NULL, now()),
  (102, 20, '+15550001111', 'sam@example.org', now()),
  (103, 30, '+15550002222', NULL, now()),
  (104, 30, '+15550003333', NULL, now());
INSERT INTO hd.session VALUES
  (200, 100, 10, 'called back'), (201, 101, 10, NULL), (202, 102, 20, NULL),
  (203, 103, 30, NULL), (204, 104, 30, NULL);
INSERT INTO hd.clip VALUES
  (300, 200, 'clips/300.wav', now()), (301, 200, NULL, now()), (302, 202, 'clips/302.wav', now()),
  (303, 203, 'clips/303.wav', now()), (304, 204, 'clips/304.wav', now());
INSERT INTO hd.clip_text VALUES
  (400, 300, 'hello this is sam'),
  (401, 302, 'my number is +1 555 000 1111'),
  (402, 303, 'please call my friend on +1 (555) 000-1111 or mail SAM@example.org'),
  (403, 304, 'nobody else is mentioned, 5550001111999 is a long number');
INSERT INTO hd.clip_tag VALUES (500, 400, 'greeting'), (501, 401, 'number'), (502, 402, 'referral');

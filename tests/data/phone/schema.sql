-- Test fixture of tests/integration/test_phone.c: one subject, +34 699 507 918,
-- stored the local ways; everyone else's numbers must survive untouched.
CREATE SCHEMA ph;
CREATE TABLE ph.contact (id bigint PRIMARY KEY, phone text, label text);
CREATE TABLE ph.line (id bigint PRIMARY KEY, e164 text, digits text, nat_es text, nat_de text);
CREATE TABLE ph.note (id bigint PRIMARY KEY, body text);
INSERT INTO ph.contact VALUES
  (1, '0034699507918', 'subject, 00 and digits'),
  (2, '0034 699 507 918', 'subject, 00 with spaces'),
  (3, '699 507 918', 'subject, national'),
  (4, '(+34) 699 507 918', 'subject, bracketed country code'),
  (5, '+34699507918', 'subject, E.164'),
  (6, '+34 699-50-79-18', 'subject, dashes'),
  (11, '+34 699 507 919', 'someone else'),
  (12, '+44 699 507 918', 'someone else, same digits in Britain'),
  (13, '612 345 678', 'someone else, national'),
  (14, '0034699507910', 'someone else, 00'),
  (15, NULL, 'no number');
INSERT INTO ph.line VALUES
  (1, '+34699507918', NULL, NULL, NULL),
  (2, NULL, '34699507918', NULL, NULL),
  (3, NULL, NULL, '699507918', NULL),
  (4, '0034699507918', '0034699507918', '+34699507918', '699507918'),
  (5, '+34699507919', '34699507919', '699507919', '030123456');
INSERT INTO ph.note VALUES
  (1, 'Llamar al 0034 699 507 918 mañana.'),
  (2, 'Dijo: (+34) 699 507 918, no el +34 699 507 919.'),
  (3, 'Su fijo: 699 507 918; el de su hermano: 612 345 678.'),
  (4, 'Nada que ver: +44 699 507 918 y 0034699507910.'),
  (5, 'Anotado como 0034699507918 (móvil).');

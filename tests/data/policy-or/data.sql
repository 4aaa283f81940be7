-- Driver 1 (ana@example.org, fleets 7 and 8 through her trips) has 12,000 trips; driver 2
-- has 3,000. Shifts of +15550002222: 40. Pings: one per trip (some also in a shift), one
-- per shift alone, and pings of nobody's trip or shift.
INSERT INTO ops.driver VALUES (1, 7, 'ana@example.org'), (2, 7, 'bo@example.org');
INSERT INTO ops.trip SELECT g, 7 + g % 2, CASE WHEN g <= 12000 THEN 1 ELSE 2 END,
  '2026-01-01'::timestamptz + g * interval '1 minute' FROM generate_series(1, 15000) g;
INSERT INTO ops.shift SELECT g, 7, CASE WHEN g <= 40 THEN '+15550002222' ELSE '+15550003333' END
  FROM generate_series(1, 100) g;
-- trips 1..15000 each one ping; trips 1..20 also in shifts 1..20 (reached both ways)
INSERT INTO ops.ping SELECT g, 7 + g % 2, g, CASE WHEN g <= 20 THEN g END, 'trip ping'
  FROM generate_series(1, 15000) g;
-- shifts 1..100 each one ping of their own, no trip
INSERT INTO ops.ping SELECT 100000 + g, 7, NULL, g, 'shift ping' FROM generate_series(1, 100) g;
-- pings of nothing
INSERT INTO ops.ping SELECT 200000 + g, 7, NULL, NULL, 'stray' FROM generate_series(1, 5000) g;
ANALYZE ops.driver, ops.trip, ops.shift, ops.ping;

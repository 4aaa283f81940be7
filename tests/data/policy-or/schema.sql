-- A platform for the planner's ORed conditions: one table (ops.ping) reached from two
-- parents, one of them (ops.trip) holding more than 10,000 rows of one subject, so that the
-- keyed plans read it hashed in one scan of ops.ping (psql_or_hash_kb()).
CREATE SCHEMA ops;
CREATE TABLE ops.driver (
  driver_id  bigint PRIMARY KEY,
  fleet_id   integer NOT NULL,
  mail       text NOT NULL
);
CREATE TABLE ops.trip (
  trip_id    bigint PRIMARY KEY,
  fleet_id   integer NOT NULL,
  driver_ref bigint REFERENCES ops.driver,
  started    timestamptz NOT NULL
);
CREATE INDEX ON ops.trip (driver_ref);
CREATE TABLE ops.shift (
  shift_id   bigint PRIMARY KEY,
  fleet_id   integer NOT NULL,
  phone      text NOT NULL
);
CREATE INDEX ON ops.shift (phone);
CREATE TABLE ops.ping (
  ping_id    bigint PRIMARY KEY,
  fleet_id   integer NOT NULL,
  trip_ref   bigint REFERENCES ops.trip,
  shift_ref  bigint REFERENCES ops.shift,
  note       text
);
CREATE INDEX ON ops.ping (trip_ref);
CREATE INDEX ON ops.ping (shift_ref);

-- Loads the CSV files of tests/sql/data into sqlite3, the independent oracle used to derive the
-- expected results of the golden files (see tests/sql/README.md). Run from the repository root:
--   sqlite3 -tabs -cmd '.read tests/sql/data/sqlite_load.sql' :memory: "SELECT ..."
-- Timestamps are kept as text ('YYYY-MM-DD HH:MM:SS.mmm'); the view events_ms adds `ms`, the event
-- time in epoch milliseconds, for window arithmetic.
.nullvalue NULL
CREATE TABLE people (id INTEGER, name TEXT, age INTEGER, city TEXT, score REAL);
.import --csv --skip 1 tests/sql/data/people.csv people
UPDATE people SET age = NULL WHERE age = 'NULL';
UPDATE people SET city = NULL WHERE city = 'NULL';
UPDATE people SET score = NULL WHERE score = 'NULL';
CREATE TABLE events (ts TEXT, user_id TEXT, amount INTEGER, price REAL);
.import --csv --skip 1 tests/sql/data/events.csv events
UPDATE events SET amount = NULL WHERE amount = '';
UPDATE events SET price = NULL WHERE price = '';
CREATE VIEW events_ms AS
  SELECT *, CAST(strftime('%s', substr(ts, 1, 19)) AS INTEGER) * 1000
            + CAST(substr(ts, 21, 3) AS INTEGER) AS ms
  FROM events;
CREATE TABLE nums (id INTEGER, a INTEGER, b INTEGER, c INTEGER, d REAL, e REAL);
.import --csv --skip 1 tests/sql/data/nums.csv nums
UPDATE nums SET a = NULL WHERE a = 'NULL';
UPDATE nums SET c = NULL WHERE c = 'NULL';
UPDATE nums SET d = NULL WHERE d = 'NULL';
CREATE TABLE texts (id INTEGER, s TEXT, t TEXT);
.import --csv --skip 1 tests/sql/data/texts.csv texts
UPDATE texts SET s = NULL WHERE s = 'NULL';
UPDATE texts SET t = NULL WHERE t = 'NULL';
-- Window assignment for the window TVF tests (event time in epoch ms; `ws`/`we` are the window
-- bounds; all event times are after the epoch, so % floors):
--   TUMBLE 10 s; TUMBLE 10 s with offset 5 s; HOP slide 5 s size 10 s (2 windows per row);
--   CUMULATE step 5 s size 20 s (the windows [floor20, floor20 + k * 5 s) that end after the row).
CREATE VIEW events_tumble10 AS
  SELECT *, ms - ms % 10000 AS ws, ms - ms % 10000 + 10000 AS we FROM events_ms;
CREATE VIEW events_tumble10_offset5 AS
  SELECT *, (ms - 5000) - (ms - 5000) % 10000 + 5000 AS ws,
            (ms - 5000) - (ms - 5000) % 10000 + 15000 AS we FROM events_ms;
CREATE VIEW events_hop5_10 AS
  SELECT e.*, e.ms - e.ms % 5000 - k.n * 5000 AS ws, e.ms - e.ms % 5000 - k.n * 5000 + 10000 AS we
  FROM events_ms e, (SELECT 0 AS n UNION ALL SELECT 1) k;
CREATE VIEW events_cumulate5_20 AS
  SELECT e.*, e.ms - e.ms % 20000 AS ws, e.ms - e.ms % 20000 + k.n * 5000 AS we
  FROM events_ms e, (SELECT 1 AS n UNION ALL SELECT 2 UNION ALL SELECT 3 UNION ALL SELECT 4) k
  WHERE e.ms - e.ms % 20000 + k.n * 5000 > e.ms;
CREATE TABLE sessions (ts TEXT, k TEXT, v INTEGER);
.import --csv --skip 1 tests/sql/data/sessions.csv sessions
UPDATE sessions SET v = NULL WHERE v = '';
CREATE VIEW sessions_ms AS
  SELECT *, CAST(strftime('%s', substr(ts, 1, 19)) AS INTEGER) * 1000
            + CAST(substr(ts, 21, 3) AS INTEGER) AS ms
  FROM sessions;
-- Session windows with a 5 s gap per key `k` (sid numbers a key's sessions) and over all rows
-- (gid): a row opens a new session when it is more than 5 s after the previous row of the same
-- partition. Flink merges windows [t, t + gap) that overlap or touch (TimeWindow.intersects), so
-- rows exactly 5 s apart share a session. A session is [first row, last row + gap).
CREATE VIEW sessions_gap5 AS
  SELECT *,
    SUM(CASE WHEN pk IS NULL OR ms - pk > 5000 THEN 1 ELSE 0 END)
      OVER (PARTITION BY k ORDER BY ms ROWS UNBOUNDED PRECEDING) AS sid,
    SUM(CASE WHEN pa IS NULL OR ms - pa > 5000 THEN 1 ELSE 0 END)
      OVER (ORDER BY ms ROWS UNBOUNDED PRECEDING) AS gid
  FROM (SELECT *, LAG(ms) OVER (PARTITION BY k ORDER BY ms) AS pk,
                  LAG(ms) OVER (ORDER BY ms) AS pa FROM sessions_ms);
-- BOOLEAN as 1 / 0 / NULL.
CREATE TABLE bools (id INTEGER, a INTEGER, b INTEGER, x INTEGER);
.import --csv --skip 1 tests/sql/data/bools.csv bools
UPDATE bools SET a = CASE a WHEN 'true' THEN 1 WHEN 'false' THEN 0 END;
UPDATE bools SET b = CASE b WHEN 'true' THEN 1 WHEN 'false' THEN 0 END;
UPDATE bools SET x = NULL WHERE x = '';
-- Interval join inputs (joins/*.test) and a small Nexmark-like auction (joins/comma_join.test);
-- timestamps get '.000' so that they print and compare as eddy's TIMESTAMP(3).
CREATE TABLE orders_ij (id INTEGER, ts TEXT, customer TEXT);
.import --csv --skip 1 tests/sql/data/orders_ij.csv orders_ij
UPDATE orders_ij SET ts = ts || '.000';
CREATE TABLE shipments_ij (order_id INTEGER, ts TEXT);
.import --csv --skip 1 tests/sql/data/shipments_ij.csv shipments_ij
UPDATE shipments_ij SET ts = ts || '.000';
CREATE TABLE nx_auction (id INTEGER, seller INTEGER, category INTEGER, initialBid INTEGER,
  dateTime TEXT, expires TEXT);
.import --csv --skip 1 tests/sql/data/nx_auction.csv nx_auction
UPDATE nx_auction SET dateTime = dateTime || '.000', expires = expires || '.000';
CREATE TABLE nx_bid (auction INTEGER, bidder INTEGER, price INTEGER, dateTime TEXT);
.import --csv --skip 1 tests/sql/data/nx_bid.csv nx_bid
UPDATE nx_bid SET dateTime = dateTime || '.000';
CREATE TABLE distinct_bids (auction INTEGER, bidder INTEGER, price INTEGER, channel TEXT);
.import --csv --skip 1 tests/sql/data/distinct_bids.csv distinct_bids
UPDATE distinct_bids SET bidder = NULL WHERE bidder = 'NULL';
UPDATE distinct_bids SET price = NULL WHERE price = 'NULL';
UPDATE distinct_bids SET channel = NULL WHERE channel = 'NULL';
CREATE TABLE nx_person (id INTEGER, name TEXT, city TEXT, state TEXT, dateTime TEXT);
.import --csv --skip 1 tests/sql/data/nx_person.csv nx_person
UPDATE nx_person SET dateTime = dateTime || '.000';

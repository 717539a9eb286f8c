-- Hourly delay statistics per origin airport over January 2001 (508,239 real US flights).
-- Run it with `make demo` or `eddy run examples/flights/delays.sql` from the repository root.

-- The flights as they happened: one CSV row per flight, in departure-time order. `date` is the
-- event time; the watermark tolerates rows up to 5 minutes out of order.
CREATE TABLE flights (
  `date`      TIMESTAMP(3),
  delay       INT,            -- arrival delay in minutes (negative = early)
  distance    INT,            -- miles
  origin      STRING,         -- IATA code of the departure airport
  destination STRING,
  WATERMARK FOR `date` AS `date` - INTERVAL '5' MINUTE
) WITH (
  'connector' = 'filesystem',
  'path' = 'examples/data/flights-2001-01.csv.gz',
  'format' = 'csv',
  'csv.ignore-first-line' = 'true'
);

-- Per origin airport and hour: flights, average delay, max delay, share delayed by > 15 minutes.
CREATE VIEW hourly_delays AS
SELECT
  origin,
  window_start,
  window_end,
  COUNT(*)                                               AS flights,
  ROUND(AVG(CAST(delay AS DOUBLE)), 2)                   AS avg_delay,
  MAX(delay)                                             AS max_delay,
  ROUND(CAST(COUNT(*) FILTER (WHERE delay > 15) AS DOUBLE) / COUNT(*), 3) AS delayed_share
FROM TABLE(TUMBLE(TABLE flights, DESCRIPTOR(`date`), INTERVAL '1' HOUR))
GROUP BY origin, window_start, window_end;

-- Every (origin, hour) to a JSON Lines file.
CREATE TABLE hourly_delays_out (
  origin        STRING,
  window_start  TIMESTAMP(3),
  window_end    TIMESTAMP(3),
  flights       BIGINT,
  avg_delay     DOUBLE,
  max_delay     INT,
  delayed_share DOUBLE
) WITH (
  'connector' = 'filesystem',
  'path' = 'out/hourly_delays.jsonl',
  'format' = 'json'
);

INSERT INTO hourly_delays_out SELECT * FROM hourly_delays;

-- A short table on the terminal: the worst hours at busy airports.
SELECT origin, window_start, flights, avg_delay, max_delay, delayed_share
FROM hourly_delays
WHERE flights >= 30 AND avg_delay > 60
ORDER BY avg_delay DESC
LIMIT 10;

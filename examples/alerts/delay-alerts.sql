-- Alerts from a pattern rule to an HTTP endpoint (the 'http' sink): airports whose hourly average
-- delay rises three hours in a row and then exceeds 60 minutes (MATCH_RECOGNIZE over a windowed
-- view of the flights), each alert POSTed as JSON to an incident endpoint in batches of up to 10.
-- Run: bash examples/alerts/run.sh   (starts a local endpoint that prints what it receives)
-- The endpoint below is what run.sh substitutes with its own address.

CREATE TABLE flights (
  `date`      TIMESTAMP(3),
  delay       INT,
  distance    INT,
  origin      STRING,
  destination STRING,
  WATERMARK FOR `date` AS `date` - INTERVAL '5' MINUTE
) WITH (
  'connector' = 'filesystem',
  'path' = 'examples/data/flights-2001-01.csv.gz',
  'format' = 'csv',
  'csv.ignore-first-line' = 'true'
);

CREATE VIEW hourly AS
SELECT origin, window_start, window_time, COUNT(*) AS flights,
       AVG(CAST(delay AS DOUBLE)) AS avg_delay
FROM TABLE(TUMBLE(TABLE flights, DESCRIPTOR(`date`), INTERVAL '1' HOUR))
GROUP BY origin, window_start, window_end, window_time
HAVING COUNT(*) >= 5;

CREATE TABLE incidents (
  airport     STRING,
  rise_start  TIMESTAMP(3),
  alert_hour  TIMESTAMP(3),
  start_delay DOUBLE,
  alert_delay DOUBLE
) WITH (
  'connector' = 'http',
  'url' = 'http://127.0.0.1:8099/incidents',
  'headers' = 'Authorization: Bearer example-token',
  'sink.batch.max-rows' = '10',
  'sink.max-retries' = '5'
);

INSERT INTO incidents
SELECT origin, rise_start, alert_hour, start_delay, alert_delay
FROM hourly
MATCH_RECOGNIZE (
  PARTITION BY origin
  ORDER BY window_time
  MEASURES
    FIRST(R.window_start)             AS rise_start,
    H.window_start                    AS alert_hour,
    ROUND(FIRST(R.avg_delay), 1)      AS start_delay,
    ROUND(H.avg_delay, 1)             AS alert_delay
  AFTER MATCH SKIP PAST LAST ROW
  PATTERN (R{3} H)
  DEFINE
    R AS R.avg_delay > PREV(R.avg_delay),
    H AS H.avg_delay > PREV(H.avg_delay) AND H.avg_delay > 60
) AS m;

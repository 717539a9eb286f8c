-- (1) Airports whose hourly average delay rises three hours in a row and then exceeds 60 minutes:
-- MATCH_RECOGNIZE over a windowed view of the flights (the view's window_time is its event time).
-- Run: eddy run examples/cep/delay_rise.sql

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

-- Hourly average arrival delay per origin airport (hours with at least 5 flights).
CREATE VIEW hourly AS
SELECT origin, window_start, window_time, COUNT(*) AS flights,
       AVG(CAST(delay AS DOUBLE)) AS avg_delay
FROM TABLE(TUMBLE(TABLE flights, DESCRIPTOR(`date`), INTERVAL '1' HOUR))
GROUP BY origin, window_start, window_end, window_time
HAVING COUNT(*) >= 5;

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
) AS m
ORDER BY alert_delay DESC, origin
LIMIT 8;

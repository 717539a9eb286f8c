-- (4) Absence in event time (eddy's extension of MATCH_RECOGNIZE, docs/cep.md): a departure
-- during the day (06:00-17:59) that no other departure from the same airport follows within
-- 3 hours, i.e. the airport went silent. It fires when the watermark passes the departure's
-- time + 3 hours. Departures after Jan 31 12:00 are left out: the month ends there, not the
-- traffic. Run: eddy run examples/cep/silent_airports.sql

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

CREATE VIEW silences AS
SELECT *
FROM flights
MATCH_RECOGNIZE (
  PARTITION BY origin
  ORDER BY `date`
  MEASURES F.`date` AS last_departure, F.destination AS destination
  AFTER MATCH SKIP TO NEXT ROW
  PATTERN (F NOT G)
  WITHIN INTERVAL '3' HOUR
  DEFINE
    F AS HOUR(F.`date`) BETWEEN 6 AND 17 AND F.`date` < TIMESTAMP '2001-01-31 12:00:00'
) AS s;

-- A sample: the first daytime silences of the month.
SELECT origin, last_departure, destination FROM silences
ORDER BY last_departure, origin
LIMIT 6;

-- Which airports go silent most often in the daytime.
SELECT origin, COUNT(*) AS silences
FROM silences
GROUP BY origin
ORDER BY silences DESC, origin
LIMIT 5;

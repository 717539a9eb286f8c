-- (2) Flights enriched with the names and states of their origin and destination airports: a
-- lookup join against examples/data/airports.csv, loaded when the job starts. The flights keep
-- their event-time attribute, so windows can follow the join (the second query).
-- Run: eddy run examples/cep/enrich.sql

CREATE TABLE flights (
  `date`      TIMESTAMP(3),
  delay       INT,
  distance    INT,
  origin      STRING,
  destination STRING,
  proc_time AS PROCTIME(),               -- the lookup join's "as of" time (Flink requires it)
  WATERMARK FOR `date` AS `date` - INTERVAL '5' MINUTE
) WITH (
  'connector' = 'filesystem',
  'path' = 'examples/data/flights-2001-01.csv.gz',
  'format' = 'csv',
  'csv.ignore-first-line' = 'true'
);

CREATE TABLE airports (
  iata      STRING,
  name      STRING,
  city      STRING,
  state     STRING,
  country   STRING,
  latitude  DOUBLE,
  longitude DOUBLE
) WITH (
  'connector' = 'filesystem',
  'path' = 'examples/data/airports.csv',
  'format' = 'csv',
  'csv.ignore-first-line' = 'true'
);

CREATE VIEW enriched AS
SELECT f.`date`, f.origin, o.name AS origin_name, o.state AS origin_state,
       f.destination, d.name AS dest_name, d.state AS dest_state, f.delay
FROM flights AS f
JOIN airports FOR SYSTEM_TIME AS OF f.proc_time AS o ON f.origin = o.iata
LEFT JOIN airports FOR SYSTEM_TIME AS OF f.proc_time AS d ON f.destination = d.iata;

-- A sample of enriched flights: the five most delayed.
SELECT `date`, origin, origin_name, origin_state, destination, dest_name, dest_state, delay
FROM enriched
ORDER BY delay DESC, `date`
LIMIT 5;

-- Windows after the join: per origin state and day, flights and average delay; the busiest.
SELECT origin_state, window_start, COUNT(*) AS flights, ROUND(AVG(CAST(delay AS DOUBLE)), 1) AS avg_delay
FROM TABLE(TUMBLE(TABLE enriched, DESCRIPTOR(`date`), INTERVAL '1' DAY))
GROUP BY origin_state, window_start, window_end
ORDER BY flights DESC, window_start
LIMIT 5;

-- Two more window kinds over the same flights (Flink SQL window TVFs).
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

-- HOP: 3-hour windows sliding every hour. The busiest 3-hour spans out of Chicago O'Hare.
SELECT window_start, window_end, COUNT(*) AS departures, MAX(delay) AS max_delay
FROM TABLE(HOP(TABLE flights, DESCRIPTOR(`date`), INTERVAL '1' HOUR, INTERVAL '3' HOUR))
WHERE origin = 'ORD'
GROUP BY window_start, window_end
ORDER BY departures DESC
LIMIT 5;

-- SESSION: bursts of departures from Honolulu separated by quiet gaps of 30 minutes or more.
-- The longest bursts of the month.
SELECT origin, window_start, window_end, COUNT(*) AS departures
FROM TABLE(SESSION(TABLE flights PARTITION BY origin, DESCRIPTOR(`date`), INTERVAL '30' MINUTE))
WHERE origin = 'HNL'
GROUP BY origin, window_start, window_end
ORDER BY departures DESC
LIMIT 5;

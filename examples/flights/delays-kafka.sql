-- The delays query of delays.sql over a live topic: hourly delay statistics per origin airport,
-- read from the 'flights' topic (written by examples/flights/replay.sh) and written to the
-- 'hourly_delays' topic as JSON. Start a broker and replay the flights first:
--   build/eddy server --data-dir /tmp/eddy-data &
--   examples/flights/replay.sh
--   build/eddy run examples/flights/delays-kafka.sql
--   build/eddy consume hourly_delays --from-beginning -e
-- With 'scan.bounded.mode' = 'latest-offset' the job reads what the topic holds when it starts
-- and ends, firing every window; without it, it runs until Ctrl-C and results follow the stream.

CREATE TABLE flights (
  `date`      TIMESTAMP(3),
  delay       INT,
  distance    INT,
  origin      STRING,
  destination STRING,
  `partition` INT METADATA VIRTUAL,         -- where each record came from (Kafka metadata)
  `offset`    BIGINT METADATA VIRTUAL,
  WATERMARK FOR `date` AS `date` - INTERVAL '5' MINUTE
) WITH (
  'connector' = 'kafka',
  'topic' = 'flights',
  'properties.bootstrap.servers' = '127.0.0.1:9092',
  'scan.startup.mode' = 'earliest-offset',
  'scan.bounded.mode' = 'latest-offset',
  'format' = 'json'
);

CREATE TABLE hourly_delays (
  origin        STRING,
  window_start  TIMESTAMP(3),
  window_end    TIMESTAMP(3),
  flights       BIGINT,
  avg_delay     DOUBLE,
  max_delay     INT,
  delayed_share DOUBLE
) WITH (
  'connector' = 'kafka',
  'topic' = 'hourly_delays',
  'properties.bootstrap.servers' = '127.0.0.1:9092',
  'key.format' = 'raw',
  'key.fields' = 'origin',
  'format' = 'json'
);

INSERT INTO hourly_delays
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

-- (3) A delay that propagates: a flight arriving at airport X more than 60 minutes late, followed
-- within 2 hours of its arrival by departures from X that are also more than 60 minutes late (an
-- interval join of the flights with themselves). The data has departure times only; a flight's
-- arrival time is estimated as departure + 30 min + 1 min per 8 miles (about 480 mph).
-- Run: eddy run examples/cep/delay_propagation.sql

-- The flights as arrivals: event time is the estimated arrival. Long flights make this column
-- out of order by several hours relative to the file, hence the 6-hour watermark delay.
CREATE TABLE arrivals (
  `date`      TIMESTAMP(3),
  delay       INT,
  distance    INT,
  origin      STRING,
  destination STRING,
  arrival AS `date` + INTERVAL '1' MINUTE * (30 + distance / 8),
  WATERMARK FOR arrival AS arrival - INTERVAL '6' HOUR
) WITH (
  'connector' = 'filesystem',
  'path' = 'examples/data/flights-2001-01.csv.gz',
  'format' = 'csv',
  'csv.ignore-first-line' = 'true'
);

-- The same flights as departures.
CREATE TABLE departures (
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

CREATE VIEW late_arrivals AS SELECT destination, arrival, delay, origin FROM arrivals WHERE delay > 60;
CREATE VIEW late_departures AS SELECT origin, `date`, delay, destination FROM departures WHERE delay > 60;

CREATE VIEW propagation AS
SELECT a.destination AS airport, a.arrival, a.origin AS came_from, a.delay AS arrival_delay,
       d.`date` AS departure, d.destination AS going_to, d.delay AS departure_delay
FROM late_arrivals AS a
JOIN late_departures AS d
  ON a.destination = d.origin
 AND d.`date` BETWEEN a.arrival AND a.arrival + INTERVAL '2' HOUR;

-- A sample: the pairs with the largest delays on both legs.
SELECT airport, arrival, came_from, arrival_delay, departure, going_to, departure_delay,
       arrival_delay + departure_delay AS total
FROM propagation
WHERE arrival_delay > 300 AND departure_delay > 300
ORDER BY total DESC, departure
LIMIT 5;

-- Airports where late arrivals were most often followed by late departures, per day (windows
-- after the join: the arrival keeps its event-time attribute).
SELECT airport, window_start, COUNT(*) AS propagated
FROM TABLE(TUMBLE(TABLE propagation, DESCRIPTOR(arrival), INTERVAL '1' DAY))
GROUP BY airport, window_start, window_end
ORDER BY propagated DESC, airport
LIMIT 5;

"""Exactly-once through SIGKILL for `eddy run` jobs with checkpoints (issue: fault tolerance).

The job reads the flights file and writes exactly-once filesystem sinks (a single file and a
directory of part files). A driver starts it with checkpoints every few tens of milliseconds,
kills it with SIGKILL at a random moment, restarts it with `--from-checkpoint latest`, and so on
until a run finishes. Checked:
  * after every kill, what is visible in the sinks is a sub-multiset of the reference output (no
    row twice, no row that is not in the result: uncommitted output stays hidden);
  * when a run finishes, the visible output equals the output of a run without failures, row for
    row (as multisets), and no in-progress file is left visible;
  * the total number of kills reaches KILLS (several episodes when one finishes early).

Scenarios (the optional 7th argument):
  windows  (default) the flights delays query (TUMBLE) and a HOP aggregation, into a single file
           and a directory of part files;
  cep-join a MATCH_RECOGNIZE query (streaks of delayed departures per airport, partial matches in
           the state) and an interval join (delayed arrivals met by a delayed departure at the hub
           within 5 minutes), into a single file and a directory.

Usage: crash_file_job.py EDDY ROOT WORK DATA_FILE KILLS SEED [SCENARIO]
"""
import collections
import glob
import os
import random
import shutil
import signal
import subprocess
import sys
import time

EDDY, ROOT, WORK, DATA, KILLS, SEED = sys.argv[1:7]
SCENARIO = sys.argv[7] if len(sys.argv) > 7 else "windows"
KILLS = int(KILLS)
random.seed(int(SEED))

JOB = """
CREATE TABLE flights (
  `date` TIMESTAMP(3), delay INT, distance INT, origin STRING, destination STRING,
  WATERMARK FOR `date` AS `date` - INTERVAL '5' MINUTE
) WITH ('connector' = 'filesystem', 'path' = '{data}', 'format' = 'csv',
        'csv.ignore-first-line' = 'true');
CREATE TABLE delays_out (origin STRING, window_start TIMESTAMP(3), flights BIGINT,
  avg_delay DOUBLE, max_delay INT)
  WITH ('connector' = 'filesystem', 'path' = '{out}/delays.jsonl', 'format' = 'json');
CREATE TABLE routes_out (origin STRING, destination STRING, window_start TIMESTAMP(3),
  flights BIGINT, total_distance INT)
  WITH ('connector' = 'filesystem', 'path' = '{out}/routes/', 'format' = 'csv');
INSERT INTO delays_out
SELECT origin, window_start, COUNT(*), ROUND(AVG(CAST(delay AS DOUBLE)), 2), MAX(delay)
FROM TABLE(TUMBLE(TABLE flights, DESCRIPTOR(`date`), INTERVAL '1' HOUR))
GROUP BY origin, window_start, window_end;
INSERT INTO routes_out
SELECT origin, destination, window_start, COUNT(*), SUM(distance)
FROM TABLE(HOP(TABLE flights, DESCRIPTOR(`date`), INTERVAL '6' HOUR, INTERVAL '1' DAY))
WHERE delay > 30
GROUP BY origin, destination, window_start, window_end;
"""

CEP_JOIN_JOB = """
CREATE TABLE flights (
  `date` TIMESTAMP(3), delay INT, distance INT, origin STRING, destination STRING,
  WATERMARK FOR `date` AS `date` - INTERVAL '5' MINUTE
) WITH ('connector' = 'filesystem', 'path' = '{data}', 'format' = 'csv',
        'csv.ignore-first-line' = 'true');
CREATE TABLE departures (
  `date` TIMESTAMP(3), delay INT, distance INT, origin STRING, destination STRING,
  WATERMARK FOR `date` AS `date` - INTERVAL '5' MINUTE
) WITH ('connector' = 'filesystem', 'path' = '{data}', 'format' = 'csv',
        'csv.ignore-first-line' = 'true');
CREATE TABLE streaks_out (origin STRING, start_ts TIMESTAMP(3), end_ts TIMESTAMP(3), n BIGINT,
  worst INT)
  WITH ('connector' = 'filesystem', 'path' = '{out}/streaks.jsonl', 'format' = 'json');
CREATE TABLE connections_out (hub STRING, arrived TIMESTAMP(3), departed TIMESTAMP(3),
  in_delay INT, out_delay INT)
  WITH ('connector' = 'filesystem', 'path' = '{out}/connections/', 'format' = 'csv');
INSERT INTO streaks_out
SELECT * FROM flights MATCH_RECOGNIZE (
  PARTITION BY origin ORDER BY `date`
  MEASURES FIRST(A.`date`) AS start_ts, LAST(A.`date`) AS end_ts, COUNT(A.delay) AS n,
    MAX(A.delay) AS worst
  ONE ROW PER MATCH AFTER MATCH SKIP PAST LAST ROW
  PATTERN (A{{3,}} B) DEFINE A AS A.delay > 60, B AS B.delay <= 60);
INSERT INTO connections_out
SELECT a.destination, a.`date`, b.`date`, a.delay, b.delay
FROM (SELECT * FROM flights WHERE delay > 120) a
JOIN (SELECT * FROM departures WHERE delay > 120) b ON a.destination = b.origin
  AND b.`date` BETWEEN a.`date` AND a.`date` + INTERVAL '5' MINUTE;
"""


def write_job(path, out):
    with open(path, "w") as f:
        f.write({"windows": JOB, "cep-join": CEP_JOIN_JOB}[SCENARIO].format(data=DATA, out=out))


def visible_rows(out):
    """Rows of the visible output files (hidden in-progress files are not read), each tagged with
    its single file or directory."""
    rows = collections.Counter()
    for p in sorted(glob.glob(os.path.join(out, "*")) + glob.glob(os.path.join(out, "*", "*"))):
        if not os.path.isfile(p) or os.path.basename(p).startswith("."):
            continue
        tag = os.path.relpath(p, out) if os.path.dirname(p) == out else os.path.basename(
            os.path.dirname(p))
        with open(p) as f:
            for line in f:
                # A crash in the middle of a commit may leave a torn last line of the single file
                # until the restart commits again: not a row yet.
                if not line.endswith("\n"):
                    continue
                rows[tag + ":" + line.rstrip("\n")] += 1
    return rows


def run(args, cwd, timeout=600):
    return subprocess.run([EDDY, "run"] + args, cwd=cwd, capture_output=True, text=True,
                          timeout=timeout)


fails = 0


def check(cond, what):
    global fails
    if cond:
        print("ok: " + what)
    else:
        print("FAIL: " + what)
        fails += 1


# Reference: one run without failures (and without checkpoints).
ref_dir = os.path.join(WORK, "ref")
os.makedirs(ref_dir, exist_ok=True)
write_job(os.path.join(WORK, "ref.sql"), ref_dir)
t0 = time.time()
r = run([os.path.join(WORK, "ref.sql"), "-q"], WORK)
duration = time.time() - t0
if r.returncode != 0:
    print("FAIL: reference run: " + r.stderr[-2000:])
    sys.exit(1)
ref = visible_rows(ref_dir)
print("ok: reference run: %d rows in %.2f s" % (sum(ref.values()), duration))

kills = episodes = restarts = 0
while kills < KILLS:
    episodes += 1
    out = os.path.join(WORK, "out%d" % episodes)
    cp = os.path.join(WORK, "cp%d" % episodes)
    os.makedirs(out)
    job = os.path.join(WORK, "job%d.sql" % episodes)
    write_job(job, out)
    parallelism = random.choice([1, 2])
    args = [job, "-q", "--set", "execution.checkpointing.interval=%dms" % random.choice([20, 50, 100]),
            "--set", "execution.checkpointing.dir=" + cp, "--set",
            "parallelism.default=%d" % parallelism, "--from-checkpoint", "latest"]
    finished = False
    for attempt in range(200):
        p = subprocess.Popen([EDDY, "run"] + args, cwd=WORK, stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE, text=True)
        # Kill at a random moment of the expected run time (sometimes past it: a clean finish).
        delay = random.uniform(0.02, duration * 1.3 + 0.1)
        try:
            p.wait(timeout=delay)
        except subprocess.TimeoutExpired:
            pass
        if p.poll() is None and kills < KILLS:
            p.send_signal(signal.SIGKILL)
            p.wait()
            kills += 1
            restarts += 1
            rows = visible_rows(out)
            extra = rows - ref
            if extra:
                check(False, "episode %d kill %d: visible rows not in the result (or twice): %s" %
                      (episodes, kills, list(extra.items())[:3]))
            continue
        err = p.communicate(timeout=600)[1]
        if p.returncode != 0:
            check(False, "episode %d: run exited %d: %s" % (episodes, p.returncode, err[-1500:]))
            break
        finished = True
        break
    if not finished:
        check(False, "episode %d did not finish" % episodes)
        continue
    rows = visible_rows(out)
    check(rows == ref, "episode %d (parallelism %d, %d restarts so far): output equals the "
          "reference (%d rows; missing %d, extra %d)" %
          (episodes, parallelism, restarts, sum(rows.values()), sum((ref - rows).values()),
           sum((rows - ref).values())))
    leftovers = [f for f in glob.glob(os.path.join(out, "**", ".*inprogress*"), recursive=True)]
    check(not leftovers, "episode %d: no in-progress file left (%s)" % (episodes, leftovers[:2]))
    shutil.rmtree(out)
    shutil.rmtree(cp, ignore_errors=True)

print("%d kills over %d episodes" % (kills, episodes))
sys.exit(1 if fails else 0)

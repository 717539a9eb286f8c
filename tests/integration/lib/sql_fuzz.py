"""Mutation fuzzing of SQL: valid queries with tokens inserted, deleted or replaced must end with
exit code 0 (ran) or 1 (clear error), never a signal or another code. Deterministic (seeded).

Usage: sql_fuzz.py EDDY WORKDIR SEED COUNT"""
import os, random, subprocess, sys
EDDY, WORK = sys.argv[1], sys.argv[2]
random.seed(int(sys.argv[3]))
ddl = "CREATE TABLE t (ts TIMESTAMP(3), k STRING, v INT, d DOUBLE, m DECIMAL(10,2), WATERMARK FOR ts AS ts - INTERVAL '1' MINUTE) WITH ('connector'='filesystem','format'='csv','path'='" + os.path.join(WORK, 't.csv') + "');"
open(os.path.join(WORK, 't.csv'),'w').write("2024-01-01 00:00:00,a,1,1.5,2.25\n2024-01-01 00:10:00,b,,NaN,\n2024-01-01 00:00:30,a,-3,-0.0,-1.10\n,,,,\n")
queries = [
 "SELECT k, COUNT(*), SUM(v), AVG(d), MIN(m), MAX(k) FROM TABLE(TUMBLE(TABLE t, DESCRIPTOR(ts), INTERVAL '5' MINUTE)) GROUP BY k, window_start, window_end",
 "SELECT k, v * 2 + 1, CAST(v AS STRING) || k, CASE WHEN v > 0 THEN 'p' ELSE 'n' END FROM t WHERE v IS NOT NULL",
 "SELECT k, COUNT(DISTINCT v) FILTER (WHERE d > 0) FROM t GROUP BY k HAVING COUNT(*) > 0",
 "SELECT window_start, STDDEV_POP(d), VAR_SAMP(v) FROM TABLE(HOP(TABLE t, DESCRIPTOR(ts), INTERVAL '1' MINUTE, INTERVAL '5' MINUTE)) GROUP BY window_start, window_end",
 "SELECT k, window_start, COUNT(*) FROM TABLE(SESSION(TABLE t PARTITION BY k, DESCRIPTOR(ts), INTERVAL '1' MINUTE)) GROUP BY k, window_start, window_end",
 "SELECT SUBSTRING(k, 1, 2), UPPER(k), ROUND(d, 1), ABS(v), MOD(v, 2), EXTRACT(HOUR FROM ts), FLOOR(ts TO HOUR), DATE_FORMAT(ts, 'yyyy'), REGEXP_EXTRACT(k, '(a)'), COALESCE(v, 0), NULLIF(v, 1), TRY_CAST(k AS INT) FROM t",
 "SELECT DISTINCT k FROM t WHERE k LIKE 'a%' AND v BETWEEN -5 AND 5 OR k IN ('b', 'c')",
 "WITH x AS (SELECT k, v FROM t) SELECT k, SUM(v) FROM x GROUP BY k ORDER BY 2 DESC LIMIT 1",
]
tokens = ["(", ")", ",", "*", "+", "-", "/", "%", "'", "''", "NULL", "1", "0", "-1", "99999999999999999999", "1e308", "ts", "k", "v", "d", "m", "t",
          "SELECT", "FROM", "WHERE", "GROUP BY", "AND", "OR", "NOT", "CAST(", "AS INT)", "AS DECIMAL(18,18))", "INTERVAL '0' SECOND",
          "TABLE(", "DESCRIPTOR(ts)", "window_start", "window_end", "COUNT(*)", "SUM(", "CASE", "WHEN", "THEN", "END", "||", "=", "<", "IS NULL",
          "TIMESTAMP '2024-01-01 00:00:00'", "DATE '2024-02-30'", "/*", "--", ";", "`", "\"", "OVER (", "JOIN", "ON", "UNION ALL"]
bad = 0
for it in range(int(sys.argv[4])):
    q = random.choice(queries).split(" ")
    for _ in range(random.randint(1, 3)):
        op = random.random()
        pos = random.randrange(len(q))
        if op < 0.4: q.insert(pos, random.choice(tokens))
        elif op < 0.7: del q[pos]
        else: q[pos] = random.choice(tokens)
    sql = ddl + " " + " ".join(q) + ";"
    for p in ("1", "2"):
        r = subprocess.run([EDDY, "run", "-q", "--set", "parallelism.default=" + p, "--set", "eddy.batch-size=2", "-e", sql],
                           capture_output=True, text=True, timeout=60)
        if r.returncode not in (0, 1):
            bad += 1
            print("CRASH rc=%d p=%s: %s\n%s" % (r.returncode, p, sql, r.stderr[-500:]))
print("%d mutated scripts x 2 parallelisms, %d abnormal exits" % (int(sys.argv[4]), bad))
sys.exit(1 if bad else 0)

#!/usr/bin/env bash
# `eddy sql`, the SQL shell (src/cli/sql_shell.cc):
#   * piped and -f scripts: statements (multi-line, ';' inside strings and comments) run in
#     order, the first error stops the script with exit code 1 and the SQL error's caret;
#   * interactive, driven through tmux as a person types (send-keys, capture-pane): a multi-line
#     statement with the continuation prompt, results as tables, an unbounded SELECT over a topic
#     that Ctrl-C ends without leaving the shell, the history file written on QUIT;
#   * --server: CREATE TABLE checked by the server, CREATE PIPELINE submits a pipeline, SHOW
#     PIPELINES lists it, a SELECT runs as a push query, DROP PIPELINE cancels it.
#
# Usage: bash sql_shell.sh <path-to-eddy> <repo-root>
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
source "$LIB/kafka.sh"
need_cmd tmux curl

cd "$ROOT"
FLIGHTS_DDL="CREATE TABLE f (\`date\` TIMESTAMP(3), delay INT, distance INT, origin STRING,
  destination STRING) WITH ('connector' = 'filesystem', 'path' = '$FLIGHTS', 'format' = 'csv',
  'csv.ignore-first-line' = 'true');"

section "piped and -f scripts"
printf '%s\nSELECT origin, COUNT(*) AS n FROM f WHERE origin = '"'"'ABE'"'"' -- a comment; with a semicolon\n  AND destination <> '"'"'x;y'"'"' GROUP BY origin;\nSHOW TABLES;\n' "$FLIGHTS_DDL" >"$WORK/s.sql"
RC=0
"$EDDY" sql <"$WORK/s.sql" >"$WORK/p.out" 2>"$WORK/p.err" || RC=$?
grep -q '| +U | ABE    | 488 |' "$WORK/p.out" && grep -q '| f          |' "$WORK/p.out" && [[ $RC == 0 ]] &&
  ok "piped: the multi-line query's changelog ends at ABE 488, then SHOW TABLES; exit 0" ||
  bad "piped: exit $RC $(tail -3 "$WORK/p.out") $(tail -2 "$WORK/p.err")"
RC=0
"$EDDY" sql -f "$WORK/s.sql" >"$WORK/f.out" 2>&1 || RC=$?
cmp -s "$WORK/f.out" "$WORK/p.out" && [[ $RC == 0 ]] && ok "-f gives the same output" || bad "-f: exit $RC"
RC=0
printf 'SHOW TABLES; -- a trailing comment\n/* and a block comment */\n' | "$EDDY" sql >/dev/null 2>"$WORK/c.err" || RC=$?
[[ $RC == 0 ]] && ok "comments after the last statement are not a statement: exit 0" || bad "trailing comment: exit $RC $(cat "$WORK/c.err")"
printf 'SELECT nope FROM f;\nSHOW TABLES;\n' | { RC=0; "$EDDY" sql >"$WORK/e.out" 2>"$WORK/e.err" || RC=$?; echo $RC >"$WORK/e.rc"; }
[[ $(cat "$WORK/e.rc") == 1 ]] && grep -q "\[ERROR\] SQL error at line 1, column 18" "$WORK/e.err" && [[ ! -s "$WORK/e.out" ]] &&
  ok "the first error stops a script: exit 1, [ERROR] with line:column, nothing after it ran" ||
  bad "error: exit $(cat "$WORK/e.rc") $(cat "$WORK/e.err")"

section "result modes: changelog and table (Flink's sql-client.execution.result-mode)"
"$PY" - "$WORK/k.csv" "$WORK/k.want" <<'PY'
import collections, random, sys
random.seed(12)
rows = [(random.choice("pqrst"), random.randint(1, 9)) for _ in range(60)]
open(sys.argv[1], "w").write("".join(f"{k},{v}\n" for k, v in rows))
c, s = collections.Counter(k for k, _ in rows), collections.Counter()
for k, v in rows: s[k] += v
open(sys.argv[2], "w").write("".join(f"{k} {c[k]} {s[k]}\n" for k in sorted(c)))
PY
KDDL="CREATE TABLE k (name STRING, v INT) WITH ('connector' = 'filesystem', 'path' = '$WORK/k.csv', 'format' = 'csv');"
# table_rows FILE: the "| name | n | s |" rows of a printed table, as "name n s", sorted.
table_rows() { awk -F'|' 'NF == 5 && $2 !~ /name/ { gsub(/ /, ""); print $2, $3, $4 }' "$1" | sort; }
modes_check() {  # modes_check LABEL OUT
  if grep -Eq '^\| -U \| [p-t] +\| +[0-9]+ +\|' "$2" && grep -Eq '^\| \+U \| [p-t] +\| +[0-9]+ +\|' "$2"; then
    ok "$1 changelog mode: rows with their kinds, -U and +U among them ($(grep -c '^| [-+][IUD] |' "$2") changes)"
  else
    bad "$1 changelog mode: $(head -12 "$2")"
  fi
  sed -n '/^| name/,$p' "$2" >"$2.table"  # from the table mode's header on
  awk '/in the result/ { found = 1 } END { exit !found }' "$2" &&
    diff <(table_rows "$2.table" | grep -v '^op ') "$WORK/k.want" >/dev/null &&
    ok "$1 table mode: the final table is the counts and sums computed by Python ($(wc -l <"$WORK/k.want") keys)" ||
    bad "$1 table mode: $(tail -9 "$2") vs $(cat "$WORK/k.want")"
}
printf '%s\n' "$KDDL" "SET 'sql-client.execution.result-mode' = 'changelog';" \
  "SELECT name, COUNT(*) AS n FROM k GROUP BY name;" \
  "SET 'sql-client.execution.result-mode' = 'table';" \
  "SELECT name, COUNT(*) AS n, SUM(v) AS s FROM k GROUP BY name;" >"$WORK/modes.sql"
"$EDDY" sql -f "$WORK/modes.sql" >"$WORK/modes.out" 2>&1 || bad "modes script failed: $(tail -3 "$WORK/modes.out")"
modes_check "embedded:" "$WORK/modes.out"

section "interactive, through tmux"
start_server "$WORK/data" --http-listen 127.0.0.1:0 --http-port-file "$WORK/http-port"
for _ in $(seq 1 100); do [[ -s "$WORK/http-port" ]] && break; sleep 0.1; done
H="http://127.0.0.1:$(cat "$WORK/http-port")"
BS="127.0.0.1:$PORT"
"$EDDY" topic create ev --bootstrap-server "$BS" >/dev/null
printf 'a,1\nb,2\n' | "$EDDY" produce ev --bootstrap-server "$BS" >/dev/null 2>&1
SOCK="$WORK/tmux.sock"
tmux -S "$SOCK" new-session -d -s shell -x 160 -y 50 \
  "cd '$ROOT' && HOME='$WORK' '$EDDY' sql 2>&1; echo SHELL-EXITED-\$?; sleep 30"
pane() { tmux -S "$SOCK" capture-pane -p -t shell -S -200 | grep -v '^$' || true; }
# (A trailing space: tmux takes a ';' that ends an argument as its own command separator.)
type_line() { tmux -S "$SOCK" send-keys -t shell -l "$1 "; tmux -S "$SOCK" send-keys -t shell Enter; }
wait_pane() {  # wait_pane PATTERN SECONDS
  local i
  for ((i = 0; i < $2 * 10; i++)); do
    grep -q -- "$1" <<<"$(pane)" && return 0
    sleep 0.1
  done
  return 1
}
wait_pane "eddy>" 20 || bad "no prompt: $(pane | tail -3)"
type_line "CREATE TABLE ev (k STRING, v INT) WITH ('connector' = 'kafka', 'topic' = 'ev',"
wait_pane "^   ->" 10 && ok "a statement without ';' continues on the next line ('   -> ')" || bad "no continuation prompt"
type_line "  'properties.bootstrap.servers' = '$BS', 'scan.startup.mode' = 'earliest-offset', 'format' = 'csv');"
wait_pane "Execute statement succeed" 20 && ok "CREATE TABLE: [INFO] Execute statement succeed." || bad "CREATE TABLE: $(pane | tail -5)"
type_line "SELECT k, v * 10 AS v10 FROM ev;"
wait_pane "| b  *|  *20 |" 30 && ok "an unbounded SELECT prints rows as they arrive" || bad "no rows: $(pane | tail -8)"
tmux -S "$SOCK" send-keys -t shell C-c
wait_pane "Received a total of 2 rows" 10 && ok "Ctrl-C ends the query: 'Received a total of 2 rows'" || bad "after Ctrl-C: $(pane | tail -5)"
sleep 0.3
type_line "SHOW TABLES;"
wait_pane "| ev         |" 10 && ok "the shell is still there after Ctrl-C (SHOW TABLES answers)" || bad "after Ctrl-C the shell: $(pane | tail -5)"
type_line "$KDDL"
type_line "SET 'sql-client.execution.result-mode' = 'table';"
type_line "SELECT name, COUNT(*) AS n, SUM(v) AS s FROM k GROUP BY name;"
if wait_pane "rows in the result" 20; then
  pane >"$WORK/tty.out"
  [[ $(grep -c '^| name' "$WORK/tty.out") == 1 ]] && diff <(table_rows "$WORK/tty.out") "$WORK/k.want" >/dev/null &&
    ok "table mode on a terminal: one table redrawn in place, ending with the Python counts" ||
    bad "table mode on a terminal: $(tail -12 "$WORK/tty.out")"
else
  bad "table mode on a terminal: $(pane | tail -8)"
fi
type_line "QUIT;"
wait_pane "SHELL-EXITED-0" 10 && ok "QUIT; leaves with exit code 0" || bad "QUIT: $(pane | tail -3)"
grep -q "SHOW.040TABLES;" "$WORK/.eddy_history" 2>/dev/null && ok "history written to ~/.eddy_history (libedit encodes spaces as \\040)" ||
  bad "no history file: $(ls -a "$WORK")"
tmux -S "$SOCK" kill-server 2>/dev/null || true

section "--server: pipelines and push queries through the REST API"
cat >"$WORK/remote.sql" <<SQL
CREATE TABLE ev (k STRING, v INT) WITH ('connector' = 'kafka', 'topic' = 'ev',
  'properties.bootstrap.servers' = '$BS', 'scan.startup.mode' = 'earliest-offset', 'format' = 'csv');
CREATE TABLE sink_ev (k STRING, v INT) WITH ('connector' = 'blackhole');
CREATE PIPELINE copy_ev AS INSERT INTO sink_ev SELECT k, v FROM ev;
SHOW PIPELINES;
CREATE TABLE evb (k STRING, v INT) WITH ('connector' = 'kafka', 'topic' = 'ev',
  'properties.bootstrap.servers' = '$BS', 'scan.startup.mode' = 'earliest-offset',
  'scan.bounded.mode' = 'latest-offset', 'format' = 'csv');
SELECT k, v + 1 AS w FROM evb;
DROP PIPELINE copy_ev;
SQL
RC=0
"$EDDY" sql --server "$H" -f "$WORK/remote.sql" >"$WORK/r.out" 2>"$WORK/r.err" || RC=$?
grep -q "pipeline 'copy_ev' submitted" "$WORK/r.err" && ok "CREATE PIPELINE submitted copy_ev" || bad "no submit: $(cat "$WORK/r.err")"
grep -Eq "^copy_ev +(CREATED|RUNNING)" "$WORK/r.out" && ok "SHOW PIPELINES lists it: $(grep "^copy_ev" "$WORK/r.out")" || bad "SHOW PIPELINES: $(cat "$WORK/r.out")"
grep -q '^+I | a | 2$' "$WORK/r.out" && grep -q '^+I | b | 3$' "$WORK/r.out" &&
  ok "the SELECT ran as a push query: $(grep -c '^+I' "$WORK/r.out") rows" || bad "push query: $(cat "$WORK/r.out")"
state=$(curl -s "$H/v1/pipelines/copy_ev" | "$PY" -c 'import json, sys; print(json.load(sys.stdin)["state"])')
[[ $RC == 0 && $state == CANCELED ]] && ok "DROP PIPELINE cancelled it (state $state), exit 0" || bad "exit $RC, state $state"
RC=0
echo "CREATE TABLE bad (x INT) WITH ('connector' = 'nope');" | "$EDDY" sql --server "$H" >/dev/null 2>"$WORK/b.err" || RC=$?
[[ $RC == 1 ]] && grep -q "\[ERROR\].*unknown connector 'nope'" "$WORK/b.err" && ok "a bad CREATE TABLE is refused by the server: exit 1" ||
  bad "bad table: exit $RC $(cat "$WORK/b.err")"
"$EDDY" sql --server "$H" -f "$WORK/modes.sql" >"$WORK/rmodes.out" 2>&1 || bad "--server modes script failed: $(tail -3 "$WORK/rmodes.out")"
modes_check "--server:" "$WORK/rmodes.out"
stop_server
finish

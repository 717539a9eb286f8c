#!/usr/bin/env bash
# The filesystem sink never destroys data:
#   * a job whose sink writes where one of its sources reads (the same file, a file inside the
#     sink's directory, a sink file inside the directory or glob a source reads) is refused before
#     it runs, with both tables named, and the input is left byte for byte as it was;
#   * output goes to hidden in-progress files and becomes visible only when the job succeeds: a
#     job that fails half-way leaves an existing output file as it was and no visible partial
#     file, and leaves no in-progress file behind;
#   * a successful job's file holds exactly its rows, at parallelism 1 and 2, into a file and a
#     directory;
#   * a run restored from a finished job's final checkpoint leaves the output as it was.
#
# Usage: bash file_sink.sh <path-to-eddy> <repo-root>
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

cd "$WORK"
printf 'a,1\nb,2\nc,3\n' >t.csv
mkdir -p d
printf 'x,10\n' >d/one.csv
printf 'y,20\n' >d/two.csv
before=$(md5sum t.csv d/one.csv d/two.csv)

ddl() {  # ddl NAME PATH
  echo "CREATE TABLE $1 (k STRING, v INT) WITH ('connector'='filesystem','path'='$2','format'='csv');"
}

refused() {  # refused WHAT SQL
  local what=$1 sql=$2
  RC=0
  (cd "$WORK" && timeout 60 "$EDDY" run -e "$sql") >"$WORK/r.out" 2>"$WORK/r.err" || RC=$?
  if [[ $RC == 1 ]] && grep -q "same job reads" "$WORK/r.err"; then
    ok "$what: refused ($(grep -o "table '[a-z0-9]*' writes to '[^']*'" "$WORK/r.err" | head -1))"
  else
    bad "$what: exit code $RC, expected 1 with a clear error"
    sed -n '1,5p' "$WORK/r.err"
  fi
}

section "a sink may not write where a source of the same job reads"
refused "INSERT INTO t SELECT * FROM t" "$(ddl t t.csv) INSERT INTO t SELECT * FROM t;"
refused "a second table on the same file" "$(ddl t t.csv) $(ddl t2 ./t.csv) INSERT INTO t2 SELECT * FROM t;"
refused "a sink file inside the source directory" "$(ddl s d) $(ddl o d/out.csv) INSERT INTO o SELECT * FROM s;"
refused "a sink file matched by the source glob" "$(ddl s 'd/*.csv') $(ddl o d/new.csv) INSERT INTO o SELECT * FROM s;"
refused "a sink directory holding a source file" "$(ddl s d/one.csv) $(ddl o d/) INSERT INTO o SELECT * FROM s;"
refused "a join reading the sink's file" "$(ddl s d/one.csv) $(ddl t t.csv) INSERT INTO t SELECT s.k, s.v FROM s JOIN t ON s.k = t.k;"
after=$(md5sum t.csv d/one.csv d/two.csv)
if [[ "$before" == "$after" ]]; then ok "inputs unchanged"; else bad "an input file changed"; fi
if [[ -e d/out.csv || -e d/new.csv ]]; then bad "a refused job created its output file"; else ok "no output created"; fi

section "a failed job leaves no partial output"
# 3,000 good rows, then a bad row: the job fails after writing rows to its in-progress file.
"$PY" -c "
import sys
with open('big.csv', 'w') as f:
    for i in range(3000):
        f.write('k%d,%d\n' % (i, i))
    f.write('bad,notanumber\n')
"
printf 'old,1\n' >out.csv
for p in 1 2; do
  RC=0
  (cd "$WORK" && timeout 60 "$EDDY" run --set parallelism.default=$p --set eddy.batch-size=100 \
    -e "$(ddl big big.csv) $(ddl o out.csv) $(ddl od outdir/) INSERT INTO o SELECT * FROM big;
        INSERT INTO od SELECT * FROM big;") >f.out 2>f.err || RC=$?
  if [[ $RC == 1 ]] && grep -q "big.csv:3001" f.err; then ok "p$p: the job failed at big.csv:3001"; else
    bad "p$p: exit code $RC, expected 1 naming big.csv:3001"
    sed -n '1,5p' f.err
  fi
  if [[ "$(cat out.csv)" == "old,1" ]]; then ok "p$p: out.csv kept its old content"; else
    bad "p$p: out.csv changed: $(head -c 200 out.csv)"
  fi
  leftovers=$(find . -name '.*inprogress*' | wc -l)
  if [[ $leftovers == 0 ]]; then ok "p$p: no in-progress file left"; else
    bad "p$p: $leftovers in-progress files left: $(find . -name '.*inprogress*' | head -3)"
  fi
done

section "a successful job publishes exactly its rows"
head -n 3000 big.csv >good.csv
for p in 1 2; do
  rm -rf outdir
  RC=0
  (cd "$WORK" && timeout 60 "$EDDY" run --set parallelism.default=$p --set eddy.batch-size=100 \
    -e "$(ddl g good.csv) $(ddl o out.csv) $(ddl od outdir/) INSERT INTO o SELECT * FROM g;
        INSERT INTO od SELECT * FROM g;") >s.out 2>s.err || RC=$?
  if [[ $RC != 0 ]]; then
    bad "p$p: exit code $RC"
    sed -n '1,5p' s.err
    continue
  fi
  if cmp -s <(sort good.csv) <(sort out.csv); then ok "p$p: out.csv holds the 3000 rows"; else
    bad "p$p: out.csv differs from the input ($(wc -l <out.csv) lines)"
  fi
  if cmp -s <(sort good.csv) <(cat outdir/part-* | sort); then
    ok "p$p: the directory's part files hold the 3000 rows"
  else
    bad "p$p: the part files differ from the input"
  fi
  leftovers=$(find . -name '.*inprogress*' | wc -l)
  if [[ $leftovers == 0 ]]; then ok "p$p: no in-progress file left"; else bad "p$p: in-progress files left"; fi
done


section "a restart from a job's final checkpoint leaves its output as it was"
# The run takes only its final checkpoint (the interval is far longer than the job): its single
# file is published by one rename. Restoring that checkpoint finds the source at its end; the
# single file must keep its 3000 rows (an empty part renamed over it lost them all).
for p in 1 2; do
  rm -rf out.csv outdir cp
  for attempt in first restored; do
    RC=0
    (cd "$WORK" && timeout 60 "$EDDY" run --set parallelism.default=$p \
      --set execution.checkpointing.interval=1h --set execution.checkpointing.dir=cp \
      --from-checkpoint latest \
      -e "$(ddl g good.csv) $(ddl o out.csv) $(ddl od outdir/) INSERT INTO o SELECT * FROM g;
          INSERT INTO od SELECT * FROM g;") >s.out 2>s.err || RC=$?
    if [[ $RC != 0 ]]; then
      bad "p$p $attempt run: exit code $RC"
      sed -n '1,5p' s.err
      continue
    fi
    if cmp -s <(sort good.csv) <(sort out.csv) && cmp -s <(sort good.csv) <(cat outdir/part-* | sort); then
      ok "p$p after the $attempt run: out.csv and outdir/ hold the 3000 rows once"
    else
      bad "p$p after the $attempt run: out.csv has $(wc -l <out.csv) lines, outdir/ $(cat outdir/part-* | wc -l), expected 3000 each"
    fi
  done
done
finish

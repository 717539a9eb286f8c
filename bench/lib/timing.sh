# shellcheck shell=bash
# Timing helpers for bench/*.sh (sourced).

# best_seconds N CMD... : runs CMD N times (its stdout discarded; a failure stops the script under
# set -e) and prints the fastest wall-clock time in seconds.
best_seconds() {
  local n=$1 best= t0 t1 s
  shift
  for _ in $(seq "$n"); do
    t0=$(date +%s.%N)
    "$@" >/dev/null
    t1=$(date +%s.%N)
    s=$(echo "$t1 - $t0" | bc)
    if [[ -z $best ]] || (($(echo "$s < $best" | bc))); then best=$s; fi
  done
  echo "$best"
}

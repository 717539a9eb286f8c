#!/usr/bin/env bash
# Exactly-once Kafka output through SIGKILL: the flights delays query reads a topic of `eddy
# server` and writes its results with 'sink.delivery-guarantee' = 'exactly-once', (1) as an
# `eddy run` job over librdkafka, killed and restarted with --from-checkpoint latest, and (2) as
# an `eddy server --sql` pipeline on the local log, the whole server killed and restarted; a
# read_committed consumer must see every result exactly once. The checks are in
# crash_kafka_job.py. CI-sized: 10 kills per scenario; EDDY_CRASH_LONG=1 (make test-long): 30.
#
# Usage: bash kafka_job.sh <path-to-eddy> <repo-root>
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../integration/lib/common.sh"
SYSPY=/usr/bin/python3
if ! "$SYSPY" -c 'import confluent_kafka' 2>/dev/null; then
  skip "python3-confluent-kafka is not installed (scripts/install-deps installs it)"
fi
kills=10
if [[ "${EDDY_CRASH_LONG:-}" == 1 ]]; then kills=30; fi
for scenario in run pipeline; do
  section "exactly-once to Kafka through $kills SIGKILLs: $scenario"
  mkdir -p "$WORK/$scenario"
  if out=$(timeout 900 "$SYSPY" "$ROOT/tests/crash/crash_kafka_job.py" "$EDDY" "$ROOT" \
    "$WORK/$scenario" "$scenario" "$kills" 11 2>&1); then
    echo "$out" | grep -v '^%' | sed 's/^/  /'
  else
    bad "exactly-once through SIGKILL ($scenario):"
    echo "$out" | grep -v '^%' | tail -30 | sed 's/^/    | /'
    tail -30 "$WORK/$scenario/server.err" | sed 's/^/    | /'
  fi
done
finish

#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (ASan + UBSan) and runs each for a bounded time.
# `make fuzz` runs this; CI runs it with 60 s per target. Findings (crash-*, leak-*, timeout-*
# files) are kept in the output folder and make the script fail.
#
# Usage: bash fuzz/run.sh [SECONDS_PER_TARGET]   (default 60)
# Environment: EDDY_FUZZ_DIR (default build-fuzz).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUT=$(realpath -m "${EDDY_FUZZ_DIR:-$ROOT/build-fuzz}")
SECS=${1:-60}
CXX="clang++"
if ! command -v "$CXX" >/dev/null; then
  echo "fuzz: clang++ is not installed (scripts/install-deps installs clang)" >&2
  exit 1
fi
if command -v ccache >/dev/null; then CXX="ccache clang++"; fi
mkdir -p "$OUT/gen"
python3 "$ROOT/src/kafka/protocol/generate.py" --schemata "$ROOT/src/kafka/protocol/schemata" \
  --out "$OUT/gen/kafka" --shards 8 >/dev/null
FLAGS=(-std=c++20 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
  -I"$ROOT/src" -I"$OUT/gen" $(pkg-config --cflags absl_status absl_statusor fmt))
LIBS=($(pkg-config --libs absl_status absl_statusor absl_strings absl_str_format fmt zlib snappy \
  liblz4 libzstd simdjson))

build() {  # build NAME SOURCES...
  local name=$1
  shift
  if [[ ! -x "$OUT/$name" ]] || [[ -n "$(find "$@" -newer "$OUT/$name" 2>/dev/null)" ]]; then
    echo "fuzz: building $name" >&2
    local objs=() src obj
    for src in "$@"; do
      obj="$OUT/obj/$name/$(basename "$src").o"
      mkdir -p "$(dirname "$obj")"
      $CXX "${FLAGS[@]}" -c "$src" -o "$obj" &
      objs+=("$obj")
    done
    wait
    $CXX "${FLAGS[@]}" "${objs[@]}" -o "$OUT/$name" "${LIBS[@]}"
  fi
}
build kafka_request_fuzzer "$ROOT/fuzz/kafka_request_fuzzer.cc" \
  "$ROOT/src/kafka/protocol/wire.cc" "$OUT"/gen/kafka/messages_*.cc "$OUT/gen/kafka/api_table.cc"
build record_batch_fuzzer "$ROOT/fuzz/record_batch_fuzzer.cc" "$ROOT/src/log/record_batch.cc" \
  "$ROOT/src/log/compression.cc" "$ROOT/src/log/crc32c.cc" "$ROOT/src/log/log_error.cc"
# The text formats: CSV and JSON decoders and the chunked line reader, with what they use.
FORMATS_SRCS=("$ROOT"/src/formats/{csv_decoder,json_decoder,field_convert,line_reader}.cc
  "$ROOT"/src/types/*.cc "$ROOT"/src/base/{strings,utf8}.cc)
build csv_decoder_fuzzer "$ROOT/fuzz/csv_decoder_fuzzer.cc" "${FORMATS_SRCS[@]}"
build json_decoder_fuzzer "$ROOT/fuzz/json_decoder_fuzzer.cc" "${FORMATS_SRCS[@]}"
build line_reader_fuzzer "$ROOT/fuzz/line_reader_fuzzer.cc" "${FORMATS_SRCS[@]}"

# Seeds: a few valid requests (ApiVersions v0 and v3, Metadata v1), plus fuzz/seeds/<target>/:
# inputs that once found a bug (kept as regression seeds).
seed() {  # seed DIR NAME HEX
  mkdir -p "$1"
  printf '%s' "$3" | xxd -r -p >"$1/$2"
}
CORPUS="$OUT/corpus"
seed "$CORPUS/kafka_request_fuzzer" apiversions-v0 "001200000000000100046675"
seed "$CORPUS/kafka_request_fuzzer" apiversions-v3 "0012000300000001000466757a7a0004656464790231000000"
seed "$CORPUS/kafka_request_fuzzer" metadata-v1 "0003000100000007000466757a7a000000010005746f706963"
mkdir -p "$CORPUS/record_batch_fuzzer"
for t in csv_decoder_fuzzer json_decoder_fuzzer line_reader_fuzzer; do mkdir -p "$CORPUS/$t"; done

fail=0
for t in kafka_request_fuzzer record_batch_fuzzer csv_decoder_fuzzer json_decoder_fuzzer \
  line_reader_fuzzer; do
  echo "fuzz: $t for ${SECS}s" >&2
  mkdir -p "$OUT/findings/$t"
  if ! (cd "$OUT/findings/$t" && "$OUT/$t" -max_total_time="$SECS" -rss_limit_mb=2048 \
    -max_len=65536 -print_final_stats=1 "$CORPUS/$t" "$ROOT/fuzz/seeds/$t" \
    >"$OUT/$t.log" 2>&1); then
    echo "fuzz: $t FOUND A PROBLEM; see $OUT/$t.log and $OUT/findings/$t:" >&2
    grep -E "ERROR|SUMMARY|runtime error" "$OUT/$t.log" | head -10 >&2
    fail=1
  else
    echo "fuzz: $t: $(grep -m1 'stat::number_of_executed_units' "$OUT/$t.log" | awk '{print $2}') inputs, no finding" >&2
  fi
done
exit $fail

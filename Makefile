# eddy — see README.md. `make demo` and `make test` do all the set-up on a fresh Debian 12.
BUILD ?= build
ASAN_BUILD ?= build-asan
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?=

.PHONY: all deps build demo test test-asan format-check bench bench-broker fuzz clean

all: build

deps:
	@scripts/install-deps

$(BUILD)/build.ninja:
	cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Release $(CMAKE_FLAGS)

build: deps $(BUILD)/build.ninja
	cmake --build $(BUILD) -j $(JOBS)

# Builds only the eddy binary (not the tests), then runs the demo. The first build compiles about
# 100 files: about 400 s of CPU measured (g++ 12 -O3, no ccache), so about 7 minutes on one core.
demo: deps $(BUILD)/build.ninja
	@echo "eddy: building the eddy binary with $(JOBS) jobs; the first build takes about 400 s of CPU" \
	  "(about $$(( (400 + 60 * $(JOBS) - 1) / (60 * $(JOBS)) )) min here), later builds only what changed"
	cmake --build $(BUILD) -j $(JOBS) --target eddy
	@bash examples/flights/run-demo.sh $(BUILD)/eddy

test: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS) --timeout 900

# Unit and SQL tests under AddressSanitizer + UndefinedBehaviorSanitizer (CI's second step), then
# the broker's real-client integration tests (kcat, confluent-kafka-python, kafka-python, kafkajs,
# crash recovery, bad frames, the kafka CLI and SQL jobs over Kafka) against the ASan build of
# eddy. A sanitizer report exits with 86, so it also fails a test that expects eddy to fail
# (exit 1); leaks are reported at exit. The other integration tests are not run under ASan yet
# (kafka_local_sql gave different hourly results there; see the semantics-tests report).
ASAN_ENV = ASAN_OPTIONS=exitcode=86:detect_leaks=1 LSAN_OPTIONS=exitcode=86 \
  UBSAN_OPTIONS=print_stacktrace=1
ASAN_INTEGRATION = '^integration/kafka_(kcat|confluent|python|kafkajs|crash|bad_frames|cli|sql)$$'
test-asan: deps
	cmake -S . -B $(ASAN_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Debug -DEDDY_SANITIZE=ON \
	  -DCMAKE_CXX_FLAGS=-O1 $(CMAKE_FLAGS)
	cmake --build $(ASAN_BUILD) -j $(JOBS)
	cd $(ASAN_BUILD) && $(ASAN_ENV) ctest --output-on-failure -j $(JOBS) --timeout 900 -E '^integration/'
	cd $(ASAN_BUILD) && $(ASAN_ENV) ctest --output-on-failure -j $(JOBS) --timeout 900 \
	  -R $(ASAN_INTEGRATION)

format-check:
	@scripts/check-format

bench: build
	@bash bench/run-flights-bench.sh $(BUILD)/eddy
	@bash bench/run-cep-bench.sh $(BUILD)/eddy
	@bash bench/run-local-log-bench.sh $(BUILD)/eddy
	@bash bench/run-checkpoint-bench.sh $(BUILD)/eddy
	@bash bench/run-http-sink-bench.sh $(BUILD)/eddy
	@bash bench/run-mqtt-bench.sh $(BUILD)/eddy
	@bash bench/e2e-latency.sh $(BUILD)/eddy 10
	@E2E_RECEIVER=push bash bench/e2e-latency.sh $(BUILD)/eddy 10 10000
	@bash bench/run-datagen-bench.sh $(BUILD)/eddy

# libFuzzer targets and the grammar-aware SQL fuzzer (clang, ASan+UBSan) for FUZZ_SECONDS each
# (fuzz/run.sh, fuzz/README.md).
FUZZ_SECONDS ?= 60
fuzz: deps
	@bash fuzz/run.sh $(FUZZ_SECONDS)

bench-broker: build
	@cmake --build $(BUILD) --target kafka_load
	@bash bench/run-broker-bench.sh $(BUILD)/eddy $(BUILD)/bench/kafka_load

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)

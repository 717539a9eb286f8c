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

# Unit and SQL tests under AddressSanitizer + UndefinedBehaviorSanitizer (CI's second step).
test-asan: deps
	cmake -S . -B $(ASAN_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Debug -DEDDY_SANITIZE=ON \
	  -DCMAKE_CXX_FLAGS=-O1 $(CMAKE_FLAGS)
	cmake --build $(ASAN_BUILD) -j $(JOBS)
	cd $(ASAN_BUILD) && EDDY_ASAN=1 ctest --output-on-failure -j $(JOBS) --timeout 900 -E '^integration/'

format-check:
	@scripts/check-format

bench: build
	@bash bench/run-flights-bench.sh $(BUILD)/eddy
	@bash bench/run-cep-bench.sh $(BUILD)/eddy
	@bash bench/run-local-log-bench.sh $(BUILD)/eddy

# libFuzzer targets (clang, ASan+UBSan) for FUZZ_SECONDS each (fuzz/run.sh).
FUZZ_SECONDS ?= 60
fuzz: deps
	@bash fuzz/run.sh $(FUZZ_SECONDS)

bench-broker: build
	@cmake --build $(BUILD) --target kafka_load
	@bash bench/run-broker-bench.sh $(BUILD)/eddy $(BUILD)/bench/kafka_load

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)

# Thin entry points; the work is in hack/. See README.md.
BUILD_DIR ?= build
BUILD_TYPE ?= RelWithDebInfo
FUZZ_SECONDS ?= 30

.PHONY: all build deps test test-unit test-asan test-faults fuzz demo soak cluster-up cluster-down clean bench bench-smoke

all: build

deps:
	hack/install-deps

build:
	hack/build $(BUILD_DIR) $(BUILD_TYPE)

# Everything from a fresh machine: deps, build, control plane, every test tier.
test:
	hack/test

test-unit: build
	cd $(BUILD_DIR) && ctest -L unit --output-on-failure

# Unit and integration suites under AddressSanitizer + UndefinedBehaviorSanitizer (build-asan).
test-asan:
	hack/test-asan

# Every libFuzzer target for FUZZ_SECONDS each (clang build in build-fuzz).
fuzz:
	FUZZ_SECONDS=$(FUZZ_SECONDS) hack/fuzz

demo:
	hack/demo

# Not in CI: an operator under continuous commits and rollouts for SOAK_DURATION (default 1h),
# its memory sampled every minute; prints the growth per hour (bench/soak/soak.sh).
# Only the fault-injection tests (tests/e2e/faults); make test runs them among the e2e tests.
test-faults: build
	hack/cluster up
	eval "$$(hack/cluster env)" && cd $(BUILD_DIR) && ctest -L fault --output-on-failure

soak: build
	bench/soak/soak.sh

# Gantry beside its peers on the control plane (bench/README.md); writes bench/results/latest.json.
# GANTRY_CLUSTER_DIR picks a private control plane.
bench: build
	GANTRY_BENCH_BUILD_DIR=$(BUILD_DIR) python3 bench/run.py

# The same at tiny sizes, peers only if already built (also run by make test as bench_smoke).
bench-smoke: build
	GANTRY_BENCH_BUILD_DIR=$(BUILD_DIR) python3 bench/run.py --smoke

cluster-up:
	hack/cluster up

cluster-down:
	hack/cluster down

clean:
	rm -rf $(BUILD_DIR)

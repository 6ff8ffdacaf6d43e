# Thin entry points; the work is in hack/. See README.md.
BUILD_DIR ?= build
BUILD_TYPE ?= RelWithDebInfo

.PHONY: all build deps test test-unit demo cluster-up cluster-down clean

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

demo:
	hack/demo

cluster-up:
	hack/cluster up

cluster-down:
	hack/cluster down

clean:
	rm -rf $(BUILD_DIR)

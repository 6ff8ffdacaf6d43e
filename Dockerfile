# Gantry operator image. Two stages on Debian bookworm:
#   build    installs the toolchain with the same hack/install-deps that CI runs, so the list of
#            build packages has one home, and builds build/bin/gantry;
#   runtime  only the binary (also as the kubectl plugin kubectl-gantry) and the shared
#            libraries it links (checked against `ldd build/bin/gantry` by
#            tests/integration/image/runtime_libs_test.sh).
FROM debian:bookworm AS build
WORKDIR /src
COPY hack/install-deps hack/install-deps
RUN hack/install-deps --build && rm -rf /var/lib/apt/lists/*
COPY . .
RUN cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DGANTRY_BUILD_TESTS=OFF \
      -DGANTRY_BUILD_BENCH=OFF \
 && cmake --build build --target gantry \
 && strip build/bin/gantry

FROM debian:bookworm-slim AS runtime
# One package per shared library that gantry links directly beyond libc/libstdc++ (see the test
# above); apt brings in what those libraries need in turn.
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      ca-certificates \
      libcivetweb1 \
      libssl3 \
      libyaml-cpp0.7 \
      libgit2-1.5 \
      libprometheus-cpp-core1.0 \
      libfmt9 \
      libspdlog1.10 \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 65532 --no-create-home --shell /usr/sbin/nologin gantry
COPY --from=build /src/build/bin/gantry /usr/local/bin/gantry
# The kubectl plugin is the same binary under another name (`kubectl gantry rollout get web`):
# `kubectl exec deploy/gantry -- kubectl-gantry ...`, or copy it out next to kubectl.
RUN ln -s gantry /usr/local/bin/kubectl-gantry
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/gantry"]
CMD ["operator"]

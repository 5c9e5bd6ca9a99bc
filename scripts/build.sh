#!/usr/bin/env bash
# Configures and builds facecycle into ./build (Release).
#   scripts/build.sh              # everything: daemon, client, plugins, tools, tests, benchmarks
#   scripts/build.sh --runtime    # only what the quick start runs: daemon, client and plugins
set -euo pipefail
cd "$(dirname "$0")/.."
targets=()
if [ "${1:-}" = "--runtime" ]; then
  # Tests and benchmarks are most of the compile time; the test command builds them itself.
  # facecycle-completion too: `cmake --install build` installs its files.
  targets=(--target facecycled facecycle facecycle-completion detect crop composite generate-age
    generate-race train)
fi
# Ninja where it is installed, for a new tree only (an existing one keeps its generator).
gen=()
command -v ninja >/dev/null && [ ! -f build/CMakeCache.txt ] && gen=(-G Ninja)
# ccache keys on paths relative to the checkout, so a second clone (CI's) reuses the first's
# objects.
export CCACHE_BASEDIR="${CCACHE_BASEDIR:-$PWD}"
cmake "${gen[@]}" -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$(nproc)" "${targets[@]}"

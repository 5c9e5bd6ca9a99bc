#!/usr/bin/env bash
# Builds if needed, then runs the whole test suite with ctest.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x build/bin/facecycled ] || scripts/build.sh
ctest --test-dir build --output-on-failure -j2 --timeout 900

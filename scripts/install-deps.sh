#!/usr/bin/env bash
# Installs facecycle's build and run dependencies from Debian bookworm (run as root).
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends \
  build-essential cmake ninja-build ccache pkg-config git \
  libtorch-dev libgloo-dev libopencv-dev opencv-data \
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler \
  libsqlite3-dev sqlite3 libpqxx-dev libboost-dev libssl-dev zlib1g-dev \
  libgtest-dev libgmock-dev libbenchmark-dev \
  libtomlplusplus-dev libspdlog-dev libcli11-dev nlohmann-json3-dev prometheus-cpp-dev \
  libopenblas0-openmp python3-skimage \
  clang libclang-rt-14-dev
# Debian's reference BLAS makes convolution training several times slower; OpenBLAS (OpenMP)
# takes over libblas.so.3 through the alternatives system once installed. Make sure it is chosen.
for alt in libblas.so.3-x86_64-linux-gnu liblapack.so.3-x86_64-linux-gnu; do
  path=$(update-alternatives --list "$alt" 2>/dev/null | grep openblas-openmp | head -n1 || true)
  [ -n "$path" ] && $SUDO update-alternatives --set "$alt" "$path" >/dev/null || true
done

#!/usr/bin/env bash
# Issue 19's GPU run in one script (docs/GPU.md): build the LibTorch-only tree, check the
# generator on CUDA against the CPU, train a few steps with a loss check, benchmark the generator,
# then train for the time left (~8 min) from the face pack, and leave at most 8 files in $OUT:
#   model.pt, model.card.json, samples.png, loss_curves.png, bench.json, compare.json,
#   eval.json, run.log
#   scripts/gpu/run.sh              # on the GPU host (python3 there holds PyTorch with CUDA)
#   scripts/gpu/run.sh --rehearse   # here: Debian's LibTorch on the CPU, tiny sizes, ~2 minutes
# Needs .gpu-deps/headers (scripts/gpu/pack-headers.sh) and, on the GPU host,
# .gpu-deps/utkface-128.tar.gz (scripts/pack_utkface.py, see docs/GPU.md). Exit status: 0 when
# every check passed, 1 when one failed (the rest still ran), 2 when the build failed.
set -uo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
MODE=gpu
[ "${1:-}" = --rehearse ] && MODE=rehearse
OUT=${OUT:-$ROOT/gpu-out-$MODE}
WORK=${WORK:-/tmp/fc-gpu-$MODE}
mkdir -p "$OUT" "$WORK"
T0=$(date +%s)
STATUS=0
log() { echo "[$(($(date +%s) - T0))s] $*" | tee -a "$OUT/run.log"; }
fail() { log "FAIL: $*"; STATUS=1; }
elapsed() { echo $(($(date +%s) - T0)); }

if [ "$MODE" = gpu ]; then
  PY=${PY:-python3}
  TORCH_PREFIX=${TORCH_PREFIX:-$($PY -c 'import torch; print(torch.utils.cmake_prefix_path)')}
  BUILD=${BUILD:-build-gpu}
  export TORCH_CUDA_ARCH_LIST=${TORCH_CUDA_ARCH_LIST:-9.0}  # H200; spares Torch's probing
  JOBS=$(nproc)
  DEVICE=cuda
  BENCH=(--sizes 64,128,256 --batches 1,32,256 --min-time 0.2)  # 18 rows: the time goes to training
  RUN_BENCH=${RUN_BENCH:-0}  # the H200's rows are in docs/BENCHMARKS.md; its 41 s go to training
  NET=(--width 32 --blocks 6)
  COMPARE=(--compare-size 128)
  TOTAL_S=${TOTAL_S:-545}  # one call may run 600 s; the rest of the 15 minutes is the start and copies
  SIZE=128 BATCH=32 THREADS=$JOBS WIDTH=32 BLOCKS=6 DWIDTH=64 JUDGE_STEPS=1000 EVAL_FACES=64
  TRAIN_DEVICE=cuda TRAIN_PRECISION=bf16 WORKERS=8
  SMOKE_STEPS=30 LONG_S=480
  LONG_WARM=$PWD/models/facecycle-utk-v55.pt LONG_DWARMUP=300  # docs/MODEL.md: v18, v29, v35, v45, v55
  LOCAL_LAYERS=0  # v27, v35: no 16 px critic at 128 px
  CLS_DOWNSAMPLE=2  # v34, v55: both classifiers judge whole faces (no patches)
else
  PY=${PY:-/usr/bin/python3}  # Debian's, which has Pillow
  TORCH_PREFIX=${TORCH_PREFIX:-/usr/lib/x86_64-linux-gnu/cmake/Torch}
  BUILD=${BUILD:-build-torch}
  JOBS=2
  DEVICE=cpu
  BENCH=(--sizes 32 --batches 1,2 --min-time 0.05)
  RUN_BENCH=${RUN_BENCH:-1}  # keeps the bench's code path tested in CI
  NET=(--width 8 --blocks 1)
  COMPARE=(--compare-size 32)
  TOTAL_S=${TOTAL_S:-600}
  SIZE=32 BATCH=4 THREADS=2 WIDTH=8 BLOCKS=1 DWIDTH=8 JUDGE_STEPS=20 EVAL_FACES=8
  TRAIN_DEVICE=${TRAIN_DEVICE:-cpu} TRAIN_PRECISION=${TRAIN_PRECISION:-fp32} WORKERS=2
  SMOKE_STEPS=12 LONG_S=15
  LONG_WARM="" LONG_DWARMUP=0  # width 8: v35's weights do not fit
  LOCAL_LAYERS=1  # keeps the local critic's code path in the rehearsal
  CLS_DOWNSAMPLE=1  # 32 px faces: pooled, the classifiers would see 16 px
fi
: >"$OUT/run.log"
log "mode $MODE, out $OUT, torch $TORCH_PREFIX"

# Newer LibTorch headers may need C++20 (they began to use `requires`); the first failure
# that says so reconfigures once with CXX_STD=20.
build() {
  export CCACHE_BASEDIR="${CCACHE_BASEDIR:-$ROOT}"  # as in scripts/build.sh
  local gen=()
  command -v ninja >/dev/null && [ ! -f "$BUILD/Makefile" ] && gen=(-G Ninja)
  cmake "${gen[@]}" -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DFACECYCLE_TORCH_ONLY=ON \
    -DFACECYCLE_HEADERS="$ROOT/.gpu-deps/headers" -DCMAKE_PREFIX_PATH="$TORCH_PREFIX" \
    -DCMAKE_CXX_STANDARD="${CXX_STD:-17}" \
    >"$WORK/configure.log" 2>&1 || { tail -40 "$WORK/configure.log" >>"$OUT/run.log"; return 1; }
  if ! ${FC_BUILD_LOCK:+flock "$FC_BUILD_LOCK"} cmake --build "$BUILD" -j"$JOBS" \
    --target fc-train fc-gpu-bench fc-model bench_loader >"$WORK/build.log" 2>&1; then
    if [ -z "${CXX_STD:-}" ] && grep -Eiq 'c\+\+20|requires.*does not name' "$WORK/build.log"; then
      log "build: the LibTorch headers want C++20; reconfiguring"
      CXX_STD=20 build
      return
    fi
    grep -B2 -A8 'error' "$WORK/build.log" | head -80 >>"$OUT/run.log"
    return 1
  fi
  # What the binaries need directly: LibTorch and the C/C++ runtime, nothing the host lacks.
  local needed
  needed=$(readelf -d "$BUILD/bin/fc-train" | grep NEEDED)
  if echo "$needed" | grep -Eqi 'opencv|grpc|sqlite|ssl|protobuf|tomlplusplus'; then
    echo "$needed" >>"$OUT/run.log"
    return 1
  fi
}

if [ ! -d .gpu-deps/headers ]; then
  [ "$MODE" = gpu ] && { log "FAIL: .gpu-deps/headers missing: run scripts/gpu/pack-headers.sh here and carry .gpu-deps"; exit 2; }
  scripts/gpu/pack-headers.sh >>"$OUT/run.log" 2>&1
fi
log "build ($BUILD, $JOBS jobs)"
build || { log "FAIL: build; see run.log"; exit 2; }
BIN=$ROOT/$BUILD/bin
log "built in $(elapsed)s"
. scripts/gpu/steps.sh
compare_step
smoke_step
loader_step
if [ "$RUN_BENCH" = 1 ]; then bench_step; else log "bench skipped (RUN_BENCH=1 runs it)"; fi
train_step
log "done in $(elapsed)s, status $STATUS"
exit $STATUS

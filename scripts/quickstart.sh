#!/usr/bin/env bash
# Quick start: install dependencies, build, start facecycled on its defaults (SQLite file and
# outputs under the data dir, CPU, the shipped model) and transform photos with it.
#   scripts/quickstart.sh [--task age|race] [--reverse] [PHOTO_OR_FOLDER...]
# Without photos it uses a real photo that a Debian package ships (scikit-image's astronaut).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
task=age
extra=()
photos=()
while [ $# -gt 0 ]; do
  case "$1" in
    --task) task="$2"; shift 2 ;;
    --reverse) extra+=(--reverse); shift ;;
    -h|--help) sed -n '2,6p' "$0"; exit 0 ;;
    *) photos+=("$(realpath "$1")"); shift ;;
  esac
done

bash scripts/install-deps.sh
bash scripts/build.sh --runtime

if [ ${#photos[@]} -eq 0 ]; then
  sample=$(python3 -c 'import skimage, os; print(os.path.join(os.path.dirname(skimage.__file__), "data", "astronaut.png"))' 2>/dev/null \
           || /usr/bin/python3 -c 'import skimage, os; print(os.path.join(os.path.dirname(skimage.__file__), "data", "astronaut.png"))')
  [ -f "$sample" ] || { echo "quickstart: no photo given and scikit-image's astronaut.png is missing" >&2; exit 1; }
  photos=("$sample")
fi

data_dir="${FACECYCLE_DATA_DIR:-$HOME/.local/share/facecycle}"
mkdir -p "$data_dir"
export FACECYCLE_DATA_DIR="$data_dir"
# The local user's own outputs folder: the only one in the data dir it may write to.
out="$data_dir/outputs/local/quickstart-$(date +%Y%m%d-%H%M%S)"
mkdir -p "$out"

# Input photos may live anywhere the user names: allow their folders explicitly.
allow=()
for p in "${photos[@]}"; do
  d=$p; [ -d "$d" ] || d=$(dirname "$p")
  allow+=(--allow "$d")
done

started=""
if ! build/bin/facecycle health >/dev/null 2>&1; then
  build/bin/facecycled --data-dir "$data_dir" "${allow[@]}" >>"$data_dir/quickstart-daemon.out" 2>&1 &
  started=$!
  # A cold start (LibTorch read from disk on a busy machine) can take tens of seconds.
  for _ in $(seq 1 600); do
    build/bin/facecycle health >/dev/null 2>&1 && break
    if ! kill -0 "$started" 2>/dev/null; then
      echo "facecycled stopped while starting; the end of its log ($data_dir/quickstart-daemon.out):" >&2
      tail -5 "$data_dir/quickstart-daemon.out" >&2
      exit 1
    fi
    sleep 0.2
  done
fi
cleanup() { [ -n "$started" ] && kill -TERM "$started" 2>/dev/null && wait "$started" 2>/dev/null || true; }
trap cleanup EXIT

build/bin/facecycle health
build/bin/facecycle transform --task "$task" "${extra[@]}" --format png -o "$out" "${photos[@]}"
echo
echo "before/after sheet: $(ls "$out"/contact_sheet_job*.png)"
echo "edited photos:      $out"

#!/usr/bin/env bash
# Before/after sheets of two group photos for docs/MODEL.md, transformed by a model through a real
# facecycled (YuNet detection) and the facecycle CLI, plus 100 % crops of the edited faces.
# Held-out chips, all four directions, model beside model: scripts/compare_models.sh.
#   scripts/model_sheets.sh [MODEL_NAME] [OUT_DIR]
# Needs ../shared (group photos, YuNet) and a build in ./build.
set -euo pipefail
cd "$(dirname "$0")/.."
model=${1:-$(cat models/DEFAULT)}
out=${2:-docs/model}
shared=$(realpath ../shared)
work=$(mktemp -d /tmp/fc-sheets-XXXXXX)
mkdir -p "$out"
cat >"$work/daemon.toml" <<TOML
active_model = "$model"
[plugins.detect]
detector = "yunet"
yunet_model = "$shared/models/face_detection_yunet_2022mar.onnx"
TOML
build/bin/facecycled --data-dir "$work/data" --config "$work/daemon.toml" --allow "$shared/data" \
  >"$work/daemon.out" 2>&1 &
daemon=$!
trap 'kill -TERM $daemon 2>/dev/null; wait $daemon 2>/dev/null || true' EXIT
export FACECYCLE_SERVER="unix:$work/data/facecycled.sock"
for _ in $(seq 1 100); do build/bin/facecycle health >/dev/null 2>&1 && break; sleep 0.2; done

run() {  # NAME TASK [--reverse] -- FILES...
  local name=$1 task=$2; shift 2
  local flags=()
  while [ "$1" != "--" ]; do flags+=("$1"); shift; done
  shift
  build/bin/facecycle transform --task "$task" "${flags[@]}" --format png -o "$work/data/outputs/local/$name" "$@" >/dev/null
  cp "$work/data/outputs/local/$name"/contact_sheet_job*.png "$out/$name.png"  # one job per folder
  echo "$out/$name.png"
}

g1=$shared/data/group_photos/2008_002470.jpg
g2=$shared/data/group_photos/obama_and_biden.jpg
run group_age age -- "$g1" "$g2"
run group_race race -- "$g1" "$g2"
zoom() {  # NAME: the group photos' edited faces at 100 % and 3x
  /usr/bin/python3 scripts/zoom_changes.py "$out/$1_zoom.png" \
    "$g1" "$work/data/outputs/local/$1/$(basename "${g1%.*}").png" "$g2" "$work/data/outputs/local/$1/$(basename "${g2%.*}").png"
}
zoom group_age
zoom group_race

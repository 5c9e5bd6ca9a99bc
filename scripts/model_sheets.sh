#!/usr/bin/env bash
# Before/after sheets for docs/MODEL.md: held-out UTKFace chips for both tasks and both
# directions (whole-image mode) and two group photos, transformed by a model through a real
# facecycled and the facecycle CLI.
#   scripts/model_sheets.sh [MODEL_NAME] [OUT_DIR]
# Needs ../shared (UTKFace, group photos, YuNet) and a build in ./build.
set -euo pipefail
cd "$(dirname "$0")/.."
model=${1:-$(cat models/DEFAULT)}
out=${2:-docs/model}
shared=$(realpath ../shared)
utk=$shared/data/utkface
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
  build/bin/facecycle transform --task "$task" "${flags[@]}" --format png -o "$work/data/out/$name" "$@" >/dev/null
  cp "$work/data/out/$name/contact_sheet.png" "$out/$name.png"
  echo "$out/$name.png"
}
faces() { python3 scripts/heldout_faces.py "$utk" "$@" --n 6; }

run heldout_age_young_to_old age --whole-image -- $(faces --race 0 --age 20 29)
run heldout_age_old_to_young age --whole-image --reverse -- $(faces --race 0 --age 50 59)
run heldout_race_white_to_black race --whole-image -- $(faces --race 0 --age 18 60)
run heldout_race_black_to_white race --whole-image --reverse -- $(faces --race 1 --age 18 60)
g1=$shared/data/group_photos/2008_002470.jpg
g2=$shared/data/group_photos/obama_and_biden.jpg
run group_age age -- "$g1" "$g2"
run group_race race -- "$g1" "$g2"

#!/usr/bin/env bash
# Side-by-side sheet of shipped models on the same held-out UTKFace chips: one row per face,
# columns input | MODEL_1 | MODEL_2 ..., for one task and direction, through a real facecycled
# (whole-image mode, fp32) and the CLI.
#   scripts/compare_models.sh OUT.png TASK [--reverse] MODEL...
# e.g. scripts/compare_models.sh docs/model/compare_age.png age facecycle-utk-v35 facecycle-utk-v55
# Needs ../shared (UTKFace) and a build in ./build (or FC_BIN=DIR with facecycled and facecycle).
set -euo pipefail
cd "$(dirname "$0")/.."
out=$1 task=$2
shift 2
reverse=()
if [ "${1:-}" = --reverse ]; then reverse=(--reverse); shift; fi
models=("$@")
[ ${#models[@]} -ge 1 ] || { sed -n 2,7p "$0"; exit 2; }
bin=${FC_BIN:-build/bin}
shared=$(realpath ../shared)
utk=$shared/data/utkface
work=$(mktemp -d /tmp/fc-compare-XXXXXX)
"$bin/facecycled" --data-dir "$work/data" --precision fp32 --allow "$shared/data" \
  >"$work/daemon.out" 2>&1 &
daemon=$!
trap 'kill -TERM $daemon 2>/dev/null; wait $daemon 2>/dev/null || true; rm -rf "$work"' EXIT
export FACECYCLE_SERVER="unix:$work/data/facecycled.sock"
for _ in $(seq 1 100); do "$bin/facecycle" health >/dev/null 2>&1 && break; sleep 0.2; done

case "$task ${reverse[*]}" in
  "age ") sel=(--race 0 --age 20 29) ;;
  "age --reverse") sel=(--race 0 --age 50 59) ;;
  "race ") sel=(--race 0 --age 18 60) ;;
  "race --reverse") sel=(--race 1 --age 18 60) ;;
  *) echo "task must be age or race" >&2; exit 2 ;;
esac
mapfile -t faces < <(python3 scripts/heldout_faces.py "$utk" "${sel[@]}" --n 6)
for m in "${models[@]}"; do
  "$bin/facecycle" models activate "$m" >/dev/null
  "$bin/facecycle" transform --task "$task" "${reverse[@]}" --whole-image --format png \
    -o "$work/data/outputs/local/$m" "${faces[@]}" >/dev/null
done
/usr/bin/python3 - "$out" "$work/data/outputs/local" "${models[@]}" -- "${faces[@]}" <<'EOF'
import os, sys
from PIL import Image, ImageDraw
args = sys.argv[1:]
out, root = args[0], args[1]
sep = args.index("--")
models, faces = args[2:sep], args[sep + 1:]
cell, pad, head = 200, 4, 22
cols = 1 + len(models)
sheet = Image.new("RGB", (cols * (cell + pad) + pad, head + len(faces) * (cell + pad) + pad),
                  (32, 32, 32))
d = ImageDraw.Draw(sheet)
for c, title in enumerate(["input"] + models):
    d.text((pad + c * (cell + pad) + 4, 5), title, fill=(230, 230, 230))
for r, f in enumerate(faces):
    stem = os.path.basename(f).split(".")[0]
    imgs = [Image.open(f).convert("RGB")]
    for m in models:
        outs = [x for x in os.listdir(os.path.join(root, m)) if x.startswith(stem)]
        imgs.append(Image.open(os.path.join(root, m, outs[0])).convert("RGB"))
    for c, im in enumerate(imgs):
        sheet.paste(im.resize((cell, cell)), (pad + c * (cell + pad), head + pad + r * (cell + pad)))
sheet.save(out)
print(out)
EOF

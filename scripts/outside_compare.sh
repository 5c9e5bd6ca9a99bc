#!/usr/bin/env bash
# The outside judges (docs/OUTSIDE_EVAL.md) on held-out UTKFace faces for each model: the four
# directions (age 20s->50s and back on White faces, race White<->Black at ages 18-60), N faces
# each, through a real facecycled in whole-image mode and the CLI, plus the real-target rows.
#   scripts/outside_compare.sh OUT_DIR N MODEL...
# e.g. scripts/outside_compare.sh /tmp/oc 100 facecycle-utk-v11 facecycle-utk-v29
# FC_STRENGTH=1.25 edits at that --strength; results go to OUT_DIR/MODEL@1.25/.
# Writes OUT_DIR/MODEL/DIRECTION.json and prints one table. Needs ../shared, node and a build.
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(realpath -m "$1") n=$2
shift 2
models=("$@")
[ ${#models[@]} -ge 1 ] || { sed -n 2,7p "$0"; exit 2; }
bin=${FC_BIN:-build/bin}
strength=${FC_STRENGTH:-1}
tag=""; [ "$strength" = 1 ] || tag="@$strength"
shared=$(realpath ../shared)
utk=$shared/data/utkface
mkdir -p "$out"
work=$(mktemp -d /tmp/fc-outside-XXXXXX)
"$bin/facecycled" --data-dir "$work/data" --precision fp32 --allow "$shared/data" --allow "$out" \
  >"$work/daemon.out" 2>&1 &
daemon=$!
trap 'kill -TERM $daemon 2>/dev/null; wait $daemon 2>/dev/null || true; rm -rf "$work"' EXIT
export FACECYCLE_SERVER="unix:$work/data/facecycled.sock"
for _ in $(seq 1 100); do "$bin/facecycle" health >/dev/null 2>&1 && break; sleep 0.2; done

# direction: task, reverse flag, source selection, target selection, target race
directions=(age_young_to_old age_old_to_young race_white_to_black race_black_to_white)
declare -A task=([age_young_to_old]=age [age_old_to_young]=age [race_white_to_black]=race [race_black_to_white]=race)
declare -A rev=([age_young_to_old]="" [age_old_to_young]=--reverse [race_white_to_black]="" [race_black_to_white]=--reverse)
declare -A src=([age_young_to_old]="--race 0 --age 20 29" [age_old_to_young]="--race 0 --age 50 59"
                [race_white_to_black]="--race 0 --age 18 60" [race_black_to_white]="--race 1 --age 18 60")
declare -A dst=([age_young_to_old]="--race 0 --age 50 59" [age_old_to_young]="--race 0 --age 20 29"
                [race_white_to_black]="--race 1 --age 18 60" [race_black_to_white]="--race 0 --age 18 60")
declare -A race=([age_young_to_old]=white [age_old_to_young]=white [race_white_to_black]=black [race_black_to_white]=white)

for d in "${directions[@]}"; do
  # shellcheck disable=SC2086
  python3 scripts/heldout_faces.py "$utk" ${src[$d]} --n "$n" >"$out/$d.before.txt"
  # shellcheck disable=SC2086
  python3 scripts/heldout_faces.py "$utk" ${dst[$d]} --n "$n" >"$out/$d.real.txt"
  [ -f "$out/real/$d.json" ] || { mkdir -p "$out/real"; bash scripts/outside_eval.sh --quiet \
    --real "$out/$d.real.txt" --json "$out/real/$d.json" --target-race "${race[$d]}" >/dev/null; }
  for m in "${models[@]}"; do
    "$bin/facecycle" models activate "$m" >/dev/null
    mapfile -t faces <"$out/$d.before.txt"
    r="$out/$m$tag"
    rm -rf "${r:?}/$d"
    # shellcheck disable=SC2086
    "$bin/facecycle" transform --task "${task[$d]}" ${rev[$d]} --strength "$strength" \
      --whole-image --format png -o "$r/$d" "${faces[@]}" >/dev/null
    bash scripts/outside_eval.sh --quiet --before "$out/$d.before.txt" --after "$r/$d" \
      --json "$r/$d.json" --target-race "${race[$d]}" >/dev/null
  done
done
python3 - "$out" "${models[@]/%/$tag}" <<'PY'
import json, sys
out, models = sys.argv[1], sys.argv[2:]
def load(p): return json.load(open(p))["summary"]
dirs = ["age_young_to_old", "age_old_to_young", "race_white_to_black", "race_black_to_white"]
print("| model | age 20s->50s (years) | age 50s->20s (years) | White->Black: called Black & same person | Black->White: called White & same person | same person (age / race) |")
print("|---|---|---|---|---|---|")
real = {d: load(f"{out}/real/{d}.json")["faces"] for d in dirs}
print(f"| real target faces | {real[dirs[0]]['age_mean']} | {real[dirs[1]]['age_mean']} | {real[dirs[2]]['target_fraction']:.0%} called Black | {real[dirs[3]]['target_fraction']:.0%} called White | |")
for m in models:
    s = {d: load(f"{out}/{m}/{d}.json") for d in dirs}
    a, b, c, e = (s[d] for d in dirs)
    same_age = (a["same_person_fraction"] + b["same_person_fraction"]) / 2
    same_race = (c["same_person_fraction"] + e["same_person_fraction"]) / 2
    print(f"| {m} | {a['before']['age_mean']} -> {a['after']['age_mean']} | {b['before']['age_mean']} -> {b['after']['age_mean']} "
          f"| {c['target_and_same_fraction']:.0%} ({c['before']['target_fraction']:.0%} before) "
          f"| {e['target_and_same_fraction']:.0%} ({e['before']['target_fraction']:.0%} before) | {same_age:.0%} / {same_race:.0%} |")
PY

#!/usr/bin/env bash
# The outside judges (docs/OUTSIDE_EVAL.md) on held-out UTKFace faces for each model: the four
# directions (age 20s->50s and back on White faces, race White<->Black at ages 18-60), N faces
# each, through a real facecycled in whole-image mode and the CLI, plus the real-target rows.
#   scripts/outside_compare.sh OUT_DIR N MODEL...
# e.g. scripts/outside_compare.sh /tmp/oc 100 facecycle-utk-v35 facecycle-utk-v55
# FC_STRENGTH=1.25 edits at that --strength; results go to OUT_DIR/MODEL@1.25/.
# FC_DIRECTIONS="age_young_to_old age_old_to_young" judges only those (the others print as -).
# FC_OFFSET=1 judges the held-out faces between the usual ones (heldout_faces.py --offset), a
# disjoint set for choosing settings; give it its own OUT_DIR (the real rows are cached there).
# Writes OUT_DIR/MODEL/DIRECTION.json and prints one table. Needs ../shared, node and a build.
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(realpath -m "$1") n=$2
shift 2
models=("$@")
[ ${#models[@]} -ge 1 ] || { sed -n 2,7p "$0"; exit 2; }
bin=${FC_BIN:-build/bin}
strength=${FC_STRENGTH:-1}
offset=${FC_OFFSET:-0}
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
all_directions="age_young_to_old age_old_to_young race_white_to_black race_black_to_white"
read -ra directions <<<"${FC_DIRECTIONS:-$all_directions}"
for d in "${directions[@]}"; do
  [[ " $all_directions " == *" $d "* ]] || { echo "unknown direction $d (known: $all_directions)" >&2; exit 2; }
done
declare -A task=([age_young_to_old]=age [age_old_to_young]=age [race_white_to_black]=race [race_black_to_white]=race)
declare -A rev=([age_young_to_old]="" [age_old_to_young]=--reverse [race_white_to_black]="" [race_black_to_white]=--reverse)
declare -A src=([age_young_to_old]="--race 0 --age 20 29" [age_old_to_young]="--race 0 --age 50 59"
                [race_white_to_black]="--race 0 --age 18 60" [race_black_to_white]="--race 1 --age 18 60")
declare -A dst=([age_young_to_old]="--race 0 --age 50 59" [age_old_to_young]="--race 0 --age 20 29"
                [race_white_to_black]="--race 1 --age 18 60" [race_black_to_white]="--race 0 --age 18 60")
declare -A race=([age_young_to_old]=white [age_old_to_young]=white [race_white_to_black]=black [race_black_to_white]=white)

for d in "${directions[@]}"; do
  # shellcheck disable=SC2086
  python3 scripts/heldout_faces.py "$utk" ${src[$d]} --n "$n" --offset "$offset" >"$out/$d.before.txt"
  # shellcheck disable=SC2086
  python3 scripts/heldout_faces.py "$utk" ${dst[$d]} --n "$n" --offset "$offset" >"$out/$d.real.txt"
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
FC_JUDGED="${directions[*]}" python3 - "$out" "${models[@]/%/$tag}" <<'PY'
import json, os, sys
out, models = sys.argv[1], sys.argv[2:]
def load(p): return json.load(open(p))["summary"]
dirs = ["age_young_to_old", "age_old_to_young", "race_white_to_black", "race_black_to_white"]
print("| model | age 20s->50s (years) | age 50s->20s (years) | White->Black: called Black & same person | Black->White: called White & same person | same person (age / race) |")
print("|---|---|---|---|---|---|")
judged = os.environ["FC_JUDGED"].split()
def judged_summary(folder, d):  # None for a direction this run left out, even where an
    p = f"{folder}/{d}.json"     # earlier run left its JSON in OUT_DIR
    return load(p) if d in judged and os.path.exists(p) else None
def pct(x): return f"{x:.0%}"
real = {d: (judged_summary(f"{out}/real", d) or {}).get("faces") for d in dirs}
def real_cell(d, key, fmt, then=""): return fmt(real[d][key]) + then if real[d] else "-"
print(f"| real target faces | {real_cell(dirs[0], 'age_mean', str)} | {real_cell(dirs[1], 'age_mean', str)} "
      f"| {real_cell(dirs[2], 'target_fraction', pct, ' called Black')} "
      f"| {real_cell(dirs[3], 'target_fraction', pct, ' called White')} | |")
for m in models:
    a, b, c, e = (judged_summary(f"{out}/{m}", d) for d in dirs)
    def ages(s): return f"{s['before']['age_mean']} -> {s['after']['age_mean']}" if s else "-"
    def race(s): return f"{s['target_and_same_fraction']:.0%} ({s['before']['target_fraction']:.0%} before)" if s else "-"
    def same(x, y): return pct((x["same_person_fraction"] + y["same_person_fraction"]) / 2) if x and y else "-"
    print(f"| {m} | {ages(a)} | {ages(b)} | {race(c)} | {race(e)} | {same(a, b)} / {same(c, e)} |")
PY

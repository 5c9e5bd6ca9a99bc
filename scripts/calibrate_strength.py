#!/usr/bin/env python3
"""Chooses a model's calibrated scales (docs/MODEL.md, "Calibrated strength"): the share of the
generator's change that --strength 1 applies in each direction. It judges held-out faces that
the card does not report on (outside_compare.sh with FC_OFFSET=1), by the rule fixed there:

Each direction is calibrated for its goal in issue 14:
  - ageing (20s->50s; years, and the person kept for 90 %): the largest scale of 1, 0.9, 0.85,
    0.8 whose edits keep the person for at least --keep (95 %) of the faces, a margin over the
    90 % for what 64 faces carry;
  - de-ageing (years only): 1, since less of the change only adds years; judged to show it;
  - race (called the target race and the same person, identity inside the measure): 1, unless
    0.9, 1.15 or 1.3 raises that measure by more than two standard errors while keeping at
    least 90 %.

  calibrate_strength.py MODEL [--n 64] [--out /tmp/ocal] [--apply]

Prints one row per scale tried and the choice; --apply writes the choice into
models/MODEL.card.json. Needs what outside_compare.sh needs (../shared, node, a build); about
3 minutes per row on 2 cores.
"""
import argparse
import json
import math
import os
import shutil
import subprocess
import sys

from model_card import card_path as model_card_path, write_card

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DIRECTIONS = {  # outside_compare's name: (task, card direction, rule)
    "age_young_to_old": ("age", "forward", "identity"),
    "age_old_to_young": ("age", "reverse", "years"),
    "race_white_to_black": ("race", "forward", "race"),
    "race_black_to_white": ("race", "reverse", "race"),
}
AGE_SCALES = [1.0, 0.9, 0.85, 0.8]
RACE_SCALES = [0.9, 1.15, 1.3]


def text(x):
    return f"{x:g}"


def judge(model, direction, scale, card_scale, args):
    """The outside judges' summary of the direction's edits at `scale` of the change. Runs are
    kept by absolute scale (OUT/scales/), so that they stay valid when the card changes."""
    kept = os.path.join(args.out, "scales", model, f"{direction}@{text(scale)}.json")
    if not os.path.exists(kept):
        strength = text(scale / card_scale)
        tag = "" if strength == "1" else "@" + strength
        env = dict(os.environ, FC_OFFSET="1", FC_STRENGTH=strength, FC_DIRECTIONS=direction)
        subprocess.run(["bash", "scripts/outside_compare.sh", args.out, str(args.n), model],
                       cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)
        os.makedirs(os.path.dirname(kept), exist_ok=True)
        shutil.copyfile(os.path.join(args.out, model + tag, direction + ".json"), kept)
    s = json.load(open(kept))["summary"]
    row = {"scale": scale, "same": s["same_person_fraction"], "age": s["after"]["age_mean"],
           "target_and_same": s["target_and_same_fraction"]}
    print(f"| {direction} | {text(scale)} | {row['age']} | {row['target_and_same']:.0%} "
          f"| {row['same']:.0%} |", flush=True)
    return row


def choose_years(model, direction, card_scale, args):
    judge(model, direction, 1.0, card_scale, args)
    return 1.0


def choose_identity(model, direction, card_scale, args):
    for scale in AGE_SCALES:
        row = judge(model, direction, scale, card_scale, args)
        if row["same"] >= args.keep:
            return scale
    print(f"warning: {direction} keeps under {args.keep:.0%} even at {text(scale)}",
          file=sys.stderr)
    return scale


def choose_race(model, direction, card_scale, args):
    base = judge(model, direction, 1.0, card_scale, args)
    p = base["target_and_same"]
    bar = p + 2 * math.sqrt(max(p * (1 - p), 1e-9) / args.n)
    best = base
    for scale in RACE_SCALES:
        row = judge(model, direction, scale, card_scale, args)
        if row["same"] >= 0.9 and row["target_and_same"] > max(bar, best["target_and_same"]):
            best = row
    return best["scale"]


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("model")
    p.add_argument("--n", type=int, default=64)
    p.add_argument("--out", default="/tmp/ocal")
    p.add_argument("--keep", type=float, default=0.95)
    p.add_argument("--directions", nargs="*", default=list(DIRECTIONS))
    p.add_argument("--apply", action="store_true")
    args = p.parse_args()
    card_path = model_card_path(args.model)
    card = json.load(open(card_path))
    by_key = {(c["task"], c["direction"]): c for c in card["conditions"]}
    print("| direction | scale | judged age after (years) | target race & same | same person |")
    print("|---|---|---|---|---|")
    chosen = {}
    for d in args.directions:
        c = by_key[DIRECTIONS[d][:2]]
        pick = {"identity": choose_identity, "years": choose_years, "race": choose_race}[
            DIRECTIONS[d][2]]
        chosen[d] = pick(args.model, d, c.get("scale", 1.0), args)
    for d, scale in chosen.items():
        print(f"{d}: {text(scale)}")
        c = by_key[DIRECTIONS[d][:2]]
        if scale == 1.0:
            c.pop("scale", None)  # as the trainer writes an uncalibrated direction
        else:
            c["scale"] = scale
    if args.apply:
        write_card(card_path, card)
        print(f"wrote {card_path}")


if __name__ == "__main__":
    main()

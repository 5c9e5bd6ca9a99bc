#!/usr/bin/env python3
"""Copies a trained candidate from its job directory into models/, ready to ship: its weights,
and its card with the shaping (each direction's `scale` and `change_blur`) of a shipped model
and the metrics fc-eval derived for it. What a new model needs that the trainer cannot write.

  ship_model.py NAME [--from-job DIR] [--shaping-from MODEL] [--metrics EVAL.json]
                [--config PATH] [--warm-start PATH] [--notes FILE] [--default]

With --from-job it copies DIR/NAME.pt and DIR/NAME.card.json into models/ (replacing any there);
without it, it edits models/NAME.card.json in place. The usual order, since fc-eval judges the
model as its card shapes it:
  ship_model.py facecycle-utk-vNN --from-job /tmp/vNN/job --shaping-from facecycle-utk-v55 \\
      --config configs/utkface-vNN.toml --warm-start models/facecycle-utk-v55.pt
  build/bin/fc-eval --config configs/utkface-v35.toml --model models/facecycle-utk-vNN.pt \\
      --judge /tmp/judge35/judge.pt --json > /tmp/vNN.json
  ship_model.py facecycle-utk-vNN --metrics /tmp/vNN.json --notes /tmp/notesNN.txt

A domain gate (fc-gate) is trained separately. Judge the model with the outside judges
(scripts/outside_compare.sh) before --default points models/DEFAULT at it.
"""
import argparse
import json
import os
import shutil
import sys

from model_card import MODELS, card_path, write_card

SHAPING_KEYS = ("scale", "change_blur")
HELD_OUT_DATA = "../shared/data/utkface (the same held-out split as every model since v5)"


def load(path, what):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError) as e:
        sys.exit(f"ship_model: cannot read {what} {path}: {e}")


def copy_shaping(card, donor, donor_name):
    """The donor's scale and change blur, direction by direction, matched by condition id."""
    by_id = {c["id"]: c for c in donor["conditions"]}
    for c in card["conditions"]:
        d = by_id.get(c["id"])
        if d is None or (d["task"], d["direction"]) != (c["task"], c["direction"]):
            sys.exit(f"ship_model: {donor_name} has no {c['task']} {c['direction']} as condition "
                     f"{c['id']}; its shaping does not fit this model")
        for k in SHAPING_KEYS:
            if k in d:
                c[k] = d[k]
            else:
                c.pop(k, None)
        print(f"{c['task']} {c['from']} -> {c['to']}: scale {c.get('scale', 1.0)}, "
              f"change blur {c.get('change_blur', 0)} (from {donor_name})")


def parse_args():
    doc = __doc__.split("\n\n")
    ap = argparse.ArgumentParser(description=doc[0], epilog="\n\n".join(doc[1:]),
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("name", help="the model's name (its config's model_name)")
    ap.add_argument("--from-job", metavar="DIR", help="the fc-train --job-dir that holds "
                    "NAME.pt and NAME.card.json")
    ap.add_argument("--shaping-from", metavar="MODEL", help="a model in models/ whose scale and "
                    "change blur each direction takes")
    ap.add_argument("--metrics", metavar="EVAL.json", help="fc-eval --json output for this model")
    ap.add_argument("--config", help="the training config's path in the repo, for the card")
    ap.add_argument("--warm-start", help="the warm start's path in the repo, for the card")
    ap.add_argument("--notes", metavar="FILE", help="text for the card's notes")
    ap.add_argument("--default", action="store_true", help="point models/DEFAULT at NAME")
    return ap.parse_args()


def main():
    args = parse_args()
    path = card_path(args.name)
    if args.from_job:
        src_pt = os.path.join(args.from_job, args.name + ".pt")
        if not os.path.isfile(src_pt):
            sys.exit(f"ship_model: {src_pt} is missing: has the training job finished?")
        card = load(os.path.join(args.from_job, args.name + ".card.json"), "the job's card")
        shutil.copyfile(src_pt, os.path.join(MODELS, args.name + ".pt"))
        card["training"]["data"] = HELD_OUT_DATA
    else:
        card = load(path, "the model's card (copy it first with --from-job)")
    if args.shaping_from:
        donor = load(card_path(args.shaping_from), "the shaping card")
        copy_shaping(card, donor, args.shaping_from)
    if args.metrics:
        ev = load(args.metrics, "fc-eval's metrics")
        card["metrics"] = {"judge": ev["judge"], "step": card["training"].get("steps"),
                           "tasks": ev["tasks"]}
    if args.config:
        card["training"]["config"] = args.config
    if args.warm_start:
        card["training"]["warm_start"] = args.warm_start
    if args.notes:
        with open(args.notes) as f:
            card["notes"] = f.read().strip()
    write_card(path, card)
    print(f"wrote {path}" + (f" and {args.name}.pt" if args.from_job else ""))
    if args.default:
        with open(os.path.join(MODELS, "DEFAULT"), "w") as f:
            f.write(args.name + "\n")
        print(f"models/DEFAULT is now {args.name}")


if __name__ == "__main__":
    main()

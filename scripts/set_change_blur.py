#!/usr/bin/env python3
"""Sets the change blur of a model's directions in its card (docs/MODEL.md, "Change blur"):
how many passes of a 3x3 binomial filter go over the generator's change before it is added to
the face. The photo's own detail is untouched; a blur takes out faint two-pixel stripes that a
generator's upsampling can leave in its change.

  set_change_blur.py MODEL TASK[:forward|reverse]=PASSES ...
  e.g. set_change_blur.py facecycle-utk-v55 race=1      (both race directions)
       set_change_blur.py facecycle-utk-v55 age:forward=0

Writes models/MODEL.card.json (a 0 leaves the key out, as the trainer writes a card). Judge the
result with fc-eval (its texture columns) and the outside judges before shipping it: the card's
metrics should be re-derived, since they describe the model as it ships.
"""
import json
import sys

from model_card import card_path as model_card_path, write_card

MAX_PASSES = 3  # fc::kMaxChangeBlur


def parse(arg):
    target, _, passes = arg.partition("=")
    task, _, direction = target.partition(":")
    if not passes.isdigit() or int(passes) > MAX_PASSES or direction not in ("", "forward", "reverse"):
        sys.exit(f"set_change_blur: '{arg}' is not TASK[:forward|reverse]=PASSES with PASSES in 0..{MAX_PASSES}")
    return task, direction, int(passes)


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    card_path = model_card_path(sys.argv[1])
    card = json.load(open(card_path))
    for arg in sys.argv[2:]:
        task, direction, passes = parse(arg)
        hits = [c for c in card["conditions"]
                if c["task"] == task and direction in ("", c["direction"])]
        if not hits:
            known = sorted({c["task"] for c in card["conditions"]})
            sys.exit(f"set_change_blur: {sys.argv[1]} has no '{task}' direction like '{arg}' (tasks: {', '.join(known)})")
        for c in hits:
            if passes:
                c["change_blur"] = passes
            else:
                c.pop("change_blur", None)
            print(f"{c['task']} {c['from']} -> {c['to']}: change blur {passes}")
    write_card(card_path, card)
    print(f"wrote {card_path}")


if __name__ == "__main__":
    main()

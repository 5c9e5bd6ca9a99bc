#!/usr/bin/env python3
"""The pixel-to-pixel part of an edit: for each source face and its output, the change
(output - source) at 64 px minus its 3x3 box blur, mean absolute value, in luminance and chroma
(BT.601, [-1, 1] scale). Drawn stripes and blotches raise it; a smooth shade or tint does not.
It is the measure behind the trainer's smooth_change penalty (cycle_losses.h:
change_detail_loss), applied to whole-image outputs. Needs numpy and PIL (/usr/bin/python3).

  change_detail.py SOURCES.txt OUTPUT_DIR [OUTPUT_DIR ...]

SOURCES.txt lists one source image per line (scripts/outside_compare.sh writes them); each
OUTPUT_DIR holds NAME.png for each source NAME.jpg (facecycle transform --format png).
"""
import os
import sys

import numpy as np
from PIL import Image

SIZE = 64


def load(path):
    im = Image.open(path).convert("RGB").resize((SIZE, SIZE), Image.BILINEAR)
    return np.asarray(im, dtype=np.float32) / 127.5 - 1


def box_blur(x):
    p = np.pad(x, ((1, 1), (1, 1), (0, 0)), mode="reflect")
    return sum(p[dy:dy + SIZE, dx:dx + SIZE] for dy in range(3) for dx in range(3)) / 9


def detail(source, output):
    change = load(output) - load(source)
    hp = change - box_blur(change)
    r, g, b = hp[..., 0], hp[..., 1], hp[..., 2]
    y = 0.299 * r + 0.587 * g + 0.114 * b
    cb = -0.168736 * r - 0.331264 * g + 0.5 * b
    cr = 0.5 * r - 0.418688 * g - 0.081312 * b
    return np.abs(y).mean(), (np.abs(cb).mean() + np.abs(cr).mean()) / 2


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    sources = [line.strip() for line in open(sys.argv[1]) if line.strip()]
    for out_dir in sys.argv[2:]:
        rows = []
        for s in sources:
            out = os.path.join(out_dir, os.path.splitext(os.path.basename(s))[0] + ".png")
            if os.path.exists(out):
                rows.append(detail(s, out))
        if not rows:
            print(f"{out_dir}: no outputs named after the sources", file=sys.stderr)
            continue
        luma, chroma = np.mean(rows, axis=0)
        print(f"{out_dir}\tfaces {len(rows)}\tluminance {luma:.4f}\tchroma {chroma:.4f}")


if __name__ == "__main__":
    main()

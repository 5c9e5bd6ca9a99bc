#!/usr/bin/env python3
"""An edit with its lightness and its colour scaled apart: for each source face and its output,
out = source + L * (the change's luminance part) + C * (the rest, its colour part), BT.601
luminance, written as NAME.png. L = C = X is `facecycle transform --strength X`; L = 1.25,
C = 1 pushes the lightness of the edit (shading, lines, greying) and keeps its tint as trained.
For asking how much of what a judge reads comes from the edit's colour (docs/MODEL.md, "Edit
strength"). Needs numpy and PIL (/usr/bin/python3).

  split_change.py L C SOURCES.txt OUTPUT_DIR NEW_DIR

SOURCES.txt lists one source image per line (scripts/outside_compare.sh writes them);
OUTPUT_DIR holds NAME.png for each source NAME.jpg (facecycle transform --format png).
"""
import os
import sys

import numpy as np
from PIL import Image

LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)


def main():
    if len(sys.argv) != 6:
        sys.exit(__doc__)
    light, colour = float(sys.argv[1]), float(sys.argv[2])
    sources, outputs, new_dir = sys.argv[3], sys.argv[4], sys.argv[5]
    os.makedirs(new_dir, exist_ok=True)
    n = 0
    for src in open(sources).read().split():
        name = os.path.splitext(os.path.basename(src))[0] + ".png"
        edited = os.path.join(outputs, name)
        if not os.path.exists(edited):
            print(f"no output for {src}", file=sys.stderr)
            continue
        a = np.asarray(Image.open(src).convert("RGB"), dtype=np.float32)
        b = np.asarray(Image.open(edited).convert("RGB").resize(a.shape[1::-1]), dtype=np.float32)
        change = b - a
        luma = (change @ LUMA)[..., None]
        out = a + light * luma + colour * (change - luma)
        Image.fromarray(np.clip(np.rint(out), 0, 255).astype(np.uint8)).save(
            os.path.join(new_dir, name))
        n += 1
    print(f"{n} faces written to {new_dir}", file=sys.stderr)


if __name__ == "__main__":
    main()

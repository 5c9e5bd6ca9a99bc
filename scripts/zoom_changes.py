#!/usr/bin/env python3
"""Texture check at 100 %: crops of the regions a transform changed (the edited faces), as
before | after at 100 % and at 3x with nearest-neighbour zoom, so checkerboard, banding, noise
or blur would show. Needs numpy and PIL (/usr/bin/python3 on Debian with python3-pil).

  zoom_changes.py OUT.png BEFORE AFTER [BEFORE AFTER ...]
"""
import sys
import numpy as np
from PIL import Image, ImageDraw

def boxes(a, b, thr=6, margin=12):
    d = np.abs(a.astype(int) - b.astype(int)).max(axis=2) > thr
    ys, xs = np.nonzero(d)
    if len(xs) == 0:
        return []
    # changed pixels -> boxes: connected cells of a 16 px grid
    g = 16
    H, W = d.shape
    grid = np.zeros(((H + g - 1) // g, (W + g - 1) // g), bool)
    grid[ys // g, xs // g] = True
    seen = np.zeros_like(grid)
    out = []
    for gy, gx in zip(*np.nonzero(grid)):
        if seen[gy, gx]:
            continue
        stack, cells = [(gy, gx)], []
        seen[gy, gx] = True
        while stack:
            y, x = stack.pop(); cells.append((y, x))
            for dy in (-1, 0, 1):
                for dx in (-1, 0, 1):
                    ny, nx = y + dy, x + dx
                    if 0 <= ny < grid.shape[0] and 0 <= nx < grid.shape[1] and grid[ny, nx] and not seen[ny, nx]:
                        seen[ny, nx] = True; stack.append((ny, nx))
        cy = [c[0] for c in cells]; cx = [c[1] for c in cells]
        y0, y1 = max(0, min(cy) * g - margin), min(H, (max(cy) + 1) * g + margin)
        x0, x1 = max(0, min(cx) * g - margin), min(W, (max(cx) + 1) * g + margin)
        if (y1 - y0) * (x1 - x0) >= 48 * 48:
            out.append((x0, y0, x1, y1))
    return out

out = sys.argv[1]
pairs = list(zip(sys.argv[2::2], sys.argv[3::2]))
rows = []
for before, after in pairs:
    a = np.asarray(Image.open(before).convert("RGB")); b = np.asarray(Image.open(after).convert("RGB"))
    for x0, y0, x1, y1 in sorted(boxes(a, b), key=lambda r: -(r[2] - r[0]) * (r[3] - r[1]))[:2]:
        ca, cb = Image.fromarray(a[y0:y1, x0:x1]), Image.fromarray(b[y0:y1, x0:x1])
        z = 3
        rows.append([ca, cb, ca.resize((ca.width * z, ca.height * z), Image.NEAREST),
                     cb.resize((cb.width * z, cb.height * z), Image.NEAREST)])
pad, head = 6, 20
W = max(sum(im.width for im in r) + pad * 5 for r in rows)
H = sum(max(im.height for im in r) + pad for r in rows) + head + pad
sheet = Image.new("RGB", (W, H), (32, 32, 32))
d = ImageDraw.Draw(sheet)
d.text((pad, 4), "before 100% | after 100% | before 3x | after 3x (nearest)", fill=(230, 230, 230))
y = head
for r in rows:
    x = pad
    for im in r:
        sheet.paste(im, (x, y)); x += im.width + pad
    y += max(im.height for im in r) + pad
sheet.save(out)
print(out, len(rows), "regions")

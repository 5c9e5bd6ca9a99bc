#!/usr/bin/env python3
"""Pairs LibTorch and PyTorch JSON lines from run_model_bench.sh into one table (no torch needed)."""
import json
import sys

rows = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
key = lambda r: (r["width"], r["blocks"], r["size"], r["batch"], r["threads"], r["channels_last"])
pairs = {}
for r in rows:
    pairs.setdefault(key(r), {})[r["impl"]] = r

print("| model | px | batch | threads | ch_last | GFLOP/face | LibTorch ms/face (min) | GFLOP/s "
      "| PyTorch ms/face (min) | GFLOP/s | speed-up median (min) |")
print("|---|---|---|---|---|---|---|---|---|---|---|")
for k, p in pairs.items():
    c, py = p.get("libtorch"), p.get("pytorch")
    if not c or not py:
        continue
    print(f"| {k[0]}/{k[1]} | {k[2]} | {k[3]} | {k[4]} | {'on' if k[5] else 'off'} "
          f"| {c['gflop_per_face']:.2f} "
          f"| {c['ms_per_face']:.1f} ({c['min_ms_per_face']:.1f}) | {c['gflops']:.1f} "
          f"| {py['ms_per_face']:.1f} ({py['min_ms_per_face']:.1f}) | {py['gflops']:.1f} "
          f"| {py['ms_per_face'] / c['ms_per_face']:.2f}x "
          f"({py['min_ms_per_face'] / c['min_ms_per_face']:.2f}x) |")

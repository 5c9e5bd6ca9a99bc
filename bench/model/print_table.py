#!/usr/bin/env python3
"""Pairs LibTorch and PyTorch JSON lines from run_model_bench.sh into one table (no torch needed)."""
import json
import os
import sys

# FP32 peak of the cores a row used (bench/run_all.sh exports the machine's peak and cores).
peak = float(os.environ.get("FC_PEAK_GFLOPS", 0))
cores = int(os.environ.get("FC_CORES", 1))
# bf16 rows are measured against the bf16 peak: AVX512-BF16 dot products do twice the FP32 work.
pct = lambda g, threads, dtype: (
    f"{100 * g / (peak * (2 if dtype == 'bf16' else 1) * min(threads, cores) / cores):.0f} %"
    if peak else "-")

rows = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
key = lambda r: (r["width"], r["blocks"], r["size"], r["batch"], r["threads"], r["channels_last"],
                 r.get("dtype", "fp32"), r.get("model", "seeded"))
pairs = {}
for r in rows:
    pairs.setdefault(key(r), {})[r["impl"]] = r

print("| model | px | batch | threads | ch_last | dtype | GFLOP/face | LibTorch ms/face (min) "
      "| nominal GFLOP/s "
      "| executed GFLOP/s, % of peak | PyTorch ms/face (min) | GFLOP/s | speed-up median (min) |")
print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
for k, p in pairs.items():
    c, py = p.get("libtorch"), p.get("pytorch")
    if not c or not py:
        continue
    print(f"| {k[0]}/{k[1]} | {k[2]} | {k[3]} | {k[4]} | {'on' if k[5] else 'off'} | {k[6]} "
          f"| {c['gflop_per_face']:.2f} "
          f"| {c['ms_per_face']:.1f} ({c['min_ms_per_face']:.1f}) | {c['gflops']:.1f} "
          f"| {c.get('exec_gflops', c['gflops']):.1f}, {pct(c.get('exec_gflops', c['gflops']), k[4], k[6])} "
          f"| {py['ms_per_face']:.1f} ({py['min_ms_per_face']:.1f}) | {py['gflops']:.1f} "
          f"| {py['ms_per_face'] / c['ms_per_face']:.2f}x "
          f"({py['min_ms_per_face'] / c['min_ms_per_face']:.2f}x) |")

# bf16 against fp32 on the LibTorch side: speed and how far the output moved.
bf16 = [(k, p["libtorch"]) for k, p in pairs.items() if k[6] == "bf16" and "libtorch" in p]
if bf16:
    print()
    print("| model | px | batch | threads | weights | fp32 ms/face | bf16 ms/face | bf16 speed-up "
          "| PSNR vs fp32 (dB) | max diff (8-bit levels) |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for k, b in bf16:
        f = pairs.get(k[:6] + ("fp32", k[7]), {}).get("libtorch")
        if not f:
            continue
        weights = "seeded" if k[7] == "seeded" else k[7].rsplit("/", 1)[-1]
        print(f"| {k[0]}/{k[1]} | {k[2]} | {k[3]} | {k[4]} | {weights} | {f['ms_per_face']:.1f} "
              f"| {b['ms_per_face']:.1f} | {f['ms_per_face'] / b['ms_per_face']:.2f}x "
              f"| {b['bf16_psnr_db']:.1f} | {b['bf16_max_diff_levels']:.1f} |")

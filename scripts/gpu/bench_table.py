#!/usr/bin/env python3
"""Prints fc-gpu-bench --bench JSON as a Markdown table (for run.log and docs/BENCHMARKS.md)."""
import json
import sys

b = json.load(open(sys.argv[1]))["bench"]
print(f"generator {b['width']}/{b['blocks']} on {b['device']}")
print("| size | batch | dtype | ms/batch | faces/s | TFLOP/s | % of peak |")
print("|---|---|---|---|---|---|---|")
for r in b["rows"]:
    print(f"| {r['size']} | {r['batch']} | {r['dtype']} | {r['ms_per_batch']:.2f} | "
          f"{r['faces_per_s']:.0f} | {r['tflops']:.2f} | {r['pct_of_peak']:.1f} |")

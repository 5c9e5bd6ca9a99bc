#!/usr/bin/env python3
"""The loss check of scripts/gpu/run.sh: reads fc-train's metrics.jsonl and prints one JSON line.

  check_losses.py JOB/metrics.jsonl STEPS [--config FILE]

Passes when every metric is finite, the run reached STEPS, and no loss ran away: each loss's
mean over the last third of its points is at most 3x its mean over the first tenth (at least two
points) plus 0.05. Whether each loss fell is reported, not required: a residual generator starts
as the identity, so its cycle loss rises as it learns to edit, and GAN losses need not fall. s_per_step is the wall time per step after the first two, which sizes the long run.
--config embeds the config text, so the result travels with the model, and splits "timing" (the
median step_time_ms and data_wait_ms) at its d_warmup_steps: the critics-only warm-up against
the steps after it, so that a run shows whether its steps waited on their faces.
"""
import json
import math
import re
import statistics
import sys
from collections import defaultdict


def timing(series, warmup):
    """Median step and data-wait milliseconds, before and after the warm-up's last step."""
    def medians(lo, hi):
        out = {}
        for name in ("step_time_ms", "data_wait_ms"):
            vals = [v for s, v, _ in series.get(name, []) if lo < s <= hi]
            if vals:
                out[name] = round(statistics.median(vals), 2)
        return out
    r = {"after_warmup": medians(warmup, math.inf)}
    if warmup > 0:
        r["warmup"] = medians(0, warmup)
    return r


def main():
    path, steps = sys.argv[1], int(sys.argv[2])
    series = defaultdict(list)
    for line in open(path):
        m = json.loads(line)
        series[m["name"]].append((m["step"], m["value"], m.get("t", 0.0)))
    bad = sorted(n for n, pts in series.items() if not all(math.isfinite(v) for _, v, _ in pts))
    reached = max((s for pts in series.values() for s, _, _ in pts), default=0)
    falling = {}
    for name, pts in series.items():
        if "loss" not in name or len(pts) < 6:
            continue
        first = statistics.mean(v for _, v, _ in pts[:max(2, len(pts) // 10)])
        last = statistics.mean(v for _, v, _ in pts[-(len(pts) // 3):])
        falling[name] = {"first_tenth": round(first, 4), "last_third": round(last, 4),
                         "fell": last < first, "bounded": last <= 3 * first + 0.05}
    lr = series.get("lr", [])
    wall = [(s, t) for s, _, t in lr if s > 2]
    s_per_step = (wall[-1][1] - wall[0][1]) / (wall[-1][0] - wall[0][0]) if len(wall) > 1 else None
    r = {"finite": not bad, "not_finite": bad, "steps": reached, "expected_steps": steps,
         "losses": falling, "s_per_step": s_per_step}
    r["pass"] = (not bad and reached >= steps and s_per_step is not None
                 and all(f["bounded"] for f in falling.values()))
    warmup = 0
    if "--config" in sys.argv:
        r["config"] = open(sys.argv[sys.argv.index("--config") + 1]).read()
        m = re.search(r"^\s*d_warmup_steps\s*=\s*(\d+)", r["config"], re.M)
        warmup = int(m.group(1)) if m else 0
    r["timing"] = timing(series, warmup)
    print(json.dumps(r))
    return 0 if r["pass"] else 1


if __name__ == "__main__":
    sys.exit(main())

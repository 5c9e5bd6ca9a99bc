#!/usr/bin/env python3
"""Lists held-out UTKFace chips of one domain, using the trainer's split (train/data/
domains.cpp: FNV-1a of the file name, mixed with the seed by splitmix64).

  heldout_faces.py DIR --race 0 --age 20 29 [--seed 1] [--fraction 0.1] [--n 8] [--offset 0]

--offset 1 picks the faces between those of --offset 0 (at the same --n), a disjoint set for
choosing a setting (such as a strength) that the --offset 0 faces then report on.
"""
import argparse
import os

M = (1 << 64) - 1


def mix64(x):
    x = (x + 0x9E3779B97F4A7C15) & M
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & M
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & M
    return x ^ (x >> 31)


def heldout(name, seed, fraction):
    h = 1469598103934665603
    for c in name.encode():
        h = ((h ^ c) * 1099511628211) & M
    u = (mix64(h ^ mix64(seed)) >> 11) * (1.0 / 9007199254740992.0)
    return u < fraction


def main():
    p = argparse.ArgumentParser()
    p.add_argument("dir")
    p.add_argument("--race", type=int, nargs="*", default=[])
    p.add_argument("--age", type=int, nargs=2, default=[0, 200])
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--fraction", type=float, default=0.1)
    p.add_argument("--n", type=int, default=8)
    p.add_argument("--offset", type=int, default=0)
    a = p.parse_args()
    out = []
    for name in sorted(os.listdir(a.dir)):
        parts = name.split("_")
        if len(parts) != 4 or not all(x.isdigit() for x in parts[:3]):
            continue
        age, race = int(parts[0]), int(parts[2])
        if not (a.age[0] <= age <= a.age[1]) or (a.race and race not in a.race):
            continue
        if heldout(name, a.seed, a.fraction):
            out.append(os.path.join(a.dir, name))
    # Spread the picks over the sorted list rather than taking the first few ages.
    step = max(1, len(out) // a.n)
    if a.offset >= step:
        p.error(f"--offset {a.offset} must be below the step {step} ({len(out)} faces, --n {a.n})")
    for f in out[a.offset :: step][: a.n]:
        print(f)


if __name__ == "__main__":
    main()

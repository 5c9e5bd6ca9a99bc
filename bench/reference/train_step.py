#!/usr/bin/python3
"""PyTorch reference for one facecycle training step (bench/train/train_step_bench.cpp does the
same in LibTorch): G under A->B and B->A in two batched passes (fake, identity, then
reconstruction), LSGAN + L1 cycle + L1 identity, Adam on G, then D_A/D_B on pooled fakes.
Prints one JSON line. Run with /usr/bin/python3 (has torch).

  /usr/bin/python3 bench/reference/train_step.py --size 64 --batch 4 --threads 2
"""
import argparse
import json
import os
import random
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from generator import ResnetGenerator  # noqa: E402  (the model engineer's PyTorch copy)


def patchgan_layers_for_size(size):
    layers = 3
    while layers > 1 and size // (1 << layers) - 2 < 4:
        layers -= 1
    return layers


class PatchDiscriminator(nn.Module):
    """Same layers as fc::PatchDiscriminator: C64 (no norm), then `layers` x (conv4, IN, lrelu),
    the last with stride 1, then a 1-channel conv4."""

    def __init__(self, width=64, layers=3):
        super().__init__()
        seq = [nn.Conv2d(3, width, 4, 2, 1), nn.LeakyReLU(0.2, True)]
        ch = width
        for n in range(1, layers + 1):
            out = width * min(2 ** n, 8)
            seq += [nn.Conv2d(ch, out, 4, 2 if n < layers else 1, 1, bias=False),
                    nn.InstanceNorm2d(out), nn.LeakyReLU(0.2, True)]
            ch = out
        seq += [nn.Conv2d(ch, 1, 4, 1, 1)]
        self.model = nn.Sequential(*seq)

    def forward(self, x):
        return self.model(x)


class ImagePool:
    def __init__(self, size):
        self.size, self.images = size, []

    def query(self, images):
        out = []
        for img in images.detach():
            if len(self.images) < self.size:
                self.images.append(img)
                out.append(img)
            elif random.random() < 0.5:
                j = random.randrange(len(self.images))
                out.append(self.images[j])
                self.images[j] = img
            else:
                out.append(img)
        return torch.stack(out)


def lsgan(pred, target):
    return F.mse_loss(pred, torch.full_like(pred, target))


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--width", type=int, default=32)
    p.add_argument("--blocks", type=int, default=6)
    p.add_argument("--d-width", type=int, default=64)
    p.add_argument("--size", type=int, default=64)
    p.add_argument("--batch", type=int, default=4)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--steps", type=int, default=6)
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--bf16", type=int, default=0, help="bf16 autocast for the forward passes")
    a = p.parse_args()

    torch.set_num_threads(a.threads)
    torch.manual_seed(1)
    random.seed(1)
    G = ResnetGenerator(a.width, a.blocks, 4)
    layers = patchgan_layers_for_size(a.size)
    D_A, D_B = PatchDiscriminator(a.d_width, layers), PatchDiscriminator(a.d_width, layers)
    opt_G = torch.optim.Adam(G.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_D = torch.optim.Adam(list(D_A.parameters()) + list(D_B.parameters()), lr=2e-4,
                             betas=(0.5, 0.999))
    pool_A, pool_B = ImagePool(50), ImagePool(50)
    n = a.batch
    ab, ba = torch.full((n,), 0, dtype=torch.long), torch.full((n,), 1, dtype=torch.long)

    def step():
        real_A = torch.rand(n, 3, a.size, a.size) * 2 - 1
        real_B = torch.rand(n, 3, a.size, a.size) * 2 - 1
        for p_ in list(D_A.parameters()) + list(D_B.parameters()):
            p_.requires_grad_(False)
        opt_G.zero_grad()
        ac = torch.autocast("cpu", dtype=torch.bfloat16, enabled=bool(a.bf16))
        ac.__enter__()
        y1 = G(torch.cat([real_A, real_B, real_B, real_A]), torch.cat([ab, ba, ab, ba]))
        fake_B, fake_A, idt_A, idt_B = y1.split(n)
        y2 = G(torch.cat([fake_B, fake_A]), torch.cat([ba, ab]))
        rec_A, rec_B = y2.split(n)
        loss_G = (lsgan(D_A(fake_B), 1.0) + lsgan(D_B(fake_A), 1.0)
                  + 10 * F.l1_loss(rec_A, real_A) + 10 * F.l1_loss(rec_B, real_B)
                  + 5 * F.l1_loss(idt_A, real_B) + 5 * F.l1_loss(idt_B, real_A))
        ac.__exit__(None, None, None)
        loss_G.backward()
        opt_G.step()
        for p_ in list(D_A.parameters()) + list(D_B.parameters()):
            p_.requires_grad_(True)
        opt_D.zero_grad()
        fb, fa = pool_B.query(fake_B.float()), pool_A.query(fake_A.float())
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bool(a.bf16)):
            loss_D = (0.5 * (lsgan(D_A(real_B), 1.0) + lsgan(D_A(fb), 0.0))
                      + 0.5 * (lsgan(D_B(real_A), 1.0) + lsgan(D_B(fa), 0.0)))
        loss_D.backward()
        opt_D.step()

    for _ in range(a.warmup):
        step()
    times = []
    for _ in range(a.steps):
        t0 = time.perf_counter()
        step()
        times.append(time.perf_counter() - t0)
    times.sort()
    median = times[len(times) // 2]
    print(json.dumps({"impl": "pytorch", "torch": torch.__version__, "size": a.size,
                      "batch": a.batch, "width": a.width, "blocks": a.blocks,
                      "d_width": a.d_width, "d_layers": layers, "threads": a.threads, "bf16": bool(a.bf16),
                      "steps": a.steps, "ms_per_step": median * 1e3,
                      "pairs_per_s": a.batch / median}))


if __name__ == "__main__":
    main()

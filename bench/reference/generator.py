#!/usr/bin/python3
"""PyTorch reference for the facecycle generator (same layers, same order, CIN), timed the same way
as bench/model/generator_bench.cpp. Prints one JSON line. Run with /usr/bin/python3 (has torch).

  /usr/bin/python3 bench/reference/generator.py --width 32 --blocks 6 --size 128 --batch 16 --threads 1
"""
import argparse
import json
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F



def rpad(x, p):
    """Reflection padding; PyTorch 1.13 has no CPU bf16 kernel for it, so bf16 pads in float."""
    if x.dtype == torch.bfloat16:
        return F.pad(x.float(), (p, p, p, p), mode="reflect").to(x.dtype)
    return F.pad(x, (p, p, p, p), mode="reflect")

class CondInstanceNorm(nn.Module):
    """InstanceNorm (affine=False) then a per-condition gamma/beta from Embedding(K, 2C)."""

    def __init__(self, channels, num_conditions):
        super().__init__()
        self.norm = nn.InstanceNorm2d(channels, affine=False)
        self.embed = nn.Embedding(num_conditions, 2 * channels)
        with torch.no_grad():
            self.embed.weight[:, :channels].fill_(1.0)
            self.embed.weight[:, channels:].zero_()

    def forward(self, x, cond):
        gamma, beta = self.embed(cond).chunk(2, dim=1)
        return self.norm(x) * gamma[:, :, None, None] + beta[:, :, None, None]


def conv(cin, cout, k, stride=1, pad=0, bias=False):
    return nn.Conv2d(cin, cout, k, stride=stride, padding=pad, bias=bias)


class ResBlock(nn.Module):
    def __init__(self, c, k):
        super().__init__()
        self.conv1, self.norm1 = conv(c, c, 3), CondInstanceNorm(c, k)
        self.conv2, self.norm2 = conv(c, c, 3), CondInstanceNorm(c, k)

    def forward(self, x, cond):
        h = F.relu(self.norm1(self.conv1(rpad(x, 1)), cond), inplace=True)
        h = self.norm2(self.conv2(rpad(h, 1)), cond)
        return x + h


class ResnetGenerator(nn.Module):
    """c7s1-k, d2k, d4k, N x R4k, (nearest x2, conv3) x2, c7s1-3, tanh; CIN after every conv."""

    def __init__(self, width=32, blocks=6, num_conditions=4):
        super().__init__()
        k, K = width, num_conditions
        self.head, self.head_norm = conv(3, k, 7), CondInstanceNorm(k, K)
        self.down1, self.down1_norm = conv(k, 2 * k, 3, 2, 1), CondInstanceNorm(2 * k, K)
        self.down2, self.down2_norm = conv(2 * k, 4 * k, 3, 2, 1), CondInstanceNorm(4 * k, K)
        self.blocks = nn.ModuleList([ResBlock(4 * k, K) for _ in range(blocks)])
        self.up1, self.up1_norm = conv(4 * k, 2 * k, 3), CondInstanceNorm(2 * k, K)
        self.up2, self.up2_norm = conv(2 * k, k, 3), CondInstanceNorm(k, K)
        self.tail = conv(k, 3, 7, bias=True)

    def forward(self, x, cond):
        y = F.relu(self.head_norm(self.head(rpad(x, 3)), cond))
        y = F.relu(self.down1_norm(self.down1(y), cond))
        y = F.relu(self.down2_norm(self.down2(y), cond))
        for b in self.blocks:
            y = b(y, cond)
        for up, norm in ((self.up1, self.up1_norm), (self.up2, self.up2_norm)):
            y = F.interpolate(y, scale_factor=2, mode="nearest")
            y = F.relu(norm(up(rpad(y, 1)), cond))
        return torch.tanh(self.tail(rpad(y, 3)))


def generator_flops_per_face(width, blocks, size):
    """Same analytic count as bench/model/generator_flops.h: 2*Cin*Cout*k^2*Hout*Wout per conv."""
    w, s = width, size
    h, q = s / 2, s / 4
    f = 2 * 3 * w * 49 * s * s
    f += 2 * w * 2 * w * 9 * h * h
    f += 2 * 2 * w * 4 * w * 9 * q * q
    f += blocks * 2 * (2 * 4 * w * 4 * w * 9 * q * q)
    f += 2 * 4 * w * 2 * w * 9 * h * h
    f += 2 * 2 * w * w * 9 * s * s
    f += 2 * w * 3 * 49 * s * s
    return f


def verify(folder, width, blocks):
    """The LibTorch generator and this reference are the same network: same weights, same output."""
    weights = torch.jit.load(f"{folder}/model.pt").state_dict()
    io = torch.jit.load(f"{folder}/io.pt").state_dict()
    g = ResnetGenerator(width, blocks).eval()
    renamed = {}
    for k, v in weights.items():
        if k.startswith("res"):
            i, rest = k[3:].split(".", 1)
            k = f"blocks.{i}.{rest}"
        renamed[k] = v
    g.load_state_dict(renamed, strict=True)
    with torch.inference_mode():
        y = g(io["x"], io["cond"])
    diff = (y - io["y"]).abs().max().item()
    print(json.dumps({"verify": folder, "max_abs_diff": diff, "same": diff < 1e-4}))
    return 0 if diff < 1e-4 else 1


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--width", type=int, default=32)
    p.add_argument("--blocks", type=int, default=6)
    p.add_argument("--size", type=int, default=128)
    p.add_argument("--batch", type=int, default=1)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--channels-last", type=int, default=0)
    p.add_argument("--dtype", choices=["fp32", "bf16"], default="fp32")
    p.add_argument("--model", default="", help="ignored (LibTorch side only)")
    p.add_argument("--min-time", type=float, default=2.0)
    p.add_argument("--min-iters", type=int, default=3)
    p.add_argument("--verify", metavar="DIR",
                   help="load DIR/model.pt and DIR/io.pt written by bench_generator --dump and check "
                        "that this reference computes the same output")
    a = p.parse_args()
    if a.verify:
        return verify(a.verify, a.width, a.blocks)

    torch.set_num_threads(a.threads)
    torch.manual_seed(1)
    g = ResnetGenerator(a.width, a.blocks).eval()
    with torch.no_grad():
        for m in g.modules():
            if isinstance(m, nn.Embedding):
                c = m.weight.shape[1] // 2
                m.weight[:, :c].normal_(1.0, 0.2)
                m.weight[:, c:].normal_(0.0, 0.2)
    x = torch.rand(a.batch, 3, a.size, a.size) * 2 - 1
    cond = torch.arange(a.batch) % 4
    if a.dtype == "bf16":
        g, x = g.to(torch.bfloat16), x.to(torch.bfloat16)
    if a.channels_last:
        g = g.to(memory_format=torch.channels_last)
        x = x.contiguous(memory_format=torch.channels_last)

    with torch.inference_mode():
        g(x, cond)  # warm-up
        times = []
        start = time.perf_counter()
        while len(times) < a.min_iters or time.perf_counter() - start < a.min_time:
            t0 = time.perf_counter()
            g(x, cond)
            times.append((time.perf_counter() - t0) * 1e3)
    times.sort()
    median = times[len(times) // 2]
    gflop = generator_flops_per_face(a.width, a.blocks, a.size) / 1e9
    print(json.dumps({"impl": "pytorch", "width": a.width, "blocks": a.blocks, "size": a.size,
                      "batch": a.batch, "threads": a.threads, "channels_last": bool(a.channels_last),
                      "dtype": a.dtype,
                      "iters": len(times), "ms_per_batch": median, "ms_per_face": median / a.batch,
                      "min_ms_per_face": times[0] / a.batch,
                      "gflop_per_face": gflop, "gflops": gflop * a.batch / (median / 1e3)}))


if __name__ == "__main__":
    sys.exit(main())

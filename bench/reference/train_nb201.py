"""Training throughput of the NAS-Bench-201 network in PyTorch: the reference column of
`cargo xtask bench train`.

The network is NB201's (Dong & Yang 2020) at C=16, N=5 for one cell, given as its 6-digit
op code (edges 1<-0, 2<-0, 2<-1, 3<-0, 3<-1, 3<-2; ops 0 none, 1 skip_connect,
2 nor_conv_1x1, 3 nor_conv_3x3, 4 avg_pool_3x3): a 3x3 stem, three stages of N cells
(16, 32, 64 channels) joined by residual reduction blocks, a final BN-ReLU, global pooling
and a linear classifier, affine batch norms. A step is forward, backward and an
SGD-momentum update on one batch of random 32x32x3 images (the same batch every step),
as the Rust side does: one untimed warm-up step, then `--steps` timed ones.

Prints one JSON line: images per second and the peak resident memory in GiB.
"""

import argparse
import json
import resource
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

EDGES = [(0, 1), (0, 2), (1, 2), (0, 3), (1, 3), (2, 3)]


class ReLUConvBN(nn.Sequential):
    def __init__(self, c_in, c_out, k, stride):
        super().__init__(
            nn.ReLU(),
            nn.Conv2d(c_in, c_out, k, stride, k // 2, bias=False),
            nn.BatchNorm2d(c_out),
        )


def edge(op, c):
    if op == 1:
        return nn.Identity()
    if op == 2:
        return ReLUConvBN(c, c, 1, 1)
    if op == 3:
        return ReLUConvBN(c, c, 3, 1)
    if op == 4:
        return nn.AvgPool2d(3, 1, 1, count_include_pad=False)
    return None


class Cell(nn.Module):
    def __init__(self, ops, c):
        super().__init__()
        self.ops = nn.ModuleList(edge(op, c) or nn.Identity() for op in ops)
        self.live = [op != 0 for op in ops]

    def forward(self, x):
        nodes = [x]
        for j in range(1, 4):
            terms = [self.ops[k](nodes[i]) for k, (i, t) in enumerate(EDGES) if t == j and self.live[k]]
            nodes.append(sum(terms) if terms else torch.zeros_like(x))
        return nodes[3]


class Reduction(nn.Module):
    def __init__(self, c_in, c_out):
        super().__init__()
        self.a = ReLUConvBN(c_in, c_out, 3, 2)
        self.b = ReLUConvBN(c_out, c_out, 3, 1)
        self.shortcut = nn.Sequential(nn.AvgPool2d(2, 2), nn.Conv2d(c_in, c_out, 1, bias=False))

    def forward(self, x):
        return self.shortcut(x) + self.b(self.a(x))


def network(ops, c=16, n=5, classes=10):
    layers = [nn.Conv2d(3, c, 3, padding=1, bias=False), nn.BatchNorm2d(c)]
    for stage in range(3):
        ch = c << stage
        if stage > 0:
            layers.append(Reduction(ch // 2, ch))
        layers.extend(Cell(ops, ch) for _ in range(n))
    layers += [nn.BatchNorm2d(4 * c), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4 * c, classes)]
    return nn.Sequential(*layers)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--cell", default="333132")
    p.add_argument("--steps", type=int, default=5)
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--threads", type=int, default=2)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    net = network([int(d) for d in a.cell])
    opt = torch.optim.SGD(net.parameters(), 0.01, momentum=0.9)
    x = torch.rand(a.batch, 3, 32, 32) * 2 - 1
    y = torch.randint(0, 10, (a.batch,))
    started = time.perf_counter()
    for step in range(a.steps + 1):
        if step == 1:
            started = time.perf_counter()
        opt.zero_grad()
        loss = F.cross_entropy(net(x), y)
        loss.backward()
        opt.step()
        assert torch.isfinite(loss), f"loss {loss} at step {step}"
    seconds = time.perf_counter() - started
    print(json.dumps({
        "images_per_s": a.steps * a.batch / seconds,
        "peak_rss_gib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20,
        "cell": a.cell,
    }))


if __name__ == "__main__":
    main()

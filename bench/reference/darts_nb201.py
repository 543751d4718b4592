"""DARTS search steps on the NAS-Bench-201 supernet in PyTorch: the reference column of
`cargo xtask bench darts`.

The supernet is NB201's (Dong & Yang 2020) at C=16, N=5: a 3x3 stem, three stages of N
cells (16, 32, 64 channels) joined by residual reduction blocks, a final BN-ReLU, global
pooling and a linear classifier. Every edge of a cell is a mixed op over none,
skip_connect, nor_conv_1x1, nor_conv_3x3 and avg_pool_3x3 with affine-free batch norms,
weighted by the softmax of its row of alpha ([6, 5], shared by every cell). A step is an
Adam step on alpha from a validation batch (first order: at the current weights; second
order: at the weights unrolled one SGD step, less the finite-difference Hessian-vector
product, as in Liu et al.'s Architect) and an SGD-momentum step on the weights from a
training batch. Data are random 32x32x3 images of 10 classes.

Prints one JSON line: images per second (training images, i.e. steps x batch, over the
wall time of all steps) and the process's peak resident memory in GiB.
"""

import argparse
import json
import resource
import time

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.func import functional_call

EDGES = [(0, 1), (0, 2), (1, 2), (0, 3), (1, 3), (2, 3)]


class ReLUConvBN(nn.Sequential):
    def __init__(self, c_in, c_out, k, stride, affine):
        super().__init__(
            nn.ReLU(),
            nn.Conv2d(c_in, c_out, k, stride, k // 2, bias=False),
            nn.BatchNorm2d(c_out, affine=affine),
        )


class MixedOp(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.conv_1x1 = ReLUConvBN(c, c, 1, 1, affine=False)
        self.conv_3x3 = ReLUConvBN(c, c, 3, 1, affine=False)
        self.pool = nn.AvgPool2d(3, 1, 1, count_include_pad=False)

    def forward(self, x, w):
        # w[0] is none: its output is zero.
        return w[1] * x + w[2] * self.conv_1x1(x) + w[3] * self.conv_3x3(x) + w[4] * self.pool(x)


class Cell(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.edges = nn.ModuleList(MixedOp(c) for _ in EDGES)

    def forward(self, x, weights):
        nodes = [x]
        for j in range(1, 4):
            nodes.append(sum(self.edges[k](nodes[i], weights[k]) for k, (i, t) in enumerate(EDGES) if t == j))
        return nodes[3]


class Reduction(nn.Module):
    def __init__(self, c_in, c_out):
        super().__init__()
        self.a = ReLUConvBN(c_in, c_out, 3, 2, affine=True)
        self.b = ReLUConvBN(c_out, c_out, 3, 1, affine=True)
        self.shortcut = nn.Sequential(nn.AvgPool2d(2, 2), nn.Conv2d(c_in, c_out, 1, bias=False))

    def forward(self, x):
        return self.shortcut(x) + self.b(self.a(x))


class Supernet(nn.Module):
    def __init__(self, c=16, n=5, classes=10):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, c, 3, padding=1, bias=False), nn.BatchNorm2d(c))
        layers = []
        for stage in range(3):
            ch = c << stage
            if stage > 0:
                layers.append(Reduction(ch // 2, ch))
            layers.extend(Cell(ch) for _ in range(n))
        self.layers = nn.ModuleList(layers)
        self.last = nn.Sequential(nn.BatchNorm2d(4 * c), nn.ReLU())
        self.classifier = nn.Linear(4 * c, classes)

    def forward(self, x, alpha):
        weights = F.softmax(alpha, dim=-1)
        x = self.stem(x)
        for layer in self.layers:
            x = layer(x, weights) if isinstance(layer, Cell) else layer(x)
        x = self.last(x).mean((2, 3))
        return self.classifier(x)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--order", type=int, default=1, choices=[1, 2])
    p.add_argument("--steps", type=int, default=5)
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--threads", type=int, default=2)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    net = Supernet()
    alpha = (1e-3 * torch.randn(6, 5)).requires_grad_()
    lr, momentum, wd = 0.025, 0.9, 3e-4
    w_opt = torch.optim.SGD(net.parameters(), lr, momentum=momentum, weight_decay=wd)
    a_opt = torch.optim.Adam([alpha], 3e-4, betas=(0.5, 0.999), weight_decay=1e-3)
    data = [(torch.randn(a.batch, 3, 32, 32), torch.randint(0, 10, (a.batch,))) for _ in range(2 * a.steps)]
    names = [n for n, _ in net.named_parameters()]

    def loss_at(params, x, y, arch):
        return F.cross_entropy(functional_call(net, params, (x, arch)), y)

    started = time.perf_counter()
    for s in range(a.steps):
        (xt, yt), (xv, yv) = data[2 * s], data[2 * s + 1]
        a_opt.zero_grad()
        if a.order == 1:
            F.cross_entropy(net(xv, alpha), yv).backward()
        else:
            params = dict(net.named_parameters())
            train_grads = torch.autograd.grad(loss_at(params, xt, yt, alpha.detach()), list(params.values()))
            unrolled = {}
            for n, g in zip(names, train_grads):
                w = params[n]
                buf = w_opt.state.get(w, {}).get("momentum_buffer")
                step = g + wd * w if buf is None else momentum * buf + g + wd * w
                unrolled[n] = (w - lr * step).detach().requires_grad_()
            valid_loss = loss_at(unrolled, xv, yv, alpha)
            grads = torch.autograd.grad(valid_loss, [alpha] + list(unrolled.values()))
            d_alpha, d_w = grads[0], grads[1:]
            r = 0.01 / torch.cat([g.reshape(-1) for g in d_w]).norm()
            hvp = []
            for sign in (1.0, -1.0):
                moved = {n: (params[n] + sign * r * g).detach() for n, g in zip(names, d_w)}
                hvp.append(torch.autograd.grad(loss_at(moved, xt, yt, alpha), alpha)[0])
            alpha.grad = d_alpha - lr * (hvp[0] - hvp[1]) / (2 * r)
        a_opt.step()
        w_opt.zero_grad()
        F.cross_entropy(net(xt, alpha.detach()), yt).backward()
        nn.utils.clip_grad_norm_(net.parameters(), 5.0)
        w_opt.step()
    seconds = time.perf_counter() - started
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({
        "images_per_s": a.steps * a.batch / seconds,
        "peak_rss_gib": peak_kib / 2**20,
        "steps": a.steps,
        "order": a.order,
    }))


if __name__ == "__main__":
    main()

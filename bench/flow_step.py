#!/usr/bin/env python3
"""PyTorch-for-Python peer of `./tikhon bench flow-step`: one training iteration of a continuous
normalizing flow on 2-D data, with the same model and the same arithmetic, timed on this machine.
Prints one JSON object.

Model: ż = f(z, t), f an MLP 2→64→64→64→2 whose every layer takes t as an extra input
(FFJORD's concat layers), softplus between layers. Augmented state (z, Δlog p, E, n) with rates
(f, −div f, ½·mean f², mean_d ‖∂f/∂z row‖²) — the divergence and the Jacobian norm exact, from
one vector–Jacobian product per dimension with create_graph. Classical RK4 with 4 steps on
[0, 1] (what torchdiffeq's fixed-grid rk4 does, written out here so nothing is imported),
backprop through the steps, loss = −mean log p + 0.01·mean E + 0.01·mean n, Adam step.

    /usr/bin/python3 bench/flow_step.py --threads 2 --steps 30

With --data image: Tikhon's multiscale flow on 1×28×28 images (ImageFlow): dequantize
u = (255x + U)/256, y = logit(α + (1−2α)u) with its log-det, then two scales of squeeze → CNF block
(four 3×3 convolutions, --channels wide, t appended as a channel at every layer, softplus, last layer
zero) → factor out half; Rademacher Hutchinson (one vector–Jacobian product per evaluation, noise
drawn once per block), RK4 with 4 steps per block; loss = mean bits/dim + 0.01·mean ΣE + 0.01·mean Σn.
"""
import argparse
import json
import math
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class ConcatMlp(nn.Module):
    def __init__(self, dim=2, hidden=(64, 64, 64)):
        super().__init__()
        sizes = [dim, *hidden, dim]
        self.layers = nn.ModuleList(nn.Linear(a + 1, b) for a, b in zip(sizes[:-1], sizes[1:]))

    def forward(self, t, z):
        h = z
        tt = torch.full((z.shape[0], 1), t, dtype=z.dtype)
        for i, layer in enumerate(self.layers):
            h = layer(torch.cat([h, tt], 1))
            if i < len(self.layers) - 1:
                h = F.softplus(h)
        return h


def augmented(f, t, state):
    z = state[0]
    if not z.requires_grad:
        z = z.requires_grad_(True)
    dz = f(t, z)
    div = torch.zeros(z.shape[0])
    frob = torch.zeros(z.shape[0])
    for i in range(z.shape[1]):
        row, = torch.autograd.grad(dz[:, i].sum(), z, create_graph=True)
        div = div + row[:, i]
        frob = frob + row.pow(2).sum(1)
    kinetic = 0.5 * dz.pow(2).mean(1)
    return [dz, -div, kinetic, frob / z.shape[1]]


def rk4(func, y, t0, t1, n):
    h = (t1 - t0) / n
    for s in range(n):
        t = t0 + s * h
        k1 = func(t, y)
        k2 = func(t + h / 2, [a + h / 2 * b for a, b in zip(y, k1)])
        k3 = func(t + h / 2, [a + h / 2 * b for a, b in zip(y, k2)])
        k4 = func(t + h, [a + h * b for a, b in zip(y, k3)])
        y = [a + h / 6 * (b1 + 2 * b2 + 2 * b3 + b4) for a, b1, b2, b3, b4 in zip(y, k1, k2, k3, k4)]
    return y


class ConvField(nn.Module):
    def __init__(self, channels, width):
        super().__init__()
        sizes = [channels, width, width, width, channels]
        self.layers = nn.ModuleList(nn.Conv2d(a + 1, b, 3, padding=1) for a, b in zip(sizes[:-1], sizes[1:]))
        nn.init.zeros_(self.layers[-1].weight)
        nn.init.zeros_(self.layers[-1].bias)

    def forward(self, t, z):
        tt = torch.full((z.shape[0], 1, z.shape[2], z.shape[3]), t, dtype=z.dtype)
        h = z
        for i, layer in enumerate(self.layers):
            h = layer(torch.cat([h, tt], 1))
            if i < len(self.layers) - 1:
                h = F.softplus(h)
        return h


def hutchinson(f, eps, t, state):
    z = state[0]
    if not z.requires_grad:
        z = z.requires_grad_(True)
    dz = f(t, z)
    ej, = torch.autograd.grad(dz, z, eps, create_graph=True)
    n = z.shape[0]
    return [dz, -(ej * eps).view(n, -1).sum(1), 0.5 * dz.pow(2).view(n, -1).mean(1), ej.pow(2).view(n, -1).mean(1)]


def squeeze(x):
    n, c, h, w = x.shape
    return x.reshape(n, c, h // 2, 2, w // 2, 2).permute(0, 1, 3, 5, 2, 4).reshape(n, 4 * c, h // 2, w // 2)


def image_step(fields, opt, x, alpha=1e-5):
    opt.zero_grad(set_to_none=True)
    n = x.shape[0]
    u = (x * 255 + torch.rand_like(x)) / 256
    s = alpha + (1 - 2 * alpha) * u
    y = torch.log(s) - torch.log1p(-s)
    logp = (math.log(1 - 2 * alpha) - torch.log(s) - torch.log1p(-s)).view(n, -1).sum(1)
    h = squeeze(y)
    kinetic = jac = 0
    for i, f in enumerate(fields):
        eps = torch.randint(0, 2, h.shape).to(h.dtype) * 2 - 1
        zero = torch.zeros(n)
        z, dlogp, e, j = rk4(lambda t, st: hutchinson(f, eps, t, st), [h, zero, zero, zero], 0.0, 1.0, 4)
        latent = z[:, : z.shape[1] // 2] if i < len(fields) - 1 else z
        logp = logp - 0.5 * latent.pow(2).view(n, -1).sum(1) - 0.5 * latent[0].numel() * math.log(2 * math.pi) - dlogp
        kinetic, jac = kinetic + e, jac + j
        if i < len(fields) - 1:
            h = squeeze(z[:, z.shape[1] // 2:])
    bpd = -(logp / x[0].numel() - math.log(256)) / math.log(2)
    loss = bpd.mean() + 0.01 * kinetic.mean() + 0.01 * jac.mean()
    loss.backward()
    opt.step()
    return loss.item()


def step(f, opt, x):
    opt.zero_grad(set_to_none=True)
    zero = torch.zeros(x.shape[0])
    z, dlogp, e, n = rk4(lambda t, y: augmented(f, t, y), [x, zero, zero, zero], 0.0, 1.0, 4)
    logp = -0.5 * z.pow(2).sum(1) - 0.5 * z.shape[1] * math.log(2 * math.pi) - dlogp
    loss = -logp.mean() + 0.01 * e.mean() + 0.01 * n.mean()
    loss.backward()
    opt.step()
    return loss.item()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--batch", type=int, default=None, help="default 512 (2d), 16 (image)")
    ap.add_argument("--data", choices=["2d", "image"], default="2d")
    ap.add_argument("--channels", type=int, default=64)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    if a.data == "image":
        batch = a.batch or 16
        f = nn.ModuleList([ConvField(4, a.channels), ConvField(8, a.channels)])
        x = torch.randint(0, 256, (batch, 1, 28, 28)).float() / 255
        run, nfe = (lambda: image_step(f, opt, x)), 32
    else:
        batch = a.batch or 512
        f = ConcatMlp()
        x = torch.randn(batch, 2) * 2
        run, nfe = (lambda: step(f, opt, x)), 16
    opt = torch.optim.Adam(f.parameters(), lr=1e-3)
    for _ in range(a.warmup):
        run()
    ms = []
    for _ in range(a.steps):
        t0 = time.perf_counter()
        run()
        ms.append(1000 * (time.perf_counter() - t0))
    print(json.dumps({"impl": "pytorch", "torch_version": torch.__version__, "data": a.data, "batch": batch, "threads": a.threads,
                      "nfe": nfe, "median_ms": sorted(ms)[len(ms) // 2], "steps_per_second": 1000 * len(ms) / sum(ms)}))


if __name__ == "__main__":
    main()

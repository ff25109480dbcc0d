#!/usr/bin/env python3
"""PyTorch-for-Python peer of `./tikhon bench train-step`: the same small CNN, batch, loss and
optimizer step, timed on this machine. Prints one JSON object.

Run with the interpreter that has torch (Debian: /usr/bin/python3 with python3-torch):
    /usr/bin/python3 bench/train_step.py --threads 2 --steps 50
    /usr/bin/python3 bench/train_step.py --threads 2 --steps 50 --reg tikhonov

With --reg R the plain step and the R-regularized step are both timed in this process, in
alternating blocks after warming up both, and `ratio` = plain steps/s ÷ regularized steps/s is the
cost of one regularized step in plain steps. Notation below: x the batch in [0,1], y the labels,
ℓ = per-example cross-entropy, L = mean ℓ.
"""
import argparse
import json
import math
import os
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

REGS = ["none", "tikhonov", "tikhonov-exact", "tv", "lipschitz", "noise", "fgsm", "pgd", "trades"]


def gpu_math(device, tf32):
    """The settings Tikhon uses on a GPU (Engine.configureCuda), so both sides of a compare do the same math."""
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True
        torch.backends.cudnn.allow_tf32 = tf32
        torch.backends.cuda.matmul.allow_tf32 = tf32


class SmallCnn(nn.Module):
    """conv3x3(32) relu conv3x3(64) relu maxpool2 fc(128) relu fc(10): Tikhon's `--model cnn`."""

    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(1, 32, 3)
        self.c2 = nn.Conv2d(32, 64, 3)
        self.f1 = nn.Linear(64 * 12 * 12, 128)
        self.f2 = nn.Linear(128, 10)

    def forward(self, x):
        x = F.relu(self.c1(x))
        x = F.relu(self.c2(x))
        x = F.max_pool2d(x, 2).flatten(1)
        return self.f2(F.relu(self.f1(x)))


def mlp(depth, width):
    """flatten → (fc(width) → relu) × depth → fc(10): Tikhon's `--model mlp --depth D --width W`."""
    layers, n = [nn.Flatten()], 28 * 28
    for _ in range(depth):
        layers += [nn.Linear(n, width), nn.ReLU()]
        n = width
    return nn.Sequential(*layers, nn.Linear(n, 10))


def ce(model, x, y):
    """ℓ: per-example cross-entropy."""
    return F.cross_entropy(model(x), y, reduction="none")


def fd_losses(model, x, y, h, norm):
    """(ℓ(x), ℓ(x + h·d)) with d = g/‖g‖₂ per example (0 where g = 0), or sign(g)/√n for l1,
    g = ∇ₓ Σℓ (no create_graph), d detached. ℓ(x) keeps its graph."""
    x = x.detach().requires_grad_(True)
    l = ce(model, x, y)
    g, = torch.autograd.grad(l.sum(), x, retain_graph=True)
    if norm == "l2":
        n = g.flatten(1).norm(dim=1).view(-1, *[1] * (g.dim() - 1))
        d = g / torch.where(n > 0, n, torch.ones_like(n))  # g is 0 wherever n is 0
    else:
        d = g.sign() / math.sqrt(g[0].numel())
    return l, ce(model, x + h * d.detach(), y)


def tikhonov(model, x, y, a):
    """Finite-difference Tikhonov (Finlay & Oberman): R = mean ½((ℓ(x+h·d) − ℓ(x))/h)²; L + λR."""
    l, l2 = fd_losses(model, x, y, a.h, a.norm)
    return l.mean() + a.lam * (0.5 * ((l2 - l) / a.h) ** 2).mean()


def tikhonov_exact(model, x, y, a):
    """Double backprop: g = ∇ₓ Σℓ (create_graph), R = mean ½‖gᵢ‖₂²; L + λR."""
    x = x.detach().requires_grad_(True)
    l = ce(model, x, y)
    g, = torch.autograd.grad(l.sum(), x, create_graph=True)
    return l.mean() + a.lam * 0.5 * g.flatten(1).pow(2).sum(1).mean()


def tv(model, x, y, a):
    """Total variation: nᵢ = |ℓ(xᵢ+h·dᵢ) − ℓ(xᵢ)|/h (h = 1e-3 default); L + λ·mean n."""
    l, l2 = fd_losses(model, x, y, a.h, a.norm)
    return l.mean() + a.lam * ((l2 - l).abs() / a.h).mean()


def lipschitz(model, x, y, a):
    """Lipschitz: nᵢ as for tv; L + λ·max n."""
    l, l2 = fd_losses(model, x, y, a.h, a.norm)
    return l.mean() + a.lam * ((l2 - l).abs() / a.h).max()


def noise(model, x, y, a):
    """Gaussian noise: mean ℓ(x + σ·ε), ε ~ N(0, I)."""
    return F.cross_entropy(model(x + a.sigma * torch.randn_like(x)), y)


def fgsm(model, x, y, a):
    """FGSM (Goodfellow et al.): x_adv = clamp(x + ε·sign(∇ₓ Σℓ), 0, 1) detached; mean ℓ(x_adv)."""
    xr = x.detach().requires_grad_(True)
    g, = torch.autograd.grad(ce(model, xr, y).sum(), xr)
    return F.cross_entropy(model((x + a.eps * g.sign()).clamp(0, 1).detach()), y)


def pgd(model, x, y, a):
    """ℓ∞ PGD (Madry et al.): α = 2.5ε/K, x₀ = clamp(x + U(−ε, ε), 0, 1), K times
    x ← clamp(min(max(x + α·sign(∇ₓ Σℓ), x − ε), x + ε), 0, 1); mean ℓ(x_K)."""
    alpha = 2.5 * a.eps / a.pgd_steps
    xa = (x + torch.empty_like(x).uniform_(-a.eps, a.eps)).clamp(0, 1)
    for _ in range(a.pgd_steps):
        xa = xa.detach().requires_grad_(True)
        g, = torch.autograd.grad(ce(model, xa, y).sum(), xa)
        xa = torch.min(torch.max(xa + alpha * g.sign(), x - a.eps), x + a.eps).clamp(0, 1)
    return F.cross_entropy(model(xa.detach()), y)


def trades(model, x, y, a):
    """TRADES (Zhang et al. 2019, the authors' trades.py, ℓ∞): in eval mode, K signed steps of 2.5ε/K on
    KL(p(x) ‖ p(x')) from x + 0.001·N(0, I), projected onto ball ∩ [0, 1]; then in train mode
    CE(f(x), y) + β·KL(softmax f(x) ‖ softmax f(x')) (batch mean; the clean logits computed once, as in Tikhon)."""
    alpha = 2.5 * a.eps / a.pgd_steps
    model.eval()
    with torch.no_grad():
        p = F.softmax(model(x), dim=1)
    xa = x + 0.001 * torch.randn_like(x)
    for _ in range(a.pgd_steps):
        xa = xa.detach().requires_grad_(True)
        g, = torch.autograd.grad(F.kl_div(F.log_softmax(model(xa), dim=1), p, reduction="sum"), xa)
        xa = torch.min(torch.max(xa + alpha * g.sign(), x - a.eps), x + a.eps).clamp(0, 1)
    model.train()
    logits = model(x)
    kl = F.kl_div(F.log_softmax(model(xa.detach()), dim=1), F.softmax(logits, dim=1), reduction="batchmean")
    return F.cross_entropy(logits, y) + a.beta * kl


def plain(model, x, y, a):
    return F.cross_entropy(model(x), y)


LOSSES = {"none": plain, "tikhonov": tikhonov, "tikhonov-exact": tikhonov_exact, "tv": tv,
          "lipschitz": lipschitz, "noise": noise, "fgsm": fgsm, "pgd": pgd, "trades": trades}
SETTINGS = {"tikhonov": ["lam", "h", "norm"], "tikhonov-exact": ["lam"], "tv": ["lam", "h", "norm"],
            "lipschitz": ["lam", "h", "norm"], "noise": ["sigma"], "fgsm": ["eps"], "pgd": ["eps", "pgd_steps"],
            "trades": ["eps", "pgd_steps", "beta"]}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--steps", type=int, default=50, help="timed steps (of each kind with --reg)")
    ap.add_argument("--warmup", type=int, default=5, help="untimed steps first (of each kind with --reg)")
    ap.add_argument("--reg", choices=REGS, default="none")
    ap.add_argument("--lam", type=float, default=0.1)
    ap.add_argument("--h", type=float, default=None, help="default 0.01 (tikhonov), 1e-3 (tv, lipschitz)")
    ap.add_argument("--norm", choices=["l2", "l1"], default="l2", help="FD direction for tikhonov, tv, lipschitz")
    ap.add_argument("--eps", type=float, default=0.1)
    ap.add_argument("--pgd-steps", type=int, default=None, help="default 7 (pgd), 10 (trades), as Tikhon's")
    ap.add_argument("--beta", type=float, default=6.0, help="TRADES's weight of the divergence")
    ap.add_argument("--sigma", type=float, default=0.25)
    ap.add_argument("--rounds", type=int, default=5, help="alternating plain/reg blocks with --reg")
    ap.add_argument("--device", default="cpu", help="cpu or cuda (the loss read each step synchronises, as in a loop)")
    ap.add_argument("--tf32", action="store_true", help="allow TF32 on a GPU (as Tikhon\'s --tf32)")
    ap.add_argument("--model", choices=["cnn", "mlp"], default="cnn",
                    help="mlp: --depth hidden layers of --width (0: linear), as Tikhon's `bench train-step --model mlp`")
    ap.add_argument("--depth", type=int, default=2)
    ap.add_argument("--width", type=int, default=256)
    a = ap.parse_args()
    if a.h is None:
        a.h = 1e-3 if a.reg in ("tv", "lipschitz") else 0.01
    if a.pgd_steps is None:
        a.pgd_steps = 10 if a.reg == "trades" else 7
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    device = torch.device(a.device)
    gpu_math(device, a.tf32)
    model = (SmallCnn() if a.model == "cnn" else mlp(a.depth, a.width)).to(device).train()
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    x = torch.rand(a.batch, 1, 28, 28).to(device)
    y = torch.randint(10, (a.batch,)).to(device)

    def step(loss_fn):
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(model, x, y, a)
        loss.backward()
        opt.step()
        return loss.item()

    def timed(loss_fn, n):
        t0 = time.perf_counter()
        for _ in range(n):
            step(loss_fn)
        return time.perf_counter() - t0

    out = {"impl": "pytorch-python", "torch_version": torch.__version__, "model": a.model,
           "batch": a.batch, "threads": torch.get_num_threads(), "device": a.device}
    if a.reg == "none":
        for _ in range(a.warmup):
            step(plain)
        secs = timed(plain, a.steps)
        out.update(steps=a.steps, steps_per_second=a.steps / secs, ms_per_step=1000 * secs / a.steps)
        print(json.dumps(out))
        return

    reg = LOSSES[a.reg]
    for _ in range(a.warmup):
        step(plain)
        step(reg)
    rounds = max(1, min(a.rounds, a.steps))
    per = max(1, a.steps // rounds)
    plain_secs = reg_secs = 0.0
    for _ in range(rounds):
        plain_secs += timed(plain, per)
        reg_secs += timed(reg, per)
    n = rounds * per
    out.update(reg=a.reg, **{k: getattr(a, k) for k in SETTINGS[a.reg]}, steps=n, rounds=rounds,
               warmup=a.warmup, plain_steps_per_second=n / plain_secs, reg_steps_per_second=n / reg_secs,
               plain_ms_per_step=1000 * plain_secs / n, reg_ms_per_step=1000 * reg_secs / n,
               ratio=reg_secs / plain_secs)
    print(json.dumps(out))


if __name__ == "__main__":
    main()

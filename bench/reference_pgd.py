#!/usr/bin/env python3
"""A plain PGD reference in PyTorch, to check Tikhon's attacks against on the same model and images.

Run with Debian's python3-torch (/usr/bin/python3, torch 1.13). Sub-commands:

  train    train Tikhon's small CNN ("cnn": conv 32·3×3, conv 64·3×3, max-pool 2, fc 128, fc 10, ReLU) in PyTorch
           on Fashion-MNIST, seeded, and save it as TorchScript for `tikhon attack --torchscript`
  import   read a Tikhon checkpoint.tkn of the small CNN into the same PyTorch module and save it as TorchScript
           (so both tools attack exactly the same weights)
  first-order  per correct image margin / ‖∇ₓ margin‖₁, the first-order ℓ∞ distance to the decision boundary
  pgd      PGD ℓ∞ (Madry et al. 2018): random start in the ε-ball, `steps` signed-gradient steps of 2.5ε/steps on the
           cross-entropy, projection onto ball ∩ [0, 1], `restarts` runs; an image counts as broken when ANY iterate of
           ANY restart is misclassified. Prints clean and robust counts on the first N test images and, with --csv,
           one line per image (index, label, correct, broken). `--norm l2`: the ℓ2 version (random start on the
           ε-sphere, steps of 2.5ε/steps along the normalized gradient, projection onto the ball, then the box);
           `--no-random-start` starts at x.
  ddn      DDN (Rony et al. 2019), written here independently of Tikhon's: 100 steps along the normalized
           cross-entropy gradient (step cosine-annealed from 1 to 0.01) while the perturbation's norm shrinks by 5%
           when adversarial and grows by 5% when not, starting at norm 1; prints each image's smallest adversarial
           ℓ2 norm seen (inf: none).
  cw       Carlini–Wagner ℓ2 (Carlini & Wagner 2017), untargeted, κ = 0, written here independently of Tikhon's: the
           tanh change of variables, torch.optim.Adam (lr 0.01), 9 search steps of the constant from 1e-3, the
           authors' early abort; prints each image's smallest adversarial ℓ2 norm seen (inf: none).
  trades   TRADES (Zhang et al. 2019), ℓ∞, written here from the authors' code: from x + 0.001·u (u a fixed pattern,
           sin(12.9898·k) over the batch's flattened pixels, so that Tikhon can start from the same point), `steps`
           signed-gradient steps on KL(softmax f(x) ‖ softmax f(x')) projected onto ball ∩ [0, 1], in float64; prints each image's
           divergence at x', its ℓ∞ and ℓ1 distance from x, the training loss CE + β·mean KL and its gradient's norm.
  apgd     APGD (Croce & Hein 2020, Algorithm 1), written here from the paper: CE, DLR or (--targets k) the targeted
           DLR towards each of the k classes ranked highest after the true one; ℓ∞ or ℓ2; prints the robust count and
           which images stay robust.
  `--indices 805,42` picks test images by index instead of the first N (pgd, ddn, cw and trades).

Examples:
  /usr/bin/python3 bench/reference_pgd.py train --out /tmp/cnn1.pt --epochs 1 --train-images 12000
  /usr/bin/python3 bench/reference_pgd.py pgd --model /tmp/cnn1.pt --eps 0.1 --images 200 --steps 100 --restarts 5
  ./tikhon attack --torchscript /tmp/cnn1.pt --eps 0.1 --limit 200 --data fashion-mnist ...
"""
import argparse
import gzip
import io
import json
import os
import struct
import sys
import zipfile

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

DATA = os.environ.get("TIKHON_FASHION_MNIST", "/usr/share/datasets/fashion-mnist")


class SmallCnn(nn.Module):
    """Tikhon's `cnn` model (models/Models.smallCnn) for 1×28×28 inputs."""

    def __init__(self, classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 32, 3)
        self.conv2 = nn.Conv2d(32, 64, 3)
        self.fc1 = nn.Linear(64 * 12 * 12, 128)
        self.fc2 = nn.Linear(128, classes)

    def forward(self, x):
        x = F.relu(self.conv2(F.relu(self.conv1(x))))
        x = F.max_pool2d(x, 2).flatten(1)
        return self.fc2(F.relu(self.fc1(x)))


def idx(name):
    with gzip.open(os.path.join(DATA, name + ".gz"), "rb") as f:
        raw = f.read()
    magic, = struct.unpack(">i", raw[:4])
    dims = magic & 0xFF
    shape = struct.unpack(">" + "i" * dims, raw[4:4 + 4 * dims])
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def load(split):
    prefix = "train" if split == "train" else "t10k"
    x = torch.from_numpy(idx(prefix + "-images-idx3-ubyte").astype(np.float32) / 255.0).unsqueeze(1)
    y = torch.from_numpy(idx(prefix + "-labels-idx1-ubyte").astype(np.int64))
    return x, y


def train(a):
    torch.manual_seed(a.seed)
    x, y = load("train")
    if a.train_images:
        x, y = x[:a.train_images], y[:a.train_images]
    model = SmallCnn()
    opt = torch.optim.Adam(model.parameters(), lr=a.lr)
    for epoch in range(a.epochs):
        perm = torch.randperm(len(x))
        model.train()
        for i in range(0, len(x), a.batch_size):
            b = perm[i:i + a.batch_size]
            xb, yb = x[b], y[b]
            if a.pgd_eps > 0:   # PGD-7 adversarial training (Madry et al.), step 2.5ε/7
                model.eval()
                xb = pgd_batch(model, xb, yb, a.pgd_eps, 7, 1)[0]
                model.train()
            loss = F.cross_entropy(model(xb), yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
        print(f"epoch {epoch + 1}: last batch loss {loss.item():.4f}", file=sys.stderr)
    save(model, a.out)


def save(model, out):
    model.eval()
    torch.jit.script(model).save(out + ".tmp")
    os.replace(out + ".tmp", out)
    xt, yt = load("test")
    with torch.no_grad():
        acc = (model(xt[:1000]).argmax(1) == yt[:1000]).float().mean().item()
    print(f"saved {out}; clean accuracy on the first 1000 test images {acc:.4f}")


def read_tkn(path):
    """Tikhon's checkpoint: a zip with tensors.bin (engine/TensorIO: Java DataOutputStream headers, raw native data)."""
    with zipfile.ZipFile(path) as z:
        data = z.read("tensors.bin")
    s = io.BytesIO(data)

    def i32():
        return struct.unpack(">i", s.read(4))[0]

    def utf():
        n = struct.unpack(">H", s.read(2))[0]
        return s.read(n).decode("utf-8")

    assert i32() == 0x544B4E54, "not a Tikhon tensor file"
    assert i32() == 1
    little = s.read(1) == b"\x01"
    dtypes = {"FLOAT32": np.float32, "FLOAT64": np.float64, "INT64": np.int64, "INT32": np.int32}
    out = {}
    for _ in range(i32()):
        name, dtype = utf(), utf()
        rank = i32()
        shape = struct.unpack(">" + "q" * rank, s.read(8 * rank))
        raw = s.read(i32())
        dt = np.dtype(dtypes[dtype]).newbyteorder("<" if little else ">")
        out[name] = torch.from_numpy(np.frombuffer(raw, dtype=dt).astype(dtypes[dtype]).reshape(shape))
    return out


def import_tkn(a):
    t = read_tkn(a.checkpoint)
    params = [(k, v) for k, v in t.items() if k.startswith("model/")]
    weights = [v for k, v in params if v.dim() > 1]
    biases = [v for k, v in params if v.dim() == 1]
    if len(weights) != 4 or len(biases) != 4:
        sys.exit("reference_pgd: expected the small CNN's 4 weights and 4 biases, got " + ", ".join(k for k, _ in params))
    model = SmallCnn()
    with torch.no_grad():
        for layer, w, b in zip([model.conv1, model.conv2, model.fc1, model.fc2], weights, biases):
            layer.weight.copy_(w.float())
            layer.bias.copy_(b.float())
    print("imported " + ", ".join(f"{k} {tuple(v.shape)}" for k, v in params), file=sys.stderr)
    save(model, a.out)


def pgd_batch(model, x, y, eps, steps, restarts, step=None):
    """Returns (last iterate of the last restart, broken mask over all iterates and restarts)."""
    step = 2.5 * eps / steps if step is None else step
    broken = torch.zeros(len(x), dtype=torch.bool)
    xa = x
    for _ in range(restarts):
        xa = (x + torch.empty_like(x).uniform_(-eps, eps)).clamp(0, 1)
        for _ in range(steps):
            xa.requires_grad_(True)
            logits = model(xa)
            broken |= (logits.argmax(1) != y).detach()
            g, = torch.autograd.grad(F.cross_entropy(logits, y, reduction="sum"), xa)
            xa = torch.min(torch.max(xa.detach() + step * g.sign(), x - eps), x + eps).clamp(0, 1)
        with torch.no_grad():
            broken |= model(xa).argmax(1) != y
    return xa, broken


def pgd_l2_batch(model, x, y, eps, steps, restarts, random_start=True):
    """PGD ℓ2: the broken mask over all iterates and restarts."""
    step = 2.5 * eps / steps
    broken = torch.zeros(len(x), dtype=torch.bool)
    for _ in range(restarts):
        d = torch.zeros_like(x)
        if random_start:
            r = torch.randn_like(x)
            d = (x + eps * r / per_image_norm(r)).clamp(0, 1) - x
        for _ in range(steps):
            d.requires_grad_(True)
            logits = model(x + d)
            broken |= (logits.argmax(1) != y).detach()
            g, = torch.autograd.grad(F.cross_entropy(logits, y, reduction="sum"), d)
            with torch.no_grad():
                d = d + step * g / per_image_norm(g)
                d = d * torch.clamp(eps / per_image_norm(d), max=1.0)
                d = (x + d).clamp(0, 1) - x
        with torch.no_grad():
            broken |= model(x + d).argmax(1) != y
    return broken


def per_image_norm(t):
    return t.flatten(1).norm(dim=1).clamp_min(1e-12).view(-1, *([1] * (t.dim() - 1)))


def test_images(a):
    x, y = load("test")
    if a.indices:
        keep = torch.tensor([int(i) for i in a.indices.split(",")])
        return keep, x[keep], y[keep]
    return torch.arange(a.images), x[:a.images], y[:a.images]


def ddn(a):
    """Smallest adversarial ℓ2 norm DDN sees per image (Rony et al. 2019: γ 0.05, r₀ 1, α 1 → 0.01)."""
    model = torch.jit.load(a.model).eval()
    index, x, y = test_images(a)
    d = torch.zeros_like(x)
    radius = torch.ones(len(x))
    best = torch.full((len(x),), float("inf"))
    for k in range(a.steps + 1):
        d.requires_grad_(True)
        logits = model(x + d)
        adversarial = (logits.argmax(1) != y).detach()
        best = torch.where(adversarial, torch.minimum(best, d.detach().flatten(1).norm(dim=1)), best)
        if k == a.steps:
            break
        g, = torch.autograd.grad(F.cross_entropy(logits, y, reduction="sum"), d)
        with torch.no_grad():
            alpha = 0.01 + 0.99 * 0.5 * (1 + np.cos(np.pi * k / a.steps))
            moved = d + alpha * g / per_image_norm(g)
            radius = torch.where(adversarial, radius * 0.95, radius * 1.05)
            d = moved * radius.view(-1, 1, 1, 1) / per_image_norm(moved)
            d = (x + d).clamp(0, 1) - x
    print(json.dumps({"model": a.model, "steps": a.steps,
                      "smallest_l2": {int(i): float(b) for i, b in zip(index, best)}}))


def cw(a):
    """Carlini & Wagner (2017) ℓ2, untargeted, κ = 0, written here independently of Tikhon's from the paper and the
    authors' code: x' = (tanh w + 1)/2, minimise ‖x' − x‖² + c·max(z_y − max_{j≠y} z_j, 0) with torch.optim.Adam (lr 0.01)
    from w = atanh((2x − 1)·0.999999), c per image by bisection from 1e-3 over 9 search steps (×10 while never
    adversarial), the authors' early abort (loss above 0.9999 × its value a tenth of the steps before); prints each
    image's smallest adversarial ℓ2 norm seen (inf: none)."""
    model = torch.jit.load(a.model).eval()
    index, x, y = test_images(a)
    n = len(x)
    start = torch.atanh((2 * x - 1) * 0.999999)
    const, lower, upper = torch.full((n,), 1e-3), torch.zeros(n), torch.full((n,), 1e10)
    best = torch.full((n,), float("inf"))
    other = F.one_hot(y, 10).bool()
    for search in range(9):
        w = start.clone().requires_grad_(True)
        opt = torch.optim.Adam([w], lr=0.01)
        found = torch.zeros(n, dtype=torch.bool)
        previous = float("inf")
        for k in range(1, a.steps + 1):
            xk = (torch.tanh(w) + 1) / 2
            z = model(xk)
            dist = (xk - x).flatten(1).pow(2).sum(1)
            adversarial = (z.argmax(1) != y).detach()
            found |= adversarial
            best = torch.where(adversarial, torch.minimum(best, dist.detach().sqrt()), best)
            real = z.gather(1, y[:, None])[:, 0]
            rival = z.masked_fill(other, float("-inf")).max(1)[0]
            loss = (dist + const * (real - rival).clamp_min(0)).sum()
            opt.zero_grad()
            loss.backward()
            opt.step()
            if k % max(1, a.steps // 10) == 0:
                if loss.item() > previous * 0.9999:
                    break
                previous = loss.item()
        upper = torch.where(found, torch.minimum(upper, const), upper)
        lower = torch.where(found, lower, torch.maximum(lower, const))
        const = torch.where(found | (upper < 1e10), (lower + upper) / 2, const * 10)
    print(json.dumps({"model": a.model, "steps": a.steps, "torch_version": torch.__version__,
                      "smallest_l2": {int(i): float(b) for i, b in zip(index, best)}}))


def trades(a):
    """TRADES's inner maximization and loss (Zhang et al. 2019; the authors' trades.py, ℓ∞ branch), with a fixed start
    offset instead of torch.randn so that an independent implementation can start from the same point. In float64:
    where the model is sure of an image, softmax rounds to one-hot in float32, the divergence's gradient is rounding
    noise and the signed steps of two implementations part ways."""
    model = torch.jit.load(a.model).eval().double()
    index, x, y = test_images(a)
    x = x.double()
    u = torch.from_numpy(np.sin(np.arange(x.numel(), dtype=np.float64) * 12.9898)).reshape(x.shape)
    kl = nn.KLDivLoss(reduction="sum")
    step = a.step_size if a.step_size > 0 else 2.5 * a.eps / a.steps
    with torch.no_grad():
        target = F.softmax(model(x), dim=1)
    adv = x + 0.001 * u
    for _ in range(a.steps):
        adv.requires_grad_()
        grad, = torch.autograd.grad(kl(F.log_softmax(model(adv), dim=1), target), [adv])
        adv = adv.detach() + step * torch.sign(grad.detach())
        adv = torch.min(torch.max(adv, x - a.eps), x + a.eps).clamp(0.0, 1.0)
    logits = model(x)
    robust = nn.KLDivLoss(reduction="none")(F.log_softmax(model(adv), dim=1), F.softmax(logits, dim=1)).sum(1)
    loss = F.cross_entropy(logits, y) + a.beta * robust.mean()
    grads = torch.autograd.grad(loss, [p for p in model.parameters()])
    delta = (adv - x).flatten(1)
    print(json.dumps({"model": a.model, "eps": a.eps, "steps": a.steps, "step": step, "beta": a.beta,
                      "torch_version": torch.__version__, "loss": loss.item(),
                      "gradient_norm": torch.sqrt(sum((g.double() ** 2).sum() for g in grads)).item(),
                      "kl": {int(i): float(v) for i, v in zip(index, robust.detach())},
                      "linf": {int(i): float(v) for i, v in zip(index, delta.abs().max(1)[0])},
                      "l1": {int(i): float(v) for i, v in zip(index, delta.abs().sum(1))}}))


def pgd(a):
    torch.manual_seed(a.seed)
    model = torch.jit.load(a.model).eval()
    index, x, y = test_images(a)
    rows = []
    with torch.no_grad():
        correct = model(x).argmax(1) == y
    broken = ~correct
    for i in range(0, len(x), a.batch_size):
        sl = slice(i, i + a.batch_size)
        if a.norm == "l2":
            broken[sl] |= pgd_l2_batch(model, x[sl], y[sl], a.eps, a.steps, a.restarts, not a.no_random_start)
        else:
            broken[sl] |= pgd_batch(model, x[sl], y[sl], a.eps, a.steps, a.restarts)[1]
    for i in range(len(x)):
        rows.append((int(index[i]), int(y[i]), bool(correct[i]), bool(broken[i])))
    n = len(x)
    print(json.dumps({"model": a.model, "images": n, "norm": a.norm, "eps": a.eps, "steps": a.steps, "restarts": a.restarts,
                      "step": 2.5 * a.eps / a.steps, "clean": int(correct.sum()), "robust": int((~broken).sum()),
                      "clean_accuracy": correct.float().mean().item(), "robust_accuracy": (~broken).float().mean().item()}))
    if a.csv:
        with open(a.csv, "w") as f:
            f.write("index,label,correct,broken\n")
            for r in rows:
                f.write(f"{r[0]},{r[1]},{str(r[2]).lower()},{str(r[3]).lower()}\n")


def apgd_batch(model, x, y, eps, steps, loss="ce", target=None, norm="linf"):
    """APGD (Croce & Hein 2020, Algorithm 1), written here from the paper: step η = 2ε per image, x(1) = P(x(0) + η·dir),
    then x(k+1) = P(x(k) + α(z − x(k)) + (1 − α)(x(k) − x(k−1))), z = P(x(k) + η·dir(∇f(x(k)))), α = 0.75; checkpoints
    w_j = ⌈p_j N⌉, p_0 = 0, p_1 = 0.22, p_{j+1} = p_j + max(p_j − p_{j−1} − 0.03, 0.06); at a checkpoint η halves and
    the iterate restarts from the best point where the loss rose in fewer than 0.75·(w_j − w_{j−1}) steps of the
    interval, or where neither η nor the best loss changed since the last checkpoint. Loss: cross-entropy, DLR, or
    (with target) the targeted DLR −(z_y − z_t)/(z_π1 − (z_π3 + z_π4)/2). Returns the broken mask over all iterates."""
    n = len(x)
    view = (-1,) + (1,) * (x.dim() - 1)

    def proj(p):
        if norm == "linf":
            return torch.min(torch.max(p, x - eps), x + eps).clamp(0, 1)
        d = p - x
        d = d * torch.clamp(eps / per_image_norm(d), max=1.0)
        return (x + d).clamp(0, 1)

    def direction(g):
        return g.sign() if norm == "linf" else g / per_image_norm(g)

    def f(p):
        p = p.clone().requires_grad_(True)
        z = model(p)
        if loss == "ce":
            l = F.cross_entropy(z, y, reduction="none")
        else:
            zs = z.sort(1, descending=True)[0]
            zy = z.gather(1, y[:, None])[:, 0]
            if target is None:
                other = z.masked_fill(F.one_hot(y, z.shape[1]).bool(), float("-inf")).max(1)[0]
                l = -(zy - other) / (zs[:, 0] - zs[:, 2] + 1e-12)
            else:
                zt = z.gather(1, target[:, None])[:, 0]
                l = -(zy - zt) / (zs[:, 0] - (zs[:, 2] + zs[:, 3]) / 2 + 1e-12)
        g, = torch.autograd.grad(l.sum(), p)
        return l.detach(), g.detach(), (z.argmax(1) != y).detach()

    checkpoints, p_prev, p = [], 0.0, 0.22
    while p <= 1:
        checkpoints.append(int(np.ceil(p * steps)))
        p, p_prev = p + max(p - p_prev - 0.03, 0.06), p
    if norm == "linf":
        x0 = (x + torch.empty_like(x).uniform_(-eps, eps)).clamp(0, 1)
    else:
        r = torch.randn_like(x)
        x0 = proj(x + eps * r / per_image_norm(r))
    eta = torch.full((n,), 2 * eps)
    l0, g0, broken = f(x0)
    x1 = proj(x0 + eta.view(view) * direction(g0))
    l1, g1, b1 = f(x1)
    broken |= b1
    better = l1 > l0
    best_x = torch.where(better.view(view), x1, x0)
    best_l, best_g = torch.maximum(l0, l1), torch.where(better.view(view), g1, g0)
    prev_x, cur_x, cur_l, cur_g = x0, x1, l1, g1
    rises = better.float()   # the interval [w_0, w_1) counts f(x(1)) > f(x(0))
    last_w, eta_at_last, best_at_last = 0, eta.clone(), l0.clone()
    for k in range(1, steps):
        z = proj(cur_x + eta.view(view) * direction(cur_g))
        nxt = proj(cur_x + 0.75 * (z - cur_x) + 0.25 * (cur_x - prev_x))
        l, g, b = f(nxt)
        broken |= b
        rises += (l > cur_l).float()
        prev_x, cur_x, cur_l, cur_g = cur_x, nxt, l, g
        up = l > best_l
        best_x = torch.where(up.view(view), nxt, best_x)
        best_g = torch.where(up.view(view), g, best_g)
        best_l = torch.where(up, l, best_l)
        if k + 1 in checkpoints:
            w = k + 1
            c1 = rises < 0.75 * (w - last_w)
            c2 = (eta == eta_at_last) & (best_l == best_at_last)
            halve = c1 | c2
            eta_at_last, best_at_last = eta.clone(), best_l.clone()
            eta = torch.where(halve, eta / 2, eta)
            cur_x = torch.where(halve.view(view), best_x, cur_x)
            cur_g = torch.where(halve.view(view), best_g, cur_g)
            cur_l = torch.where(halve, best_l, cur_l)
            rises = torch.zeros(n)
            last_w = w
    return broken


def apgd(a):
    torch.manual_seed(a.seed)
    model = torch.jit.load(a.model).eval()
    index, x, y = test_images(a)
    with torch.no_grad():
        clean = model(x)
    correct = clean.argmax(1) == y
    broken = ~correct
    for r in range(a.restarts):
        if a.targets:
            for rank in range(1, a.targets + 1):
                t = clean.masked_fill(F.one_hot(y, clean.shape[1]).bool(), float("-inf")).topk(rank, 1)[1][:, rank - 1]
                todo = ~broken
                if todo.any():
                    broken[todo] |= apgd_batch(model, x[todo], y[todo], a.eps, a.steps, "dlr", t[todo], a.norm)
        else:
            todo = ~broken
            if todo.any():
                broken[todo] |= apgd_batch(model, x[todo], y[todo], a.eps, a.steps, a.loss, None, a.norm)
    print(json.dumps({"model": a.model, "images": len(x), "attack": "apgd-" + ("t" if a.targets else a.loss), "norm": a.norm,
                      "eps": a.eps, "steps": a.steps, "restarts": a.restarts, "clean": int(correct.sum()),
                      "robust": int((~broken).sum()), "robust_indices": [int(i) for i in index[~broken]]}))


def first_order(a):
    """Per correct image the first-order ℓ∞ distance to the decision boundary, margin / ‖∇ₓ margin‖₁, margin = z_y − max_{j≠y} z_j."""
    model = torch.jit.load(a.model).eval()
    x, y = load("test")
    x, y = x[:a.images].clone().requires_grad_(True), y[:a.images]
    z = model(x)
    margin = z.gather(1, y[:, None])[:, 0] - z.masked_fill(F.one_hot(y, z.shape[1]).bool(), float("-inf")).max(1)[0]
    g, = torch.autograd.grad(margin.sum(), x)
    est = (margin / g.abs().flatten(1).sum(1)).detach()
    top = F.softmax(z, 1).max(1)[0].detach()
    ok = margin.detach() > 0
    print(json.dumps({"model": a.model, "images": a.images, "correct": int(ok.sum()),
                      "median_top_softmax": top[ok].median().item(), "median_first_order_linf": est[ok].median().item(),
                      "fraction_above_eps": (est[ok] > a.eps).float().mean().item(), "eps": a.eps}))


def main():
    torch.set_num_threads(int(os.environ.get("THREADS", "1")))
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    t = sub.add_parser("train")
    t.add_argument("--out", required=True)
    t.add_argument("--epochs", type=int, default=1)
    t.add_argument("--train-images", type=int, default=0)
    t.add_argument("--batch-size", type=int, default=128)
    t.add_argument("--lr", type=float, default=1e-3)
    t.add_argument("--pgd-eps", type=float, default=0.0, help="PGD-7 adversarial training at this ℓ∞ radius (0: undefended)")
    t.add_argument("--seed", type=int, default=1)
    i = sub.add_parser("import")
    i.add_argument("--checkpoint", required=True)
    i.add_argument("--out", required=True)
    g = sub.add_parser("pgd")
    g.add_argument("--model", required=True)
    g.add_argument("--eps", type=float, default=0.1)
    g.add_argument("--images", type=int, default=200)
    g.add_argument("--steps", type=int, default=100)
    g.add_argument("--restarts", type=int, default=5)
    g.add_argument("--batch-size", type=int, default=200)
    g.add_argument("--seed", type=int, default=0)
    g.add_argument("--csv")
    g.add_argument("--norm", choices=["linf", "l2"], default="linf")
    g.add_argument("--no-random-start", action="store_true", help="ℓ2 only: start at x")
    g.add_argument("--indices", help="comma-separated test image indices (instead of the first --images)")
    d = sub.add_parser("ddn")
    d.add_argument("--model", required=True)
    d.add_argument("--images", type=int, default=200)
    d.add_argument("--indices", help="comma-separated test image indices (instead of the first --images)")
    d.add_argument("--steps", type=int, default=100)
    c = sub.add_parser("cw")
    c.add_argument("--model", required=True)
    c.add_argument("--images", type=int, default=20)
    c.add_argument("--indices", help="comma-separated test image indices (instead of the first --images)")
    c.add_argument("--steps", type=int, default=1000, help="Adam steps per search step of the constant")
    r = sub.add_parser("trades")
    r.add_argument("--model", required=True)
    r.add_argument("--images", type=int, default=20)
    r.add_argument("--indices", help="comma-separated test image indices (instead of the first --images)")
    r.add_argument("--eps", type=float, default=0.1)
    r.add_argument("--steps", type=int, default=10)
    r.add_argument("--step-size", type=float, default=0.0, help="0: 2.5·eps/steps")
    r.add_argument("--beta", type=float, default=6.0)
    ap = sub.add_parser("apgd")
    ap.add_argument("--model", required=True)
    ap.add_argument("--eps", type=float, default=0.1)
    ap.add_argument("--images", type=int, default=200)
    ap.add_argument("--indices", help="comma-separated test image indices (instead of the first --images)")
    ap.add_argument("--steps", type=int, default=100)
    ap.add_argument("--restarts", type=int, default=1)
    ap.add_argument("--loss", choices=["ce", "dlr"], default="ce")
    ap.add_argument("--targets", type=int, default=0, help="APGD-T: targeted DLR towards each of the k top other classes")
    ap.add_argument("--norm", choices=["linf", "l2"], default="linf")
    ap.add_argument("--seed", type=int, default=0)
    f = sub.add_parser("first-order")
    f.add_argument("--model", required=True)
    f.add_argument("--eps", type=float, default=0.1)
    f.add_argument("--images", type=int, default=200)
    a = p.parse_args()
    {"train": train, "import": import_tkn, "pgd": pgd, "ddn": ddn, "cw": cw, "trades": trades, "first-order": first_order, "apgd": apgd}[a.cmd](a)


if __name__ == "__main__":
    main()

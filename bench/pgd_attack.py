#!/usr/bin/env python3
"""PyTorch-for-Python peer of `./tikhon bench attack`: PGD-K in ℓ∞ (random start, step 2.5ε/K,
cross-entropy, the example counted as fooled if any iterate fools the model, as Tikhon's
Pgd.attack does) on the first N Fashion-MNIST test images, with the same small CNN (seeded random
weights: they do not change the work of a fixed-step attack), or with `--model linear` (flatten → fc 784→10,
almost no arithmetic: at small batches this times the host's cost of issuing the operations). Prints one
JSON object.

    /usr/bin/python3 bench/pgd_attack.py --threads 2 --images 1000 --steps 20
"""
import argparse
import gzip
import json
import os
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from train_step import SmallCnn, gpu_math


def load_images(data_dir, n):
    with gzip.open(os.path.join(data_dir, "t10k-images-idx3-ubyte.gz")) as f:
        x = np.frombuffer(f.read(), dtype=np.uint8, offset=16).reshape(-1, 1, 28, 28)[:n]
    with gzip.open(os.path.join(data_dir, "t10k-labels-idx1-ubyte.gz")) as f:
        y = np.frombuffer(f.read(), dtype=np.uint8, offset=8)[:n]
    return torch.from_numpy(x.astype(np.float32) / 255), torch.from_numpy(y.astype(np.int64))


def pgd(model, x, y, eps, steps):
    """Returns the number of examples some iterate fooled."""
    alpha = 2.5 * eps / steps
    x0 = x.detach()
    adv = (x0 + torch.empty_like(x0).uniform_(-eps, eps)).clamp(0, 1)
    fooled = torch.zeros(x.shape[0], dtype=torch.bool, device=x.device)
    for k in range(steps + 1):
        xk = adv.detach().requires_grad_(k < steps)
        logits = model(xk)
        fooled |= logits.detach().argmax(1) != y
        if k == steps:
            break
        g, = torch.autograd.grad(F.cross_entropy(logits, y, reduction="sum"), xk)
        adv = torch.min(torch.max(xk.detach() + alpha * g.sign(), x0 - eps), x0 + eps).clamp(0, 1)
    return int(fooled.sum())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--images", type=int, default=1000)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--eps", type=float, default=0.1)
    ap.add_argument("--batch", type=int, default=250)
    ap.add_argument("--data-dir", default=os.environ.get("TIKHON_DATA", "/usr/share/datasets/fashion-mnist"))
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--tf32", action="store_true", help="allow TF32 on a GPU (as Tikhon\'s --tf32)")
    ap.add_argument("--model", choices=["cnn", "linear"], default="cnn")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    device = torch.device(a.device)
    gpu_math(device, a.tf32)
    model = (SmallCnn() if a.model == "cnn" else nn.Sequential(nn.Flatten(), nn.Linear(28 * 28, 10))).to(device).eval()   # parameters keep requires_grad, as in Tikhon; only ∂/∂x is computed
    x, y = load_images(a.data_dir, a.images)
    x, y = x.to(device), y.to(device)
    pgd(model, x[:a.batch], y[:a.batch], a.eps, a.steps)  # warm-up batch, untimed
    t0 = time.perf_counter()
    fooled = sum(pgd(model, x[i:i + a.batch], y[i:i + a.batch], a.eps, a.steps) for i in range(0, len(x), a.batch))
    secs = time.perf_counter() - t0
    print(json.dumps({"impl": "pytorch", "torch_version": torch.__version__, "benchmark": "attack pgd-linf",
                      "images": len(x), "steps": a.steps, "eps": a.eps, "batch": a.batch, "model": a.model, "threads": a.threads, "device": a.device,
                      "ms_per_image": 1000 * secs / len(x), "fooled": fooled}))


if __name__ == "__main__":
    main()

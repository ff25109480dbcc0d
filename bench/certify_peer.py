#!/usr/bin/env python3
"""PyTorch-for-Python peer of `./tikhon bench certify`: Cohen et al.'s CERTIFY (N0 = 100 selection samples,
N estimation samples, alpha 0.001, Clopper-Pearson lower bound) on the first K Fashion-MNIST test images, with
the same small CNN (seeded random weights: they do not change the work of CERTIFY, which always draws all N),
written the way the authors' reference code (locuslab/smoothing, core.py) does it: noise per batch with
randn_like, predictions counted per batch. Prints one JSON object.

    /usr/bin/python3 bench/certify_peer.py --threads 2 --images 20 --n 10000 --noise-batch 200
"""
import argparse
import json
import math
import os
import time

import torch

from pgd_attack import load_images
from train_step import SmallCnn


def betainc(a, b, x):
    """Regularized incomplete beta I_x(a, b) by its continued fraction (modified Lentz), as in standard references."""
    if x <= 0:
        return 0.0
    if x >= 1:
        return 1.0
    if x > (a + 1) / (a + b + 2):
        return 1.0 - betainc(b, a, 1.0 - x)
    front = math.exp(math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x)) / a
    tiny = 1e-300
    f, c, d = 1.0, 1.0, 0.0
    for i in range(0, 400):
        m = i // 2
        if i == 0:
            num = 1.0
        elif i % 2 == 0:
            num = m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m))
        else:
            num = -((a + m) * (a + b + m) * x) / ((a + 2 * m) * (a + 2 * m + 1))
        d = 1.0 + num * d
        d = tiny if abs(d) < tiny else d
        d = 1.0 / d
        c = 1.0 + num / c
        c = tiny if abs(c) < tiny else c
        f *= c * d
        if abs(1.0 - c * d) < 1e-15:
            break
    return front * (f - 1.0)


def lower_confidence_bound(k, n, alpha):
    """One-sided Clopper-Pearson lower bound: the alpha quantile of Beta(k, n - k + 1), by bisection."""
    if k == 0:
        return 0.0
    lo, hi = 0.0, 1.0
    for _ in range(60):
        mid = (lo + hi) / 2
        if betainc(k, n - k + 1, mid) < alpha:
            lo = mid
        else:
            hi = mid
    return lo


def sample_counts(model, x, num, batch, sigma, classes, device):
    counts = torch.zeros(classes, dtype=torch.long)
    remaining = num
    with torch.no_grad():
        while remaining > 0:
            b = min(batch, remaining)
            remaining -= b
            reps = x.unsqueeze(0).repeat(b, 1, 1, 1)
            noise = torch.randn_like(reps, device=device) * sigma
            predictions = model(reps + noise).argmax(1)
            counts += torch.bincount(predictions, minlength=classes).cpu()
    return counts


def certify(model, x, n0, n, alpha, batch, sigma, classes, device):
    c_hat = int(sample_counts(model, x, n0, batch, sigma, classes, device).argmax())
    counts = sample_counts(model, x, n, batch, sigma, classes, device)
    p_a = lower_confidence_bound(int(counts[c_hat]), n, alpha)
    if p_a < 0.5:
        return -1, 0.0
    return c_hat, sigma * torch.distributions.Normal(0.0, 1.0).icdf(torch.tensor(p_a)).item()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--images", type=int, default=20)
    ap.add_argument("--n", type=int, default=10000)
    ap.add_argument("--n0", type=int, default=100)
    ap.add_argument("--alpha", type=float, default=0.001)
    ap.add_argument("--sigma", type=float, default=0.25)
    ap.add_argument("--noise-batch", type=int, default=200)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--tf32", action="store_true", help="allow TF32 on a GPU (as Tikhon\'s --tf32)")
    ap.add_argument("--data-dir", default=os.environ.get("TIKHON_DATA", "/usr/share/datasets/fashion-mnist"))
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    device = torch.device(a.device)
    if device.type == "cuda":   # the settings Tikhon uses on a GPU (Engine.configureCuda), so both sides do the same math
        torch.backends.cudnn.benchmark = True
        torch.backends.cudnn.allow_tf32 = a.tf32
        torch.backends.cuda.matmul.allow_tf32 = a.tf32
    model = SmallCnn().to(device).eval()
    x, y = load_images(a.data_dir, a.images)
    x = x.to(device)
    certify(model, x[0], a.n0, min(a.n, 1000), a.alpha, a.noise_batch, a.sigma, 10, device)   # warm-up, untimed
    if device.type == "cuda":
        torch.cuda.synchronize()
    t0 = time.perf_counter()
    certified = 0
    for i in range(len(x)):
        label, _ = certify(model, x[i], a.n0, a.n, a.alpha, a.noise_batch, a.sigma, 10, device)
        certified += label >= 0
    secs = time.perf_counter() - t0
    print(json.dumps({"impl": "pytorch", "torch_version": torch.__version__, "benchmark": "certify cohen",
                      "images": len(x), "n0": a.n0, "n": a.n, "sigma": a.sigma, "noise_batch": a.noise_batch,
                      "threads": a.threads, "device": a.device, "ms_per_image": 1000 * secs / len(x),
                      "certified_untrained": certified}))


if __name__ == "__main__":
    main()

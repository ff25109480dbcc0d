#!/usr/bin/env python3
"""Times Cohen et al.'s CERTIFY on Fashion-MNIST test images in Tikhon (`./tikhon bench certify`) and in PyTorch
for Python (bench/certify_peer.py, written like the authors' reference code), alternating the two for several
rounds on the same machine; prints the medians and the ratio (PyTorch ms per image ÷ Tikhon ms per image: ≥ 1
means Tikhon is at least as fast). Same N0 (100), N, alpha (0.001), sigma, noise batch and small CNN on both sides.

    /usr/bin/python3 bench/compare_certify.py --threads 2 --rounds 3
    /usr/bin/python3 bench/compare_certify.py --device cuda --images 50 --noise-batch 1000
    /usr/bin/python3 bench/compare_certify.py --device cuda --images 50 --noise-batch 1000 --images-per-batch 10

--images-per-batch K lets Tikhon certify K images together, their noise sharing each forward pass (certificates do
not change); the peer stays one image at a time, as the reference code and PyTorch eager do.
"""
import argparse
import json
import os
import statistics
import sys

from compare_train_step import LAUNCHER_MALLOC, ROOT, run, tikhon_cmd


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--images", type=int, default=5)
    ap.add_argument("--n", type=int, default=10000)
    ap.add_argument("--noise-batch", type=int, default=200)
    ap.add_argument("--sigma", type=float, default=0.25)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--tf32", action="store_true", help="allow TF32 on a GPU, on both sides")
    ap.add_argument("--images-per-batch", type=int, default=1, help="Tikhon only: images sharing each forward pass")
    a = ap.parse_args()
    env = dict(os.environ)
    env.update(LAUNCHER_MALLOC)
    common = ["--threads", str(a.threads), "--images", str(a.images), "--n", str(a.n),
              "--noise-batch", str(a.noise_batch), "--sigma", str(a.sigma), "--device", a.device] + (["--tf32"] if a.tf32 else [])
    tikhon, torch, p = [], [], None
    for r in range(a.rounds):
        t = run(tikhon_cmd() + ["bench", "certify", "--images-per-batch", str(a.images_per_batch)] + common)
        p = run([sys.executable, os.path.join(ROOT, "bench", "certify_peer.py")] + common, env)
        tikhon.append(t["ms_per_image"])
        torch.append(p["ms_per_image"])
        print(f"round {r + 1}: tikhon {t['ms_per_image']:.1f} ms/image, pytorch {p['ms_per_image']:.1f} ms/image",
              file=sys.stderr)
    mt, mp = statistics.median(tikhon), statistics.median(torch)
    print(json.dumps({"benchmark": f"certify cohen N0 100, N {a.n}, small CNN, {a.images} Fashion-MNIST test images",
                      "noise_batch": a.noise_batch, "tikhon_images_per_batch": a.images_per_batch, "device": a.device, "threads": a.threads, "rounds": a.rounds,
                      "pytorch_version": p["torch_version"],
                      "tikhon_ms_per_image": tikhon, "pytorch_ms_per_image": torch,
                      "tikhon_median": mt, "pytorch_median": mp, "speed_ratio_tikhon_over_pytorch": mp / mt},
                     indent=2))


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Times PGD-K on Fashion-MNIST test images in Tikhon (`./tikhon bench attack`) and in PyTorch for
Python (bench/pgd_attack.py), alternating the two for several rounds on the same machine, and prints
the medians and their ratio (Tikhon ms per image ÷ PyTorch ms per image; ≤ 1 means Tikhon is at
least as fast). Both sides run with the launcher's malloc settings.

    /usr/bin/python3 bench/compare_attack.py --threads 2 --rounds 3 --images 1000 --steps 20
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
    ap.add_argument("--images", type=int, default=1000)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--batch", type=int, default=250)
    ap.add_argument("--device", default="cpu", help="cpu or cuda, given to both sides")
    ap.add_argument("--tf32", action="store_true", help="allow TF32 on a GPU, on both sides")
    ap.add_argument("--model", choices=["cnn", "linear"], default="cnn",
                    help="linear: almost no arithmetic, so at small batches both sides are timed on issuing operations")
    a = ap.parse_args()
    env = dict(os.environ)
    env.update(LAUNCHER_MALLOC)
    common = ["--threads", str(a.threads), "--images", str(a.images), "--steps", str(a.steps), "--batch", str(a.batch), "--device", a.device, "--model", a.model] + (["--tf32"] if a.tf32 else [])
    tikhon, torch, p = [], [], None
    for r in range(a.rounds):
        t = run(tikhon_cmd() + ["bench", "attack"] + common)
        p = run([sys.executable, os.path.join(ROOT, "bench", "pgd_attack.py")] + common, env)
        tikhon.append(t["ms_per_image"])
        torch.append(p["ms_per_image"])
        print(f"round {r + 1}: tikhon {t['ms_per_image']:.3f} ms/image, pytorch {p['ms_per_image']:.3f} ms/image", file=sys.stderr)
    mt, mp = statistics.median(tikhon), statistics.median(torch)
    model = "small CNN" if a.model == "cnn" else "linear model"
    print(json.dumps({"benchmark": f"attack pgd-{a.steps} linf, {model}, {a.images} Fashion-MNIST test images",
                      "batch": a.batch, "threads": a.threads, "rounds": a.rounds, "pytorch_version": p["torch_version"],
                      "tikhon_ms_per_image": tikhon, "pytorch_ms_per_image": torch,
                      "tikhon_median": mt, "pytorch_median": mp, "ratio_tikhon_over_pytorch": mt / mp}, indent=2))


if __name__ == "__main__":
    main()

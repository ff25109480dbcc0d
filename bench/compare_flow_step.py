#!/usr/bin/env python3
"""Times one CNF training iteration (2-D data, or with --data image the multiscale image flow) in Tikhon (`./tikhon bench flow-step`) and in
PyTorch for Python (bench/flow_step.py), alternating the two for several rounds on the same
machine; prints both medians and the ratio (Tikhon / PyTorch iterations per second; ≥ 1 means
Tikhon is at least as fast).

    /usr/bin/python3 bench/compare_flow_step.py --threads 2 --rounds 3
    /usr/bin/python3 bench/compare_flow_step.py --threads 2 --rounds 3 --data image --steps 5
"""
import argparse
import json
import os
import statistics
import sys

from compare_train_step import LAUNCHER_MALLOC, ROOT, run


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--batch", type=int, default=None, help="default 512 (2d), 16 (image)")
    ap.add_argument("--data", choices=["2d", "image"], default="2d")
    ap.add_argument("--channels", type=int, default=64)
    a = ap.parse_args()
    env = dict(os.environ)
    env.update(LAUNCHER_MALLOC)
    batch = a.batch or (16 if a.data == "image" else 512)
    common = ["--threads", str(a.threads), "--steps", str(a.steps), "--batch", str(batch), "--data", a.data,
              "--channels", str(a.channels)]
    tikhon, torch = [], []
    for r in range(a.rounds):
        t = run([os.path.join(ROOT, "tikhon"), "bench", "flow-step"] + common)
        p = run([sys.executable, os.path.join(ROOT, "bench", "flow_step.py")] + common, env)
        tikhon.append(t["steps_per_second"])
        torch.append(p["steps_per_second"])
        print(f"round {r + 1}: tikhon {t['steps_per_second']:.2f} it/s, pytorch {p['steps_per_second']:.2f} it/s", file=sys.stderr)
    mt, mp = statistics.median(tikhon), statistics.median(torch)
    print(json.dumps({"benchmark": f"cnf train step {a.data}", "batch": batch, "channels": a.channels, "threads": a.threads, "rounds": a.rounds,
                      "pytorch_version": p["torch_version"], "tikhon_steps_per_second": tikhon,
                      "pytorch_steps_per_second": torch, "tikhon_median": mt, "pytorch_median": mp,
                      "ratio_tikhon_over_pytorch": mt / mp}, indent=2))


if __name__ == "__main__":
    main()

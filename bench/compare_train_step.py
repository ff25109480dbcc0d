#!/usr/bin/env python3
"""Times the small-CNN training step in Tikhon and in PyTorch for Python, alternating the two
several rounds on the same machine, and prints medians and the ratio (Tikhon / PyTorch steps per
second; ≥ 1 means Tikhon is at least as fast). Machines here are noisy: only the ratio of runs
interleaved like this is meaningful.

    /usr/bin/python3 bench/compare_train_step.py --threads 2 --rounds 3
"""
import argparse
import json
import os
import statistics
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# The glibc malloc settings the ./tikhon launcher applies; given to the PyTorch peer too (unless
# --peer-default-malloc) so that both sides run with the same allocator behaviour.
LAUNCHER_MALLOC = {"MALLOC_MMAP_THRESHOLD_": "4294967296", "MALLOC_TRIM_THRESHOLD_": "17179869184",
                   "MALLOC_TOP_PAD_": "536870912"}


def run(cmd, env=None):
    out = subprocess.run(cmd, cwd=ROOT, check=True, capture_output=True, text=True, env=env).stdout
    return json.loads(out.strip().splitlines()[-1])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--steps", type=int, default=50)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--peer-default-malloc", action="store_true",
                    help="run PyTorch with glibc's default malloc settings instead of the launcher's")
    a = ap.parse_args()
    peer_env = dict(os.environ)
    if not a.peer_default_malloc:
        peer_env.update(LAUNCHER_MALLOC)
    common = ["--threads", str(a.threads), "--steps", str(a.steps), "--batch", str(a.batch)]
    tikhon, torch = [], []
    for r in range(a.rounds):
        t = run([os.path.join(ROOT, "tikhon"), "bench", "train-step", "--model", "cnn"] + common)
        p = run([sys.executable, os.path.join(ROOT, "bench", "train_step.py")] + common, peer_env)
        tikhon.append(t["steps_per_second"])
        torch.append(p["steps_per_second"])
        print(f"round {r + 1}: tikhon {t['steps_per_second']:.2f} steps/s, pytorch {p['steps_per_second']:.2f} steps/s",
              file=sys.stderr)
    mt, mp = statistics.median(tikhon), statistics.median(torch)
    print(json.dumps({
        "benchmark": "train-step cnn",
        "batch": a.batch,
        "threads": a.threads,
        "rounds": a.rounds,
        "tikhon_steps_per_second": tikhon,
        "pytorch_steps_per_second": torch,
        "pytorch_version": p["torch_version"],
        "pytorch_malloc": "glibc defaults" if a.peer_default_malloc else "launcher's settings",
        "tikhon_median": mt,
        "pytorch_median": mp,
        "ratio_tikhon_over_pytorch": mt / mp,
    }, indent=2))


if __name__ == "__main__":
    main()

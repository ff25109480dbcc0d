#!/usr/bin/env python3
"""Times the small-CNN training step in Tikhon and in PyTorch for Python, alternating the two
several rounds on the same machine, and prints medians and the ratio (Tikhon / PyTorch steps per
second; ≥ 1 means Tikhon is at least as fast). Machines here are noisy: only the ratio of runs
interleaved like this is meaningful.

With --reg R each side times its plain and its R-regularized step in one process and reports
`ratio` (plain steps/s ÷ regularized steps/s: the cost of a regularized step in plain steps); this
script alternates the two sides and prints both median ratios. If Tikhon's side fails (e.g. its
`--reg` option does not exist yet) it is reported as missing, with the error, and PyTorch still runs.

    /usr/bin/python3 bench/compare_train_step.py --threads 2 --rounds 3
    /usr/bin/python3 bench/compare_train_step.py --threads 2 --rounds 3 --reg tikhonov
"""
import argparse
import json
import os
import statistics
import shlex
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# The glibc malloc settings the ./tikhon launcher applies; given to the PyTorch peer too (unless
# --peer-default-malloc) so that both sides run with the same allocator behaviour.
LAUNCHER_MALLOC = {"MALLOC_MMAP_THRESHOLD_": "4294967296", "MALLOC_TRIM_THRESHOLD_": "17179869184",
                   "MALLOC_TOP_PAD_": "536870912"}


def tikhon_cmd():
    """How to start Tikhon: $TIKHON_CMD (e.g. "java -cp 'app/tikhon.jar:app/lib/*' dev.tikhon.cli.Main" on a machine
    without Maven, as bench/cuda/run.sh does), else the repository's ./tikhon launcher."""
    env = os.environ.get("TIKHON_CMD")
    return shlex.split(env) if env else [os.path.join(ROOT, "tikhon")]


def run(cmd, env=None):
    out = subprocess.run(cmd, cwd=ROOT, check=True, capture_output=True, text=True, env=env).stdout
    return json.loads(out.strip().splitlines()[-1])


def try_run(cmd, keys, env=None):
    """(JSON, None), or (None, error text) if the command fails or its JSON lacks one of keys."""
    try:
        p = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, env=env)
    except OSError as e:
        return None, str(e)
    if p.returncode != 0:
        return None, f"exit {p.returncode}: " + (p.stderr.strip() or p.stdout.strip())[-2000:]
    try:
        j = json.loads(p.stdout.strip().splitlines()[-1])
    except (IndexError, ValueError) as e:
        return None, f"no JSON on the last line of stdout ({e}): {p.stdout[-500:]}"
    missing = [k for k in keys if k not in j]
    return (None, f"JSON lacks {missing}: {j}") if missing else (j, None)


def compare_reg(a, common, peer_env):
    keys = ["plain_steps_per_second", "reg_steps_per_second", "ratio"]
    tikhon, torch, tikhon_error, p = [], [], None, None
    for r in range(a.rounds):
        if tikhon_error is None:  # once Tikhon's side has failed, don't retry it every round
            t, tikhon_error = try_run(tikhon_cmd() + ["bench", "train-step", "--model", "cnn",
                                       "--reg", a.reg] + common, keys)
            if t is not None:
                tikhon.append(t)
        p = run([sys.executable, os.path.join(ROOT, "bench", "train_step.py"), "--reg", a.reg] + common, peer_env)
        torch.append(p)
        tk = f"ratio {t['ratio']:.2f}" if tikhon_error is None else "missing"
        print(f"round {r + 1} --reg {a.reg}: tikhon {tk}, pytorch ratio {p['ratio']:.2f} "
              f"({p['plain_steps_per_second']:.2f} plain / {p['reg_steps_per_second']:.2f} reg steps/s)",
              file=sys.stderr)
    med = lambda runs, k: statistics.median(j[k] for j in runs) if runs else None
    out = {
        "benchmark": f"train-step cnn --reg {a.reg}",
        "batch": a.batch,
        "threads": a.threads,
        "rounds": a.rounds,
        "pytorch_version": p["torch_version"],
        "pytorch_malloc": "glibc defaults" if a.peer_default_malloc else "launcher's settings",
        "tikhon_ratio_median": med(tikhon, "ratio"),
        "pytorch_ratio_median": med(torch, "ratio"),
        "tikhon_ratios": [j["ratio"] for j in tikhon],
        "pytorch_ratios": [j["ratio"] for j in torch],
        "tikhon_plain_median": med(tikhon, "plain_steps_per_second"),
        "tikhon_reg_median": med(tikhon, "reg_steps_per_second"),
        "pytorch_plain_median": med(torch, "plain_steps_per_second"),
        "pytorch_reg_median": med(torch, "reg_steps_per_second"),
    }
    if tikhon_error is not None:
        out["tikhon_missing"] = tikhon_error if not tikhon else f"failed after {len(tikhon)} rounds: {tikhon_error}"
    print(json.dumps(out, indent=2))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--steps", type=int, default=50)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--reg", default="none",
                    choices=["none", "tikhonov", "tikhonov-exact", "tv", "lipschitz", "noise", "fgsm", "pgd", "trades"],
                    help="compare the cost (in plain steps) of this regularized step instead of plain steps/s")
    ap.add_argument("--peer-default-malloc", action="store_true",
                    help="run PyTorch with glibc's default malloc settings instead of the launcher's")
    ap.add_argument("--device", default="cpu", help="cpu or cuda, given to both sides")
    ap.add_argument("--tf32", action="store_true", help="allow TF32 on a GPU, on both sides")
    ap.add_argument("--mlp", metavar="DEPTHxWIDTH",
                    help="time an mlp of DEPTH hidden layers of WIDTH instead of the CNN (plain steps only): e.g. 2x16 at "
                         "--batch 1 does almost no arithmetic, so it times the host's cost of issuing a step")
    a = ap.parse_args()
    peer_env = dict(os.environ)
    if not a.peer_default_malloc:
        peer_env.update(LAUNCHER_MALLOC)
    common = ["--threads", str(a.threads), "--steps", str(a.steps), "--batch", str(a.batch), "--device", a.device] + (["--tf32"] if a.tf32 else [])
    if a.reg != "none":
        if a.mlp:
            ap.error("--mlp times plain steps only: leave out --reg")
        return compare_reg(a, common, peer_env)
    model = ["--model", "cnn"]
    if a.mlp:
        depth, width = a.mlp.split("x")
        model = ["--model", "mlp", "--depth", depth, "--width", width]
    ceiling = ["--no-ceiling"] if a.mlp else []   # the CNN's figures were taken with the ceiling's blocks in between
    tikhon, torch = [], []
    for r in range(a.rounds):
        t = run(tikhon_cmd() + ["bench", "train-step"] + ceiling + model + common)
        p = run([sys.executable, os.path.join(ROOT, "bench", "train_step.py")] + model + common, peer_env)
        tikhon.append(t["steps_per_second"])
        torch.append(p["steps_per_second"])
        print(f"round {r + 1}: tikhon {t['steps_per_second']:.2f} steps/s, pytorch {p['steps_per_second']:.2f} steps/s",
              file=sys.stderr)
    mt, mp = statistics.median(tikhon), statistics.median(torch)
    print(json.dumps({
        "benchmark": "train-step " + ("mlp " + a.mlp if a.mlp else "cnn"),
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

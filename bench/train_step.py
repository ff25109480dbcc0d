#!/usr/bin/env python3
"""PyTorch-for-Python peer of `./tikhon bench train-step`: the same small CNN, batch, loss and
optimizer step, timed on this machine. Prints one JSON object.

Run with the interpreter that has torch (Debian: /usr/bin/python3 with python3-torch):
    /usr/bin/python3 bench/train_step.py --threads 2 --steps 50
"""
import argparse
import json
import os
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


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


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--steps", type=int, default=50)
    ap.add_argument("--warmup", type=int, default=5)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    model = SmallCnn()
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    x = torch.rand(a.batch, 1, 28, 28)
    y = torch.randint(10, (a.batch,))

    def step():
        opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        return loss.item()

    for _ in range(a.warmup):
        step()
    t0 = time.perf_counter()
    for _ in range(a.steps):
        step()
    secs = time.perf_counter() - t0
    print(json.dumps({
        "impl": "pytorch-python",
        "torch_version": torch.__version__,
        "model": "cnn",
        "batch": a.batch,
        "threads": torch.get_num_threads(),
        "steps": a.steps,
        "steps_per_second": a.steps / secs,
        "ms_per_step": 1000 * secs / a.steps,
    }))


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Writes linear_fmnist.pt, the imported linear classifier of the minimum-distance oracle tests: multinomial
logistic regression z = W flatten(x) + b trained by PyTorch (Adam, 3 epochs) on the first 6,000 Fashion-MNIST
training images, pixels in [0, 1]. Regenerate with Debian's python3-torch:

    /usr/bin/python3 src/test/resources/torchscript/make_linear_fixture.py
"""
import gzip
import os

import numpy as np
import torch
import torch.nn as nn

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = "/usr/share/datasets/fashion-mnist"


def read(name, offset):
    with gzip.open(os.path.join(DATA, name)) as f:
        return np.frombuffer(f.read(), dtype=np.uint8, offset=offset)


class Linear(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(28 * 28, 10)

    def forward(self, x):
        return self.fc(x.flatten(1))


def main():
    torch.manual_seed(22)
    x = torch.tensor(read("train-images-idx3-ubyte.gz", 16)[: 6000 * 784].reshape(6000, 1, 28, 28), dtype=torch.float32) / 255
    y = torch.tensor(read("train-labels-idx1-ubyte.gz", 8)[:6000], dtype=torch.long)
    model = Linear()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    for _ in range(3):
        perm = torch.randperm(6000)
        for i in range(0, 6000, 100):
            idx = perm[i:i + 100]
            opt.zero_grad()
            nn.functional.cross_entropy(model(x[idx]), y[idx]).backward()
            opt.step()
    model.eval()
    print("train accuracy", (model(x).argmax(1) == y).float().mean().item())
    torch.jit.script(model).save(os.path.join(HERE, "linear_fmnist.pt"))


if __name__ == "__main__":
    main()

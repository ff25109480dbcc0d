"""Trains an Inception-style CNN on Fashion-MNIST (its branches joined by torch.cat, as Inception and DenseNet join
them) for 2 epochs with PyTorch and exports it to ONNX with a final Softmax, as a user would: the model behind the
concatenation figures of docs/interop.md.

    python3 bench/concat_fmnist.py OUT.onnx    # needs torch and the dataset-fashion-mnist package
"""
import os
import sys

import torch
from torch import nn

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "core/src/test/resources/onnx"))
from make_fixtures import train_on_fashion_mnist  # noqa: E402


class Inception(nn.Module):
    """A stem, then three branches from its output concatenated along the channels: the stem itself (DenseNet's
    identity), a 1×1 and a 3×3 convolution; then a strided convolution and a linear layer."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(1, 8, 5, stride=2)            # 28 → 12
        self.b1 = nn.Conv2d(8, 8, 1)
        self.b3 = nn.Conv2d(8, 8, 3, padding=1)
        self.head = nn.Conv2d(24, 16, 3, stride=2)          # 12 → 5
        self.fc = nn.Linear(16 * 5 * 5, 10)

    def forward(self, x):
        s = torch.relu(self.stem(x))
        z = torch.cat([s, torch.relu(self.b1(s)), torch.relu(self.b3(s))], dim=1)
        return self.fc(torch.flatten(torch.relu(self.head(z)), 1))


if __name__ == "__main__":
    torch.manual_seed(0)
    torch.set_num_threads(2)
    train_on_fashion_mnist(Inception(), 2e-3, "inception", sys.argv[1])

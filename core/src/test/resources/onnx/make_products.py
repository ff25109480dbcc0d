#!/usr/bin/python3
"""Writes the product fixtures of ImportedProductBoundsTest with PyTorch 1.13: gated.onnx, a network that multiplies two
computed values twice: a gated linear unit over channels (conv → tanh times conv → sigmoid, both from one value) and a
squeeze-and-excitation gate as torchvision writes it (global average pooling, 1×1 conv, ReLU, 1×1 conv, sigmoid, the
per-channel scale times the input, broadcast over the pixels); glu.onnx, nn.GLU over the channels of a convolution
(which PyTorch writes as Split, Sigmoid, Mul); gated.json and glu.json beside them in make_fixtures.py's format
(make_fixtures.answers writes them).

With --trained FILE it instead trains a gated CNN on Fashion-MNIST (a stride-2 stem, nn.GLU, a squeeze-and-excitation
gate, 2×2 average pooling, a linear head) for 2 epochs and exports it with a final Softmax (the model docs/interop.md
measures `verify` on; not a fixture), with make_fixtures.py's training loop.

Run from this directory:  /usr/bin/python3 make_products.py
"""
import json
import sys

import torch
import torch.nn as nn

from make_fixtures import answers, train_on_fashion_mnist


class Gated(nn.Module):
    def __init__(self, channels=4, classes=3, stride=1):
        super().__init__()
        self.stem = nn.Conv2d(1, channels, 3, padding=1, stride=stride)
        self.value = nn.Conv2d(channels, channels, 3, padding=1)
        self.gate = nn.Conv2d(channels, channels, 3, padding=1)
        self.squeeze = nn.Conv2d(channels, channels // 2, 1)
        self.excite = nn.Conv2d(channels // 2, channels, 1)
        self.head = nn.Linear(channels, classes)

    def forward(self, x):
        h = torch.relu(self.stem(x))
        h = torch.tanh(self.value(h)) * torch.sigmoid(self.gate(h))
        s = torch.sigmoid(self.excite(torch.relu(self.squeeze(h.mean(dim=(2, 3), keepdim=True)))))
        h = h * s
        return self.head(h.mean(dim=(2, 3)))


def fixture():
    torch.manual_seed(7)
    model = Gated().eval()
    x = torch.rand(2, 1, 6, 6)
    torch.onnx.export(model, x, "gated.onnx", opset_version=13, input_names=["input"], output_names=["output"],
                      dynamic_axes={"input": {0: "N"}, "output": {0: "N"}})
    with open("gated.json", "w") as f:
        json.dump(answers(model, x), f)


class GatedFashion(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(1, 16, 3, padding=1, stride=2)
        self.glu = nn.Sequential(nn.Conv2d(16, 32, 3, padding=1), nn.GLU(dim=1))
        self.squeeze = nn.Conv2d(16, 4, 1)
        self.excite = nn.Conv2d(4, 16, 1)
        self.head = nn.Linear(16 * 7 * 7, 10)

    def forward(self, x):
        h = self.glu(torch.relu(self.stem(x)))
        h = h * torch.sigmoid(self.excite(torch.relu(self.squeeze(h.mean(dim=(2, 3), keepdim=True)))))
        return self.head(torch.flatten(nn.functional.avg_pool2d(h, 2), 1))


def glu():
    torch.manual_seed(8)
    model = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.GLU(dim=1), nn.Flatten(), nn.Linear(4 * 6 * 6, 3)).eval()
    x = torch.rand(2, 1, 6, 6)
    torch.onnx.export(model, x, "glu.onnx", opset_version=13, input_names=["input"], output_names=["output"],
                      dynamic_axes={"input": {0: "N"}, "output": {0: "N"}})
    with open("glu.json", "w") as f:
        json.dump(answers(model, x), f)


def trained(path):
    torch.manual_seed(0)
    train_on_fashion_mnist(GatedFashion(), 2e-3, "gated CNN", path)


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--trained":
        trained(sys.argv[2])
    else:
        fixture()
        glu()

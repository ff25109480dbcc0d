#!/usr/bin/python3
"""Writes the fixtures of slices and splits of computed values (OnnxImportTest, SlicedGraphTest) with PyTorch 1.13:
sliced.onnx (operator set 13, where torch.chunk exports as Shape, Gather, Add, Div, Mul computing the bounds of two
Slices from a channel count, torch.split as Split with its sizes an input, x[:, a:b] as Slice with constant inputs)
and sliced_9.onnx (operator set 9, the same weights: torch.chunk and torch.split as Split with a split attribute,
x[:, a:b] as Slice with attributes), and sliced.json beside them in make_fixtures.py's format (make_fixtures.answers);
shuffle.onnx and shuffle.json: a whole ShuffleNetV2 unit, the chunk, branch and concatenation followed by the channel
shuffle (x.view(n, groups, c // groups, h, w).transpose(1, 2).view(n, c, h, w): a Reshape to five axes, a Transpose, a
Reshape back).

With --trained FILE it instead trains a small ShuffleNetV2-style CNN on Fashion-MNIST (a stride-2 stem, two such units,
2×2 average pooling, a linear head) for 2 epochs and exports it with a final Softmax (the model docs/interop.md measures
`verify` on; not a fixture), with make_fixtures.py's training loop.

Run from this directory:  /usr/bin/python3 make_sliced.py
"""
import json
import sys

import torch
import torch.nn as nn

from make_fixtures import answers, train_on_fashion_mnist


class Sliced(nn.Module):
    """A ShuffleNetV2-style unit (split the channels in two with torch.chunk, convolve one half, concatenate), a
    torch.split into uneven parts joined again in the other order, x[:, -3:, 1:3] (two axes, one from the end), and two
    heads sliced from one linear layer and added."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(2, 4, 3, padding=1)
        self.branch = nn.Sequential(nn.Conv2d(2, 2, 1), nn.ReLU(), nn.Conv2d(2, 2, 3, padding=1, groups=2), nn.Conv2d(2, 2, 1),
                                    nn.ReLU())
        self.fc = nn.Linear(3 * 1 * 2, 8)

    def forward(self, x):
        h = torch.relu(self.stem(x))
        a, b = h.chunk(2, dim=1)
        h = torch.cat([a, self.branch(b)], dim=1)
        p, q = torch.split(h, [1, 3], dim=1)
        h = torch.cat([q, torch.tanh(p)], dim=1)
        h = nn.functional.max_pool2d(h[:, -3:, 1:3], 2)
        z = self.fc(torch.flatten(h, 1))
        return z[:, :4] + z[:, 4:]


def sliced():
    torch.manual_seed(29)
    model = Sliced().eval()
    x = torch.rand(2, 2, 4, 4)
    for name, opset in (("sliced", 13), ("sliced_9", 9)):
        torch.onnx.export(model, x, name + ".onnx", opset_version=opset, input_names=["input"], output_names=["output"],
                          dynamic_axes={"input": {0: "N"}, "output": {0: "N"}})
    with open("sliced.json", "w") as f:
        json.dump(answers(model, x), f)


def channel_shuffle(x, groups):
    n, c, h, w = x.size()
    return x.view(n, groups, c // groups, h, w).transpose(1, 2).contiguous().view(n, c, h, w)


class ShuffleUnit(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(1, 4, 3, padding=1)
        self.branch = nn.Sequential(nn.Conv2d(2, 2, 1), nn.ReLU(), nn.Conv2d(2, 2, 3, padding=1, groups=2), nn.Conv2d(2, 2, 1),
                                    nn.ReLU())
        self.head = nn.Linear(4 * 6 * 6, 3)

    def forward(self, x):
        h = torch.relu(self.stem(x))
        a, b = h.chunk(2, dim=1)
        h = channel_shuffle(torch.cat((a, self.branch(b)), 1), 2)
        return self.head(torch.flatten(h, 1))


def shuffle():
    torch.manual_seed(11)
    model = ShuffleUnit().eval()
    x = torch.rand(2, 1, 6, 6)
    torch.onnx.export(model, x, "shuffle.onnx", opset_version=13, input_names=["input"], output_names=["output"],
                      dynamic_axes={"input": {0: "N"}, "output": {0: "N"}})
    with open("shuffle.json", "w") as f:
        json.dump(answers(model, x), f)


class ShuffleFashion(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(1, 16, 3, padding=1, stride=2)
        self.units = nn.ModuleList(nn.Sequential(nn.Conv2d(8, 8, 1), nn.ReLU(), nn.Conv2d(8, 8, 3, padding=1, groups=8),
                                                 nn.Conv2d(8, 8, 1), nn.ReLU()) for _ in range(2))
        self.head = nn.Linear(16 * 7 * 7, 10)

    def forward(self, x):
        h = torch.relu(self.stem(x))
        for branch in self.units:
            a, b = h.chunk(2, dim=1)
            h = channel_shuffle(torch.cat((a, branch(b)), 1), 2)
        return self.head(torch.flatten(nn.functional.avg_pool2d(h, 2), 1))


def trained(path):
    torch.manual_seed(0)
    train_on_fashion_mnist(ShuffleFashion(), 2e-3, "ShuffleNetV2-style CNN", path)


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--trained":
        trained(sys.argv[2])
    else:
        sliced()
        shuffle()

#!/usr/bin/python3
"""Writes the tanh-GELU fixtures of OnnxImportTest and ImportedActivationBoundsTest with PyTorch 1.13 (which writes
nn.GELU(approximate='tanh') as Mul(x, x), Mul(x, ·), Mul by 0.044715, Add(x, ·), Mul by √(2/π), Tanh, Add 1, Mul(x, ·),
Mul by ½, at operator sets 13 and 17 alike): tanh_gelu.onnx (operator set 13) and tanh_gelu_17.onnx (17, the same
weights), and tanh_gelu.json beside them in make_fixtures.py's format (inputs, a weighting v of the logits, PyTorch's
logits and the gradient of sum(v * logits) with respect to the inputs; make_fixtures.answers writes it).

With --trained FILE it instead trains an MLP with tanh-GELU for 2 epochs on Fashion-MNIST and exports it at operator
set 13 with a final Softmax (the model docs/interop.md measures `verify` on; not a fixture), with make_fixtures.py's
training loop.

Run from this directory:  /usr/bin/python3 make_tanh_gelu.py
"""
import json
import sys

import torch
import torch.nn as nn

from make_fixtures import answers, train_on_fashion_mnist


def fixture():
    """A convolution and a linear layer, each followed by tanh-GELU, pre-activations wide enough to reach its three
    curvature pieces (inflection points ±1.4185) and its minimum (at −0.7525)."""
    torch.manual_seed(5)
    model = nn.Sequential(nn.Conv2d(1, 3, 3), nn.GELU(approximate="tanh"), nn.Flatten(), nn.Linear(3 * 2 * 2, 8),
                          nn.GELU(approximate="tanh"), nn.Linear(8, 4)).eval()
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, (nn.Linear, nn.Conv2d)):
                m.weight.mul_(4)
    x = torch.rand(2, 1, 4, 4)
    for name, opset in (("tanh_gelu", 13), ("tanh_gelu_17", 17)):
        torch.onnx.export(model, x, name + ".onnx", opset_version=opset, input_names=["input"], output_names=["output"],
                          dynamic_axes={"input": {0: "N"}, "output": {0: "N"}})
    with open("tanh_gelu.json", "w") as f:
        json.dump(answers(model, x), f)


def trained(path):
    torch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(784, 100), nn.GELU(approximate="tanh"), nn.Linear(100, 100),
                          nn.GELU(approximate="tanh"), nn.Linear(100, 10))
    train_on_fashion_mnist(model, 1e-3, "tanh-GELU MLP", path)


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--trained":
        trained(sys.argv[2])
    else:
        fixture()

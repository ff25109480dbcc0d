#!/usr/bin/python3
"""Writes the tanh-GELU fixtures of OnnxImportTest and ImportedActivationBoundsTest with PyTorch 1.13 (which writes
nn.GELU(approximate='tanh') as Mul(x, x), Mul(x, ·), Mul by 0.044715, Add(x, ·), Mul by √(2/π), Tanh, Add 1, Mul(x, ·),
Mul by ½, at operator sets 13 and 17 alike): tanh_gelu.onnx (operator set 13) and tanh_gelu_17.onnx (17, the same
weights), and tanh_gelu.json beside them in make_fixtures.py's format (inputs, a weighting v of the logits, PyTorch's
logits and the gradient of sum(v * logits) with respect to the inputs).

With --trained FILE it instead trains an MLP with tanh-GELU for 2 epochs on Fashion-MNIST and exports it at operator
set 13 with a final Softmax (the model docs/interop.md measures `verify` on; not a fixture).

Run from this directory:  /usr/bin/python3 make_tanh_gelu.py
"""
import json
import sys

import torch
import torch.nn as nn


def answers(model, x):
    xg = x.clone().requires_grad_(True)
    logits = model(xg)
    v = torch.randn(logits.shape)
    (grad,) = torch.autograd.grad((v * logits).sum(), xg)
    return {"torch": torch.__version__, "input_shape": list(x.shape), "input": x.flatten().tolist(),
            "v": v.flatten().tolist(), "logits_shape": list(logits.shape), "logits": logits.detach().flatten().tolist(),
            "input_grad": grad.flatten().tolist()}


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


def fashion_mnist(split="train"):
    import gzip
    import os
    root = "/usr/share/datasets/fashion-mnist"
    with gzip.open(os.path.join(root, split + "-images-idx3-ubyte.gz")) as f:
        images = torch.frombuffer(bytearray(f.read()[16:]), dtype=torch.uint8).reshape(-1, 1, 28, 28).float() / 255
    with gzip.open(os.path.join(root, split + "-labels-idx1-ubyte.gz")) as f:
        labels = torch.frombuffer(bytearray(f.read()[8:]), dtype=torch.uint8).long()
    return images, labels


def trained(path):
    torch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(784, 100), nn.GELU(approximate="tanh"), nn.Linear(100, 100),
                          nn.GELU(approximate="tanh"), nn.Linear(100, 10))
    images, labels = fashion_mnist()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    for epoch in range(2):
        perm = torch.randperm(len(labels))
        for i in range(0, len(labels), 128):
            idx = perm[i:i + 128]
            loss = nn.functional.cross_entropy(model(images[idx]), labels[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
    model.eval()
    test_images, test_labels = fashion_mnist("t10k")
    with torch.no_grad():
        accuracy = (model(test_images).argmax(1) == test_labels).float().mean().item()
    print("tanh-GELU MLP test accuracy %.4f" % accuracy)
    torch.onnx.export(nn.Sequential(model, nn.Softmax(dim=1)).eval(), images[:1], path, opset_version=13,
                      input_names=["input"], output_names=["probabilities"],
                      dynamic_axes={"input": {0: "N"}, "probabilities": {0: "N"}})


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--trained":
        trained(sys.argv[2])
    else:
        fixture()

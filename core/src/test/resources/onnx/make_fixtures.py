#!/usr/bin/python3
"""Writes the ONNX fixtures of OnnxImportTest with PyTorch (Debian's python3-torch 1.13; torch.onnx.export needs no
onnx package), and beside each model the known answers: two inputs, a weighting v of the logits, PyTorch's logits
(before a final Softmax, which Tikhon drops) and the gradient of sum(v * logits) with respect to the inputs.

Run from this directory:  /usr/bin/python3 make_fixtures.py
(make_tanh_gelu.py imports its helpers; importing it writes nothing.)
"""
import json

import torch
import torch.nn as nn


class Residual(nn.Module):
    """Add, Concat, Sub/Mul/Div/Add by constants, Reshape and MatMul + Add: the graph (non-chain) operators."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 3, 3, padding=1)
        self.conv2 = nn.Conv2d(3, 3, 3, padding=1)
        self.w = nn.Parameter(torch.randn(6 * 4 * 4, 5) * 0.1)
        self.b = nn.Parameter(torch.randn(5) * 0.1)

    def forward(self, x):
        x = (x - 0.5) / 0.25
        h = torch.relu(self.conv1(x))
        y = self.conv2(h) + h
        z = torch.cat([y, h * 0.5], dim=1)
        z = nn.functional.max_pool2d(z, 2) + 0.1
        z = z.reshape(-1, 6 * 4 * 4)
        return z @ self.w + self.b


class Normalized(nn.Module):
    """A per-channel input normalization inside the model, as PyTorch users write it: Sub and Div by [1, C, 1, 1]
    constants in front of a chain, which Tikhon imports as its Normalize layer."""

    def __init__(self):
        super().__init__()
        self.register_buffer("mean", torch.tensor([0.49, 0.48, 0.45]).reshape(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor([0.25, 0.24, 0.26]).reshape(1, 3, 1, 1))
        self.body = nn.Sequential(nn.Conv2d(3, 4, 3, stride=2), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 3 * 3, 5))

    def forward(self, x):
        return self.body((x - self.mean) / self.std)


def mlp():
    return nn.Sequential(nn.Flatten(), nn.Linear(64, 16), nn.ReLU(), nn.Linear(16, 16), nn.LeakyReLU(0.1),
                         nn.Linear(16, 12), nn.Sigmoid(), nn.Linear(12, 12), nn.Tanh(), nn.Linear(12, 8), nn.Softplus(),
                         nn.Dropout(0.5), nn.Linear(8, 5))


def cnn():
    """Conv with padding, stride and groups, batch norm (after the ReLU, so the exporter cannot fold it into the conv),
    max, average and global average pooling."""
    bn = nn.BatchNorm2d(4)
    with torch.no_grad():
        bn.running_mean.copy_(torch.randn(4) * 0.1)
        bn.running_var.copy_(torch.rand(4) + 0.5)
        bn.weight.copy_(torch.rand(4) + 0.5)
        bn.bias.copy_(torch.randn(4) * 0.1)
    return nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.ReLU(), bn,
                         nn.Conv2d(4, 8, 3, stride=2, padding=1, groups=2), nn.ReLU(),
                         nn.MaxPool2d(2), nn.AvgPool2d(3, stride=1, padding=1, count_include_pad=False), nn.Conv2d(8, 6, 1),
                         nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(6, 4))


def cnn_plain():
    """Only layers Tikhon's Lipschitz bounds and verifiers know: conv, relu, max pooling, flatten, linear."""
    return nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.Conv2d(4, 4, 3, stride=1, padding=1), nn.ReLU(),
                         nn.MaxPool2d(2), nn.Flatten(), nn.Linear(4 * 3 * 3, 10))


def padded():
    """ZeroPad2d and average pooling that counts the padding: both export as Pad (then Conv, AveragePool); ZeroPad2d's
    pads are computed by a constant subgraph (ConstantOfShape, Concat, Reshape, Slice, Transpose, Cast)."""
    return nn.Sequential(nn.ZeroPad2d((1, 2, 0, 1)), nn.Conv2d(1, 3, 3), nn.ReLU(), nn.AvgPool2d(3, stride=2, padding=1),
                         nn.Flatten(), nn.Linear(3 * 4 * 5, 4))


def export(name, model, shape, softmax=False):
    model.eval()
    x = torch.rand(2, *shape)
    saved = nn.Sequential(model, nn.Softmax(dim=1)) if softmax else model
    saved.eval()
    torch.onnx.export(saved, x, name + ".onnx", opset_version=13, input_names=["input"], output_names=["output"],
                      dynamic_axes={"input": {0: "N"}, "output": {0: "N"}})
    with open(name + ".json", "w") as f:
        json.dump(answers(model, x), f)


def answers(model, x):
    """The known answers at x: the inputs, a random weighting v of the logits, the logits and d sum(v * logits) / dx."""
    xg = x.clone().requires_grad_(True)
    logits = model(xg)
    v = torch.randn(logits.shape)
    (grad,) = torch.autograd.grad((v * logits).sum(), xg)
    return {"torch": torch.__version__, "input_shape": list(x.shape), "input": x.flatten().tolist(),
            "v": v.flatten().tolist(), "logits_shape": list(logits.shape), "logits": logits.detach().flatten().tolist(),
            "input_grad": grad.flatten().tolist()}


def fashion_mnist(split="train"):
    """The IDX files of Debian's data set package (the same Tikhon finds under /usr/share/datasets)."""
    import gzip
    import os
    root = "/usr/share/datasets/fashion-mnist"
    with gzip.open(os.path.join(root, split + "-images-idx3-ubyte.gz")) as f:
        images = torch.frombuffer(bytearray(f.read()[16:]), dtype=torch.uint8).reshape(-1, 1, 28, 28).float() / 255
    with gzip.open(os.path.join(root, split + "-labels-idx1-ubyte.gz")) as f:
        labels = torch.frombuffer(bytearray(f.read()[8:]), dtype=torch.uint8).long()
    return images, labels


def train_on_fashion_mnist(model, lr, name, path):
    """Trains the model for 2 epochs on Fashion-MNIST (Adam, batches of 128), prints its test accuracy, and exports it to
    path with a final Softmax, as a user would."""
    images, labels = fashion_mnist()
    opt = torch.optim.Adam(model.parameters(), lr=lr)
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
    print("%s test accuracy %.4f" % (name, accuracy))
    torch.onnx.export(nn.Sequential(model, nn.Softmax(dim=1)).eval(), images[:1], path, opset_version=13,
                      input_names=["input"], output_names=["probabilities"],
                      dynamic_axes={"input": {0: "N"}, "probabilities": {0: "N"}})


def fmnist_cnn():
    """A small CNN trained for 2 epochs on Fashion-MNIST, exported with a final Softmax: the CLI tests certify and attack it."""
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 8, 5, stride=2), nn.ReLU(), nn.Conv2d(8, 16, 3, stride=2), nn.ReLU(), nn.Flatten(),
                          nn.Linear(16 * 5 * 5, 10))
    train_on_fashion_mnist(model, 2e-3, "fmnist_cnn", "fmnist_cnn.onnx")


def gelu():
    """GELU exports as Div, Erf, Add, Mul (of two computed values), Mul: imported as a graph (OnnxOperatorsTest checks it
    against ONNX Runtime)."""
    torch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(4, 3), nn.GELU()).eval()
    torch.onnx.export(model, torch.rand(1, 1, 2, 2), "gelu.onnx", opset_version=13, input_names=["input"], output_names=["output"])


def elu():
    """ELU exports as Elu, which Tikhon does not import: the one-line error's fixture."""
    torch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(4, 3), nn.ELU()).eval()
    torch.onnx.export(model, torch.rand(1, 1, 2, 2), "elu.onnx", opset_version=13, input_names=["input"], output_names=["output"])


class Viewed(nn.Module):
    """A residual network as the popular CIFAR code writes it: batch norm after the convolutions (folded by the
    exporter), an identity skip, F.avg_pool2d, then out.view(out.size(0), -1), which exports with a dynamic batch as
    Shape, Gather, Unsqueeze and Concat computing the Reshape's shape at run time."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 4, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(4)
        self.conv2 = nn.Conv2d(4, 4, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(4)
        self.linear = nn.Linear(4 * 2 * 2, 5)
        with torch.no_grad():
            for bn in (self.bn1, self.bn2):
                bn.running_mean.copy_(torch.randn(4) * 0.1)
                bn.running_var.copy_(torch.rand(4) + 0.5)
                bn.weight.copy_(torch.rand(4) + 0.5)

    def forward(self, x):
        out = torch.relu(self.bn1(self.conv1(x)))
        out = torch.relu(self.bn2(self.conv2(out)) + out)
        out = nn.functional.avg_pool2d(out, 4)
        out = out.view(out.size(0), -1)
        return self.linear(out)


def viewed():
    torch.manual_seed(5)
    export("viewed", Viewed(), (1, 8, 8))


class Mobile(nn.Module):
    """A MobileNet-like network: depthwise-separable blocks (a grouped 3×3 convolution with groups = channels, then a
    1×1 one, batch norm folded by the exporter) with ReLU6 (exported as Clip(x, 0, 6)) and Hardswish (at operator set
    13 HardSigmoid(α = 1/6, β = ½) times x), AdaptiveAvgPool2d((1, 1)) and torch.flatten(x, 1)."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(1, 4, 3, 2, 1, bias=False), nn.BatchNorm2d(4), nn.ReLU6(inplace=True))
        self.dw = nn.Sequential(nn.Conv2d(4, 4, 3, 1, 1, groups=4, bias=False), nn.BatchNorm2d(4), nn.Hardswish())
        self.pw = nn.Sequential(nn.Conv2d(4, 8, 1, bias=False), nn.BatchNorm2d(8), nn.ReLU6(inplace=True))
        self.pool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(8, 5)
        with torch.no_grad():   # weights large enough that ReLU6 and Hardswish are cut off at both ends
            for m in self.modules():
                if isinstance(m, nn.Conv2d):
                    m.weight.mul_(6)

    def forward(self, x):
        x = self.pool(self.pw(self.dw(self.stem(x))))
        return self.fc(torch.flatten(x, 1))


def mobile():
    torch.manual_seed(7)
    export("mobile", Mobile(), (1, 8, 8))


def selu():
    """SELU exports as Selu, which Tikhon does not import: the one-line error's fixture."""
    torch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(4, 3), nn.SELU()).eval()
    torch.onnx.export(model, torch.rand(1, 1, 2, 2), "selu.onnx", opset_version=13, input_names=["input"], output_names=["output"])


class LeNet(nn.Module):
    """The PyTorch tutorial's network: x.view(-1, 16 * 2 * 2), a Reshape to a constant [-1, K], which Tikhon reads as a
    flatten (each example has K entries) so that the bounds apply; the global average pooling as x.mean((2, 3))
    (ReduceMean) in a second branch."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 4, 3)
        self.conv2 = nn.Conv2d(4, 16, 3, padding=1)
        self.fc1 = nn.Linear(16 * 3 * 3, 8)
        self.fc2 = nn.Linear(8 + 16, 5)

    def forward(self, x):
        x = nn.functional.max_pool2d(torch.relu(self.conv1(x)), 2)
        x = torch.relu(self.conv2(x))
        h = torch.relu(self.fc1(x.view(-1, 16 * 3 * 3)))
        return self.fc2(torch.cat([h, x.mean((2, 3))], dim=1))


class LeNetChain(nn.Module):
    """x.view(-1, K) in a chain: Tikhon imports a Sequential its Lipschitz bound and verifiers take."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 4, 3)
        self.fc1 = nn.Linear(4 * 3 * 3, 5)

    def forward(self, x):
        x = nn.functional.max_pool2d(torch.relu(self.conv1(x)), 2)
        return self.fc1(x.view(-1, 4 * 3 * 3))


def lenet():
    torch.manual_seed(11)
    export("lenet", LeNet(), (1, 8, 8))
    export("lenet_chain", LeNetChain(), (1, 8, 8))


def prelu():
    """nn.PReLU with one slope per channel, and with one slope for all, exported as PRelu (the slope [C, 1, 1] or [1])."""
    torch.manual_seed(13)
    model = nn.Sequential(nn.Conv2d(1, 4, 3, stride=2), nn.PReLU(4), nn.Flatten(), nn.Linear(4 * 3 * 3, 6), nn.PReLU(),
                          nn.Linear(6, 5))
    with torch.no_grad():
        model[1].weight.copy_(torch.tensor([0.1, -0.3, 0.6, 1.5]))
        model[4].weight.fill_(0.2)
    export("prelu", model, (1, 8, 8))


def silu():
    """SiLU exports at operator set 13 as Sigmoid then Mul(x, ·), which the bounds read as one activation; GELU and
    Hardswish beside it as PyTorch writes them (Div, Erf, Add, Mul, Mul; HardSigmoid, Mul)."""
    torch.manual_seed(3)
    model = nn.Sequential(nn.Flatten(), nn.Linear(16, 8), nn.SiLU(), nn.Linear(8, 8), nn.GELU(), nn.Linear(8, 8), nn.Hardswish(),
                          nn.Linear(8, 4))
    with torch.no_grad():   # pre-activations wide enough to reach every piece of the three
        for m in model.modules():
            if isinstance(m, nn.Linear):
                m.weight.mul_(4)
    export("silu", model, (1, 4, 4))


def main():
    """Every fixture, in the order (and so from the random state) they were first written in."""
    torch.manual_seed(23)
    export("mlp", mlp(), (1, 8, 8), softmax=True)
    export("cnn", cnn(), (3, 8, 8))
    export("cnn_plain", cnn_plain(), (1, 8, 8))
    export("residual", Residual(), (1, 8, 8))
    export("padded", padded(), (1, 8, 8))
    export("normalized", Normalized(), (3, 8, 8))
    fmnist_cnn()
    gelu()
    elu()
    viewed()
    mobile()
    selu()
    lenet()
    prelu()
    silu()


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Writes the TorchScript fixture the Java tests load: a tiny CNN scripted by PyTorch for Python,
plus its outputs and input gradients on a fixed input, so Tikhon's loader is checked against
PyTorch's own numbers; and tiny_bn_cnn.pt, the same with batch norm (parameters and buffers). Regenerate with Debian's python3-torch:

    /usr/bin/python3 src/test/resources/torchscript/make_fixture.py
"""
import json
import os

import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))


class TinyCnn(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 4, 3)
        self.fc = nn.Linear(4 * 13 * 13, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv(x)), 2)
        return self.fc(x.flatten(1))


class TinyBnCnn(nn.Module):
    """With batch norm: buffers (running statistics, an integer counter) besides parameters."""
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 4, 3)
        self.bn = nn.BatchNorm2d(4)
        self.fc = nn.Linear(4 * 13 * 13, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.bn(self.conv(x))), 2)
        return self.fc(x.flatten(1))


def bn_fixture():
    torch.manual_seed(4321)
    torch.jit.script(TinyBnCnn().eval()).save(os.path.join(HERE, "tiny_bn_cnn.pt"))


def fixed_input():
    # Deterministic, no RNG: a smooth pattern in [0, 1] for two images.
    i = torch.arange(2 * 28 * 28, dtype=torch.float32).reshape(2, 1, 28, 28)
    return (torch.sin(i * 0.05) + 1) / 2


def main():
    torch.manual_seed(1234)
    model = TinyCnn().eval()
    scripted = torch.jit.script(model)
    scripted.save(os.path.join(HERE, "tiny_cnn.pt"))
    x = fixed_input().requires_grad_(True)
    out = scripted(x)
    grad, = torch.autograd.grad(out[:, 3].sum(), x)
    json.dump({
        "torch_version": torch.__version__,
        "logits": out.detach().flatten().tolist(),
        "grad_class3_sum": grad.flatten().tolist()[:200],
        "grad_abs_sum": grad.abs().sum().item(),
        "parameters": [n for n, _ in scripted.named_parameters()],
    }, open(os.path.join(HERE, "tiny_cnn_expected.json"), "w"), indent=1)
    bn_fixture()


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Writes tiny_fmnist_cnn.pt and tiny_fmnist_cnn_pgd.json, the reference-PGD fixture of AttackStrengthTest: a tiny
CNN (conv 8·5×5 stride 2, conv 16·3×3 stride 2, fc 10, ReLU; 5.4k parameters) trained by PyTorch (Adam, 3 epochs,
all 60,000 Fashion-MNIST training images, seed 1), and, on the first 100 test images (which the bundled
fashion-mnist-sample holds), which images a plain reference PGD ℓ∞ breaks: 100 steps of 2.5ε/100 on the
cross-entropy, random start, 5 restarts, any misclassified iterate counts (bench/reference_pgd.py). Regenerate with
Debian's python3-torch from the repository root:

    /usr/bin/python3 core/src/test/resources/torchscript/make_pgd_fixture.py
"""
import json
import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "..", "..", "..", "bench"))
import reference_pgd as ref  # noqa: E402

IMAGES = 100
RADII = [0.02, 0.05, 0.1]


class TinyFmnistCnn(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 8, 5, stride=2)     # 28 → 12
        self.conv2 = nn.Conv2d(8, 16, 3, stride=2)    # 12 → 5
        self.fc = nn.Linear(16 * 5 * 5, 10)

    def forward(self, x):
        return self.fc(F.relu(self.conv2(F.relu(self.conv1(x)))).flatten(1))


def main():
    torch.set_num_threads(1)
    torch.manual_seed(1)
    x, y = ref.load("train")
    model = TinyFmnistCnn()
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    for epoch in range(3):
        perm = torch.randperm(len(x))
        for i in range(0, len(x), 128):
            b = perm[i:i + 128]
            loss = F.cross_entropy(model(x[b]), y[b])
            opt.zero_grad()
            loss.backward()
            opt.step()
    model.eval()
    scripted = torch.jit.script(model)
    scripted.save(os.path.join(HERE, "tiny_fmnist_cnn.pt"))
    xt, yt = ref.load("test")
    xt, yt = xt[:IMAGES], yt[:IMAGES]
    with torch.no_grad():
        correct = scripted(xt).argmax(1) == yt
    out = {"torch_version": torch.__version__, "images": IMAGES, "steps": 100, "restarts": 5,
           "correct": [i for i in range(IMAGES) if correct[i]], "radii": {}}
    for eps in RADII:
        torch.manual_seed(0)
        broken = ~correct | ref.pgd_batch(scripted, xt, yt, eps, 100, 5)[1]
        robust = [i for i in range(IMAGES) if not broken[i]]
        out["radii"][str(eps)] = {"robust": robust, "robust_count": len(robust)}
        print(f"eps {eps}: clean {int(correct.sum())}, robust {len(robust)} of {IMAGES}")
    with open(os.path.join(HERE, "tiny_fmnist_cnn_pgd.json"), "w") as f:
        json.dump(out, f, indent=1)


if __name__ == "__main__":
    main()

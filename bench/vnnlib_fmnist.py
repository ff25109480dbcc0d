"""Writes VNN-LIB robustness properties for the Fashion-MNIST CNN fixture (core/src/test/resources/onnx/fmnist_cnn.onnx):
the first N test images of the shipped sample, an l-inf box of radius eps clipped to [0, 1], and as the unsafe set
"some other class scores at least the label's" (one disjunct per class), as VNN-COMP's MNIST benchmarks state it.

    python3 bench/vnnlib_fmnist.py OUT_DIR [N] [EPS ...]    # needs numpy; writes OUT_DIR/fm_<image>_<eps>.vnnlib
"""
import gzip
import os
import sys

import numpy as np

BASE = os.path.join(os.path.dirname(__file__), "..", "core/src/main/resources/dev/tikhon/data/fashion-mnist-sample/")


def prop(x, label, eps):
    s = f"; Fashion-MNIST test image, label {label}, linf eps {eps} clipped to [0,1]\n"
    s += "".join(f"(declare-const X_{i} Real)\n" for i in range(784)) + "".join(f"(declare-const Y_{j} Real)\n" for j in range(10))
    for i, v in enumerate(x):
        s += f"(assert (>= X_{i} {float(max(0.0, v - eps))!r}))\n(assert (<= X_{i} {float(min(1.0, v + eps))!r}))\n"
    s += "(assert (or\n" + "".join(f"    (and (>= Y_{j} Y_{label}))\n" for j in range(10) if j != label) + "))\n"
    return s


def main():
    out = sys.argv[1]
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    radii = [float(e) for e in sys.argv[3:]] or [0.002, 0.005, 0.01, 0.02, 0.05]
    img = np.frombuffer(gzip.open(BASE + "t10k-images-idx3-ubyte.gz").read(), np.uint8, offset=16).reshape(-1, 784) / 255.0
    lab = np.frombuffer(gzip.open(BASE + "t10k-labels-idx1-ubyte.gz").read(), np.uint8, offset=8)
    os.makedirs(out, exist_ok=True)
    for k in range(n):
        for e in radii:
            with open(os.path.join(out, f"fm_{k}_{e}.vnnlib"), "w") as f:
                f.write(prop(img[k], int(lab[k]), e))


if __name__ == "__main__":
    main()

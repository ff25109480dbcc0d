#!/usr/bin/python3
"""tanh-GELU's constants for dev.tikhon.verify.Pointwise, in 40 digits (mpmath), for the floats PyTorch writes:
f(x) = x/2·(1 + tanh(u)), u = C(x + Ax³), C = float(√(2/π)), A = float(0.044715).

f″ = sech²(u)·h(x), h(x) = C(1 + 6Ax²) − x·tanh(u)·C²(1 + 3Ax²)², even in x: its sign changes on x > 0 (counted on a
grid of [0, 30]; beyond, −9A²C²x⁵ dominates h) are the inflection points; the minimizer solves f′ = 0 on x < 0; since
f′(−x) = 1 − f′(x) and f″ has one sign change on x > 0, sup |f′| = f′(r) at the inflection point r.

Run:  /usr/bin/python3 bench/tanh_gelu_constants.py
"""
import mpmath as mp
import numpy as np

mp.mp.dps = 40
A = float(np.float32(0.044715))
C = float(np.float32(np.sqrt(2 / np.pi)))
a, c = mp.mpf(A), mp.mpf(C)


def u(x): return c * (x + a * x ** 3)
def f(x): return x / 2 * (1 + mp.tanh(u(x)))
def df(x): return (1 + mp.tanh(u(x))) / 2 + x / 2 * mp.sech(u(x)) ** 2 * c * (1 + 3 * a * x ** 2)
def h(x): return c * (1 + 6 * a * x ** 2) - x * mp.tanh(u(x)) * c ** 2 * (1 + 3 * a * x ** 2) ** 2


grid = [mp.mpf(i) / 1000 for i in range(30001)]
signs = [mp.sign(h(x)) for x in grid]
print("A", repr(A), "C", repr(C))
print("sign changes of f'' on [0, 30] near", [float(grid[i]) for i in range(1, len(grid)) if signs[i] != signs[i - 1]])
r = mp.findroot(h, 1.4)
m = mp.findroot(df, -0.75)
print("inflection point", mp.nstr(r, 30), "float64", repr(float(r)))
print("minimizer", mp.nstr(m, 30), "float64", repr(float(m)))
print("minimum", mp.nstr(f(m), 30), "float64", repr(float(f(m))))
print("sup f' = f'(r)", mp.nstr(df(r), 30), "; inf f' = f'(-r)", mp.nstr(df(-r), 30))

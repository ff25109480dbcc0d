#!/usr/bin/env python3
"""Stability of the EK dual ascent (SPEC §7) on rings, in PyTorch for Python: the same algorithm as
dev.tikhon.transport.EkTraining.ascend (φ, ψ MLPs 2-64-64-64-1 softplus, ε = 1, α = 1e-5, Adam, one
alternating φ step then ψ step per iteration, Monte Carlo heat transform through log-sum-exp), used to
screen fixes for the collapse of the SPEC form quickly (docs/ek.md, "Stability"). One torch thread.

    /usr/bin/python3 bench/ek_stability.py --iters 300 --batch 500 --mc 32 [--mode logmass] [--lr 1e-4] [--clip 1] [--std 1]

--mode orig differentiates D = E φ + E ψ − ε ∫π + ε (SPEC), --mode logmass the profiled dual
E φ + E ψ − ε log ∫π (this prototype does not reset ψ's constant after each step; EkTraining does).
Prints, every 25 iterations, D, the profiled dual, the twin penalty and log ∫π on the batch.
Rings here: 4 rings of radii 0.75..3, noise 0.08, evenly spaced angles, a fixed set of 100,000 points.
"""
import argparse
import math
import time

import torch

torch.set_num_threads(1)
p = argparse.ArgumentParser()
p.add_argument('--mode', default='orig')   # orig | logmass
p.add_argument('--iters', type=int, default=300)
p.add_argument('--batch', type=int, default=1000)
p.add_argument('--mc', type=int, default=100)
p.add_argument('--lr', type=float, default=1e-3)
p.add_argument('--eps', type=float, default=1.0)
p.add_argument('--alpha', type=float, default=1e-5)
p.add_argument('--clip', type=float, default=0)
p.add_argument('--std', type=int, default=0)
p.add_argument('--seed', type=int, default=0)
p.add_argument('--data', default='rings')
a = p.parse_args()
torch.manual_seed(a.seed)
def rings(n):
    q = n//4; pts=[]
    for k,cnt in enumerate([n-3*q,q,q,q]):
        r = 0.75*(k+1); ang = 2*math.pi*torch.arange(cnt)/cnt
        pts.append(torch.stack([r*torch.cos(ang), r*torch.sin(ang)],1) + 0.08*torch.randn(cnt,2))
    return torch.cat(pts)
X = rings(100000)
if a.std:
    mu, sd = X.mean(0), X.std(0); X = (X-mu)/sd
def mlp():
    return torch.nn.Sequential(torch.nn.Linear(2,64),torch.nn.Softplus(),torch.nn.Linear(64,64),torch.nn.Softplus(),torch.nn.Linear(64,64),torch.nn.Softplus(),torch.nn.Linear(64,1))
phi, psi = mlp(), mlp()
op = torch.optim.Adam(phi.parameters(), lr=a.lr); oq = torch.optim.Adam(psi.parameters(), lr=a.lr)
eps=a.eps
def terms(x,y,w, phifixed):
    B,M,d = w.shape
    with torch.set_grad_enabled(not phifixed):
        px = phi(x).squeeze(1)
        pts = (y.unsqueeze(1)+math.sqrt(eps)*w).reshape(B*M,d)
        u = phi(pts).squeeze(1).reshape(B,M)/eps
        phiH = eps*(torch.logsumexp(u,1)-math.log(M))
    if phifixed: px, phiH = px.detach(), phiH.detach()
    py = psi(y).squeeze(1)
    s = py+phiH
    logm = torch.logsumexp(s/eps,0)-math.log(B)
    dual = px.mean()+py.mean()-eps*logm.exp()+eps
    prof = px.mean()+py.mean()-eps*logm
    return dual, prof, (s*s).mean(), logm
t0=time.time()
for it in range(1, a.iters+1):
    x = X[torch.randint(0,X.shape[0],(a.batch,))]
    y = torch.randn(a.batch,2); w = torch.randn(a.batch,a.mc,2)
    for which,opt,net in ((False,op,phi),(True,oq,psi)):
        opt.zero_grad()
        dual,prof,pen,logm = terms(x,y,w,which)
        obj = dual if a.mode=='orig' else prof
        loss = -obj + a.alpha*pen
        loss.backward()
        if a.clip: torch.nn.utils.clip_grad_norm_(net.parameters(), a.clip)
        opt.step()
    if it%25==0 or it==1:
        print(f"{it:5d} dual {dual.item():10.4f} prof {prof.item():10.4f} pen {pen.item():10.3f} logmass {logm.item():10.3f}  {time.time()-t0:.0f}s", flush=True)

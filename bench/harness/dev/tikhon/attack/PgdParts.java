package dev.tikhon.attack;

import dev.tikhon.bench.Workloads;
import dev.tikhon.engine.Autograd;
import dev.tikhon.engine.Engine;
import dev.tikhon.engine.Rng;
import dev.tikhon.engine.Scope;
import dev.tikhon.engine.Tensor;
import dev.tikhon.models.Models;
import dev.tikhon.nn.Module;

import java.util.List;

/** Host time of the parts of a PGD iteration on the linear model at batch 1, one thread (µs per call, JIT warm). */
public class PgdParts {
    interface Body { void run(); }

    static void time(String name, int n, Body b) {
        for (int i = 0; i < n / 5; i++) try (Scope s = Scope.open()) { b.run(); }
        long t0 = System.nanoTime();
        for (int i = 0; i < n; i++) try (Scope s = Scope.open()) { b.run(); }
        System.out.printf("%-32s %9.2f µs%n", name, (System.nanoTime() - t0) / 1e3 / n);
    }

    public static void main(String[] a) {
        Engine.setThreads(1);
        Rng.seed(0);
        Tensor x = Tensor.rand(1, 1, 28, 28).keep(), y = Tensor.fromLongs(new long[]{3}, 1).keep();
        Module m = Models.build(Workloads.attackModel("linear"));
        m.train(false);
        Tensor logits = m.forward(x).detach().keep(), point = x.copy().keep();
        Region region = new Region(Norm.LINF, x, 0.1);
        Tracker tracker = new Tracker(Norm.LINF, x, y);
        time("x.add(x)", 20000, () -> x.add(x));
        time("tracker update", 20000, () -> tracker.offer(x, logits));
        time("step and projection (ascend_)", 20000, () -> region.ascend_(point, x, 0.01));
        time("forward, loss and input gradient", 20000, () -> {
            Tensor xk = x.detach().requiresGrad(true);
            Autograd.grad(List.of(AttackLoss.CE.perExample(m.forward(xk), y, null).sum()), List.of(xk), null, false, false);
        });
        Pgd one = Pgd.madry(Norm.LINF, 0.1, 1), twenty = Pgd.madry(Norm.LINF, 0.1, 20);
        time("PGD-1 run (2 iterations)", 2000, () -> one.attack(m, x, y));
        time("PGD-20 run (21 iterations)", 500, () -> twenty.attack(m, x, y));
    }
}

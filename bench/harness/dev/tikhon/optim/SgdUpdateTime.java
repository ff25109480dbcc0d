package dev.tikhon.optim;

import dev.tikhon.engine.Autograd;
import dev.tikhon.engine.Engine;
import dev.tikhon.engine.Rng;
import dev.tikhon.engine.Scope;
import dev.tikhon.engine.Tensor;
import dev.tikhon.models.Models;
import dev.tikhon.nn.Module;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** SGD with momentum on the small CNN's 8 tensors: the fused update against one tensor at a time, µs per update. */
public class SgdUpdateTime {
    public static void main(String[] a) {
        Engine.setThreads(a.length > 0 ? Integer.parseInt(a[0]) : 1);
        Rng.seed(0);
        Module m = Models.build(Models.spec("cnn", List.of(1L, 28L, 28L), 10, Map.of()));
        Sgd sgd = new Sgd(m.parameters(), 0.01, 0.9, false, 0, false);
        m.forward(Tensor.rand(8, 1, 28, 28)).sum().backward();   // gradients kept: every update reuses them
        List<Integer> idx = new ArrayList<>();
        List<Tensor> g = new ArrayList<>();
        for (int i = 0; i < m.parameters().size(); i++) {
            idx.add(i);
            g.add(m.parameters().get(i).grad());
        }
        int n = 300;
        for (int rep = 0; rep < 3; rep++) {
            long t0 = System.nanoTime();
            for (int k = 0; k < n; k++) try (Scope s = Scope.open(); Autograd.Guard ng = Autograd.noGrad()) { sgd.updateAll(idx, g); }
            long t1 = System.nanoTime();
            for (int k = 0; k < n; k++) try (Scope s = Scope.open(); Autograd.Guard ng = Autograd.noGrad()) {
                for (int i = 0; i < idx.size(); i++) sgd.update(i, m.parameters().get(i), g.get(i));
            }
            long t2 = System.nanoTime();
            System.out.printf("fused %.1f µs, one tensor at a time %.1f µs%n", (t1 - t0) / 1e3 / n, (t2 - t1) / 1e3 / n);
        }
    }
}

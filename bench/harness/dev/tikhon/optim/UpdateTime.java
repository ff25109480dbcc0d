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

/**
 * An optimizer's update of the small CNN's 8 tensors: the fused update against one tensor at a time, µs per update.
 * Arguments: threads (1), optimizer: sgd (momentum 0.9) or adam (2). Also the once-per-device check every optimizer's
 * first step runs ({@link FusedUpdateCheck#trusted}): its first run, with the class loading a fresh process pays, and
 * three more.
 */
public class UpdateTime {
    public static void main(String[] a) {
        Engine.setThreads(a.length > 0 ? Integer.parseInt(a[0]) : 1);
        String which = a.length > 1 ? a[1] : "sgd";
        Rng.seed(0);
        Module m = Models.build(Models.spec("cnn", List.of(1L, 28L, 28L), 10, Map.of()));
        Optimizer opt = switch (which) {
            case "sgd" -> new Sgd(m.parameters(), 0.01, 0.9, false, 0, false);
            case "adam" -> new Adam(m.parameters(), 1e-3);
            default -> throw new IllegalArgumentException("optimizer: sgd or adam, got " + which);
        };
        m.forward(Tensor.rand(8, 1, 28, 28)).sum().backward();   // gradients kept: every update reuses them
        List<Integer> idx = new ArrayList<>();
        List<Tensor> g = new ArrayList<>();
        for (int i = 0; i < m.parameters().size(); i++) {
            idx.add(i);
            g.add(m.parameters().get(i).grad());
        }
        for (int rep = 0; rep < 4; rep++) {
            long c0 = System.nanoTime();
            FusedUpdateCheck.run(dev.tikhon.engine.Device.CPU);
            System.out.printf("fused-update check%s: %.2f ms%n", rep == 0 ? " (first)" : "", (System.nanoTime() - c0) / 1e6);
        }
        int n = 300;
        for (int rep = 0; rep < 3; rep++) {
            long t0 = System.nanoTime();
            for (int k = 0; k < n; k++) try (Scope s = Scope.open(); Autograd.Guard ng = Autograd.noGrad()) {
                opt.beforeStep();
                opt.updateAll(idx, g);
            }
            long t1 = System.nanoTime();
            for (int k = 0; k < n; k++) try (Scope s = Scope.open(); Autograd.Guard ng = Autograd.noGrad()) {
                opt.beforeStep();
                opt.updateEach(idx, g);
            }
            long t2 = System.nanoTime();
            System.out.printf("%s: fused %.1f µs, one tensor at a time %.1f µs%n", which, (t1 - t0) / 1e3 / n, (t2 - t1) / 1e3 / n);
        }
    }
}

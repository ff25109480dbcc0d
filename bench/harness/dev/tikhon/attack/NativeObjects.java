package dev.tikhon.attack;

import dev.tikhon.engine.Autograd;
import dev.tikhon.engine.Engine;
import dev.tikhon.engine.Rng;
import dev.tikhon.engine.Scope;
import dev.tikhon.engine.Tensor;
import dev.tikhon.models.Models;
import dev.tikhon.nn.Module;
import dev.tikhon.optim.SgdCounts;

import java.util.List;
import java.util.Map;

/** Native objects JavaCPP registers in one PGD iteration (small CNN, batch 8) and in one SGD update of its parameters. */
public class NativeObjects {
    public static void main(String[] a) {
        Engine.setThreads(1);
        Rng.seed(0);
        Module m = Models.build(Models.spec("cnn", List.of(1L, 28L, 28L), 10, Map.of()));
        m.train(false);
        Tensor x = Tensor.rand(8, 1, 28, 28).keep(), y = Tensor.fromLongs(new long[]{0, 1, 2, 3, 4, 5, 6, 7}, 8).keep();
        Region region = new Region(Norm.LINF, x, 0.1);
        Tracker tracker = new Tracker(Norm.LINF, region.x, y);
        Tensor current = region.randomStart().keep();
        long n = 0;
        for (int rep = 0; rep < 3; rep++) {
            try (Scope it = Scope.open()) {   // Pgd.runOnce's iteration, counted before its scope frees it
                long c0 = Engine.liveNativeObjects();
                Tensor xk = current.detach().requiresGrad(true);
                Tensor logits = m.forward(xk);
                tracker.offer(xk, logits);
                Tensor g = Autograd.grad(List.of(AttackLoss.CE.perExample(logits, y, null).sum()), List.of(xk), null, false, false).get(0);
                region.ascend_(current, g, 0.0125);
                n = Engine.liveNativeObjects() - c0;
            }
        }
        System.out.println("PGD iteration: " + n + " native objects, 0 host syncs");
        long[] sgd = SgdCounts.update(m);
        System.out.println("SGD momentum update, 8 parameters: fused " + sgd[0] + ", one tensor at a time " + sgd[1] + " native objects");
    }
}

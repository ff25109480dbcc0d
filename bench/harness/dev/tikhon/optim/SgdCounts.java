package dev.tikhon.optim;

import dev.tikhon.engine.Autograd;
import dev.tikhon.engine.Engine;
import dev.tikhon.engine.Scope;
import dev.tikhon.engine.Tensor;
import dev.tikhon.nn.Module;

import java.util.ArrayList;
import java.util.List;

/** Native objects of one SGD update of {@code m}'s parameters: {fused, one tensor at a time}. */
public final class SgdCounts {
    public static long[] update(Module m) {
        m.forward(Tensor.rand(8, 1, 28, 28)).sum().backward();
        Sgd sgd = new Sgd(m.parameters(), 0.01, 0.9, false, 0, false);
        List<Integer> idx = new ArrayList<>();
        List<Tensor> g = new ArrayList<>();
        for (int i = 0; i < m.parameters().size(); i++) {
            idx.add(i);
            g.add(m.parameters().get(i).grad());
        }
        long[] n = new long[2];
        for (int rep = 0; rep < 3; rep++) {
            for (int way = 0; way < 2; way++) {
                try (Scope s = Scope.open(); Autograd.Guard ng = Autograd.noGrad()) {
                    long c0 = Engine.liveNativeObjects();
                    if (way == 0) sgd.updateAll(idx, g);
                    else sgd.updateEach(idx, g);
                    n[way] = Engine.liveNativeObjects() - c0;
                }
            }
        }
        return n;
    }
}

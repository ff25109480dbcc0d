package dev.tikhon.regularize;

import dev.tikhon.data.DataSets;
import dev.tikhon.data.Dataset;
import dev.tikhon.engine.Autograd;
import dev.tikhon.engine.Device;
import dev.tikhon.engine.Ops;
import dev.tikhon.engine.Rng;
import dev.tikhon.engine.Tensor;
import dev.tikhon.nn.Module;
import dev.tikhon.models.Models;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/** Oracle: the same statistics computed example by example. */
class GradientNormsTest {

    @Test
    void batchedStatisticsEqualPerExampleComputation() {
        Dataset data = DataSets.load("circles", null, Map.of(), DataSets.Options.seeded(2).withToySizes(50, 37)).test();
        Rng.seed(3);
        Module m = Models.build(Models.spec("mlp", List.of(2L), 2, Map.of("hidden", List.of(8))));
        GradientNorms g = GradientNorms.measure(m, data, 16, Device.CPU);
        double l2Sum = 0, l2Max = 0, l1Sum = 0, l1Max = 0;
        for (int i = 0; i < data.size(); i++) {
            Tensor idx = Tensor.fromLongs(new long[]{i}, 1);
            Tensor x = data.batchInputs(idx).requiresGrad(true);
            Tensor grad = Autograd.grad(Ops.crossEntropy(m.forward(x), data.batchLabels(idx)), x, false);
            double l2 = grad.norm(2).item(), l1 = grad.norm(1).item();
            l2Sum += l2;
            l1Sum += l1;
            l2Max = Math.max(l2Max, l2);
            l1Max = Math.max(l1Max, l1);
        }
        assertThat(g.n()).isEqualTo(37);
        assertThat(g.l2Mean()).isCloseTo(l2Sum / 37, within(1e-6));
        assertThat(g.l1Mean()).isCloseTo(l1Sum / 37, within(1e-6));
        assertThat(g.l2Max()).isCloseTo(l2Max, within(1e-6));
        assertThat(g.l1Max()).isCloseTo(l1Max, within(1e-6));
    }
}

package dev.tikhon.lipschitz;

import dev.tikhon.engine.Autograd;
import dev.tikhon.engine.DType;
import dev.tikhon.engine.Device;
import dev.tikhon.engine.OneThread;
import dev.tikhon.engine.Rng;
import dev.tikhon.engine.Scope;
import dev.tikhon.engine.Tensor;
import dev.tikhon.models.Models;
import dev.tikhon.nn.Linear;
import dev.tikhon.nn.Module;
import dev.tikhon.nn.Normalize;
import dev.tikhon.nn.Sequential;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/**
 * Oracles: the closed form (a normalization with std (0.5, 0.25) followed by the identity has Lipschitz constant
 * exactly 4 = max 1/std) and soundness (no input gradient or pair of inputs of normalized random networks exceeds
 * the bound).
 */
@ExtendWith(OneThread.class)
class NormalizedBoundTest {
    @Test
    void normalizationScalesByTheLargestInverseStd() {
        try (Scope s = Scope.open()) {
            Linear id = new Linear(2, 2, false);
            NetworkBoundTest.set(id, new double[]{1, 0, 0, 1}, 2, 2);
            Sequential f = new Sequential(new Normalize(new Normalize.Stats(new double[]{0.1, 0.9}, new double[]{0.5, 0.25})), id);
            NetworkBound b = NetworkBound.of(f, new long[]{2}, 20);
            assertThat(b.total()).isCloseTo(4, within(1e-6)).isGreaterThanOrEqualTo(4);
            assertThat(b.body()).isEqualTo(4);
            assertThat(b.layers().get(0).kind()).startsWith("Normalize(");
            assertThat(b.layers().get(0).upper()).isEqualTo(4);
            // attained: moving the second coordinate by δ moves the output by 4δ
            try (Autograd.Guard g = Autograd.noGrad()) {
                Tensor x = Tensor.fromDoubles(new double[]{0.2, 0.3}, 1, 2).to(DType.FLOAT32);
                Tensor y = Tensor.fromDoubles(new double[]{0.2, 0.55}, 1, 2).to(DType.FLOAT32);
                assertThat(f.forward(y).sub(f.forward(x)).norm(2).item() / 0.25).isCloseTo(4, within(1e-5));
            }
        }
    }

    /** ‖∇(z_c − z_j)‖ ≤ L_cj and ‖Δz‖ ≤ L‖Δx‖ for normalized mlp, cnn, resnet and farkas-resnet. */
    @Test
    void boundHoldsOnNormalizedNetworks() {
        Normalize.Stats stats = new Normalize.Stats(new double[]{0.49, 0.48, 0.45}, new double[]{0.247, 0.2435, 0.2616});
        List<Long> img = List.of(3L, 8L, 8L);
        List<Module> models = List.of(
                Models.build(Models.spec("mlp", img, 3, Map.of("hidden", List.of(16), Models.NORMALIZE, stats))),
                Models.build(Models.spec("cnn", img, 4, Map.of(Models.NORMALIZE, stats))),
                Models.build(Models.spec("resnet", img, 4, Map.of("depth", 8, "width", 4, Models.NORMALIZE, stats))),
                Models.build(Models.spec("farkas-resnet", img, 4, Map.of("depth", 8, "width", 4, Models.NORMALIZE, stats))));
        Rng.seed(9);
        long[] shape = {3, 8, 8};
        for (Module m : models) {
            try (Scope s = Scope.open()) {
                m.train(true);
                try (Autograd.Guard g = Autograd.noGrad()) { m.forward(Tensor.rand(16, 3, 8, 8)); }
                m.train(false);
                m.to(DType.FLOAT64);
                NetworkBound b = NetworkBound.of(m, shape, 0);
                assertThat(b.pairwise()).as(m.describe()).isTrue();
                // the normalization's factor, max 1/std of the float32 buffer, recorded as the first layer
                assertThat(((Sequential) m).layers().get(0)).isInstanceOf(Normalize.class);
                assertThat(b.layers().get(0).upper()).as(m.describe()).isEqualTo(1 / (double) 0.2435f);
                NetworkBoundTest.assertSound(m, b, shape, 8, 0.05);
            }
        }
    }
}

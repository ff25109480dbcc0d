package dev.tikhon.lipschitz;

import dev.tikhon.UserError;
import dev.tikhon.engine.Autograd;
import dev.tikhon.engine.DType;
import dev.tikhon.engine.Device;
import dev.tikhon.engine.OneThread;
import dev.tikhon.engine.Rng;
import dev.tikhon.engine.Scope;
import dev.tikhon.engine.Tensor;
import dev.tikhon.nn.Activation;
import dev.tikhon.nn.Linear;
import dev.tikhon.nn.Module;
import dev.tikhon.nn.Pool;
import dev.tikhon.nn.Sequential;
import dev.tikhon.models.Models;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

/**
 * Oracles: closed forms (a linear classifier's radius is its exact distance to the decision boundary; |x₁ + x₂| has
 * layer-product bound 2√2 and true constant √2) and soundness (no pair of inputs, no input gradient of a random
 * mlp, cnn, resnet with and without batch norm, or Farkas network exceeds the bound).
 */
@ExtendWith(OneThread.class)
class NetworkBoundTest {

    static void set(Linear l, double[] w, int out, int in) {
        try (Autograd.Guard g = Autograd.noGrad()) {
            l.weight().value().copy_(Tensor.fromDoubles(w, out, in));
            if (l.bias() != null) l.bias().value().zero_();
        }
    }

    @Test void linearClassifierRadiusIsTheDistanceToTheBoundary() {
        try (Scope s = Scope.open()) {
            Linear lin = new Linear(2, 2, false);
            set(lin, new double[]{3, 4, 0, 0}, 2, 2);
            Sequential model = new Sequential(lin);
            List<LipschitzCertifier.Result> r = new LipschitzCertifier(dev.tikhon.attack.Norm.L2)
                    .certifyBatch(model, Tensor.fromDoubles(new double[]{1, 1}, 1, 2).to(DType.FLOAT32));
            assertThat(r.get(0).prediction()).isEqualTo(0);
            assertThat(r.get(0).margin()).isCloseTo(7, within(1e-9));
            assertThat(r.get(0).radius()).isCloseTo(1.4, within(1e-8)).isLessThanOrEqualTo(1.4);
            NetworkBound b = NetworkBound.of(model, new long[]{2}, 0);
            assertThat(b.total()).isCloseTo(5, within(1e-7));
            // the global form √2·L is looser: 7 / (√2·5)
            assertThat(7 / (Math.sqrt(2) * b.total())).isCloseTo(0.98995, within(1e-5));
        }
    }

    /** Random linear classifiers: r equals min_j (z_c − z_j)/‖w_c − w_j‖, and 1.001·r along the closest normal flips the class. */
    @Test void linearRadiusIsExactAndTight() {
        Rng.seed(11);
        try (Scope s = Scope.open()) {
            Linear lin = new Linear(5, 4);
            Sequential model = new Sequential(lin);
            model.to(DType.FLOAT64);
            Tensor xs = Tensor.randn(DType.FLOAT64, Device.CPU, 20, 5);
            List<LipschitzCertifier.Result> rs = new LipschitzCertifier(dev.tikhon.attack.Norm.L2).certifyBatch(model, xs);
            double[] w = lin.weight().value().detach().contiguous().toDoubleArray();
            for (int i = 0; i < 20; i++) {
                Tensor x = xs.select(0, i);
                double[] z;
                try (Autograd.Guard g = Autograd.noGrad()) { z = model.forward(x.unsqueeze(0)).select(0, 0).toDoubleArray(); }
                int c = rs.get(i).prediction();
                double best = Double.POSITIVE_INFINITY;
                int arg = -1;
                for (int j = 0; j < 4; j++) {
                    if (j == c) continue;
                    double n2 = 0;
                    for (int t = 0; t < 5; t++) n2 += Math.pow(w[c * 5 + t] - w[j * 5 + t], 2);
                    double d = (z[c] - z[j]) / Math.sqrt(n2);
                    if (d < best) { best = d; arg = j; }
                }
                assertThat(rs.get(i).radius()).isCloseTo(best, within(1e-9 * Math.max(1, best)));
                double[] dir = new double[5];
                double norm = 0;
                for (int t = 0; t < 5; t++) { dir[t] = w[arg * 5 + t] - w[c * 5 + t]; norm += dir[t] * dir[t]; }
                Tensor step = Tensor.fromDoubles(dir, 5).mul(1.001 * best / Math.sqrt(norm));
                try (Autograd.Guard g = Autograd.noGrad()) {
                    assertThat(model.forward(x.add(step).unsqueeze(0)).argmax(1).itemLong()).isNotEqualTo(c);
                }
            }
        }
    }

    /** f(x) = ReLU(x₁ + x₂) + ReLU(−x₁ − x₂) = |x₁ + x₂|: the layer product is ‖[[1,1],[−1,−1]]‖·‖[1,1]‖ = 2·√2. */
    @Test void absoluteValueNetworkGetsTwoRootTwo() {
        try (Scope s = Scope.open()) {
            Linear first = new Linear(2, 2, false), second = new Linear(2, 1, false);
            set(first, new double[]{1, 1, -1, -1}, 2, 2);
            set(second, new double[]{1, 1}, 1, 2);
            Sequential f = new Sequential(first, Activation.relu(), second);
            NetworkBound b = NetworkBound.of(f, new long[]{2}, 30);
            assertThat(b.total()).isCloseTo(2 * Math.sqrt(2), within(1e-7)).isGreaterThanOrEqualTo(2 * Math.sqrt(2));
            assertThat(b.body()).isCloseTo(2, within(1e-8));
            // the true constant √2: the gradient (±1, ±1) everywhere off the line x₁ + x₂ = 0
            Tensor x = Tensor.fromDoubles(new double[]{0.3, 0.5}, 1, 2).to(DType.FLOAT32).requiresGrad(true);
            Tensor g = Autograd.grad(f.forward(x).sum(), x, false);
            assertThat(g.norm(2).item()).isCloseTo(Math.sqrt(2), within(1e-6)).isLessThan(b.total());
            for (NetworkBound.Layer l : b.layers()) assertThat(l.lower()).isLessThanOrEqualTo(l.upper());
        }
    }

    /** ‖(z_c − z_j)(x) − (z_c − z_j)(y)‖ ≤ L_cj‖x − y‖ and ‖∇(z_c − z_j)‖ ≤ L_cj on random inputs of random networks. */
    @Test void boundHoldsOnRandomNetworks() {
        long[] img = {1, 8, 8};
        List<Module> models = List.of(
                Models.build(Models.spec("mlp", List.of(2L), 3, Map.of("hidden", List.of(16, 16)))),
                Models.build(Models.spec("cnn", List.of(1L, 8L, 8L), 4, Map.of())),
                Models.build(Models.spec("resnet", List.of(1L, 8L, 8L), 4, Map.of("depth", 8, "width", 4))),
                Models.build(Models.spec("resnet", List.of(1L, 8L, 8L), 4, Map.of("depth", 8, "width", 4, "batch_norm", false))),
                Models.build(Models.spec("farkas-resnet", List.of(1L, 8L, 8L), 4, Map.of("depth", 8, "width", 4))),
                new Sequential(Pool.flatten(), new Linear(64, 8), Activation.parse("sigmoid"), new Linear(8, 3)));
        Rng.seed(5);
        for (Module m : models) {
            try (Scope s = Scope.open()) {
                long[] shape = m == models.get(0) ? new long[]{2} : img;
                // batch statistics away from (0, 1), so that folding the batch norms matters
                m.train(true);
                try (Autograd.Guard g = Autograd.noGrad()) { m.forward(Tensor.rand(prepend(16, shape)).mul(3)); }
                m.train(false);
                m.to(DType.FLOAT64);
                assertSound(m, NetworkBound.of(m, shape, 0), shape, 32, 0.1);
            }
        }
    }

    /**
     * On n random float64 inputs of {@code shape}: no margin gradient ‖∇(z_c − z_j)‖ exceeds L_cj, and no pair x, x + δ
     * (δ Gaussian of scale {@code step}) has ‖Δz‖/‖Δx‖ above the bound of the whole logit map.
     */
    static void assertSound(Module m, NetworkBound b, long[] shape, int n, double step) {
        Tensor x = Tensor.rand(DType.FLOAT64, Device.CPU, prepend(n, shape)).requiresGrad(true);
        Tensor z = m.forward(x);
        int k = (int) z.size(1);
        for (int c = 0; c < k; c++) {
            double[] l = b.pairwise(c, k);
            for (int j = 0; j < k; j++) {
                if (j == c) continue;
                Tensor margin = z.select(1, c).sub(z.select(1, j));
                Tensor grad = Autograd.grad(margin.sum(), x, false).flatten(1, -1).norm(2, new long[]{1}, false);
                assertThat(grad.max().item()).as("%s: gradient of z%d − z%d", m.describe(), c, j).isLessThanOrEqualTo(l[j]);
            }
        }
        try (Autograd.Guard g = Autograd.noGrad()) {
            Tensor y = x.detach().add(Tensor.randn(DType.FLOAT64, Device.CPU, prepend(n, shape)).mul(step));
            Tensor dz = m.forward(y).sub(z.detach());
            Tensor dx = y.sub(x.detach()).flatten(1, -1).norm(2, new long[]{1}, false);
            double ratio = dz.norm(2, new long[]{1}, false).div(dx).max().item();
            assertThat(ratio).as(m.describe()).isLessThanOrEqualTo(b.total());
        }
    }

    @Test void aModuleWithoutARuleIsAUserError() {
        Module custom = new Module() {
            @Override public Tensor forward(Tensor x) { return x.mul(x); }

            @Override public String describe() { return "Square"; }
        };
        assertThatThrownBy(() -> NetworkBound.of(new Sequential(custom, new Linear(2, 2)), new long[]{2}, 0))
                .isInstanceOf(UserError.class).hasMessageContaining("Square").hasMessageContaining("no composition rule");
    }

    static long[] prepend(long n, long[] shape) {
        long[] out = new long[shape.length + 1];
        out[0] = n;
        System.arraycopy(shape, 0, out, 1, shape.length);
        return out;
    }
}

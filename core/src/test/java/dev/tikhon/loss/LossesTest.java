package dev.tikhon.loss;

import dev.tikhon.engine.Autograd;
import dev.tikhon.engine.DType;
import dev.tikhon.engine.Device;
import dev.tikhon.engine.Rng;
import dev.tikhon.engine.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.List;
import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

/** Oracles: central finite differences in float64, closed-form values, the stated Lipschitz bounds. */
class LossesTest {
    private static final int N = 12, K = 5;
    private static final List<String> ALL = List.of("cross-entropy", "hinge", "logistic", "squared", "cw", "cw:2",
            "smoothed-kl", "smoothed-kl:0.3");

    private static Tensor labels(long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        long[] y = new long[N];
        for (int i = 0; i < N; i++) y[i] = r.nextInt(K);
        return Tensor.fromLongs(y, N);
    }

    @ParameterizedTest
    @ValueSource(strings = {"cross-entropy", "hinge", "logistic", "squared", "cw", "cw:2", "smoothed-kl", "smoothed-kl:0.3"})
    void gradientMatchesCentralFiniteDifferences(String name) {
        Loss loss = Losses.parse(name);
        Rng.seed(name.hashCode());
        Tensor z = Tensor.randn(DType.FLOAT64, Device.CPU, N, K).mul(2);
        Tensor y = labels(name.hashCode());
        Tensor w = Tensor.rand(DType.FLOAT64, Device.CPU, N).add(0.5);   // weights so that every example counts differently
        Tensor leaf = z.copy().requiresGrad(true);
        double[] g = Autograd.grad(loss.perExample(leaf, y).mul(w).sum(), leaf, false).toDoubleArray();
        double[] zv = z.toDoubleArray();
        double h = 1e-6, worst = 0, norm = 0;
        for (int i = 0; i < zv.length; i++) {
            double[] p = zv.clone(), m = zv.clone();
            p[i] += h;
            m[i] -= h;
            double fp = loss.perExample(Tensor.fromDoubles(p, N, K), y).mul(w).sum().item();
            double fm = loss.perExample(Tensor.fromDoubles(m, N, K), y).mul(w).sum().item();
            double fd = (fp - fm) / (2 * h);
            worst = Math.max(worst, Math.abs(fd - g[i]));
            norm += g[i] * g[i];
        }
        assertThat(Math.sqrt(norm)).as("a gradient that is not identically zero").isGreaterThan(0.1);
        assertThat(worst).as(name + ": max |autograd − finite difference|").isLessThan(1e-7);
    }

    @Test
    void closedFormValuesAtZeroLogits() {
        Tensor z = Tensor.zeros(DType.FLOAT64, Device.CPU, 3, K), y = Tensor.fromLongs(new long[]{0, 2, 4}, 3);
        assertThat(Losses.parse("cross-entropy").perExample(z, y).toDoubleArray()).containsOnly(Math.log(K));
        assertThat(Losses.parse("hinge").perExample(z, y).toDoubleArray()).containsOnly(1.0);
        assertThat(Losses.parse("logistic").perExample(z, y).toDoubleArray()[0]).isCloseTo(K * Math.log(2), within(1e-12));
        assertThat(Losses.parse("squared").perExample(z, y).toDoubleArray()).containsOnly(0.5);
        assertThat(Losses.parse("cw").perExample(z, y).toDoubleArray()).containsOnly(0.0);
        // KL(ỹ‖softmax(z)) vanishes exactly at z = log ỹ
        double eps = 0.1;
        double[] target = new double[K];
        for (int j = 0; j < K; j++) target[j] = Math.log((j == 1 ? 1 - eps : 0) + eps / K);
        Tensor atTarget = Tensor.fromDoubles(target, 1, K);
        assertThat(Losses.parse("smoothed-kl").perExample(atTarget, Tensor.fromLongs(new long[]{1}, 1)).item()).isCloseTo(0, within(1e-14));
        // CW: a margin beyond κ is flat at −κ
        Tensor confident = Tensor.fromDoubles(new double[]{10, 0, 0, 0, 0}, 1, K);
        assertThat(Losses.parse("cw:2").perExample(confident, Tensor.fromLongs(new long[]{0}, 1)).item()).isEqualTo(-2.0);
        assertThat(Losses.parse("hinge").perExample(confident, Tensor.fromLongs(new long[]{0}, 1)).item()).isEqualTo(0.0);
    }

    /**
     * Values and gradients at logits away from zero (where a flipped sign or a wrong label would show), against
     * PyTorch 1.13 in float64: cross_entropy, binary_cross_entropy_with_logits summed over classes (logistic),
     * kl_div(log_softmax z, 0.9 e_y + 0.1/3) (smoothed-kl), and the hinge, squared and CW formulas written out in
     * torch with autograd. z = [[2, −1, 0.5], [0.3, 0.1, −2]], y = [0, 2].
     */
    @Test
    void valuesAndGradientsMatchPyTorchAwayFromZero() {
        Object[][] cases = {
                {"cross-entropy", new double[]{0.24131129665715703, 2.951798795854425},
                        new double[]{-0.21440296541072412, 0.03911257327068745, 0.1752903921400367, 0.5211075670587973, 0.42664679081268414, -0.9477543578714815}},
                {"hinge", new double[]{0.0, 3.3}, new double[]{0, 0, 0, 1, 0, -1}},
                {"logistic", new double[]{1.4142666827413022, 3.7256799155850704},
                        new double[]{-0.11920292202211769, 0.2689414213699951, 0.6224593312018546, 0.574442516811659, 0.52497918747894, -0.8807970779778824}},
                {"squared", new double[]{1.125, 4.55}, new double[]{1, -1, 0.5, 0.3, 0.1, -3}},
                {"cw", new double[]{0.0, 2.3}, new double[]{0, 0, 0, 1, 0, -1}},
                {"cw:5", new double[]{-1.5, 2.3}, new double[]{-1, 0, 1, 1, 0, -1}},
                {"smoothed-kl", new double[]{0.10017145782519199, 2.5139922903557936},
                        new double[]{-0.14773629874405747, 0.0057792399373541165, 0.14195705880670337, 0.487774233725464, 0.3933134574793508, -0.8810876912048149}},
        };
        Tensor y = Tensor.fromLongs(new long[]{0, 2}, 2);
        for (Object[] c : cases) {
            String name = (String) c[0];
            Tensor z = Tensor.fromDoubles(new double[]{2, -1, 0.5, 0.3, 0.1, -2}, 2, 3).requiresGrad(true);
            Tensor v = Losses.parse(name).perExample(z, y);
            double[] values = v.toDoubleArray(), grad = Autograd.grad(v.sum(), z, false).toDoubleArray();
            double[] wantValues = (double[]) c[1], wantGrad = (double[]) c[2];
            for (int i = 0; i < 2; i++) assertThat(values[i]).as("%s value %d", name, i).isCloseTo(wantValues[i], within(1e-12));
            for (int i = 0; i < 6; i++) assertThat(grad[i]).as("%s gradient %d", name, i).isCloseTo(wantGrad[i], within(1e-12));
        }
    }

    /** ‖∇_z ℓ‖₂ never exceeds the stated Lipschitz constant, at logits of every scale. */
    @Test
    void gradientNormsRespectTheStatedLipschitzConstants() {
        Rng.seed(5);
        for (String name : ALL) {
            Loss loss = Losses.parse(name);
            double bound = loss.lipschitz(K);
            if (Double.isInfinite(bound)) continue;
            double seen = 0;
            for (double scale : new double[]{0.1, 1, 10, 100}) {
                Tensor z = Tensor.randn(DType.FLOAT64, Device.CPU, 200, K).mul(scale).requiresGrad(true);
                Tensor y = Tensor.randint(K, Device.CPU, 200);
                Tensor g = Autograd.grad(loss.perExample(z, y).sum(), z, false);
                seen = Math.max(seen, g.normPerExample(2).max().item());
            }
            assertThat(seen).as(name).isLessThanOrEqualTo(bound + 1e-12).isGreaterThan(0.5 * bound / Math.sqrt(K));
        }
        assertThat(Losses.parse("squared").lipschitz(K)).isInfinite();
    }

    @Test
    void namesRoundTripAndBadNamesAreClearErrors() {
        for (String name : ALL) assertThat(Losses.parse(Losses.parse(name).name()).name()).isEqualTo(Losses.parse(name).name());
        assertThat(Losses.canonical("ce")).isEqualTo("cross-entropy");
        assertThatThrownBy(() -> Losses.parse("hingee")).hasMessageContaining("unknown --loss");
        assertThatThrownBy(() -> Losses.parse("smoothed-kl:2")).hasMessageContaining("0 < ε < 1");
        assertThatThrownBy(() -> Losses.parse("hinge:1")).hasMessageContaining("no parameter");
    }
}

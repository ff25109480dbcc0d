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

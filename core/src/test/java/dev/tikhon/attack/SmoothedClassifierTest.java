package dev.tikhon.attack;

import dev.tikhon.engine.DType;
import dev.tikhon.engine.Device;
import dev.tikhon.engine.Rng;
import dev.tikhon.engine.Tensor;
import dev.tikhon.nn.Module;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

/**
 * Oracle: the closed form of a Gaussian average. A base model that is a (nearly) hard step at x₀ = 0 has the soft smoothed
 * class probability Φ(x₀/σ) for class 1; the module's output must be the log of that Monte Carlo average, per row.
 */
class SmoothedClassifierTest {
    /** logits (0, 1000 x₀): class 1 where x₀ > 0, a step the softmax makes sharp. */
    private static final Module STEP = new Module() {
        @Override public Tensor forward(Tensor x) {
            Tensor z = x.narrow(1, 0, 1).mul(1000);
            return Tensor.cat(java.util.List.of(z.zerosLike(), z), 1);
        }
    };

    private static double phi(double z) {
        return dev.tikhon.certify.ClopperPearson.normalCdf(z);
    }

    @Test
    void outputIsTheLogOfTheMonteCarloAverageOfSoftmaxUnderNoise() {
        double sigma = 0.2;
        Rng.seed(2);
        Tensor x = Tensor.fromDoubles(new double[]{0.1, 0.5, -0.2, 0.5, 0.6, 0.5}, 3, 2);
        Tensor out = new SmoothedClassifier(STEP, sigma, 20000).forward(x);
        assertThat(out.shape()).containsExactly(3, 2);
        double[] p = out.exp().toDoubleArray();
        double[] x0 = {0.1, -0.2, 0.6};
        for (int i = 0; i < 3; i++) {
            assertThat(p[2 * i + 1]).as("row %d", i).isCloseTo(phi(x0[i] / sigma), within(0.015));
            assertThat(p[2 * i] + p[2 * i + 1]).isCloseTo(1, within(1e-9));
        }
        // probabilities are clamped at 1e-12 before the log: a class never seen has log 1e-12, not −∞
        Tensor far = new SmoothedClassifier(STEP, 0.01, 10).forward(Tensor.fromDoubles(new double[]{0.9, 0}, 1, 2));
        assertThat(far.toDoubleArray()[0]).isCloseTo(Math.log(1e-12), within(1e-6));
        assertThat(far.toDoubleArray()[1]).isCloseTo(0, within(1e-9));
    }

    @Test
    void settingsAreCheckedAndTheModeReachesTheBase() {
        assertThatThrownBy(() -> new SmoothedClassifier(STEP, 0, 10)).hasMessageContaining("σ must be positive");
        assertThatThrownBy(() -> new SmoothedClassifier(STEP, Double.NaN, 10)).hasMessageContaining("σ must be positive");
        assertThatThrownBy(() -> new SmoothedClassifier(STEP, 0.1, 0)).hasMessageContaining("samples must be ≥ 1");
        Module base = new Module() {
            @Override public Tensor forward(Tensor x) { return x; }
        };
        SmoothedClassifier s = new SmoothedClassifier(base, 0.25, 8);
        assertThat(s.train(false)).isSameAs(s);
        assertThat(base.isTraining()).isFalse();
        assertThat(s.isTraining()).isFalse();
        s.train(true);
        assertThat(base.isTraining()).isTrue();
        assertThat(s.describe()).startsWith("smoothed(").endsWith(", σ 0.25, 8 samples)");
        assertThat(new SmoothedClassifier(base, 0.25, 1).forward(Tensor.zeros(DType.FLOAT64, Device.CPU, 4, 3)).shape()).containsExactly(4, 3);
    }
}

package dev.tikhon.attack;

import dev.tikhon.attack.LinearKnownAnswersTest.LinearModel;
import dev.tikhon.engine.DType;
import dev.tikhon.engine.Device;
import dev.tikhon.engine.Rng;
import dev.tikhon.engine.Tensor;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Oracle: transfer between two-class linear models (float64, points in the middle of the box, which never binds). PGD's
 * cross-entropy gradient on a source f_s is a positive multiple of w_s,o − w_s,y, so its ℓ∞ last iterate is the vertex
 * x + ε·sign(w_s,o − w_s,y) of the ball; the transfer succeeds exactly where the target misclassifies that vertex.
 */
class TransferTest {
    static final int D = 20, N = 40;
    static final double EPS = 0.03;

    static AttackRegistry.Settings linf(double eps) {
        return AttackRegistry.Settings.evaluation(Norm.LINF, eps, 20, 1, 1, 100, 100, Pgd.StepSchedule.CONSTANT, 2);
    }

    @Test
    void pgdTransferLandsOnTheSourcesVertexAndCountsWhereTheTargetMisclassifiesIt() {
        Rng.seed(5);
        Tensor x = Tensor.rand(DType.FLOAT64, Device.CPU, N, D).mul(0.2).add(0.4);
        Tensor ws = Tensor.randn(DType.FLOAT64, Device.CPU, 2, D);
        Tensor wt = ws.add(Tensor.randn(DType.FLOAT64, Device.CPU, 2, D));
        // Biases that put the decision boundaries through the box's centre: margins of the order of ε's effect.
        LinearModel source = new LinearModel(ws, ws.sum(1, false).mul(-0.5));
        LinearModel target = new LinearModel(wt, wt.sum(1, false).mul(-0.5).add(Tensor.randn(DType.FLOAT64, Device.CPU, 2).mul(0.1)));
        Tensor y = target.forward(x).argmax(1);   // every point correct on the target

        Attack.Result r = Transfer.of(source, "src", "pgd", linf(EPS), 0).attack(target, x, y);

        double[] w = ws.toDoubleArray(), xs = x.toDoubleArray(), adv = r.adversarial().toDoubleArray();
        long[] labels = y.toLongArray();
        int fooled = 0;
        for (int i = 0; i < N; i++) {
            int c = (int) labels[i], o = 1 - c;
            double[] vertex = new double[D];
            for (int k = 0; k < D; k++) vertex[k] = xs[i * D + k] + EPS * Math.signum(w[o * D + k] - w[c * D + k]);
            double[] z = target.forward(Tensor.fromDoubles(vertex, 1, D)).toDoubleArray();
            boolean expected = z[o] > z[c];
            assertThat(r.success()[i]).as("point %d", i).isEqualTo(expected);
            for (int k = 0; k < D; k++) {
                assertThat(adv[i * D + k]).as("point %d, coordinate %d", i, k).isCloseTo(expected ? vertex[k] : xs[i * D + k],
                        org.assertj.core.api.Assertions.within(1e-12));
            }
            if (expected) {
                fooled++;
                assertThat(r.distance()[i]).isCloseTo(EPS, org.assertj.core.api.Assertions.within(1e-12));
            } else {
                assertThat(r.distance()[i]).isInfinite();
            }
        }
        assertThat(fooled).as("the case is not trivial").isBetween(3, N - 3);
    }

    /** From the model itself, the transfer is white-box PGD: it breaks exactly the points whose ℓ∞ distance is ≤ ε. */
    @Test
    void fromTheModelItselfItBreaksExactlyThePointsWithinEps() {
        LinearKnownAnswersTest.setUp();
        LinearModel m = LinearKnownAnswersTest.binary;
        double eps = median(LinearKnownAnswersTest.exactLinfBinary);
        Attack.Result r = Transfer.of(m, "self", "pgd", linf(eps), 0).attack(m, LinearKnownAnswersTest.x, LinearKnownAnswersTest.yBinary);
        for (int i = 0; i < r.success().length; i++) {
            double d = LinearKnownAnswersTest.exactLinfBinary[i];
            if (Math.abs(d - eps) < 1e-9) continue;   // the median point itself sits on the boundary
            assertThat(r.success()[i]).as("point %d at distance %.5f, ε %.5f", i, d, eps).isEqualTo(d < eps);
        }
    }

    private static double median(double[] v) {
        double[] s = v.clone();
        java.util.Arrays.sort(s);
        return s[s.length / 2];
    }

    /** The source is attacked in evaluation mode and left in the mode it was in; the target only runs forward. */
    @Test
    void theSourceRunsInEvaluationModeAndKeepsItsMode() {
        Rng.seed(6);
        List<Boolean> seen = new ArrayList<>();
        LinearModel inner = new LinearModel(Tensor.randn(DType.FLOAT64, Device.CPU, 2, D), Tensor.zeros(DType.FLOAT64, Device.CPU, 2));
        dev.tikhon.nn.Module source = new dev.tikhon.nn.Module() {
            @Override public Tensor forward(Tensor x) {
                seen.add(isTraining());
                return inner.forward(x);
            }
        };
        source.train(true);
        Tensor x = Tensor.rand(DType.FLOAT64, Device.CPU, 8, D);
        Transfer.of(source, "src", "fgsm", linf(0.1), 0).attack(inner, x, inner.forward(x).argmax(1));
        assertThat(seen).isNotEmpty().containsOnly(false);
        assertThat(source.isTraining()).isTrue();
    }

    @Test
    void namesAndClearErrors() {
        LinearModel m = new LinearModel(Tensor.randn(DType.FLOAT64, Device.CPU, 2, D), Tensor.zeros(DType.FLOAT64, Device.CPU, 2));
        AttackRegistry.Settings l2 = AttackRegistry.Settings.evaluation(Norm.L2, 1, 100, 1, 1, 100, 100, Pgd.StepSchedule.CONSTANT, 2);
        assertThat(Transfer.of(m, "run,1", "pgd", linf(0.1), 0).name()).isEqualTo("transfer-pgd:run_1");
        assertThat(Transfer.of(m, "src", "cw", l2, 20).name()).isEqualTo("transfer-cw-k20:src");
        assertThat(Transfer.of(m, "src", "apgd-ce", linf(0.1), 0).norm()).isEqualTo(Norm.LINF);
        assertThatThrownBy(() -> Transfer.of(m, "src", "pgd", linf(0.1), 5)).hasMessageContaining("Carlini–Wagner");
        assertThatThrownBy(() -> Transfer.of(m, "src", "pgd", linf(0.1), -1)).hasMessageContaining("≥ 0");
        assertThatThrownBy(() -> Transfer.of(m, "src", "nope", linf(0.1), 0)).hasMessageContaining("unknown attack");
    }

    /** The fused source: log of the mean softmax, by hand; with one model it is that model's log-softmax; modes pass through. */
    @Test
    void meanOfModelsIsTheLogOfTheMeanSoftmax() {
        Rng.seed(8);
        LinearModel a = new LinearModel(Tensor.randn(DType.FLOAT64, Device.CPU, 3, D), Tensor.randn(DType.FLOAT64, Device.CPU, 3));
        LinearModel b = new LinearModel(Tensor.randn(DType.FLOAT64, Device.CPU, 3, D), Tensor.randn(DType.FLOAT64, Device.CPU, 3));
        Tensor x = Tensor.rand(DType.FLOAT64, Device.CPU, 5, D);
        double[] za = a.forward(x).toDoubleArray(), zb = b.forward(x).toDoubleArray();
        double[] out = new MeanOfModels(List.of(a, b)).forward(x).toDoubleArray();
        for (int i = 0; i < 5; i++) {
            double[] pa = softmax(za, i), pb = softmax(zb, i);
            for (int k = 0; k < 3; k++) {
                assertThat(out[i * 3 + k]).isCloseTo(Math.log((pa[k] + pb[k]) / 2), org.assertj.core.api.Assertions.within(1e-12));
            }
        }
        double[] one = new MeanOfModels(List.of(a)).forward(x).toDoubleArray(), logSoftmax = a.forward(x).logSoftmax(1).toDoubleArray();
        for (int j = 0; j < one.length; j++) assertThat(one[j]).isCloseTo(logSoftmax[j], org.assertj.core.api.Assertions.within(1e-12));
        MeanOfModels both = new MeanOfModels(List.of(a, b));
        both.train(true);
        assertThat(a.isTraining() && b.isTraining()).isTrue();
        both.train(false);
        assertThat(a.isTraining() || b.isTraining()).isFalse();
        assertThatThrownBy(() -> new MeanOfModels(List.of())).hasMessageContaining("at least one model");
    }

    private static double[] softmax(double[] z, int row) {
        double max = Math.max(z[row * 3], Math.max(z[row * 3 + 1], z[row * 3 + 2]));
        double[] p = new double[3];
        double sum = 0;
        for (int k = 0; k < 3; k++) sum += p[k] = Math.exp(z[row * 3 + k] - max);
        for (int k = 0; k < 3; k++) p[k] /= sum;
        return p;
    }

    /** Carlini–Wagner's κ: the crafted points reach the margin κ on the source, so they fool a target that agrees with it. */
    @Test
    void carliniWagnerWithConfidenceCraftsPointsWithTheSourcesMargin() {
        LinearKnownAnswersTest.setUp();
        LinearModel m = LinearKnownAnswersTest.binary;
        Tensor x = LinearKnownAnswersTest.x, y = LinearKnownAnswersTest.yBinary;
        double kappa = 0.5;
        AttackRegistry.Settings l2 = AttackRegistry.Settings.evaluation(Norm.L2, 10, 300, 1, 1, 100, 100, Pgd.StepSchedule.CONSTANT, 2);
        Attack.Result r = Transfer.of(m, "self", "cw", l2, kappa).attack(m, x, y);
        double[] z = m.forward(r.adversarial()).toDoubleArray();
        long[] labels = y.toLongArray();
        for (int i = 0; i < labels.length; i++) {
            assertThat(r.success()[i]).as("point %d", i).isTrue();
            int c = (int) labels[i];
            assertThat(z[2 * i + 1 - c] - z[2 * i + c]).as("source margin of point %d", i).isGreaterThanOrEqualTo(kappa - 1e-9);
        }
    }
}

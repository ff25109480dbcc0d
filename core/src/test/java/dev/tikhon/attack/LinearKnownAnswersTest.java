package dev.tikhon.attack;

import dev.tikhon.engine.DType;
import dev.tikhon.engine.Device;
import dev.tikhon.engine.Rng;
import dev.tikhon.engine.Tensor;
import dev.tikhon.nn.Module;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Oracle: closed-form adversarial distances of linear classifiers f(x) = Wx + b (float64).
 * ℓ2: d* = min_{j≠y} (z_y − z_j) / ‖w_y − w_j‖₂. ℓ∞, two classes: d* = |z₁ − z₀| / ‖w₁ − w₀‖₁, which FGSM attains exactly.
 * Points sit in the middle of the box and distances are small, so the [0, 1] box never binds.
 */
class LinearKnownAnswersTest {
    static final int D = 20, N = 24;

    static final class LinearModel extends Module {
        final Tensor w, b;   // w: [K, D]
        LinearModel(Tensor w, Tensor b) { this.w = w; this.b = b; }
        @Override public Tensor forward(Tensor x) { return x.matmul(w.t()).add(b); }
    }

    static LinearModel model;
    static Tensor x, y;
    static double[] exactL2;
    static LinearModel binary;
    static double[] exactLinfBinary;
    static Tensor yBinary;

    @BeforeAll
    static void setUp() {
        Rng.seed(7);
        x = Tensor.rand(DType.FLOAT64, Device.CPU, N, D).mul(0.2).add(0.4);
        model = new LinearModel(Tensor.randn(DType.FLOAT64, Device.CPU, 3, D), Tensor.randn(DType.FLOAT64, Device.CPU, 3).mul(0.1));
        y = model.forward(x).argmax(1);   // every point correctly classified by construction
        double[] w = model.w.toDoubleArray(), z = model.forward(x).toDoubleArray();
        long[] labels = y.toLongArray();
        exactL2 = new double[N];
        for (int i = 0; i < N; i++) {
            int c = (int) labels[i];
            double best = Double.POSITIVE_INFINITY;
            for (int j = 0; j < 3; j++) {
                if (j == c) continue;
                double norm = 0;
                for (int k = 0; k < D; k++) norm += Math.pow(w[c * D + k] - w[j * D + k], 2);
                best = Math.min(best, (z[i * 3 + c] - z[i * 3 + j]) / Math.sqrt(norm));
            }
            exactL2[i] = best;
        }
        binary = new LinearModel(model.w.narrow(0, 0, 2), model.b.narrow(0, 0, 2));
        yBinary = binary.forward(x).argmax(1);
        double[] zb = binary.forward(x).toDoubleArray();
        double l1 = 0;
        for (int k = 0; k < D; k++) l1 += Math.abs(w[k] - w[D + k]);
        exactLinfBinary = new double[N];
        for (int i = 0; i < N; i++) exactLinfBinary[i] = Math.abs(zb[2 * i + 1] - zb[2 * i]) / l1;
    }

    @Test
    void theBoxNeverBinds() {
        // The nearest boundary point x + d* u (u the unit normal of the nearest class boundary) must lie inside [0, 1].
        double[] w = model.w.toDoubleArray(), z = model.forward(x).toDoubleArray(), xs = x.toDoubleArray();
        long[] labels = y.toLongArray();
        for (int i = 0; i < N; i++) {
            int c = (int) labels[i];
            for (int j = 0; j < 3; j++) {
                if (j == c) continue;
                double norm = 0;
                for (int k = 0; k < D; k++) norm += Math.pow(w[j * D + k] - w[c * D + k], 2);
                norm = Math.sqrt(norm);
                double d = (z[i * 3 + c] - z[i * 3 + j]) / norm * 1.02;
                for (int k = 0; k < D; k++) assertThat(xs[i * D + k] + d * (w[j * D + k] - w[c * D + k]) / norm).isBetween(0.0, 1.0);
            }
            assertThat(exactL2[i]).isGreaterThan(1e-4);
        }
    }

    @Test
    void ddnFindsTheMinimumL2DistanceWithinOnePercent() {
        Rng.seed(1);
        Attack.Result r = new Ddn(300, 0.1, 0.05, 0.1, 20).attack(model, x, y);
        for (int i = 0; i < N; i++) {
            assertThat(r.success()[i]).as("point %d", i).isTrue();
            assertThat(r.distance()[i]).as("point %d: found %.6f, exact %.6f", i, r.distance()[i], exactL2[i])
                    .isGreaterThanOrEqualTo(exactL2[i] * (1 - 1e-9))   // nothing can beat the exact distance
                    .isLessThanOrEqualTo(exactL2[i] * 1.01);
        }
    }

    @Test
    void pgdL2SucceedsJustOutsideTheExactRadiusAndFailsJustInside() {
        for (int i = 0; i < N; i++) {
            Tensor xi = x.narrow(0, i, 1), yi = y.narrow(0, i, 1);
            Rng.seed(i);
            // Targeted at each other class in turn: the untargeted margin max_j (z_j − z_y) can climb towards the wrong class.
            // Step ε/4, cosine-decayed: Madry's 2.5ε/K turns a random start on the sphere towards the optimum only by a factor
            // 1/(1 + 2.5/K) per step, too slowly to land inside the 1% cap in 100 steps.
            double eps = exactL2[i] * 1.01;
            Pgd outside = new Pgd(Norm.L2, eps, 100, eps / 4, true, 1, Pgd.StepSchedule.COSINE, AttackLoss.MARGIN, 2);
            assertThat(outside.attack(model, xi, yi).success()[0]).as("point %d at 1.01 d*", i).isTrue();
            Pgd inside = outside.withEps(exactL2[i] * 0.99);
            assertThat(inside.attack(model, xi, yi).success()[0]).as("point %d at 0.99 d*", i).isFalse();
        }
    }

    @Test
    void apgdFindsTheBinaryBoundaryInBothNorms() {
        for (int i = 0; i < N; i++) {
            Tensor xi = x.narrow(0, i, 1), yi = yBinary.narrow(0, i, 1);
            double dL2 = binaryL2(i);
            Rng.seed(i);
            assertThat(new Apgd(Norm.L2, dL2 * 1.01, 50, AttackLoss.CE, 1).attack(binary, xi, yi).success()[0]).isTrue();
            assertThat(new Apgd(Norm.L2, dL2 * 0.99, 50, AttackLoss.CE, 1).attack(binary, xi, yi).success()[0]).isFalse();
            assertThat(new Apgd(Norm.LINF, exactLinfBinary[i] * 1.01, 50, AttackLoss.MARGIN, 1).attack(binary, xi, yi).success()[0]).isTrue();
            assertThat(new Apgd(Norm.LINF, exactLinfBinary[i] * 0.99, 50, AttackLoss.MARGIN, 1).attack(binary, xi, yi).success()[0]).isFalse();
        }
    }

    @Test
    void fgsmIsExactForALinearBinaryClassifierInLinf() {
        for (int i = 0; i < N; i++) {
            Tensor xi = x.narrow(0, i, 1), yi = yBinary.narrow(0, i, 1);
            Attack.Result hit = Pgd.fgsm(exactLinfBinary[i] * 1.01).attack(binary, xi, yi);
            assertThat(hit.success()[0]).as("point %d at 1.01 d∞*", i).isTrue();
            assertThat(hit.distance()[0]).isCloseTo(exactLinfBinary[i] * 1.01, org.assertj.core.data.Offset.offset(1e-12));
            assertThat(Pgd.fgsm(exactLinfBinary[i] * 0.99).attack(binary, xi, yi).success()[0]).as("point %d at 0.99 d∞*", i).isFalse();
        }
    }

    @Test
    void ensembleKeepsTheSmallestDistanceAndNamesTheAttack() {
        Rng.seed(3);
        double eps = 0.2;
        Ensemble e = Ensemble.standard(Norm.L2, eps, 3, 30, 1, 2, 100);
        Ensemble.Outcome o = e.run(model, x, y);
        for (int i = 0; i < N; i++) {
            boolean breakable = exactL2[i] <= eps * 0.999;
            if (exactL2[i] > eps) assertThat(o.result().success()[i]).as("point %d cannot be broken at ε", i).isFalse();
            if (breakable && exactL2[i] < eps * 0.95) assertThat(o.result().success()[i]).as("point %d", i).isTrue();
            if (o.result().success()[i]) {
                assertThat(o.foundBy()[i]).isIn("apgd-ce", "apgd-t-margin", "fab-t", "square");
                assertThat(o.result().distance()[i]).isBetween(exactL2[i] * (1 - 1e-9), eps * (1 + 1e-6));
            }
        }
    }

    private static double binaryL2(int i) {
        double[] w = binary.w.toDoubleArray(), z = binary.forward(x.narrow(0, i, 1)).toDoubleArray();
        double norm = 0;
        for (int k = 0; k < D; k++) norm += Math.pow(w[k] - w[D + k], 2);
        return Math.abs(z[1] - z[0]) / Math.sqrt(norm);
    }
}

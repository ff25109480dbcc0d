package dev.tikhon.attack;

import dev.tikhon.engine.DType;
import dev.tikhon.engine.Device;
import dev.tikhon.engine.Rng;
import dev.tikhon.engine.Tensor;
import dev.tikhon.nn.Module;
import dev.tikhon.models.Models;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.DoubleRange;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * FAB-T (ℓ∞, ℓ2) and Square-ℓ2 pass what the other attacks pass: what they return lies in the ε-ball and the
 * [0, 1] box and is misclassified where they claim success; on linear classifiers they succeed just above the
 * exact minimum distance d* within the box ({@link ExactLinearDistances}) and never below it. The fixture puts
 * a third of the pixels on the box's faces, so the box binds.
 */
class FabSquareL2Test {
    static final int N = 16, K = 4, H = 6, D = H * H;
    private static final Module MLP = mlp();

    static Module mlp() {
        Rng.seed(9);
        return Models.build(Models.spec("mlp", List.of(1L, 6L, 6L), 4, Map.of("hidden", List.of(12))));
    }

    /** z = W flatten(x) + b, float64. */
    static final class Linear extends Module {
        final Tensor w, b;
        Linear(Tensor w, Tensor b) { this.w = w; this.b = b; }
        @Override public Tensor forward(Tensor x) { return x.reshape(x.size(0), -1).matmul(w.t()).add(b); }
    }

    /** A linear model, correctly classified inputs (labels are its predictions), and the exact distances. */
    record Fixture(Linear model, Tensor x, Tensor y, double[] exactL2, double[] exactLinf) {
        static Fixture make(long seed) {
            Rng.seed(seed);
            Tensor x = Tensor.rand(DType.FLOAT64, Device.CPU, N, 1, H, H);
            x = Tensor.where(x.lt(1.0 / 6), x.mul(0), Tensor.where(x.gt(5.0 / 6), x.mul(0).add(1), x));
            Linear m = new Linear(Tensor.randn(DType.FLOAT64, Device.CPU, K, D).mul(0.3), Tensor.randn(DType.FLOAT64, Device.CPU, K).mul(0.5));
            Tensor y = m.forward(x).argmax(1);
            double[][] w = rows(m.w.toDoubleArray(), K, D), xs = rows(x.toDoubleArray(), N, D);
            double[] b = m.b.toDoubleArray();
            int[] labels = java.util.Arrays.stream(y.toLongArray()).mapToInt(l -> (int) l).toArray();
            return new Fixture(m, x, y, ExactLinearDistances.of(Norm.L2, w, b, xs, labels), ExactLinearDistances.of(Norm.LINF, w, b, xs, labels));
        }

        double[] exact(Norm norm) { return norm == Norm.L2 ? exactL2 : exactLinf; }
    }

    static double[][] rows(double[] flat, int n, int d) {
        double[][] r = new double[n][d];
        for (int i = 0; i < n; i++) System.arraycopy(flat, i * d, r[i], 0, d);
        return r;
    }

    @Property(tries = 30)
    void fabStaysInTheBallAndTheBox(@ForAll("norms") Norm norm, @ForAll @DoubleRange(min = 0.01, max = 2.0) double eps, @ForAll long seed) {
        Rng.seed(seed);
        Tensor x = faces(Tensor.rand(5, 1, 6, 6));
        Tensor y = Tensor.randint(4, Device.CPU, 5);
        checkBallBoxAndSuccess(new Fab(norm, eps, 8, 2, 2, 0.1, 1.05, 0.9), x, y, eps);
    }

    @Property(tries = 30)
    void squareL2StaysInTheBallAndTheBox(@ForAll @DoubleRange(min = 0.01, max = 3.0) double eps, @ForAll long seed) {
        Rng.seed(seed);
        Tensor x = faces(Tensor.rand(5, 1, 6, 6));
        Tensor y = Tensor.randint(4, Device.CPU, 5);
        checkBallBoxAndSuccess(new SquareL2(eps, 30, 0.8), x, y, eps);
    }

    private static void checkBallBoxAndSuccess(Attack attack, Tensor x, Tensor y, double eps) {
        Attack.Result r = attack.attack(MLP, x, y);
        Tensor delta = r.adversarial().sub(x);
        assertThat(delta.normPerExample(attack.norm().p()).max().item()).isLessThanOrEqualTo(eps * (1 + 1e-5) + 1e-6);
        assertThat(r.adversarial().min().item()).isGreaterThanOrEqualTo(0.0);
        assertThat(r.adversarial().max().item()).isLessThanOrEqualTo(1.0);
        boolean[] wrong = MLP.forward(r.adversarial()).argmax(1).ne(y).toBooleanArray();
        for (int i = 0; i < wrong.length; i++) if (r.success()[i]) assertThat(wrong[i]).as("claimed success %d is misclassified", i).isTrue();
    }

    private static Tensor faces(Tensor x) {
        return Tensor.where(x.lt(0.2), x.mul(0), Tensor.where(x.gt(0.8), x.mul(0).add(1), x));
    }

    @Test
    void theFixtureHasTheBoxBinding() {
        // Without the box, d* would be the unconstrained distance min_j c_j/‖v_j‖ (ℓ2) or c_j/‖v_j‖₁ (ℓ∞); with a third of
        // the pixels on faces the box must raise some of them, or the fixture would not test the box at all.
        Fixture f = Fixture.make(11);
        double[] free = unconstrainedLinf(f);
        int raised = 0;
        for (int i = 0; i < N; i++) {
            assertThat(f.exactLinf()[i]).isGreaterThanOrEqualTo(free[i] * (1 - 1e-12));
            if (f.exactLinf()[i] > free[i] * 1.001) raised++;
            assertThat(f.exactL2()[i]).isPositive().isFinite();
        }
        assertThat(raised).isGreaterThan(N / 2);
    }

    @Test
    void boxProjectionMatchesTheBisectionOracle() {
        // The attacks' sort-based projection onto hyperplane ∩ box against the oracle's bisection (ℓ2) and walk (ℓ∞).
        java.util.Random r = new java.util.Random(5);
        for (int t = 0; t < 260; t++) {
            // small points, and image-sized ones (784) whose step saturates only some coordinates
            int d = t < 200 ? 1 + r.nextInt(30) : 784;
            double[] p = new double[d], w = new double[d];
            for (int k = 0; k < d; k++) {
                p[k] = r.nextInt(4) == 0 ? r.nextInt(2) : r.nextDouble();
                w[k] = r.nextInt(5) == 0 ? 0 : r.nextGaussian();
            }
            // at 784, every other gap is large enough that the step saturates many coordinates (or cannot be reached)
            double scale = d == 784 && t % 2 == 0 ? 250 : 1;
            double wp = ExactLinearDistances.dot(w, p), c = (r.nextDouble() * 2 - 1) * scale;
            for (Norm norm : Norm.values()) {
                double[] delta = BoxProjection.project(norm, p, w, wp + c);
                double[] v = w.clone();
                if (c < 0) for (int k = 0; k < d; k++) v[k] = -v[k];
                double exact = norm == Norm.L2 ? ExactLinearDistances.halfspaceL2(p, v, Math.abs(c)) : ExactLinearDistances.halfspaceLinf(p, v, Math.abs(c));
                for (int k = 0; k < d; k++) assertThat(p[k] + delta[k]).isBetween(-1e-12, 1 + 1e-12);
                if (Double.isFinite(exact)) {
                    assertThat(ExactLinearDistances.dot(w, delta)).as("on the hyperplane").isCloseTo(c, org.assertj.core.data.Offset.offset(1e-6 * (1 + Math.abs(c))));
                    assertThat(BoxProjection.size(norm, delta)).as("%s trial %d", norm, t).isCloseTo(exact, org.assertj.core.data.Offset.offset(1e-6 * (1 + exact)));
                }
            }
        }
    }

    @Test
    void fabTSucceedsJustAboveTheExactDistanceAndNeverBelow() {
        Fixture f = Fixture.make(11);
        for (Norm norm : Norm.values()) {
            double[] exact = f.exact(norm);
            for (int i = 0; i < N; i++) {
                Tensor xi = f.x().narrow(0, i, 1), yi = f.y().narrow(0, i, 1);
                Rng.seed(i);
                Attack.Result above = Fab.standard(norm, exact[i] * 1.01, K - 1).attack(f.model(), xi, yi);
                assertThat(above.success()[0]).as("%s point %d at 1.01 d* = %.5f", norm, i, exact[i] * 1.01).isTrue();
                Attack.Result below = Fab.standard(norm, exact[i] * 0.99, K - 1).attack(f.model(), xi, yi);
                assertThat(below.success()[0]).as("%s point %d at 0.99 d*", norm, i).isFalse();
            }
        }
    }

    @Test
    void fabMinimumSearchIsNeverBelowTheExactDistanceAndClose() {
        Fixture f = Fixture.make(12);
        for (Norm norm : Norm.values()) {
            double[] exact = f.exact(norm);
            Rng.seed(1);
            Attack.Result r = Fab.minimum(norm, 100, K - 1).attack(f.model(), f.x(), f.y());
            for (int i = 0; i < N; i++) {
                assertThat(r.success()[i]).isTrue();
                assertThat(r.distance()[i]).as("%s point %d: found %.6f, exact %.6f", norm, i, r.distance()[i], exact[i])
                        .isGreaterThanOrEqualTo(exact[i] * (1 - 1e-9)).isLessThanOrEqualTo(exact[i] * 1.02);
            }
        }
    }

    @Test
    void squareL2SucceedsAboveTheExactDistanceAndNeverBelow() {
        // A random search gets near, not onto, the optimum: it must break every point at 1.5 d* in 1,000 queries,
        // and can never break one below d*.
        Fixture f = Fixture.make(13);
        double[] exact = f.exactL2();
        for (int i = 0; i < N / 2; i++) {
            Tensor xi = f.x().narrow(0, i, 1), yi = f.y().narrow(0, i, 1);
            Rng.seed(i);
            assertThat(new SquareL2(exact[i] * 1.5, 1000, 0.8).attack(f.model(), xi, yi).success()[0]).as("point %d at 1.5 d*", i).isTrue();
            assertThat(new SquareL2(exact[i] * 0.99, 300, 0.8).attack(f.model(), xi, yi).success()[0]).as("point %d at 0.99 d*", i).isFalse();
        }
    }

    private static double[] unconstrainedLinf(Fixture f) {
        double[][] w = rows(f.model().w.toDoubleArray(), K, D), x = rows(f.x().toDoubleArray(), N, D);
        double[] b = f.model().b.toDoubleArray();
        long[] y = f.y().toLongArray();
        double[] out = new double[N];
        for (int i = 0; i < N; i++) {
            int c = (int) y[i];
            out[i] = Double.POSITIVE_INFINITY;
            for (int j = 0; j < K; j++) {
                if (j == c) continue;
                double l1 = 0;
                for (int k = 0; k < D; k++) l1 += Math.abs(w[j][k] - w[c][k]);
                out[i] = Math.min(out[i], (ExactLinearDistances.dot(w[c], x[i]) + b[c] - ExactLinearDistances.dot(w[j], x[i]) - b[j]) / l1);
            }
        }
        return out;
    }

    @Provide
    Arbitrary<Norm> norms() {
        return Arbitraries.of(Norm.values());
    }
}

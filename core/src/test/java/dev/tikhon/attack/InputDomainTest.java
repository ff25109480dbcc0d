package dev.tikhon.attack;

import dev.tikhon.attack.LinearKnownAnswersTest.LinearModel;
import dev.tikhon.engine.DType;
import dev.tikhon.engine.Device;
import dev.tikhon.engine.Rng;
import dev.tikhon.engine.Tensor;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Attacks on data that are not images (the 2-D toy sets lie far outside [0, 1]): within {@link InputDomain#UNBOUNDED}
 * they move freely and find the closed-form distances of a linear classifier, d* = min_{j≠y} (z_y − z_j)/‖w_y − w_j‖_q
 * (q = 2 for ℓ2, 1 for ℓ∞); outside any scope the domain is [0, 1] and such inputs are refused, never clipped (clipping
 * moved a toy point by up to its distance from the box before the attack began).
 */
class InputDomainTest {
    static final int D = 2, N = 16, K = 3;
    static LinearModel model;
    static Tensor x, y;
    static double[] exactL2, exactLinf;   // multi-class, closed form

    @BeforeAll
    static void setUp() {
        Rng.seed(3);
        x = Tensor.randn(DType.FLOAT64, Device.CPU, N, D).mul(0.3).add(2.5);   // around (2.5, 2.5): outside the unit box
        Tensor weights = Tensor.randn(DType.FLOAT64, Device.CPU, K, D);
        // boundaries through the cloud's centre, so that distances are a few tenths
        Tensor centre = Tensor.full(2.5, DType.FLOAT64, Device.CPU, D, 1);
        model = new LinearModel(weights, weights.matmul(centre).squeeze(1).neg().add(Tensor.randn(DType.FLOAT64, Device.CPU, K).mul(0.1)));
        y = model.forward(x).argmax(1);
        double[] w = model.w.toDoubleArray(), z = model.forward(x).toDoubleArray();
        long[] labels = y.toLongArray();
        exactL2 = new double[N];
        exactLinf = new double[N];
        for (int i = 0; i < N; i++) {
            int c = (int) labels[i];
            exactL2[i] = exactLinf[i] = Double.POSITIVE_INFINITY;
            for (int j = 0; j < K; j++) {
                if (j == c) continue;
                double l1 = 0, l2 = 0;
                for (int k = 0; k < D; k++) {
                    double v = w[c * D + k] - w[j * D + k];
                    l1 += Math.abs(v);
                    l2 += v * v;
                }
                double gap = z[i * K + c] - z[i * K + j];
                exactL2[i] = Math.min(exactL2[i], gap / Math.sqrt(l2));
                exactLinf[i] = Math.min(exactLinf[i], gap / l1);
            }
        }
    }

    @Test
    void theMinimumDistanceAttacksFindTheClosedFormDistancesOutsideTheUnitBox() {
        InputDomain.within(InputDomain.UNBOUNDED, () -> {
            Rng.seed(1);
            // FAB's step is exact on a linear model. DDN and Carlini–Wagner follow the cross-entropy's gradient, which for
            // three classes is not the way to the nearest boundary: within 2× here (DDN's worst 1.44×). Clipped to [0, 1]²,
            // the points had moved about 2 before any attack step, 20 times these distances.
            check("fab-t l2", Fab.minimum(Norm.L2, 100, 2).attack(model, x, y), exactL2, 0.01);
            check("fab-t linf", Fab.minimum(Norm.LINF, 100, 2).attack(model, x, y), exactLinf, 0.01);
            check("ddn", new Ddn(300, 0.1, 0.05, 0.1, 20).attack(model, x, y), exactL2, 1.0);
            check("cw", CarliniWagner.standard(1000).attack(model, x, y), exactL2, 1.0);
        });
    }

    /** Two classes: FGSM's step sign(w₀ − w₁) is the exact ℓ∞ direction, d* = |z₁ − z₀|/‖w₁ − w₀‖₁. */
    @Test
    void fgsmBreaksEveryPointOfTwoClassesJustBeyondItsDistanceAndNoneJustInside() {
        LinearModel binary = new LinearModel(model.w.narrow(0, 0, 2), model.b.narrow(0, 0, 2));
        Tensor labels = binary.forward(x).argmax(1);
        double[] w = binary.w.toDoubleArray(), z = binary.forward(x).toDoubleArray();
        double l1 = Math.abs(w[0] - w[2]) + Math.abs(w[1] - w[3]);
        InputDomain.within(InputDomain.UNBOUNDED, () -> {
            for (int i = 0; i < N; i++) {
                Tensor xi = x.narrow(0, i, 1), yi = labels.narrow(0, i, 1);
                double d = Math.abs(z[2 * i] - z[2 * i + 1]) / l1;
                assertThat(Pgd.fgsm(1.001 * d).attack(binary, xi, yi).success()[0]).as("point %d beyond %.4f", i, d).isTrue();
                assertThat(Pgd.fgsm(0.999 * d).attack(binary, xi, yi).success()[0]).as("point %d inside %.4f", i, d).isFalse();
            }
        });
    }

    @Test
    void outsideAnyScopeInputsOutsideTheUnitBoxAreRefusedNamingTheFix() {
        assertThat(InputDomain.current()).isEqualTo(InputDomain.IMAGES);
        for (Attack a : new Attack[]{Pgd.fgsm(0.1), new Ddn(10, 0.1, 0.05, 0.1, 5), Fab.minimum(Norm.L2, 10, 1)}) {
            assertThatThrownBy(() -> a.attack(model, x, y)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("outside the input domain [0, 1]").hasMessageContaining("InputDomain.UNBOUNDED");
        }
    }

    @Test
    void bytesForImagesAndLabelsThatDoNotFitAreRefusedNamingTheFix() {
        Tensor bytes = Tensor.zeros(DType.UINT8, Device.CPU, 2, D);
        Tensor labels = Tensor.fromLongs(new long[]{0, 1}, 2);
        Tensor inBox = Tensor.full(0.5, DType.FLOAT32, Device.CPU, 2, D);
        assertThatThrownBy(() -> Pgd.fgsm(0.1).attack(model, bytes, labels)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("got UINT8").hasMessageContaining("Dataset.batchInputs");
        assertThatThrownBy(() -> Pgd.fgsm(0.1).attack(model, inBox, labels.to(DType.FLOAT32))).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("labels must be INT64 [N]");
        assertThatThrownBy(() -> Pgd.fgsm(0.1).attack(model, inBox, Tensor.fromLongs(new long[]{0, 1, 1}, 3)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("one label per input (2)");
    }

    @Test
    void aScopeIsRestoredAfterItsBodyThrows() {
        assertThatThrownBy(() -> InputDomain.within(InputDomain.UNBOUNDED, () -> {
            assertThat(InputDomain.current()).isEqualTo(InputDomain.UNBOUNDED);
            throw new IllegalStateException("boom");
        })).hasMessage("boom");
        assertThat(InputDomain.current()).isEqualTo(InputDomain.IMAGES);
        assertThat(InputDomain.of(false)).isEqualTo(InputDomain.UNBOUNDED);
        assertThat(InputDomain.UNBOUNDED.toString()).isEqualTo("[−∞, ∞]");
    }

    @Test
    void withinTheUnitBoxTheDomainStillBinds() {
        Tensor corner = Tensor.ones(DType.FLOAT64, Device.CPU, 1, D);
        Tensor label = model.forward(corner).argmax(1);
        Rng.seed(2);
        Tensor adv = new Pgd(Norm.L2, 5, 20, 1, true).perturb(model, corner, label);
        assertThat(adv.max().item()).isLessThanOrEqualTo(1.0);
        assertThat(adv.min().item()).isGreaterThanOrEqualTo(0.0);
    }

    private static void check(String what, Attack.Result r, double[] exact, double tolerance) {
        double[] adv = r.adversarial().toDoubleArray();
        boolean outside = false;
        for (double v : adv) outside |= v > 1 || v < 0;
        assertThat(outside).as("%s moves in ℝᴰ, not in the unit box", what).isTrue();
        for (int i = 0; i < N; i++) {
            assertThat(r.success()[i]).as("%s point %d", what, i).isTrue();
            assertThat(r.distance()[i]).as("%s point %d: found %.6f, exact %.6f", what, i, r.distance()[i], exact[i])
                    .isBetween(exact[i] * (1 - 1e-9), exact[i] * (1 + tolerance));
        }
    }
}

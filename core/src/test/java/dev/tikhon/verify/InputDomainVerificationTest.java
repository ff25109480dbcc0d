package dev.tikhon.verify;

import dev.tikhon.attack.InputDomain;
import dev.tikhon.attack.Norm;
import dev.tikhon.data.Dataset;
import dev.tikhon.engine.DType;
import dev.tikhon.engine.Device;
import dev.tikhon.engine.Tensor;
import dev.tikhon.nn.Linear;
import dev.tikhon.nn.Module;
import dev.tikhon.nn.Sequential;
import dev.tikhon.scaleout.Runner;
import dev.tikhon.scaleout.Unit;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

/**
 * Verification of data that are not images: over the ball alone (no [0, 1] box), a linear classifier's worst margin
 * is known in closed form, m − ε‖w_y − w_j‖_q, and bound propagation is exact on it. Clipping a toy point's ball to
 * [0, 1]ᴰ left an empty region for points outside the box, and every bound over it "verified". Radii below zero, and
 * inputs outside the domain in force, are refused.
 */
class InputDomainVerificationTest {
    static final DType F64 = DType.FLOAT64;

    static Module linear() {
        Linear l = new Linear(2, 2);
        Module f = new Sequential(l).to(F64);
        BoundPropagationTest.set(l.weight().value(), 1, -2, -3, 0.5);
        BoundPropagationTest.set(l.bias().value(), 0.2, -0.1);
        return f;
    }

    @Test
    void aLinearModelsWorstMarginOverTheUnboundedBallIsExact() {
        Module f = linear();
        Tensor x = Tensor.fromDoubles(new double[]{2.0, -0.7, -1.5, 1.8}, 2, 2);   // outside [0, 1]²
        Tensor y = f.forward(x).argmax(1);
        long[] labels = y.toLongArray();
        double[] z = f.forward(x).toDoubleArray();
        double[] v = {1 - -3, -2 - 0.5};   // w_0 − w_1
        double eps = 0.3;
        for (Norm norm : List.of(Norm.LINF, Norm.L2)) {
            double dual = norm == Norm.LINF ? Math.abs(v[0]) + Math.abs(v[1]) : Math.hypot(v[0], v[1]);
            for (Verification.Method m : List.of(Verification.Method.IBP, Verification.Method.CROWN)) {
                double[] worst = InputDomain.within(InputDomain.UNBOUNDED, () -> Verification.worstMargin(f, m, x, y,
                        Tensor.full(eps, F64, Device.CPU, 2), norm, 2)).toDoubleArray();
                for (int i = 0; i < 2; i++) {
                    double margin = Math.abs(z[2 * i] - z[2 * i + 1]);
                    if (!(m == Verification.Method.IBP && norm == Norm.L2)) {   // IBP's box of an ℓ2 ball is looser than the ball
                        assertThat(worst[i]).as("%s %s point %d (label %d)", m, norm, i, labels[i]).isCloseTo(margin - eps * dual, within(1e-9));
                    } else {
                        assertThat(worst[i]).as("%s %s point %d: sound", m, norm, i).isLessThanOrEqualTo(margin - eps * dual + 1e-9);
                    }
                }
            }
        }
    }

    @Test
    void inputsOutsideTheDomainInForceAndNegativeRadiiAreRefused() {
        Module f = linear();
        Tensor x = Tensor.fromDoubles(new double[]{2.0, -0.7}, 1, 2);
        Tensor y = f.forward(x).argmax(1);
        assertThatThrownBy(() -> Verification.worstMargin(f, Verification.Method.CROWN, x, y, Tensor.full(0.1, F64, Device.CPU, 1), Norm.LINF, 2))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("InputDomain.UNBOUNDED");
        Tensor inBox = Tensor.fromDoubles(new double[]{0.5, 0.5}, 1, 2);
        Tensor yb = f.forward(inBox).argmax(1);
        assertThatThrownBy(() -> Verification.verified(f, Verification.Method.IBP, inBox, yb, Tensor.full(-0.1, F64, Device.CPU, 1), Norm.LINF, 2))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("must be finite and ≥ 0");
        assertThatThrownBy(() -> InputRegion.inDomain(inBox, Double.NaN, Norm.LINF)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void aRunnerRunsEachUnitInItsDatasInputDomain() {
        Tensor labels = Tensor.fromLongs(new long[]{0, 1}, 2);
        Dataset toy = new Dataset("toy", "test", Tensor.fromDoubles(new double[]{2, -1, 3, 4}, 2, 2).to(DType.FLOAT32), labels, 2, List.of("a", "b"));
        Dataset images = new Dataset("img", "test", Tensor.zeros(DType.UINT8, Device.CPU, 2, 1, 2, 2), labels, 2, List.of("a", "b"));
        List<Unit> units = List.of(new Unit(0, 0, 2));
        for (Dataset d : List.of(toy, images)) {
            List<String> seen = Runner.local(linear(), d, Device.CPU).run(units, (m, xx, yy, u) -> InputDomain.current().toString(), null);
            assertThat(seen).as(d.name()).containsExactly(d.isImages() ? "[0, 1]" : "[−∞, ∞]");
        }
        assertThat(InputDomain.current()).isEqualTo(InputDomain.IMAGES);
    }
}

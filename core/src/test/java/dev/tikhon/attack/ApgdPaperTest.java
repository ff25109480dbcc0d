package dev.tikhon.attack;

import dev.tikhon.engine.DType;
import dev.tikhon.engine.Device;
import dev.tikhon.engine.Rng;
import dev.tikhon.engine.Tensor;
import dev.tikhon.nn.Module;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** APGD against Croce &amp; Hein 2020, Algorithm 1, on a linear model that records every point it is evaluated at. */
class ApgdPaperTest {
    static final int D = 12;

    static final class Recording extends Module {
        final Tensor w;   // [2, D]
        final List<double[]> points = new ArrayList<>();   // host copies: the attack frees its tensors with each step
        Recording(Tensor w) { this.w = w; }
        @Override public Tensor forward(Tensor x) {
            points.add(x.detach().toDoubleArray());
            return x.matmul(w.t());
        }
    }

    /**
     * N iterations evaluate x⁽⁰⁾, x⁽¹⁾, …, x⁽ᴺ⁾ (Algorithm 1: x⁽¹⁾ from x⁽⁰⁾, then k = 1 … N − 1), and the first step,
     * of size η⁽⁰⁾ = 2ε along sign ∇, reaches the corner x + ε sign(w₁ − w₀) of the ℓ∞ ball from any start in it.
     */
    @Test
    void nIterationsTakeNStepsAndTheFirstIsTwoEpsilon() {
        Rng.seed(4);
        Recording model = new Recording(Tensor.randn(DType.FLOAT64, Device.CPU, 2, D));
        Tensor x = Tensor.rand(DType.FLOAT64, Device.CPU, 1, D).mul(0.2).add(0.4);
        Tensor y = model.forward(x).argmax(1);
        model.points.clear();
        double eps = 0.05;
        new Apgd(Norm.LINF, eps, 10, AttackLoss.CE, 1).attack(model, x, y);
        assertThat(model.points).hasSize(11);
        double[] sign = model.w.select(0, 1 - (int) y.item()).sub(model.w.select(0, (int) y.item())).sign().toDoubleArray();
        double[] x0 = x.toDoubleArray(), x1 = model.points.get(1);
        for (int j = 0; j < D; j++) assertThat(x1[j]).isCloseTo(x0[j] + eps * sign[j], org.assertj.core.data.Offset.offset(1e-12));
    }
}

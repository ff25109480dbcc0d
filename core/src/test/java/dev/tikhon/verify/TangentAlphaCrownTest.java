package dev.tikhon.verify;

import dev.tikhon.attack.Norm;
import dev.tikhon.data.Dataset;
import dev.tikhon.data.ToyData;
import dev.tikhon.engine.OneThread;
import dev.tikhon.engine.Tensor;
import dev.tikhon.nn.Module;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.List;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * α-CROWN's tangent points for tanh and sigmoid ({@link Pointwise#tangentLines}): the lines hold on a dense grid of [l, u]
 * for any points, in or out of [l, u]; on a tanh/sigmoid MLP the bounds contain sampled margins, are never below CROWN's, and
 * are tighter than CROWN's on average where CROWN is loose.
 */
@ExtendWith(OneThread.class)   // tiny networks: one thread is faster and steadier on a busy machine
class TangentAlphaCrownTest {
    @Test
    void tangentLinesHoldOnTheWholeIntervalForAnyPoints() {
        Random rng = new Random(5);
        int n = 600;
        double[] l = new double[n], u = new double[n], dl = new double[n], du = new double[n];
        for (int i = 0; i < n; i++) {
            double a = rng.nextGaussian() * 3, b = rng.nextGaussian() * 3;
            if (i % 5 == 0) b = a + rng.nextDouble() * 1e-3;   // narrow ones too
            l[i] = Math.min(a, b);
            u[i] = Math.max(a, b);
            double w = u[i] - l[i];
            dl[i] = l[i] + (rng.nextDouble() * 3 - 1) * w;   // anywhere in [l − w, u + w]: outside [l, u] a third of the time
            du[i] = l[i] + (rng.nextDouble() * 3 - 1) * w;
        }
        Tensor lo = Tensor.fromDoubles(l, 1, n), hi = Tensor.fromDoubles(u, 1, n);
        for (Pointwise f : List.of(Pointwise.tanh(), Pointwise.sigmoid())) {
            Relaxation r = f.tangentLines(new Interval(lo, hi), Tensor.fromDoubles(dl, 1, 1, n), Tensor.fromDoubles(du, 1, 1, n));
            double worstBelow = Double.NEGATIVE_INFINITY, worstAbove = Double.NEGATIVE_INFINITY;
            for (int j = 0; j <= 2000; j++) {
                Tensor z = lo.add(hi.sub(lo).mul(j / 2000.0));
                Tensor fz = f.apply(z).unsqueeze(1);
                Tensor below = r.lowerSlope().mul(z.unsqueeze(1)).add(r.lowerIntercept());
                Tensor above = r.upperSlope().mul(z.unsqueeze(1)).add(r.upperIntercept());
                worstBelow = Math.max(worstBelow, below.sub(fz).max().item());
                worstAbove = Math.max(worstAbove, fz.sub(above).max().item());
            }
            assertThat(worstBelow).as("%s: lower line above f", f.name()).isLessThanOrEqualTo(1e-12);
            assertThat(worstAbove).as("%s: upper line below f", f.name()).isLessThanOrEqualTo(1e-12);
        }
    }

    @Test
    void alphaCrownOnATanhSigmoidMlpIsSoundAndAtLeastCrown() {
        Module m = TanhSigmoidCrownTest.saturatingMlp();
        Dataset moons = ToyData.generate("moons", 64, 3);
        Tensor x = moons.inputs();
        BoundedNetwork net = BoundedNetwork.of(m);
        Tensor spec = BoundedNetwork.margins(moons.labels(), 2, x);
        double gainAtLoose = 0;
        for (Norm norm : List.of(Norm.LINF, Norm.L2)) {
            for (double eps : new double[]{0.02, 0.1, 0.3}) {
                InputRegion region = InputRegion.ball(x, eps, norm);
                Tensor crown = net.crown(region, spec).lo();
                Tensor alpha = net.alphaCrownLower(region, spec, BoundedNetwork.DEFAULT_CROWN_UNITS, 20, 0.1);
                Interval bounds = new Interval(alpha, alpha.add(Double.POSITIVE_INFINITY));
                BoundOracles.assertContainsSamples(m, spec, x, norm, eps, 300, 1e-5, bounds);
                double below = crown.sub(alpha).max().item(), mean = alpha.sub(crown).mean().item();
                System.out.printf("α-CROWN − CROWN, %s ε %s: mean %.5f, CROWN mean %.4f, α-CROWN mean %.4f, worst %.2e%n", norm, eps, mean,
                        crown.mean().item(), alpha.mean().item(), -below);
                assertThat(below).as("α-CROWN below CROWN, %s ε %s", norm, eps).isLessThanOrEqualTo(1e-6);
                if (eps == 0.3 && norm == Norm.LINF) gainAtLoose = mean;
            }
        }
        assertThat(gainAtLoose).as("mean gain over CROWN, ℓ∞ ε 0.3").isGreaterThan(1e-3);
    }
}

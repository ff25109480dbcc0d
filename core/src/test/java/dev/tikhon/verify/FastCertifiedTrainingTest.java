package dev.tikhon.verify;

import dev.tikhon.attack.Norm;
import dev.tikhon.engine.Autograd;
import dev.tikhon.engine.DType;
import dev.tikhon.engine.Device;
import dev.tikhon.engine.OneThread;
import dev.tikhon.engine.Rng;
import dev.tikhon.engine.Tensor;
import dev.tikhon.models.Models;
import dev.tikhon.nn.Conv2d;
import dev.tikhon.nn.Init;
import dev.tikhon.nn.Linear;
import dev.tikhon.nn.Module;
import dev.tikhon.nn.ResidualBlock;
import dev.tikhon.nn.Sequential;
import dev.tikhon.regularize.Regularizers;
import dev.tikhon.train.Objective;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/**
 * Shi et al. (NeurIPS 2021), "Fast certified robust training with short warmup": IBP initialization and the warm-up
 * regularizers. Oracles: the regularizers against a plain-double reference of their definition on random intervals; the
 * point of the initialization, that interval radii keep their size through a deep network where the standard draw grows them
 * by orders of magnitude; the weights' spread against √(2π)/fan_in, halved after a residual sum; the objective's loss against
 * its parts.
 */
@ExtendWith(OneThread.class)
class FastCertifiedTrainingTest {

    /** The two terms of one layer's intervals, from their definition, in doubles: {tightness, balance (NaN: left out)}. */
    private static double[] reference(double r0, double[] l, double[] u) {
        int n = l.length;
        double width = 0, meanC = 0;
        double[] c = new double[n];
        for (int i = 0; i < n; i++) {
            c[i] = (l[i] + u[i]) / 2;
            width += (u[i] - l[i]) / 2 / n;
            meanC += c[i] / n;
        }
        double tight = Math.max(0, 0.5 - r0 / width) / 0.5;
        double act = 0, inact = 0, varAct = 0, varInact = 0;
        for (int i = 0; i < n; i++) {
            double d = (c[i] - meanC) * (c[i] - meanC);
            if (l[i] > 0) { act += c[i] / n; varAct += d; }
            if (u[i] < 0) { inact -= c[i] / n; varInact += d; }
        }
        if (act == 0 || inact == 0) return new double[]{tight, Double.NaN};
        double m = Math.min(act / inact, inact / act), v = Math.min(varAct / varInact, varInact / varAct);
        return new double[]{tight, (Math.max(0, 0.5 - m) + Math.max(0, 0.5 - v)) / 0.5};
    }

    @Test
    void theRegularizersFollowTheirDefinitionLayerByLayer() {
        Rng.seed(7);
        java.util.Random random = new java.util.Random(7);
        for (int round = 0; round < 20; round++) {
            double r0 = 0.02 + 0.2 * random.nextDouble();
            Tensor x = Tensor.rand(DType.FLOAT64, Device.CPU, 2, 3);
            Interval input = Interval.ofCentre(x, Tensor.full(r0, DType.FLOAT64, Device.CPU, 2, 3));
            List<Interval> relus = new ArrayList<>();
            double tightSum = 0, balanceSum = 0;
            for (int layer = 0; layer < 3; layer++) {
                int units = 12;
                double[] l = new double[2 * units], u = new double[2 * units];
                double shift = round % 5 == 4 && layer == 1 ? 3 : 0;   // a layer IBP proves all active: no balance term
                for (int i = 0; i < l.length; i++) {
                    double centre = random.nextGaussian() + shift, radius = 0.5 * random.nextDouble() * (1 + layer);
                    l[i] = centre - radius;
                    u[i] = centre + radius;
                }
                if (shift > 0) for (int i = 0; i < l.length; i++) { l[i] = Math.abs(l[i]) + 0.01; u[i] = l[i] + 0.1; }
                relus.add(new Interval(Tensor.fromDoubles(l, 2, units), Tensor.fromDoubles(u, 2, units)));
                double[] ref = reference(r0, l, u);
                tightSum += ref[0];
                if (!Double.isNaN(ref[1])) balanceSum += ref[1];
            }
            Tensor[] terms = CertifiedTraining.warmupRegularizers(input, relus);
            assertThat(terms[0].item()).isCloseTo(tightSum / 3, within(1e-12));
            assertThat(terms[1].item()).isCloseTo(balanceSum / 3, within(1e-12));
        }
    }

    @Test
    void aLayerWithoutInactiveUnitsLeavesNoNaNInTheGradient() {
        Tensor lo = Tensor.fromDoubles(new double[]{0.1, 0.2, -0.3, 0.4}, 1, 4).requiresGrad(true);
        Tensor hi = lo.mul(2.0).add(1.0);   // no unit has u < 0
        Interval input = Interval.ofCentre(Tensor.zeros(DType.FLOAT64, Device.CPU, 1, 4), Tensor.full(0.01, DType.FLOAT64, Device.CPU, 1, 4));
        Tensor[] terms = CertifiedTraining.warmupRegularizers(input, List.of(new Interval(lo, hi)));
        assertThat(terms[1].item()).isEqualTo(0);
        Tensor g = Autograd.grad(terms[0].add(terms[1]), lo, false);
        assertThat(g.isFinite().to(DType.FLOAT64).min().item()).isEqualTo(1.0);
        assertThat(g.abs().sum().item()).isGreaterThan(0);   // the tightness term still reaches the bounds
    }

    /** Mean half-width at the input of the last ReLU of a deep MLP over ε-boxes, divided by ε. */
    private static double radiusGrowth(Init init) {
        Rng.seed(11);
        List<Integer> hidden = List.of(256, 256, 256, 256, 256, 256, 256, 256);
        Module m = Models.build(Models.spec("mlp", List.of(64L), 10, Map.of("hidden", hidden, "init", init.name().toLowerCase())));
        m.train(false);
        Tensor x = Tensor.rand(DType.FLOAT32, Device.CPU, 16, 64);
        double eps = 0.01;
        InputRegion region = InputRegion.ball(x, eps, Norm.LINF);
        Tensor spec = BoundedNetwork.marginsOverOthers(Tensor.zeros(DType.INT64, Device.CPU, 16), 10, x);
        List<Interval> relus = BoundedNetwork.of(m).ibpPass(region, spec, false).reluInputs();
        assertThat(relus).hasSize(hidden.size());
        return relus.get(relus.size() - 1).radius().mean().item() / eps;
    }

    @Test
    void ibpInitializationKeepsIntervalRadiiAtTheirSizeThroughADeepNetwork() {
        double ibp = radiusGrowth(Init.IBP), standard = radiusGrowth(Init.STANDARD), kaiming = radiusGrowth(Init.KAIMING);
        assertThat(ibp).isBetween(0.1, 10.0);
        assertThat(standard).isGreaterThan(1000 * ibp);
        assertThat(kaiming).isGreaterThan(1000 * ibp);
    }

    private static double std(Tensor w) {
        return w.to(DType.FLOAT64).sub(w.to(DType.FLOAT64).mean()).square().mean().sqrt().item();
    }

    @Test
    void ibpInitializationDrawsEachWeightedLayerAndHalvesTheLayersAfterASum() {
        Rng.seed(5);
        Sequential m = (Sequential) Models.build(Models.spec("resnet", List.of(1L, 8L, 8L), 10,
                Map.of("depth", 14, "width", 16, "init", "ibp")));
        List<ResidualBlock> blocks = m.layers().stream().filter(l -> l instanceof ResidualBlock).map(l -> (ResidualBlock) l).toList();
        assertThat(blocks).hasSize(6);
        Conv2d stem = (Conv2d) m.layers().get(0);
        assertThat(std(stem.weight().value())).isCloseTo(Math.sqrt(2 * Math.PI) / 9, within(0.15 * Math.sqrt(2 * Math.PI) / 9));
        for (int b = 0; b < blocks.size(); b++) {
            ResidualBlock block = blocks.get(b);
            double fanIn = block.conv1().in * 9.0;
            double expected = Math.sqrt(2 * Math.PI) / fanIn * (b == 0 ? 1 : 0.5);   // every block but the first reads a sum
            assertThat(std(block.conv1().weight().value())).as("block %d conv1", b).isCloseTo(expected, within(0.1 * expected));
            double conv2 = Math.sqrt(2 * Math.PI) / (block.conv2().in * 9.0);
            assertThat(std(block.conv2().weight().value())).as("block %d conv2", b).isCloseTo(conv2, within(0.1 * conv2));
        }
        Linear classifier = (Linear) m.layers().get(m.layers().size() - 1);
        // the classifier keeps PyTorch's draw, U(±1/√fan_in): its spread is 1/√(3·fan_in), not √(2π)/fan_in
        assertThat(std(classifier.weight().value())).isCloseTo(1 / Math.sqrt(3.0 * classifier.in), within(0.2 / Math.sqrt(3.0 * classifier.in)));
    }

    @Test
    void theObjectiveAddsTheWeightedTermsOnlyWhileEpsRamps() {
        Rng.seed(3);
        Module m = Models.build(Models.spec("mlp", List.of(1L, 4L, 4L), 3, Map.of("hidden", List.of(32, 32), "init", "ibp")));
        Tensor x = Tensor.rand(DType.FLOAT32, Device.CPU, 32, 1, 4, 4);
        Tensor y = Tensor.randint(3, Device.CPU, 32);
        for (String bound : List.of("ibp", "crown-ibp")) {
            Objective plain = Regularizers.build(Regularizers.spec(bound, Map.of("eps", 0.1, "eps-warmup", 0, "eps-ramp", 2)));
            Objective reg = Regularizers.build(Regularizers.spec(bound, Map.of("eps", 0.1, "eps-warmup", 0, "eps-ramp", 2, "bound-reg", 0.5)));
            for (double t : new double[]{0.5, 1.5, 2.5}) {
                plain.progress(t);
                reg.progress(t);
                Objective.Result a = plain.evaluate(m, x, y), b = reg.evaluate(m, x, y);
                double fraction = Math.min(1, t / 2);
                if (fraction < 1) {
                    double terms = b.parts().get("tightness_reg").item() + b.parts().get("relu_reg").item();
                    assertThat(terms).isGreaterThan(0);
                    assertThat(b.loss().item()).isCloseTo(a.loss().item() + 0.5 * (1 - fraction) * terms, within(1e-5));
                } else {
                    assertThat(b.parts()).doesNotContainKey("tightness_reg");
                    assertThat(b.loss().item()).isCloseTo(a.loss().item(), within(1e-7));
                }
            }
            assertThat(reg.describe()).contains("warm-up regularizers λ 0.5");
        }
    }
}

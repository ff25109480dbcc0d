package dev.tikhon.verify;

import dev.tikhon.attack.Norm;
import dev.tikhon.engine.DType;
import dev.tikhon.engine.Device;
import dev.tikhon.engine.OneThread;
import dev.tikhon.engine.Rng;
import dev.tikhon.engine.Scope;
import dev.tikhon.engine.Tensor;
import dev.tikhon.nn.Module;
import dev.tikhon.models.Models;
import dev.tikhon.optim.Adam;
import dev.tikhon.regularize.Regularizers;
import dev.tikhon.train.Objective;
import dev.tikhon.train.ObjectiveSpec;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/** The schedule by its definition, and the point of the loss: training on it raises the verified fraction of the training data. */
@ExtendWith(OneThread.class)
class CertifiedTrainingTest {

    @Test
    void scheduleWarmsUpThenRampsEpsKappaAndBeta() {
        CertifiedTraining t = new CertifiedTraining(CertifiedTraining.Bound.CROWN_IBP, Norm.LINF, 0.1, 1, 2, 0.5);
        assertThat(t.epsAt(0.5)).isEqualTo(0);
        assertThat(t.kappaAt(0.5)).isEqualTo(1);
        assertThat(t.betaAt(0.5)).isEqualTo(1);
        assertThat(t.epsAt(2)).isCloseTo(0.05, within(1e-12));
        assertThat(t.kappaAt(2)).isCloseTo(0.75, within(1e-12));
        assertThat(t.betaAt(2)).isCloseTo(0.5, within(1e-12));
        assertThat(t.epsAt(5)).isCloseTo(0.1, within(1e-12));
        assertThat(t.kappaAt(5)).isCloseTo(0.5, within(1e-12));
        assertThat(t.betaAt(5)).isEqualTo(0);
    }

    @Test
    void theSpecRecordsTheScheduleAndBuildsTheObjective() {
        ObjectiveSpec s = Regularizers.spec("crown-ibp", Map.of("eps", 0.2, "eps-warmup", 1, "eps-ramp", 3, "kappa-end", 0.25));
        assertThat(s.settings(CertifiedTraining.Settings.class)).isEqualTo(new CertifiedTraining.Settings("linf", 0.2, 1, 3, 0.25));
        Objective o = Regularizers.build(s);
        assertThat(o).isInstanceOf(CertifiedTraining.class);
        assertThat(o.describe()).contains("crown-ibp").contains("0.2").contains("ramp 3.0").contains("0.25");
    }

    /** A tiny MLP on separable clusters: after IBP (and CROWN-IBP) training, more training points verify at ε than before. */
    @Test
    void trainingRaisesTheVerifiedFraction() {
        for (CertifiedTraining.Bound bound : CertifiedTraining.Bound.values()) {
            Rng.seed(1);
            Tensor centres = Tensor.rand(DType.FLOAT32, Device.CPU, 3, 1, 4, 4);
            Tensor y = Tensor.randint(3, Device.CPU, 96);
            Tensor x = centres.indexSelect(0, y).add(Tensor.randn(96, 1, 4, 4).mul(0.03)).clamp(0, 1);
            Module m = Models.build(Models.spec("mlp", List.of(1L, 4L, 4L), 3, Map.of("hidden", List.of(32))));
            double eps = 0.04;
            double before = verifiedFraction(m, x, y, eps);
            CertifiedTraining objective = new CertifiedTraining(bound, Norm.LINF, eps, 0.1, 0.5, 0.5);
            Adam opt = new Adam(m.parameters(), 0.01, 0.9, 0.999, 1e-8, 0, false, false);
            for (int step = 0; step < 150; step++) {
                try (Scope s = Scope.open()) {
                    objective.progress(step / 100.0);
                    opt.zeroGrad();
                    objective.evaluate(m, x, y).loss().backward();
                    opt.step();
                }
            }
            double after = verifiedFraction(m, x, y, eps);
            assertThat(after).as(bound + ": verified before " + before + ", after " + after).isGreaterThan(Math.max(0.8, before + 0.3));
        }
    }

    static double verifiedFraction(Module m, Tensor x, Tensor y, double eps) {
        boolean[] v = Verification.verified(m, Verification.Method.IBP, x, y, Verification.full(x, eps), Norm.LINF, 3);
        int n = 0;
        for (boolean b : v) n += b ? 1 : 0;
        return n / (double) v.length;
    }

    @Test
    void marginsOverOthersAreTheMarginsWithoutTheZeroRow() {
        Tensor y = Tensor.fromLongs(new long[]{2, 0}, 2);
        Tensor c = BoundedNetwork.marginsOverOthers(y, 3, Tensor.zeros(1));
        assertThat(c.shape()).containsExactly(2, 2, 3);
        assertThat(c.toDoubleArray()).containsExactly(-1, 0, 1, 0, -1, 1, 1, -1, 0, 1, 0, -1);
    }

    /**
     * The loss as training computes it (K − 1 margins, the true class moved to the front) equals the cross-entropy of
     * the full margins' bounds, −m̲ with m̲_y = 0, for both bounds and a CNN with every layer kind CROWN walks through.
     */
    @Test
    void theLossOverOtherClassesEqualsTheLossOverAllMargins() {
        Rng.seed(3);
        Module m = Models.build(Models.spec("cnn", List.of(1L, 8L, 8L), 5, Map.of()));
        Tensor x = Tensor.rand(DType.FLOAT32, Device.CPU, 6, 1, 8, 8);
        Tensor y = Tensor.randint(5, Device.CPU, 6);
        for (CertifiedTraining.Bound bound : CertifiedTraining.Bound.values()) {
            CertifiedTraining objective = new CertifiedTraining(bound, Norm.LINF, 0.05, 0, 2, 0.5);
            objective.progress(1);   // ε 0.025, κ 0.75, β 0.5
            Map<String, Tensor> parts = objective.evaluate(m, x, y).parts();
            BoundedNetwork net = BoundedNetwork.of(m);
            InputRegion region = InputRegion.images(x, 0.025, Norm.LINF);
            Tensor full = BoundedNetwork.margins(y, 5, x);
            Tensor lower;
            if (bound == CertifiedTraining.Bound.CROWN_IBP) {
                Tensor[] both = net.ibpAndCrownIbpLower(region, full);
                lower = both[0].mul(0.5).add(both[1].mul(0.5));
            } else {
                lower = net.ibp(region, full).lo();
            }
            assertThat(lower.abs().max().item()).as("bounds that say something").isGreaterThan(1e-3);
            double expected = dev.tikhon.engine.Ops.crossEntropy(lower.neg(), y).item();
            assertThat(parts.get("robust_ce").item()).as(bound.toString()).isCloseTo(expected, within(1e-5 * Math.max(1, expected)));
            double verified = lower.gt(0).to(DType.FLOAT32).sum(1, false).eq(4).to(DType.FLOAT32).mean().item();
            assertThat(parts.get("verified_at_eps").item()).isEqualTo(verified);
        }
    }
}

package dev.tikhon.robustness;

import dev.tikhon.attack.Norm;
import dev.tikhon.data.DataSets;
import dev.tikhon.data.Dataset;
import dev.tikhon.engine.Autograd;
import dev.tikhon.engine.Device;
import dev.tikhon.engine.Tensor;
import dev.tikhon.nn.Module;
import dev.tikhon.models.ModelSpec;
import dev.tikhon.models.Models;
import dev.tikhon.train.DataInfo;
import dev.tikhon.train.Objective;
import dev.tikhon.train.TrainConfig;
import dev.tikhon.train.Trainer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** Soundness of the bounds against every attack, and the gradient-masking checks, on a small smooth model. */
class RobustnessEvaluationTest {
    @TempDir static Path runs;
    static Module smooth;
    static Dataset test;

    @BeforeAll
    static void trainSmallSmoothModel() {
        DataSets.Loaded data = DataSets.load("fashion-mnist-sample", null, System.getenv(), 0);
        ModelSpec spec = Models.spec("mlp", List.of(1L, 28L, 28L), 10, Map.of("hidden", List.of(64), "activation", "smooth-relu"));
        TrainConfig config = TrainConfig.builder().epochs(1).lr(0.05).seed(0).build();
        Trainer.Outcome o = new Trainer(spec, Objective.crossEntropy(), config, data.train(), null, null,
                new DataInfo("fashion-mnist-sample", null, data.description()), Device.CPU, runs.resolve("mlp"), null).run(false);
        smooth = o.model();
        test = data.test().head(40);
    }

    @Test
    void noAttackEverBeatsTheLOrCBoundInL2() {
        RobustnessEvaluation.Config c = new RobustnessEvaluation.Config(Norm.L2, new double[]{0.25, 0.5, 1.0}, "ensemble",
                20, 1, 3, 100, 100, true, true, 8, 64, 0);
        RobustnessEvaluation.Result r = RobustnessEvaluation.run(smooth, test, c, Device.CPU);
        assertSound(r);
        assertThat(r.rows().stream().filter(row -> row.correct() && row.cBound() > 0).count()).as("bounds are not all trivial").isPositive();
        assertThat(r.rows().stream().filter(row -> row.correct() && Double.isFinite(row.minDistance())).count())
                .as("DDN finds an adversarial example for most correct points").isGreaterThan(r.rows().stream().filter(RobustnessEvaluation.Row::correct).count() / 2);
    }

    @Test
    void noAttackEverBeatsTheLOrCBoundInLinf() {
        RobustnessEvaluation.Config c = new RobustnessEvaluation.Config(Norm.LINF, new double[]{0.02, 0.05}, "ensemble",
                20, 1, 3, 200, 100, true, true, 8, 64, 0);
        assertSound(RobustnessEvaluation.run(smooth, test, c, Device.CPU));
    }

    private static void assertSound(RobustnessEvaluation.Result r) {
        assertThat(r.violations(false)).isZero();
        assertThat(r.violations(true)).isZero();
        for (RobustnessEvaluation.Row row : r.rows()) {
            if (!row.correct()) continue;
            assertThat(row.lBound()).as("L-bound of image %d", row.index()).isLessThanOrEqualTo(row.minDistance());
            assertThat(row.cBound()).as("C-bound of image %d", row.index()).isLessThanOrEqualTo(row.minDistance());
            for (int e = 0; e < r.config().eps().length; e++) {
                if (row.lBound() >= r.config().eps()[e]) assertThat(row.robust()[e]).as("bounded above ε yet broken").isTrue();
            }
        }
        assertThat(r.warnings()).noneMatch(w -> w.contains("exceeds"));
    }

    /** Rounds every pixel to one of five levels: the input gradient is zero almost everywhere. */
    static final class Quantized extends Module {
        final Module inner;
        Quantized(Module inner) { this.inner = inner; }
        @Override public Tensor forward(Tensor x) { return inner.forward(x.mul(4).round().div(4)); }
    }

    /** The test images labelled with {@code model}'s own predictions, so that every point starts correct. */
    private static Dataset labelledBy(Module model) {
        Tensor inputs = test.batchInputs(Tensor.fromLongs(java.util.stream.LongStream.range(0, test.size()).toArray(), test.size()));
        Tensor labels;
        try (Autograd.Guard g = Autograd.noGrad()) {
            labels = model.forward(inputs).argmax(1);
        }
        return new Dataset("masked", "test", test.inputs(), labels, 10, test.classNames());
    }

    @Test
    void aGradientMaskedModelIsBrokenByTheEnsembleAndFlagged() {
        Module masked = new Quantized(smooth);
        masked.train(false);
        Dataset own = labelledBy(masked);
        double[] eps = {0.15};
        RobustnessEvaluation.Config gradientOnly = new RobustnessEvaluation.Config(Norm.LINF, eps, "apgd-ce", 20, 1, 3, 300, 50,
                false, true, 0, 64, 0);
        RobustnessEvaluation.Result blind = RobustnessEvaluation.run(masked, own, gradientOnly, Device.CPU);
        RobustnessEvaluation.Config ensemble = new RobustnessEvaluation.Config(Norm.LINF, eps, "ensemble", 20, 1, 3, 300, 50,
                false, true, 0, 64, 0);
        RobustnessEvaluation.Result full = RobustnessEvaluation.run(masked, own, ensemble, Device.CPU);
        System.out.printf("masked model: APGD-CE robust accuracy %.3f, ensemble %.3f%n", blind.robustAccuracy(0), full.robustAccuracy(0));
        assertThat(blind.warnings()).anyMatch(w -> w.contains("gradient masking"));
        assertThat(full.warnings()).anyMatch(w -> w.contains("Square attack broke"));
        assertThat(full.robustAccuracy(0)).isLessThan(blind.robustAccuracy(0) - 0.2);
    }

    /**
     * The transfer check: PGD run on the unquantized model, its points scored on the quantized one, breaks what APGD-CE
     * on the quantized model's zero gradients cannot, and the evaluation names it as possible gradient masking. The
     * transfer members run after the white-box one, only on what it missed; the member list and counts carry them.
     */
    @Test
    void aTransferAttackFromTheUnmaskedModelBreaksTheMaskedOneAndIsFlagged() {
        Module masked = new Quantized(smooth);
        masked.train(false);
        Dataset own = labelledBy(masked);
        RobustnessEvaluation.Config apgd = new RobustnessEvaluation.Config(Norm.LINF, new double[]{0.15}, "apgd-ce", 20, 1, 3, 300, 50,
                false, false, 0, 64, 0);
        RobustnessEvaluation.Result blind = RobustnessEvaluation.run(masked, own, apgd, Device.CPU);
        RobustnessEvaluation.Transfers fromSmooth = new RobustnessEvaluation.Transfers("pgd", 0,
                List.of(new RobustnessEvaluation.Transfers.Source("smooth", smooth)));
        RobustnessEvaluation.Result withTransfer = RobustnessEvaluation.run(dev.tikhon.scaleout.Runner.local(masked, own, Device.CPU), own, apgd,
                null, fromSmooth);
        System.out.printf("masked model: APGD-CE robust accuracy %.3f, with the transfer attack %.3f%n", blind.robustAccuracy(0),
                withTransfer.robustAccuracy(0));
        assertThat(withTransfer.attackNames()).containsExactly("apgd-ce", "transfer-pgd:smooth");
        assertThat(withTransfer.robustAccuracy(0)).isLessThan(blind.robustAccuracy(0) - 0.2);
        assertThat(withTransfer.firstBrokenBy()[1]).isPositive();
        assertThat(withTransfer.warnings()).anyMatch(w -> w.contains("transfer attack transfer-pgd:smooth broke " + withTransfer.firstBrokenBy()[1]));
        assertThat(blind.warnings()).noneMatch(w -> w.contains("transfer"));

        // Alone (--attack none): only the transfer member, and no white-box attack to accuse of masking.
        RobustnessEvaluation.Config none = new RobustnessEvaluation.Config(Norm.LINF, new double[]{0.15}, "none", 20, 1, 3, 300, 50,
                false, false, 0, 64, 0);
        RobustnessEvaluation.Result alone = RobustnessEvaluation.run(dev.tikhon.scaleout.Runner.local(masked, own, Device.CPU), own, none,
                null, fromSmooth);
        assertThat(alone.attackNames()).containsExactly("transfer-pgd:smooth");
        assertThat(alone.robustAccuracy(0)).isLessThan(1.0);
        assertThat(alone.warnings()).noneMatch(w -> w.contains("transfer"));
    }
}

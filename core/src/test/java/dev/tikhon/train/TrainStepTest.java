package dev.tikhon.train;

import dev.tikhon.engine.DType;
import dev.tikhon.engine.Device;
import dev.tikhon.engine.Ops;
import dev.tikhon.engine.Rng;
import dev.tikhon.engine.Scope;
import dev.tikhon.engine.Tensor;
import dev.tikhon.models.Models;
import dev.tikhon.nn.Module;
import dev.tikhon.nn.Parameter;
import dev.tikhon.optim.Sgd;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** The step reads loss, correct count and logged parts in one transfer; these must be the values the tensors hold. */
class TrainStepTest {

    private static Module model() {
        Rng.seed(3);
        return Models.build(Models.spec("mlp", List.of(4L), 3, Map.of("hidden", List.of(8))));
    }

    private static List<float[]> weights(Module m) {
        List<float[]> w = new ArrayList<>();
        for (Parameter p : m.parameters()) w.add(p.value().toFloatArray());
        return w;
    }

    /** Cross-entropy plus a logged part "half" = loss / 2, computed from the same logits. */
    private static Objective withPart() {
        return new Objective() {
            @Override public Result evaluate(Module model, Tensor x, Tensor y) {
                Tensor logits = model.forward(x);
                Tensor loss = Ops.crossEntropy(logits, y);
                return new Result(loss, logits, Map.of("half", loss.mul(0.5)));
            }

            @Override public String describe() { return "test"; }
        };
    }

    @Test
    void resultHoldsTheLossCorrectCountAndPartsOfTheBatchBeforeTheUpdate() {
        Module m = model();
        Rng.seed(4);
        Tensor x = Tensor.randn(DType.FLOAT32, Device.CPU, 32, 4);
        Tensor y = Tensor.randint(3, Device.CPU, 32);
        double expectedLoss;
        long expectedCorrect;
        try (Scope s = Scope.open()) {
            Tensor logits = m.forward(x);
            expectedLoss = Ops.crossEntropy(logits, y).item();
            expectedCorrect = logits.argmax(1).eq(y).sum().itemLong();
        }
        List<float[]> before = weights(m);
        TrainStep.Result r;
        try (Scope s = Scope.open()) {
            r = new TrainStep(m, withPart(), new Sgd(m.parameters(), 0.1)).run(x, y);
        }
        assertThat(r.loss()).isEqualTo(expectedLoss);
        assertThat(r.correct()).isEqualTo(expectedCorrect);
        assertThat(r.size()).isEqualTo(32);
        assertThat(r.parts()).containsOnlyKeys("half");
        assertThat(r.parts().get("half")).isEqualTo((double) (float) (expectedLoss * 0.5));
        assertThat(weights(m)).usingRecursiveComparison().isNotEqualTo(before);   // and the update was taken
    }

    @Test
    void aNonFiniteLossLeavesTheParametersUntouched() {
        Module m = model();
        Tensor x = Tensor.full(Double.NaN, DType.FLOAT32, Device.CPU, 8, 4);
        Tensor y = Tensor.zeros(DType.INT64, Device.CPU, 8);
        List<float[]> before = weights(m);
        TrainStep.Result r;
        try (Scope s = Scope.open()) {
            r = new TrainStep(m, Objective.crossEntropy(), new Sgd(m.parameters(), 0.1, 0.9, false, 0, false)).run(x, y);
        }
        assertThat(r.loss()).isNaN();
        assertThat(r.correct()).isZero();
        assertThat(weights(m)).usingRecursiveComparison().isEqualTo(before);
    }
}

package dev.tikhon.lipschitz;

import dev.tikhon.UserError;
import dev.tikhon.engine.OneThread;
import dev.tikhon.models.Models;
import dev.tikhon.nn.Module;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * GloRo and Lipschitz-margin training refuse a model with batch norm before training (audit 20a: a GloRo resnet-8 with
 * batch norm ran to a loss of 2.8e18 and ended below chance with exit 0); the same models without batch norm train.
 */
@ExtendWith(OneThread.class)
class LipschitzMarginBatchNormTest {

    private static Module resnet(boolean batchNorm) {
        return Models.build(Models.spec("resnet", List.of(1L, 8L, 8L), 3, Map.of("depth", 8, "width", 4, "batch_norm", batchNorm)));
    }

    @Test
    void aModelWithBatchNormIsRefusedWithTheReasonAndTheWayOut() {
        for (LipschitzMargin.Form form : LipschitzMargin.Form.values()) {
            LipschitzMargin objective = new LipschitzMargin(form, 0.5, 1, 0);
            assertThatThrownBy(() -> objective.check(resnet(true)))
                    .isInstanceOf(UserError.class)
                    .hasMessageContaining(form == LipschitzMargin.Form.GLORO ? "--reg gloro" : "--reg lipschitz-margin")
                    .hasMessageContaining("batch norm")
                    .hasMessageContaining("--no-batch-norm")
                    .hasMessageNotContaining("\n");
        }
    }

    @Test
    void modelsWithoutBatchNormAreAccepted() {
        LipschitzMargin objective = new LipschitzMargin(LipschitzMargin.Form.GLORO, 0.5, 1, 0);
        assertThatCode(() -> objective.check(resnet(false))).doesNotThrowAnyException();
        assertThatCode(() -> objective.check(Models.build(Models.spec("cnn", List.of(1L, 28L, 28L), 10, Map.of()))))
                .doesNotThrowAnyException();
    }
}

package dev.tikhon.attack;

import dev.tikhon.engine.Rng;
import dev.tikhon.engine.Tensor;
import dev.tikhon.models.Models;
import dev.tikhon.nn.Module;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The attacks that draw nothing at random give each image the same result whatever it is batched with: DDN, FAB-T's
 * first run (from x₀) and, with no random start, PGD. (Carlini–Wagner's early stop reads the batch's summed loss, as
 * the authors' code does, and random starts are drawn per batch: docs/robustness.md.)
 */
class BatchInvarianceTest {
    @Test
    void deterministicAttacksGiveEachImageTheSameResultAloneAndInABatch() {
        Rng.seed(5);
        Module model = Models.build(Models.spec("mlp", List.of(1L, 6L, 6L), 4, Map.of("hidden", List.of(16))));
        Tensor x = Tensor.rand(6, 1, 6, 6);
        Tensor y;
        try (dev.tikhon.engine.Autograd.Guard g = dev.tikhon.engine.Autograd.noGrad()) {
            y = model.forward(x).argmax(1);
        }
        Map<String, Supplier<Attack>> attacks = Map.of(
                "ddn", () -> new Ddn(30, 1.0, 0.05, 1.0, 8),
                "fab-t", () -> Fab.minimum(Norm.LINF, 30, 2),
                "pgd from x", () -> new Pgd(Norm.L2, 0.5, 10, 0.1, false));
        attacks.forEach((name, attack) -> {
            double[] batch = attack.get().attack(model, x, y).distance();
            for (int i = 0; i < 6; i++) {
                double alone = attack.get().attack(model, x.narrow(0, i, 1), y.narrow(0, i, 1)).distance()[0];
                if (Double.isInfinite(batch[i])) assertThat(alone).as("%s, image %d", name, i).isInfinite();
                else assertThat(alone).as("%s, image %d", name, i).isCloseTo(batch[i], org.assertj.core.data.Offset.offset(1e-5));
            }
        });
    }
}

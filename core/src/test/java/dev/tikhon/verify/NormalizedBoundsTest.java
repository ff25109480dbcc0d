package dev.tikhon.verify;

import dev.tikhon.attack.Norm;
import dev.tikhon.engine.Device;
import dev.tikhon.engine.OneThread;
import dev.tikhon.engine.Rng;
import dev.tikhon.engine.Tensor;
import dev.tikhon.models.Models;
import dev.tikhon.nn.Linear;
import dev.tikhon.nn.Module;
import dev.tikhon.nn.Normalize;
import dev.tikhon.nn.Sequential;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.List;
import java.util.Map;

import static dev.tikhon.verify.BoundPropagationTest.F64;
import static dev.tikhon.verify.BoundPropagationTest.identitySpec;
import static dev.tikhon.verify.BoundPropagationTest.model;
import static dev.tikhon.verify.BoundPropagationTest.row;
import static dev.tikhon.verify.BoundPropagationTest.set;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/**
 * IBP and CROWN through an input normalization: closed-form bounds of a normalized linear map, and soundness by
 * sampling on normalized networks (float64).
 */
@ExtendWith(OneThread.class)
class NormalizedBoundsTest {
    /** f(x) = 3(x₁ − 0.5)/0.5 − 4(x₂ − 0.25)/0.25 over the ℓ∞ ball of radius 0.1 around (1, 1): −1 ± 0.1·(6 + 16). */
    @Test
    void normalizedLinearMapIsExactForBoth() {
        Linear l = new Linear(2, 1);
        Module f = new Sequential(new Normalize(new Normalize.Stats(new double[]{0.5, 0.25}, new double[]{0.5, 0.25})), l).to(F64);
        set(l.weight().value(), 3, -4);
        set(l.bias().value(), 0);
        BoundedNetwork net = BoundedNetwork.of(f);
        Tensor spec = identitySpec(1, 1);
        double centre = 3 * (1 - 0.5) / 0.5 - 4 * (1 - 0.25) / 0.25;   // −9
        for (Interval b : List.of(net.ibp(InputRegion.ball(row(1, 1), 0.1, Norm.LINF), spec),
                net.crown(InputRegion.ball(row(1, 1), 0.1, Norm.LINF), spec))) {
            assertThat(b.lo().item()).isCloseTo(centre - 2.2, within(1e-12));
            assertThat(b.hi().item()).isCloseTo(centre + 2.2, within(1e-12));
        }
        // ℓ2: CROWN is exact, ε‖(6, −16)‖₂; IBP's box is wider but contains it
        Interval crown = net.crown(InputRegion.ball(row(1, 1), 0.1, Norm.L2), spec);
        double r = 0.1 * Math.hypot(6, 16);
        assertThat(crown.lo().item()).isCloseTo(centre - r, within(1e-12));
        assertThat(crown.hi().item()).isCloseTo(centre + r, within(1e-12));
        Interval ibp = net.ibp(InputRegion.ball(row(1, 1), 0.1, Norm.L2), spec);
        assertThat(ibp.lo().item()).isLessThanOrEqualTo(centre - r + 1e-12);
        assertThat(ibp.hi().item()).isGreaterThanOrEqualTo(centre + r - 1e-12);
    }

    @Test
    void sampledPointsAndPgdWorstPointLieInsideTheBounds() {
        Rng.seed(13);
        Normalize.Stats stats = new Normalize.Stats(new double[]{0.29}, new double[]{0.35});
        for (Module f : List.of(model("mlp", Map.of("hidden", List.of(16), Models.NORMALIZE, stats), 1),
                model("cnn", Map.of(Models.NORMALIZE, stats), 2),
                model("resnet", Map.of("depth", 8, "width", 4, Models.NORMALIZE, stats), 3))) {
            assertThat(((Sequential) f).layers().get(0)).isInstanceOf(Normalize.class);
            // α-CROWN: 2 steps (one set of slopes off CROWN's) where BoundPropagationTest takes 5 on the same networks without
            // the normalization, which has no slopes of its own
            BoundPropagationTest.assertSampledPointsInside(f, 3, 1000, 2);
        }
    }
}

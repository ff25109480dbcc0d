package dev.tikhon.attack;

import dev.tikhon.engine.Rng;
import dev.tikhon.engine.Tensor;
import dev.tikhon.nn.Module;
import dev.tikhon.models.Models;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.DoubleRange;
import net.jqwik.api.constraints.IntRange;

import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** Property: every PGD iterate lies in the ε-ball around x and in the [0, 1] box. */
class PgdPropertiesTest {
    private static final Module MODEL = model();

    private static Module model() {
        Rng.seed(9);
        return Models.build(Models.spec("mlp", List.of(1L, 6L, 6L), 4, Map.of("hidden", List.of(12))));
    }

    @Property(tries = 60)
    void iteratesStayInTheBallAndTheBox(@ForAll("norms") Norm norm, @ForAll @DoubleRange(min = 0.0, max = 2.0) double eps,
                                        @ForAll @IntRange(min = 1, max = 6) int steps, @ForAll boolean randomStart,
                                        @ForAll @DoubleRange(min = 0.01, max = 3.0) double stepFactor, @ForAll long seed) {
        Rng.seed(seed);
        Tensor x = Tensor.rand(5, 1, 6, 6);
        // put some pixels on the box's faces, where clipping matters most
        x = Tensor.where(x.lt(0.2), x.mul(0), Tensor.where(x.gt(0.8), x.mul(0).add(1), x));
        Tensor y = Tensor.randint(4, dev.tikhon.engine.Device.CPU, 5);
        Pgd pgd = new Pgd(norm, eps, steps, Math.max(1e-6, stepFactor * eps / steps), randomStart);
        Tensor adv = pgd.perturb(MODEL, x, y);
        Tensor delta = adv.sub(x);
        double size = norm == Norm.LINF ? delta.abs().max().item() : delta.normPerExample(2).max().item();
        assertThat(size).isLessThanOrEqualTo(eps * (1 + 1e-5) + 1e-6);
        assertThat(adv.min().item()).isGreaterThanOrEqualTo(0.0);
        assertThat(adv.max().item()).isLessThanOrEqualTo(1.0);
    }

    @net.jqwik.api.Provide
    net.jqwik.api.Arbitrary<Norm> norms() {
        return net.jqwik.api.Arbitraries.of(Norm.values());
    }
}

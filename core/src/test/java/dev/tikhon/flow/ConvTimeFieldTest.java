package dev.tikhon.flow;

import dev.tikhon.engine.DType;
import dev.tikhon.engine.Device;
import dev.tikhon.engine.Rng;
import dev.tikhon.engine.Tensor;
import dev.tikhon.nn.Init;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** The split time term equals the literal conv over a concatenated time channel, border pixels included. */
class ConvTimeFieldTest {
    @Test
    void splitTimeTermEqualsConcatenatedChannel() {
        Rng.seed(21);
        ConvTimeField f = new ConvTimeField(4, 6);
        f.last().reset(Init.STANDARD);   // a non-zero last layer, so every layer matters
        f.to(DType.FLOAT64);
        Tensor z = Tensor.randn(DType.FLOAT64, Device.CPU, 3, 4, 7, 5);
        for (double t : new double[]{0, 0.37, 1}) {
            Tensor a = f.velocity(t, z), b = f.velocityByConcatenation(t, z);
            assertThat(a.sub(b).abs().max().item()).as("t = %s", t).isLessThan(1e-12);
        }
        assertThat(f.velocity(0.37, z).sub(f.velocity(0, z)).abs().max().item()).as("t matters").isGreaterThan(1e-3);
    }
}

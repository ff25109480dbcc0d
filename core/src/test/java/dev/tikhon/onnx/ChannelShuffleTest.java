package dev.tikhon.onnx;

import dev.tikhon.attack.Norm;
import dev.tikhon.engine.Autograd;
import dev.tikhon.engine.DType;
import dev.tikhon.engine.Device;
import dev.tikhon.engine.Rng;
import dev.tikhon.engine.Tensor;
import dev.tikhon.lipschitz.NetworkBound;
import dev.tikhon.nn.Module;
import dev.tikhon.verify.BoundOracles;
import dev.tikhon.verify.BoundedNetwork;
import dev.tikhon.verify.InputRegion;
import dev.tikhon.verify.Interval;
import dev.tikhon.verify.Rounding;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/**
 * A whole ShuffleNetV2 unit as PyTorch exports it (make_sliced.py's shuffle.onnx): torch.chunk, a branch, torch.cat, then
 * the channel shuffle, a Reshape to five axes, a Transpose and a Reshape back. The reshapes keep the batch, so the
 * verifier and the Lipschitz rules take them as they take a flatten: exact at ε = 0, sampled margins inside, Lipschitz
 * bound above the gradients PyTorch computed.
 */
class ChannelShuffleTest {

    @Test
    void aShuffleNetUnitImportsAndIsBounded() throws Exception {
        OnnxImportTest.Fixture f = OnnxImportTest.Fixture.of("shuffle");
        Module m = OnnxImport.load(OnnxImportTest.DIR.resolve("shuffle.onnx")).model();
        try (Autograd.Guard g = Autograd.noGrad()) {
            float[] out = m.forward(f.input()).toFloatArray();
            for (int i = 0; i < out.length; i++) assertThat((double) out[i]).isCloseTo(f.logits()[i], within(1e-5));
        }
        double gradNorm = 0, vNorm = 0;   // Σₙ ‖Jₙᵀvₙ‖² ≤ L² Σₙ ‖vₙ‖²
        for (float g : f.inputGrad()) gradNorm += g * g;
        for (float w : f.v().toFloatArray()) vNorm += w * w;
        assertThat(Math.sqrt(gradNorm)).isLessThanOrEqualTo(NetworkBound.of(m, new long[]{1, 6, 6}, 0).total() * Math.sqrt(vNorm));

        Module m64 = m.to(DType.FLOAT64);
        Rng.seed(4);
        Tensor x = Tensor.rand(DType.FLOAT64, Device.CPU, 4, 1, 6, 6);
        Tensor spec = BoundOracles.spec(m64, x);
        BoundedNetwork net = BoundedNetwork.of(m64);
        BoundOracles.assertExactAtZero(net, m64, spec, x, 1e-9);
        for (Norm norm : Norm.values()) BoundOracles.assertSoundAndTighterThanIbp(m64, spec, x, norm, norm == Norm.LINF ? 0.03 : 0.2, 5, 200);
        // the reshapes move values only: accounting for rounding adds nothing of their own (float64, < 10⁻⁹ of the size)
        InputRegion region = InputRegion.images(x, 0.03, Norm.LINF);
        Interval plain = net.crown(region, spec), accounted = Rounding.accounted(() -> net.crown(region, spec));
        assertThat(plain.lo().sub(accounted.lo()).min().item()).isGreaterThanOrEqualTo(0);
        assertThat(plain.lo().sub(accounted.lo()).max().item()).isLessThan(1e-9 * (plain.hi().sub(plain.lo()).abs().max().item() + 1));
    }

    /** A shuffle whose coefficients go back unshuffled (a reshape read as the identity) is caught by the ε = 0 oracle. */
    @Test
    void anUnshuffledWalkBackIsCaught() throws Exception {
        Module m = OnnxImport.load(OnnxImportTest.DIR.resolve("shuffle.onnx")).model().to(DType.FLOAT64);
        // the same graph without the transpose computes another function: its margins differ from the shuffled one's
        Rng.seed(4);
        Tensor x = Tensor.rand(DType.FLOAT64, Device.CPU, 4, 1, 6, 6);
        Tensor spec = BoundOracles.spec(m, x);
        dev.tikhon.nn.Graph g = (dev.tikhon.nn.Graph) m;
        java.util.List<dev.tikhon.nn.Graph.Node> nodes = new java.util.ArrayList<>(g.nodes());
        int t = -1;
        for (int i = 0; i < nodes.size(); i++) if (nodes.get(i).module() instanceof OnnxLayers.Transpose) t = i;
        assertThat(t).as("the shuffle's transpose").isNotNegative();
        nodes.set(t, dev.tikhon.nn.Graph.Node.apply(new dev.tikhon.nn.Sequential(), nodes.get(t).inputs()[0]));
        dev.tikhon.nn.Graph unshuffled = new dev.tikhon.nn.Graph(nodes, g.output());
        Tensor wrong = BoundedNetwork.of(unshuffled).crown(InputRegion.ball(x, 0, Norm.LINF), spec).lo();
        assertThat(wrong.sub(BoundOracles.margins(m, spec, x)).abs().max().item()).as("the shuffle matters").isGreaterThan(1e-3);
    }
}

package dev.tikhon.verify;

import dev.tikhon.attack.Norm;
import dev.tikhon.engine.Autograd;
import dev.tikhon.engine.OneThread;
import dev.tikhon.engine.Rng;
import dev.tikhon.engine.Tensor;
import dev.tikhon.nn.Activation;
import dev.tikhon.nn.Conv2d;
import dev.tikhon.nn.Linear;
import dev.tikhon.nn.Module;
import dev.tikhon.nn.Normalize;
import dev.tikhon.nn.Pool;
import dev.tikhon.nn.Sequential;
import dev.tikhon.onnx.OnnxLayers;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.Map;

import static dev.tikhon.verify.BoundPropagationTest.F64;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The ℓ2 tightening of the first weighted layer (its exact bounds over the ball, intersected with the box's) through
 * layers before it that permute or scale the input. Oracle: the same function written without them (the permutation
 * folded into the weights or the input, the scale into the weights) gets the same IBP and CROWN bounds; the bounds are
 * at least the box's (what they were before) and hold at sampled points of the ball (float64).
 */
@ExtendWith(OneThread.class)
class LeadingPermuteBallTest {

    private static Tensor logits(Module m, Tensor x) {
        try (Autograd.Guard g = Autograd.noGrad()) {
            return m.forward(x);
        }
    }

    private static Linear linear(Tensor weight, Tensor bias) {
        Linear l = new Linear((int) weight.size(1), (int) weight.size(0));
        l.to(weight.dtype());
        l.loadStateDict(Map.of("weight", weight, "bias", bias));
        return l;
    }

    /**
     * {@code a} on balls around {@code x} and {@code b} on balls around {@code xb} (the same points, as {@code b} reads them)
     * compute the same function and get the same ℓ2 bounds; {@code a}'s are at least its box's, and sound on samples.
     */
    private static void sameBounds(Module a, Tensor x, Module b, Tensor xb) {
        assertThat(logits(a, x).sub(logits(b, xb)).abs().max().item()).isLessThan(1e-12);
        BoundedNetwork na = BoundedNetwork.of(a), nb = BoundedNetwork.of(b);
        Tensor spec = BoundOracles.spec(a, x);
        double tighter = 0;
        for (double eps : new double[]{0.1, 0.5}) {
            InputRegion ra = InputRegion.ball(x, eps, Norm.L2), rb = InputRegion.ball(xb, eps, Norm.L2);
            Interval ibpA = na.ibp(ra, spec), ibpB = nb.ibp(rb, spec), crownA = na.crown(ra, spec), crownB = nb.crown(rb, spec);
            for (Interval[] pair : new Interval[][]{{ibpA, ibpB}, {crownA, crownB}}) {
                assertThat(pair[0].lo().sub(pair[1].lo()).abs().max().item()).as("ε %s lower", eps).isLessThan(1e-9);
                assertThat(pair[0].hi().sub(pair[1].hi()).abs().max().item()).as("ε %s upper", eps).isLessThan(1e-9);
            }
            // the ℓ2 ball's box is the ℓ∞ ball of the same radius: IBP's bounds without the ball's own
            Interval box = na.ibp(InputRegion.ball(x, eps, Norm.LINF), spec);
            assertThat(ibpA.lo().sub(box.lo()).min().item()).isGreaterThanOrEqualTo(-1e-12);
            assertThat(box.hi().sub(ibpA.hi()).min().item()).isGreaterThanOrEqualTo(-1e-12);
            tighter += ibpA.lo().sub(box.lo()).mean().item();
            BoundOracles.assertContainsSamples(a, spec, x, Norm.L2, eps, 300, 1e-9, ibpA, crownA);
        }
        assertThat(tighter).as("the ball's bounds tighten the box's").isPositive();
    }

    @Test
    void aLeadingTransposeBeforeDenseLayersKeepsTheBallBounds() {
        Rng.seed(21);
        for (int hidden : new int[]{16, 0}) {   // the ball's bounds on a hidden layer, and on the last (the spec folded in)
            int out = hidden == 0 ? 5 : hidden;
            Linear first = new Linear(24, out);
            // NCHW [2, 3, 4] → NHWC, flattened: the same as NCHW flattened with the weights' columns permuted
            Tensor w = first.weight().value().reshape(out, 3, 4, 2).permute(0, 3, 1, 2).contiguous().reshape(out, 24);
            Linear permuted = linear(w, first.bias().value());
            Module a, b;
            if (hidden == 0) {
                a = new Sequential(new OnnxLayers.Transpose(new long[]{0, 2, 3, 1}), Pool.flatten(), first);
                b = new Sequential(Pool.flatten(), permuted);
            } else {
                Linear last = new Linear(hidden, 5), copy = linear(last.weight().value(), last.bias().value());
                a = new Sequential(new OnnxLayers.Transpose(new long[]{0, 2, 3, 1}), Pool.flatten(), first, Activation.relu(), last);
                b = new Sequential(Pool.flatten(), permuted, Activation.relu(), copy);
            }
            a.to(F64);
            b.to(F64);
            Tensor x = Tensor.rand(4, 2, 3, 4).to(F64);
            sameBounds(a, x, b, x);
        }
    }

    @Test
    void aLeadingTransposeBeforeAConvKeepsTheBallBounds() {
        Rng.seed(22);
        Conv2d conv = new Conv2d(2, 3, 3, 1, 1, true);
        Linear last = new Linear(36, 4);
        Module a = new Sequential(new OnnxLayers.Transpose(new long[]{0, 1, 3, 2}), conv, Activation.relu(), Pool.flatten(), last).to(F64);
        Conv2d conv2 = new Conv2d(2, 3, 3, 1, 1, true);
        conv2.loadStateDict(conv.stateDict());
        Module b = new Sequential(conv2, Activation.relu(), Pool.flatten(), linear(last.weight().value(), last.bias().value())).to(F64);
        Tensor x = Tensor.rand(3, 2, 3, 4).to(F64);
        sameBounds(a, x, b, x.permute(0, 1, 3, 2).contiguous());   // b reads the transposed points: the same ball, permuted
    }

    /** y = 4x − 2 in front (a one-channel normalization; an imported Rescaling's Mul and Add), folded into the weights. */
    @Test
    void aUniformInputScaleKeepsTheBallBoundsWithItsRadiusScaled() {
        Rng.seed(23);
        Linear first = new Linear(12, 8), last = new Linear(8, 3);
        first.to(F64);
        last.to(F64);
        // W(4x − 2) + c = (4W)x + (c − 2W·1)
        Tensor w = first.weight().value().mul(4.0), c = first.bias().value().sub(first.weight().value().sum(1, false).mul(2.0));
        Module b = new Sequential(Pool.flatten(), linear(w, c), Activation.relu(), linear(last.weight().value(), last.bias().value())).to(F64);
        Tensor x = Tensor.rand(4, 1, 3, 4).to(F64);
        Module normalized = new Sequential(new Normalize(new Normalize.Stats(new double[]{0.5}, new double[]{0.25})), Pool.flatten(),
                first, Activation.relu(), last).to(F64);
        sameBounds(normalized, x, b, x);
        Module rescaled = new Sequential(new OnnxLayers.ConstantOp(OnnxLayers.ConstantOp.Kind.MUL, Tensor.fromDoubles(new double[]{4}, 1), false),
                new OnnxLayers.ConstantOp(OnnxLayers.ConstantOp.Kind.ADD, Tensor.fromDoubles(new double[]{-2}, 1), false), Pool.flatten(),
                linear(first.weight().value(), first.bias().value()), Activation.relu(), linear(last.weight().value(), last.bias().value())).to(F64);
        sameBounds(rescaled, x, b, x);
    }
}
